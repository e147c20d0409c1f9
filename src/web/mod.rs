//! The browser API (wasm32): one [`Session`] that owns everything the page works on (backend,
//! dataset, trainer, study, classifier), held by the page's worker. Methods that await borrow
//! the session for their whole run, so wasm-bindgen itself refuses a second call while one is
//! in flight; the worker runs calls one at a time. Every answer is a plain JS object, and each
//! operation has the name the page and the worker give it. The answers' TypeScript types are
//! derived from their Rust types (tsify) into `pkg/vanillanet.d.ts`, which the page's worker is
//! checked against (`tsconfig.json`): a field renamed here fails the page's type check.

mod answers;
mod bench;
mod classifier;
mod data;
mod inside;
mod study;
mod training;

use burn::tensor::{Device, Tensor, TensorData};
use serde::Serialize;
use tsify::{Ts, Tsify};
use wasm_bindgen::prelude::*;

use crate::classify::{Classification, Classifier};
use crate::data::dataset::Dataset;
use crate::data::preprocess::{Normalize, Preprocess, decode};
use crate::io::card::{ModelCard, Weights};
use crate::io::state_dict::StateDict;
use crate::model::config::VanillaNetConfig;
use crate::train::evaluation::{Evaluated, Evaluation};
use crate::train::inside::{DecayHistory, FeatureMaps, FusionView};
use crate::train::options::TrainOptions;
use crate::train::study::{Study, StudyOptions, StudyProgress, StudyReport, StudyRun};
use crate::train::trainer::{FuseReport, StepReport, Trainer};
use answers::{
    ActivationResponse, BackendChoice, Build, CheckpointRead, ClassifierInfo, DataSummary, ModelInfo, OptionsTables,
    Status, StudyDescription,
};

/// An answer, as a plain JS object of the TypeScript type its Rust type declares.
fn js<T: Serialize + Tsify>(value: &T) -> Result<Ts<T>, JsError> {
    Ok(Ts::new_unchecked(plain(value)?))
}

/// An answer whose type the method declares itself (`unchecked_return_type`): a list, or one
/// that may be null.
fn plain<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsError> {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsError::new(&e.to_string()))
}

fn err(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

fn from_js<T: serde::de::DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsError> {
    serde_wasm_bindgen::from_value(value).map_err(|e| err(format!("bad {what}: {e}")))
}

#[cfg(feature = "webgpu")]
async fn open_webgpu() -> Result<Device, String> {
    Device::wgpu_options().init_async().await.map_err(|e| e.to_string())
}

#[cfg(not(feature = "webgpu"))]
async fn open_webgpu() -> Result<Device, String> {
    Err("this is the multi-threaded CPU build, which has no WebGPU".into())
}

/// Starts the pool of `n` Web Workers the CPU backend's kernels run on (the threaded build).
#[cfg(feature = "threads")]
pub use wasm_bindgen_rayon::init_thread_pool;

/// What this build is.
#[wasm_bindgen]
pub fn build() -> Result<Ts<Build>, JsError> {
    #[cfg(feature = "threads")]
    let threads = rayon::current_num_threads();
    #[cfg(not(feature = "threads"))]
    let threads = 1;
    js(&Build { webgpu: cfg!(feature = "webgpu"), threads })
}

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// Largest checkpoint taken: wasm32 memory is 4 GB and reading needs about twice the file.
const MAX_CHECKPOINT_BYTES: usize = 1536 * 1024 * 1024;

/// A checkpoint file arriving in chunks (so a large file needs no second copy in JavaScript),
/// then handed to [`Session::load_checkpoint`].
#[wasm_bindgen]
pub struct Upload {
    bytes: Vec<u8>,
}

#[wasm_bindgen]
impl Upload {
    /// Room for a file of `size` bytes, or the reason there is none.
    #[wasm_bindgen(constructor)]
    pub fn new(size: usize) -> Result<Upload, JsError> {
        if size == 0 {
            return Err(err("the file is empty (0 bytes)"));
        }
        if size > MAX_CHECKPOINT_BYTES {
            return Err(err(format!(
                "the file is {} MB; the browser can read checkpoints up to {} MB",
                size / 1_000_000,
                MAX_CHECKPOINT_BYTES / 1_000_000
            )));
        }
        let mut bytes = Vec::new();
        bytes
            .try_reserve_exact(size)
            .map_err(|_| err(format!("not enough memory for a {} MB file", size / 1_000_000)))?;
        Ok(Upload { bytes })
    }

    pub fn push(&mut self, chunk: &[u8]) -> Result<(), JsError> {
        if self.bytes.len() + chunk.len() > self.bytes.capacity() {
            return Err(err("more bytes than announced"));
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }
}

#[wasm_bindgen]
pub struct Session {
    /// The WebGPU device, once opened: the runtime initialises once, later switches reuse it.
    webgpu: Option<Device>,
    device: Device,
    backend: &'static str,
    data: Option<Dataset>,
    trainer: Option<Trainer>,
    /// An ablation study in progress (on a copy of the data), beside the trainer.
    study: Option<StudyRun>,
    /// The model that classifies dropped images: the trainer's fused form, or one loaded from a
    /// file.
    classifier: Option<Classifier>,
    /// The classifier is the fused form of the trainer's current weights (so the trained net
    /// can be compared with it); a training step drops such a classifier.
    classifier_from_trainer: bool,
    /// A checkpoint read, waiting for `useCheckpoint` to settle what its tensors can't tell.
    checkpoint: Option<StateDict>,
    /// The last evaluation of the trained net, its moving average and the fused form, while
    /// their weights are unchanged.
    evaluations: Vec<Evaluation>,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

impl Session {
    fn data(&self) -> Result<&Dataset, JsError> {
        self.data.as_ref().ok_or_else(|| err("no dataset loaded"))
    }

    fn trainer(&self) -> Result<&Trainer, JsError> {
        self.trainer.as_ref().ok_or_else(|| err("no model yet: start training first"))
    }

    fn trainer_mut(&mut self) -> Result<&mut Trainer, JsError> {
        self.trainer.as_mut().ok_or_else(|| err("no model yet: start training first"))
    }

    fn held_classifier(&self) -> Result<&Classifier, JsError> {
        self.classifier.as_ref().ok_or_else(|| err("no classifier yet: fuse a trained model or load a checkpoint"))
    }

    fn drop_fused(&mut self) {
        self.evaluations.clear();
        if self.classifier_from_trainer {
            self.classifier = None;
            self.classifier_from_trainer = false;
        }
    }

    fn set_classifier(&mut self, classifier: Classifier, from_trainer: bool) {
        self.evaluations.retain(|e| e.model != Evaluated::Fused);
        self.classifier = Some(classifier);
        self.classifier_from_trainer = from_trainer;
    }

    fn set_data(&mut self, data: Dataset) -> Result<Ts<DataSummary>, JsError> {
        let answer = js(&DataSummary::of(&data))?;
        self.data = Some(data);
        self.trainer = None;
        self.drop_fused();
        Ok(answer)
    }

    fn install(
        &mut self,
        make: impl FnOnce(&Device, Dataset) -> crate::Result<Trainer>,
    ) -> Result<Ts<ModelInfo>, JsError> {
        let trainer = make(&self.device, self.data()?.clone()).map_err(err)?;
        let info = js(&ModelInfo::of(&trainer).map_err(err)?)?;
        self.trainer = Some(trainer);
        self.drop_fused();
        Ok(info)
    }
}

#[wasm_bindgen]
impl Session {
    /// A session on the CPU backend, with nothing loaded.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Session {
        Session {
            webgpu: None,
            device: Device::flex(),
            backend: "cpu",
            data: None,
            trainer: None,
            study: None,
            classifier: None,
            classifier_from_trainer: false,
            checkpoint: None,
            evaluations: Vec::new(),
        }
    }

    /// Picks the backend: "webgpu", "cpu" or "auto" (WebGPU when the browser has an adapter).
    /// The trainer, the classifier and a study move to the new device; if one can't, nothing
    /// moves.
    #[wasm_bindgen(js_name = setBackend)]
    pub async fn set_backend(&mut self, kind: String) -> Result<Ts<BackendChoice>, JsError> {
        let mut fallback_reason = None;
        let (device, backend) = match kind.as_str() {
            "cpu" => (Device::flex(), "cpu"),
            "webgpu" | "auto" => {
                let ready = match &self.webgpu {
                    Some(d) => Ok(d.clone()),
                    None => open_webgpu().await,
                };
                match ready {
                    Ok(d) => {
                        self.webgpu = Some(d.clone());
                        (d, "webgpu")
                    }
                    Err(e) if kind == "auto" => {
                        fallback_reason = Some(format!("WebGPU unavailable ({e}); using the CPU"));
                        (Device::flex(), "cpu")
                    }
                    Err(e) => return Err(err(format!("WebGPU unavailable: {e}"))),
                }
            }
            other => return Err(err(format!("unknown backend '{other}': use webgpu, cpu or auto"))),
        };
        // Through the file form: the same bytes an export gives, read onto the new device.
        let classifier = match &self.classifier {
            Some(c) => Some(
                c.to_device(&device)
                    .await
                    .map_err(|e| err(format!("could not move the classifier to {backend}: {e}")))?,
            ),
            None => None,
        };
        if let Some(trainer) = &mut self.trainer {
            trainer.move_to(&device).await.map_err(|e| err(format!("could not move the model to {backend}: {e}")))?;
        }
        if classifier.is_some() {
            self.classifier = classifier;
        }
        if let Some(study) = &mut self.study {
            study.set_device(&device);
        }
        self.device = device;
        self.backend = backend;
        js(&BackendChoice { backend, fallback_reason })
    }

    /// Where training stands.
    pub fn status(&self) -> Result<Ts<Status>, JsError> {
        js(&Status::of(self.backend, self.trainer.as_ref()))
    }

    /// Drops the model (the dataset stays).
    pub fn reset(&mut self) {
        self.trainer = None;
        self.drop_fused();
    }

    /// Panics on purpose, in an awaited call like any other (for the page's crash recovery).
    #[wasm_bindgen(js_name = debugPanic)]
    pub async fn debug_panic(&mut self) -> Result<(), JsError> {
        panic!("a panic on purpose (debug.panic())");
    }
}
