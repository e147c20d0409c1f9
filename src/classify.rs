//! A deployed classifier: the fused net with its card (architecture, class names,
//! preprocessing). It is made by fusing a trained net or from any checkpoint file, is saved as
//! one safetensors file (official deploy key names, the card in the metadata) or as ONNX, and
//! classifies image files the same way in the page and in the CLI.

use burn::tensor::{Device, Tensor, TensorData, activation::softmax};
use serde::{Deserialize, Serialize};

use crate::data::preprocess::Preprocess;
use crate::error::Result;
use crate::io::card::{ModelCard, default_classes};
use crate::io::detect::{Detected, detect};
use crate::io::names::{check_shapes, load_state, state_dict_async};
use crate::io::state_dict::StateDict;
use crate::model::Form;
use crate::model::VanillaNetDeploy;
use crate::model::config::VanillaNetConfig;
use crate::readback::{read_vec, top_k};

/// One class and its probability.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
pub struct Prediction {
    pub label: String,
    pub probability: f32,
}

/// Top-k of one image by the fused model and, while the trained one is at hand, by it too.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct Classification {
    pub top: Vec<Prediction>,
    pub ms: f64,
    pub top_unfused: Option<Vec<Prediction>>,
    pub ms_unfused: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct Classifier {
    pub card: ModelCard,
    pub model: VanillaNetDeploy,
}

impl Classifier {
    /// A named model with random weights, fused, with the ImageNet preprocessing at `size`:
    /// for benchmarks against other runtimes on the same weights.
    pub fn random(model: &str, size: usize, device: &Device) -> Result<Classifier> {
        let config = VanillaNetConfig::named(model)?;
        // The side first: its bound keeps the sizes below from overflowing, and the inputs
        // made later (an image, a benchmark's batch) from allocating without bound.
        let preprocess = Preprocess::imagenet(size, config.in_chans);
        preprocess.validate()?;
        config.feature_sizes(size, size)?;
        let fused = config.init(device).fuse(1.0)?;
        let classes = default_classes(config.num_classes);
        let card = ModelCard::new(format!("{model} (random weights)"), config, classes, preprocess, Form::Deploy);
        Ok(Classifier { card, model: fused })
    }

    /// A checkpoint file's classifier: as its card says, or for any other VanillaNet state
    /// dict (official `.pth`, safetensors) with the architecture from its tensors (`variant` or
    /// `strides` settle what they can't tell), ImageNet's classes and the official evaluation
    /// preprocessing at 224. Training-form tensors are fused.
    pub fn from_checkpoint(
        sd: &StateDict,
        variant: Option<&str>,
        strides: Option<Vec<usize>>,
        device: &Device,
    ) -> Result<Self> {
        Self::load(ModelCard::of_checkpoint(sd, variant, strides)?, sd, device)
    }

    /// The net `card` describes, with the tensors of `sd`, fused if they are in training form.
    pub fn load(mut card: ModelCard, sd: &StateDict, device: &Device) -> Result<Self> {
        let a = &card.architecture;
        check_shapes(a, sd)?;
        let model = match sd.form()? {
            // Released checkpoints end deep training at lambda = 1 (it is not stored).
            Form::Training => load_state(a.init(device), sd, device)?.fuse(1.0)?,
            Form::Deploy => load_state(a.init_deploy(device), sd, device)?,
        };
        card.form = Form::Deploy;
        Ok(Self { card, model })
    }

    /// What the tensors of a foreign checkpoint (one without a card: None for ours) say, for
    /// asking the user what they can't.
    pub fn detect_foreign(sd: &StateDict) -> Result<Option<Detected>> {
        if ModelCard::read(sd)?.is_some() { Ok(None) } else { detect(sd).map(Some) }
    }

    /// The safetensors file: deploy-form tensors with official names, the card in the metadata.
    /// The same classifier on another device, through the file form: the very bytes an export
    /// gives, read there (awaited reads, so it works from WebGPU).
    pub async fn to_device(&self, device: &Device) -> Result<Classifier> {
        let sd = StateDict::from_bytes(self.to_safetensors().await?)?;
        Classifier::from_checkpoint(&sd, None, None, device)
    }

    pub async fn to_safetensors(&self) -> Result<Vec<u8>> {
        let mut sd = state_dict_async(&self.model).await?;
        self.card.attach(&mut sd)?;
        sd.to_safetensors()
    }

    /// The ONNX model (opset 13), the card in its metadata under the same key.
    pub async fn to_onnx(&self) -> Result<Vec<u8>> {
        crate::io::onnx::export(&self.card, &self.model).await
    }

    /// Logits of preprocessed inputs `[batch, channels, height, width]`, read back.
    pub async fn logits(&self, x: Tensor<4>) -> Result<Vec<f32>> {
        read_vec(self.model.forward(x).flatten::<1>(0, 1)).await
    }

    /// One image file as the net's input `[1, channels, height, width]`, preprocessed as the
    /// card says.
    pub fn input(&self, bytes: &[u8], device: &Device) -> Result<Tensor<4>> {
        let p = &self.card.preprocess;
        Ok(Tensor::from_data(TensorData::new(p.input(bytes)?, [1, p.channels, p.height, p.width]), device))
    }

    /// Class probabilities of a preprocessed input, with the milliseconds the net took
    /// (readback included).
    pub async fn probabilities(&self, x: Tensor<4>) -> Result<(Vec<f32>, f64)> {
        let start = web_time::Instant::now();
        let probs = read_vec(softmax(self.model.forward(x), 1).flatten::<1>(0, 1)).await?;
        Ok((probs, start.elapsed().as_secs_f64() * 1e3))
    }

    /// Top `k` of an image file, with the milliseconds the net took.
    pub async fn classify(&self, bytes: &[u8], k: usize, device: &Device) -> Result<Classification> {
        let (probs, ms) = self.probabilities(self.input(bytes, device)?).await?;
        Ok(Classification { top: self.top(&probs, k), ms, top_unfused: None, ms_unfused: None })
    }

    /// The `k` most probable classes, by name.
    pub fn top(&self, probs: &[f32], k: usize) -> Vec<Prediction> {
        top_k(probs, k)
            .into_iter()
            .map(|i| Prediction { label: self.card.classes[i].clone(), probability: probs[i] })
            .collect()
    }
}
