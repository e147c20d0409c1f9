//! VanillaNet (Chen, Wang et al., NeurIPS 2023) in burn: the training form with deep training
//! (lambda-annealed leaky activations) and series informed activations, its fusion into the
//! deploy form, and checkpoints with the authors' key names.
//!
//! Layers, each using only those above it in this list:
//! - [`error`], [`readback`]: the error type; reading tensors back from a device, top-k.
//! - [`model`]: architecture, presets, the training and deploy forms, fusion.
//! - [`data`]: image decoding and preprocessing, datasets, folders of images.
//! - [`io`]: official tensor names, state dicts, checkpoint files, detection, the model card,
//!   ONNX.
//! - [`classify`]: a deployed classifier (fused net + card).
//! - [`train`]: options, the lambda schedule, the training loop, ablation studies.
//! - [`bench`]: latency and throughput, the same natively and in the browser.
//! - [`limits`]: the one table of bounds on what the CLI and the page take.
//! - [`session`]: what the page works on (data, trainer, study, classifier, evaluations, the
//!   training loop), plain Rust tested natively.
//! - `web` (wasm32): the browser API, a thin shim over the session; `src/bin/vanillanet`: the CLI.

pub mod error;
pub mod readback;

pub mod model;

pub mod data;

pub mod io;

pub mod classify;

pub mod train;

pub mod bench;

pub mod limits;

pub mod session;

#[cfg(target_arch = "wasm32")]
pub mod web;

pub use classify::Classifier;
pub use error::{Error, Result};
pub use io::card::ModelCard;
pub use io::names::{load_state, state_dict, state_dict_async};
pub use io::state_dict::StateDict;
pub use model::config::VanillaNetConfig;
pub use model::presets::NAMED_MODELS;
pub use model::{Form, VanillaNet, VanillaNetDeploy};
pub use train::lambda::{LambdaSchedule, LambdaShape};
