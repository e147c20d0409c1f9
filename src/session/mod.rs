//! The session the page works on, as plain Rust (natively tested, and the browser's through the
//! `web` shim): the backend, the dataset, the trainer, a study beside it, the classifier and
//! where it came from, the evaluations while they hold, and the loop that steps the trainer or
//! the study. What happens as it goes is told as [`Event`]s, to the sink the caller sets.
//!
//! Calls take `&mut self` for their whole run: the browser's worker makes them one at a time.

mod answers;
mod backend;
mod current;
mod error;
mod evaluations;
mod events;
mod jobs;

mod classifying;
mod inside;
mod running;
mod training;

use burn::tensor::Device;

use crate::data::dataset::Dataset;
use crate::io::state_dict::StateDict;
use crate::model::Weights;
use crate::train::study::StudyRun;
use crate::train::trainer::Trainer;

pub use answers::{
    ActivationResponse, CheckpointRead, ClassifierInfo, DataSummary, Limits, ModelInfo, OptionsTables, Progress,
    Restored, Status, StudyDescription,
};
pub use backend::{Backend, BackendChoice, BackendRequest};
pub use current::{Current, Origin};
pub use error::{Result, SessionError};
pub use evaluations::Evaluations;
pub use events::Event;
pub use jobs::{
    ACTIVATION_EVERY, EVAL_EVERY, EVAL_LIMIT, FUSE_LIMIT, JobState, Jobs, Watched, WhenAnnealed, activation_inputs,
};

/// Where the session's events go: a callback (the worker posts each at once), or a list the
/// caller takes (tests).
type Sink = Box<dyn FnMut(Event)>;

pub struct Session {
    /// The WebGPU device, once opened: the runtime initialises once, later switches reuse it.
    webgpu: Option<Device>,
    device: Device,
    backend: Backend,
    data: Option<Dataset>,
    trainer: Option<Trainer>,
    /// An ablation study (on a copy of the data), beside the trainer.
    study: Option<StudyRun>,
    classifier: Option<Current>,
    /// A checkpoint read, waiting for `use_checkpoint` to settle what its tensors can't tell.
    checkpoint: Option<StateDict>,
    evaluations: Evaluations,
    jobs: Jobs,
    sink: Option<Sink>,
    events: Vec<Event>,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

impl Session {
    /// A session on the CPU backend, with nothing loaded.
    pub fn new() -> Self {
        Session {
            webgpu: None,
            device: Device::flex(),
            backend: Backend::Cpu,
            data: None,
            trainer: None,
            study: None,
            classifier: None,
            checkpoint: None,
            evaluations: Evaluations::default(),
            jobs: Jobs::default(),
            sink: None,
            events: Vec::new(),
        }
    }

    /// Every event from now on goes to `sink` as it happens.
    pub fn set_sink(&mut self, sink: impl FnMut(Event) + 'static) {
        self.sink = Some(Box::new(sink));
    }

    /// The events since the last call, without a sink.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    fn emit(&mut self, event: Event) {
        match &mut self.sink {
            Some(sink) => sink(event),
            None => self.events.push(event),
        }
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn data(&self) -> Result<&Dataset> {
        self.data.as_ref().ok_or(SessionError::NoDataset)
    }

    pub fn trainer(&self) -> Result<&Trainer> {
        self.trainer.as_ref().ok_or(SessionError::NoTrainer)
    }

    fn trainer_mut(&mut self) -> Result<&mut Trainer> {
        self.trainer.as_mut().ok_or(SessionError::NoTrainer)
    }

    pub fn has_trainer(&self) -> bool {
        self.trainer.is_some()
    }

    /// The classifier and where it came from.
    pub fn current(&self) -> Option<&Current> {
        self.classifier.as_ref()
    }

    pub fn evaluations(&self) -> &Evaluations {
        &self.evaluations
    }

    pub fn jobs(&self) -> &Jobs {
        &self.jobs
    }

    /// What exists now, and where the jobs stand.
    pub fn status(&self) -> Status {
        let (data, trainer, classifier) = (self.data.as_ref(), self.trainer.as_ref(), self.classifier.as_ref());
        Status::of(self.backend, data, trainer, classifier, self.evaluations.models(), &self.jobs)
    }

    /// The trainer's weights changed (or it is gone): every evaluation is stale, and a
    /// classifier fused from the weights before is dropped.
    fn weights_changed(&mut self) {
        self.evaluations.weights_changed();
        if self.classifier.as_ref().is_some_and(|c| c.origin == Origin::Trainer) {
            self.classifier = None;
        }
    }

    /// The moving average of the weights went, or started afresh (its decay set to 0, or from
    /// 0): what was fused or evaluated of it is gone; of the trained weights it holds.
    fn ema_changed(&mut self) {
        self.evaluations.ema_changed();
        let from_ema = |c: &Current| c.origin == Origin::Trainer && c.classifier.card.weights == Some(Weights::Ema);
        if self.classifier.as_ref().is_some_and(from_ema) {
            self.classifier = None;
            self.evaluations.classifier_changed();
        }
    }

    fn set_classifier(&mut self, current: Current) {
        self.evaluations.classifier_changed();
        self.classifier = Some(current);
    }

    fn set_train_state(&mut self, state: JobState) {
        self.jobs.train = state;
        self.emit(Event::State { state });
    }

    fn set_study_state(&mut self, state: JobState) {
        self.jobs.study = state;
        self.emit(Event::StudyState { state });
    }

    /// Drops the trainer (the data stays); the trainer's state is idle again.
    pub fn reset(&mut self) {
        self.trainer = None;
        self.weights_changed();
        self.jobs.train_accuracy = None;
        self.jobs.when_annealed = None;
        self.set_train_state(JobState::Idle);
        self.emit(Event::Reset);
    }

    /// New data: the trainer goes (see [`Self::reset`]); a study keeps its own copy.
    pub fn set_data(&mut self, data: Dataset) -> DataSummary {
        let summary = DataSummary::of(&data);
        self.data = Some(data);
        self.reset();
        summary
    }

    /// Picks the backend. The trainer, the classifier and a study move to the new device; if
    /// one can't, nothing moves.
    pub async fn set_backend(&mut self, request: BackendRequest) -> Result<BackendChoice> {
        let mut fallback_reason = None;
        let (device, backend) = match request {
            BackendRequest::Cpu => (Device::flex(), Backend::Cpu),
            BackendRequest::Webgpu | BackendRequest::Auto => {
                let ready = match &self.webgpu {
                    Some(d) => Ok(d.clone()),
                    None => backend::open_webgpu().await,
                };
                match ready {
                    Ok(d) => {
                        self.webgpu = Some(d.clone());
                        (d, Backend::Webgpu)
                    }
                    Err(e) if request == BackendRequest::Auto => {
                        fallback_reason = Some(format!("WebGPU unavailable ({e}); using the CPU"));
                        (Device::flex(), Backend::Cpu)
                    }
                    Err(e) => return Err(SessionError::Refused(format!("WebGPU unavailable: {e}"))),
                }
            }
        };
        let name = serde_json::to_string(&backend).unwrap_or_default();
        // Through the file form: the same bytes an export gives, read onto the new device.
        let moved = match &self.classifier {
            Some(c) => Some(c.classifier.to_device(&device).await.map_err(|e| {
                SessionError::Refused(format!("could not move the classifier to {}: {e}", name.trim_matches('"')))
            })?),
            None => None,
        };
        if let Some(trainer) = &mut self.trainer {
            trainer.move_to(&device).await.map_err(|e| {
                SessionError::Refused(format!("could not move the model to {}: {e}", name.trim_matches('"')))
            })?;
        }
        if let (Some(current), Some(moved)) = (&mut self.classifier, moved) {
            current.classifier = moved;
        }
        if let Some(study) = &mut self.study {
            study.set_device(&device);
        }
        self.device = device;
        self.backend = backend;
        Ok(BackendChoice { backend, fallback_reason })
    }
}
