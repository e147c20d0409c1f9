//! Why the session refuses a call: what is missing for it (a dataset, a trainer, a classifier,
//! ...), a request that makes no sense in the state it is in, or the engine's own error.

use crate::error::Error;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("no dataset loaded")]
    NoDataset,
    #[error("no model yet: start training first")]
    NoTrainer,
    #[error("no classifier yet: fuse a trained model or load a checkpoint")]
    NoClassifier,
    /// The fused form of the trained net is asked for, and the classifier is not one.
    #[error("no fused form of the trained net: fuse it first")]
    NoFusedForm,
    #[error("no checkpoint read")]
    NoCheckpoint,
    #[error("no study: start one first")]
    NoStudy,
    #[error("evaluate the net first")]
    NotEvaluated,
    /// The call makes no sense in the state the session is in; the message says why.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Engine(#[from] Error),
}

pub type Result<T> = std::result::Result<T, SessionError>;
