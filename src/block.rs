//! A VanillaNet block: two 1x1 convs with a leaky activation between them, a pool, and a
//! series activation. No shortcut.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Initializer, PaddingConfig2d};
use burn::tensor::module::max_pool2d;
use burn::tensor::ops::MaxPoolOptions;
use burn::tensor::{Device, Tensor, activation::leaky_relu};

use crate::activation::{SeriesActivation, SeriesActivationDeploy};
use crate::batch_norm::BatchNorm2d;
use crate::fusion::{bias_of, conv_from, merge_1x1};

/// A conv initialised as the official `_init_weights` does: weights N(0, 0.02), bias 0.
pub fn conv_init(cin: usize, cout: usize, kernel: usize, stride: usize, padding: usize, device: &Device) -> Conv2d {
    let mut conv = Conv2dConfig::new([cin, cout], [kernel, kernel])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(padding, padding, padding, padding))
        .with_initializer(Initializer::Normal { mean: 0.0, std: 0.02 })
        .init(device);
    conv.bias = Some(Initializer::Zeros.init([cout], device));
    conv
}

/// The block's downsampling: MaxPool(k = s, stride = s) with floor, AdaptiveMaxPool to a fixed
/// size in the `_ada_pool` variant, nothing at stride 1. It comes before the activation.
fn pool(x: Tensor<4>, stride: usize, ada_pool: usize) -> Tensor<4> {
    match (stride, ada_pool) {
        (1, _) => x,
        (s, 0) => max_pool2d(x, MaxPoolOptions::new([s, s])),
        (_, out) => adaptive_max_pool2d(x, out),
    }
}

/// PyTorch's AdaptiveMaxPool2d: window i spans [floor(i*n/out), ceil((i+1)*n/out)).
fn adaptive_max_pool2d(x: Tensor<4>, out: usize) -> Tensor<4> {
    let reduce = |x: Tensor<4>, dim: usize| {
        let n = x.dims()[dim];
        let windows = (0..out)
            .map(|i| {
                let (start, end) = (i * n / out, ((i + 1) * n).div_ceil(out));
                x.clone().narrow(dim, start, end - start).max_dim(dim)
            })
            .collect();
        Tensor::cat(windows, dim)
    };
    reduce(reduce(x, 2), 3)
}

/// Training form (`stages.i`): `conv1` = conv 1x1 + BN, `conv2` = conv 1x1 + BN, `act`.
#[derive(Module, Debug)]
pub struct Block {
    pub conv1: Conv2d,
    pub bn1: BatchNorm2d,
    pub conv2: Conv2d,
    pub bn2: BatchNorm2d,
    pub act: SeriesActivation,
    pub stride: usize,
    pub ada_pool: usize,
}

impl Block {
    pub fn new(dim: usize, dim_out: usize, act_num: usize, stride: usize, ada_pool: usize, device: &Device) -> Self {
        Self {
            conv1: conv_init(dim, dim, 1, 1, 0, device),
            bn1: BatchNorm2d::new(dim, device),
            conv2: conv_init(dim, dim_out, 1, 1, 0, device),
            bn2: BatchNorm2d::new(dim_out, device),
            act: SeriesActivation::new(dim_out, act_num, device),
            stride,
            ada_pool,
        }
    }

    pub fn forward(&self, x: Tensor<4>, lambda: f64) -> Tensor<4> {
        let x = leaky_relu(self.bn1.forward(self.conv1.forward(x)), lambda);
        let x = self.bn2.forward(self.conv2.forward(x));
        self.act.forward(pool(x, self.stride, self.ada_pool))
    }

    /// One 1x1 conv for both (exact at lambda = 1 only; pooling commutes with nothing, so
    /// it stays after the merged conv, as in the official code).
    pub fn fuse(&self) -> BlockDeploy {
        let (w1, b1) = self.bn1.fold(self.conv1.weight.val(), Some(bias_of(&self.conv1)));
        let (w2, b2) = self.bn2.fold(self.conv2.weight.val(), Some(bias_of(&self.conv2)));
        let (w, b) = merge_1x1(w1, b1, w2, b2);
        BlockDeploy {
            conv: conv_from(w, b, 1, 0, 1),
            act: self.act.fuse(),
            stride: self.stride,
            ada_pool: self.ada_pool,
        }
    }
}

/// Deploy form (`stages.i.conv`, `stages.i.act`).
#[derive(Module, Debug)]
pub struct BlockDeploy {
    pub conv: Conv2d,
    pub act: SeriesActivationDeploy,
    pub stride: usize,
    pub ada_pool: usize,
}

impl BlockDeploy {
    pub fn new(dim: usize, dim_out: usize, act_num: usize, stride: usize, ada_pool: usize, device: &Device) -> Self {
        Self {
            conv: conv_init(dim, dim_out, 1, 1, 0, device),
            act: SeriesActivationDeploy::new(dim_out, act_num, device),
            stride,
            ada_pool,
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.act.forward(pool(self.conv.forward(x), self.stride, self.ada_pool))
    }
}
