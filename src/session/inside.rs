//! Inside the trainer's net, for the page: the watched channel's activation response, the
//! decay probed so far and how often, the feature maps of one image, the fusion of one part.

use crate::model::Weights;
use crate::session::Session;
use crate::session::answers::ActivationResponse;
use crate::session::current::Current;
use crate::session::error::{Result, SessionError};
use crate::session::events::Event;
use crate::session::jobs::{Watched, activation_inputs};
use crate::train::inside::{
    DecayHistory, FeatureMaps, FusionView, MAX_EVERY, MapsImage, activation_response, fusion_of_part, maps_of_image,
};

impl Session {
    /// The learned series activation of a layer's channel (stem 0, block `layer - 1`): its
    /// response to `inputs`, and its kernel.
    pub async fn activation(&self, layer: usize, channel: usize, inputs: &[f32]) -> Result<ActivationResponse> {
        let net = self.trainer()?.trained_net(Weights::Trained)?;
        let (curve, kernel) = activation_response(&net, layer, channel, inputs).await?;
        Ok(ActivationResponse { curve, kernel })
    }

    /// Watches another channel's activation: told now when there is a trainer, and as it trains.
    pub async fn watch(&mut self, layer: usize, channel: usize) {
        self.jobs.watched = Watched { layer, channel };
        if self.trainer.is_some() {
            self.send_activation().await;
        }
    }

    /// Tells the watched activation's response (a failure is told, not thrown: training goes on).
    pub(crate) async fn send_activation(&mut self) {
        let Watched { layer, channel } = self.jobs.watched;
        let inputs = activation_inputs();
        let event = match self.activation(layer, channel, &inputs).await {
            Ok(r) => Event::Activation { layer, channel, inputs, curve: r.curve, kernel: r.kernel },
            Err(e) => Event::Error { key: Some("activation.failed"), message: e.to_string() },
        };
        self.emit(event);
    }

    /// The leaky activations' decay probed so far; none without a trainer.
    pub fn decay(&self) -> Option<&DecayHistory> {
        self.trainer.as_ref().map(|t| t.decay())
    }

    /// Probes the decay every `every` steps from now on (0: not at all), this trainer and the
    /// ones made later.
    pub fn set_probe_every(&mut self, every: usize) -> Result<()> {
        if every > MAX_EVERY {
            return Err(SessionError::Refused(format!("probe interval {every}: at most {MAX_EVERY} steps")));
        }
        if let Some(trainer) = &mut self.trainer {
            trainer.set_probe_every(every)?;
        }
        self.jobs.probe_every = Some(every);
        Ok(())
    }

    /// The feature maps after part `block` (0 the stem) of test image `index`, or of an image
    /// file's `bytes`, of the trained net (the weights the classifier is fused from, else the
    /// default ones) or, with `fused`, of its fused form with their largest difference. The
    /// index is a u64 so that one past a 32-bit usize (wasm's) is refused, not wrapped.
    pub async fn feature_maps(
        &self,
        index: Option<u64>,
        bytes: Option<&[u8]>,
        block: usize,
        fused: bool,
        tiles: Option<usize>,
    ) -> Result<FeatureMaps> {
        let trainer = self.trainer()?;
        let image = match (index, bytes) {
            (Some(i), None) => MapsImage::Test(usize::try_from(i).map_err(|_| {
                SessionError::Refused(format!(
                    "there is no test image {i}: the test set has {}",
                    trainer.data().test.len()
                ))
            })?),
            (None, Some(b)) => MapsImage::File(b),
            _ => return Err(SessionError::Refused("give a test image index or an image file, one of them".into())),
        };
        let classifier = match fused {
            false => None,
            true => Some(Current::fused_from_trainer(self.classifier.as_ref()).ok_or(SessionError::NoFusedForm)?),
        };
        let weights = classifier.and_then(|c| c.card.weights).unwrap_or(trainer.default_weights());
        let net = trainer.trained_net(weights)?;
        Ok(maps_of_image(&net, classifier.map(|c| &c.model), image, block, tiles).await?)
    }

    /// The fusion of part `part` (0 the stem, 1..=blocks a block, blocks + 1 the head) of the
    /// default weights (what Fuse takes), as matrices.
    pub async fn fusion(&self, part: usize) -> Result<FusionView> {
        let trainer = self.trainer()?;
        Ok(fusion_of_part(&trainer.trained_net(trainer.default_weights())?, part).await?)
    }
}
