//! What a study produced: every run, each arm summed up (mean, sample std and range over seeds,
//! the paired difference to the VanillaNet arm), and the report as the CLI prints it
//! (Markdown) and spreadsheets read it (CSV).

use serde::{Deserialize, Serialize};

use super::{Arm, Study, StudyOptions};
use crate::error::Result;
use crate::model::config::VanillaNetConfig;
use crate::train::inside::DecayPoint;

/// One arm trained with one seed, then fused.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
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
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
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
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
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
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
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

impl ArmSummary {
    /// Arm `index` (`arm`, built as `config`) summed up over the runs of it in `results`, and
    /// against the `reference` arm seed by seed; `h` x `w` images.
    pub fn of(
        arm: &Arm,
        index: usize,
        config: &VanillaNetConfig,
        results: &[RunResult],
        reference: usize,
        h: usize,
        w: usize,
    ) -> Result<Self> {
        let runs: Vec<&RunResult> = results.iter().filter(|r| r.arm == index).collect();
        let acc: Vec<f32> = runs.iter().map(|r| r.accuracy).collect();
        let any = !acc.is_empty();
        let n = acc.len() as f32;
        let mean = acc.iter().sum::<f32>() / n;
        let var = if acc.len() > 1 { acc.iter().map(|a| (a - mean).powi(2)).sum::<f32>() / (n - 1.0) } else { 0.0 };
        Ok(ArmSummary {
            id: arm.id.clone(),
            name: arm.name.clone(),
            runs: runs.len(),
            accuracy_mean: any.then_some(mean),
            accuracy_std: any.then_some(var.sqrt()),
            accuracy_min: acc.iter().copied().reduce(f32::min),
            accuracy_max: acc.iter().copied().reduce(f32::max),
            params: config.params_train(),
            params_deploy: config.params_deploy(),
            macs_deploy: config.macs(h, w, true)?,
            fused_ms_per_image: any.then(|| runs.iter().map(|r| r.fused_ms_per_image).sum::<f64>() / runs.len() as f64),
            vs_reference: Paired::of(results, index, reference),
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
    /// A Markdown table, one row per arm (the CLI's output and docs/ablations.md's tables).
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
    use super::super::arm;
    use super::*;
    use crate::model::config::Shortcut;

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
