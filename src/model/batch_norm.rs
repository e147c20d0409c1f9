//! BatchNorm with PyTorch's exact semantics, and its folding into the conv before it.

use burn::module::{Flag, Module, Param, RunningState};
use burn::tensor::{Device, Tensor, activation::leaky_relu};

use crate::model::ops::batch_norm_leaky;

/// The official code builds every BatchNorm with eps 1e-6 (PyTorch's default is 1e-5).
pub const BN_EPS: f64 = 1e-6;
pub const BN_MOMENTUM: f64 = 0.1;

/// A BatchNorm2d that matches `torch.nn.BatchNorm2d(eps=1e-6)` in training too: burn's own
/// `BatchNorm` updates the running variance with the biased batch variance, PyTorch with the
/// unbiased one, which would make running statistics (and so every fused model) drift apart.
#[derive(Module, Debug)]
pub struct BatchNorm2d {
    pub gamma: Param<Tensor<1>>,
    pub beta: Param<Tensor<1>>,
    pub running_mean: RunningState<Tensor<1>>,
    pub running_var: RunningState<Tensor<1>>,
    training: Param<Flag>,
}

impl BatchNorm2d {
    pub fn new(channels: usize, device: &Device) -> Self {
        Self {
            gamma: Param::from_tensor(Tensor::ones([channels], device)),
            beta: Param::from_tensor(Tensor::zeros([channels], device)),
            running_mean: RunningState::new(Tensor::zeros([channels], device)),
            running_var: RunningState::new(Tensor::ones([channels], device)),
            training: Param::from_bool(true),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.forward_leaky(x, 1.0)
    }

    /// [`Self::forward`], then `leaky_relu(., slope)` (deep training's activation; 1: none),
    /// in one op while training.
    pub fn forward_leaky(&self, x: Tensor<4>, slope: f64) -> Tensor<4> {
        if !(x.device().is_autodiff() && self.training.is_enabled()) {
            // On the running statistics, an affine map per channel: two passes over x, where
            // burn's `batch_norm` takes four.
            let device = x.device();
            let [c] = self.gamma.dims();
            let scale = self.scale().to_device(&device);
            let shift = self.beta.val().sub(self.running_mean.value_sync().to_device(&device).mul(scale.clone()));
            let out = x.mul(scale.reshape([1, c, 1, 1])).add(shift.reshape([1, c, 1, 1]));
            return if slope == 1.0 { out } else { leaky_relu(out, slope) };
        }
        let [b, _, h, w] = x.dims();
        let n = (b * h * w) as f64;
        let device = x.device();
        let out = batch_norm_leaky(x, self.gamma.val(), self.beta.val(), BN_EPS, slope);
        let unbiased = if n > 1.0 { n / (n - 1.0) } else { 1.0 };
        let mean = self.running_mean.value_sync().to_device(&device);
        let var = self.running_var.value_sync().to_device(&device);
        self.running_mean.update(mean.mul_scalar(1.0 - BN_MOMENTUM).add(out.mean.mul_scalar(BN_MOMENTUM)).detach());
        self.running_var
            .update(var.mul_scalar(1.0 - BN_MOMENTUM).add(out.variance.mul_scalar(BN_MOMENTUM * unbiased)).detach());
        out.output
    }

    /// The per-channel factor folding multiplies a conv's weights by: gamma / sqrt(var + eps).
    pub fn scale(&self) -> Tensor<1> {
        self.gamma.val().div(self.running_var.value_sync().add_scalar(BN_EPS).sqrt())
    }

    /// Folds this BN (with its running statistics) into the conv `weight`/`bias` before it:
    /// W' = W * s, b' = beta + (b - mean) * s with s = gamma / sqrt(var + eps).
    pub fn fold(&self, weight: Tensor<4>, bias: Option<Tensor<1>>) -> (Tensor<4>, Tensor<1>) {
        let [c] = self.gamma.dims();
        let scale = self.gamma.val().div(self.running_var.value_sync().add_scalar(BN_EPS).sqrt());
        let mean = self.running_mean.value_sync();
        let centered = match bias {
            Some(b) => b.sub(mean),
            None => mean.neg(),
        };
        let bias = self.beta.val().add(centered.mul(scale.clone()));
        (weight.mul(scale.reshape([c, 1, 1, 1])), bias)
    }
}
