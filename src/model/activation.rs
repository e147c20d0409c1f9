//! The "series informed activation": ReLU, then a depthwise (2n+1)x(2n+1) conv, then BN. At
//! n = 0 it is the plain ReLU the paper compares against.

use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::nn::conv::Conv2d;
use burn::tensor::{Device, Tensor, activation::relu};

use crate::model::batch_norm::BatchNorm2d;
use crate::model::fusion::conv_from;
use crate::model::ops::{series_activation, series_activation_deploy};

/// Training form. The ReLU is never annealed: only the leaky activations between convs are.
#[derive(Module, Debug)]
pub struct SeriesActivation {
    /// `[dim, 1, 2n+1, 2n+1]`, official name `act.weight`; none at n = 0.
    pub weight: Option<Param<Tensor<4>>>,
    pub bn: Option<BatchNorm2d>,
}

impl SeriesActivation {
    pub fn new(dim: usize, act_num: usize, device: &Device) -> Self {
        if act_num == 0 {
            return Self { weight: None, bn: None };
        }
        let k = 2 * act_num + 1;
        Self {
            weight: Some(Initializer::Normal { mean: 0.0, std: 0.02 }.init([dim, 1, k, k], device)),
            bn: Some(BatchNorm2d::new(dim, device)),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let (Some(weight), Some(bn)) = (&self.weight, &self.bn) else {
            return relu(x);
        };
        bn.forward(series_activation(x, weight.val()))
    }

    /// BN folded into the depthwise conv, which gains a bias.
    pub fn fuse(&self) -> SeriesActivationDeploy {
        let conv = self.weight.as_ref().zip(self.bn.as_ref()).map(|(weight, bn)| {
            let [dim, _, k, _] = weight.dims();
            let (w, b) = bn.fold(weight.val(), None);
            conv_from(w, b, 1, k / 2, dim)
        });
        SeriesActivationDeploy { conv }
    }
}

/// Deploy form: ReLU then a depthwise conv with bias (`act.weight`, `act.bias`), if any.
#[derive(Module, Debug)]
pub struct SeriesActivationDeploy {
    pub conv: Option<Conv2d>,
}

impl SeriesActivationDeploy {
    pub fn new(dim: usize, act_num: usize, device: &Device) -> Self {
        let k = 2 * act_num + 1;
        let conv = (act_num > 0)
            .then(|| conv_from(Tensor::zeros([dim, 1, k, k], device), Tensor::zeros([dim], device), 1, act_num, dim));
        Self { conv }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        match self.conv.as_ref().and_then(|conv| conv.bias.as_ref().map(|bias| (conv, bias))) {
            Some((conv, bias)) => series_activation_deploy(x, conv.weight.val(), bias.val()),
            None => match &self.conv {
                Some(conv) => conv.forward(relu(x)),
                None => relu(x),
            },
        }
    }
}
