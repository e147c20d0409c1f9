//! The classifier's calls: what it says of an image, its card and exports, a checkpoint read and
//! made the classifier, its warm-up, its logits.

use tsify::Ts;
use wasm_bindgen::prelude::*;

use super::{Session, Upload, err, js, plain};
use crate::classify::Classification;
use crate::session::{CheckpointRead, ClassifierInfo};

#[wasm_bindgen]
impl Session {
    /// Top `k` of an image file by the classifier, with its time; while the classifier is the
    /// trainer's fused form, also the trained net's answer and time.
    pub async fn classify(&self, bytes: Vec<u8>, k: usize) -> Result<Ts<Classification>, JsError> {
        js(&self.inner.classify(&bytes, k).await.map_err(err)?)
    }

    /// The classifier's card and sizes, and where it came from, or null.
    #[wasm_bindgen(unchecked_return_type = "ClassifierInfo | null")]
    pub fn classifier(&self) -> Result<JsValue, JsError> {
        plain(&self.inner.classifier_info().map_err(err)?)
    }

    /// The classifier as one safetensors file (official deploy key names, the card).
    #[wasm_bindgen(js_name = exportModel)]
    pub async fn export_model(&self) -> Result<Vec<u8>, JsError> {
        self.inner.export_model().await.map_err(err)
    }

    /// The classifier as an ONNX model (opset 13): input `input`, output `logits`.
    #[wasm_bindgen(js_name = exportOnnx)]
    pub async fn export_onnx(&self) -> Result<Vec<u8>, JsError> {
        self.inner.export_onnx().await.map_err(err)
    }

    /// Reads an uploaded checkpoint and says what it holds.
    #[wasm_bindgen(js_name = loadCheckpoint)]
    pub fn load_checkpoint(&mut self, upload: Upload) -> Result<Ts<CheckpointRead>, JsError> {
        js(&self.inner.load_checkpoint(upload.into_bytes()).map_err(err)?)
    }

    /// Makes the read checkpoint the classifier: `variant` or `strides` settle what the tensors
    /// can't tell. A failure keeps the classifier there was.
    #[wasm_bindgen(js_name = useCheckpoint)]
    pub fn use_checkpoint(
        &mut self,
        variant: Option<String>,
        strides: Option<Vec<usize>>,
    ) -> Result<Ts<ClassifierInfo>, JsError> {
        js(&self.inner.use_checkpoint(variant.as_deref(), strides).map_err(err)?)
    }

    /// Runs a new classifier once on WebGPU, so that its shaders are compiled before the first
    /// image (nothing on the CPU).
    #[wasm_bindgen(js_name = warmUp)]
    pub async fn warm_up(&self) -> Result<(), JsError> {
        self.inner.warm_up().await.map_err(err)
    }

    /// The classifier's logits (`[batch, classes]`, flat) for preprocessed inputs `[batch,
    /// channels, height, width]` (flat).
    pub async fn logits(&self, values: Vec<f32>, batch: usize) -> Result<Vec<f32>, JsError> {
        self.inner.logits(values, batch).await.map_err(err)
    }
}
