//! The "series informed activation": ReLU, then a depthwise (2n+1)x(2n+1) conv, then BN.

use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::nn::conv::Conv2d;
use burn::tensor::{Device, Tensor, activation::relu, module::conv2d, ops::ConvOptions};

use crate::batch_norm::BatchNorm2d;
use crate::fusion::conv_from;

/// Training form. The ReLU is never annealed: only the leaky activations between convs are.
#[derive(Module, Debug)]
pub struct SeriesActivation {
    /// `[dim, 1, 2n+1, 2n+1]`, official name `act.weight`.
    pub weight: Param<Tensor<4>>,
    pub bn: BatchNorm2d,
}

impl SeriesActivation {
    pub fn new(dim: usize, act_num: usize, device: &Device) -> Self {
        let k = 2 * act_num + 1;
        Self {
            weight: Initializer::Normal { mean: 0.0, std: 0.02 }.init([dim, 1, k, k], device),
            bn: BatchNorm2d::new(dim, device),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [dim, _, k, _] = self.weight.dims();
        let pad = k / 2;
        let y = conv2d(relu(x), self.weight.val(), None, ConvOptions::new([1, 1], [pad, pad], [1, 1], dim));
        self.bn.forward(y)
    }

    /// BN folded into the depthwise conv, which gains a bias.
    pub fn fuse(&self) -> SeriesActivationDeploy {
        let [dim, _, k, _] = self.weight.dims();
        let (w, b) = self.bn.fold(self.weight.val(), None);
        SeriesActivationDeploy { conv: conv_from(w, b, 1, k / 2, dim) }
    }
}

/// Deploy form: ReLU then a depthwise conv with bias (`act.weight`, `act.bias`).
#[derive(Module, Debug)]
pub struct SeriesActivationDeploy {
    pub conv: Conv2d,
}

impl SeriesActivationDeploy {
    pub fn new(dim: usize, act_num: usize, device: &Device) -> Self {
        let k = 2 * act_num + 1;
        Self { conv: conv_from(Tensor::zeros([dim, 1, k, k], device), Tensor::zeros([dim], device), 1, act_num, dim) }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.conv.forward(relu(x))
    }
}
