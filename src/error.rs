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
    #[error("cannot read checkpoint: {0}")]
    Format(String),
    #[error("cannot read tensor data from the device: {0}")]
    Readback(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T> = std::result::Result<T, Error>;
