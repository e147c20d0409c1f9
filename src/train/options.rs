//! What the user picks before pressing Train, for the page, the API and the CLI alike.

use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::optim::{AdamWConfig, ModuleOptimizer, SgdConfig, decay::WeightDecayConfig, momentum::MomentumConfig};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::data::augment::Augment;
use crate::data::dataset::Dataset;
use crate::error::{Error, Result};
use crate::model::config::{MAX_ACT_NUM, Shortcut, VanillaNetConfig};
use crate::train::lambda::{LambdaSchedule, LambdaShape};
use crate::train::lr::{LrSchedule, LrShape};
pub use crate::train::table::OptionError;
use crate::train::table::{Kind, OptionValue, options_table};
use crate::train::tta::Tta;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[cfg_attr(not(target_arch = "wasm32"), derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    #[cfg_attr(not(target_arch = "wasm32"), value(name = "adamw"))]
    AdamW,
    /// SGD with momentum.
    Sgd,
}

impl OptimizerKind {
    pub const ALL: [OptimizerKind; 2] = [OptimizerKind::AdamW, OptimizerKind::Sgd];
}

impl OptionValue for OptimizerKind {}
impl OptionValue for LrShape {}

pub const MAX_LEARNING_RATE: f64 = 10.0;
pub const MAX_EPOCHS: usize = 1000;
pub const MAX_BATCH: usize = 4096;
pub const MAX_CROP_PADDING: usize = 64;
/// What a training step may keep for its backward pass (the wasm heap is 4 GB in all).
pub const MAX_STEP_BYTES: u64 = 1536 * 1024 * 1024;

/// Seeds the page can hold exactly (a double's whole numbers), and so every side takes.
pub const MAX_SEED: u64 = (1 << 53) - 1;

/// Rough bytes one image costs a training step: about ten f32 maps of every layer's output
/// (conv, BN, activations and what their backward keeps), plus the input.
pub fn step_bytes_per_image(config: &VanillaNetConfig, h: usize, w: usize) -> u64 {
    let sizes = config.feature_sizes(h, w).unwrap_or_default();
    let maps: u64 = config.dims.iter().zip(&sizes).map(|(&d, &(fh, fw))| (d * fh * fw) as u64).sum();
    4 * (10 * maps + (config.in_chans * h * w) as u64)
}

options_table! {
    /// Everything the user picks before pressing Train, for the page's form, a shared link, the
    /// API and `vanillanet train` alike: each option's help, default, kind and bounds are said
    /// here once (field names are the page's, in camelCase). A new option is one more row (and
    /// its label in the page's translations, `opt.<name>`).
    pub struct TrainOptions {
        /// A named model (nano_28, fine_wide_28, ...); its input channels and classes follow the
        /// data. `vanillanet train` also takes a named recipe here (best: the whole set of
        /// options; `vanillanet models` lists them).
        preset: String = "fine_wide_28".into(), Kind::Preset, [];
        /// Stacked activations: the series activation's depthwise kernel is 2n+1 (0: plain ReLU).
        act_num: usize = 3, Kind::integer(0, MAX_ACT_NUM as u64), [];
        /// Two convs per layer while lambda anneals, fused into one at the end; off: one conv
        /// from the start and lambda unused (an ablation arm).
        deep_training: bool = true, Kind::Boolean, [action = clap::ArgAction::Set];
        /// Shortcuts around the blocks, added before or after the activation (an ablation arm;
        /// VanillaNet has none).
        shortcut: Shortcut = Shortcut::None, Kind::choice(&Shortcut::ALL), [value_enum];
        /// Epochs over which lambda anneals from 0 to 1 (deep training).
        decay_epochs: usize = 1, Kind::integer(0, MAX_EPOCHS as u64), [];
        /// The shape of lambda's way from 0 to 1.
        schedule: LambdaShape = LambdaShape::Cosine, Kind::choice(&LambdaShape::ALL), [value_enum];
        /// Move lambda every step (false: once per epoch, as the official code does).
        per_step: bool = true, Kind::Boolean, [action = clap::ArgAction::Set];
        /// Once lambda reaches 1, fuse each deep-training pair into one conv + BN and train that
        /// form (a net without deep training) for the rest of the run: its steps cost less, and
        /// nothing changes at the switch (deep training only).
        fuse_and_continue: bool = false, Kind::Boolean, [action = clap::ArgAction::Set];
        /// AdamW, or SGD with momentum.
        optimizer: OptimizerKind = OptimizerKind::AdamW, Kind::choice(&OptimizerKind::ALL), [value_enum];
        /// The optimizer's step size (the peak, with a warm-up or a decay).
        learning_rate: f64 = 2e-3, Kind::Number { min: 0.0, max: MAX_LEARNING_RATE, above: true, below: false }, [visible_alias = "lr"];
        /// Epochs over which the learning rate climbs linearly to its value at the start (a
        /// fraction of one is fine; 0: none): the first steps, on random weights and fresh
        /// BatchNorm statistics, go astray at the full rate.
        warmup_epochs: f64 = 0.2, Kind::number(0.0, MAX_EPOCHS as f64), [];
        /// The learning rate after the warm-up: constant, or a cosine decay to about 0 at the
        /// last step (the authors' recipe; the last steps settle the weights).
        lr_schedule: LrShape = LrShape::Cosine, Kind::choice(&LrShape::ALL), [value_enum];
        /// Decoupled (AdamW) or L2 (SGD) weight decay.
        weight_decay: f64 = 0.05, Kind::number(0.0, 1.0), [];
        /// Label smoothing: this share of each target's probability spread over all classes
        /// (0: none).
        label_smoothing: f64 = 0.1, Kind::Number { min: 0.0, max: 1.0, above: false, below: true }, [];
        /// Dropout before the head's classifier: this share of its inputs zeroed at random in
        /// training (0: none).
        drop_rate: f64 = 0.0, Kind::Number { min: 0.0, max: 1.0, above: false, below: true }, [];
        /// Decay of a moving average of the weights and BatchNorm statistics, kept beside the
        /// trained net and evaluated, fused and exported as the authors' model_ema is (0: none).
        /// It warms up: min(decay, (1 + t) / (10 + t)) at step t.
        ema_decay: f64 = 0.9998, Kind::Number { min: 0.0, max: 1.0, above: false, below: true }, [];
        /// The weight average's horizon in epochs, in place of the decay: its decay becomes
        /// 1 - 1/(steps in this many epochs), so the average spans about as much of the run
        /// whatever the batch size and data (0: the decay as given; emaDecay 0 still means no
        /// average).
        ema_epochs: f64 = 0.0, Kind::number(0.0, MAX_EPOCHS as f64), [];
        /// Random shift: training images padded by this many pixels (black), then cropped back
        /// to size at a random place (0: none; it pays over longer runs: at 3 epochs of
        /// Fashion-MNIST 2 pixels cost 2.5 points).
        crop_padding: usize = 0, Kind::integer(0, MAX_CROP_PADDING as u64), [];
        /// Mirror training images left-right at random, where the data says a mirrored image
        /// keeps its class (clothes, own images; not digits).
        mirror: bool = true, Kind::Boolean, [action = clap::ArgAction::Set];
        /// Test-time augmentation: evaluation also averages the net's class probabilities over
        /// copies of each image (its mirror where the data allows one, the one-pixel shifts) and
        /// says that accuracy beside the plain one; 2, 5 or 6 forwards an image in evaluation,
        /// training unchanged.
        tta: Tta = Tta::Mirror, Kind::choice(&Tta::ALL), [value_enum];
        /// Random erasing: the probability that a training image has a rectangle (2% to a
        /// third of it) blanked to the mean (0: none).
        erasing: f64 = 0.0, Kind::number(0.0, 1.0), [];
        /// SGD's momentum (AdamW ignores it).
        momentum: f64 = 0.9, Kind::Number { min: 0.0, max: 1.0, above: false, below: true }, [];
        /// Images per step (at most what a step's memory allows for the preset and image size).
        batch_size: usize = 32, Kind::integer(1, MAX_BATCH as u64), [];
        /// Passes over the training images.
        epochs: usize = 2, Kind::integer(1, MAX_EPOCHS as u64), [];
        /// Start each deep-training pair's second (1x1) conv as the identity, so each pair
        /// starts as one layer (Dirac initialisation; off: both convs drawn at random).
        identity_init: bool = false, Kind::Boolean, [action = clap::ArgAction::Set];
        /// Initialisation and data order.
        seed: u64 = 42, Kind::integer(0, MAX_SEED), [];
        /// Share of each class's training images held out as the validation split (a fixed
        /// draw, the same for every seed) to choose recipes and epochs on, so the test set is
        /// only reported (0: none; 0.0833 holds out 5,000 of Fashion-MNIST's 60,000).
        validation: f64 = 0.0833, Kind::Number { min: 0.0, max: 0.5, above: false, below: false }, [];
    }
}

impl TrainOptions {
    pub fn lambda_schedule(&self) -> LambdaSchedule {
        LambdaSchedule { shape: self.schedule, decay_epochs: self.decay_epochs, per_step: self.per_step }
    }

    /// The weight average's decay per step (before its warm-up): from its horizon in epochs
    /// where one is given, else `ema_decay`.
    pub fn ema_decay_per_step(&self, steps_per_epoch: usize) -> f64 {
        let horizon = self.ema_epochs * steps_per_epoch as f64;
        if self.ema_epochs > 0.0 { 1.0 - 1.0 / horizon.max(1.0) } else { self.ema_decay }
    }

    pub fn learning_rates(&self) -> LrSchedule {
        LrSchedule {
            base: self.learning_rate,
            shape: self.lr_schedule,
            warmup_epochs: self.warmup_epochs,
            epochs: self.epochs,
        }
    }

    /// What is done to the training images (the mirror only where the data allows it).
    pub fn augment(&self) -> Augment {
        Augment { pad: self.crop_padding, flip: self.mirror, erase: self.erasing }
    }

    /// These options with the recipe's parts off: no warm-up, a constant learning rate, no label
    /// smoothing, no moving average, no augmentation, no dropout, no validation split; how
    /// training ran before they existed.
    pub fn without_recipe(self) -> Self {
        Self {
            warmup_epochs: 0.0,
            lr_schedule: LrShape::Constant,
            label_smoothing: 0.0,
            drop_rate: 0.0,
            ema_decay: 0.0,
            crop_padding: 0,
            mirror: false,
            erasing: 0.0,
            validation: 0.0,
            ..self
        }
    }

    /// The architecture these options give for `data`, or the first option out of range.
    pub fn model_config(&self, data: &Dataset) -> Result<VanillaNetConfig> {
        self.check(data).map_err(|e| Error::InvalidOption(e.message))
    }

    /// Every option checked against its bounds and `data`, once, for the page's form, the API
    /// and the CLI alike: the architecture they give, or which option is wrong and why.
    pub fn check(&self, data: &Dataset) -> std::result::Result<VanillaNetConfig, OptionError> {
        self.check_bounds()?;
        let bad = |field: &str, message: String| Err(OptionError { field: field.into(), message });
        if self.decay_epochs > self.epochs {
            return bad(
                "decayEpochs",
                format!(
                    "lambda would not reach 1 by the end, so the net could not be fused: deep-training epochs ({}) must not exceed epochs ({})",
                    self.decay_epochs, self.epochs
                ),
            );
        }
        if self.fuse_and_continue && !self.deep_training {
            return bad(
                "fuseAndContinue",
                "fuse and continue needs deep training: without it there are no pairs to fuse".into(),
            );
        }
        if self.warmup_epochs > self.epochs as f64 {
            return bad(
                "warmupEpochs",
                format!(
                    "the warm-up ({} epochs) must not be longer than the run ({} epochs)",
                    self.warmup_epochs, self.epochs
                ),
            );
        }
        let side = data.height.min(data.width);
        if self.crop_padding >= side {
            return bad(
                "cropPadding",
                format!(
                    "crop padding {}: below the image side, at most {} for {}x{} images",
                    self.crop_padding,
                    side.saturating_sub(1),
                    data.height,
                    data.width
                ),
            );
        }
        let config = VanillaNetConfig::named(&self.preset)
            .map_err(|e| OptionError { field: "preset".into(), message: e.to_string() })?
            .with_in_chans(data.channels)
            .with_num_classes(data.classes.len())
            .with_act_num(self.act_num)
            .with_deep_training(self.deep_training)
            .with_shortcut(self.shortcut)
            .with_drop_rate(self.drop_rate);
        config.validate().map_err(|e| OptionError { field: "preset".into(), message: e.to_string() })?;
        config.feature_sizes(data.height, data.width).map_err(|e| OptionError {
            field: "preset".into(),
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

    /// The loss a training step minimises.
    pub(crate) fn loss(&self, device: &Device) -> CrossEntropyLoss {
        let smoothing = (self.label_smoothing > 0.0).then_some(self.label_smoothing as f32);
        CrossEntropyLossConfig::new().with_smoothing(smoothing).init(device)
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

/// The options of the recipe, as the options name them: those a record from before the recipe
/// lacks.
pub const RECIPE: [&str; 9] = [
    "warmupEpochs",
    "lrSchedule",
    "labelSmoothing",
    "dropRate",
    "emaDecay",
    "cropPadding",
    "mirror",
    "erasing",
    "validation",
];

/// Reads options saved before the recipe's options existed (a snapshot's position): what they
/// lack is off, as that run trained, not today's defaults; so a run continued trains on as it
/// began.
pub fn saved_before_recipe<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<TrainOptions, D::Error> {
    let mut value = serde_json::Value::deserialize(d)?;
    let off = serde_json::to_value(TrainOptions::default().without_recipe()).map_err(serde::de::Error::custom)?;
    if let Some(fields) = value.as_object_mut() {
        for key in RECIPE {
            fields.entry(key).or_insert_with(|| off[key].clone());
        }
    }
    serde_json::from_value(value).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_average_horizon_in_epochs_sets_the_decay_per_step() {
        let o = TrainOptions { ema_epochs: 0.5, ..Default::default() };
        // Half of 400 steps: the average's horizon 1 / (1 - decay) is 200 steps.
        assert!((1.0 / (1.0 - o.ema_decay_per_step(400)) - 200.0).abs() < 1e-6);
        assert_eq!(TrainOptions::default().ema_decay_per_step(400), 0.9998, "0: the decay as given");
        assert_eq!(o.ema_decay_per_step(0), 0.0, "no steps: it follows the weights");
    }

    #[test]
    fn options_saved_before_the_recipe_read_with_it_off() {
        #[derive(Deserialize)]
        struct Saved {
            #[serde(deserialize_with = "saved_before_recipe")]
            options: TrainOptions,
        }
        let read = |json: &str| serde_json::from_str::<Saved>(json).map(|s| s.options);
        let old = read(r#"{"options": {"preset": "nano_28", "epochs": 5}}"#).unwrap();
        let expected = TrainOptions { preset: "nano_28".into(), epochs: 5, ..Default::default() }.without_recipe();
        assert_eq!(old, expected);
        let new = read(r#"{"options": {"emaDecay": 0.99, "mirror": true}}"#).unwrap();
        assert_eq!((new.ema_decay, new.mirror, new.crop_padding), (0.99, true, 0));
        assert!(read(r#"{"options": [1, 2]}"#).is_err(), "not an object");
        assert!(read(r#"{"options": {"cropPadding": -1}}"#).is_err());
        let table: Vec<String> = TrainOptions::table().into_iter().map(|o| o.name).collect();
        assert!(RECIPE.iter().all(|k| table.iter().any(|n| n == k)), "each is an option");
    }

    #[test]
    fn the_table_is_the_struct_with_its_defaults() {
        let defaults = serde_json::to_value(TrainOptions::default()).unwrap();
        let keys: Vec<&String> = defaults.as_object().unwrap().keys().collect();
        let table = TrainOptions::table();
        let names: Vec<&String> = table.iter().map(|o| &o.name).collect();
        let (mut keys, mut names) = (keys, names);
        keys.sort();
        names.sort();
        assert_eq!(keys, names, "one row per field, named as serde names it");
        for o in &table {
            assert_eq!(o.default, defaults[&o.name], "{}", o.name);
            assert_eq!(
                o.flag,
                format!(
                    "--{}",
                    o.name
                        .chars()
                        .flat_map(|c| if c.is_uppercase() { vec!['-', c.to_ascii_lowercase()] } else { vec![c] })
                        .collect::<String>()
                )
            );
            assert!(!o.help.is_empty(), "{} has help", o.name);
        }
        assert!(TrainOptions::default().check_bounds().is_ok());
    }

    #[test]
    fn bounds_name_the_field_and_the_range() {
        let bad = |o: TrainOptions| o.check_bounds().unwrap_err();
        let e = bad(TrainOptions { momentum: 1.0, ..Default::default() });
        assert_eq!(
            (e.field.as_str(), e.message.as_str()),
            ("momentum", "momentum 1 is out of range: at least 0, below 1")
        );
        let e = bad(TrainOptions { seed: MAX_SEED + 2, ..Default::default() });
        assert_eq!(e.field, "seed");
        let e = bad(TrainOptions { act_num: MAX_ACT_NUM + 1, ..Default::default() });
        assert_eq!(e.message, "act num 9 is out of range: 0 to 8");
        assert_eq!(bad(TrainOptions { label_smoothing: 1.0, ..Default::default() }).field, "labelSmoothing");
    }

    #[test]
    fn label_smoothing_costs_a_confident_right_answer() {
        use burn::tensor::{Int, Tensor, TensorData};
        let device = Device::flex();
        let loss = |smoothing: f64| {
            let logits = Tensor::<2>::from_data(TensorData::new(vec![8.0f32, 0.0, 0.0], [1, 3]), &device);
            let target = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64], [1]), &device);
            let options = TrainOptions { label_smoothing: smoothing, ..Default::default() };
            options.loss(&device).forward(logits, target).into_scalar::<f32>()
        };
        assert!(loss(0.1) > 2.0 * loss(0.0), "{} vs {}", loss(0.1), loss(0.0));
    }
}
