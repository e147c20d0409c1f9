//! The series activation's ReLU and depthwise conv (no bias: a BN follows in training), composed
//! of burn's backend ops: the reference the op is tested against, and what backends without a
//! kernel of their own compute.

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, TensorMetadata};
use burn::tensor::ops::ConvOptions;

fn options(weight_shape: &[usize]) -> ConvOptions<2> {
    let (channels, pad) = (weight_shape[0], weight_shape[2] / 2);
    ConvOptions::new([1, 1], [pad, pad], [1, 1], channels)
}

/// burn's own ops: ReLU, then a grouped conv.
pub fn composed_forward<B: Backend>(x: FloatTensor<B>, weight: FloatTensor<B>) -> FloatTensor<B> {
    let options = options(&weight.shape());
    B::conv2d(B::relu(x), weight, None, options)
}

/// burn's own ops: ReLU, then a grouped conv with bias.
pub fn composed_deploy<B: Backend>(x: FloatTensor<B>, weight: FloatTensor<B>, bias: FloatTensor<B>) -> FloatTensor<B> {
    let options = options(&weight.shape());
    B::conv2d(B::relu(x), weight, Some(bias), options)
}

/// burn's own conv gradients, through the ReLU.
pub fn composed_backward<B: Backend>(
    x: FloatTensor<B>,
    weight: FloatTensor<B>,
    grad: FloatTensor<B>,
) -> (FloatTensor<B>, FloatTensor<B>) {
    let options = options(&weight.shape());
    let relu = B::relu(x);
    let weight_grad = B::conv2d_weight_backward(relu.clone(), weight.clone(), grad.clone(), options.clone());
    let relu_grad = B::conv2d_x_backward(relu.clone(), weight, grad, options);
    (B::relu_backward(relu, relu_grad), weight_grad)
}
