//! What the session's one loop runs: the trainer's and the study's states (only one of them
//! runs at a time), what to do once lambda reaches 1, the moving train accuracy, how often to
//! look at the test set and at a channel's activation. The page's worker only drives the loop.

use serde::{Deserialize, Serialize};

use crate::model::Weights;

/// Steps between two quick looks at part of the test set (an epoch's end looks at all of it).
pub const EVAL_EVERY: usize = 50;
/// Test images a quick look takes.
pub const EVAL_LIMIT: usize = 500;
/// Test images the fuse report compares the two forms on.
pub const FUSE_LIMIT: usize = 500;
/// Steps between two reads of the watched channel's activation response.
pub const ACTIVATION_EVERY: usize = 10;
/// The inputs the watched activation's response is read at: -2 to 2 by 0.1.
pub fn activation_inputs() -> Vec<f32> {
    (0..41).map(|i| -2.0 + i as f32 * 0.1).collect()
}
/// Weight of the newest batch in the moving train accuracy.
const TRAIN_ACCURACY_WEIGHT: f32 = 0.1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Idle,
    Running,
    Paused,
    Finished,
}

/// The channel whose activation response the page draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watched {
    pub layer: usize,
    pub channel: usize,
}

/// What happens once lambda reaches 1 after "finish annealing", beyond the trainer pausing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenAnnealed {
    /// Nothing more: the caller fuses when it likes.
    Pause,
    /// The session fuses these weights into the classifier (`None`: the trainer's default).
    Fuse(Option<Weights>),
}

pub struct Jobs {
    pub train: JobState,
    pub study: JobState,
    /// A loop is stepping (the worker runs at most one).
    pub looping: bool,
    pub when_annealed: Option<WhenAnnealed>,
    /// Moving average of the batch accuracies since the trainer was made (or restored).
    pub train_accuracy: Option<f32>,
    pub eval_every: usize,
    pub eval_limit: usize,
    pub watched: Watched,
    /// Steps between decay probes for trainers made from now on; `None`: the trainer's default.
    pub probe_every: Option<usize>,
}

impl Default for Jobs {
    fn default() -> Self {
        Self {
            train: JobState::Idle,
            study: JobState::Idle,
            looping: false,
            when_annealed: None,
            train_accuracy: None,
            eval_every: EVAL_EVERY,
            eval_limit: EVAL_LIMIT,
            watched: Watched { layer: 1, channel: 0 },
            probe_every: None,
        }
    }
}

impl Jobs {
    pub fn running(&self) -> bool {
        self.train == JobState::Running || self.study == JobState::Running
    }

    pub fn add_batch_accuracy(&mut self, batch: f32) -> f32 {
        let w = TRAIN_ACCURACY_WEIGHT;
        let now = self.train_accuracy.map_or(batch, |a| (1.0 - w) * a + w * batch);
        self.train_accuracy = Some(now);
        now
    }
}
