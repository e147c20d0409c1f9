//! VanillaNet's CPU kernels: the series activation (ReLU, then a depthwise k×k conv),
//! BatchNorm on batch statistics with a leaky activation after it, and the 1x1 conv, forward
//! and backward, over NCHW tensors held as plain slices.
//!
//! They are plain loops over one `H x W` plane at a time that the compiler vectorises (SIMD128
//! in the browser too), split over rayon's threads with the `rayon` feature. The crate knows
//! nothing of burn: the `vanillanet` crate hands it its CPU backend's tensors (`src/model/ops/`),
//! and it is its own crate so that every build profile can compile it optimised, even the
//! unoptimised test builds of the crate around it.

/// Runs `$body` compiled for AVX2 where the CPU has it (natively; the crate's baseline is
/// SSE2), else as compiled. The body is the same code: only the vector width differs.
#[macro_use]
mod avx2 {
    macro_rules! with_avx2 {
    ($name:ident, $($arg:ident: $ty:ty),* => $ret:ty; $body:expr) => {{
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx2")]
            fn $name<T: Real>($($arg: $ty),*) -> $ret { $body }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2, checked just now.
                return unsafe { $name::<T>($($arg),*) };
            }
        }
        $body
    }};
}
}

pub mod batch_norm;
mod par;
pub mod pointwise;
pub mod series;
#[cfg(test)]
mod testing;

/// The float types the kernels are written for: f32, and f64 for the parity tests.
///
/// Each kernel is a method here, implemented for f32 and f64 in this crate: a generic function
/// is compiled in the crate that calls it, at that crate's optimisation level (unoptimised in
/// test builds, for size in the browser's), where these are compiled here, optimised.
pub trait Real:
    Copy
    + Default
    + Send
    + Sync
    + PartialOrd
    + core::fmt::Debug
    + core::ops::Add<Output = Self>
    + core::ops::Sub<Output = Self>
    + core::ops::Mul<Output = Self>
    + core::ops::AddAssign
    + 'static
{
    fn of(v: f64) -> Self;
    fn f64(self) -> f64;

    #[doc(hidden)]
    fn series_forward(s: Nchw, x: &[Self], weight: &[Self], bias: Option<&[Self]>, k: usize) -> Vec<Self>;
    #[doc(hidden)]
    fn series_backward(s: Nchw, x: &[Self], weight: &[Self], grad: &[Self], k: usize) -> series::Gradients<Self>;
    #[doc(hidden)]
    fn batch_norm_forward(
        s: Nchw,
        x: &[Self],
        gamma: &[Self],
        beta: &[Self],
        epsilon: f64,
        slope: f64,
    ) -> batch_norm::Forward<Self>;
    /// `tensors`: the input, gamma, beta, the batch mean and variance, the output's gradient.
    #[doc(hidden)]
    fn batch_norm_backward(s: Nchw, tensors: [&[Self]; 6], epsilon: f64, slope: f64) -> batch_norm::Gradients<Self>;
    #[doc(hidden)]
    fn pointwise_forward(s: pointwise::Pointwise, x: &[Self], weight: &[Self], bias: Option<&[Self]>) -> Vec<Self>;
    #[doc(hidden)]
    fn pointwise_backward(
        s: pointwise::Pointwise,
        x: &[Self],
        weight: &[Self],
        grad: &[Self],
    ) -> pointwise::Gradients<Self>;
}

macro_rules! real {
    ($t:ty) => {
        impl Real for $t {
            fn of(v: f64) -> Self {
                v as $t
            }
            fn f64(self) -> f64 {
                self as f64
            }
            fn series_forward(s: Nchw, x: &[Self], weight: &[Self], bias: Option<&[Self]>, k: usize) -> Vec<Self> {
                series::forward_impl(s, x, weight, bias, k)
            }
            fn series_backward(
                s: Nchw,
                x: &[Self],
                weight: &[Self],
                grad: &[Self],
                k: usize,
            ) -> series::Gradients<Self> {
                series::backward_impl(s, x, weight, grad, k)
            }
            fn batch_norm_forward(
                s: Nchw,
                x: &[Self],
                gamma: &[Self],
                beta: &[Self],
                epsilon: f64,
                slope: f64,
            ) -> batch_norm::Forward<Self> {
                batch_norm::forward_impl(s, x, gamma, beta, epsilon, slope)
            }
            fn batch_norm_backward(
                s: Nchw,
                [x, gamma, beta, mean, variance, grad]: [&[Self]; 6],
                epsilon: f64,
                slope: f64,
            ) -> batch_norm::Gradients<Self> {
                batch_norm::backward_impl(s, x, gamma, beta, mean, variance, epsilon, slope, grad)
            }
            fn pointwise_forward(
                s: pointwise::Pointwise,
                x: &[Self],
                weight: &[Self],
                bias: Option<&[Self]>,
            ) -> Vec<Self> {
                pointwise::forward_impl(s, x, weight, bias)
            }
            fn pointwise_backward(
                s: pointwise::Pointwise,
                x: &[Self],
                weight: &[Self],
                grad: &[Self],
            ) -> pointwise::Gradients<Self> {
                pointwise::backward_impl(s, x, weight, grad)
            }
        }
    };
}

real!(f32);
real!(f64);

/// An NCHW shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Nchw {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
}

impl Nchw {
    pub fn plane(&self) -> usize {
        self.h * self.w
    }

    pub fn len(&self) -> usize {
        self.n * self.c * self.plane()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `sum(a * b)` with eight running sums, so that it vectorises (one sum would be a chain of
/// dependent adds: floats do not reassociate).
#[inline(always)]
pub(crate) fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    let mut lanes = [T::default(); 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (a8.remainder(), b8.remainder());
    for (x, y) in a8.zip(b8) {
        for l in 0..8 {
            lanes[l] += x[l] * y[l];
        }
    }
    let mut sum = lanes.iter().fold(T::default(), |s, v| s + *v);
    for (x, y) in ra.iter().zip(rb) {
        sum += *x * *y;
    }
    sum
}
