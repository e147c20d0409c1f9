//! The stem: a 4x4 patchify conv and a 1x1 conv with a leaky activation between them.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::tensor::{Device, Tensor};

use crate::model::activation::{SeriesActivation, SeriesActivationDeploy};
use crate::model::config::VanillaNetConfig;
use crate::model::conv::{ConvPair, conv_init};
use crate::model::fusion::conv_from;

/// Training form: `stem1` = conv 4x4 + BN, then leaky_relu(lambda), then `stem2` = conv 1x1 +
/// BN + series activation. Without deep training there is no `stem2` conv (nor lambda).
#[derive(Module, Debug)]
pub struct Stem {
    pub convs: ConvPair,
    pub act: SeriesActivation,
}

impl Stem {
    pub fn new(config: &VanillaNetConfig, device: &Device) -> Self {
        let d = config.dims[0];
        let (stride, padding) = config.stem_stride_padding();
        let patchify = conv_init(config.in_chans, d, 4, stride, padding, device);
        Self {
            convs: ConvPair::new(patchify, d, config.deep_training.then_some(d), device),
            act: SeriesActivation::new(d, config.act_num, device),
        }
    }

    pub fn forward(&self, x: Tensor<4>, lambda: f64) -> Tensor<4> {
        self.forward_tapped(x, lambda, None)
    }

    /// [`Self::forward`], handing the leaky activation's input to `tap` (see `ConvPair`).
    pub fn forward_tapped(&self, x: Tensor<4>, lambda: f64, tap: Option<&mut Vec<Tensor<4>>>) -> Tensor<4> {
        self.act.forward(self.convs.forward_tapped(x, lambda, tap))
    }

    /// Both BNs folded, the 1x1 merged into the 4x4 kernel (exact at lambda = 1 only).
    pub fn fuse(&self) -> StemDeploy {
        let (w, b) = self.convs.fuse();
        let conv1 = &self.convs.conv1;
        let padding = match conv1.padding {
            burn::nn::PaddingConfig2d::Explicit(p, ..) => p,
            _ => 0,
        };
        StemDeploy { conv: conv_from(w, b, conv1.stride[0], padding, 1), act: self.act.fuse() }
    }
}

impl Stem {
    /// Fuse and continue: the pair merged into one conv + BN (see [`ConvPair::merge_pair`]),
    /// the activation kept; eval-mode copy.
    pub fn merge_pair(&self) -> Stem {
        Stem { convs: self.convs.merge_pair(), act: self.act.clone() }
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
