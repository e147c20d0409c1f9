//! The plain objects the session answers with (camelCase field names for JavaScript), and the
//! limits and defaults the page needs from Rust, sent once beside the options tables.

use serde::Serialize;

use crate::classify::Classifier;
use crate::data::dataset::Dataset;
use crate::io::card::ModelCard;
use crate::io::detect::Detected;
use crate::model::config::VanillaNetConfig;
use crate::session::backend::Backend;
use crate::session::current::{Current, Origin};
use crate::session::jobs::{ACTIVATION_EVERY, EVAL_EVERY, EVAL_LIMIT, FUSE_LIMIT, JobState, Jobs};
use crate::train::evaluation::Evaluated;
use crate::train::inside::{DEFAULT_EVERY, DEFAULT_TILES};
use crate::train::options::TrainOptions;
use crate::train::study::{Study, StudyOptions};
use crate::train::table::OptionSpec;
use crate::train::trainer::Trainer;

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct DataSummary {
    pub name: String,
    pub classes: Vec<String>,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub train: usize,
    pub test: usize,
    pub train_per_class: Vec<usize>,
    /// The presets whose input fits these images, smallest first.
    pub presets: Vec<&'static str>,
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
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo {
    pub params: usize,
    pub params_deploy: usize,
    pub macs: u64,
    pub macs_deploy: u64,
    pub steps_per_epoch: usize,
    pub total_steps: usize,
    pub global_step: usize,
    pub config: VanillaNetConfig,
    pub options: TrainOptions,
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

/// Where a trainer stands.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// The lambda of the next step.
    pub lambda: f64,
    pub epoch: usize,
    pub global_step: usize,
    pub total_steps: usize,
    pub finished: bool,
    /// Why the net can't be fused now; null when it can.
    pub cannot_fuse: Option<String>,
}

impl Progress {
    pub fn of(t: &Trainer) -> Self {
        Self {
            lambda: t.lambda(),
            epoch: t.epoch(),
            global_step: t.global_step(),
            total_steps: t.total_steps(),
            finished: t.finished(),
            cannot_fuse: t.cannot_fuse(),
        }
    }
}

/// What the session holds now: each part that exists, and the two jobs' states.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub backend: Backend,
    /// The loaded dataset's name; null before one is loaded.
    pub dataset: Option<String>,
    /// The trainer's position; null without a trainer.
    pub training: Option<Progress>,
    /// Where the classifier came from; null without one.
    pub classifier: Option<Origin>,
    /// The nets evaluated on the whole test set since their weights last changed.
    pub evaluated: Vec<Evaluated>,
    pub train: JobState,
    pub study: JobState,
    /// The moving average of the batch accuracies (null before the first step).
    pub train_accuracy: Option<f32>,
}

impl Status {
    pub fn of(
        backend: Backend,
        data: Option<&Dataset>,
        trainer: Option<&Trainer>,
        classifier: Option<&Current>,
        evaluated: Vec<Evaluated>,
        jobs: &Jobs,
    ) -> Self {
        Self {
            backend,
            dataset: data.map(|d| d.name.clone()),
            training: trainer.map(Progress::of),
            classifier: classifier.map(|c| c.origin),
            evaluated,
            train: jobs.train,
            study: jobs.study,
            train_accuracy: jobs.train_accuracy,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct ClassifierInfo {
    pub card: ModelCard,
    pub params_deploy: usize,
    pub macs_deploy: u64,
    pub origin: Origin,
    /// The origin is the trainer (the page's older name for it).
    pub from_trainer: bool,
    /// Why it can't be exported as ONNX; null when it can.
    pub cannot_export_onnx: Option<String>,
}

impl ClassifierInfo {
    pub fn of(c: &Classifier, origin: Origin) -> crate::Result<Self> {
        let (a, p) = (&c.card.architecture, &c.card.preprocess);
        Ok(Self {
            card: c.card.clone(),
            params_deploy: a.params_deploy(),
            macs_deploy: a.macs(p.height, p.width, true)?,
            origin,
            from_trainer: origin == Origin::Trainer,
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
    pub study: Study,
    /// The arm that is VanillaNet as published.
    pub reference: usize,
}

impl StudyDescription {
    pub fn all() -> Vec<Self> {
        Study::ALL.iter().map(|&study| Self { study, reference: study.reference() }).collect()
    }
}

/// A trainer restored from a snapshot: what `createTrainer` answers, and where it stands.
#[derive(Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
pub struct Restored {
    pub info: ModelInfo,
    pub status: Progress,
}

/// The limits and defaults the page uses, said once here (the engine refuses past them). Each
/// most that the CLI has too is a row of the one table, `crate::limits::TABLE` (its `page`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    /// Steps between two quick looks at part of the test set while training.
    pub eval_every: usize,
    /// Test images a quick look takes.
    pub eval_limit: usize,
    /// Test images the fuse report compares the two forms on.
    pub fuse_limit: usize,
    /// Steps between reads of the watched channel's activation response.
    pub activation_every: usize,
    /// Steps between two probes of the decay unless set, and the most that can be set.
    pub probe_every: usize,
    pub max_probe_every: usize,
    /// Feature-map tiles answered unless asked otherwise, and the most.
    pub default_tiles: usize,
    pub max_tiles: usize,
    /// Most blocks a net has (and so most strides a checkpoint's choice gives).
    pub max_blocks: usize,
    /// Most pixels on a side of a network's input.
    pub max_input_side: usize,
    /// The benchmarks' most: input side, batch, timed runs (warm-up runs and training steps
    /// too) and cases; `vanillanet bench` has the same.
    pub max_bench_size: usize,
    pub max_bench_batch: usize,
    pub max_bench_runs: usize,
    pub max_bench_cases: usize,
}

impl Limits {
    pub fn get() -> Self {
        use crate::limits::{BENCH_BATCH, BENCH_CASES, BENCH_RUNS, BENCH_SIZE, BLOCK, INPUT_SIDE, PROBE_EVERY, TILES};
        Self {
            eval_every: EVAL_EVERY,
            eval_limit: EVAL_LIMIT,
            fuse_limit: FUSE_LIMIT,
            activation_every: ACTIVATION_EVERY,
            probe_every: DEFAULT_EVERY,
            max_probe_every: PROBE_EVERY.most(),
            default_tiles: DEFAULT_TILES,
            max_tiles: TILES.most(),
            max_blocks: BLOCK.most(),
            max_input_side: INPUT_SIDE.most(),
            max_bench_size: BENCH_SIZE.most(),
            max_bench_batch: BENCH_BATCH.most(),
            max_bench_runs: BENCH_RUNS.most(),
            max_bench_cases: BENCH_CASES.most(),
        }
    }
}

/// The options tables the page builds its forms from, reads links with and checks arguments
/// by, and the limits beside them.
#[derive(Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
pub struct OptionsTables {
    pub train: Vec<OptionSpec>,
    pub study: Vec<OptionSpec>,
    pub limits: Limits,
}

impl OptionsTables {
    pub fn get() -> Self {
        Self { train: TrainOptions::table(), study: StudyOptions::form_table(), limits: Limits::get() }
    }
}

/// A layer's learned series activation on a channel: its response to the inputs, and its kernel.
#[derive(Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
pub struct ActivationResponse {
    pub curve: Vec<f32>,
    pub kernel: Vec<f32>,
}
