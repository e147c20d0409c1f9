//! A run saved and continued: the weights (and their moving average) and the position in
//! training as one safetensors file, the run moved to another device, and the exports (the
//! card, the authors' training form, the fused classifier).

use burn::module::Module;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::Trainer;
use crate::classify::Classifier;
use crate::data::dataset::Dataset;
use crate::error::{Error, Result};
use crate::io::card::ModelCard;
use crate::io::names::{check_shapes, load_state, state_dict_async};
use crate::io::state_dict::StateDict;
use crate::model::{Form, VanillaNet, Weights};
use crate::train::ema::Ema;
use crate::train::fuse_report::{FuseReport, fuse_and_report};
use crate::train::inside::DecayHistory;
use crate::train::options::{TrainOptions, saved_before_recipe};

/// Where training stands, saved with the weights so a reload continues the same run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct Position {
    /// The options (those a snapshot from before the recipe lacks are off, as it trained).
    #[serde(deserialize_with = "saved_before_recipe")]
    pub options: TrainOptions,
    pub dataset: String,
    pub train_images: usize,
    pub classes: Vec<String>,
    pub epoch: usize,
    pub step: usize,
    pub global_step: usize,
    /// Hex: JSON numbers lose u64 digits in JavaScript.
    pub epoch_rng: String,
    /// The decay probed so far (absent in snapshots made before it was recorded).
    #[serde(default)]
    pub inside: Option<DecayHistory>,
    /// The form the weights are in: None, the deep-training pairs (or one conv a layer from
    /// the start, without deep training); a step, merged by fuse and continue then and trained
    /// on as one conv + BN a layer. Snapshots made before it was recorded are of the pairs.
    #[serde(default)]
    pub continued_at: Option<usize>,
}

const POSITION_KEY: &str = "vanillanet_trainer";
/// The moving average's tensors in a snapshot: the official names under this prefix (as the
/// authors' checkpoints keep it beside `model`).
const EMA_PREFIX: &str = "model_ema.";

impl Trainer {
    /// The same training, continued on another device: weights and BN statistics move with
    /// awaited reads, the position in training and the options stay; the optimizer starts
    /// with fresh moments. A failure leaves it where it was.
    pub async fn move_to(&mut self, device: &Device) -> Result<()> {
        let state = state_dict_async(self.model()).await?;
        let average = match self.ema() {
            Some(net) => Some(state_dict_async(net).await?),
            None => None,
        };
        let device = device.clone().autodiff();
        let model = load_state(self.config.init(&device), &state, &device)?;
        let ema = match average {
            Some(sd) => Some(self.load_ema(&sd, &device)?),
            None => None,
        };
        self.model = Some(model);
        self.ema = ema;
        self.device = device;
        self.optim = self.options.optimizer();
        Ok(())
    }

    /// A moving average from its state dict, on `device` without autodiff.
    fn load_ema(&self, sd: &StateDict, device: &Device) -> Result<Ema> {
        let inner = device.clone().inner();
        Ok(Ema { net: load_state(self.config.init(&inner), sd, &inner)?.valid() })
    }

    /// The card of this net in `form` holding `weights`: the data's classes and preprocessing.
    pub fn card(&self, form: Form, weights: Weights) -> ModelCard {
        let d = &self.data;
        let name = format!("{} on {}", self.options.preset, d.name);
        ModelCard::new(name, self.config.clone(), d.classes.clone(), d.preprocess(), form).with_weights(weights)
    }

    /// The default weights (the moving average when there is one) fused into a classifier
    /// with this run's card, and both forms compared on up to `limit` test images (see
    /// [`fuse_and_report`]); only at lambda 1.
    pub async fn fuse(&self, limit: usize) -> Result<(Classifier, FuseReport)> {
        self.fuse_weights(self.default_weights(), limit).await
    }

    /// Fuses `weights` (see [`Self::fuse`]); the classifier's card says which they were.
    pub async fn fuse_weights(&self, weights: Weights, limit: usize) -> Result<(Classifier, FuseReport)> {
        let (model, report) = fuse_and_report(&self.trained_net(weights)?, limit).await?;
        Ok((Classifier { card: self.card(Form::Deploy, weights), model }, report))
    }

    /// The training form as the authors' code keeps it: official key names, every BatchNorm's
    /// step counter, and the card. It loads with `strict=True` into their `VanillaNet` to train
    /// on there, and comes back here as a checkpoint. The weights are the default ones (the
    /// moving average when there is one, as the authors release theirs).
    pub async fn export_training(&self) -> Result<Vec<u8>> {
        self.export_training_of(self.default_weights()).await
    }

    /// The training form of `weights` (see [`Self::export_training`]); the card says which.
    pub async fn export_training_of(&self, weights: Weights) -> Result<Vec<u8>> {
        let mut sd = state_dict_async(&self.net(weights)?).await?;
        sd.add_batch_counts(self.global_step);
        self.card(Form::Training, weights).attach(&mut sd)?;
        sd.to_safetensors()
    }

    /// The weights (training form, BN statistics included), their moving average (under
    /// `model_ema.`) and the position in training, as one safetensors file. The optimizer's
    /// moments are not kept.
    pub async fn snapshot(&self) -> Result<Vec<u8>> {
        let mut sd = state_dict_async(self.model()).await?;
        if let Some(net) = self.ema() {
            let average = state_dict_async(net).await?;
            sd.tensors.extend(average.tensors.into_iter().map(|(k, t)| (format!("{EMA_PREFIX}{k}"), t)));
        }
        if !sd.all_finite() {
            return Err(Error::InvalidInput("not saved: the weights are not finite numbers".into()));
        }
        let position = Position {
            options: self.options.clone(),
            dataset: self.data.name.clone(),
            train_images: self.data.train.len(),
            classes: self.data.classes.clone(),
            epoch: self.epoch,
            step: self.step,
            global_step: self.global_step,
            epoch_rng: format!("{:x}", self.epoch_rng),
            inside: Some(self.inside.clone()),
            continued_at: self.continued_at,
        };
        sd.metadata.insert(
            POSITION_KEY.into(),
            serde_json::to_string(&position).map_err(|e| Error::encode("training snapshot", e))?,
        );
        sd.to_safetensors()
    }

    /// The run a [`Self::snapshot`] saved, continued on `device` with `data` (which must be the
    /// data it was trained on). The optimizer starts with fresh moments.
    pub fn restore(device: &Device, data: Dataset, bytes: Vec<u8>) -> Result<Self> {
        let mut sd = StateDict::from_bytes(bytes)?;
        let average = sd.take_prefixed(EMA_PREFIX);
        let position: Position = sd
            .metadata
            .get(POSITION_KEY)
            .ok_or_else(|| Error::read("training snapshot", "no trainer position in it"))
            .and_then(|j| {
                serde_json::from_str(j)
                    .map_err(|e| Error::read("training snapshot", format!("unreadable trainer position: {e}")))
            })?;
        let other_data = || {
            Error::InvalidInput(format!(
                "the snapshot was trained on {} ({} images, classes {:?}), not on this data",
                position.dataset, position.train_images, position.classes
            ))
        };
        if position.classes != data.classes {
            return Err(other_data());
        }
        let epoch_rng = u64::from_str_radix(&position.epoch_rng, 16)
            .map_err(|_| Error::read("training snapshot", format!("bad shuffle state '{}'", position.epoch_rng)))?;
        // Options out of range are a damaged file's, and said to be the snapshot's.
        let options = position.options;
        options.check(&data).map_err(|e| Error::read("training snapshot", format!("its options: {}", e.message)))?;
        let mut trainer = Self::new(device, data, options)?;
        // The images it trained on: what is left once its validation share is held out.
        if position.train_images != trainer.data.train.len() {
            return Err(other_data());
        }
        if let Some(at) = position.continued_at {
            if !trainer.options.deep_training || at > position.global_step {
                return Err(Error::read(
                    "training snapshot",
                    format!("merged at step {at}, but it has no pairs to merge or is at step {}", position.global_step),
                ));
            }
            // The tensors are of the merged form: the net to load them into is.
            trainer.config = trainer.config.clone().with_deep_training(false);
            trainer.continued_at = Some(at);
        }
        check_shapes(&trainer.config, &sd)?;
        let device = trainer.device.clone();
        let model: VanillaNet = load_state(trainer.config.init(&device), &sd, &device)?;
        // A snapshot made before the average existed (or with it off then) has none: it
        // starts from the weights as they are.
        trainer.ema = match (&trainer.ema, average.tensors.is_empty()) {
            (None, _) => None,
            (Some(_), true) => Some(Ema::start(&model)),
            (Some(_), false) => Some(
                check_shapes(&trainer.config, &average)
                    .and_then(|_| trainer.load_ema(&average, &device))
                    .map_err(|e| Error::read("training snapshot", format!("its moving average: {e}")))?,
            ),
        };
        trainer.model = Some(model);
        trainer.rng = epoch_rng;
        trainer.shuffle();
        if position.step > trainer.steps_per_epoch() {
            return Err(Error::read(
                "training snapshot",
                format!("step {} is past the end of its epoch", position.step),
            ));
        }
        trainer.epoch = position.epoch;
        trainer.step = position.step;
        trainer.global_step = position.global_step;
        // A saved history that does not add up is dropped, not trusted.
        if let Some(inside) = position.inside.filter(DecayHistory::is_consistent) {
            trainer.inside = inside;
        }
        Ok(trainer)
    }
}
