//! Watching the loss for a run that is not learning, to say so once.

/// Watches the loss for a run that is not learning: the mean of the first steps, a moving
/// average since, and whether the user was told.
#[derive(Clone, Debug, Default)]
pub(super) struct LossWatch {
    start: Vec<f32>,
    average: Option<f32>,
    warned: bool,
}

impl LossWatch {
    const START_STEPS: usize = 10;
    const AFTER_STEPS: usize = 60;

    /// A warning, once, when the loss still averages well above its start.
    pub(super) fn see(&mut self, loss: f32, steps: usize, learning_rate: f64) -> Option<String> {
        if self.start.len() < Self::START_STEPS {
            self.start.push(loss);
        }
        let average = self.average.map_or(loss, |a| 0.95 * a + 0.05 * loss);
        self.average = Some(average);
        let start = self.start.iter().sum::<f32>() / self.start.len() as f32;
        if self.warned || steps < Self::AFTER_STEPS || average < 1.5 * start {
            return None;
        }
        self.warned = true;
        Some(format!(
            "after {steps} steps the loss ({average:.3}) is still far above where it started ({start:.3}): the learning rate ({learning_rate}) is probably too high; pause and lower it"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::LossWatch;

    #[test]
    fn a_loss_far_above_its_start_is_said_once() {
        let mut watch = LossWatch::default();
        let said: Vec<Option<String>> =
            (1..=200).map(|step| watch.see(if step <= 10 { 2.3 } else { 33.0 }, step, 10.0)).collect();
        let warnings: Vec<_> = said.iter().enumerate().filter_map(|(i, w)| w.as_ref().map(|w| (i + 1, w))).collect();
        assert_eq!(warnings.len(), 1, "once");
        assert_eq!(warnings[0].0, LossWatch::AFTER_STEPS, "not before {} steps", LossWatch::AFTER_STEPS);
        assert!(warnings[0].1.contains("learning rate (10) is probably too high"), "{}", warnings[0].1);
        let mut learning = LossWatch::default();
        assert!((1..=200).all(|step| learning.see(2.3 / step as f32, step, 0.002).is_none()));
    }
}
