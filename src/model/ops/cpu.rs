//! The CPU backend's implementation of [`VanillaOps`]: its tensors handed to the kernels
//! of the `vanillanet-kernels` crate as slices, f32 and f64 (the parity tests' dtype); other
//! dtypes take the composed form.

use burn::backend::flex::{FlexTensor, Layout};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Flex, TensorMetadata};
use burn::tensor::{Bytes, DType, Element, Shape};
use vanillanet_kernels::pointwise::Pointwise;
use vanillanet_kernels::{Nchw, Real, batch_norm as bn, pointwise as pw, series as sa};

use crate::model::ops::{VanillaOps, batch_norm, pointwise, series};

impl VanillaOps for Flex {
    fn pointwise_conv(x: FloatTensor<Self>, weight: FloatTensor<Self>, bias: FloatTensor<Self>) -> FloatTensor<Self> {
        pointwise_forward(x, weight, bias)
    }

    fn pointwise_conv_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        pointwise_backward(x, weight, grad)
    }

    fn series_activation(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self> {
        series_forward(x, weight, None)
    }

    fn series_activation_deploy(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        series_forward(x, weight, Some(bias))
    }

    fn series_activation_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        series_backward(x, weight, grad)
    }

    fn batch_norm_leaky(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
        slope: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        batch_norm_forward(x, gamma, beta, epsilon, slope)
    }

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
        batch_norm_backward(x, gamma, beta, mean, variance, epsilon, slope, grad)
    }
}

/// The row-major values of `t`, made contiguous by the caller.
fn values<T: Real + Element + bytemuck::Pod>(t: &FlexTensor) -> &[T] {
    t.as_slice::<T>().expect("contiguous, of the dispatched dtype")
}

fn tensor<T: Real + Element + bytemuck::Pod>(values: Vec<T>, shape: &[usize]) -> FlexTensor {
    FlexTensor::new(Bytes::from_elems(values), Layout::contiguous(Shape::from(shape.to_vec())), T::dtype())
}

fn nchw(x: &FlexTensor) -> Nchw {
    let [n, c, h, w] = x.shape().dims();
    Nchw { n, c, h, w }
}

/// The dtype all of `tensors` share, if the kernels have it.
fn common_dtype(tensors: &[&FlexTensor]) -> Option<DType> {
    let dtype = tensors[0].dtype();
    (matches!(dtype, DType::F32 | DType::F64) && tensors.iter().all(|t| t.dtype() == dtype)).then_some(dtype)
}

fn series_forward_typed<T: Real + Element + bytemuck::Pod>(
    x: &FlexTensor,
    weight: &FlexTensor,
    bias: Option<&FlexTensor>,
) -> FlexTensor {
    let k = weight.shape()[2];
    let y = sa::forward(nchw(x), values::<T>(x), values::<T>(weight), bias.map(values::<T>), k);
    tensor(y, &x.shape().dims::<4>())
}

fn series_backward_typed<T: Real + Element + bytemuck::Pod>(
    x: &FlexTensor,
    weight: &FlexTensor,
    grad: &FlexTensor,
) -> (FlexTensor, FlexTensor) {
    let k = weight.shape()[2];
    let g = sa::backward(nchw(x), values::<T>(x), values::<T>(weight), values::<T>(grad), k);
    (tensor(g.x, &x.shape().dims::<4>()), tensor(g.weight, &weight.shape().dims::<4>()))
}

/// With a bias: the deploy form's.
pub fn series_forward(
    x: FloatTensor<Flex>,
    weight: FloatTensor<Flex>,
    bias: Option<FloatTensor<Flex>>,
) -> FloatTensor<Flex> {
    let (x, weight, bias) = (x.to_contiguous(), weight.to_contiguous(), bias.map(|b| b.to_contiguous()));
    let mut all = vec![&x, &weight];
    all.extend(bias.as_ref());
    match (common_dtype(&all), bias) {
        (Some(DType::F32), bias) => series_forward_typed::<f32>(&x, &weight, bias.as_ref()),
        (Some(DType::F64), bias) => series_forward_typed::<f64>(&x, &weight, bias.as_ref()),
        (_, None) => series::composed_forward::<Flex>(x, weight),
        (_, Some(bias)) => series::composed_deploy::<Flex>(x, weight, bias),
    }
}

pub fn series_backward(
    x: FloatTensor<Flex>,
    weight: FloatTensor<Flex>,
    grad: FloatTensor<Flex>,
) -> (FloatTensor<Flex>, FloatTensor<Flex>) {
    let (x, weight, grad) = (x.to_contiguous(), weight.to_contiguous(), grad.to_contiguous());
    match common_dtype(&[&x, &weight, &grad]) {
        Some(DType::F32) => series_backward_typed::<f32>(&x, &weight, &grad),
        Some(DType::F64) => series_backward_typed::<f64>(&x, &weight, &grad),
        _ => series::composed_backward::<Flex>(x, weight, grad),
    }
}

fn batch_norm_forward_typed<T: Real + Element + bytemuck::Pod>(
    x: &FlexTensor,
    gamma: &FlexTensor,
    beta: &FlexTensor,
    epsilon: f64,
    slope: f64,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let s = nchw(x);
    let f = bn::forward(s, values::<T>(x), values::<T>(gamma), values::<T>(beta), epsilon, slope);
    (tensor(f.output, &x.shape().dims::<4>()), tensor(f.mean, &[s.c]), tensor(f.variance, &[s.c]))
}

#[allow(clippy::too_many_arguments)]
fn batch_norm_backward_typed<T: Real + Element + bytemuck::Pod>(
    [x, gamma, beta, mean, variance, grad]: [&FlexTensor; 6],
    epsilon: f64,
    slope: f64,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let s = nchw(x);
    let g = bn::backward(
        s,
        values::<T>(x),
        values::<T>(gamma),
        values::<T>(beta),
        values::<T>(mean),
        values::<T>(variance),
        epsilon,
        slope,
        values::<T>(grad),
    );
    (tensor(g.x, &x.shape().dims::<4>()), tensor(g.gamma, &[s.c]), tensor(g.beta, &[s.c]))
}

pub fn batch_norm_forward(
    x: FloatTensor<Flex>,
    gamma: FloatTensor<Flex>,
    beta: FloatTensor<Flex>,
    epsilon: f64,
    slope: f64,
) -> (FloatTensor<Flex>, FloatTensor<Flex>, FloatTensor<Flex>) {
    let (x, gamma, beta) = (x.to_contiguous(), gamma.to_contiguous(), beta.to_contiguous());
    match common_dtype(&[&x, &gamma, &beta]) {
        Some(DType::F32) => batch_norm_forward_typed::<f32>(&x, &gamma, &beta, epsilon, slope),
        Some(DType::F64) => batch_norm_forward_typed::<f64>(&x, &gamma, &beta, epsilon, slope),
        _ => batch_norm::composed_forward::<Flex>(x, gamma, beta, epsilon, slope),
    }
}

#[allow(clippy::too_many_arguments)]
pub fn batch_norm_backward(
    x: FloatTensor<Flex>,
    gamma: FloatTensor<Flex>,
    beta: FloatTensor<Flex>,
    mean: FloatTensor<Flex>,
    variance: FloatTensor<Flex>,
    epsilon: f64,
    slope: f64,
    grad: FloatTensor<Flex>,
) -> (FloatTensor<Flex>, FloatTensor<Flex>, FloatTensor<Flex>) {
    let [x, gamma, beta, mean, variance, grad] = [x, gamma, beta, mean, variance, grad].map(|t| t.to_contiguous());
    let all = [&x, &gamma, &beta, &mean, &variance, &grad];
    match common_dtype(&all) {
        Some(DType::F32) => batch_norm_backward_typed::<f32>(all, epsilon, slope),
        Some(DType::F64) => batch_norm_backward_typed::<f64>(all, epsilon, slope),
        _ => batch_norm::composed_backward::<Flex>(x, gamma, beta, mean, variance, epsilon, slope, grad),
    }
}

fn pointwise_shape(x: &FlexTensor, weight: &FlexTensor) -> Pointwise {
    let s = nchw(x);
    Pointwise { n: s.n, cin: s.c, cout: weight.shape()[0], hw: s.h * s.w }
}

fn pointwise_forward_typed<T: Real + Element + bytemuck::Pod>(
    x: &FlexTensor,
    weight: &FlexTensor,
    bias: &FlexTensor,
) -> FlexTensor {
    let s = pointwise_shape(x, weight);
    let y = pw::forward(s, values::<T>(x), values::<T>(weight), Some(values::<T>(bias)));
    let [n, _, h, w] = x.shape().dims();
    tensor(y, &[n, s.cout, h, w])
}

fn pointwise_backward_typed<T: Real + Element + bytemuck::Pod>(
    x: &FlexTensor,
    weight: &FlexTensor,
    grad: &FlexTensor,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let s = pointwise_shape(x, weight);
    let g = pw::backward(s, values::<T>(x), values::<T>(weight), values::<T>(grad));
    (tensor(g.x, &x.shape().dims::<4>()), tensor(g.weight, &weight.shape().dims::<4>()), tensor(g.bias, &[s.cout]))
}

pub fn pointwise_forward(
    x: FloatTensor<Flex>,
    weight: FloatTensor<Flex>,
    bias: FloatTensor<Flex>,
) -> FloatTensor<Flex> {
    let [x, weight, bias] = [x, weight, bias].map(|t| t.to_contiguous());
    match common_dtype(&[&x, &weight, &bias]) {
        Some(DType::F32) => pointwise_forward_typed::<f32>(&x, &weight, &bias),
        Some(DType::F64) => pointwise_forward_typed::<f64>(&x, &weight, &bias),
        _ => pointwise::composed_forward::<Flex>(x, weight, bias),
    }
}

pub fn pointwise_backward(
    x: FloatTensor<Flex>,
    weight: FloatTensor<Flex>,
    grad: FloatTensor<Flex>,
) -> (FloatTensor<Flex>, FloatTensor<Flex>, FloatTensor<Flex>) {
    let [x, weight, grad] = [x, weight, grad].map(|t| t.to_contiguous());
    match common_dtype(&[&x, &weight, &grad]) {
        Some(DType::F32) => pointwise_backward_typed::<f32>(&x, &weight, &grad),
        Some(DType::F64) => pointwise_backward_typed::<f64>(&x, &weight, &grad),
        _ => pointwise::composed_backward::<Flex>(x, weight, grad),
    }
}
