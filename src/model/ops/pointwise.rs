//! The 1x1 conv (stride 1, no padding, one group, with bias) as one op: the composed form any
//! backend runs, and its autodiff node.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend};
use burn::tensor::ops::ConvOptions;

use super::{VanillaOps, channel_sum};

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

#[derive(Debug)]
struct PointwiseBackward;

impl<B: Backend + VanillaOps> Backward<B, 3> for PointwiseBackward {
    /// The input and the weight.
    type State = (FloatTensor<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x, weight) = ops.state;
        let (gx, gw, gb) = B::pointwise_conv_backward(x, weight, grad);
        for (node, g) in [(node_x, gx), (node_weight, gw), (node_bias, gb)] {
            if let Some(node) = node {
                grads.register::<B>(node.id, g);
            }
        }
    }
}

pub fn autodiff_forward<B: Backend + VanillaOps, C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<B, C>>,
    weight: FloatTensor<Autodiff<B, C>>,
    bias: FloatTensor<Autodiff<B, C>>,
) -> FloatTensor<Autodiff<B, C>> {
    match PointwiseBackward.prepare::<C>([x.node(), weight.node(), bias.node()]).compute_bound().stateful() {
        OpsKind::Tracked(prep) => {
            let state = (x.primitive().clone(), weight.primitive().clone());
            prep.finish(state, B::pointwise_conv(x.into_primitive(), weight.into_primitive(), bias.into_primitive()))
        }
        OpsKind::UnTracked(prep) => {
            prep.finish(B::pointwise_conv(x.into_primitive(), weight.into_primitive(), bias.into_primitive()))
        }
    }
}
