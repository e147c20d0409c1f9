//! The one training loop the page drives (and tests run natively): deep training with lambda
//! following its schedule, one optimizer step per call, every read from the device awaited,
//! the moving average of the weights kept. What is read off the net (evaluation, the fuse
//! report, the comparison, the views of the inside) are functions of a [`TrainedNet`], which
//! [`Trainer::trained_net`] makes; the probes of the decay the loop records are `decay.rs`;
//! saving and continuing a run, and its exports, `snapshot.rs`; fusing at lambda 1 and
//! training the one-conv form on, `continued.rs`.

mod continued;
mod decay;
mod snapshot;
mod watch;

pub use snapshot::Position;

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::data::augment::Draws;
use crate::data::dataset::{Dataset, Split};
use crate::data::validation::{VALIDATION_SEED, hold_out};
use crate::error::{Error, Result};
use crate::io::names::{load_state, state_dict_async};
use crate::io::state_dict::StateDict;
use crate::model::config::VanillaNetConfig;
use crate::model::init::{identity_pairs, splitmix};
use crate::model::{VanillaNet, Weights};
use crate::readback::read_vec;
use crate::train::ema::{Ema, warmed_up_decay};
use crate::train::evaluation::correct;
use crate::train::inside::{DecayHistory, DecayPoint};
use crate::train::options::TrainOptions;
use crate::train::trained_net::TrainedNet;
use watch::LossWatch;

/// What one optimizer step did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct StepReport {
    /// Epoch and step within it of this step (0-based).
    pub epoch: usize,
    pub step: usize,
    /// Steps done so far, this one included.
    pub global_step: usize,
    pub steps_per_epoch: usize,
    pub lambda: f64,
    /// The learning rate this step took (the schedule's).
    #[serde(default)]
    pub learning_rate: f64,
    pub loss: f32,
    pub batch_accuracy: f32,
    pub batch_size: usize,
    /// This step ended an epoch.
    pub epoch_end: bool,
    /// Said once, when the loss stays far above where it started.
    pub warning: Option<String>,
    /// The decay of the leaky activations, when this step probed it (see [`Trainer::decay`]).
    #[serde(default)]
    pub inside: Option<DecayPoint>,
    /// Fuse and continue: the deep-training pairs were merged with this step (before it, or
    /// after it when lambda reached 1 with it) and the net trains on as one conv a layer.
    #[serde(default)]
    pub continued: bool,
}

pub struct Trainer {
    device: Device,
    data: Dataset,
    /// Training images held out to choose recipes on (`options.validation`), not trained on.
    validation: Split,
    options: TrainOptions,
    config: VanillaNetConfig,
    model: Option<VanillaNet>,
    /// The moving average of the weights and BN statistics (with `ema_decay` above 0).
    ema: Option<Ema>,
    optim: ModuleOptimizer,
    order: Vec<usize>,
    rng: u64,
    /// `rng` before this epoch's shuffle: enough to rebuild the order after a reload.
    epoch_rng: u64,
    epoch: usize,
    step: usize,
    global_step: usize,
    /// What a diverging run goes back to: the last weights and BN statistics read back and
    /// found finite (every `CHECK_EVERY` steps and at epoch ends; a copy on the host, since BN
    /// statistics are shared between clones of a module), with the steps done then.
    checked_good: Option<(StateDict, usize)>,
    loss_watch: LossWatch,
    /// The leaky activations' decay, probed every few steps on a fixed batch.
    inside: DecayHistory,
    /// Fuse and continue: the steps done when the pairs were merged (None: not merged).
    continued_at: Option<usize>,
}

/// Steps between reading the weights back to check they are finite (a restore point).
const CHECK_EVERY: usize = 50;

impl Trainer {
    /// A fresh model for `data` on `device` (an autodiff device is made from it).
    pub fn new(device: &Device, data: Dataset, options: TrainOptions) -> Result<Self> {
        let config = options.model_config(&data)?;
        let (data, validation) = hold_out(data, options.validation, VALIDATION_SEED);
        let device = device.clone().autodiff();
        // Dropout draws from the backend's generator (the weights come from the seed alone).
        device.seed(options.seed);
        let model = config.init_seeded(options.seed, &device);
        let model = if options.identity_init { identity_pairs(model, options.seed) } else { model };
        let ema = (options.ema_decay > 0.0).then(|| Ema::start(&model));
        let mut trainer = Self {
            device,
            ema,
            optim: options.optimizer(),
            rng: options.seed,
            epoch_rng: options.seed,
            data,
            validation,
            options,
            config,
            model: Some(model),
            order: Vec::new(),
            epoch: 0,
            step: 0,
            global_step: 0,
            checked_good: None,
            loss_watch: LossWatch::default(),
            inside: DecayHistory::default(),
            continued_at: None,
        };
        trainer.shuffle();
        Ok(trainer)
    }

    fn shuffle(&mut self) {
        self.epoch_rng = self.rng;
        self.order = (0..self.data.train.len()).collect();
        for i in (1..self.order.len()).rev() {
            let j = (splitmix(&mut self.rng) % (i as u64 + 1)) as usize;
            self.order.swap(i, j);
        }
    }

    pub fn steps_per_epoch(&self) -> usize {
        self.data.train.len().div_ceil(self.options.batch_size)
    }

    pub fn total_steps(&self) -> usize {
        self.steps_per_epoch() * self.options.epochs
    }

    /// Lambda of the next step.
    pub fn lambda(&self) -> f64 {
        self.options.lambda_schedule().at(self.epoch, self.step, self.steps_per_epoch())
    }

    pub fn finished(&self) -> bool {
        self.epoch >= self.options.epochs
    }

    pub fn epoch(&self) -> usize {
        self.epoch
    }

    pub fn global_step(&self) -> usize {
        self.global_step
    }

    pub fn options(&self) -> &TrainOptions {
        &self.options
    }

    pub fn config(&self) -> &VanillaNetConfig {
        &self.config
    }

    /// The validation images (none with `validation` 0).
    pub fn validation(&self) -> &Split {
        &self.validation
    }

    pub fn data(&self) -> &Dataset {
        &self.data
    }

    pub fn model(&self) -> &VanillaNet {
        self.model.as_ref().expect("the model is only out during a step")
    }

    /// The moving average of the weights, when the options keep one.
    pub fn ema(&self) -> Option<&VanillaNet> {
        self.ema.as_ref().map(|e| &e.net)
    }

    /// The weights that are fused and exported unless asked otherwise: the moving average
    /// when there is one (as the authors release theirs), else the trained weights.
    pub fn default_weights(&self) -> Weights {
        if self.ema.is_some() { Weights::Ema } else { Weights::Trained }
    }

    /// `weights` as an eval-mode net (running statistics), or why there are none.
    pub fn net(&self, weights: Weights) -> Result<VanillaNet> {
        match weights {
            Weights::Trained => Ok(self.model().valid()),
            Weights::Ema => self
                .ema()
                .cloned()
                .ok_or_else(|| Error::InvalidInput("there is no moving average of the weights: its decay is 0".into())),
        }
    }

    /// `weights` at the next step's lambda with the data and the device: what evaluation, the
    /// fuse report, the comparison and the views of the inside are read from.
    pub fn trained_net(&self, weights: Weights) -> Result<TrainedNet<'_>> {
        Ok(TrainedNet {
            net: self.net(weights)?,
            weights,
            config: &self.config,
            data: &self.data,
            lambda: self.lambda(),
            step: self.global_step,
            device: self.device(),
        })
    }

    /// The device the net trains on, without autodiff: where its eval-mode forms live.
    pub fn device(&self) -> Device {
        self.device.clone().inner()
    }

    /// Why the net cannot be fused now, or none when it can: its convs merge only once the
    /// activation between them is the identity (lambda 1).
    pub fn cannot_fuse(&self) -> Option<String> {
        let lambda = self.lambda();
        (self.model().uses_lambda() && lambda != 1.0).then(|| Error::FuseLambda { lambda }.to_string())
    }

    /// The learning rate of the next step.
    pub fn learning_rate(&self) -> f64 {
        self.options.learning_rates().at(self.epoch, self.step, self.steps_per_epoch())
    }

    /// Changes the options mid-training. The weights and the position in training stay; the
    /// learning rate, schedule, epochs and batch size apply from the next step, a new optimizer
    /// kind starts with fresh state. Options that change the architecture need a reset.
    pub fn set_options(&mut self, options: TrainOptions) -> Result<()> {
        if options.validation != self.options.validation {
            return Err(Error::InvalidConfig(
                "the validation share changed, so the training images would: reset to train with it".into(),
            ));
        }
        if options.model_config(&self.data)? != self.config_as_chosen() {
            return Err(Error::InvalidConfig(
                "the preset, act_num, deep training, shortcut or drop rate changed: reset to train a new model".into(),
            ));
        }
        // A moving average switched on starts from the weights as they are.
        match (options.ema_decay > 0.0, self.ema.is_some()) {
            (true, false) => self.ema = Some(Ema::start(self.model())),
            (false, true) => self.ema = None,
            _ => {}
        }
        let new_optimizer = options.optimizer != self.options.optimizer
            || options.weight_decay != self.options.weight_decay
            || options.momentum != self.options.momentum;
        if options.batch_size != self.options.batch_size {
            // Keep the position as a fraction of the epoch.
            let done = self.step * self.options.batch_size;
            self.step = done / options.batch_size;
        }
        self.options = options;
        if new_optimizer {
            self.optim = self.options.optimizer();
        }
        Ok(())
    }

    /// Ends deep training with the current epoch: lambda reaches 1 at its end (the schedule
    /// shortened, the weights kept), so the net can be fused then. Answers whether anything
    /// changed (not once lambda is 1 already). Refused once training is finished.
    pub fn finish_annealing(&mut self) -> Result<bool> {
        if self.finished() {
            return Err(Error::InvalidInput("training is finished: reset to train again".into()));
        }
        if self.cannot_fuse().is_none() {
            return Ok(false);
        }
        let decay_epochs = self.options.decay_epochs.min(self.epoch + 1);
        self.set_options(TrainOptions { decay_epochs, ..self.options.clone() })?;
        Ok(true)
    }

    /// One optimizer step on the next batch, at the scheduled lambda.
    pub async fn step(&mut self) -> Result<StepReport> {
        if self.finished() {
            return Err(Error::InvalidInput(format!("training is finished ({} epochs)", self.options.epochs)));
        }
        let continued_before = self.continue_if_due()?;
        let steps_per_epoch = self.steps_per_epoch();
        let (lambda, learning_rate) = (self.lambda(), self.learning_rate());
        let start = self.step * self.options.batch_size;
        let end = (start + self.options.batch_size).min(self.order.len());
        let mut draws = Draws::of_step(self.options.seed, self.epoch, self.step);
        let (x, y) = self.data.augmented_batch(
            &self.data.train,
            &self.order[start..end],
            &self.options.augment(),
            &mut draws,
            &self.device,
        );
        if self.checked_good.is_none() {
            self.checked_good = Some((state_dict_async(self.model()).await?, self.global_step));
        }
        let model = self.model.take().expect("one step at a time");
        let logits = model.forward(x, lambda);
        let correct = correct(logits.clone(), y.clone());
        let loss = self.options.loss(&self.device).forward(logits, y);
        let loss_value = loss.clone().inner();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        self.model = Some(self.optim.step(learning_rate, model, grads));

        // Loss and correct answers in one read: a host round trip is the slow part of a step on
        // a GPU.
        let read = read_vec(Tensor::cat(vec![loss_value.reshape([1]), correct.reshape([1])], 0)).await?;
        let (loss, correct) = (read[0], read[1]);
        if !loss.is_finite() {
            // Back to the last weights known finite, with fresh optimizer moments.
            let (good, restored) = self.checked_good.as_ref().expect("taken before the first step");
            self.model = Some(load_state(self.config.init(&self.device), good, &self.device)?);
            self.optim = self.options.optimizer();
            // The average took this step's weights too: it starts over from the good ones.
            if self.ema.is_some() {
                self.ema = Some(Ema::start(self.model()));
            }
            return Err(Error::Diverged {
                step: self.global_step + 1,
                loss,
                restored: *restored,
                learning_rate: self.options.learning_rate,
            });
        }
        let decay = warmed_up_decay(self.options.ema_decay_per_step(self.steps_per_epoch()), self.global_step);
        if let Some(ema) = &mut self.ema {
            ema.update(self.model.as_ref().expect("put back above"), decay);
        }
        let warning = self.loss_watch.see(loss, self.global_step + 1, self.options.learning_rate);
        let report = StepReport {
            epoch: self.epoch,
            step: self.step,
            global_step: self.global_step + 1,
            steps_per_epoch,
            lambda,
            learning_rate,
            loss,
            batch_accuracy: correct / (end - start) as f32,
            batch_size: end - start,
            epoch_end: self.step + 1 >= steps_per_epoch,
            warning,
            inside: None,
            continued: continued_before,
        };
        self.global_step += 1;
        self.step += 1;
        if self.step >= steps_per_epoch {
            self.step = 0;
            self.epoch += 1;
            self.shuffle();
        }
        let mut report = report;
        report.inside = self.probe_after_step(&report).await?;
        // After the probe: the epoch's last one is of the pairs at lambda 1.
        report.continued |= self.continue_if_due()?;
        if report.epoch_end || self.global_step % CHECK_EVERY == 0 {
            let sd = state_dict_async(self.model()).await?;
            if sd.all_finite() {
                self.checked_good = Some((sd, self.global_step));
            }
        }
        Ok(report)
    }
}
