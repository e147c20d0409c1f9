//! The plain objects the browser API answers with (camelCase field names for JavaScript).

use serde::Serialize;

use crate::classify::Classifier;
use crate::data::dataset::Dataset;
use crate::io::card::ModelCard;
use crate::io::detect::Detected;
use crate::model::config::VanillaNetConfig;
use crate::train::options::TrainOptions;
use crate::train::study::Study;
use crate::train::trainer::Trainer;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DataSummary<'a> {
    name: &'a str,
    classes: &'a [String],
    channels: usize,
    height: usize,
    width: usize,
    train: usize,
    test: usize,
    train_per_class: Vec<usize>,
    /// The presets whose input fits these images, smallest first.
    presets: Vec<&'static str>,
}

impl<'a> DataSummary<'a> {
    pub fn of(d: &'a Dataset) -> Self {
        Self {
            name: &d.name,
            classes: &d.classes,
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
#[serde(rename_all = "camelCase")]
pub struct ModelInfo<'a> {
    params: usize,
    params_deploy: usize,
    macs: u64,
    macs_deploy: u64,
    steps_per_epoch: usize,
    total_steps: usize,
    global_step: usize,
    config: &'a VanillaNetConfig,
    options: &'a TrainOptions,
}

impl<'a> ModelInfo<'a> {
    pub fn of(trainer: &'a Trainer) -> crate::Result<Self> {
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
            config: c,
            options: trainer.options(),
        })
    }
}

/// Where training stands (every field but the backend is null without a model).
#[derive(Serialize)]
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
#[serde(rename_all = "camelCase")]
pub struct ClassifierInfo<'a> {
    card: &'a crate::ModelCard,
    params_deploy: usize,
    macs_deploy: u64,
    from_trainer: bool,
    /// Why it can't be exported as ONNX; null when it can.
    cannot_export_onnx: Option<String>,
}

impl<'a> ClassifierInfo<'a> {
    pub fn of(c: &'a Classifier, from_trainer: bool) -> crate::Result<Self> {
        let (a, p) = (&c.card.architecture, &c.card.preprocess);
        Ok(Self {
            card: &c.card,
            params_deploy: a.params_deploy(),
            macs_deploy: a.macs(p.height, p.width, true)?,
            from_trainer,
            cannot_export_onnx: crate::io::onnx::unsupported(a),
        })
    }
}

/// What a checkpoint file holds, before it becomes the classifier.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointRead {
    pub card: Option<ModelCard>,
    pub detected: Option<Detected>,
    /// The tensors fit several variants, or none: the user picks, or gives the strides.
    pub ambiguous: bool,
}

#[derive(Serialize)]
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
