//! A run saved and continued: the weights and the position in training as one safetensors
//! file, the run moved to another device, and the exports (the card, the authors' training
//! form).

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::Trainer;
use crate::data::dataset::Dataset;
use crate::error::{Error, Result};
use crate::io::card::ModelCard;
use crate::io::names::{check_shapes, load_state, state_dict_async};
use crate::io::state_dict::StateDict;
use crate::model::Form;
use crate::train::inside::DecayHistory;
use crate::train::options::TrainOptions;

/// Where training stands, saved with the weights so a reload continues the same run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Position {
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
}

const POSITION_KEY: &str = "vanillanet_trainer";

impl Trainer {
    /// The same training, continued on another device: weights and BN statistics move with
    /// awaited reads, the position in training and the options stay; the optimizer starts
    /// with fresh moments. A failure leaves it where it was.
    pub async fn move_to(&mut self, device: &Device) -> Result<()> {
        let state = state_dict_async(self.model()).await?;
        let device = device.clone().autodiff();
        self.model = Some(load_state(self.config.init(&device), &state, &device)?);
        self.device = device;
        self.optim = self.options.optimizer();
        Ok(())
    }

    /// The card of this net in `form`: the data's classes and preprocessing.
    pub fn card(&self, form: Form) -> ModelCard {
        let d = &self.data;
        let name = format!("{} on {}", self.options.preset, d.name);
        ModelCard::new(name, self.config.clone(), d.classes.clone(), d.preprocess(), form)
    }

    /// The training form as the authors' code keeps it: official key names, every BatchNorm's
    /// step counter, and the card. It loads with `strict=True` into their `VanillaNet` to train
    /// on there, and comes back here as a checkpoint.
    pub async fn export_training(&self) -> Result<Vec<u8>> {
        let mut sd = state_dict_async(self.model()).await?;
        sd.add_batch_counts(self.global_step);
        self.card(Form::Training).attach(&mut sd)?;
        sd.to_safetensors()
    }

    /// The weights (training form, BN statistics included) and the position in training, as
    /// one safetensors file. The optimizer's moments are not kept.
    pub async fn snapshot(&self) -> Result<Vec<u8>> {
        let mut sd = state_dict_async(self.model()).await?;
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
        let sd = StateDict::from_bytes(bytes)?;
        let position: Position = sd
            .metadata
            .get(POSITION_KEY)
            .ok_or_else(|| Error::read("training snapshot", "no trainer position in it"))
            .and_then(|j| {
                serde_json::from_str(j)
                    .map_err(|e| Error::read("training snapshot", format!("unreadable trainer position: {e}")))
            })?;
        if position.train_images != data.train.len() || position.classes != data.classes {
            return Err(Error::InvalidInput(format!(
                "the snapshot was trained on {} ({} images, classes {:?}), not on this data",
                position.dataset, position.train_images, position.classes
            )));
        }
        let epoch_rng = u64::from_str_radix(&position.epoch_rng, 16)
            .map_err(|_| Error::read("training snapshot", format!("bad shuffle state '{}'", position.epoch_rng)))?;
        let mut trainer = Self::new(device, data, position.options)?;
        check_shapes(&trainer.config, &sd)?;
        let device = trainer.device.clone();
        trainer.model = Some(load_state(trainer.config.init(&device), &sd, &device)?);
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
