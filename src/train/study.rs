//! The paper's three ablations at small scale. A study trains every arm with the same data,
//! data order, seeds, step budget and schedule (only the arm's model options differ), fuses
//! each trained net, and sums the runs up per arm. The page drives it one step at a time.

use serde::{Deserialize, Serialize};

use burn::tensor::Device;

use crate::data::dataset::Dataset;
use crate::error::{Error, Result};
use crate::model::config::Shortcut;
use crate::train::inside::DecayPoint;
use crate::train::options::TrainOptions;
use crate::train::table::{Kind, Limit, OptionSpec, OptionValue, options_table};
use crate::train::trainer::{StepReport, Trainer};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Shared by every arm; its act_num, deep training and shortcut are the arm's.
    train: TrainOptions = TrainOptions { preset: "nano_28".into(), ..Default::default() };
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

/// One arm trained with one seed, then fused.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunResult {
    pub arm: usize,
    pub seed: u64,
    /// Test accuracy of the fused net.
    pub accuracy: f32,
    /// Largest logit difference between the trained and the fused net on the test images.
    pub max_logit_diff: f32,
    pub fused_ms_per_image: f64,
    pub train_seconds: f64,
    pub final_loss: f32,
    /// The leaky activations' decay at each epoch's end (the last probe of the epoch); empty
    /// without deep training.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decay: Vec<DecayPoint>,
}

/// The runs of one arm, summed up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArmSummary {
    /// The arm's id, as in [`Arm`] (empty in reports saved before ids).
    #[serde(default)]
    pub id: String,
    pub name: String,
    pub runs: usize,
    /// Test accuracy over the finished runs (none before the first).
    pub accuracy_mean: Option<f32>,
    /// Sample standard deviation over seeds (0 with one seed).
    pub accuracy_std: Option<f32>,
    pub accuracy_min: Option<f32>,
    pub accuracy_max: Option<f32>,
    pub params: usize,
    pub params_deploy: usize,
    pub macs_deploy: u64,
    pub fused_ms_per_image: Option<f64>,
    /// Against the VanillaNet arm, seed by seed (none for that arm, or before a shared seed).
    pub vs_reference: Option<Paired>,
}

/// An arm against the reference arm on the seeds both have run: accuracy differences paired
/// by seed cancel what a seed does to both (data order, initialisation luck).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Paired {
    /// Mean of (this arm - reference) test accuracy over the shared seeds.
    pub mean_diff: f32,
    /// Seeds on which this arm was better, and how many were compared.
    pub wins: usize,
    pub pairs: usize,
}

/// Everything a study produced, as the CLI prints it and the page keeps and downloads it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StudyReport {
    pub study: Study,
    pub claim: String,
    pub dataset: String,
    pub train_images: usize,
    pub test_images: usize,
    pub options: StudyOptions,
    pub steps_per_run: usize,
    pub arms: Vec<Arm>,
    pub summary: Vec<ArmSummary>,
    pub runs: Vec<RunResult>,
    /// Runs in all (every arm with every seed), and whether they have all finished.
    #[serde(default)]
    pub total_runs: usize,
    #[serde(default)]
    pub finished: bool,
}

/// What one call of [`StudyRun::step`] did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
        let data = data.prefix(options.train_images.0, options.test_images.0);
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
            let (_, report) = trainer.fuse(self.data.test.len()).await?;
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
        let mut summary = Vec::new();
        for (i, arm) in self.arms.iter().enumerate() {
            let config =
                Self::arm_options(&self.options.train, arm, self.options.train.seed).model_config(&self.data)?;
            let runs: Vec<&RunResult> = self.results.iter().filter(|r| r.arm == i).collect();
            let acc: Vec<f32> = runs.iter().map(|r| r.accuracy).collect();
            let any = !acc.is_empty();
            let n = acc.len() as f32;
            let mean = acc.iter().sum::<f32>() / n;
            let var = if acc.len() > 1 { acc.iter().map(|a| (a - mean).powi(2)).sum::<f32>() / (n - 1.0) } else { 0.0 };
            summary.push(ArmSummary {
                id: arm.id.clone(),
                name: arm.name.clone(),
                runs: runs.len(),
                accuracy_mean: any.then_some(mean),
                accuracy_std: any.then_some(var.sqrt()),
                accuracy_min: acc.iter().copied().reduce(f32::min),
                accuracy_max: acc.iter().copied().reduce(f32::max),
                params: config.params_train(),
                params_deploy: config.params_deploy(),
                macs_deploy: config.macs(self.data.height, self.data.width, true)?,
                fused_ms_per_image: any
                    .then(|| runs.iter().map(|r| r.fused_ms_per_image).sum::<f64>() / runs.len() as f64),
                vs_reference: Paired::of(&self.results, i, self.options.study.reference()),
            });
        }
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

impl Paired {
    /// `arm` against `reference` over the seeds both have finished (none for the reference
    /// itself, or before a shared seed).
    pub fn of(results: &[RunResult], arm: usize, reference: usize) -> Option<Self> {
        let accuracy = |a: usize, seed: u64| results.iter().find(|r| r.arm == a && r.seed == seed).map(|r| r.accuracy);
        let diffs: Vec<f32> = (arm != reference)
            .then(|| results.iter().filter(|r| r.arm == arm))
            .into_iter()
            .flatten()
            .filter_map(|r| accuracy(reference, r.seed).map(|base| r.accuracy - base))
            .collect();
        (!diffs.is_empty()).then(|| Paired {
            mean_diff: diffs.iter().sum::<f32>() / diffs.len() as f32,
            wins: diffs.iter().filter(|&&d| d > 0.0).count(),
            pairs: diffs.len(),
        })
    }

    /// "+1.23 points, better on 2 of 3 seeds".
    pub fn describe(&self) -> String {
        format!("{:+.2} points, better on {} of {} seeds", 100.0 * self.mean_diff, self.wins, self.pairs)
    }
}

impl StudyReport {
    /// A Markdown table, one row per arm (the CLI's output and the README's tables).
    pub fn markdown(&self) -> String {
        let mut out = String::from(
            "| arm | test accuracy % (mean ± std) | min–max | seeds | vs VanillaNet (paired by seed) | params (train / fused) | MACs (fused) | fused ms/image |\n|---|---|---|---|---|---|---|---|\n",
        );
        for s in &self.summary {
            let (Some(mean), Some(std), Some(min), Some(max), Some(ms)) =
                (s.accuracy_mean, s.accuracy_std, s.accuracy_min, s.accuracy_max, s.fused_ms_per_image)
            else {
                out += &format!(
                    "| {} | not run | | 0 | {} / {} | {} | |\n",
                    s.name, s.params, s.params_deploy, s.macs_deploy
                );
                continue;
            };
            out += &format!(
                "| {} | {:.2} ± {:.2} | {:.2}–{:.2} | {} | {} | {} / {} | {} | {ms:.4} |\n",
                s.name,
                100.0 * mean,
                100.0 * std,
                100.0 * min,
                100.0 * max,
                s.runs,
                s.vs_reference.as_ref().map_or("reference".into(), Paired::describe),
                s.params,
                s.params_deploy,
                s.macs_deploy,
            );
        }
        out
    }

    /// One row per arm, for spreadsheets.
    pub fn csv(&self) -> String {
        let mut out = String::from(
            "study,arm,runs,accuracy_mean,accuracy_std,accuracy_min,accuracy_max,diff_vs_reference,wins_vs_reference,pairs_vs_reference,params,params_deploy,macs_deploy,fused_ms_per_image\n",
        );
        let cell = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
        for s in &self.summary {
            let name = s.name.replace('"', "\"\"");
            let acc = [s.accuracy_mean, s.accuracy_std, s.accuracy_min, s.accuracy_max].map(|v| cell(v.map(f64::from)));
            let paired =
                s.vs_reference.as_ref().map_or(",,".into(), |p| format!("{},{},{}", p.mean_diff, p.wins, p.pairs));
            out += &format!(
                "{},\"{name}\",{},{},{paired},{},{},{},{}\n",
                self.study.name(),
                s.runs,
                acc.join(","),
                s.params,
                s.params_deploy,
                s.macs_deploy,
                cell(s.fused_ms_per_image)
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(arm: usize, seed: u64, accuracy: f32) -> RunResult {
        RunResult {
            arm,
            seed,
            accuracy,
            max_logit_diff: 0.0,
            fused_ms_per_image: 0.5,
            train_seconds: 1.0,
            final_loss: 0.3,
            decay: Vec::new(),
        }
    }

    #[test]
    fn paired_by_seed_only_where_both_ran() {
        let results = [run(0, 1, 0.80), run(1, 1, 0.85), run(0, 2, 0.90), run(1, 2, 0.88), run(1, 3, 0.99)];
        let p = Paired::of(&results, 1, 0).unwrap();
        assert_eq!((p.wins, p.pairs), (1, 2), "seed 3 has no reference run");
        assert!((p.mean_diff - (0.05 - 0.02) / 2.0).abs() < 1e-6);
        assert_eq!(Paired::of(&results, 0, 0), None, "the reference has no comparison");
        assert_eq!(p.describe(), "+1.50 points, better on 1 of 2 seeds");
    }

    #[test]
    fn csv_quotes_names_and_leaves_missing_values_empty() {
        let arms = vec![arm("a", "say \"hi\"", 3, true, Shortcut::None), arm("b", "b", 0, true, Shortcut::None)];
        let summary = |name: &str, acc: Option<f32>| ArmSummary {
            id: String::new(),
            name: name.into(),
            runs: acc.is_some() as usize,
            accuracy_mean: acc,
            accuracy_std: acc.map(|_| 0.0),
            accuracy_min: acc,
            accuracy_max: acc,
            params: 10,
            params_deploy: 5,
            macs_deploy: 7,
            fused_ms_per_image: acc.map(|_| 0.25),
            vs_reference: None,
        };
        let report = StudyReport {
            study: Study::ActNum,
            claim: String::new(),
            dataset: "d".into(),
            train_images: 1,
            test_images: 1,
            options: StudyOptions::default(),
            steps_per_run: 1,
            summary: vec![summary(&arms[0].name, Some(0.5)), summary("b", None)],
            arms,
            runs: vec![],
            total_runs: 2,
            finished: false,
        };
        let csv = report.csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1], "act-num,\"say \"\"hi\"\"\",1,0.5,0,0.5,0.5,,,,10,5,7,0.25");
        assert_eq!(lines[2], "act-num,\"b\",0,,,,,,,,10,5,7,");
        assert!(report.markdown().contains("| b | not run |"));
    }
}
