//! The crate's one error type: what went wrong with a config, a checkpoint, an image or a
//! dataset, each message naming the offending item.

use thiserror::Error;

/// Everything that can go wrong with user-supplied configs, checkpoints and inputs.
/// Each message names the offending item, so it can be shown as it is.
#[derive(Debug, Error)]
pub enum Error {
    #[error("invalid architecture: {0}")]
    InvalidConfig(String),
    /// A training option out of range; the message names it.
    #[error("{0}")]
    InvalidOption(String),
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("checkpoint has no tensor '{key}' (expected shape {expected:?}); is the architecture right?")]
    MissingKey { key: String, expected: Vec<usize> },
    #[error("tensor '{key}' has shape {actual:?} but the architecture expects {expected:?}")]
    ShapeMismatch { key: String, expected: Vec<usize>, actual: Vec<usize> },
    #[error("checkpoint has tensors the architecture does not use: {}", .keys.join(", "))]
    UnexpectedKeys { keys: Vec<String> },
    #[error(
        "not a VanillaNet state_dict: no 'stem1.0.weight' (training form) nor 'stem.0.weight' (deploy form); first keys: {0}"
    )]
    NotVanillaNet(String),
    #[error(
        "cannot fuse at lambda = {lambda}: the two convs of a block merge into one only when the activation between them is the identity (lambda = 1); finish annealing first"
    )]
    FuseLambda { lambda: f64 },
    #[error(
        "training diverged at step {step}: the loss became {loss}. The weights are back to those after step {restored}, the last ones known to be finite; lower the learning rate (now {learning_rate}), then continue"
    )]
    Diverged { step: usize, loss: f32, restored: usize, learning_rate: f64 },
    /// A file's bytes do not read as what they should be: `what` (a checkpoint, a model card, a
    /// training snapshot) and why.
    #[error("cannot read {what}: {reason}")]
    Read { what: &'static str, reason: String },
    /// A file could not be written (the path and the system's reason).
    #[error("cannot write {path}: {reason}")]
    Write { path: String, reason: String },
    /// Something could not be turned into bytes: `what` (safetensors, ONNX, JSON) and why.
    #[error("cannot encode {what}: {reason}")]
    Encode { what: &'static str, reason: String },
    #[error("cannot read tensor data from the device: {0}")]
    Readback(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn read(what: &'static str, reason: impl std::fmt::Display) -> Self {
        Error::Read { what, reason: reason.to_string() }
    }

    pub fn write(path: impl std::fmt::Display, reason: impl std::fmt::Display) -> Self {
        Error::Write { path: path.to_string(), reason: reason.to_string() }
    }

    pub fn encode(what: &'static str, reason: impl std::fmt::Display) -> Self {
        Error::Encode { what, reason: reason.to_string() }
    }
}
