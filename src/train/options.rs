//! What the user picks before pressing Train, for the page, the API and the CLI alike.

use burn::optim::{AdamWConfig, ModuleOptimizer, SgdConfig, decay::WeightDecayConfig, momentum::MomentumConfig};
use serde::{Deserialize, Serialize};

use crate::data::dataset::Dataset;
use crate::error::{Error, Result};
use crate::model::config::{MAX_ACT_NUM, Shortcut, VanillaNetConfig};
use crate::train::lambda::{LambdaSchedule, LambdaShape};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    #[cfg_attr(not(target_arch = "wasm32"), value(name = "adamw"))]
    AdamW,
    /// SGD with momentum.
    Sgd,
}

pub const MAX_LEARNING_RATE: f64 = 10.0;
pub const MAX_EPOCHS: usize = 1000;
pub const MAX_BATCH: usize = 4096;
/// What a training step may keep for its backward pass (the wasm heap is 4 GB in all).
pub const MAX_STEP_BYTES: u64 = 1536 * 1024 * 1024;

/// An option out of range: the form's name of the field and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OptionError {
    pub field: &'static str,
    pub message: String,
}

/// Rough bytes one image costs a training step: about ten f32 maps of every layer's output
/// (conv, BN, activations and what their backward keeps), plus the input.
pub fn step_bytes_per_image(config: &VanillaNetConfig, h: usize, w: usize) -> u64 {
    let sizes = config.feature_sizes(h, w).unwrap_or_default();
    let maps: u64 = config.dims.iter().zip(&sizes).map(|(&d, &(fh, fw))| (d * fh * fw) as u64).sum();
    4 * (10 * maps + (config.in_chans * h * w) as u64)
}

/// Everything the user picks before pressing Train. Field names are the page's (camelCase).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TrainOptions {
    /// A named model (`nano_28`, `small_28`, ...); its in_chans and num_classes follow the data.
    pub preset: String,
    pub act_num: usize,
    /// Off: one conv per layer from the start, lambda unused (an ablation arm).
    pub deep_training: bool,
    /// Shortcuts around the blocks (an ablation arm; VanillaNet has none).
    pub shortcut: Shortcut,
    /// Epochs over which lambda goes from 0 to 1.
    pub decay_epochs: usize,
    pub schedule: LambdaShape,
    /// Move lambda every step instead of once per epoch.
    pub per_step: bool,
    pub optimizer: OptimizerKind,
    pub learning_rate: f64,
    pub weight_decay: f64,
    /// SGD only.
    pub momentum: f64,
    pub batch_size: usize,
    pub epochs: usize,
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            preset: "small_28".into(),
            act_num: 3,
            deep_training: true,
            shortcut: Shortcut::None,
            decay_epochs: 2,
            schedule: LambdaShape::Cosine,
            per_step: true,
            optimizer: OptimizerKind::AdamW,
            learning_rate: 2e-3,
            weight_decay: 0.05,
            momentum: 0.9,
            batch_size: 64,
            epochs: 3,
            seed: 42,
        }
    }
}

impl TrainOptions {
    pub fn lambda_schedule(&self) -> LambdaSchedule {
        LambdaSchedule { shape: self.schedule, decay_epochs: self.decay_epochs, per_step: self.per_step }
    }

    /// The architecture these options give for `data`, or the first option out of range.
    pub fn model_config(&self, data: &Dataset) -> Result<VanillaNetConfig> {
        self.check(data).map_err(|e| Error::InvalidOption(e.message))
    }

    /// Every option checked against its bounds and `data`, once, for the page's form, the API
    /// and the CLI alike: the architecture they give, or which option is wrong and why.
    pub fn check(&self, data: &Dataset) -> std::result::Result<VanillaNetConfig, OptionError> {
        let bad = |field: &'static str, message: String| Err(OptionError { field, message });
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0 && self.learning_rate <= MAX_LEARNING_RATE) {
            return bad(
                "learningRate",
                format!("learning rate {} is out of range: above 0, at most {MAX_LEARNING_RATE}", self.learning_rate),
            );
        }
        if !(self.weight_decay.is_finite() && (0.0..=1.0).contains(&self.weight_decay)) {
            return bad("weightDecay", format!("weight decay {} is out of range: 0 to 1", self.weight_decay));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return bad("momentum", format!("momentum {} is out of range: at least 0, below 1", self.momentum));
        }
        if !(1..=MAX_EPOCHS).contains(&self.epochs) {
            return bad("epochs", format!("{} epochs: 1 to {MAX_EPOCHS}", self.epochs));
        }
        if self.decay_epochs > self.epochs {
            return bad(
                "decayEpochs",
                format!(
                    "lambda would not reach 1 by the end, so the net could not be fused: deep-training epochs ({}) must not exceed epochs ({})",
                    self.decay_epochs, self.epochs
                ),
            );
        }
        if self.act_num > MAX_ACT_NUM {
            return bad("actNum", format!("act_num {}: at most {MAX_ACT_NUM}", self.act_num));
        }
        let config = VanillaNetConfig::named(&self.preset)
            .map_err(|e| OptionError { field: "preset", message: e.to_string() })?
            .with_in_chans(data.channels)
            .with_num_classes(data.classes.len())
            .with_act_num(self.act_num)
            .with_deep_training(self.deep_training)
            .with_shortcut(self.shortcut);
        config.validate().map_err(|e| OptionError { field: "preset", message: e.to_string() })?;
        config.feature_sizes(data.height, data.width).map_err(|e| OptionError {
            field: "preset",
            message: format!("preset {} does not fit {}x{} images: {e}", self.preset, data.height, data.width),
        })?;
        let per_image = step_bytes_per_image(&config, data.height, data.width);
        let limit = (MAX_STEP_BYTES / per_image.max(1)).min(MAX_BATCH as u64) as usize;
        if !(1..=limit).contains(&self.batch_size) {
            return bad(
                "batchSize",
                format!(
                    "batch size {}: 1 to {limit} for {} on {}x{} images (a step keeps about {} KB an image for its backward pass)",
                    self.batch_size,
                    self.preset,
                    data.height,
                    data.width,
                    per_image / 1024
                ),
            );
        }
        Ok(config)
    }

    pub(crate) fn optimizer(&self) -> ModuleOptimizer {
        match self.optimizer {
            OptimizerKind::AdamW => AdamWConfig::new().with_weight_decay(self.weight_decay as f32).init(),
            OptimizerKind::Sgd => SgdConfig::new()
                .with_momentum(Some(MomentumConfig::new().with_momentum(self.momentum).with_dampening(0.0)))
                .with_weight_decay((self.weight_decay > 0.0).then(|| WeightDecayConfig::new(self.weight_decay as f32)))
                .init(),
        }
    }
}
