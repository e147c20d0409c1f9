//! The deep-training schedule of lambda, the slope of the leaky activations: 0 (ReLU) at the
//! start, 1 (identity) after `decay_epochs`, when the net can be fused.

use serde::{Deserialize, Serialize};

use crate::train::lr::LrSchedule;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[cfg_attr(not(target_arch = "wasm32"), derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum LambdaShape {
    /// `lambda = t`, the official `--decay_linear`.
    Linear,
    /// `lambda = (1 - cos(pi t)) / 2`, the official default.
    Cosine,
}

impl LambdaShape {
    pub const ALL: [LambdaShape; 2] = [LambdaShape::Cosine, LambdaShape::Linear];
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
pub struct LambdaSchedule {
    pub shape: LambdaShape,
    /// Epochs until lambda reaches 1 (`--decay_epochs`).
    pub decay_epochs: usize,
    /// Official: lambda is set once per epoch and stays flat within it. Per-step moves it
    /// smoothly, `t` counting fractional epochs.
    pub per_step: bool,
}

impl LambdaSchedule {
    pub fn per_epoch(shape: LambdaShape, decay_epochs: usize) -> Self {
        Self { shape, decay_epochs, per_step: false }
    }

    pub fn per_step(shape: LambdaShape, decay_epochs: usize) -> Self {
        Self { shape, decay_epochs, per_step: true }
    }

    /// Lambda for step `step` (0-based) of epoch `epoch` (0-based).
    pub fn at(&self, epoch: usize, step: usize, steps_per_epoch: usize) -> f64 {
        if self.decay_epochs == 0 {
            return 1.0;
        }
        let progress = if self.per_step && steps_per_epoch > 0 {
            epoch as f64 + step.min(steps_per_epoch) as f64 / steps_per_epoch as f64
        } else {
            epoch as f64
        };
        let t = (progress / self.decay_epochs as f64).clamp(0.0, 1.0);
        match self.shape {
            LambdaShape::Linear => t,
            LambdaShape::Cosine => (1.0 - (std::f64::consts::PI * t).cos()) / 2.0,
        }
    }
}

/// The schedules sampled for a chart: x in fractional epochs, lambda and the learning rate at
/// each (the learning rate empty when not asked for).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct Curve {
    pub epochs: Vec<f64>,
    pub lambda: Vec<f64>,
    pub learning_rate: Vec<f64>,
    pub steps_per_epoch: usize,
}

impl LambdaSchedule {
    /// Lambda over `epochs` epochs of `steps_per_epoch` steps, at most about `max_points`
    /// points (at most 40 an epoch, at least one), and at the end.
    pub fn sample(&self, epochs: usize, steps_per_epoch: usize, max_points: usize) -> Curve {
        let per_epoch = (max_points / epochs.max(1)).clamp(1, 40);
        let (mut xs, mut lambda) = (Vec::new(), Vec::new());
        for epoch in 0..epochs {
            for k in 0..per_epoch {
                xs.push(epoch as f64 + k as f64 / per_epoch as f64);
                lambda.push(self.at(epoch, k * steps_per_epoch / per_epoch, steps_per_epoch));
            }
        }
        xs.push(epochs as f64);
        lambda.push(self.at(epochs, 0, steps_per_epoch));
        Curve { epochs: xs, lambda, learning_rate: Vec::new(), steps_per_epoch }
    }

    /// Lambda and the learning rate over `lr`'s epochs, on the same points (see
    /// [`Self::sample`]); the end takes the last step's learning rate.
    pub fn sample_with(&self, lr: &LrSchedule, steps_per_epoch: usize, max_points: usize) -> Curve {
        let mut curve = self.sample(lr.epochs, steps_per_epoch, max_points);
        let per_epoch = (max_points / lr.epochs.max(1)).clamp(1, 40);
        for epoch in 0..lr.epochs {
            for k in 0..per_epoch {
                curve.learning_rate.push(lr.at(epoch, k * steps_per_epoch / per_epoch, steps_per_epoch));
            }
        }
        let last = steps_per_epoch.max(1) - 1;
        curve.learning_rate.push(lr.at(lr.epochs.max(1) - 1, last, steps_per_epoch));
        curve
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_sampled_schedule_is_bounded_and_ends_at_one() {
        let s = LambdaSchedule::per_step(LambdaShape::Linear, 2);
        let c = s.sample(4, 100, 2000);
        assert_eq!(c.epochs.len(), 4 * 40 + 1, "at most 40 points an epoch");
        assert_eq!((c.lambda[0], *c.lambda.last().unwrap()), (0.0, 1.0));
        assert_eq!(s.sample(1000, 10, 2000).epochs.len(), 1000 * 2 + 1, "about max_points");
        assert_eq!(s.sample(100_000, 10, 2000).epochs.len(), 100_000 + 1, "at least one an epoch");
    }

    #[test]
    fn the_learning_rate_is_sampled_on_lambdas_points() {
        use crate::train::lr::{LrSchedule, LrShape};
        let lr = LrSchedule { base: 0.01, shape: LrShape::Cosine, warmup_epochs: 1.0, epochs: 4 };
        let c = LambdaSchedule::per_step(LambdaShape::Linear, 2).sample_with(&lr, 100, 2000);
        assert_eq!(c.learning_rate.len(), c.epochs.len());
        assert_eq!(c.learning_rate[0], 0.01 / 100.0, "the warm-up's first step");
        assert_eq!(c.learning_rate[40], 0.01, "one epoch in: the warm-up's end");
        assert!(*c.learning_rate.last().unwrap() < 1e-5, "about 0 at the end");
    }

    use super::*;
    use std::f64::consts::PI;

    #[test]
    fn official_per_epoch_linear_and_cosine() {
        let e = 8;
        for epoch in 0..12 {
            let t = (epoch as f64 / e as f64).min(1.0);
            for step in [0, 5, 99] {
                assert_eq!(LambdaSchedule::per_epoch(LambdaShape::Linear, e).at(epoch, step, 100), t);
                let cos = LambdaSchedule::per_epoch(LambdaShape::Cosine, e).at(epoch, step, 100);
                assert!((cos - (1.0 - (PI * t).cos()) / 2.0).abs() < 1e-15);
            }
        }
        assert_eq!(LambdaSchedule::per_epoch(LambdaShape::Cosine, e).at(0, 0, 10), 0.0);
        assert_eq!(LambdaSchedule::per_epoch(LambdaShape::Cosine, e).at(e, 0, 10), 1.0);
        assert_eq!(LambdaSchedule::per_epoch(LambdaShape::Linear, e).at(e + 5, 0, 10), 1.0);
    }

    #[test]
    fn per_step_moves_within_an_epoch_and_meets_per_epoch_at_boundaries() {
        let s = LambdaSchedule::per_step(LambdaShape::Linear, 4);
        assert_eq!(s.at(1, 50, 100), 1.5 / 4.0);
        let c = LambdaSchedule::per_step(LambdaShape::Cosine, 4);
        let official = LambdaSchedule::per_epoch(LambdaShape::Cosine, 4);
        for epoch in 0..6 {
            assert!((c.at(epoch, 0, 100) - official.at(epoch, 0, 100)).abs() < 1e-15);
        }
        let values: Vec<f64> = (0..400).map(|i| c.at(i / 100, i % 100, 100)).collect();
        assert!(values.windows(2).all(|w| w[1] > w[0]), "strictly increasing while annealing");
        assert_eq!(c.at(4, 0, 100), 1.0);
    }

    #[test]
    fn no_decay_means_identity_from_the_start() {
        assert_eq!(LambdaSchedule::per_step(LambdaShape::Cosine, 0).at(0, 0, 10), 1.0);
    }
}
