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
//! Every op has a default body composed of burn's backend ops, which the GPU backends use until
//! they get kernels of their own; the CPU backend (`Flex`) overrides them with the kernels in
//! [`cpu`], and `Autodiff` records each op's backward as one node. The model calls them through
//! the tensor-level functions below.

pub mod batch_norm;
pub mod cpu;
pub mod pointwise;
pub mod series;

use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::tensor::Tensor;

/// The extension. `x` is always NCHW. Backward ops return one gradient per input, in order.
#[backend_extension(Flex, Autodiff, Cube: cfg(feature = "webgpu"))]
pub trait VanillaOps: Backend {
    /// `depthwise_conv(relu(x), weight)`: weight `[C, 1, k, k]` (k odd, stride 1, padding
    /// k / 2), no bias (a BatchNorm follows it in training).
    fn series_activation(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self> {
        series::composed_forward::<Self>(x, weight)
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

impl VanillaOps for Flex {
    fn pointwise_conv(x: FloatTensor<Self>, weight: FloatTensor<Self>, bias: FloatTensor<Self>) -> FloatTensor<Self> {
        cpu::pointwise_forward(x, weight, bias)
    }

    fn pointwise_conv_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        cpu::pointwise_backward(x, weight, grad)
    }

    fn series_activation(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self> {
        cpu::series_forward(x, weight)
    }

    fn series_activation_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        cpu::series_backward(x, weight, grad)
    }

    fn batch_norm_leaky(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
        slope: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        cpu::batch_norm_forward(x, gamma, beta, epsilon, slope)
    }

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
        cpu::batch_norm_backward(x, gamma, beta, mean, variance, epsilon, slope, grad)
    }
}

/// The GPU backends compute the composed default bodies until they get kernels of their own.
#[cfg(feature = "webgpu")]
impl VanillaOps for burn::backend::Cube {}

impl<B: Backend + VanillaOps, C: CheckpointStrategy> VanillaOps for Autodiff<B, C> {
    fn pointwise_conv(x: FloatTensor<Self>, weight: FloatTensor<Self>, bias: FloatTensor<Self>) -> FloatTensor<Self> {
        pointwise::autodiff_forward::<B, C>(x, weight, bias)
    }

    /// Gradients as constants (not themselves differentiated), from the inner backend.
    fn pointwise_conv_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let (gx, gw, gb) =
            B::pointwise_conv_backward(x.into_primitive(), weight.into_primitive(), grad.into_primitive());
        (FloatTensor::<Self>::new(gx), FloatTensor::<Self>::new(gw), FloatTensor::<Self>::new(gb))
    }

    fn series_activation(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self> {
        series::autodiff_forward::<B, C>(x, weight)
    }

    /// Gradients as constants (not themselves differentiated), from the inner backend.
    fn series_activation_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (gx, gw) =
            B::series_activation_backward(x.into_primitive(), weight.into_primitive(), grad.into_primitive());
        (FloatTensor::<Self>::new(gx), FloatTensor::<Self>::new(gw))
    }

    fn batch_norm_leaky(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
        slope: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        batch_norm::autodiff_forward::<B, C>(x, gamma, beta, epsilon, slope)
    }

    /// Gradients as constants (not themselves differentiated), from the inner backend.
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
        let (gx, gg, gb) = B::batch_norm_leaky_backward(
            x.into_primitive(),
            gamma.into_primitive(),
            beta.into_primitive(),
            mean.into_primitive(),
            variance.into_primitive(),
            epsilon,
            slope,
            grad.into_primitive(),
        );
        (FloatTensor::<Self>::new(gx), FloatTensor::<Self>::new(gg), FloatTensor::<Self>::new(gb))
    }
}

/// The sum of an NCHW tensor over all but the channels: `[C]`.
pub(crate) fn channel_sum<B: Backend>(x: FloatTensor<B>) -> FloatTensor<B> {
    let channels = x.shape()[1];
    B::float_reshape(B::float_sum_dims(x, &[0, 2, 3]), burn::tensor::Shape::new([channels]))
}

/// [`VanillaOps::series_activation`] on tensors.
pub fn series_activation(x: Tensor<4>, weight: Tensor<4>) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as VanillaOps>::series_activation(x.into_dispatch(), weight.into_dispatch()))
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
