//! Training: the options, the lambda schedule of deep training, the learning rate's schedule,
//! the moving average of the weights, the one training loop (the page's and the CLI's), and
//! the paper's ablation studies built on it.

pub mod ema;
pub mod evaluation;
pub mod inside;
pub mod lambda;
pub mod lr;
pub mod options;
pub mod study;
pub mod table;
pub mod trainer;
