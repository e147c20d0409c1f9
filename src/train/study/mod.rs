//! The paper's three ablations at small scale. A study trains every arm with the same data,
//! data order, seeds, step budget and schedule (only the arm's model options differ), fuses
//! each trained net, and sums the runs up per arm. The page drives it one step at a time. What
//! a study produced, summed up and written out (table, CSV), is `report.rs`.

mod report;

pub use report::{ArmSummary, Paired, RunResult, StudyReport};

use serde::{Deserialize, Serialize};

use burn::tensor::Device;

use crate::data::dataset::Dataset;
use crate::error::{Error, Result};
use crate::model::config::Shortcut;
use crate::train::fuse_report::fuse_and_report;
use crate::train::options::TrainOptions;
use crate::train::table::{Kind, Limit, OptionSpec, OptionValue, options_table};
use crate::train::trainer::{StepReport, Trainer};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[cfg_attr(not(target_arch = "wasm32"), derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Study {
    /// Stacked activations: act_num 0 (plain ReLU) to 3.
    #[default]
    ActNum,
    /// Deep training and the series activation, each on and off.
    DeepTraining,
    /// No shortcut, one before the activation, one after it.
    Shortcut,
}

/// One model variant of a study: the options it sets, all else equal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct Arm {
    /// What the page translates (`study.arm.<id>`); reports saved before ids have none.
    #[serde(default)]
    pub id: String,
    /// In English, for the CLI's table and the CSV.
    pub name: String,
    pub act_num: usize,
    pub deep_training: bool,
    pub shortcut: Shortcut,
}

fn arm(id: &str, name: &str, act_num: usize, deep_training: bool, shortcut: Shortcut) -> Arm {
    Arm { id: id.into(), name: name.into(), act_num, deep_training, shortcut }
}

impl OptionValue for Study {}

impl Study {
    pub const ALL: [Study; 3] = [Study::ActNum, Study::DeepTraining, Study::Shortcut];

    pub fn name(self) -> &'static str {
        match self {
            Study::ActNum => "act-num",
            Study::DeepTraining => "deep-training",
            Study::Shortcut => "shortcut",
        }
    }

    pub fn arms(self) -> Vec<Arm> {
        match self {
            Study::ActNum => (0..=3)
                .map(|n| arm(&format!("act-num-{n}"), &format!("act_num {n}"), n, true, Shortcut::None))
                .collect(),
            Study::DeepTraining => vec![
                arm("neither", "neither", 0, false, Shortcut::None),
                arm("deep-training-only", "deep training only", 0, true, Shortcut::None),
                arm("series-activation-only", "series activation only", 3, false, Shortcut::None),
                arm("both", "both (VanillaNet)", 3, true, Shortcut::None),
            ],
            Study::Shortcut => vec![
                arm("no-shortcut", "no shortcut (VanillaNet)", 3, true, Shortcut::None),
                arm("shortcut-before", "shortcut before activation", 3, true, Shortcut::BeforeAct),
                arm("shortcut-after", "shortcut after activation", 3, true, Shortcut::AfterAct),
            ],
        }
    }

    /// The arm that is VanillaNet as published, which the others are compared with.
    pub fn reference(self) -> usize {
        match self {
            Study::ActNum | Study::DeepTraining => 3,
            Study::Shortcut => 0,
        }
    }

    /// What the paper reports (ImageNet top-1), in English for the CLI (the page says it in its
    /// language, `study.claim.<study>`).
    pub fn claim(self) -> &'static str {
        match self {
            Study::ActNum => {
                "n = 0 (plain ReLU) is far worse than n = 3 stacked activations (60.5% vs 72+% top-1 on ImageNet for the 5-layer net); n = 3 was chosen as the accuracy/speed balance."
            }
            Study::DeepTraining => {
                "Deep training plus series activation together are what make the shallow net competitive."
            }
            Study::Shortcut => "Adding shortcuts to VanillaNet makes it worse, not better.",
        }
    }
}

/// Most seeds a study takes (each one trains every arm).
pub const MAX_SEEDS: usize = 100;
/// Most images a study may be limited to (more than any dataset file holds).
const MAX_IMAGES: f64 = 1e9;

options_table! {
    /// A study to run: which, how many seeds, how much data, and the training every arm shares
    /// (its act_num, deep training and shortcut are the arm's). Said once here for the page's
    /// Experiments form, the API and `vanillanet ablate`.
    pub struct StudyOptions {
        /// Which of the paper's ablations.
        study: Study = Study::ActNum, Kind::choice(&Study::ALL), [value_enum];
        /// Seeds per arm (seed, seed + 1, ...): each seed runs every arm; the spread over them is
        /// the table's ±.
        seeds: usize = 1, Kind::integer(1, MAX_SEEDS as u64), [];
        /// Train on the first N training images only (0: all; the built-in sets are
        /// class-balanced in any prefix).
        train_images: Limit = Limit(Some(5000)), Kind::Count { max: MAX_IMAGES }, [];
        /// Test on the first N test images only (0: all).
        test_images: Limit = Limit(Some(1000)), Kind::Count { max: MAX_IMAGES }, [];
    }
    nested
    /// Shared by every arm; its act_num, deep training and shortcut are the arm's. The budget
    /// (model, epochs, batch) and the loss are those the studies were measured at, not the
    /// quick default's.
    train: TrainOptions = TrainOptions {
        preset: "nano_28".into(),
        epochs: 3,
        decay_epochs: 2,
        batch_size: 64,
        label_smoothing: 0.0,
        ..Default::default()
    };
}

impl StudyOptions {
    /// The training options a study sets per arm (the rest are shared).
    pub const ARM_OPTIONS: [&'static str; 3] = ["actNum", "deepTraining", "shortcut"];
    /// The training options the page's Experiments form shows (it takes the others from the
    /// training form).
    pub const FORM_TRAIN_OPTIONS: [&'static str; 3] = ["preset", "epochs", "decayEpochs"];

    /// The Experiments form's options: the study's own, then [`Self::FORM_TRAIN_OPTIONS`]
    /// under `train` with the study's defaults.
    pub fn form_table() -> Vec<OptionSpec> {
        let defaults = serde_json::to_value(Self::default().train).unwrap_or_default();
        let train = TrainOptions::table().into_iter().filter(|o| Self::FORM_TRAIN_OPTIONS.contains(&o.name.as_str()));
        Self::table()
            .into_iter()
            .chain(train.map(|o| OptionSpec {
                path: vec!["train".into(), o.name.clone()],
                default: defaults[&o.name].clone(),
                ..o
            }))
            .collect()
    }
}

/// What one call of [`StudyRun::step`] did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct StudyProgress {
    /// Index of the run (arm and seed) this step belongs to, and how many there are.
    pub run: usize,
    pub runs: usize,
    pub arm: usize,
    pub seed: u64,
    pub step: StepReport,
    /// Set when this step ended the run: its evaluation.
    pub finished: Option<RunResult>,
}

/// A study in progress: runs seed after seed, every arm within a seed, so a table with every
/// arm exists after the first seed.
pub struct StudyRun {
    options: StudyOptions,
    arms: Vec<Arm>,
    data: Dataset,
    device: Device,
    trainer: Option<Trainer>,
    run_started: web_time::Instant,
    results: Vec<RunResult>,
}

impl StudyRun {
    /// Checks every arm's architecture against the data before anything trains.
    pub fn new(device: &Device, data: Dataset, options: StudyOptions) -> Result<Self> {
        options.check_bounds().map_err(|e| Error::InvalidOption(e.message))?;
        if options.train.decay_epochs > options.train.epochs {
            return Err(Error::InvalidInput(format!(
                "lambda must reach 1 by the end so every arm can be fused: decay epochs ({}) must not exceed epochs ({})",
                options.train.decay_epochs, options.train.epochs
            )));
        }
        let data = data.prefix(options.train_images.first(), options.test_images.first());
        if data.test.is_empty() {
            return Err(Error::InvalidInput("the data has no test images to compare the arms on".into()));
        }
        let arms = options.study.arms();
        for arm in &arms {
            Self::arm_options(&options.train, arm, options.train.seed).model_config(&data)?;
        }
        Ok(Self {
            options,
            arms,
            data,
            device: device.clone(),
            trainer: None,
            run_started: web_time::Instant::now(),
            results: Vec::new(),
        })
    }

    /// Continues a saved study (the page keeps its report): same options and data, its
    /// finished runs kept; the run that was in progress starts over.
    pub fn resume(mut self, saved: StudyReport) -> Result<Self> {
        if saved.options != self.options {
            return Err(Error::InvalidInput("the saved study had other options".into()));
        }
        if (saved.dataset.as_str(), saved.train_images, saved.test_images)
            != (self.data.name.as_str(), self.data.train.len(), self.data.test.len())
        {
            return Err(Error::InvalidInput(format!(
                "the saved study ran on {} ({} training, {} test images): load that data to continue it",
                saved.dataset, saved.train_images, saved.test_images
            )));
        }
        let done = saved.runs;
        if done.len() > self.runs() {
            return Err(Error::InvalidInput(format!("{} saved runs but the study has {}", done.len(), self.runs())));
        }
        for (i, r) in done.iter().enumerate() {
            if (r.arm, r.seed) != self.run_of(i) {
                return Err(Error::InvalidInput(format!(
                    "saved run {} (arm {}, seed {}) does not belong to these options",
                    i + 1,
                    r.arm,
                    r.seed
                )));
            }
        }
        self.results = done;
        Ok(self)
    }

    /// Continues on another device; the run in progress starts over there.
    pub fn set_device(&mut self, device: &Device) {
        self.device = device.clone();
        self.trainer = None;
    }

    fn arm_options(train: &TrainOptions, arm: &Arm, seed: u64) -> TrainOptions {
        TrainOptions {
            act_num: arm.act_num,
            deep_training: arm.deep_training,
            shortcut: arm.shortcut,
            seed,
            ..train.clone()
        }
    }

    pub fn runs(&self) -> usize {
        self.arms.len() * self.options.seeds
    }

    pub fn finished(&self) -> bool {
        self.results.len() >= self.runs()
    }

    /// (arm, seed) of run `run`.
    fn run_of(&self, run: usize) -> (usize, u64) {
        (run % self.arms.len(), self.options.train.seed + (run / self.arms.len()) as u64)
    }

    /// One training step of the current run; the step that ends a run also fuses and evaluates.
    pub async fn step(&mut self) -> Result<StudyProgress> {
        if self.finished() {
            return Err(Error::InvalidInput("the study is finished".into()));
        }
        let run = self.results.len();
        let (arm, seed) = self.run_of(run);
        if self.trainer.is_none() {
            let options = Self::arm_options(&self.options.train, &self.arms[arm], seed);
            self.trainer = Some(Trainer::new(&self.device, self.data.clone(), options)?);
            self.run_started = web_time::Instant::now();
        }
        let trainer = self.trainer.as_mut().expect("created above");
        let step = trainer.step().await?;
        let mut finished = None;
        if trainer.finished() {
            let train_seconds = self.run_started.elapsed().as_secs_f64();
            let net = trainer.trained_net(trainer.default_weights())?;
            let (_, report) = fuse_and_report(&net, self.data.test.len()).await?;
            let result = RunResult {
                arm,
                seed,
                accuracy: report.accuracy_deploy.unwrap_or(f32::NAN),
                max_logit_diff: report.max_logit_diff,
                fused_ms_per_image: report.ms_deploy / report.images.max(1) as f64,
                train_seconds,
                final_loss: step.loss,
                decay: trainer.decay().per_epoch(trainer.steps_per_epoch(), self.options.train.epochs),
            };
            self.results.push(result.clone());
            self.trainer = None;
            finished = Some(result);
        }
        Ok(StudyProgress { run, runs: self.runs(), arm, seed, step, finished })
    }

    pub fn report(&self) -> Result<StudyReport> {
        let (h, w) = (self.data.height, self.data.width);
        let summary = self
            .arms
            .iter()
            .enumerate()
            .map(|(i, arm)| {
                let config =
                    Self::arm_options(&self.options.train, arm, self.options.train.seed).model_config(&self.data)?;
                ArmSummary::of(arm, i, &config, &self.results, self.options.study.reference(), h, w)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(StudyReport {
            study: self.options.study,
            claim: self.options.study.claim().into(),
            dataset: self.data.name.clone(),
            train_images: self.data.train.len(),
            test_images: self.data.test.len(),
            options: self.options.clone(),
            steps_per_run: self.data.train.len().div_ceil(self.options.train.batch_size) * self.options.train.epochs,
            arms: self.arms.clone(),
            summary,
            runs: self.results.clone(),
            total_runs: self.runs(),
            finished: self.finished(),
        })
    }
}
