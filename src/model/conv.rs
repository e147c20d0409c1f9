//! Convolutions as the official code builds them, and the part the stem and every block share:
//! a conv + BN, then (with deep training) a leaky activation and a 1x1 conv + BN, which fuse
//! into one conv once the activation is the identity.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Initializer, PaddingConfig2d};
use burn::tensor::{Device, Tensor, activation::leaky_relu};

use crate::model::batch_norm::BatchNorm2d;
use crate::model::fusion::{bias_of, conv_like, merge_1x1};
use crate::model::ops::pointwise_conv;

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

/// `conv.forward(x)`, through our own 1x1 conv op where it is one (stride 1, no padding or
/// dilation, one group, a bias): every block's convs and the head's.
pub fn conv_forward(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    let [kh, kw] = conv.kernel_size;
    let plain = conv.stride == [1, 1] && conv.dilation == [1, 1] && conv.groups == 1;
    let unpadded =
        matches!(conv.padding, PaddingConfig2d::Valid | PaddingConfig2d::Same | PaddingConfig2d::Explicit(0, 0, 0, 0));
    match &conv.bias {
        Some(bias) if kh == 1 && kw == 1 && plain && unpadded => pointwise_conv(x, conv.weight.val(), bias.val()),
        _ => conv.forward(x),
    }
}

/// `bn1(conv1(x))`, then with deep training `bn2(conv2(leaky_relu(., lambda)))` where `conv2`
/// is 1x1 and keeps or changes the width. Official names: `stem1`/`stem2` in the stem,
/// `conv1`/`conv2` in a block, each `.0` (conv) and `.1` (BN).
#[derive(Module, Debug)]
pub struct ConvPair {
    pub conv1: Conv2d,
    pub bn1: BatchNorm2d,
    pub conv2: Option<Conv2d>,
    pub bn2: Option<BatchNorm2d>,
}

impl ConvPair {
    /// `first` (already built, `mid` channels out), then with deep training a 1x1 conv to `out`
    /// channels. (`mid` is passed rather than read off `first`: reading the shape of a lazily
    /// initialised weight draws its random values there and then, which would change the
    /// initial weights a seed gives.)
    pub fn new(first: Conv2d, mid: usize, deep_training: Option<usize>, device: &Device) -> Self {
        Self {
            conv1: first,
            bn1: BatchNorm2d::new(mid, device),
            conv2: deep_training.map(|out| conv_init(mid, out, 1, 1, 0, device)),
            bn2: deep_training.map(|out| BatchNorm2d::new(out, device)),
        }
    }

    /// Two convs (deep training), not one: lambda matters.
    pub fn deep(&self) -> bool {
        self.conv2.is_some()
    }

    pub fn forward(&self, x: Tensor<4>, lambda: f64) -> Tensor<4> {
        self.forward_tapped(x, lambda, None)
    }

    /// [`Self::forward`], handing the leaky activation's input (with deep training) to `tap`.
    pub fn forward_tapped(&self, x: Tensor<4>, lambda: f64, tap: Option<&mut Vec<Tensor<4>>>) -> Tensor<4> {
        let x = conv_forward(&self.conv1, x);
        match (&self.conv2, &self.bn2) {
            (Some(conv2), Some(bn2)) => {
                // The tap wants the activation's input, so BN and activation are separate then.
                let x = match tap {
                    Some(tap) => {
                        let x = self.bn1.forward(x);
                        tap.push(x.clone());
                        leaky_relu(x, lambda)
                    }
                    None => self.bn1.forward_leaky(x, lambda),
                };
                bn2.forward(conv_forward(conv2, x))
            }
            _ => self.bn1.forward(x),
        }
    }

    /// One conv's weight and bias: both BNs folded, the 1x1 merged into the first kernel
    /// (exact at lambda = 1 only).
    pub fn fuse(&self) -> (Tensor<4>, Tensor<1>) {
        let (w, b) = self.bn1.fold(self.conv1.weight.val(), Some(bias_of(&self.conv1)));
        match (&self.conv2, &self.bn2) {
            (Some(conv2), Some(bn2)) => {
                let (w2, b2) = bn2.fold(conv2.weight.val(), Some(bias_of(conv2)));
                merge_1x1(w, b, w2, b2)
            }
            _ => (w, b),
        }
    }

    /// Fuse and continue: at lambda 1, the pair as the one conv + BN of a layer without deep
    /// training, to train on. `bn1` (running statistics) is folded and the 1x1 merged into the
    /// first conv; `bn2` stays as the one BN, so in eval mode the layer computes what the pair
    /// did, and in training it still normalises the batch at the layer's output with `bn2`'s
    /// scale and shift, as the pair did (a BN reset to the identity would rescale every
    /// channel at the first training step). `bn2` keeps its parameters (and so its optimizer
    /// moments); the merged conv is a new parameter. Call it on an eval-mode copy.
    pub fn merge_pair(&self) -> ConvPair {
        let (Some(conv2), Some(bn2)) = (&self.conv2, &self.bn2) else {
            return self.clone();
        };
        let (w1, b1) = self.bn1.fold(self.conv1.weight.val(), Some(bias_of(&self.conv1)));
        let (weight, bias) = merge_1x1(w1, b1, conv2.weight.val(), bias_of(conv2));
        ConvPair { conv1: conv_like(&self.conv1, weight, bias), bn1: bn2.clone(), conv2: None, bn2: None }
    }
}
