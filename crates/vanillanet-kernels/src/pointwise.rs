//! The 1x1 conv (stride 1, no padding, one group) as what it is, a matrix product per image:
//! `y[n] = W @ x[n] + b` with `W` `[Cout, Cin]` and `x[n]` `[Cin, H*W]`, NCHW read in place.
//! Its gradients are two more products per image, strided views of the same buffers; burn's
//! generic conv gradients copy both tensors to swap batch and channels, and take the input's
//! through a transposed conv.

use crate::Real;
use gemm::{Parallelism, gemm};

/// The sizes: `n` images of `cin` channels in, `cout` out, `hw` pixels each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pointwise {
    pub n: usize,
    pub cin: usize,
    pub cout: usize,
    pub hw: usize,
}

/// A row-major matrix view for [`product`]: its pointer and its (row, column) strides.
#[derive(Clone, Copy)]
struct View<T> {
    ptr: *const T,
    rs: isize,
    cs: isize,
}

impl<T> View<T> {
    fn rows(s: &[T], cols: usize) -> Self {
        Self { ptr: s.as_ptr(), rs: cols as isize, cs: 1 }
    }

    /// The transpose of a row-major matrix with `cols` columns.
    fn transposed(s: &[T], cols: usize) -> Self {
        Self { ptr: s.as_ptr(), rs: 1, cs: cols as isize }
    }
}

/// `dst (m x n, row-major) = lhs (m x k) @ rhs (k x n)`, plus what `dst` holds if `accumulate`.
///
/// # Safety
/// The views must cover m x k and k x n values within their slices; `dst` holds m * n.
unsafe fn product<T: Real>(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [T],
    accumulate: bool,
    lhs: View<T>,
    rhs: View<T>,
    parallel: bool,
) {
    debug_assert!(dst.len() >= m * n);
    let parallelism = match parallel {
        #[cfg(feature = "rayon")]
        true => Parallelism::Rayon(0),
        _ => Parallelism::None,
    };
    // SAFETY: the caller's bounds; gemm supports f32 and f64, the only `Real`s.
    unsafe {
        gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.ptr,
            lhs.cs,
            lhs.rs,
            rhs.ptr,
            rhs.cs,
            rhs.rs,
            T::of(1.0),
            T::of(1.0),
            false,
            false,
            false,
            parallelism,
        )
    }
}

fn threads() -> usize {
    #[cfg(feature = "rayon")]
    return rayon::current_num_threads();
    #[cfg(not(feature = "rayon"))]
    1
}

fn check<T>(s: Pointwise, x: &[T], weight: &[T]) {
    assert_eq!(x.len(), s.n * s.cin * s.hw, "1x1 conv: input of {} values for {s:?}", x.len());
    assert_eq!(weight.len(), s.cout * s.cin, "1x1 conv: weight of {} values for {s:?}", weight.len());
}

/// `y[n] = W @ x[n] + b`: images on threads when there are enough of them, else each product
/// split over the threads.
/// `y[n] = W @ x[n] + b`.
pub fn forward<T: Real>(s: Pointwise, x: &[T], weight: &[T], bias: Option<&[T]>) -> Vec<T> {
    T::pointwise_forward(s, x, weight, bias)
}

pub(crate) fn forward_impl<T: Real>(s: Pointwise, x: &[T], weight: &[T], bias: Option<&[T]>) -> Vec<T> {
    check(s, x, weight);
    let (inp, out) = (s.cin * s.hw, s.cout * s.hw);
    let mut y = vec![T::default(); s.n * out];
    if out == 0 {
        return y;
    }
    let by_image = s.n >= threads();
    let image = |i: usize, y: &mut [T]| {
        if let Some(b) = bias {
            for (row, b) in y.chunks_exact_mut(s.hw).zip(b) {
                row.fill(*b);
            }
        }
        // SAFETY: W is cout x cin, x[i] cin x hw, y[i] cout x hw, all in bounds.
        unsafe {
            product(
                s.cout,
                s.hw,
                s.cin,
                y,
                bias.is_some(),
                View::rows(weight, s.cin),
                View::rows(&x[i * inp..(i + 1) * inp], s.hw),
                !by_image,
            )
        };
    };
    if by_image {
        crate::par::chunks(&mut y, out, || (), |_, i, y| image(i, y));
    } else {
        y.chunks_exact_mut(out).enumerate().for_each(|(i, y)| image(i, y));
    }
    y
}

/// The gradients of [`forward`] for the input, the weight (`[Cout, Cin]`) and the bias.
pub struct Gradients<T> {
    pub x: Vec<T>,
    pub weight: Vec<T>,
    pub bias: Vec<T>,
}

/// `dx[n] = W^T @ dy[n]`, `dW = sum_n dy[n] @ x[n]^T`, `db = sum dy`. The weight gradient is
/// summed a run of images per thread, then over the threads.
/// The gradients of [`forward`] for the input, the weight and the bias.
pub fn backward<T: Real>(s: Pointwise, x: &[T], weight: &[T], grad: &[T]) -> Gradients<T> {
    T::pointwise_backward(s, x, weight, grad)
}

pub(crate) fn backward_impl<T: Real>(s: Pointwise, x: &[T], weight: &[T], grad: &[T]) -> Gradients<T> {
    check(s, x, weight);
    assert_eq!(grad.len(), s.n * s.cout * s.hw, "1x1 conv: gradient of {} values for {s:?}", grad.len());
    let (inp, out, wlen) = (s.cin * s.hw, s.cout * s.hw, s.cout * s.cin);
    let mut gx = vec![T::default(); s.n * inp];
    let mut bias = vec![T::default(); s.cout];
    if s.n == 0 || s.hw == 0 || wlen == 0 {
        return Gradients { x: gx, weight: vec![T::default(); wlen], bias };
    }
    let by_image = s.n >= threads();
    let input_grad = |i: usize, gx: &mut [T]| {
        // SAFETY: W^T is cin x cout, dy[i] cout x hw, dx[i] cin x hw.
        unsafe {
            product(
                s.cin,
                s.hw,
                s.cout,
                gx,
                false,
                View::transposed(weight, s.cin),
                View::rows(&grad[i * out..(i + 1) * out], s.hw),
                !by_image,
            )
        };
    };
    // One run of images per thread, each summing its images' weight gradients in place.
    let runs = if by_image { threads().min(s.n) } else { 1 };
    let per_run = s.n.div_ceil(runs);
    let mut partial = vec![T::default(); runs * wlen];
    let weight_grad = |r: usize, acc: &mut [T]| {
        for i in r * per_run..((r + 1) * per_run).min(s.n) {
            // SAFETY: dy[i] is cout x hw, x[i]^T hw x cin, the sum cout x cin.
            unsafe {
                product(
                    s.cout,
                    s.cin,
                    s.hw,
                    acc,
                    i > r * per_run,
                    View::rows(&grad[i * out..(i + 1) * out], s.hw),
                    View::transposed(&x[i * inp..(i + 1) * inp], s.hw),
                    !by_image,
                )
            };
        }
    };
    if by_image {
        crate::par::chunks(&mut gx, inp, || (), |_, i, gx| input_grad(i, gx));
        crate::par::chunks(&mut partial, wlen, || (), |_, r, acc| weight_grad(r, acc));
    } else {
        gx.chunks_exact_mut(inp).enumerate().for_each(|(i, gx)| input_grad(i, gx));
        weight_grad(0, &mut partial);
    }
    let mut weight = partial[..wlen].to_vec();
    for run in partial[wlen..].chunks_exact(wlen) {
        for (w, p) in weight.iter_mut().zip(run) {
            *w += *p;
        }
    }
    for (o, b) in bias.iter_mut().enumerate() {
        let mut sum = 0.0;
        for i in 0..s.n {
            let row = &grad[i * out + o * s.hw..i * out + (o + 1) * s.hw];
            sum += row.iter().fold(T::default(), |a, v| a + *v).f64();
        }
        *b = T::of(sum);
    }
    Gradients { x: gx, weight, bias }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_and_backward_match_the_definitions() {
        let s = Pointwise { n: 3, cin: 4, cout: 5, hw: 6 };
        let f = |i: usize, salt: usize| (((i * 7919 + salt * 104729) % 1000) as f64 / 500.0) - 1.0;
        let x: Vec<f64> = (0..s.n * s.cin * s.hw).map(|i| f(i, 1)).collect();
        let w: Vec<f64> = (0..s.cout * s.cin).map(|i| f(i, 2)).collect();
        let b: Vec<f64> = (0..s.cout).map(|i| f(i, 3)).collect();
        let g: Vec<f64> = (0..s.n * s.cout * s.hw).map(|i| f(i, 4)).collect();
        let y = forward(s, &x, &w, Some(&b));
        let grads = backward(s, &x, &w, &g);
        let (xi, yi) = (
            |n: usize, c: usize, p: usize| (n * s.cin + c) * s.hw + p,
            |n: usize, o: usize, p: usize| (n * s.cout + o) * s.hw + p,
        );
        for n in 0..s.n {
            for o in 0..s.cout {
                for p in 0..s.hw {
                    let e = b[o] + (0..s.cin).map(|c| w[o * s.cin + c] * x[xi(n, c, p)]).sum::<f64>();
                    assert!((y[yi(n, o, p)] - e).abs() < 1e-12);
                }
            }
            for c in 0..s.cin {
                for p in 0..s.hw {
                    let e: f64 = (0..s.cout).map(|o| w[o * s.cin + c] * g[yi(n, o, p)]).sum();
                    assert!((grads.x[xi(n, c, p)] - e).abs() < 1e-12);
                }
            }
        }
        for o in 0..s.cout {
            for c in 0..s.cin {
                let e: f64 = (0..s.n)
                    .flat_map(|n| (0..s.hw).map(move |p| (n, p)))
                    .map(|(n, p)| g[yi(n, o, p)] * x[xi(n, c, p)])
                    .sum();
                assert!((grads.weight[o * s.cin + c] - e).abs() < 1e-12);
            }
            let e: f64 = (0..s.n).flat_map(|n| (0..s.hw).map(move |p| (n, p))).map(|(n, p)| g[yi(n, o, p)]).sum();
            assert!((grads.bias[o] - e).abs() < 1e-12);
        }
    }
}
