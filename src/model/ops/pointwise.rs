//! The 1x1 conv (stride 1, no padding, one group, with bias), composed of burn's backend ops:
//! the reference the op is tested against, and what backends without a kernel of their own
//! compute.

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, TensorMetadata};
use burn::tensor::ops::ConvOptions;

fn options() -> ConvOptions<2> {
    ConvOptions::new([1, 1], [0, 0], [1, 1], 1)
}

/// burn's own conv.
pub fn composed_forward<B: Backend>(x: FloatTensor<B>, weight: FloatTensor<B>, bias: FloatTensor<B>) -> FloatTensor<B> {
    B::conv2d(x, weight, Some(bias), options())
}

/// burn's own conv gradients.
pub fn composed_backward<B: Backend>(
    x: FloatTensor<B>,
    weight: FloatTensor<B>,
    grad: FloatTensor<B>,
) -> (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>) {
    let weight_grad = B::conv2d_weight_backward(x.clone(), weight.clone(), grad.clone(), options());
    let bias_grad = channel_sum::<B>(grad.clone());
    (B::conv2d_x_backward(x, weight, grad, options()), weight_grad, bias_grad)
}

/// The sum of an NCHW tensor over all but the channels: `[C]`.
pub fn channel_sum<B: Backend>(x: FloatTensor<B>) -> FloatTensor<B> {
    let channels = x.shape()[1];
    B::float_reshape(B::float_sum_dims(x, &[0, 2, 3]), burn::tensor::Shape::new([channels]))
}
