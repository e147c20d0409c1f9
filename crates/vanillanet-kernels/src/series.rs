//! The series activation's ReLU and depthwise conv: `y = depthwise(relu(x), w) + b`, with a
//! `[C, k, k]` kernel (k odd), stride 1 and padding k / 2, and both of its gradients.

use crate::par::{chunks, chunks2};
use crate::{Nchw, Real, dot};

/// The planes' layout in the scratch buffers: rows of `pitch = w + k - 1` with a border of
/// `p = k / 2` (zeros) and one spare row, so that a tap `(u, v)` of the whole plane is one
/// contiguous run `[u * pitch + v, .. + h * pitch)`. Every tap is then one long loop over the
/// plane that vectorises, instead of `h` loops of `w` (7 to 28 here, too short for SIMD); the
/// `k - 1` columns past each row's end come along and are dropped (or multiplied by zeros).
#[derive(Clone, Copy)]
struct Geometry {
    h: usize,
    w: usize,
    k: usize,
    pitch: usize,
}

impl Geometry {
    fn new(s: Nchw, k: usize) -> Self {
        Self { h: s.h, w: s.w, k, pitch: s.w + k - 1 }
    }

    /// With room past the end for [`Self::correlate_rows`]' last block of lanes.
    fn padded_len(&self) -> usize {
        (self.h + self.k) * self.pitch + 16
    }

    fn run(&self) -> usize {
        self.h * self.pitch
    }

    /// Writes the `h` x `w` plane `src` through `f` into the interior of `padded`; the border
    /// keeps its zeros.
    #[inline(always)]
    fn pad_into<T: Real>(&self, src: &[T], padded: &mut [T], f: impl Fn(T) -> T) {
        let p = self.k / 2;
        for (i, line) in src.chunks_exact(self.w).enumerate() {
            let start = (i + p) * self.pitch + p;
            for (d, s) in padded[start..start + self.w].iter_mut().zip(line) {
                *d = f(*s);
            }
        }
    }

    /// `out[i][j] = first + sum_{u,v} kernel[u][v] * padded[i + u][j + v]` (`out` is `h x w`),
    /// `LANES` outputs of a row at a time held in registers over all `k * k` taps: one store
    /// per output instead of one per tap. Lanes past a row's end compute values that are
    /// dropped.
    #[inline(always)]
    fn correlate_rows<T: Real, const LANES: usize>(&self, padded: &[T], kernel: &[T], first: T, out: &mut [T]) {
        let (k, w, pitch) = (self.k, self.w, self.pitch);
        for (i, row) in out.chunks_exact_mut(w).enumerate() {
            for j0 in (0..w).step_by(LANES) {
                let mut acc = [first; LANES];
                for u in 0..k {
                    let base = (i + u) * pitch + j0;
                    for (v, &tap) in kernel[u * k..(u + 1) * k].iter().enumerate() {
                        let src: &[T; LANES] = padded[base + v..base + v + LANES].try_into().unwrap();
                        for l in 0..LANES {
                            acc[l] += tap * src[l];
                        }
                    }
                }
                let n = (w - j0).min(LANES);
                row[j0..j0 + n].copy_from_slice(&acc[..n]);
            }
        }
    }

    /// [`Self::correlate_rows`] with as many lanes as a row needs, up to 16.
    #[inline(always)]
    fn correlate<T: Real>(&self, padded: &[T], kernel: &[T], first: T, out: &mut [T]) {
        if self.w <= 8 {
            self.correlate_rows::<T, 8>(padded, kernel, first, out)
        } else {
            self.correlate_rows::<T, 16>(padded, kernel, first, out)
        }
    }
}

fn relu<T: Real>(v: T) -> T {
    if v > T::default() { v } else { T::default() }
}

struct Scratch<T> {
    padded: Vec<T>,
    grad: Vec<T>,
}

impl<T: Real> Scratch<T> {
    fn new(g: Geometry) -> Self {
        Self { padded: vec![T::default(); g.padded_len()], grad: vec![T::default(); g.padded_len()] }
    }
}

/// One plane of [`forward`].
fn forward_plane<T: Real>(g: Geometry, x: &[T], kernel: &[T], bias: T, scratch: &mut Scratch<T>, y: &mut [T]) {
    with_avx2!(forward_plane_avx2, g: Geometry, x: &[T], kernel: &[T], bias: T, scratch: &mut Scratch<T>, y: &mut [T] => (); {
        g.pad_into(x, &mut scratch.padded, relu);
        g.correlate(&scratch.padded, kernel, bias, y);
    })
}

/// One plane of [`backward`]: its weight gradient terms (and the bias term after them) into
/// `part`, its input gradient into `gx`.
#[allow(clippy::too_many_arguments)]
fn backward_plane<T: Real>(
    g: Geometry,
    x: &[T],
    grad: &[T],
    flipped: &[T],
    scratch: &mut Scratch<T>,
    gx: &mut [T],
    part: &mut [T],
) {
    with_avx2!(backward_plane_avx2, g: Geometry, x: &[T], grad: &[T], flipped: &[T], scratch: &mut Scratch<T>, gx: &mut [T], part: &mut [T] => (); {
        let (p, run, k) = (g.k / 2, g.run(), g.k);
        g.pad_into(x, &mut scratch.padded, relu);
        g.pad_into(grad, &mut scratch.grad, |v| v);
        // The output gradient, pitched, with zeros past each row's end: the padded gradient
        // from its first interior value on (the columns past a row are its right border and
        // the next row's left one).
        let start = p * g.pitch + p;
        let pitched = &scratch.grad[start..start + run];
        for u in 0..k {
            for v in 0..k {
                part[u * k + v] = dot(pitched, &scratch.padded[u * g.pitch + v..u * g.pitch + v + run]);
            }
        }
        part[k * k] = grad.iter().fold(T::default(), |a, v| a + *v);
        g.correlate(&scratch.grad, flipped, T::default(), gx);
        for (o, xv) in gx.iter_mut().zip(x) {
            *o = if *xv > T::default() { *o } else { T::default() };
        }
    })
}

fn check<T>(s: Nchw, x: &[T], weight: &[T], k: usize) {
    assert!(k % 2 == 1, "series activation: kernel size {k} is not odd");
    assert_eq!(x.len(), s.len(), "series activation: input of {} values for {s:?}", x.len());
    assert_eq!(
        weight.len(),
        s.c * k * k,
        "series activation: weight of {} values for {} channels, k = {k}",
        weight.len(),
        s.c
    );
}

/// The forward: `x` and the output NCHW `s`, `weight` `[C, k, k]`, `bias` `[C]`.
/// The forward: `x` and the output NCHW `s`, `weight` `[C, k, k]`, `bias` `[C]`.
pub fn forward<T: Real>(s: Nchw, x: &[T], weight: &[T], bias: Option<&[T]>, k: usize) -> Vec<T> {
    T::series_forward(s, x, weight, bias, k)
}

pub(crate) fn forward_impl<T: Real>(s: Nchw, x: &[T], weight: &[T], bias: Option<&[T]>, k: usize) -> Vec<T> {
    check(s, x, weight, k);
    let (plane, kk, g) = (s.plane(), k * k, Geometry::new(s, k));
    let mut out = vec![T::default(); s.len()];
    if plane == 0 {
        return out;
    }
    chunks(
        &mut out,
        plane,
        || Scratch::new(g),
        |scratch, i, y| {
            let ch = i % s.c;
            let b = bias.map_or(T::default(), |b| b[ch]);
            forward_plane(g, &x[i * plane..(i + 1) * plane], &weight[ch * kk..(ch + 1) * kk], b, scratch, y);
        },
    );
    out
}

/// The gradients of [`forward`] given the output's, `grad`: for the input (NCHW), the weight
/// (`[C, k, k]`) and the bias (`[C]`).
pub struct Gradients<T> {
    pub x: Vec<T>,
    pub weight: Vec<T>,
    pub bias: Vec<T>,
}

/// Both gradients in one pass a plane: the weight's and the bias's terms of the plane (summed
/// over the batch after), and the input's (the output gradient correlated with the flipped
/// kernel, masked by the ReLU).
/// Both gradients of [`forward`] given the output's, `grad`.
pub fn backward<T: Real>(s: Nchw, x: &[T], weight: &[T], grad: &[T], k: usize) -> Gradients<T> {
    T::series_backward(s, x, weight, grad, k)
}

pub(crate) fn backward_impl<T: Real>(s: Nchw, x: &[T], weight: &[T], grad: &[T], k: usize) -> Gradients<T> {
    check(s, x, weight, k);
    assert_eq!(grad.len(), s.len(), "series activation: gradient of {} values for {s:?}", grad.len());
    let (plane, kk, g) = (s.plane(), k * k, Geometry::new(s, k));
    let flipped: Vec<T> = weight.chunks_exact(kk).flat_map(|kernel| kernel.iter().rev().copied()).collect();
    let mut x_grad = vec![T::default(); s.len()];
    let mut weight_grad = vec![T::default(); s.c * kk];
    let mut bias_grad = vec![T::default(); s.c];
    if plane == 0 {
        return Gradients { x: x_grad, weight: weight_grad, bias: bias_grad };
    }
    // Per plane, its k*k weight gradient terms and its bias gradient term.
    let mut partial = vec![T::default(); s.n * s.c * (kk + 1)];
    chunks2(
        (&mut x_grad, plane),
        (&mut partial, kk + 1),
        || Scratch::new(g),
        |scratch, i, gx, part| {
            let ch = i % s.c;
            let range = i * plane..(i + 1) * plane;
            backward_plane(g, &x[range.clone()], &grad[range], &flipped[ch * kk..(ch + 1) * kk], scratch, gx, part);
        },
    );
    for (i, part) in partial.chunks_exact(kk + 1).enumerate() {
        let ch = i % s.c;
        for (acc, v) in weight_grad[ch * kk..(ch + 1) * kk].iter_mut().zip(&part[..kk]) {
            *acc += *v;
        }
        bias_grad[ch] += part[kk];
    }
    Gradients { x: x_grad, weight: weight_grad, bias: bias_grad }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_gradient, values};

    /// The definition, term by term, in f64.
    fn naive(s: Nchw, x: &[f64], w: &[f64], b: &[f64], k: usize) -> Vec<f64> {
        let p = k as isize / 2;
        let mut out = vec![0.0; s.len()];
        for n in 0..s.n {
            for c in 0..s.c {
                for i in 0..s.h {
                    for j in 0..s.w {
                        let mut acc = b[c];
                        for u in 0..k {
                            for v in 0..k {
                                let (a, bb) = (i as isize + u as isize - p, j as isize + v as isize - p);
                                if a >= 0 && bb >= 0 && (a as usize) < s.h && (bb as usize) < s.w {
                                    let xv = x[((n * s.c + c) * s.h + a as usize) * s.w + bb as usize];
                                    acc += w[(c * k + u) * k + v] * xv.max(0.0);
                                }
                            }
                        }
                        out[((n * s.c + c) * s.h + i) * s.w + j] = acc;
                    }
                }
            }
        }
        out
    }

    #[test]
    fn forward_matches_the_definition_and_backward_its_finite_differences() {
        for (s, k) in [
            (Nchw { n: 2, c: 3, h: 5, w: 4 }, 3),
            (Nchw { n: 1, c: 2, h: 3, w: 3 }, 7),
            (Nchw { n: 3, c: 1, h: 1, w: 6 }, 5),
            (Nchw { n: 1, c: 2, h: 3, w: 17 }, 3),
        ] {
            let (x, w, b) = (values(s.len(), 1), values(s.c * k * k, 2), values(s.c, 3));
            let y = forward(s, &x, &w, Some(&b), k);
            for (a, e) in y.iter().zip(naive(s, &x, &w, &b, k)) {
                assert!((a - e).abs() < 1e-12, "{a} against {e}");
            }
            // d(sum(y * g))/dθ by central differences, against the analytic gradients.
            let g = values(s.len(), 4);
            let loss =
                |x: &[f64], w: &[f64], b: &[f64]| naive(s, x, w, b, k).iter().zip(&g).map(|(y, g)| y * g).sum::<f64>();
            let grads = backward(s, &x, &w, &g, k);
            let tolerance = |_| 1e-6;
            assert_gradient("x", &x, &grads.x, &|v| loss(v, &w, &b), tolerance);
            assert_gradient("w", &w, &grads.weight, &|v| loss(&x, v, &b), tolerance);
            assert_gradient("b", &b, &grads.bias, &|v| loss(&x, &w, v), tolerance);
        }
    }
}
