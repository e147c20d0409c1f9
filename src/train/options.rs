//! What the user picks before pressing Train, for the page, the API and the CLI alike.

use burn::optim::{AdamWConfig, ModuleOptimizer, SgdConfig, decay::WeightDecayConfig, momentum::MomentumConfig};
use serde::{Deserialize, Serialize};

use crate::data::dataset::Dataset;
use crate::error::{Error, Result};
use crate::model::config::{Shortcut, VanillaNetConfig};
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

    /// The architecture these options give for `data`.
    pub fn model_config(&self, data: &Dataset) -> Result<VanillaNetConfig> {
        let config = VanillaNetConfig::named(&self.preset)?
            .with_in_chans(data.channels)
            .with_num_classes(data.classes.len())
            .with_act_num(self.act_num)
            .with_deep_training(self.deep_training)
            .with_shortcut(self.shortcut);
        config.validate()?;
        config.feature_sizes(data.height, data.width).map_err(|e| {
            Error::InvalidConfig(format!(
                "preset {} does not fit {}x{} images: {e}",
                self.preset, data.height, data.width
            ))
        })?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::InvalidConfig(m));
        if self.batch_size == 0 || self.epochs == 0 {
            return bad("batch size and epochs must be at least 1".into());
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad(format!("learning rate must be positive, got {}", self.learning_rate));
        }
        if !(0.0..1.0).contains(&self.momentum) || self.weight_decay.is_nan() || self.weight_decay < 0.0 {
            return bad("momentum must be in [0, 1) and weight decay non-negative".into());
        }
        Ok(())
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
