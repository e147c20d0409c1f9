//! Inside the net's calls: the watched activation, the decay probed so far and how often, the
//! feature maps of one image, the fusion of one part.

use tsify::Ts;
use wasm_bindgen::prelude::*;

use super::{Session, err, js, plain};
use crate::train::inside::{FeatureMaps, FusionView};

#[wasm_bindgen]
impl Session {
    /// Watches a layer's channel: its activation is told (an `activation` event) now and as it trains.
    pub async fn watch(&mut self, layer: usize, channel: usize) {
        self.inner.watch(layer, channel).await;
    }

    /// The leaky activations' decay probed so far; null without a trainer.
    #[wasm_bindgen(js_name = insideDecay, unchecked_return_type = "DecayHistory | null")]
    pub fn inside_decay(&self) -> Result<JsValue, JsError> {
        plain(&self.inner.decay())
    }

    /// Probes the decay every `every` steps from now on (0: not at all), for later trainers too.
    #[wasm_bindgen(js_name = setProbeEvery)]
    pub fn set_probe_every(&mut self, every: usize) -> Result<(), JsError> {
        self.inner.set_probe_every(every).map_err(err)
    }

    /// The feature maps after part `block` (0 the stem) of test image `index`, or of an image
    /// file's `bytes`; `fused`: the fused form's, with their largest difference. The index comes
    /// as the JS number it is: a usize here is 32 bits, and wasm-bindgen would wrap 2 ** 32 + 7
    /// to 7 (and 2 ** 53 to 0), answering for an image that was not asked for.
    #[wasm_bindgen(js_name = featureMaps)]
    pub async fn feature_maps(
        &self,
        index: Option<f64>,
        bytes: Option<Vec<u8>>,
        block: usize,
        fused: bool,
        tiles: Option<usize>,
    ) -> Result<Ts<FeatureMaps>, JsError> {
        let index = index.map(test_image_index).transpose()?;
        js(&self.inner.feature_maps(index, bytes.as_deref(), block, fused, tiles).await.map_err(err)?)
    }

    /// The fusion of part `part` (0 the stem, 1..=blocks a block, blocks + 1 the head).
    pub async fn fusion(&self, part: usize) -> Result<Ts<FusionView>, JsError> {
        js(&self.inner.fusion(part).await.map_err(err)?)
    }
}

/// A test image's index from a JS number: whole and not negative (inside.js says so in the
/// page's words first); one past u64 saturates, refused as past the test set all the same.
fn test_image_index(number: f64) -> Result<u64, JsError> {
    if number.is_nan() || number < 0.0 || number.fract() != 0.0 {
        return Err(JsError::new(&format!("the test image index must be a whole number from 0, not {number}")));
    }
    Ok(number as u64)
}
