//! The model card: what every model file this project writes carries beside the tensors, under
//! one metadata key, so that every reader (the page, each CLI command, ONNX runtimes) runs the
//! net as it was trained: architecture, class names, preprocessing, and the form of the
//! tensors.

use serde::{Deserialize, Serialize};

use crate::data::imagenet;
use crate::data::preprocess::Preprocess;
use crate::error::{Error, Result};
use crate::io::detect::detect;
use crate::io::state_dict::StateDict;
pub use crate::model::Form;
pub use crate::model::Weights;
use crate::model::config::VanillaNetConfig;

/// The metadata key (safetensors header, ONNX `metadata_props`) that holds the card as JSON.
pub const CARD_KEY: &str = "vanillanet";
/// What `vanillanet fuse` and `train --output` wrote before the card: the architecture alone.
pub const LEGACY_CONFIG_KEY: &str = "vanillanet_config";
pub const CARD_FORMAT: &str = "vanillanet-classifier/1";

/// The small JSON that travels with the weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct ModelCard {
    pub format: String,
    /// What it is, for people: "vanillanet_5 (official)", "small_28 on fashion-mnist".
    pub name: String,
    #[serde(deserialize_with = "crate::model::config::with_ablation_defaults")]
    pub architecture: VanillaNetConfig,
    pub classes: Vec<String>,
    pub preprocess: Preprocess,
    #[serde(default)]
    pub form: Form,
    /// For a net trained here: which of the run's weights it holds, as trained or their moving
    /// average (absent in other nets' cards and in cards written before the average existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<Weights>,
}

/// Class names for a net that brings none: ImageNet's for 1000 classes, else numbered.
pub fn default_classes(n: usize) -> Vec<String> {
    if n == 1000 {
        imagenet::class_names().into_iter().map(String::from).collect()
    } else {
        (0..n).map(|i| format!("class {i}")).collect()
    }
}

impl ModelCard {
    pub fn new(
        name: String,
        architecture: VanillaNetConfig,
        classes: Vec<String>,
        preprocess: Preprocess,
        form: Form,
    ) -> Self {
        Self { format: CARD_FORMAT.into(), name, architecture, classes, preprocess, form, weights: None }
    }

    /// The same card, saying which of a run's weights the net holds.
    pub fn with_weights(self, weights: Weights) -> Self {
        Self { weights: Some(weights), ..self }
    }

    /// The card of a net that came without one: ImageNet's classes (for 1000) and the
    /// official evaluation preprocessing at 224 px.
    pub fn official(name: String, architecture: VanillaNetConfig, form: Form) -> Self {
        let (classes, preprocess) =
            (default_classes(architecture.num_classes), Preprocess::imagenet(224, architecture.in_chans));
        Self::new(name, architecture, classes, preprocess, form)
    }

    pub fn validate(&self) -> Result<()> {
        if self.format != CARD_FORMAT {
            return Err(Error::read(
                "model card",
                format!("model card format '{}', expected '{CARD_FORMAT}'", self.format),
            ));
        }
        self.architecture.validate()?;
        self.preprocess.validate()?;
        let a = &self.architecture;
        if self.classes.len() != a.num_classes {
            return Err(Error::read(
                "model card",
                format!("{} class names for {} classes", self.classes.len(), a.num_classes),
            ));
        }
        if self.preprocess.channels != a.in_chans {
            return Err(Error::read(
                "model card",
                format!("preprocessing makes {} channels, the net takes {}", self.preprocess.channels, a.in_chans),
            ));
        }
        a.feature_sizes(self.preprocess.height, self.preprocess.width)?;
        Ok(())
    }

    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| Error::encode("model card", e))
    }

    /// A card from its JSON, checked.
    pub fn from_json(json: &str) -> Result<Self> {
        let card: Self = serde_json::from_str(json).map_err(|e| Error::read("model card", e))?;
        card.validate()?;
        Ok(card)
    }

    /// The card a state dict carries, checked against its tensors' form; for an older file
    /// of ours, the one its `vanillanet_config` implies; none for anyone else's.
    pub fn read(sd: &StateDict) -> Result<Option<Self>> {
        let form = sd.form()?;
        if let Some(json) = sd.metadata.get(CARD_KEY) {
            let card = Self::from_json(json)?;
            if card.form != form {
                return Err(Error::read(
                    "model card",
                    format!("the model card says {:?} form but the tensors are in {form:?} form", card.form),
                ));
            }
            return Ok(Some(card));
        }
        if let Some(json) = sd.metadata.get(LEGACY_CONFIG_KEY) {
            let mut de = serde_json::Deserializer::from_str(json);
            let architecture = crate::model::config::with_ablation_defaults(&mut de)
                .map_err(|e| Error::read("model card", format!("unreadable '{LEGACY_CONFIG_KEY}': {e}")))?;
            architecture.validate()?;
            return Ok(Some(Self::official(format!("VanillaNet {:?}", architecture.dims), architecture, form)));
        }
        Ok(None)
    }

    /// The card of any VanillaNet checkpoint: its own, or one made from its tensors (`variant`
    /// or `strides` settle what they can't tell) with the official classes and preprocessing.
    pub fn of_checkpoint(sd: &StateDict, variant: Option<&str>, strides: Option<Vec<usize>>) -> Result<Self> {
        if let Some(card) = Self::read(sd)? {
            return Ok(card);
        }
        let detected = detect(sd)?;
        let architecture = detected.config(variant, strides)?;
        let name = match variant.or(detected.candidates.first().copied()) {
            Some(v) if architecture.strides == VanillaNetConfig::named(v)?.strides => v.to_string(),
            _ => format!("VanillaNet {:?}", architecture.dims),
        };
        Ok(Self::official(name, architecture, detected.layout.into()))
    }

    /// Puts the card into a state dict's metadata (replacing an older `vanillanet_config`).
    pub fn attach(&self, sd: &mut StateDict) -> Result<()> {
        sd.metadata.remove(LEGACY_CONFIG_KEY);
        sd.metadata.insert(CARD_KEY.into(), self.to_json()?);
        Ok(())
    }
}
