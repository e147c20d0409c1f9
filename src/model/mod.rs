//! VanillaNet: stem, a chain of blocks, a head; and its fused deploy form. Each part sits in
//! its own file with its deploy form and the fusion that makes it.

pub mod activation;
pub mod batch_norm;
pub mod block;
pub mod config;
pub mod conv;
pub mod fusion;
pub mod head;
pub mod init;
pub mod inside;
pub mod ops;
pub mod presets;
pub mod stem;

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use crate::error::{Error, Result};
use block::{Block, BlockDeploy};
use config::VanillaNetConfig;
use head::{Head, HeadDeploy};
use stem::{Stem, StemDeploy};

/// The net's two forms, wherever they are told apart: a checkpoint's tensors, a model card,
/// an evaluation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "lowercase")]
pub enum Form {
    /// As trained: two convs and BNs per layer (`stem1.0.weight`, ...), `VanillaNet`; trains
    /// on, here or in the authors' PyTorch code.
    Training,
    /// Fused: one conv per layer (`stem.0.weight`, ...), `VanillaNetDeploy`. Cards written
    /// before the form was recorded were all of fused nets.
    #[default]
    Deploy,
}

/// Which weights of a training run a net holds: as trained, or their moving average (the
/// authors' `model_ema`, which is what their released checkpoints hold).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[cfg_attr(not(target_arch = "wasm32"), derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Weights {
    Trained,
    /// The moving average.
    Ema,
}

/// Training form. `lambda` (the leaky slope shared by stem, blocks and head) is an argument of
/// `forward`, so the schedule can move it every step without touching the model.
#[derive(Module, Debug)]
pub struct VanillaNet {
    pub stem: Stem,
    pub stages: Vec<Block>,
    pub head: Head,
}

/// Deploy form: one conv per block, BNs folded, no lambda.
#[derive(Module, Debug)]
pub struct VanillaNetDeploy {
    pub stem: StemDeploy,
    pub stages: Vec<BlockDeploy>,
    pub head: HeadDeploy,
}

impl VanillaNetConfig {
    /// Builds the training form. Panics on an invalid config: call [`Self::validate`] first
    /// with user input.
    pub fn init(&self, device: &Device) -> VanillaNet {
        self.validate().unwrap_or_else(|e| panic!("{e}"));
        VanillaNet {
            stem: Stem::new(self, device),
            stages: (0..self.num_blocks()).map(|i| Block::new(self, i, device)).collect(),
            head: Head::new(*self.dims.last().unwrap(), self.num_classes, self.drop_rate, self.deep_training, device),
        }
    }

    /// Builds the deploy form (to load a deploy-form checkpoint into).
    pub fn init_deploy(&self, device: &Device) -> VanillaNetDeploy {
        self.validate().unwrap_or_else(|e| panic!("{e}"));
        VanillaNetDeploy {
            stem: StemDeploy::new(self, device),
            stages: (0..self.num_blocks()).map(|i| BlockDeploy::new(self, i, device)).collect(),
            head: HeadDeploy::new(*self.dims.last().unwrap(), self.num_classes, self.drop_rate, device),
        }
    }
}

impl VanillaNet {
    /// Logits `[batch, classes]` for images `[batch, in_chans, h, w]`.
    pub fn forward(&self, x: Tensor<4>, lambda: f64) -> Tensor<2> {
        self.forward_features(x, lambda).0
    }

    /// Logits and the feature maps after the stem and after each block.
    pub fn forward_features(&self, x: Tensor<4>, lambda: f64) -> (Tensor<2>, Vec<Tensor<4>>) {
        let mut x = self.stem.forward(x, lambda);
        let mut features = vec![x.clone()];
        for block in &self.stages {
            x = block.forward(x, lambda);
            features.push(x.clone());
        }
        (self.head.forward(x, lambda), features)
    }

    /// Lambda matters only with deep training (two convs and an activation between them).
    pub fn uses_lambda(&self) -> bool {
        self.stem.convs.deep()
    }

    /// The official `switch_to_deploy`, on the running statistics (eval mode). Refuses unless
    /// `lambda` is exactly 1: below it the merged convs would compute something else.
    pub fn fuse(&self, lambda: f64) -> Result<VanillaNetDeploy> {
        if lambda != 1.0 && self.uses_lambda() {
            return Err(Error::FuseLambda { lambda });
        }
        let model = self.valid();
        Ok(VanillaNetDeploy {
            stem: model.stem.fuse(),
            stages: model.stages.iter().map(Block::fuse).collect(),
            head: model.head.fuse(),
        })
    }
}

impl VanillaNet {
    /// Fuse and continue: at lambda 1, every deep-training pair merged into one conv + BN (see
    /// [`conv::ConvPair::merge_pair`]) and the head into one conv: the net of
    /// `config.with_deep_training(false)`, in eval mode (`.train()` to train it on), whose
    /// eval-mode logits are this one's. Refused below lambda 1 and without deep training.
    pub fn merge_pairs(&self, lambda: f64) -> Result<VanillaNet> {
        if !self.uses_lambda() {
            return Err(Error::InvalidInput(
                "there are no pairs to merge: the net trains without deep training".into(),
            ));
        }
        if lambda != 1.0 {
            return Err(Error::FuseLambda { lambda });
        }
        let model = self.valid();
        Ok(VanillaNet {
            stem: model.stem.merge_pair(),
            stages: model.stages.iter().map(Block::merge_pair).collect(),
            head: model.head.merge_pair(),
        })
    }
}

impl VanillaNetDeploy {
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.forward_features(x).0
    }

    pub fn forward_features(&self, x: Tensor<4>) -> (Tensor<2>, Vec<Tensor<4>>) {
        let mut x = self.stem.forward(x);
        let mut features = vec![x.clone()];
        for block in &self.stages {
            x = block.forward(x);
            features.push(x.clone());
        }
        (self.head.forward(x), features)
    }
}
