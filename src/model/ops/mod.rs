//! VanillaNet's own operations: a burn backend extension for what the net is made of, where
//! burn's generic kernels are slow for it.
//!
//! - [`series`]: the series informed activation's ReLU and depthwise conv, forward and both
//!   gradients (burn-flex has no depthwise backward: its weight gradient loops over channels and
//!   its input gradient goes through a transposed conv and col2im);
//! - [`batch_norm`]: BatchNorm with batch statistics and the deep-training leaky activation after
//!   it, forward and backward, one read of the input per channel (burn composes it from separate
//!   element-wise passes with layout copies);
//! - [`pointwise`]: the 1x1 conv with bias (every block's two convs and the head's), a matrix
//!   product per image forward and backward (burn's gradients copy both tensors to swap batch
//!   and channels and take the input's through a transposed conv).
//!
//! Every op has a default body composed of burn's backend ops (in the op's file: the reference
//! its test compares with), which the GPU backends use until they get kernels of their own; the
//! CPU backend (`Flex`) overrides them with the kernels of `crates/vanillanet-kernels` ([`cpu`]),
//! and `Autodiff` records each op as one node whose backward is the inner backend's backward op
//! ([`autodiff`]). The model calls them through the tensor-level functions below.

pub mod autodiff;
pub mod batch_norm;
pub mod cpu;
pub mod pointwise;
pub mod series;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::tensor::Tensor;

/// The extension. `x` is always NCHW. Backward ops return one gradient per input, in order.
#[backend_extension(Flex, Autodiff, Cube: cfg(feature = "webgpu"))]
pub trait VanillaOps: Backend {
    /// `depthwise_conv(relu(x), weight)`: weight `[C, 1, k, k]` (k odd, stride 1, padding
    /// k / 2), no bias (a BatchNorm follows it in training).
    fn series_activation(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self> {
        series::composed_forward::<Self>(x, weight)
    }

    /// The deploy form's: `depthwise_conv(relu(x), weight) + bias` (the BN folded in), for
    /// inference.
    fn series_activation_deploy(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        series::composed_deploy::<Self>(x, weight, bias)
    }

    /// Gradients of [`Self::series_activation`] for `x` and `weight`.
    fn series_activation_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        series::composed_backward::<Self>(x, weight, grad)
    }

    /// A 1x1 conv (stride 1, no padding, one group): weight `[Cout, Cin, 1, 1]`, bias `[Cout]`.
    fn pointwise_conv(x: FloatTensor<Self>, weight: FloatTensor<Self>, bias: FloatTensor<Self>) -> FloatTensor<Self> {
        pointwise::composed_forward::<Self>(x, weight, bias)
    }

    /// Gradients of [`Self::pointwise_conv`] for `x`, `weight` and the bias.
    fn pointwise_conv_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        pointwise::composed_backward::<Self>(x, weight, grad)
    }

    /// BatchNorm on the batch's statistics, then `leaky_relu(., slope)` (`slope` 1: none).
    /// Returns the output and the batch mean and biased variance per channel.
    fn batch_norm_leaky(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
        slope: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        batch_norm::composed_forward::<Self>(x, gamma, beta, epsilon, slope)
    }

    /// Gradients of [`Self::batch_norm_leaky`]'s output for `x`, `gamma` and `beta`, given the
    /// batch statistics it returned.
    #[allow(clippy::too_many_arguments)]
    fn batch_norm_leaky_backward(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        variance: FloatTensor<Self>,
        epsilon: f64,
        slope: f64,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        batch_norm::composed_backward::<Self>(x, gamma, beta, mean, variance, epsilon, slope, grad)
    }
}

/// The GPU backends compute the composed default bodies until they get kernels of their own.
#[cfg(feature = "webgpu")]
impl VanillaOps for burn::backend::Cube {}

/// [`VanillaOps::series_activation`] on tensors.
pub fn series_activation(x: Tensor<4>, weight: Tensor<4>) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as VanillaOps>::series_activation(x.into_dispatch(), weight.into_dispatch()))
}

/// [`VanillaOps::series_activation_deploy`] on tensors.
pub fn series_activation_deploy(x: Tensor<4>, weight: Tensor<4>, bias: Tensor<1>) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as VanillaOps>::series_activation_deploy(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
    ))
}

/// [`VanillaOps::pointwise_conv`] on tensors.
pub fn pointwise_conv(x: Tensor<4>, weight: Tensor<4>, bias: Tensor<1>) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as VanillaOps>::pointwise_conv(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
    ))
}

/// What [`batch_norm_leaky`] gives: the output and the batch statistics (biased variance).
pub struct BatchNormOutput {
    pub output: Tensor<4>,
    pub mean: Tensor<1>,
    pub variance: Tensor<1>,
}

/// [`VanillaOps::batch_norm_leaky`] on tensors.
pub fn batch_norm_leaky(x: Tensor<4>, gamma: Tensor<1>, beta: Tensor<1>, epsilon: f64, slope: f64) -> BatchNormOutput {
    let (output, mean, variance) = <Dispatch as VanillaOps>::batch_norm_leaky(
        x.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
        epsilon,
        slope,
    );
    BatchNormOutput {
        output: Tensor::from_dispatch(output),
        mean: Tensor::from_dispatch(mean),
        variance: Tensor::from_dispatch(variance),
    }
}
