//! The plain objects the browser API answers with (camelCase field names for JavaScript).

use serde::Serialize;

use crate::classify::Classifier;
use crate::data::dataset::Dataset;
use crate::io::card::ModelCard;
use crate::io::detect::Detected;
use crate::model::config::VanillaNetConfig;
use crate::train::options::TrainOptions;
use crate::train::study::Study;
use crate::train::table::OptionSpec;
use crate::train::trainer::Trainer;

#[derive(Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct DataSummary {
    name: String,
    classes: Vec<String>,
    channels: usize,
    height: usize,
    width: usize,
    train: usize,
    test: usize,
    train_per_class: Vec<usize>,
    /// The presets whose input fits these images, smallest first.
    presets: Vec<&'static str>,
}

impl DataSummary {
    pub fn of(d: &Dataset) -> Self {
        Self {
            name: d.name.clone(),
            classes: d.classes.clone(),
            channels: d.channels,
            height: d.height,
            width: d.width,
            train: d.train.len(),
            test: d.test.len(),
            train_per_class: d.train_per_class(),
            presets: if d.height == d.width { crate::model::presets::presets_for(d.height) } else { Vec::new() },
        }
    }
}

/// What the page shows of a new or restored model.
#[derive(Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo {
    params: usize,
    params_deploy: usize,
    macs: u64,
    macs_deploy: u64,
    steps_per_epoch: usize,
    total_steps: usize,
    global_step: usize,
    config: VanillaNetConfig,
    options: TrainOptions,
}

impl ModelInfo {
    pub fn of(trainer: &Trainer) -> crate::Result<Self> {
        let c = trainer.config();
        let (h, w) = (trainer.data().height, trainer.data().width);
        Ok(Self {
            params: c.params_train(),
            params_deploy: c.params_deploy(),
            macs: c.macs(h, w, false)?,
            macs_deploy: c.macs(h, w, true)?,
            steps_per_epoch: trainer.steps_per_epoch(),
            total_steps: trainer.total_steps(),
            global_step: trainer.global_step(),
            config: c.clone(),
            options: trainer.options().clone(),
        })
    }
}

/// Where training stands (every field but the backend is null without a model).
#[derive(Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct Status {
    backend: &'static str,
    lambda: Option<f64>,
    epoch: Option<usize>,
    global_step: Option<usize>,
    total_steps: Option<usize>,
    finished: Option<bool>,
    /// Why the net can't be fused now; null when it can (or there is no net).
    cannot_fuse: Option<String>,
}

impl Status {
    pub fn of(backend: &'static str, t: Option<&Trainer>) -> Self {
        Self {
            backend,
            lambda: t.map(Trainer::lambda),
            epoch: t.map(Trainer::epoch),
            global_step: t.map(Trainer::global_step),
            total_steps: t.map(Trainer::total_steps),
            finished: t.map(Trainer::finished),
            cannot_fuse: t.and_then(Trainer::cannot_fuse),
        }
    }
}

#[derive(Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct ClassifierInfo {
    card: crate::ModelCard,
    params_deploy: usize,
    macs_deploy: u64,
    from_trainer: bool,
    /// Why it can't be exported as ONNX; null when it can.
    cannot_export_onnx: Option<String>,
}

impl ClassifierInfo {
    pub fn of(c: &Classifier, from_trainer: bool) -> crate::Result<Self> {
        let (a, p) = (&c.card.architecture, &c.card.preprocess);
        Ok(Self {
            card: c.card.clone(),
            params_deploy: a.params_deploy(),
            macs_deploy: a.macs(p.height, p.width, true)?,
            from_trainer,
            cannot_export_onnx: crate::io::onnx::unsupported(a),
        })
    }
}

/// What a checkpoint file holds, before it becomes the classifier.
#[derive(Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct CheckpointRead {
    pub card: Option<ModelCard>,
    pub detected: Option<Detected>,
    /// The tensors fit several variants, or none: the user picks, or gives the strides.
    pub ambiguous: bool,
}

#[derive(Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
pub struct StudyDescription {
    /// The study's id; the page says its claim in its language (`study.claim.<study>`).
    study: Study,
    /// The arm that is VanillaNet as published.
    reference: usize,
}

impl StudyDescription {
    pub fn of(study: Study) -> Self {
        Self { study, reference: study.reference() }
    }
}

/// What this build is.
#[derive(Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
pub struct Build {
    pub webgpu: bool,
    /// The size of the CPU pool (1 without one).
    pub threads: usize,
}

/// The backend picked, and why it is not the one asked for (`auto` without WebGPU).
#[derive(Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct BackendChoice {
    pub backend: &'static str,
    pub fallback_reason: Option<String>,
}

/// The options tables the page builds its forms from, reads links with and checks arguments by.
#[derive(Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
pub struct OptionsTables {
    pub train: Vec<OptionSpec>,
    pub study: Vec<OptionSpec>,
}

/// A layer's learned series activation on a channel: its response to the inputs, and its kernel.
#[derive(Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
pub struct ActivationResponse {
    pub curve: Vec<f32>,
    pub kernel: Vec<f32>,
}
