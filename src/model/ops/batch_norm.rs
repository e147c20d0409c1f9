//! BatchNorm on the batch's statistics with the leaky activation after it, composed of burn's
//! backend ops: the reference the op is tested against, and what backends without a kernel of
//! their own compute.

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, TensorMetadata};
use burn::tensor::Shape;

use crate::model::ops::pointwise::channel_sum;

/// `[C]` as `[1, C, 1, 1]`, to broadcast over NCHW.
fn per_channel<B: Backend>(t: FloatTensor<B>) -> FloatTensor<B> {
    let c = t.shape()[0];
    B::float_reshape(t, Shape::new([1, c, 1, 1]))
}

/// `(x - mean) / sqrt(var + eps)` and the per-channel `1 / sqrt(var + eps)`.
fn normalise<B: Backend>(
    x: FloatTensor<B>,
    mean: FloatTensor<B>,
    variance: FloatTensor<B>,
    epsilon: f64,
) -> (FloatTensor<B>, FloatTensor<B>) {
    let inv_std = B::float_recip(B::float_sqrt(B::float_add_scalar(variance, epsilon.into())));
    let centred = B::float_sub(x, per_channel::<B>(mean));
    (B::float_mul(centred, per_channel::<B>(inv_std.clone())), inv_std)
}

/// The leaky activation's derivative times `grad`, at pre-activation `z`: 1 above 0, `slope`
/// below (written with `sign`, which every backend has, rather than a mask).
fn leaky_backward<B: Backend>(z: FloatTensor<B>, grad: FloatTensor<B>, slope: f64) -> FloatTensor<B> {
    if slope == 1.0 {
        return grad;
    }
    // (sign + 1) / 2 is the step function (1/2 at exactly 0, where the slope is undefined).
    let step = B::float_mul_scalar(B::float_add_scalar(B::float_sign(z), 1.0.into()), 0.5.into());
    let factor = B::float_add_scalar(B::float_mul_scalar(step, (1.0 - slope).into()), slope.into());
    B::float_mul(grad, factor)
}

/// burn's own ops, pass by pass.
pub fn composed_forward<B: Backend>(
    x: FloatTensor<B>,
    gamma: FloatTensor<B>,
    beta: FloatTensor<B>,
    epsilon: f64,
    slope: f64,
) -> (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>) {
    let [n, _, h, w] = x.shape().dims();
    let count = (n * h * w) as f64;
    let mean = B::float_div_scalar(channel_sum::<B>(x.clone()), count.into());
    let centred = B::float_sub(x.clone(), per_channel::<B>(mean.clone()));
    let variance = B::float_div_scalar(channel_sum::<B>(B::float_mul(centred.clone(), centred)), count.into());
    let (xhat, _) = normalise::<B>(x, mean.clone(), variance.clone(), epsilon);
    let z = B::float_add(B::float_mul(xhat, per_channel::<B>(gamma)), per_channel::<B>(beta));
    let out = if slope == 1.0 { z } else { B::leaky_relu(z, slope.into()) };
    (out, mean, variance)
}

/// The textbook BatchNorm gradient, through the activation:
/// dx = gamma / std * (dz - mean(dz) - xhat * mean(dz * xhat)).
#[allow(clippy::too_many_arguments)]
pub fn composed_backward<B: Backend>(
    x: FloatTensor<B>,
    gamma: FloatTensor<B>,
    beta: FloatTensor<B>,
    mean: FloatTensor<B>,
    variance: FloatTensor<B>,
    epsilon: f64,
    slope: f64,
    grad: FloatTensor<B>,
) -> (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>) {
    let [n, _, h, w] = x.shape().dims();
    let count = (n * h * w) as f64;
    let (xhat, inv_std) = normalise::<B>(x, mean, variance, epsilon);
    let z = B::float_add(B::float_mul(xhat.clone(), per_channel::<B>(gamma.clone())), per_channel::<B>(beta));
    let dz = leaky_backward::<B>(z, grad, slope);
    let beta_grad = channel_sum::<B>(dz.clone());
    let gamma_grad = channel_sum::<B>(B::float_mul(dz.clone(), xhat.clone()));
    let mean_dz = per_channel::<B>(B::float_div_scalar(beta_grad.clone(), count.into()));
    let mean_dzx = per_channel::<B>(B::float_div_scalar(gamma_grad.clone(), count.into()));
    let inner = B::float_sub(B::float_sub(dz, mean_dz), B::float_mul(xhat, mean_dzx));
    let x_grad = B::float_mul(inner, per_channel::<B>(B::float_mul(gamma, inv_std)));
    (x_grad, gamma_grad, beta_grad)
}
