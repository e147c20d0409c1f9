//! What the session tells the page as it goes, beside its answers: each event is posted by the
//! worker as it is (`{type, ...}`, camelCase), in the order the session emits them.

use serde::Serialize;

use crate::session::answers::{ClassifierInfo, ModelInfo, Progress};
use crate::session::jobs::JobState;
use crate::train::evaluation::Evaluation;
use crate::train::fuse_report::FuseReport;
use crate::train::options::TrainOptions;
use crate::train::study::{StudyProgress, StudyReport};
use crate::train::trainer::StepReport;

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Event {
    /// The trainer's state.
    State {
        state: JobState,
    },
    /// The study's state.
    StudyState {
        state: JobState,
    },
    /// A new trainer (or one restored from a snapshot).
    Model {
        info: ModelInfo,
        options: TrainOptions,
        restored: bool,
    },
    /// The options changed, weights kept.
    Options {
        options: TrainOptions,
        total_steps: usize,
    },
    /// The trainer is gone (the data stays).
    Reset,
    Step {
        report: StepReport,
        ms: f64,
        images_per_sec: f64,
        train_accuracy: f32,
        next: Progress,
    },
    /// Test accuracy at a step: of part of the test set (`full` false) or all of it. A field
    /// left out is not told (an epoch's end evaluates the trained net and the average apart);
    /// one that is null has no value (no test images, no average).
    Eval {
        step: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        test_accuracy: Option<Option<f32>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        ema_accuracy: Option<Option<f32>>,
        full: bool,
    },
    /// Accuracy on the validation images (held out of the training images) at an epoch's end:
    /// of the trained net and of the moving average (null without one).
    Validation {
        step: usize,
        accuracy: f32,
        ema_accuracy: Option<f32>,
    },
    Evaluation {
        evaluation: Evaluation,
    },
    /// The watched channel's activation response.
    Activation {
        layer: usize,
        channel: usize,
        inputs: Vec<f32>,
        curve: Vec<f32>,
        kernel: Vec<f32>,
    },
    /// Lambda reached 1 after "finish annealing": the trainer paused.
    Annealed,
    /// The session fused the net on its own (after annealing): the new classifier.
    Fused {
        report: FuseReport,
        classifier: ClassifierInfo,
    },
    StudyStep {
        progress: StudyProgress,
    },
    /// A study run finished: the report so far.
    StudyRun {
        report: StudyReport,
    },
    /// `key`: a message of the page's (translated there); else `message` as it is.
    Info {
        #[serde(skip_serializing_if = "Option::is_none")]
        key: Option<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    Error {
        #[serde(skip_serializing_if = "Option::is_none")]
        key: Option<&'static str>,
        message: String,
    },
}
