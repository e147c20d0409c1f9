//! The learning rate over a run: a linear warm-up (the first steps move BatchNorm statistics
//! and Adam's moments a long way, so big steps then go astray), then constant or a cosine
//! decay to about 0 at the last step (the authors' recipe: `--warmup_epochs`, `--sched cosine`).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[cfg_attr(not(target_arch = "wasm32"), derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum LrShape {
    /// The base rate from the end of the warm-up on.
    Constant,
    /// `base * (1 + cos(pi * p)) / 2`, p going from 0 at the end of the warm-up to 1 just
    /// after the last step.
    Cosine,
    /// One cycle (triangular, with the warm-up as its rising side): `base * (1 - p)`, a
    /// straight line from the peak to just above 0 at the last step: the fast-training recipes'
    /// triangle (below the cosine early in the decay, above it late).
    #[serde(rename = "onecycle")]
    #[cfg_attr(not(target_arch = "wasm32"), value(name = "onecycle"))]
    OneCycle,
}

impl LrShape {
    pub const ALL: [LrShape; 3] = [LrShape::Cosine, LrShape::OneCycle, LrShape::Constant];
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LrSchedule {
    pub base: f64,
    pub shape: LrShape,
    /// Epochs of linear warm-up (a fraction of one is fine).
    pub warmup_epochs: f64,
    pub epochs: usize,
}

impl LrSchedule {
    /// The learning rate of step `step` (0-based) of epoch `epoch` (0-based). Warm-up: step i
    /// of W warm-up steps takes `base * (i + 1) / W`, so the first step is not wasted and the
    /// last one is at `base`. Cosine: the last step of the run is just above 0.
    pub fn at(&self, epoch: usize, step: usize, steps_per_epoch: usize) -> f64 {
        let s = (epoch * steps_per_epoch + step.min(steps_per_epoch)) as f64;
        let total = (self.epochs * steps_per_epoch) as f64;
        let warmup = (self.warmup_epochs * steps_per_epoch as f64).round().min(total);
        if s < warmup {
            return self.base * (s + 1.0) / warmup;
        }
        match self.shape {
            LrShape::Constant => self.base,
            LrShape::Cosine | LrShape::OneCycle => {
                let p = ((s - warmup) / (total - warmup).max(1.0)).clamp(0.0, 1.0);
                match self.shape {
                    LrShape::OneCycle => self.base * (1.0 - p),
                    _ => self.base * (1.0 + (std::f64::consts::PI * p).cos()) / 2.0,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(shape: LrShape) -> LrSchedule {
        LrSchedule { base: 0.01, shape, warmup_epochs: 0.5, epochs: 3 }
    }

    #[test]
    fn warm_up_climbs_to_the_base_rate_then_cosine_ends_near_zero() {
        let s = schedule(LrShape::Cosine);
        // 100 steps an epoch: 50 warm-up steps, 300 in all.
        assert!((s.at(0, 0, 100) - 0.01 / 50.0).abs() < 1e-15, "the first step moves");
        assert!((s.at(0, 24, 100) - 0.01 * 25.0 / 50.0).abs() < 1e-15);
        assert_eq!(s.at(0, 49, 100), 0.01, "the warm-up's last step is at the base rate");
        assert_eq!(s.at(0, 50, 100), 0.01, "and so is the decay's first");
        let last = s.at(2, 99, 100);
        assert!(last > 0.0 && last < 0.01 * 1e-3, "the last step is just above 0: {last}");
        let mid = s.at(1, 75, 100);
        assert!((mid - 0.005).abs() < 1e-12, "halfway through the decay, half the rate: {mid}");
        let all: Vec<f64> = (50..300).map(|i| s.at(i / 100, i % 100, 100)).collect();
        assert!(all.windows(2).all(|w| w[1] < w[0]), "decreasing after the warm-up");
    }

    #[test]
    fn constant_keeps_the_base_rate_and_no_warm_up_starts_there() {
        let s = schedule(LrShape::Constant);
        assert_eq!(s.at(2, 99, 100), 0.01);
        assert_eq!(s.at(0, 10, 100), 0.01 * 11.0 / 50.0);
        let plain = LrSchedule { warmup_epochs: 0.0, ..s };
        assert_eq!(plain.at(0, 0, 100), 0.01);
        let cosine = LrSchedule { shape: LrShape::Cosine, ..plain };
        assert_eq!(cosine.at(0, 0, 100), 0.01);
        // A warm-up as long as the run: it climbs to the last step.
        let all_warm = LrSchedule { warmup_epochs: 3.0, ..cosine };
        assert_eq!(all_warm.at(2, 99, 100), 0.01);
    }

    #[test]
    fn one_cycle_climbs_then_falls_in_a_straight_line_to_just_above_zero() {
        let s = schedule(LrShape::OneCycle);
        assert_eq!(s.at(0, 49, 100), 0.01, "the peak at the warm-up's end");
        // 250 steps after the warm-up: each takes 1/250 of the peak off.
        assert!((s.at(1, 75, 100) - 0.005).abs() < 1e-12, "halfway, half the rate");
        let all: Vec<f64> = (50..300).map(|i| s.at(i / 100, i % 100, 100)).collect();
        let drops: Vec<f64> = all.windows(2).map(|w| w[0] - w[1]).collect();
        assert!(drops.iter().all(|d| (d - 0.01 / 250.0).abs() < 1e-12), "a straight line");
        let last = s.at(2, 99, 100);
        assert!((last - 0.01 / 250.0).abs() < 1e-12, "the last step is just above 0: {last}");
        // Below the cosine early in the decay, above it late.
        assert!(s.at(1, 0, 100) < schedule(LrShape::Cosine).at(1, 0, 100));
        assert!(s.at(2, 80, 100) > schedule(LrShape::Cosine).at(2, 80, 100));
    }
}
