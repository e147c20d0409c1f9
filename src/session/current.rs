//! The classifier the page classifies with, and where it came from: fused from the trainer's
//! current weights (so the trained net can be compared with it, and a training step drops it),
//! read from a checkpoint, or made with random weights for a benchmark.

use serde::{Deserialize, Serialize};

use crate::classify::Classifier;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// The fused form of the trainer's weights as they are now (its card says which weights).
    Trainer,
    /// A checkpoint file the user loaded.
    Checkpoint,
    /// A named model with random weights (benchmarks).
    Random,
}

pub struct Current {
    pub classifier: Classifier,
    pub origin: Origin,
}

impl Current {
    /// The classifier, when it is the fused form of the trainer's current weights.
    pub fn fused_from_trainer(current: Option<&Current>) -> Option<&Classifier> {
        current.filter(|c| c.origin == Origin::Trainer).map(|c| &c.classifier)
    }
}
