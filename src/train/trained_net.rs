//! A training run's net at one moment, as every read of it takes it: the eval-mode net (its
//! trained weights or their moving average), the lambda it runs at, the data it learns from and
//! the device. Evaluation, the fuse report, the comparison and the views of the inside are
//! functions of this, shared by the CLI, the studies and the page; the trainer only makes it.

use burn::tensor::Device;

use crate::data::dataset::Dataset;
use crate::model::config::VanillaNetConfig;
use crate::model::{VanillaNet, Weights};

pub struct TrainedNet<'a> {
    /// Eval mode: running BN statistics, no dropout.
    pub net: VanillaNet,
    /// Which weights `net` holds.
    pub weights: Weights,
    pub config: &'a VanillaNetConfig,
    pub data: &'a Dataset,
    /// The lambda of the next step: what the net runs at now.
    pub lambda: f64,
    /// Steps done, which an evaluation is stamped with.
    pub step: usize,
    /// Where `net` lives (without autodiff).
    pub device: Device,
}
