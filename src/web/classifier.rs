//! The classifier: what it says of an image, its card and exports, a checkpoint read and made the classifier, its logits.

use super::*;

#[wasm_bindgen]
impl Session {
    /// Top `k` of an image file by the classifier, with its time; while the classifier is the
    /// trainer's fused form, also the trained net's answer and time.
    pub async fn classify(&self, bytes: Vec<u8>, k: usize) -> Result<Ts<Classification>, JsError> {
        let classifier = self.held_classifier()?;
        let k = k.min(classifier.card.classes.len());
        let result: crate::Result<Classification> = match (&self.trainer, self.classifier_from_trainer) {
            (Some(trainer), true) => trainer.compare(classifier, &bytes, k).await,
            _ => classifier.classify(&bytes, k, &self.device).await,
        };
        js(&result.map_err(err)?)
    }

    /// The classifier's card and sizes, or null.
    #[wasm_bindgen(unchecked_return_type = "ClassifierInfo | null")]
    pub fn classifier(&self) -> Result<JsValue, JsError> {
        match &self.classifier {
            Some(c) => plain(&ClassifierInfo::of(c, self.classifier_from_trainer).map_err(err)?),
            None => Ok(JsValue::NULL),
        }
    }

    /// The classifier as one safetensors file: official deploy key names, the model card
    /// (JSON: architecture, classes, preprocessing, form) in the header's metadata.
    #[wasm_bindgen(js_name = exportModel)]
    pub async fn export_model(&self) -> Result<Vec<u8>, JsError> {
        self.held_classifier()?.to_safetensors().await.map_err(err)
    }

    /// The classifier as an ONNX model (opset 13): input `input`, output `logits`.
    #[wasm_bindgen(js_name = exportOnnx)]
    pub async fn export_onnx(&self) -> Result<Vec<u8>, JsError> {
        self.held_classifier()?.to_onnx().await.map_err(err)
    }

    /// Reads an uploaded checkpoint (safetensors or `.pth`; nothing in it is executed) and says
    /// what it holds: the card of a file of ours, or what the tensors tell (widths, act_num,
    /// classes, candidate variants) of any other VanillaNet checkpoint.
    #[wasm_bindgen(js_name = loadCheckpoint)]
    pub fn load_checkpoint(&mut self, upload: Upload) -> Result<Ts<CheckpointRead>, JsError> {
        let sd = StateDict::from_bytes(upload.bytes).map_err(err)?;
        let detected = Classifier::inspect(&sd).map_err(err)?;
        // A card that does not read is no card here: the tensors still tell what they can.
        let card = ModelCard::read(&sd).ok().flatten();
        let ambiguous = detected.as_ref().is_some_and(|d| d.ambiguous() || d.candidates.is_empty());
        self.checkpoint = Some(sd);
        js(&CheckpointRead { card, detected, ambiguous })
    }

    /// Makes the read checkpoint the classifier (fused if in training form): `variant` or
    /// `strides` settle what the tensors can't tell. Answers the new classifier's card and
    /// sizes. A failure keeps the classifier there was.
    #[wasm_bindgen(js_name = useCheckpoint)]
    pub fn use_checkpoint(
        &mut self,
        variant: Option<String>,
        strides: Option<Vec<usize>>,
    ) -> Result<Ts<ClassifierInfo>, JsError> {
        let sd = self.checkpoint.as_ref().ok_or_else(|| err("no checkpoint read"))?;
        let classifier = Classifier::from_checkpoint(sd, variant.as_deref(), strides, &self.device).map_err(err)?;
        let info = js(&ClassifierInfo::of(&classifier, false).map_err(err)?)?;
        self.set_classifier(classifier, false);
        self.checkpoint = None;
        Ok(info)
    }

    /// The classifier's logits (`[batch, classes]`, flat) for preprocessed inputs `[batch,
    /// channels, height, width]` (flat): for comparing with other runtimes.
    pub async fn logits(&self, values: Vec<f32>, batch: usize) -> Result<Vec<f32>, JsError> {
        let classifier = self.held_classifier()?;
        let p = &classifier.card.preprocess;
        let shape = [batch, p.channels, p.height, p.width];
        if values.len() != shape.iter().product::<usize>() {
            return Err(err(format!("{} values for an input of shape {shape:?}", values.len())));
        }
        let x = Tensor::<4>::from_data(TensorData::new(values, shape), &self.device);
        classifier.logits(x).await.map_err(err)
    }
}
