//! A VanillaNet block: two 1x1 convs with a leaky activation between them, a pool, and a
//! series activation. No shortcut, except in the ablation that shows why.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::tensor::module::max_pool2d;
use burn::tensor::ops::MaxPoolOptions;
use burn::tensor::{Device, Tensor};

use crate::model::activation::{SeriesActivation, SeriesActivationDeploy};
use crate::model::batch_norm::BatchNorm2d;
use crate::model::config::{Shortcut, VanillaNetConfig};
use crate::model::conv::{ConvPair, conv_forward, conv_init};
use crate::model::fusion::conv_from;

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
/// Without deep training, `conv1` alone maps the width; `shortcut` only in the ablation.
#[derive(Module, Debug)]
pub struct Block {
    pub convs: ConvPair,
    pub act: SeriesActivation,
    pub shortcut: Option<BlockShortcut>,
    pub stride: usize,
    pub ada_pool: usize,
}

impl Block {
    /// Block `i` of `config`.
    pub fn new(config: &VanillaNetConfig, i: usize, device: &Device) -> Self {
        let (dim, dim_out, deep) = (config.dims[i], config.dims[i + 1], config.deep_training);
        let mid = if deep { dim } else { dim_out };
        Self {
            convs: ConvPair::new(conv_init(dim, mid, 1, 1, 0, device), mid, deep.then_some(dim_out), device),
            act: SeriesActivation::new(dim_out, config.act_num, device),
            shortcut: (config.shortcut != Shortcut::None).then(|| BlockShortcut::new(config, i, device)),
            stride: config.strides[i],
            ada_pool: config.ada_pool_size(i),
        }
    }

    pub fn forward(&self, x: Tensor<4>, lambda: f64) -> Tensor<4> {
        self.forward_tapped(x, lambda, None)
    }

    /// [`Self::forward`], handing the leaky activation's input to `tap` (see `ConvPair`).
    pub fn forward_tapped(&self, x: Tensor<4>, lambda: f64, tap: Option<&mut Vec<Tensor<4>>>) -> Tensor<4> {
        let y = pool(self.convs.forward_tapped(x.clone(), lambda, tap), self.stride, self.ada_pool);
        match &self.shortcut {
            None => self.act.forward(y),
            Some(s) if s.before_act => self.act.forward(y + s.forward(x, self.stride, self.ada_pool)),
            Some(s) => self.act.forward(y) + s.forward(x, self.stride, self.ada_pool),
        }
    }

    /// One 1x1 conv for both (exact at lambda = 1 only; pooling commutes with nothing, so
    /// it stays after the merged conv, as in the official code). A shortcut stays a branch of
    /// its own, BN folded, except an identity before the activation at stride 1, which is
    /// added to the conv's weights.
    pub fn fuse(&self) -> BlockDeploy {
        let (mut w, b) = self.convs.fuse();
        let mut shortcut = self.shortcut.as_ref().map(BlockShortcut::fuse);
        if shortcut.as_ref().is_some_and(|s| s.before_act && s.conv.is_none()) && self.stride == 1 {
            let [c, ..] = w.dims();
            w = w + Tensor::<2>::eye(c, &b.device()).reshape([c, c, 1, 1]);
            shortcut = None;
        }
        BlockDeploy {
            conv: conv_from(w, b, 1, 0, 1),
            act: self.act.fuse(),
            shortcut,
            stride: self.stride,
            ada_pool: self.ada_pool,
        }
    }
}

impl Block {
    /// Fuse and continue: the pair merged into one conv + BN (see [`ConvPair::merge_pair`]),
    /// the activation and any shortcut kept as they are; eval-mode copy.
    pub fn merge_pair(&self) -> Block {
        Block {
            convs: self.convs.merge_pair(),
            act: self.act.clone(),
            shortcut: self.shortcut.clone(),
            stride: self.stride,
            ada_pool: self.ada_pool,
        }
    }
}

/// A shortcut around a block (`stages.i.shortcut`): the block's pool, so that resolutions
/// match, then a 1x1 conv (no bias) + BN where the width changes (`shortcut.0`, `shortcut.1`).
#[derive(Module, Debug)]
pub struct BlockShortcut {
    pub conv: Option<Conv2d>,
    pub bn: Option<BatchNorm2d>,
    pub before_act: bool,
}

impl BlockShortcut {
    fn new(config: &VanillaNetConfig, i: usize, device: &Device) -> Self {
        let projects = config.projects(i);
        let conv = projects.then(|| {
            let mut conv = conv_init(config.dims[i], config.dims[i + 1], 1, 1, 0, device);
            conv.bias = None;
            conv
        });
        let bn = projects.then(|| BatchNorm2d::new(config.dims[i + 1], device));
        Self { conv, bn, before_act: config.shortcut == Shortcut::BeforeAct }
    }

    fn forward(&self, x: Tensor<4>, stride: usize, ada_pool: usize) -> Tensor<4> {
        let x = pool(x, stride, ada_pool);
        match (&self.conv, &self.bn) {
            (Some(conv), Some(bn)) => bn.forward(conv.forward(x)),
            _ => x,
        }
    }

    fn fuse(&self) -> ShortcutDeploy {
        let conv = self.conv.as_ref().zip(self.bn.as_ref()).map(|(conv, bn)| {
            let (w, b) = bn.fold(conv.weight.val(), None);
            conv_from(w, b, 1, 0, 1)
        });
        ShortcutDeploy { conv, before_act: self.before_act }
    }
}

/// Deploy form of a shortcut: pool, then a 1x1 conv with bias where the width changes
/// (`stages.i.shortcut`).
#[derive(Module, Debug)]
pub struct ShortcutDeploy {
    pub conv: Option<Conv2d>,
    pub before_act: bool,
}

impl ShortcutDeploy {
    fn forward(&self, x: Tensor<4>, stride: usize, ada_pool: usize) -> Tensor<4> {
        let x = pool(x, stride, ada_pool);
        match &self.conv {
            Some(conv) => conv.forward(x),
            None => x,
        }
    }
}

/// Deploy form (`stages.i.conv`, `stages.i.act`).
#[derive(Module, Debug)]
pub struct BlockDeploy {
    pub conv: Conv2d,
    pub act: SeriesActivationDeploy,
    pub shortcut: Option<ShortcutDeploy>,
    pub stride: usize,
    pub ada_pool: usize,
}

impl BlockDeploy {
    /// Block `i` of `config`, shaped as [`Block::fuse`] leaves it.
    pub fn new(config: &VanillaNetConfig, i: usize, device: &Device) -> Self {
        let (dim, dim_out) = (config.dims[i], config.dims[i + 1]);
        let shortcut = (config.shortcut != Shortcut::None && !config.shortcut_folds(i)).then(|| ShortcutDeploy {
            conv: config.projects(i).then(|| conv_init(dim, dim_out, 1, 1, 0, device)),
            before_act: config.shortcut == Shortcut::BeforeAct,
        });
        Self {
            conv: conv_init(dim, dim_out, 1, 1, 0, device),
            act: SeriesActivationDeploy::new(dim_out, config.act_num, device),
            shortcut,
            stride: config.strides[i],
            ada_pool: config.ada_pool_size(i),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let y = pool(conv_forward(&self.conv, x.clone()), self.stride, self.ada_pool);
        match &self.shortcut {
            None => self.act.forward(y),
            Some(s) if s.before_act => self.act.forward(y + s.forward(x, self.stride, self.ada_pool)),
            Some(s) => self.act.forward(y) + s.forward(x, self.stride, self.ada_pool),
        }
    }
}
