//! The browser API (wasm32): one [`Session`] that owns everything the page works on (backend,
//! dataset, trainer, study, classifier), held by the page's worker. Methods that await borrow
//! the session for their whole run, so wasm-bindgen itself refuses a second call while one is
//! in flight; the worker runs calls one at a time. Every answer is a plain JS object, and each
//! operation has the name the page and the worker give it.

mod answers;

use burn::tensor::{Device, Tensor, TensorData};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::classify::{Classification, Classifier};
use crate::data::dataset::Dataset;
use crate::data::preprocess::{Normalize, Preprocess, decode};
use crate::io::card::{CARD_KEY, Form, ModelCard, default_classes};
use crate::io::state_dict::StateDict;
use crate::model::config::VanillaNetConfig;
use crate::train::evaluation::Evaluation;
use crate::train::options::TrainOptions;
use crate::train::study::{Study, StudyOptions, StudyReport, StudyRun};
use crate::train::table::OptionSpec;
use crate::train::trainer::Trainer;
use answers::{CheckpointRead, ClassifierInfo, DataSummary, ModelInfo, Status, StudyDescription};

fn js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
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

/// What this build is: `{webgpu, threads}` (threads: the size of the CPU pool, 1 without one).
#[wasm_bindgen]
pub fn build() -> Result<JsValue, JsError> {
    #[derive(Serialize)]
    struct Build {
        webgpu: bool,
        threads: usize,
    }
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
    /// The last evaluation of the trained net and of its fused form, while their weights
    /// are unchanged.
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
        self.evaluations.retain(|e| e.model == Form::Training);
        self.classifier = Some(classifier);
        self.classifier_from_trainer = from_trainer;
    }

    fn set_data(&mut self, data: Dataset) -> Result<JsValue, JsError> {
        let answer = js(&DataSummary::of(&data))?;
        self.data = Some(data);
        self.trainer = None;
        self.drop_fused();
        Ok(answer)
    }

    fn install(&mut self, make: impl FnOnce(&Device, Dataset) -> crate::Result<Trainer>) -> Result<JsValue, JsError> {
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
    /// moves. Answers `{backend, fallbackReason}`.
    #[wasm_bindgen(js_name = setBackend)]
    pub async fn set_backend(&mut self, kind: String) -> Result<JsValue, JsError> {
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
                match c.to_safetensors().await.and_then(StateDict::from_bytes) {
                    Ok(sd) => Classifier::from_checkpoint(&sd, None, None, &device),
                    Err(e) => Err(e),
                }
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
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Answer {
            backend: &'static str,
            fallback_reason: Option<String>,
        }
        js(&Answer { backend, fallback_reason })
    }

    /// A built-in dataset file (the `VNDS` format of `scripts/build-data.mjs`). Drops the
    /// trainer. Answers the data's summary.
    #[wasm_bindgen(js_name = loadDataset)]
    pub fn load_dataset(&mut self, name: String, bytes: &[u8]) -> Result<JsValue, JsError> {
        let data = Dataset::from_bytes(name, bytes).map_err(err)?;
        self.set_data(data)
    }

    /// The user's own images, already decoded and resized to `channels x height x width` bytes,
    /// concatenated; one label each. Every fifth image of each class is held out for testing.
    #[wasm_bindgen(js_name = ownDataset)]
    pub fn own_dataset(
        &mut self,
        classes: Vec<String>,
        pixels: &[u8],
        labels: &[u8],
        channels: usize,
        height: usize,
        width: usize,
    ) -> Result<JsValue, JsError> {
        let data = Dataset::labelled("own images", classes, [channels, height, width], pixels, labels).map_err(err)?;
        self.set_data(data)
    }

    /// Up to `per_class` training images of each class, for thumbnails: `{pixels, labels}`.
    pub fn samples(&self, per_class: usize) -> Result<JsValue, JsError> {
        let d = self.data()?;
        let image = d.image_len();
        let mut taken = vec![0; d.classes.len()];
        let (mut pixels, mut labels) = (Vec::new(), Vec::new());
        for (i, &l) in d.train.labels.iter().enumerate() {
            if taken[l as usize] < per_class {
                taken[l as usize] += 1;
                pixels.extend_from_slice(&d.train.pixels[i * image..(i + 1) * image]);
                labels.push(l);
            }
        }
        let out = js_sys::Object::new();
        let set = |k: &str, v: &[u8]| js_sys::Reflect::set(&out, &k.into(), &js_sys::Uint8Array::from(v));
        set("pixels", &pixels).and(set("labels", &labels)).map_err(|_| err("cannot build the samples object"))?;
        Ok(out.into())
    }

    /// The options tables (Rust's `TrainOptions::table()` and `StudyOptions::form_table()`):
    /// `{train, study}`, each a list of `{name, path, flag, kind, min, max, above, below, values,
    /// default, help}`, from which the page builds its forms, reads links and checks arguments.
    #[wasm_bindgen(js_name = optionsTable)]
    pub fn options_table() -> Result<JsValue, JsError> {
        #[derive(Serialize)]
        struct Tables {
            train: Vec<OptionSpec>,
            study: Vec<OptionSpec>,
        }
        js(&Tables { train: TrainOptions::table(), study: StudyOptions::form_table() })
    }

    /// A new model and optimizer for the loaded dataset: `{params, paramsDeploy, macs,
    /// macsDeploy, stepsPerEpoch, totalSteps, globalStep, config, options}`.
    #[wasm_bindgen(js_name = createTrainer)]
    pub fn create_trainer(&mut self, options: JsValue) -> Result<JsValue, JsError> {
        let options: TrainOptions = from_js(options, "options")?;
        self.install(|device, data| Trainer::new(device, data, options))
    }

    /// Which option is out of range for the loaded data and why (`{field, message}`), or null:
    /// the form shows it beside the field.
    #[wasm_bindgen(js_name = checkOptions)]
    pub fn check_options(&self, options: JsValue) -> Result<JsValue, JsError> {
        let options: TrainOptions = from_js(options, "options")?;
        match options.check(self.data()?) {
            Ok(_) => Ok(JsValue::NULL),
            Err(e) => js(&e),
        }
    }

    /// New learning rate, schedule, optimizer, epochs or batch size, keeping the weights:
    /// answers the total number of steps.
    #[wasm_bindgen(js_name = setOptions)]
    pub fn set_options(&mut self, options: JsValue) -> Result<usize, JsError> {
        let options: TrainOptions = from_js(options, "options")?;
        let trainer = self.trainer_mut()?;
        trainer.set_options(options).map_err(err)?;
        Ok(trainer.total_steps())
    }

    /// One training step: the step report. A classifier fused from the weights is dropped.
    pub async fn step(&mut self) -> Result<JsValue, JsError> {
        self.drop_fused();
        js(&self.trainer_mut()?.step().await.map_err(err)?)
    }

    /// Test accuracy on up to `limit` images (all when absent); null without test images.
    pub async fn evaluate(&self, limit: Option<usize>) -> Result<JsValue, JsError> {
        js(&self.trainer()?.evaluate(limit).await.map_err(err)?)
    }

    /// The learned series activation of a layer's channel: `{curve, kernel}` (see
    /// [`Trainer::activation_response`]).
    pub async fn probe(&self, layer: usize, channel: usize, inputs: Vec<f32>) -> Result<JsValue, JsError> {
        let (curve, kernel) = self.trainer()?.activation_response(layer, channel, &inputs).await.map_err(err)?;
        #[derive(Serialize)]
        struct Response {
            curve: Vec<f32>,
            kernel: Vec<f32>,
        }
        js(&Response { curve, kernel })
    }

    /// Where training stands: `{backend, lambda, epoch, globalStep, totalSteps, finished,
    /// cannotFuse}` (`cannotFuse`: why the net can't be fused now, null when it can).
    pub fn status(&self) -> Result<JsValue, JsError> {
        js(&Status::of(self.backend, self.trainer.as_ref()))
    }

    /// The trained net (or its fused form) on the whole test set: `{model, step, accuracy,
    /// classes, perClass: [{name, accuracy, count}], confusion, mistakes: [{index, label,
    /// predicted, confidence}]}`, kept until the weights change.
    pub async fn evaluation(&mut self, fused: bool) -> Result<JsValue, JsError> {
        let model = if fused { Form::Deploy } else { Form::Training };
        if let Some(e) = self.evaluations.iter().find(|e| e.model == model) {
            return js(e);
        }
        let trainer = self.trainer()?;
        let classifier = match (fused, self.classifier_from_trainer) {
            (false, _) => None,
            (true, true) => self.classifier.as_ref(),
            (true, false) => return Err(err("no fused form of the trained net: fuse it first")),
        };
        let evaluation = trainer.evaluation(classifier).await.map_err(err)?;
        let answer = js(&evaluation)?;
        self.evaluations.push(evaluation);
        Ok(answer)
    }

    /// The test images of one cell of the last evaluation's confusion matrix (true class
    /// `label`, answered `predicted`), most confident first: `[{index, label, predicted,
    /// confidence}]`.
    #[wasm_bindgen(js_name = evaluationCell)]
    pub fn evaluation_cell(
        &self,
        fused: bool,
        label: usize,
        predicted: usize,
        limit: usize,
    ) -> Result<JsValue, JsError> {
        let model = if fused { Form::Deploy } else { Form::Training };
        let e = self.evaluations.iter().find(|e| e.model == model).ok_or_else(|| err("evaluate the net first"))?;
        js(&e.cell(label, predicted, limit).map_err(err)?)
    }

    /// Test image `index` as its pixels (`channels x height x width` bytes, CHW).
    #[wasm_bindgen(js_name = testImage)]
    pub fn test_image(&self, index: usize) -> Result<Vec<u8>, JsError> {
        let d = self.data()?;
        if index >= d.test.len() {
            return Err(err(format!("there is no test image {index}: the test set has {}", d.test.len())));
        }
        let n = d.image_len();
        Ok(d.test.pixels[index * n..(index + 1) * n].to_vec())
    }

    /// Drops the model (the dataset stays).
    pub fn reset(&mut self) {
        self.trainer = None;
        self.drop_fused();
    }

    /// The lambda schedule these options give on the loaded dataset, sampled `per_epoch` times
    /// an epoch: `{epochs, lambda, stepsPerEpoch}` (x in fractional epochs).
    pub fn schedule(&self, options: JsValue, per_epoch: usize) -> Result<JsValue, JsError> {
        let options: TrainOptions = from_js(options, "options")?;
        let steps_per_epoch = self.data()?.train.len().div_ceil(options.batch_size.max(1));
        let schedule = options.lambda_schedule();
        let per_epoch = per_epoch.max(1);
        let (mut epochs, mut lambda) = (Vec::new(), Vec::new());
        for epoch in 0..options.epochs {
            for k in 0..per_epoch {
                epochs.push(epoch as f64 + k as f64 / per_epoch as f64);
                lambda.push(schedule.at(epoch, k * steps_per_epoch / per_epoch, steps_per_epoch));
            }
        }
        epochs.push(options.epochs as f64);
        lambda.push(schedule.at(options.epochs, 0, steps_per_epoch));
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Curve {
            epochs: Vec<f64>,
            lambda: Vec<f64>,
            steps_per_epoch: usize,
        }
        js(&Curve { epochs, lambda, steps_per_epoch })
    }

    /// Fuses the trained net (refused below lambda 1, with the reason) and compares both forms
    /// on up to `limit` test images: the `FuseReport`. The fused net becomes the classifier.
    pub async fn fuse(&mut self, limit: usize) -> Result<JsValue, JsError> {
        let (classifier, report) = self.trainer()?.fuse(limit).await.map_err(err)?;
        self.set_classifier(classifier, true);
        js(&report)
    }

    /// The weights and position in training as one safetensors file (for IndexedDB).
    pub async fn snapshot(&self) -> Result<Vec<u8>, JsError> {
        self.trainer()?.snapshot().await.map_err(err)
    }

    /// Continues the run a `snapshot` saved, on the loaded dataset: answers as `createTrainer`.
    pub fn restore(&mut self, bytes: Vec<u8>) -> Result<JsValue, JsError> {
        self.install(|device, data| Trainer::restore(device, data, bytes))
    }

    /// The trained net in the authors' training form: official key names, BN step counters,
    /// the card. It loads with `strict=True` into their PyTorch `VanillaNet`.
    #[wasm_bindgen(js_name = exportTraining)]
    pub async fn export_training(&self) -> Result<Vec<u8>, JsError> {
        self.trainer()?.export_training().await.map_err(err)
    }

    /// Pixels (`channels x height x width` bytes, CHW) of an image file as the page's own
    /// training images are made: centre crop, resize. Bad files get a message naming the
    /// problem.
    #[wasm_bindgen(js_name = decodeImage)]
    pub fn decode_image(bytes: &[u8], channels: usize, height: usize, width: usize) -> Result<Vec<u8>, JsError> {
        let p = Preprocess::center_crop(channels, height, width, Normalize::identity(channels));
        p.validate().map_err(err)?;
        Ok(p.pixels(&decode(bytes).map_err(err)?))
    }

    /// Top `k` of an image file by the classifier, with its time; while the classifier is the
    /// trainer's fused form, also the trained net's answer and time.
    pub async fn classify(&self, bytes: Vec<u8>, k: usize) -> Result<JsValue, JsError> {
        let classifier = self.held_classifier()?;
        let k = k.min(classifier.card.classes.len());
        let result: crate::Result<Classification> = match (&self.trainer, self.classifier_from_trainer) {
            (Some(trainer), true) => trainer.compare(classifier, &bytes, k).await,
            _ => classifier.classify(&bytes, k, &self.device).await,
        };
        js(&result.map_err(err)?)
    }

    /// The classifier's card and sizes: `{card, paramsDeploy, macsDeploy, fromTrainer}`, or
    /// null.
    pub fn classifier(&self) -> Result<JsValue, JsError> {
        match &self.classifier {
            Some(c) => js(&ClassifierInfo::of(c, self.classifier_from_trainer).map_err(err)?),
            None => Ok(JsValue::NULL),
        }
    }

    /// The classifier as one safetensors file: official deploy key names, the model card
    /// (JSON: architecture, classes, preprocessing, form) in the header's metadata.
    #[wasm_bindgen(js_name = exportModel)]
    pub async fn export_model(&self) -> Result<Vec<u8>, JsError> {
        self.held_classifier()?.to_safetensors().await.map_err(err)
    }

    /// The classifier as an ONNX model (opset 13): input `input`, output `logits`.
    #[wasm_bindgen(js_name = exportOnnx)]
    pub async fn export_onnx(&self) -> Result<Vec<u8>, JsError> {
        self.held_classifier()?.to_onnx().await.map_err(err)
    }

    /// Reads an uploaded checkpoint (safetensors or `.pth`; nothing in it is executed) and says
    /// what it holds: `{card}` for a file of ours, or `{detected, ambiguous}` (widths, act_num,
    /// classes, candidate variants) for any other VanillaNet checkpoint.
    #[wasm_bindgen(js_name = loadCheckpoint)]
    pub fn load_checkpoint(&mut self, upload: Upload) -> Result<JsValue, JsError> {
        let sd = StateDict::from_bytes(upload.bytes).map_err(err)?;
        let detected = Classifier::inspect(&sd).map_err(err)?;
        let card = sd.metadata.get(CARD_KEY).and_then(|c| serde_json::from_str(c).ok());
        let ambiguous = detected.as_ref().is_some_and(|d| d.ambiguous() || d.candidates.is_empty());
        self.checkpoint = Some(sd);
        js(&CheckpointRead { card, detected, ambiguous })
    }

    /// Makes the read checkpoint the classifier (fused if in training form): `variant` or
    /// `strides` settle what the tensors can't tell. Answers as `classifier`. A failure keeps
    /// the classifier there was.
    #[wasm_bindgen(js_name = useCheckpoint)]
    pub fn use_checkpoint(&mut self, variant: Option<String>, strides: Option<Vec<usize>>) -> Result<JsValue, JsError> {
        let sd = self.checkpoint.as_ref().ok_or_else(|| err("no checkpoint read"))?;
        let classifier = Classifier::from_checkpoint(sd, variant.as_deref(), strides, &self.device).map_err(err)?;
        self.set_classifier(classifier, false);
        self.checkpoint = None;
        self.classifier()
    }

    /// The classifier's logits (`[batch, classes]`, flat) for preprocessed inputs `[batch,
    /// channels, height, width]` (flat): for comparing with other runtimes.
    pub async fn logits(&self, values: Vec<f32>, batch: usize) -> Result<Vec<f32>, JsError> {
        let classifier = self.held_classifier()?;
        let p = &classifier.card.preprocess;
        let shape = [batch, p.channels, p.height, p.width];
        if values.len() != shape.iter().product::<usize>() {
            return Err(err(format!("{} values for an input of shape {shape:?}", values.len())));
        }
        let x = Tensor::<4>::from_data(TensorData::new(values, shape), &self.device);
        classifier.logits(x).await.map_err(err)
    }

    /// Inference latency of a named model with random weights (see `bench::latency`).
    #[wasm_bindgen(js_name = benchLatency)]
    pub async fn bench_latency(
        &self,
        model: String,
        size: usize,
        batch: usize,
        fused: bool,
        runs: usize,
        warmup: usize,
    ) -> Result<JsValue, JsError> {
        let config = VanillaNetConfig::named(&model).map_err(err)?;
        let case = crate::bench::Case { name: &model, config: &config, size, batch, fused };
        js(&crate::bench::latency(case, runs, warmup, &self.device).await.map_err(err)?)
    }

    /// Training images per second of a preset on random images (see `bench::training`).
    #[wasm_bindgen(js_name = benchTraining)]
    pub async fn bench_training(
        &self,
        preset: String,
        channels: usize,
        size: usize,
        batch: usize,
        steps: usize,
    ) -> Result<JsValue, JsError> {
        js(&crate::bench::training(&preset, channels, size, batch, steps, &self.device).await.map_err(err)?)
    }

    /// Makes a named model with random weights, fused, the classifier (ImageNet preprocessing
    /// at `size`): for benchmarks against other runtimes on the same weights.
    #[wasm_bindgen(js_name = benchClassifier)]
    pub fn bench_classifier(&mut self, model: String, size: usize) -> Result<JsValue, JsError> {
        let config = VanillaNetConfig::named(&model).map_err(err)?;
        config.feature_sizes(size, size).map_err(err)?;
        let fused = config.init(&self.device).fuse(1.0).map_err(err)?;
        let classes = default_classes(config.num_classes);
        let preprocess = Preprocess::imagenet(size, config.in_chans);
        let card = ModelCard::new(format!("{model} (random weights)"), config, classes, preprocess, Form::Deploy);
        self.set_classifier(Classifier { card, model: fused }, false);
        self.classifier()
    }

    /// Latency of the classifier's fused net (see `bench::classifier_latency`).
    #[wasm_bindgen(js_name = benchClassifierLatency)]
    pub async fn bench_classifier_latency(&self, batch: usize, runs: usize, warmup: usize) -> Result<JsValue, JsError> {
        let c = self.held_classifier()?;
        js(&crate::bench::classifier_latency(c, batch, runs, warmup, &self.device).await.map_err(err)?)
    }

    /// The studies there are: `[{study, claim, arms, reference}]`.
    pub fn studies() -> Result<JsValue, JsError> {
        js(&Study::ALL.map(StudyDescription::of))
    }

    /// Starts an ablation study on the loaded data, or continues `saved` (a report it gave
    /// before): answers its report so far (`finished` says whether every run is done).
    #[wasm_bindgen(js_name = studyRun)]
    pub fn study_run(&mut self, options: JsValue, saved: JsValue) -> Result<JsValue, JsError> {
        let options: StudyOptions = from_js(options, "study options")?;
        let saved: Option<StudyReport> =
            if saved.is_undefined() || saved.is_null() { None } else { Some(from_js(saved, "saved study")?) };
        let study = StudyRun::new(&self.device, self.data()?.clone(), options)
            .and_then(|s| match saved {
                Some(saved) => s.resume(saved),
                None => Ok(s),
            })
            .map_err(err)?;
        let report = study.report().map_err(err)?;
        self.study = Some(study);
        js(&report)
    }

    /// One training step of the study (the step ending a run also fuses and evaluates it).
    #[wasm_bindgen(js_name = studyStep)]
    pub async fn study_step(&mut self) -> Result<JsValue, JsError> {
        let study = self.study.as_mut().ok_or_else(|| err("no study: start one first"))?;
        js(&study.step().await.map_err(err)?)
    }

    /// The study's report: arms, every finished run, the summary per arm.
    #[wasm_bindgen(js_name = studyReport)]
    pub fn study_report(&self) -> Result<JsValue, JsError> {
        js(&self.study.as_ref().ok_or_else(|| err("no study"))?.report().map_err(err)?)
    }

    /// A report (a live or a saved one) as CSV, one row per arm.
    #[wasm_bindgen(js_name = studyCsv)]
    pub fn study_csv(report: JsValue) -> Result<String, JsError> {
        let report: StudyReport = from_js(report, "report")?;
        Ok(report.csv())
    }

    /// Panics on purpose, in an awaited call like any other (for the page's crash recovery).
    #[wasm_bindgen(js_name = debugPanic)]
    pub async fn debug_panic(&mut self) -> Result<JsValue, JsError> {
        panic!("a panic on purpose (debug.panic())");
    }

    #[wasm_bindgen(js_name = studyDiscard)]
    pub fn study_discard(&mut self) {
        self.study = None;
    }

    /// The leaky activations' decay probed so far: `{steps, lambda, blocks: [{name,
    /// negativeShare, distance}], every}`, one value per probe aligned with `steps`.
    #[wasm_bindgen(js_name = insideDecay)]
    pub fn inside_decay(&self) -> Result<JsValue, JsError> {
        js(self.trainer()?.decay())
    }

    /// Probes the decay every `every` steps from now on (0: not at all).
    #[wasm_bindgen(js_name = setProbeEvery)]
    pub fn set_probe_every(&mut self, every: usize) -> Result<(), JsError> {
        self.trainer_mut()?.set_probe_every(every).map_err(err)
    }

    /// The feature maps after part `block` (0 the stem) of test image `index`, or of an image
    /// file's `bytes` (preprocessed as the training images): `{block, name, fused, channels,
    /// height, width, tiles: [{channel, activity, values}], maxDiff}`. `fused`: the fused
    /// form's maps, with their largest difference to the trained net's.
    #[wasm_bindgen(js_name = featureMaps)]
    pub async fn feature_maps(
        &self,
        index: Option<usize>,
        bytes: Option<Vec<u8>>,
        block: usize,
        fused: bool,
        tiles: Option<usize>,
    ) -> Result<JsValue, JsError> {
        use crate::train::trainer::ProbeImage;
        let trainer = self.trainer()?;
        let image = match (&index, &bytes) {
            (Some(i), None) => ProbeImage::Test(*i),
            (None, Some(b)) => ProbeImage::File(b),
            _ => return Err(err("give a test image index or an image file, one of them")),
        };
        let classifier = match (fused, self.classifier_from_trainer) {
            (false, _) => None,
            (true, true) => self.classifier.as_ref(),
            (true, false) => return Err(err("no fused form of the trained net: fuse it first")),
        };
        js(&trainer.feature_maps(image, block, tiles, classifier).await.map_err(err)?)
    }

    /// The fusion of part `part` (0 the stem, 1..=blocks a block, blocks + 1 the head) as
    /// matrices: see `FusionView`.
    pub async fn fusion(&self, part: usize) -> Result<JsValue, JsError> {
        js(&self.trainer()?.fusion(part).await.map_err(err)?)
    }
}
