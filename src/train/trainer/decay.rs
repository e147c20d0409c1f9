//! The training loop's probes of the leaky activations' decay: the fixed batch they are made
//! on, how often, the history so far (see `train::inside` for what a probe is).

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use super::{StepReport, Trainer};
use crate::error::{Error, Result};
use crate::train::inside::{DecayHistory, DecayPoint, MAX_EVERY, PROBE_IMAGES, probe_decay};

impl Trainer {
    /// The fixed batch the decay is measured on: the first [`PROBE_IMAGES`] test images (the
    /// first training images when there are no test images).
    pub(super) fn probe_batch(&self, device: &Device) -> Tensor<4> {
        let split = if self.data.test.is_empty() { &self.data.train } else { &self.data.test };
        let indices: Vec<usize> = (0..split.len().min(PROBE_IMAGES)).collect();
        self.data.batch(split, &indices, device).0
    }

    /// The leaky activations' decay probed so far: per activation (stem, blocks, head) the
    /// share of negative inputs and the distance from linear, one value per probe.
    pub fn decay(&self) -> &DecayHistory {
        &self.inside
    }

    /// Probes the decay every `every` steps from now on (0: not at all); at most
    /// [`MAX_EVERY`].
    pub fn set_probe_every(&mut self, every: usize) -> Result<()> {
        if every > MAX_EVERY {
            return Err(Error::InvalidInput(format!("probe interval {every}: at most {MAX_EVERY} steps")));
        }
        self.inside.every = every;
        Ok(())
    }

    /// Probes the decay after the step `report` tells of, when one is due, and records it. An
    /// epoch's last probe is of the net as it stands then, at the next step's lambda (the one
    /// evaluation and fusion take): the run's last is at lambda 1 when annealing ends with it,
    /// not at its last step's. Within an epoch, at the step's lambda, as the net was trained.
    pub(super) async fn probe_after_step(&mut self, report: &StepReport) -> Result<Option<DecayPoint>> {
        if !self.inside.due(report.global_step, report.epoch_end) {
            return Ok(None);
        }
        let lambda = if report.epoch_end { self.lambda() } else { report.lambda };
        let device = self.device();
        let point = probe_decay(&self.model().valid(), self.probe_batch(&device), lambda, report.global_step).await?;
        if let Some(point) = &point {
            self.inside.push(point);
        }
        Ok(point)
    }

    /// The decay now, at the next step's lambda, without recording it (None without deep
    /// training).
    pub async fn decay_now(&self) -> Result<Option<DecayPoint>> {
        let device = self.device();
        probe_decay(&self.model().valid(), self.probe_batch(&device), self.lambda(), self.global_step).await
    }
}
