//! The series activation's ReLU and depthwise conv (no bias: a BN follows in training) as one op: the composed form any backend
//! runs, and its autodiff node (one node for both, its backward from the inner backend).

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, TensorMetadata};
use burn::tensor::ops::ConvOptions;

use super::VanillaOps;

fn options(weight_shape: &[usize]) -> ConvOptions<2> {
    let (channels, pad) = (weight_shape[0], weight_shape[2] / 2);
    ConvOptions::new([1, 1], [pad, pad], [1, 1], channels)
}

/// burn's own ops: ReLU, then a grouped conv.
pub fn composed_forward<B: Backend>(x: FloatTensor<B>, weight: FloatTensor<B>) -> FloatTensor<B> {
    let options = options(&weight.shape());
    B::conv2d(B::relu(x), weight, None, options)
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

#[derive(Debug)]
struct SeriesBackward;

impl<B: Backend + VanillaOps> Backward<B, 2> for SeriesBackward {
    /// The input (before the ReLU) and the weight.
    type State = (FloatTensor<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_weight] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x, weight) = ops.state;
        let (gx, gw) = B::series_activation_backward(x, weight, grad);
        if let Some(node) = node_x {
            grads.register::<B>(node.id, gx);
        }
        if let Some(node) = node_weight {
            grads.register::<B>(node.id, gw);
        }
    }
}

/// One autodiff node for ReLU and conv: the backward keeps the input and the weight, no
/// intermediate (the ReLU is recomputed, which costs less than keeping it).
pub fn autodiff_forward<B: Backend + VanillaOps, C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<B, C>>,
    weight: FloatTensor<Autodiff<B, C>>,
) -> FloatTensor<Autodiff<B, C>> {
    match SeriesBackward.prepare::<C>([x.node(), weight.node()]).compute_bound().stateful() {
        OpsKind::Tracked(prep) => {
            let state = (x.primitive().clone(), weight.primitive().clone());
            prep.finish(state, B::series_activation(x.into_primitive(), weight.into_primitive()))
        }
        OpsKind::UnTracked(prep) => prep.finish(B::series_activation(x.into_primitive(), weight.into_primitive())),
    }
}
