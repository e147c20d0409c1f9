//! A deployed classifier: the fused net with what it takes to read a photo (its architecture,
//! class names and preprocessing). It is made by fusing a trained net or from a checkpoint
//! file, and saved as one safetensors file: official deploy key names for the tensors, the
//! [`ModelCard`] as JSON in the header's metadata.

use burn::tensor::{Device, Tensor, TensorData, activation::softmax};
use serde::{Deserialize, Serialize};

use crate::config::VanillaNetConfig;
use crate::detect::{Detected, detect};
use crate::error::{Error, Result};
use crate::model::VanillaNetDeploy;
use crate::preprocess::Preprocess;
use crate::state_dict::{Layout, StateDict};
use crate::weights::{load_state, state_dict_async};

/// The safetensors metadata key that holds the card.
pub const CARD_KEY: &str = "vanillanet";
pub const CARD_FORMAT: &str = "vanillanet-classifier/1";

/// The small JSON that travels with the weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelCard {
    pub format: String,
    /// What it is, for people: "vanillanet_5 (official)", "small_28 on fashion-mnist".
    pub name: String,
    #[serde(deserialize_with = "crate::config::with_ablation_defaults")]
    pub architecture: VanillaNetConfig,
    pub classes: Vec<String>,
    pub preprocess: Preprocess,
}

impl ModelCard {
    pub fn new(name: String, architecture: VanillaNetConfig, classes: Vec<String>, preprocess: Preprocess) -> Self {
        Self { format: CARD_FORMAT.into(), name, architecture, classes, preprocess }
    }

    pub fn validate(&self) -> Result<()> {
        if self.format != CARD_FORMAT {
            return Err(Error::Format(format!("model card format '{}', expected '{CARD_FORMAT}'", self.format)));
        }
        self.architecture.validate()?;
        self.preprocess.validate()?;
        let a = &self.architecture;
        if self.classes.len() != a.num_classes {
            return Err(Error::Format(format!("{} class names for {} classes", self.classes.len(), a.num_classes)));
        }
        if self.preprocess.channels != a.in_chans {
            return Err(Error::Format(format!(
                "preprocessing makes {} channels, the net takes {}",
                self.preprocess.channels, a.in_chans
            )));
        }
        a.feature_sizes(self.preprocess.height, self.preprocess.width)?;
        Ok(())
    }
}

/// One class and its probability.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub label: String,
    pub probability: f32,
}

#[derive(Clone, Debug)]
pub struct Classifier {
    pub card: ModelCard,
    pub model: VanillaNetDeploy,
}

/// Class names for a checkpoint that brings none: ImageNet's for 1000 classes.
fn default_classes(n: usize) -> Vec<String> {
    if n == 1000 {
        crate::imagenet::class_names().into_iter().map(String::from).collect()
    } else {
        (0..n).map(|i| format!("class {i}")).collect()
    }
}

impl Classifier {
    /// A checkpoint file's classifier: ours (card in the metadata) as it was saved; any other
    /// VanillaNet state_dict (official `.pth`, safetensors) with the architecture from its
    /// tensors (`variant` or `strides` settle what they can't tell), fused when in training
    /// form, with ImageNet's classes and evaluation preprocessing at 224.
    pub fn from_checkpoint(
        sd: &StateDict,
        variant: Option<&str>,
        strides: Option<Vec<usize>>,
        device: &Device,
    ) -> Result<Self> {
        if let Some(json) = sd.metadata.get(CARD_KEY) {
            let card: ModelCard =
                serde_json::from_str(json).map_err(|e| Error::Format(format!("unreadable model card: {e}")))?;
            card.validate()?;
            return Self::load(card, sd, device);
        }
        let detected = detect(sd)?;
        let architecture = detected.config(variant, strides)?;
        let name = match variant.or(detected.candidates.first().copied()) {
            Some(v) if architecture.strides == VanillaNetConfig::named(v)?.strides => v.to_string(),
            _ => format!("VanillaNet {:?}", architecture.dims),
        };
        let card = ModelCard::new(
            name,
            architecture.clone(),
            default_classes(architecture.num_classes),
            Preprocess::imagenet(224, architecture.in_chans),
        );
        Self::load(card, sd, device)
    }

    fn load(card: ModelCard, sd: &StateDict, device: &Device) -> Result<Self> {
        let a = &card.architecture;
        let model = match sd.layout()? {
            // Released checkpoints end deep training at lambda = 1 (it is not stored).
            Layout::Training => load_state(a.init(device), sd, device)?.fuse(1.0)?,
            Layout::Deploy => load_state(a.init_deploy(device), sd, device)?,
        };
        Ok(Self { card, model })
    }

    /// What the tensors of a foreign checkpoint say, for asking the user what they can't.
    pub fn inspect(sd: &StateDict) -> Result<Option<Detected>> {
        if sd.metadata.contains_key(CARD_KEY) { Ok(None) } else { detect(sd).map(Some) }
    }

    /// The safetensors file: deploy-form tensors with official names, the card in the metadata.
    pub async fn to_safetensors(&self) -> Result<Vec<u8>> {
        let mut sd = state_dict_async(&self.model).await?;
        let card = serde_json::to_string(&self.card).map_err(|e| Error::Format(e.to_string()))?;
        sd.metadata.insert(CARD_KEY.into(), card);
        sd.to_safetensors()
    }

    /// Logits of preprocessed inputs `[batch, channels, height, width]`, read back.
    pub async fn logits(&self, x: Tensor<4>) -> Result<Vec<f32>> {
        crate::trainer::read_vec(self.model.forward(x).flatten::<1>(0, 1)).await
    }

    /// One image file as the net's input `[1, channels, height, width]`, preprocessed as the
    /// card says.
    pub fn input(&self, bytes: &[u8], device: &Device) -> Result<Tensor<4>> {
        let p = &self.card.preprocess;
        Ok(Tensor::from_data(TensorData::new(p.input(bytes)?, [1, p.channels, p.height, p.width]), device))
    }

    /// Top `k` of an image file, with the milliseconds the net took (readback included).
    pub async fn classify(&self, bytes: &[u8], k: usize, device: &Device) -> Result<(Vec<Prediction>, f64)> {
        let x = self.input(bytes, device)?;
        let start = web_time::Instant::now();
        let probs = crate::trainer::read_vec(softmax(self.model.forward(x), 1).flatten::<1>(0, 1)).await?;
        let ms = start.elapsed().as_secs_f64() * 1e3;
        Ok((self.top(&probs, k), ms))
    }

    pub fn top(&self, probs: &[f32], k: usize) -> Vec<Prediction> {
        crate::trainer::top_k(probs, k)
            .into_iter()
            .map(|i| Prediction { label: self.card.classes[i].clone(), probability: probs[i] })
            .collect()
    }
}
