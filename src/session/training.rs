//! The trainer in the session: made (or given new options), its options checked and its
//! schedule drawn, the test set's verdict on it (kept while the weights hold), fused into the
//! classifier, saved and continued, exported in the authors' training form.

use crate::data::dataset::Split;
use crate::model::Weights;
use crate::session::Session;
use crate::session::answers::{ModelInfo, Progress, Restored};
use crate::session::current::{Current, Origin};
use crate::session::error::{Result, SessionError};
use crate::session::events::Event;
use crate::session::jobs::{FUSE_LIMIT, JobState};
use crate::train::evaluation::{Evaluated, Evaluation, Scored, accuracy_on, evaluate_fused_tta, evaluate_net_tta};
use crate::train::fuse_report::FuseReport;
use crate::train::lambda::Curve;
use crate::train::options::TrainOptions;
use crate::train::table::OptionError;
use crate::train::trainer::Trainer;

impl Session {
    fn install(&mut self, trainer: Trainer, restored: bool) -> Result<ModelInfo> {
        let info = ModelInfo::of(&trainer)?;
        let options = trainer.options().clone();
        self.trainer = Some(trainer);
        self.weights_changed();
        if let Some(every) = self.jobs.probe_every {
            self.trainer_mut()?.set_probe_every(every)?;
        }
        self.jobs.train_accuracy = None;
        self.jobs.when_annealed = None;
        self.emit(Event::Model { info: info.clone(), options, restored });
        Ok(info)
    }

    /// A new model and optimizer for the loaded dataset.
    pub fn create_trainer(&mut self, options: TrainOptions) -> Result<ModelInfo> {
        let trainer = Trainer::new(&self.device, self.data()?.clone(), options)?;
        self.install(trainer, false)
    }

    /// New learning rate, schedule, optimizer, epochs or batch size, keeping the weights:
    /// answers the total number of steps.
    pub fn set_options(&mut self, options: TrainOptions) -> Result<usize> {
        let trainer = self.trainer_mut()?;
        let had_ema = trainer.ema().is_some();
        trainer.set_options(options)?;
        let ema_changed = trainer.ema().is_some() != had_ema;
        let (options, total_steps) = (trainer.options().clone(), trainer.total_steps());
        if ema_changed {
            self.ema_changed();
        }
        self.emit(Event::Options { options, total_steps });
        Ok(total_steps)
    }

    /// A trainer with these options: a new one, or the one there is with its options changed.
    pub fn ensure_trainer(&mut self, options: TrainOptions) -> Result<()> {
        match self.trainer {
            None => self.create_trainer(options).map(|_| ()),
            Some(_) => self.set_options(options).map(|_| ()),
        }
    }

    /// Which option is out of range for the loaded data and why, if one is.
    pub fn check_options(&self, options: &TrainOptions) -> Result<Option<OptionError>> {
        Ok(options.check(self.data()?).err())
    }

    /// The lambda and learning-rate schedules these options give on the loaded dataset, at most
    /// about `max_points` points; none for options that do not pass the check.
    pub fn schedule(&self, options: &TrainOptions, max_points: usize) -> Result<Option<Curve>> {
        let data = self.data()?;
        if options.check(data).is_err() {
            return Ok(None);
        }
        let steps_per_epoch = data.train.len().div_ceil(options.batch_size);
        Ok(Some(options.lambda_schedule().sample_with(&options.learning_rates(), steps_per_epoch, max_points)))
    }

    /// Test accuracy of the trained net on up to `limit` images (all when none); none without
    /// test images.
    pub async fn accuracy(&self, weights: Weights, limit: Option<usize>) -> Result<Option<f32>> {
        self.accuracy_on(weights, |t| &t.data().test, limit).await
    }

    /// Accuracy on the validation images of the trained net or its moving average; none
    /// without validation images (or without an average).
    pub async fn validation_accuracy(&self, weights: Weights) -> Result<Option<f32>> {
        self.accuracy_on(weights, Trainer::validation, None).await
    }

    /// The trained net's or its average's accuracy on a split of the trainer's images (none
    /// without an average).
    async fn accuracy_on(
        &self,
        weights: Weights,
        split: fn(&Trainer) -> &Split,
        limit: Option<usize>,
    ) -> Result<Option<f32>> {
        let trainer = self.trainer()?;
        if weights == Weights::Ema && trainer.ema().is_none() {
            return Ok(None);
        }
        Ok(accuracy_on(&trainer.trained_net(weights)?, split(trainer), limit).await?)
    }

    /// The trained net, the moving average of its weights or the trained net's fused form on
    /// the whole test set, kept until the weights change; told as events too (a kept one again).
    pub async fn evaluation(&mut self, model: Evaluated) -> Result<Evaluation> {
        let trainer = self.trainer()?;
        // A kept evaluation holds while the weights do, unless the test-time augmentation asked
        // for has changed since.
        let tta = trainer.options().tta;
        let kept = self.evaluations.get(model).filter(|e| e.tta == tta.for_data(trainer.data().mirror));
        let evaluation = match (kept, model) {
            (Some(kept), _) => kept.clone(),
            (None, Evaluated::Trained) => evaluate_net_tta(&trainer.trained_net(Weights::Trained)?, tta).await?,
            (None, Evaluated::Ema) => evaluate_net_tta(&trainer.trained_net(Weights::Ema)?, tta).await?,
            (None, Evaluated::Fused) => {
                let fused = Current::fused_from_trainer(self.classifier.as_ref()).ok_or(SessionError::NoFusedForm)?;
                evaluate_fused_tta(fused, trainer.data(), &trainer.device(), trainer.global_step(), tta).await?
            }
        };
        self.evaluations.keep(evaluation.clone());
        self.emit(Event::Evaluation { evaluation: evaluation.clone() });
        let (step, value) = (evaluation.step, Some(Some(evaluation.accuracy)));
        match model {
            Evaluated::Trained => self.emit(Event::Eval { step, test_accuracy: value, ema_accuracy: None, full: true }),
            Evaluated::Ema => self.emit(Event::Eval { step, test_accuracy: None, ema_accuracy: value, full: true }),
            Evaluated::Fused => {}
        }
        Ok(evaluation)
    }

    /// The test images of one cell of a kept evaluation's confusion matrix (true class `label`,
    /// answered `predicted`), most confident first.
    pub fn evaluation_cell(
        &self,
        model: Evaluated,
        label: usize,
        predicted: usize,
        limit: usize,
    ) -> Result<Vec<Scored>> {
        let e = self.evaluations.get(model).ok_or(SessionError::NotEvaluated)?;
        Ok(e.cell(label, predicted, limit)?)
    }

    /// Fuses the trained net or the moving average of its weights (`None`: the trainer's
    /// default), refused below lambda 1 with the reason, and compares both forms on up to
    /// `limit` test images ([`FUSE_LIMIT`] unless given). The fused net becomes the classifier.
    pub async fn fuse(&mut self, limit: Option<usize>, weights: Option<Weights>) -> Result<FuseReport> {
        let limit = limit.unwrap_or(FUSE_LIMIT);
        let trainer = self.trainer()?;
        let weights = match weights {
            None => trainer.default_weights(),
            Some(Weights::Ema) if trainer.ema().is_none() => {
                return Err(SessionError::Refused("there is no moving average of the weights: its decay is 0".into()));
            }
            Some(w) => w,
        };
        let (classifier, report) = trainer.fuse_weights(weights, limit).await?;
        self.set_classifier(Current { classifier, origin: Origin::Trainer });
        Ok(report)
    }

    /// The weights and position in training as one safetensors file, and where it stands.
    pub async fn snapshot(&self) -> Result<(Vec<u8>, Progress)> {
        let trainer = self.trainer()?;
        Ok((trainer.snapshot().await?, Progress::of(trainer)))
    }

    /// Continues the run a `snapshot` saved, on the loaded dataset, paused (or finished), with
    /// the moving train accuracy the page kept.
    pub async fn restore(&mut self, bytes: Vec<u8>, train_accuracy: Option<f32>) -> Result<Restored> {
        let trainer = Trainer::restore(&self.device, self.data()?.clone(), bytes)?;
        let info = self.install(trainer, true)?;
        // One that is no accuracy (a damaged record) is dropped: the average starts afresh.
        self.jobs.train_accuracy = train_accuracy.filter(|a| (0.0..=1.0).contains(a));
        let status = Progress::of(self.trainer()?);
        let state = if status.finished { JobState::Finished } else { JobState::Paused };
        self.set_train_state(state);
        self.send_activation().await;
        Ok(Restored { info, status })
    }

    /// The trained net (or its moving average) in the authors' training form: official key
    /// names, BN step counters, the card. It loads with `strict=True` into their PyTorch
    /// `VanillaNet`.
    pub async fn export_training(&self, weights: Option<Weights>) -> Result<Vec<u8>> {
        let trainer = self.trainer()?;
        let weights = weights.unwrap_or(trainer.default_weights());
        Ok(trainer.export_training_of(weights).await?)
    }
}
