//! Inside the net: the decay probed so far, feature maps of one image, the fusion of one part.

use super::*;

#[wasm_bindgen]
impl Session {
    /// The leaky activations' decay probed so far.
    #[wasm_bindgen(js_name = insideDecay)]
    pub fn inside_decay(&self) -> Result<Ts<DecayHistory>, JsError> {
        js(self.trainer()?.decay())
    }

    /// Probes the decay every `every` steps from now on (0: not at all).
    #[wasm_bindgen(js_name = setProbeEvery)]
    pub fn set_probe_every(&mut self, every: usize) -> Result<(), JsError> {
        self.trainer_mut()?.set_probe_every(every).map_err(err)
    }

    /// The feature maps after part `block` (0 the stem) of test image `index`, or of an image
    /// file's `bytes` (preprocessed as the training images). `fused`: the fused form's maps,
    /// with their largest difference to the trained net's.
    #[wasm_bindgen(js_name = featureMaps)]
    pub async fn feature_maps(
        &self,
        index: Option<usize>,
        bytes: Option<Vec<u8>>,
        block: usize,
        fused: bool,
        tiles: Option<usize>,
    ) -> Result<Ts<FeatureMaps>, JsError> {
        use crate::train::trainer::ProbeImage;
        let trainer = self.trainer()?;
        let image = match (&index, &bytes) {
            (Some(i), None) => ProbeImage::Test(*i),
            (None, Some(b)) => ProbeImage::File(b),
            _ => return Err(err("give a test image index or an image file, one of them")),
        };
        let classifier = match (fused, self.classifier_from_trainer) {
            (false, _) => None,
            (true, true) => self.classifier.as_ref(),
            (true, false) => return Err(err("no fused form of the trained net: fuse it first")),
        };
        js(&trainer.feature_maps(image, block, tiles, classifier).await.map_err(err)?)
    }

    /// The fusion of part `part` (0 the stem, 1..=blocks a block, blocks + 1 the head) as
    /// matrices.
    pub async fn fusion(&self, part: usize) -> Result<Ts<FusionView>, JsError> {
        js(&self.trainer()?.fusion(part).await.map_err(err)?)
    }
}
