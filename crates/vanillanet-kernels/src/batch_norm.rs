//! BatchNorm on the batch's statistics, then `leaky_relu(., slope)` (deep training's
//! activation; slope 1 is none): `y = act(gamma * (x - mean) / sqrt(var + eps) + beta)`.
//! Statistics are taken in f64 over each channel's planes, reading NCHW in place.

use crate::par::{chunks, map};
use crate::{Nchw, Real};

/// `(sum(x), sum((x - m)^2))` of one plane, in eight lanes (so that it vectorises).
fn plane_sums<T: Real>(x: &[T], m: T) -> (f64, f64) {
    with_avx2!(plane_sums_avx2, x: &[T], m: T => (f64, f64); {
        let (mut s, mut q) = ([T::default(); 8], [T::default(); 8]);
        let chunks = x.chunks_exact(8);
        let rest = chunks.remainder();
        for c in chunks {
            for l in 0..8 {
                let d = c[l] - m;
                s[l] += c[l];
                q[l] += d * d;
            }
        }
        let (mut sum, mut sq) = (s.iter().map(|v| v.f64()).sum::<f64>(), q.iter().map(|v| v.f64()).sum::<f64>());
        for v in rest {
            let d = (*v - m).f64();
            sum += v.f64();
            sq += d * d;
        }
        (sum, sq)
    })
}

/// The activation's gradient at `z = x * scale + shift`: `g`, or `g * slope` below 0. (A
/// select of the factor, then one product: the compiler vectorises that, where a branch on
/// which product to take came out a lane at a time.)
#[inline(always)]
fn dz<T: Real>(x: T, g: T, scale: T, shift: T, slope: T) -> T {
    let factor = if x * scale + shift < T::default() { slope } else { T::of(1.0) };
    g * factor
}

/// One plane of the forward: `y = act(x * scale + shift)`.
fn normalise_plane<T: Real>(x: &[T], y: &mut [T], scale: T, shift: T, slope: T) {
    with_avx2!(normalise_plane_avx2, x: &[T], y: &mut [T], scale: T, shift: T, slope: T => (); {
        for (o, v) in y.iter_mut().zip(x) {
            let z = *v * scale + shift;
            *o = z * if z < T::default() { slope } else { T::of(1.0) };
        }
    })
}

/// One plane's `(sum(dz), sum(dz * (x - m)))`: `dz` a block at a time into a buffer on the
/// stack (a plain loop with a select, which vectorises), then the sums in eight lanes. Without
/// an activation (slope 1) `dz` is the gradient itself.
fn gradient_sums<T: Real>(x: &[T], g: &[T], m: T, scale: T, shift: T, slope: T) -> (f64, f64) {
    with_avx2!(gradient_sums_avx2, x: &[T], g: &[T], m: T, scale: T, shift: T, slope: T => (f64, f64); {
        const BLOCK: usize = 64;
        let (mut s1, mut s2) = ([T::default(); 8], [T::default(); 8]);
        let mut buffer = [T::default(); BLOCK];
        let (mut rest1, mut rest2) = (T::default(), T::default());
        for (xb, gb) in x.chunks(BLOCK).zip(g.chunks(BLOCK)) {
            let d = &mut buffer[..xb.len()];
            if slope == T::of(1.0) {
                d.copy_from_slice(gb);
            } else {
                for (d, (xv, gv)) in d.iter_mut().zip(xb.iter().zip(gb)) {
                    *d = dz(*xv, *gv, scale, shift, slope);
                }
            }
            let (dc, xc) = (d.chunks_exact(8), xb.chunks_exact(8));
            let (dr, xr) = (dc.remainder(), xc.remainder());
            for (dv, xv) in dc.zip(xc) {
                for l in 0..8 {
                    s1[l] += dv[l];
                    s2[l] += dv[l] * (xv[l] - m);
                }
            }
            for (dv, xv) in dr.iter().zip(xr) {
                rest1 += *dv;
                rest2 += *dv * (*xv - m);
            }
        }
        let total = |lanes: [T; 8], rest: T| lanes.iter().map(|v| v.f64()).sum::<f64>() + rest.f64();
        (total(s1, rest1), total(s2, rest2))
    })
}

/// One plane of the input gradient: `a * dz + b0 + bx * (x - m)`.
#[allow(clippy::too_many_arguments)]
fn input_gradient<T: Real>(x: &[T], g: &[T], out: &mut [T], m: T, scale: T, shift: T, slope: T, coefficients: [T; 3]) {
    with_avx2!(input_gradient_avx2, x: &[T], g: &[T], out: &mut [T], m: T, scale: T, shift: T, slope: T, coefficients: [T; 3] => (); {
        let [a, b0, bx] = coefficients;
        for ((o, v), gv) in out.iter_mut().zip(x).zip(g) {
            *o = a * dz(*v, *gv, scale, shift, slope) + b0 + bx * (*v - m);
        }
    })
}

/// Per channel: the batch mean and biased variance. Two passes (the squares about a first
/// estimate of the mean lose no precision to cancellation), per-plane partial sums in f64.
fn statistics<T: Real>(s: Nchw, x: &[T]) -> Vec<(f64, f64)> {
    let (plane, count) = (s.plane(), (s.n * s.plane()) as f64);
    map(s.c, |ch| {
        let planes = || (0..s.n).map(move |b| &x[(b * s.c + ch) * plane..(b * s.c + ch + 1) * plane]);
        let mean = planes().map(|p| plane_sums(p, T::default()).0).sum::<f64>() / count;
        let squares: f64 = planes().map(|p| plane_sums(p, T::of(mean)).1).sum();
        // The squares were taken about mean rounded to T; correct for the rounding.
        let shift = mean - T::of(mean).f64();
        (mean, (squares / count - shift * shift).max(0.0))
    })
}

/// The output, and per channel the batch mean and biased variance.
pub struct Forward<T> {
    pub output: Vec<T>,
    pub mean: Vec<T>,
    pub variance: Vec<T>,
}

/// Per channel, `gamma / sqrt(var + eps)` and `beta - mean * that`: the output before the
/// activation is `x * scale + shift`.
fn affine<T: Real>(gamma: &[T], beta: &[T], mean: impl Fn(usize) -> f64, inv_std: &[f64]) -> Vec<(T, T, f64)> {
    (0..gamma.len())
        .map(|ch| {
            let scale = gamma[ch].f64() * inv_std[ch];
            (T::of(scale), T::of(beta[ch].f64() - mean(ch) * scale), scale)
        })
        .collect()
}

fn check<T>(s: Nchw, x: &[T], gamma: &[T], beta: &[T]) {
    assert_eq!(x.len(), s.len(), "batch norm: input of {} values for {s:?}", x.len());
    assert!(
        gamma.len() == s.c && beta.len() == s.c,
        "batch norm: {} and {} parameters for {} channels",
        gamma.len(),
        beta.len(),
        s.c
    );
}

/// The forward: the output, the batch mean and the biased variance.
pub fn forward<T: Real>(s: Nchw, x: &[T], gamma: &[T], beta: &[T], epsilon: f64, slope: f64) -> Forward<T> {
    T::batch_norm_forward(s, x, gamma, beta, epsilon, slope)
}

pub(crate) fn forward_impl<T: Real>(s: Nchw, x: &[T], gamma: &[T], beta: &[T], epsilon: f64, slope: f64) -> Forward<T> {
    check(s, x, gamma, beta);
    let stats = statistics(s, x);
    let inv_std: Vec<f64> = stats.iter().map(|(_, var)| 1.0 / (var + epsilon).sqrt()).collect();
    let affine = affine(gamma, beta, |ch| stats[ch].0, &inv_std);
    let (plane, slope_t) = (s.plane(), T::of(slope));
    let mut output = vec![T::default(); s.len()];
    if plane > 0 {
        chunks(
            &mut output,
            plane,
            || (),
            |_, i, y| {
                let (scale, shift, _) = affine[i % s.c];
                normalise_plane(&x[i * plane..(i + 1) * plane], y, scale, shift, slope_t);
            },
        );
    }
    Forward {
        output,
        mean: stats.iter().map(|s| T::of(s.0)).collect(),
        variance: stats.iter().map(|s| T::of(s.1)).collect(),
    }
}

/// The gradients of [`forward`]'s output for the input, gamma and beta.
pub struct Gradients<T> {
    pub x: Vec<T>,
    pub gamma: Vec<T>,
    pub beta: Vec<T>,
}

/// The gradients for the input, gamma and beta, given the statistics [`forward`] returned and
/// the output's gradient `grad`: `dz = grad * act'(z)`, `dbeta = sum(dz)`,
/// `dgamma = sum(dz * xhat)`, `dx = gamma / std * (dz - dbeta / M - xhat * dgamma / M)`, z
/// recomputed from x.
#[allow(clippy::too_many_arguments)]
pub fn backward<T: Real>(
    s: Nchw,
    x: &[T],
    gamma: &[T],
    beta: &[T],
    mean: &[T],
    variance: &[T],
    epsilon: f64,
    slope: f64,
    grad: &[T],
) -> Gradients<T> {
    T::batch_norm_backward(s, [x, gamma, beta, mean, variance, grad], epsilon, slope)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn backward_impl<T: Real>(
    s: Nchw,
    x: &[T],
    gamma: &[T],
    beta: &[T],
    mean: &[T],
    variance: &[T],
    epsilon: f64,
    slope: f64,
    grad: &[T],
) -> Gradients<T> {
    check(s, x, gamma, beta);
    assert!(
        mean.len() == s.c && variance.len() == s.c,
        "batch norm: statistics for {} and {} channels, not {}",
        mean.len(),
        variance.len(),
        s.c
    );
    assert_eq!(grad.len(), s.len(), "batch norm: gradient of {} values for {s:?}", grad.len());
    let (plane, count, slope_t) = (s.plane(), (s.n * s.plane()) as f64, T::of(slope));
    let inv_std: Vec<f64> = variance.iter().map(|v| 1.0 / (v.f64() + epsilon).sqrt()).collect();
    let affine = affine(gamma, beta, |ch| mean[ch].f64(), &inv_std);
    // Per channel: sum(dz), sum(dz * (x - mean)).
    let sums = map(s.c, |ch| {
        let (scale, shift, _) = affine[ch];
        let (mut sum_dz, mut sum_dzx) = (0.0, 0.0);
        for b in 0..s.n {
            let range = (b * s.c + ch) * plane..(b * s.c + ch + 1) * plane;
            let (s1, s2) = gradient_sums(&x[range.clone()], &grad[range], mean[ch], scale, shift, slope_t);
            sum_dz += s1;
            sum_dzx += s2;
        }
        (sum_dz, sum_dzx * inv_std[ch])
    });
    let mut x_grad = vec![T::default(); s.len()];
    if plane > 0 {
        chunks(
            &mut x_grad,
            plane,
            || (),
            |_, i, gx| {
                let ch = i % s.c;
                let (scale, shift, k) = affine[ch];
                let (sum_dz, sum_dzx) = sums[ch];
                // dx = k * dz - k * sum_dz / M - k * is * sum_dzx / M * (x - mean).
                let (a, b0, bx) = (T::of(k), T::of(-k * sum_dz / count), T::of(-k * inv_std[ch] * sum_dzx / count));
                let range = i * plane..(i + 1) * plane;
                input_gradient(&x[range.clone()], &grad[range], gx, mean[ch], scale, shift, slope_t, [a, b0, bx]);
            },
        );
    }
    Gradients {
        x: x_grad,
        gamma: sums.iter().map(|s| T::of(s.1)).collect(),
        beta: sums.iter().map(|s| T::of(s.0)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_gradient, values};

    #[test]
    fn backward_matches_finite_differences_of_forward() {
        for (s, slope) in [
            (Nchw { n: 2, c: 3, h: 2, w: 3 }, 0.3),
            (Nchw { n: 1, c: 2, h: 5, w: 1 }, 1.0),
            (Nchw { n: 4, c: 1, h: 1, w: 1 }, 0.0),
        ] {
            let (x, gamma, beta, g) = (values(s.len(), 1), values(s.c, 2), values(s.c, 3), values(s.len(), 4));
            let eps = 1e-6;
            let loss = |x: &[f64], gamma: &[f64], beta: &[f64]| {
                forward(s, x, gamma, beta, eps, slope).output.iter().zip(&g).map(|(y, g)| y * g).sum::<f64>()
            };
            let f = forward(s, &x, &gamma, &beta, eps, slope);
            let grads = backward(s, &x, &gamma, &beta, &f.mean, &f.variance, eps, slope, &g);
            let tolerance = |d: f64| 1e-5 * (1.0 + d.abs());
            assert_gradient("x", &x, &grads.x, &|v| loss(v, &gamma, &beta), tolerance);
            assert_gradient("gamma", &gamma, &grads.gamma, &|v| loss(&x, v, &beta), tolerance);
            assert_gradient("beta", &beta, &grads.beta, &|v| loss(&x, &gamma, v), tolerance);
        }
    }

    #[test]
    fn forward_normalises_each_channel_and_returns_the_biased_variance() {
        let s = Nchw { n: 2, c: 2, h: 1, w: 2 };
        let x = [1.0, 3.0, 10.0, 10.0, 5.0, 7.0, 20.0, 30.0];
        let f = forward(s, &x, &[1.0, 2.0], &[0.0, 1.0], 0.0, 1.0);
        assert_eq!(f.mean, vec![4.0, 17.5]);
        assert_eq!(f.variance, vec![5.0, 68.75]);
        let expected_first = (1.0 - 4.0) / 5f64.sqrt();
        assert!((f.output[0] - expected_first).abs() < 1e-12);
    }
}
