//! The stem: a 4x4 patchify conv and a 1x1 conv with a leaky activation between them.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::tensor::{Device, Tensor, activation::leaky_relu};

use crate::activation::{SeriesActivation, SeriesActivationDeploy};
use crate::batch_norm::BatchNorm2d;
use crate::block::conv_init;
use crate::config::VanillaNetConfig;
use crate::fusion::{bias_of, conv_from, merge_1x1};

/// Training form: `stem1` = conv 4x4 + BN, then leaky_relu(lambda), then `stem2` = conv 1x1 +
/// BN + series activation. Without deep training there is no `stem2` conv (nor lambda).
#[derive(Module, Debug)]
pub struct Stem {
    pub conv1: Conv2d,
    pub bn1: BatchNorm2d,
    pub conv2: Option<Conv2d>,
    pub bn2: Option<BatchNorm2d>,
    pub act: SeriesActivation,
}

impl Stem {
    pub fn new(config: &VanillaNetConfig, device: &Device) -> Self {
        let d = config.dims[0];
        let (stride, padding) = config.stem_stride_padding();
        Self {
            conv1: conv_init(config.in_chans, d, 4, stride, padding, device),
            bn1: BatchNorm2d::new(d, device),
            conv2: config.deep_training.then(|| conv_init(d, d, 1, 1, 0, device)),
            bn2: config.deep_training.then(|| BatchNorm2d::new(d, device)),
            act: SeriesActivation::new(d, config.act_num, device),
        }
    }

    pub fn forward(&self, x: Tensor<4>, lambda: f64) -> Tensor<4> {
        let mut x = self.bn1.forward(self.conv1.forward(x));
        if let (Some(conv2), Some(bn2)) = (&self.conv2, &self.bn2) {
            x = bn2.forward(conv2.forward(leaky_relu(x, lambda)));
        }
        self.act.forward(x)
    }

    /// Both BNs folded, the 1x1 merged into the 4x4 kernel (exact at lambda = 1 only).
    pub fn fuse(&self) -> StemDeploy {
        let (mut w, mut b) = self.bn1.fold(self.conv1.weight.val(), Some(bias_of(&self.conv1)));
        if let (Some(conv2), Some(bn2)) = (&self.conv2, &self.bn2) {
            let (w2, b2) = bn2.fold(conv2.weight.val(), Some(bias_of(conv2)));
            (w, b) = merge_1x1(w, b, w2, b2);
        }
        let padding = match self.conv1.padding {
            burn::nn::PaddingConfig2d::Explicit(p, ..) => p,
            _ => 0,
        };
        StemDeploy { conv: conv_from(w, b, self.conv1.stride[0], padding, 1), act: self.act.fuse() }
    }
}

/// Deploy form: `stem.0` (one 4x4 conv) and `stem.1` (the activation).
#[derive(Module, Debug)]
pub struct StemDeploy {
    pub conv: Conv2d,
    pub act: SeriesActivationDeploy,
}

impl StemDeploy {
    pub fn new(config: &VanillaNetConfig, device: &Device) -> Self {
        let d = config.dims[0];
        let (stride, padding) = config.stem_stride_padding();
        Self {
            conv: conv_init(config.in_chans, d, 4, stride, padding, device),
            act: SeriesActivationDeploy::new(d, config.act_num, device),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.act.forward(self.conv.forward(x))
    }
}
