//! `Autodiff` over any backend with [`VanillaOps`]: each op one node of the graph, its
//! backward the inner backend's backward op, with only the op's inputs kept for it (no
//! intermediate: the ReLU, the normalised values and the activation's slope are recomputed,
//! which costs less than keeping them).

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, TensorMetadata};

use crate::model::ops::VanillaOps;

impl<B: Backend + VanillaOps, C: CheckpointStrategy> VanillaOps for Autodiff<B, C> {
    fn pointwise_conv(x: FloatTensor<Self>, weight: FloatTensor<Self>, bias: FloatTensor<Self>) -> FloatTensor<Self> {
        pointwise_forward::<B, C>(x, weight, bias)
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
        series_forward::<B, C>(x, weight)
    }

    /// The training op's node and a broadcast add of the bias.
    fn series_activation_deploy(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let channels = bias.primitive().shape()[0];
        let bias = Self::float_reshape(bias, burn::tensor::Shape::new([1, channels, 1, 1]));
        Self::float_add(series_forward::<B, C>(x, weight), bias)
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
        batch_norm_forward::<B, C>(x, gamma, beta, epsilon, slope)
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
fn series_forward<B: Backend + VanillaOps, C: CheckpointStrategy>(
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

fn pointwise_forward<B: Backend + VanillaOps, C: CheckpointStrategy>(
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

#[derive(Debug)]
struct BatchNormBackward;

/// The input, gamma, beta, the batch statistics, epsilon and the slope.
type State<B> = (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>, FloatTensor<B>, FloatTensor<B>, f64, f64);

impl<B: Backend + VanillaOps> Backward<B, 3> for BatchNormBackward {
    type State = State<B>;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x, gamma, beta, mean, variance, epsilon, slope) = ops.state;
        let (gx, gg, gb) = B::batch_norm_leaky_backward(x, gamma, beta, mean, variance, epsilon, slope, grad);
        for (node, g) in [(node_x, gx), (node_gamma, gg), (node_beta, gb)] {
            if let Some(node) = node {
                grads.register::<B>(node.id, g);
            }
        }
    }
}

/// One autodiff node for the normalisation and the activation; the statistics come out as
/// constants (the running statistics are updated from them, never differentiated).
fn batch_norm_forward<B: Backend + VanillaOps, C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<B, C>>,
    gamma: FloatTensor<Autodiff<B, C>>,
    beta: FloatTensor<Autodiff<B, C>>,
    epsilon: f64,
    slope: f64,
) -> (FloatTensor<Autodiff<B, C>>, FloatTensor<Autodiff<B, C>>, FloatTensor<Autodiff<B, C>>) {
    let prep = BatchNormBackward.prepare::<C>([x.node(), gamma.node(), beta.node()]).compute_bound().stateful();
    let (xp, gp, bp) = (x.primitive().clone(), gamma.primitive().clone(), beta.primitive().clone());
    let (out, mean, variance) =
        B::batch_norm_leaky(x.into_primitive(), gamma.into_primitive(), beta.into_primitive(), epsilon, slope);
    let out = match prep {
        OpsKind::Tracked(prep) => prep.finish((xp, gp, bp, mean.clone(), variance.clone(), epsilon, slope), out),
        OpsKind::UnTracked(prep) => prep.finish(out),
    };
    (out, FloatTensor::<Autodiff<B, C>>::new(mean), FloatTensor::<Autodiff<B, C>>::new(variance))
}
