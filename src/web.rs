//! The browser API (wasm32): the page's worker calls these. One trainer, one dataset, held here;
//! every call answers plain JS objects.

use std::cell::RefCell;

use burn::tensor::Device;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::ablation::{Arm, Study, StudyOptions, StudyReport, StudyRun};
use crate::classifier::Classifier;
use crate::dataset::Dataset;
use crate::preprocess::{Preprocess, Resize};
use crate::state_dict::StateDict;
use crate::trainer::{TrainOptions, Trainer};

#[derive(Default)]
struct State {
    webgpu: Option<Device>,
    device: Option<Device>,
    backend: &'static str,
    data: Option<Dataset>,
    trainer: Option<Trainer>,
    /// An ablation study in progress (on a copy of the data), beside the trainer.
    study: Option<StudyRun>,
    study_busy: bool,
    /// The model that classifies dropped images: the trainer's fused form, or one loaded from a
    /// file.
    classifier: Option<Classifier>,
    /// The classifier is the fused form of the trainer's current weights (so the trained net
    /// can be compared with it); a training step drops such a classifier.
    classifier_from_trainer: bool,
    /// A checkpoint file arriving in chunks, then read, waiting for `checkpointUse`.
    upload: Vec<u8>,
    checkpoint: Option<StateDict>,
    busy: bool,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

fn js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsError::new(&e.to_string()))
}

fn err(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// Takes the trainer out for an awaited call; `put_back` returns it.
fn take_trainer() -> Result<Trainer, JsError> {
    STATE.with_borrow_mut(|s| {
        if s.busy {
            return Err(err("the trainer is busy with another call"));
        }
        let t = s.trainer.take().ok_or_else(|| err("no model yet: create one first"))?;
        s.busy = true;
        Ok(t)
    })
}

fn put_back(trainer: Trainer) {
    STATE.with_borrow_mut(|s| {
        s.trainer = Some(trainer);
        s.busy = false;
    });
}

fn drop_fused_in(s: &mut State) {
    if s.classifier_from_trainer {
        s.classifier = None;
        s.classifier_from_trainer = false;
    }
}

fn drop_fused() {
    STATE.with_borrow_mut(drop_fused_in);
}

/// Picks the backend: "webgpu", "cpu" or "auto" (WebGPU when the browser has an adapter).
/// A trainer in progress moves to the new device with its weights. Answers
/// `{backend, fallbackReason}`.
#[wasm_bindgen(js_name = setBackend)]
pub async fn set_backend(kind: String) -> Result<JsValue, JsError> {
    let mut fallback_reason = None;
    let (device, backend) = match kind.as_str() {
        "cpu" => (Device::flex(), "cpu"),
        "webgpu" | "auto" => {
            let existing = STATE.with_borrow(|s| s.webgpu.clone());
            let ready = match existing {
                Some(d) => Ok(d),
                // The runtime initialises once; later switches reuse that device.
                None => Device::wgpu_options().init_async().await.map_err(|e| e.to_string()),
            };
            match ready {
                Ok(d) => {
                    STATE.with_borrow_mut(|s| s.webgpu = Some(d.clone()));
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
    let classifier = STATE.with_borrow_mut(|s| s.classifier.take());
    if let Some(c) = classifier {
        // Through the file form: the same bytes an export gives, read onto the new device.
        let moved = match c.to_safetensors().await.and_then(StateDict::from_bytes) {
            Ok(sd) => Classifier::from_checkpoint(&sd, None, None, &device),
            Err(e) => Err(e),
        };
        match moved {
            Ok(m) => STATE.with_borrow_mut(|s| s.classifier = Some(m)),
            Err(e) => return Err(err(format!("could not move the classifier to {backend}: {e}"))),
        }
    }
    let has_trainer = STATE.with_borrow(|s| s.trainer.is_some());
    if has_trainer {
        let trainer = take_trainer()?;
        let moved = trainer.move_to(&device).await;
        match moved {
            Ok(t) => put_back(t),
            Err(e) => {
                STATE.with_borrow_mut(|s| s.busy = false);
                return Err(err(format!("could not move the model to {backend}: {e}")));
            }
        }
    }
    STATE.with_borrow_mut(|s| {
        if let Some(study) = &mut s.study {
            study.set_device(&device);
        }
        s.device = Some(device);
        s.backend = backend;
    });
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Answer {
        backend: &'static str,
        fallback_reason: Option<String>,
    }
    js(&Answer { backend, fallback_reason })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DataSummary<'a> {
    name: &'a str,
    classes: &'a [String],
    channels: usize,
    height: usize,
    width: usize,
    train: usize,
    test: usize,
    train_per_class: Vec<usize>,
}

fn summary(d: &Dataset) -> DataSummary<'_> {
    let mut per_class = vec![0; d.classes.len()];
    for &l in &d.train.labels {
        per_class[l as usize] += 1;
    }
    DataSummary {
        name: &d.name,
        classes: &d.classes,
        channels: d.channels,
        height: d.height,
        width: d.width,
        train: d.train.len(),
        test: d.test.len(),
        train_per_class: per_class,
    }
}

fn set_data(data: Dataset) -> Result<JsValue, JsError> {
    let answer = js(&summary(&data))?;
    STATE.with_borrow_mut(|s| s.data = Some(data));
    Ok(answer)
}

/// A built-in dataset file (the `VNDS` format of `scripts/build-data.mjs`).
#[wasm_bindgen(js_name = loadDataset)]
pub fn load_dataset(name: String, bytes: &[u8]) -> Result<JsValue, JsError> {
    set_data(Dataset::from_bytes(name, bytes).map_err(err)?)
}

/// The user's own images, already decoded and resized to `channels x height x width` bytes,
/// concatenated; one label each. Every fifth image of each class is held out for testing.
#[wasm_bindgen(js_name = setOwnDataset)]
pub fn set_own_dataset(
    classes: Vec<String>,
    pixels: &[u8],
    labels: &[u8],
    channels: usize,
    height: usize,
    width: usize,
) -> Result<JsValue, JsError> {
    set_data(Dataset::labelled("own images", classes, [channels, height, width], pixels, labels).map_err(err)?)
}

/// Up to `per_class` training images of each class, for thumbnails: `{pixels, labels}`.
#[wasm_bindgen(js_name = datasetSamples)]
pub fn dataset_samples(per_class: usize) -> Result<JsValue, JsError> {
    STATE.with_borrow(|s| {
        let d = s.data.as_ref().ok_or_else(|| err("no dataset loaded"))?;
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
    })
}

/// What the page shows of a new or restored model.
fn trainer_info(trainer: &Trainer) -> Result<JsValue, JsError> {
    let c = trainer.config();
    let (h, w) = (trainer.data().height, trainer.data().width);
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Info<'a> {
        params: usize,
        params_deploy: usize,
        macs: u64,
        macs_deploy: u64,
        steps_per_epoch: usize,
        total_steps: usize,
        global_step: usize,
        config: &'a crate::VanillaNetConfig,
        options: &'a TrainOptions,
    }
    js(&Info {
        params: c.params_train(),
        params_deploy: c.params_deploy(),
        macs: c.macs(h, w, false).map_err(err)?,
        macs_deploy: c.macs(h, w, true).map_err(err)?,
        steps_per_epoch: trainer.steps_per_epoch(),
        total_steps: trainer.total_steps(),
        global_step: trainer.global_step(),
        config: c,
        options: trainer.options(),
    })
}

fn install_trainer(make: impl FnOnce(&Device, Dataset) -> crate::Result<Trainer>) -> Result<JsValue, JsError> {
    STATE.with_borrow_mut(|s| {
        if s.busy {
            return Err(err("the trainer is busy with another call"));
        }
        let data = s.data.clone().ok_or_else(|| err("no dataset loaded"))?;
        let device = s.device.clone().ok_or_else(|| err("no backend chosen: call setBackend first"))?;
        let trainer = make(&device, data).map_err(err)?;
        let info = trainer_info(&trainer)?;
        s.trainer = Some(trainer);
        drop_fused_in(s);
        Ok(info)
    })
}

/// A new model and optimizer for the loaded dataset: `{params, paramsDeploy, macs, macsDeploy,
/// stepsPerEpoch, totalSteps, globalStep, config, options}`.
#[wasm_bindgen(js_name = createTrainer)]
pub fn create_trainer(options: JsValue) -> Result<JsValue, JsError> {
    let options: TrainOptions =
        serde_wasm_bindgen::from_value(options).map_err(|e| err(format!("bad options: {e}")))?;
    install_trainer(|device, data| Trainer::new(device, data, options))
}

/// The weights and position in training as one safetensors file (for IndexedDB).
#[wasm_bindgen]
pub async fn snapshot() -> Result<Vec<u8>, JsError> {
    let trainer = take_trainer()?;
    let bytes = trainer.snapshot().await;
    put_back(trainer);
    bytes.map_err(err)
}

/// Continues the run a `snapshot` saved, on the loaded dataset: answers as `createTrainer`.
#[wasm_bindgen(js_name = restoreTrainer)]
pub fn restore_trainer(bytes: Vec<u8>) -> Result<JsValue, JsError> {
    install_trainer(|device, data| Trainer::restore(device, data, bytes))
}

/// New learning rate, schedule, optimizer, epochs or batch size, keeping the weights.
#[wasm_bindgen(js_name = setOptions)]
pub fn set_options(options: JsValue) -> Result<JsValue, JsError> {
    let options: TrainOptions =
        serde_wasm_bindgen::from_value(options).map_err(|e| err(format!("bad options: {e}")))?;
    STATE.with_borrow_mut(|s| {
        let t = s.trainer.as_mut().ok_or_else(|| err("no model yet"))?;
        t.set_options(options).map_err(err)?;
        Ok(JsValue::from(t.total_steps() as u32))
    })
}

/// One training step: the step report.
#[wasm_bindgen]
pub async fn step() -> Result<JsValue, JsError> {
    let mut trainer = take_trainer()?;
    drop_fused();
    let report = trainer.step().await;
    put_back(trainer);
    js(&report.map_err(err)?)
}

/// Test accuracy on up to `limit` images (all when absent); null without test images.
#[wasm_bindgen]
pub async fn evaluate(limit: Option<usize>) -> Result<JsValue, JsError> {
    let trainer = take_trainer()?;
    let accuracy = trainer.evaluate(limit).await;
    put_back(trainer);
    js(&accuracy.map_err(err)?)
}

/// The learned series activation of a layer's channel: `{curve, kernel}` (see
/// [`Trainer::activation_response`]).
#[wasm_bindgen(js_name = activationResponse)]
pub async fn activation_response(layer: usize, channel: usize, inputs: Vec<f32>) -> Result<JsValue, JsError> {
    let trainer = take_trainer()?;
    let answer = trainer.activation_response(layer, channel, &inputs).await;
    put_back(trainer);
    let (curve, kernel) = answer.map_err(err)?;
    #[derive(Serialize)]
    struct Response {
        curve: Vec<f32>,
        kernel: Vec<f32>,
    }
    js(&Response { curve, kernel })
}

/// Where training stands: `{backend, lambda, epoch, globalStep, totalSteps, finished}`.
#[wasm_bindgen(js_name = trainerStatus)]
pub fn trainer_status() -> Result<JsValue, JsError> {
    STATE.with_borrow(|s| {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Status {
            backend: &'static str,
            lambda: Option<f64>,
            epoch: Option<usize>,
            global_step: Option<usize>,
            total_steps: Option<usize>,
            finished: Option<bool>,
        }
        let t = s.trainer.as_ref();
        js(&Status {
            backend: s.backend,
            lambda: t.map(Trainer::lambda),
            epoch: t.map(Trainer::epoch),
            global_step: t.map(Trainer::global_step),
            total_steps: t.map(Trainer::total_steps),
            finished: t.map(Trainer::finished),
        })
    })
}

/// Drops the model (the dataset stays).
#[wasm_bindgen(js_name = dropTrainer)]
pub fn drop_trainer() {
    STATE.with_borrow_mut(|s| {
        s.trainer = None;
        drop_fused_in(s);
    });
}

/// The lambda schedule these options give on the loaded dataset, sampled `per_epoch` times an
/// epoch: `{epochs, lambda, stepsPerEpoch}` (x in fractional epochs).
#[wasm_bindgen(js_name = lambdaSchedule)]
pub fn lambda_schedule(options: JsValue, per_epoch: usize) -> Result<JsValue, JsError> {
    let options: TrainOptions =
        serde_wasm_bindgen::from_value(options).map_err(|e| err(format!("bad options: {e}")))?;
    let train =
        STATE.with_borrow(|s| s.data.as_ref().map(|d| d.train.len())).ok_or_else(|| err("no dataset loaded"))?;
    let steps_per_epoch = train.div_ceil(options.batch_size.max(1));
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

/// Fuses the trained net (refused below lambda 1, with the reason) and compares both forms on
/// up to `limit` test images: the `FuseReport`. The fused net becomes the classifier.
#[wasm_bindgen]
pub async fn fuse(limit: usize) -> Result<JsValue, JsError> {
    let trainer = take_trainer()?;
    let result = trainer.fuse(limit).await;
    put_back(trainer);
    let (classifier, report) = result.map_err(err)?;
    STATE.with_borrow_mut(|s| {
        s.classifier = Some(classifier);
        s.classifier_from_trainer = true;
    });
    js(&report)
}

/// Pixels (`channels x height x width` bytes, CHW) of an image file as the page's own training
/// images are made: centre crop, resize. Bad files get a message naming the problem.
#[wasm_bindgen(js_name = decodeImage)]
pub fn decode_image(bytes: &[u8], channels: usize, height: usize, width: usize) -> Result<Vec<u8>, JsError> {
    let p = Preprocess {
        channels,
        height,
        width,
        resize: Resize::CenterCrop,
        mean: vec![0.0; channels],
        std: vec![1.0; channels],
    };
    p.validate().map_err(err)?;
    Ok(p.pixels(&crate::preprocess::decode(bytes).map_err(err)?))
}

/// The classifier and the device it runs on.
fn classifier_on_device() -> Result<(Classifier, Device), JsError> {
    let (classifier, device) = STATE.with_borrow(|s| (s.classifier.clone(), s.device.clone()));
    let classifier = classifier.ok_or_else(|| err("no classifier yet: fuse a trained model or load a checkpoint"))?;
    Ok((classifier, device.ok_or_else(|| err("no backend chosen"))?))
}

/// Top `k` of an image file by the classifier, with its time; while the classifier is the
/// trainer's fused form, also the trained net's answer and time.
#[wasm_bindgen]
pub async fn classify(bytes: Vec<u8>, k: usize) -> Result<JsValue, JsError> {
    let (classifier, device) = classifier_on_device()?;
    let from_trainer = STATE.with_borrow(|s| s.classifier_from_trainer && s.trainer.is_some());
    let k = k.min(classifier.card.classes.len());
    let result = if from_trainer {
        let trainer = take_trainer()?;
        let result = trainer.compare(&classifier, &bytes, k).await;
        put_back(trainer);
        result
    } else {
        classifier.classify(&bytes, k, &device).await.map(|(top, ms)| crate::trainer::Classification {
            top,
            ms,
            top_unfused: None,
            ms_unfused: None,
        })
    };
    js(&result.map_err(err)?)
}

/// The classifier's card and sizes: `{card, paramsDeploy, macsDeploy, fromTrainer}`, or null.
#[wasm_bindgen(js_name = classifierInfo)]
pub fn classifier_info() -> Result<JsValue, JsError> {
    STATE.with_borrow(|s| {
        let Some(c) = &s.classifier else { return Ok(JsValue::NULL) };
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Info<'a> {
            card: &'a crate::ModelCard,
            params_deploy: usize,
            macs_deploy: u64,
            from_trainer: bool,
        }
        let (a, p) = (&c.card.architecture, &c.card.preprocess);
        js(&Info {
            card: &c.card,
            params_deploy: a.params_deploy(),
            macs_deploy: a.macs(p.height, p.width, true).map_err(err)?,
            from_trainer: s.classifier_from_trainer,
        })
    })
}

/// The classifier as one safetensors file: official deploy key names, the model card (JSON:
/// architecture, classes, preprocessing) in the header's metadata.
#[wasm_bindgen(js_name = exportModel)]
pub async fn export_model() -> Result<Vec<u8>, JsError> {
    let classifier = STATE.with_borrow(|s| s.classifier.clone()).ok_or_else(|| err("no classifier to export"))?;
    classifier.to_safetensors().await.map_err(err)
}

/// Largest checkpoint taken: wasm32 memory is 4 GB and reading needs about twice the file.
const MAX_CHECKPOINT_BYTES: usize = 1536 * 1024 * 1024;

/// Starts receiving a checkpoint file of `size` bytes (sent in chunks, so a large file needs no
/// second copy in JavaScript).
#[wasm_bindgen(js_name = checkpointBegin)]
pub fn checkpoint_begin(size: usize) -> Result<(), JsError> {
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
    let mut upload = Vec::new();
    upload.try_reserve_exact(size).map_err(|_| err(format!("not enough memory for a {} MB file", size / 1_000_000)))?;
    STATE.with_borrow_mut(|s| {
        s.upload = upload;
        s.checkpoint = None;
    });
    Ok(())
}

#[wasm_bindgen(js_name = checkpointChunk)]
pub fn checkpoint_chunk(bytes: &[u8]) -> Result<(), JsError> {
    STATE.with_borrow_mut(|s| {
        if s.upload.len() + bytes.len() > s.upload.capacity() {
            return Err(err("more bytes than announced"));
        }
        s.upload.extend_from_slice(bytes);
        Ok(())
    })
}

/// Reads the received file (safetensors or `.pth`; nothing in it is executed) and says what it
/// holds: `{card}` for a file exported here, or `{detected}` (widths, act_num, classes,
/// candidate variants, `ambiguous`) for any other VanillaNet checkpoint.
#[wasm_bindgen(js_name = checkpointRead)]
pub fn checkpoint_read() -> Result<JsValue, JsError> {
    let bytes = STATE.with_borrow_mut(|s| std::mem::take(&mut s.upload));
    let sd = StateDict::from_bytes(bytes).map_err(err)?;
    let detected = Classifier::inspect(&sd).map_err(err)?;
    let card = sd.metadata.get(crate::classifier::CARD_KEY).cloned();
    STATE.with_borrow_mut(|s| s.checkpoint = Some(sd));
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Read {
        card: Option<serde_json::Value>,
        detected: Option<crate::detect::Detected>,
        ambiguous: bool,
    }
    let ambiguous = detected.as_ref().is_some_and(|d| d.ambiguous() || d.candidates.is_empty());
    let card = card.and_then(|c| serde_json::from_str(&c).ok());
    js(&Read { card, detected, ambiguous })
}

/// Makes the read checkpoint the classifier (fused if in training form): `variant` or `strides`
/// settle what the tensors can't tell. Answers as `classifierInfo`. A failure keeps the
/// classifier there was.
#[wasm_bindgen(js_name = checkpointUse)]
pub fn checkpoint_use(variant: Option<String>, strides: Option<Vec<usize>>) -> Result<JsValue, JsError> {
    let (sd, device) = STATE.with_borrow(|s| (s.checkpoint.clone(), s.device.clone()));
    let sd = sd.ok_or_else(|| err("no checkpoint read"))?;
    let device = device.ok_or_else(|| err("no backend chosen"))?;
    let classifier = Classifier::from_checkpoint(&sd, variant.as_deref(), strides, &device).map_err(err)?;
    STATE.with_borrow_mut(|s| {
        s.classifier = Some(classifier);
        s.classifier_from_trainer = false;
        s.checkpoint = None;
    });
    classifier_info()
}

/// The classifier as an ONNX model (opset 13): input `input`, output `logits`.
#[wasm_bindgen(js_name = exportOnnx)]
pub async fn export_onnx() -> Result<Vec<u8>, JsError> {
    let classifier = STATE.with_borrow(|s| s.classifier.clone()).ok_or_else(|| err("no classifier to export"))?;
    crate::onnx::export(&classifier).await.map_err(err)
}

/// The classifier's logits (`[batch, classes]`, flat) for preprocessed inputs `[batch, channels,
/// height, width]` (flat): for comparing with other runtimes.
#[wasm_bindgen(js_name = classifierLogits)]
pub async fn classifier_logits(values: Vec<f32>, batch: usize) -> Result<Vec<f32>, JsError> {
    let (classifier, device) = classifier_on_device()?;
    let p = &classifier.card.preprocess;
    let shape = [batch, p.channels, p.height, p.width];
    if values.len() != shape.iter().product::<usize>() {
        return Err(err(format!("{} values for an input of shape {shape:?}", values.len())));
    }
    let x = burn::tensor::Tensor::<4>::from_data(burn::tensor::TensorData::new(values, shape), &device);
    classifier.logits(x).await.map_err(err)
}

/// Inference latency of a named model with random weights (see `bench::latency`).
#[wasm_bindgen(js_name = benchLatency)]
pub async fn bench_latency(
    model: String,
    size: usize,
    batch: usize,
    fused: bool,
    runs: usize,
    warmup: usize,
) -> Result<JsValue, JsError> {
    let device = STATE.with_borrow(|s| s.device.clone()).ok_or_else(|| err("no backend chosen"))?;
    let config = crate::VanillaNetConfig::named(&model).map_err(err)?;
    let case = crate::bench::Case { name: &model, config: &config, size, batch, fused };
    js(&crate::bench::latency(case, runs, warmup, &device).await.map_err(err)?)
}

/// Training images per second of a preset on random images (see `bench::training`).
#[wasm_bindgen(js_name = benchTraining)]
pub async fn bench_training(
    preset: String,
    channels: usize,
    size: usize,
    batch: usize,
    steps: usize,
) -> Result<JsValue, JsError> {
    let device = STATE.with_borrow(|s| s.device.clone()).ok_or_else(|| err("no backend chosen"))?;
    js(&crate::bench::training(&preset, channels, size, batch, steps, &device).await.map_err(err)?)
}

/// Makes a named model with random weights, fused, the classifier (ImageNet preprocessing at
/// `size`, or the preset's grey input): for benchmarks against other runtimes on the same
/// weights.
#[wasm_bindgen(js_name = benchClassifier)]
pub fn bench_classifier(model: String, size: usize) -> Result<JsValue, JsError> {
    let device = STATE.with_borrow(|s| s.device.clone()).ok_or_else(|| err("no backend chosen"))?;
    let config = crate::VanillaNetConfig::named(&model).map_err(err)?;
    config.feature_sizes(size, size).map_err(err)?;
    let fused = config.init(&device).fuse(1.0).map_err(err)?;
    let classes = (0..config.num_classes).map(|i| format!("class {i}")).collect();
    let preprocess = Preprocess::imagenet(size, config.in_chans);
    let card = crate::ModelCard::new(format!("{model} (random weights)"), config, classes, preprocess);
    STATE.with_borrow_mut(|s| {
        s.classifier = Some(Classifier { card, model: fused });
        s.classifier_from_trainer = false;
    });
    classifier_info()
}

/// Latency of the classifier's fused net (see `bench::classifier_latency`).
#[wasm_bindgen(js_name = benchClassifierLatency)]
pub async fn bench_classifier_latency(batch: usize, runs: usize, warmup: usize) -> Result<JsValue, JsError> {
    let (classifier, device) = classifier_on_device()?;
    js(&crate::bench::classifier_latency(&classifier, batch, runs, warmup, &device).await.map_err(err)?)
}

/// The studies there are: `[{study, claim, arms, reference}]`.
#[wasm_bindgen]
pub fn studies() -> Result<JsValue, JsError> {
    #[derive(Serialize)]
    struct Described {
        study: Study,
        claim: &'static str,
        arms: Vec<Arm>,
        /// The arm that is VanillaNet as published.
        reference: usize,
    }
    js(&Study::ALL.map(|study| Described {
        study,
        claim: study.claim(),
        arms: study.arms(),
        reference: study.reference(),
    }))
}

/// Starts an ablation study on the loaded data, or continues `saved` (a report it gave
/// before): answers its report so far.
#[wasm_bindgen(js_name = createStudy)]
pub fn create_study(options: JsValue, saved: JsValue) -> Result<JsValue, JsError> {
    let options: StudyOptions =
        serde_wasm_bindgen::from_value(options).map_err(|e| err(format!("bad study options: {e}")))?;
    let saved: Option<StudyReport> = if saved.is_undefined() || saved.is_null() {
        None
    } else {
        Some(serde_wasm_bindgen::from_value(saved).map_err(|e| err(format!("unreadable saved study: {e}")))?)
    };
    let (data, device) = STATE.with_borrow(|s| (s.data.clone(), s.device.clone()));
    let data = data.ok_or_else(|| err("no dataset loaded"))?;
    let device = device.ok_or_else(|| err("no backend chosen"))?;
    if STATE.with_borrow(|s| s.study_busy) {
        return Err(err("the study is busy with a step"));
    }
    let study = StudyRun::new(&device, data, options)
        .and_then(|s| match saved {
            Some(saved) => s.resume(saved),
            None => Ok(s),
        })
        .map_err(err)?;
    let report = study.report().map_err(err)?;
    STATE.with_borrow_mut(|s| s.study = Some(study));
    js(&report)
}

/// One training step of the study (the step ending a run also fuses and evaluates it).
#[wasm_bindgen(js_name = studyStep)]
pub async fn study_step() -> Result<JsValue, JsError> {
    let mut study = STATE.with_borrow_mut(|s| {
        if s.study_busy {
            return Err(err("the study is busy with another call"));
        }
        s.study_busy = true;
        s.study.take().ok_or_else(|| {
            s.study_busy = false;
            err("no study: create one first")
        })
    })?;
    let progress = study.step().await;
    STATE.with_borrow_mut(|s| {
        s.study = Some(study);
        s.study_busy = false;
    });
    js(&progress.map_err(err)?)
}

/// The study's report: arms, every finished run, the summary per arm.
#[wasm_bindgen(js_name = studyReport)]
pub fn study_report() -> Result<JsValue, JsError> {
    STATE.with_borrow(|s| js(&s.study.as_ref().ok_or_else(|| err("no study"))?.report().map_err(err)?))
}

/// A report (a live or a saved one) as CSV, one row per arm.
#[wasm_bindgen(js_name = studyCsv)]
pub fn study_csv(report: JsValue) -> Result<String, JsError> {
    let report: StudyReport = serde_wasm_bindgen::from_value(report).map_err(|e| err(format!("bad report: {e}")))?;
    Ok(report.csv())
}

#[wasm_bindgen(js_name = dropStudy)]
pub fn drop_study() {
    STATE.with_borrow_mut(|s| s.study = None);
}
