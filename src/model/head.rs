//! The classifier: global average pool, dropout, conv 1x1 + BN, leaky activation, conv 1x1.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::{Dropout, DropoutConfig};
use burn::tensor::module::adaptive_avg_pool2d;
use burn::tensor::{Device, Tensor, activation::leaky_relu};

use crate::model::batch_norm::BatchNorm2d;
use crate::model::conv::{conv_forward, conv_init};
use crate::model::fusion::{bias_of, conv_from, merge_1x1};

/// Training form: `cls1` = pool, dropout, conv (`cls1.2`), BN (`cls1.3`); `cls2.0` = conv,
/// with no BN after it. Without deep training, only the `cls1.2` conv: it gives the logits.
#[derive(Module, Debug)]
pub struct Head {
    pub dropout: Dropout,
    pub conv1: Conv2d,
    pub bn: Option<BatchNorm2d>,
    pub conv2: Option<Conv2d>,
}

fn pool_flat(x: Tensor<4>, dropout: &Dropout) -> Tensor<4> {
    dropout.forward(adaptive_avg_pool2d(x, [1, 1]))
}

impl Head {
    pub fn new(dim: usize, num_classes: usize, drop_rate: f64, deep_training: bool, device: &Device) -> Self {
        Self {
            dropout: DropoutConfig::new(drop_rate).init(),
            conv1: conv_init(dim, num_classes, 1, 1, 0, device),
            bn: deep_training.then(|| BatchNorm2d::new(num_classes, device)),
            conv2: deep_training.then(|| conv_init(num_classes, num_classes, 1, 1, 0, device)),
        }
    }

    pub fn forward(&self, x: Tensor<4>, lambda: f64) -> Tensor<2> {
        self.forward_tapped(x, lambda, None)
    }

    /// [`Self::forward`], handing the leaky activation's input (`[batch, classes, 1, 1]`,
    /// with deep training) to `tap`.
    pub fn forward_tapped(&self, x: Tensor<4>, lambda: f64, tap: Option<&mut Vec<Tensor<4>>>) -> Tensor<2> {
        let x = conv_forward(&self.conv1, pool_flat(x, &self.dropout));
        match (&self.bn, &self.conv2) {
            (Some(bn), Some(conv2)) => {
                let x = match tap {
                    Some(tap) => {
                        let x = bn.forward(x);
                        tap.push(x.clone());
                        leaky_relu(x, lambda)
                    }
                    None => bn.forward_leaky(x, lambda),
                };
                conv_forward(conv2, x)
            }
            _ => x,
        }
        .flatten(1, 3)
    }

    pub fn fuse(&self) -> HeadDeploy {
        let (w, b) = match (&self.bn, &self.conv2) {
            (Some(bn), Some(conv2)) => {
                let (w1, b1) = bn.fold(self.conv1.weight.val(), Some(bias_of(&self.conv1)));
                merge_1x1(w1, b1, conv2.weight.val(), bias_of(conv2))
            }
            _ => (self.conv1.weight.val(), bias_of(&self.conv1)),
        };
        HeadDeploy { dropout: self.dropout.clone(), conv: conv_from(w, b, 1, 0, 1) }
    }
}

impl Head {
    /// Fuse and continue: at lambda 1, `bn` folded and `conv2` merged into `conv1`, which then
    /// gives the logits, as in a head without deep training (a new parameter); eval-mode copy.
    pub fn merge_pair(&self) -> Head {
        if self.conv2.is_none() {
            return self.clone();
        }
        let HeadDeploy { dropout, conv } = self.fuse();
        Head { dropout, conv1: conv, bn: None, conv2: None }
    }
}

/// Deploy form: pool, dropout, one conv (`cls.2`).
#[derive(Module, Debug)]
pub struct HeadDeploy {
    pub dropout: Dropout,
    pub conv: Conv2d,
}

impl HeadDeploy {
    pub fn new(dim: usize, num_classes: usize, drop_rate: f64, device: &Device) -> Self {
        Self { dropout: DropoutConfig::new(drop_rate).init(), conv: conv_init(dim, num_classes, 1, 1, 0, device) }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        conv_forward(&self.conv, pool_flat(x, &self.dropout)).flatten(1, 3)
    }
}
