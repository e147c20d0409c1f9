//! Training: the options, the lambda schedule of deep training, the learning rate's schedule,
//! the moving average of the weights, the one training loop (the page's and the CLI's), the
//! paper's ablation studies built on it; and what is read off a trained net, as functions of a
//! [`trained_net::TrainedNet`] that the CLI, the studies and the page share: evaluation,
//! fusing with its report, comparing both forms on an image, the views of the inside. And
//! starting from a checkpoint: a new head on a fused body's features (`transfer`).

pub mod compare;
pub mod ema;
pub mod evaluation;
pub mod fuse_report;
pub mod inside;
pub mod lambda;
pub mod lr;
pub mod options;
pub mod recipes;
pub mod study;
pub mod table;
pub mod trained_net;
pub mod trainer;
pub mod transfer;
pub mod tta;
