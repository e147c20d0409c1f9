//! VanillaNet (Chen, Wang et al., NeurIPS 2023) in burn: the training form with deep training
//! (lambda-annealed leaky activations) and series informed activations, its fusion into the
//! deploy form, and checkpoints with the authors' key names.

pub mod ablation;
pub mod activation;
pub mod batch_norm;
pub mod bench;
pub mod block;
pub mod classifier;
pub mod config;
pub mod dataset;
pub mod detect;
pub mod error;
pub mod fusion;
pub mod head;
pub mod imagenet;
pub mod lambda;
pub mod model;
pub mod onnx;
pub mod preprocess;
pub mod state_dict;
pub mod stem;
pub mod trainer;
#[cfg(target_arch = "wasm32")]
pub mod web;
pub mod weights;

pub use classifier::{Classifier, ModelCard};
pub use config::{NAMED_MODELS, VanillaNetConfig};
pub use error::{Error, Result};
pub use lambda::{LambdaSchedule, LambdaShape};
pub use model::{VanillaNet, VanillaNetDeploy};
pub use state_dict::{Layout, StateDict};
pub use weights::{load_state, state_dict, state_dict_async};
