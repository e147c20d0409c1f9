//! The browser API (wasm32): the page's worker calls these. One trainer, one dataset, held here;
//! every call answers plain JS objects.

use std::cell::RefCell;

use burn::tensor::Device;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::dataset::{Dataset, Split};
use crate::trainer::{TrainOptions, Trainer};

#[derive(Default)]
struct State {
    webgpu: Option<Device>,
    device: Option<Device>,
    backend: &'static str,
    data: Option<Dataset>,
    trainer: Option<Trainer>,
    /// The fused form of the trainer's current weights (dropped when they change).
    fused: Option<crate::VanillaNetDeploy>,
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

fn drop_fused() {
    STATE.with_borrow_mut(|s| s.fused = None);
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
    let has_trainer = STATE.with_borrow(|s| s.trainer.is_some());
    if has_trainer {
        let trainer = take_trainer()?;
        drop_fused();
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
    let image = channels * height * width;
    if pixels.len() != labels.len() * image {
        return Err(err(format!("{} labels but {} pixel bytes", labels.len(), pixels.len())));
    }
    let (mut train, mut test) = (Split::default(), Split::default());
    let mut seen = vec![0usize; classes.len()];
    for (i, &label) in labels.iter().enumerate() {
        let Some(count) = seen.get_mut(label as usize) else {
            return Err(err(format!("label {label} but only {} classes", classes.len())));
        };
        let split = if *count % 5 == 4 { &mut test } else { &mut train };
        *count += 1;
        split.pixels.extend_from_slice(&pixels[i * image..(i + 1) * image]);
        split.labels.push(label);
    }
    set_data(Dataset::new("own images", classes, [channels, height, width], train, test).map_err(err)?)
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

/// A new model and optimizer for the loaded dataset: `{params, paramsDeploy, macs, macsDeploy,
/// stepsPerEpoch, totalSteps, config}`.
#[wasm_bindgen(js_name = createTrainer)]
pub fn create_trainer(options: JsValue) -> Result<JsValue, JsError> {
    let options: TrainOptions =
        serde_wasm_bindgen::from_value(options).map_err(|e| err(format!("bad options: {e}")))?;
    STATE.with_borrow_mut(|s| {
        if s.busy {
            return Err(err("the trainer is busy with another call"));
        }
        let data = s.data.clone().ok_or_else(|| err("no dataset loaded"))?;
        let device = s.device.clone().ok_or_else(|| err("no backend chosen: call setBackend first"))?;
        let (h, w) = (data.height, data.width);
        let trainer = Trainer::new(&device, data, options).map_err(err)?;
        let c = trainer.config();
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Info<'a> {
            params: usize,
            params_deploy: usize,
            macs: u64,
            macs_deploy: u64,
            steps_per_epoch: usize,
            total_steps: usize,
            config: &'a crate::VanillaNetConfig,
        }
        let info = js(&Info {
            params: c.params_train(),
            params_deploy: c.params_deploy(),
            macs: c.macs(h, w, false).map_err(err)?,
            macs_deploy: c.macs(h, w, true).map_err(err)?,
            steps_per_epoch: trainer.steps_per_epoch(),
            total_steps: trainer.total_steps(),
            config: c,
        })?;
        s.trainer = Some(trainer);
        s.fused = None;
        Ok(info)
    })
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
        s.fused = None;
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
/// up to `limit` test images: the `FuseReport`.
#[wasm_bindgen]
pub async fn fuse(limit: usize) -> Result<JsValue, JsError> {
    let trainer = take_trainer()?;
    let result = trainer.fuse(limit).await;
    put_back(trainer);
    let (fused, report) = result.map_err(err)?;
    STATE.with_borrow_mut(|s| s.fused = Some(fused));
    js(&report)
}

/// Top `k` of one image (bytes shaped like the training data) by the fused model, with the
/// trained model's answer and both timings.
#[wasm_bindgen]
pub async fn classify(pixels: Vec<u8>, k: usize) -> Result<JsValue, JsError> {
    let fused = STATE.with_borrow(|s| s.fused.clone()).ok_or_else(|| err("fuse the model first"))?;
    let trainer = take_trainer()?;
    let result = trainer.classify(&fused, &pixels, k).await;
    put_back(trainer);
    js(&result.map_err(err)?)
}
