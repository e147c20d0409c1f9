//! Looking inside a net: the inputs of its leaky activations (where lambda acts) and how far
//! each is from linear, the feature maps after each block, and the parts a block's fusion is
//! made of. Everything here stays on the device; `train::inside` reads it back.

use burn::tensor::Tensor;
use burn::tensor::activation::leaky_relu;

use crate::error::{Error, Result};
use crate::model::VanillaNet;
use crate::model::batch_norm::BatchNorm2d;
use crate::model::conv::ConvPair;
use crate::model::fusion::bias_of;
use burn::nn::conv::Conv2d;

/// A forward pass with what happens inside it.
pub struct Inside {
    pub logits: Tensor<2>,
    /// After the stem and after each block.
    pub features: Vec<Tensor<4>>,
    /// The input of each leaky activation: stem, each block, head (none without deep
    /// training), in the order of [`VanillaNet::leaky_names`].
    pub leaky_inputs: Vec<Tensor<4>>,
}

/// The parts where the net has feature maps: `stem`, `stages.0`, `stages.1`, ...
pub fn block_names(blocks: usize) -> Vec<String> {
    std::iter::once("stem".to_string()).chain((0..blocks).map(|i| format!("stages.{i}"))).collect()
}

impl VanillaNet {
    /// [`Self::forward`] with the feature maps and the leaky activations' inputs.
    pub fn forward_inside(&self, x: Tensor<4>, lambda: f64) -> Inside {
        let mut taps = Vec::new();
        let mut x = self.stem.forward_tapped(x, lambda, Some(&mut taps));
        let mut features = vec![x.clone()];
        for block in &self.stages {
            x = block.forward_tapped(x, lambda, Some(&mut taps));
            features.push(x.clone());
        }
        let logits = self.head.forward_tapped(x, lambda, Some(&mut taps));
        Inside { logits, features, leaky_inputs: taps }
    }

    /// The net's leaky activations (where lambda acts): `stem`, `stages.0`, ..., `head`; none
    /// without deep training.
    pub fn leaky_names(&self) -> Vec<String> {
        if !self.uses_lambda() {
            return Vec::new();
        }
        let mut names = block_names(self.stages.len());
        names.push("head".into());
        names
    }
}

/// For each leaky activation's input x: the share of its values below 0 (the part lambda acts
/// on) and its distance from linear, `|leaky(x, lambda) - x| / |x|` (Euclidean norms over the
/// whole batch; 0 at lambda 1, and 0 for an all-zero input). One tensor `[2 * n]`: share,
/// distance, share, distance, ... None when there are none.
pub fn decay_measures(inputs: &[Tensor<4>], lambda: f64) -> Option<Tensor<1>> {
    let measures: Vec<Tensor<1>> = inputs
        .iter()
        .flat_map(|x| {
            let negative = x.clone().lower_elem(0.0).float().mean();
            let diff = leaky_relu(x.clone(), lambda) - x.clone();
            let off = diff.clone().mul(diff).sum();
            let norm = x.clone().mul(x.clone()).sum();
            // 0 / tiny is 0: an input of zeros is as linear as it gets.
            let distance = off.div(norm.clamp_min(f32::MIN_POSITIVE)).sqrt();
            [negative, distance]
        })
        .collect();
    (!measures.is_empty()).then(|| Tensor::cat(measures, 0))
}

/// A conv, the BatchNorm after it folded in: the raw weights, the BN's per-channel scale
/// (ones where there is no BN), and the folded weights and bias.
pub struct Folded {
    pub weight: Tensor<4>,
    pub bias: Tensor<1>,
    pub scale: Tensor<1>,
    pub folded_weight: Tensor<4>,
    pub folded_bias: Tensor<1>,
    /// A BatchNorm follows the conv (else `scale` is ones).
    pub batch_norm: bool,
}

fn folded(weight: Tensor<4>, bias: Tensor<1>, bn: Option<&BatchNorm2d>) -> Folded {
    match bn {
        Some(bn) => {
            let (folded_weight, folded_bias) = bn.fold(weight.clone(), Some(bias.clone()));
            Folded { weight, bias, scale: bn.scale(), folded_weight, folded_bias, batch_norm: true }
        }
        None => {
            let scale = Tensor::ones([weight.dims()[0]], &weight.device());
            Folded { folded_weight: weight.clone(), folded_bias: bias.clone(), weight, bias, scale, batch_norm: false }
        }
    }
}

fn folded_conv(conv: &Conv2d, bn: Option<&BatchNorm2d>) -> Folded {
    folded(conv.weight.val(), bias_of(conv), bn)
}

fn folded_pair(convs: &ConvPair) -> (Folded, Option<Folded>) {
    let second = convs.conv2.as_ref().map(|c| folded_conv(c, convs.bn2.as_ref()));
    (folded_conv(&convs.conv1, Some(&convs.bn1)), second)
}

/// What one part's fusion is made of: its convs with their BNs folded, the fused conv (the
/// very tensors the deploy form gets), and the series activation's depthwise kernel with its
/// BN folded.
pub struct FusionParts {
    /// `stem`, `stages.i` or `head`.
    pub name: String,
    /// Official deploy names of the fused conv and of the activation's conv.
    pub fused_key: String,
    pub act_key: Option<String>,
    pub conv1: Folded,
    /// The second conv (deep training only).
    pub conv2: Option<Folded>,
    pub fused_weight: Tensor<4>,
    pub fused_bias: Tensor<1>,
    /// The depthwise kernel `[dim, 1, k, k]` (act_num above 0; none in the head).
    pub act: Option<Folded>,
    /// The block's identity shortcut (before the activation, stride 1) is added to the fused
    /// conv: it is `conv2 conv1 + I`.
    pub identity_added: bool,
}

impl VanillaNet {
    /// The fusion of part `part`: 0 the stem, 1..=blocks a block, blocks + 1 the head. Takes
    /// the eval-mode model (running statistics), as fusing does.
    pub fn fusion_parts(&self, part: usize) -> Result<FusionParts> {
        let blocks = self.stages.len();
        let act_of = |act: &crate::model::activation::SeriesActivation| {
            act.weight.as_ref().zip(act.bn.as_ref()).map(|(w, bn)| {
                let w = w.val();
                let zeros = Tensor::zeros([w.dims()[0]], &w.device());
                folded(w, zeros, Some(bn))
            })
        };
        // The stem and a block alike: a conv pair, its fused conv, a series activation.
        let pair =
            |name: String, fused_key: String, act_key: String, convs: &ConvPair, fused: &Conv2d, act, identity| {
                let (conv1, conv2) = folded_pair(convs);
                let act = act_of(act);
                FusionParts {
                    name,
                    fused_key,
                    act_key: act.is_some().then_some(act_key),
                    conv1,
                    conv2,
                    fused_weight: fused.weight.val(),
                    fused_bias: bias_of(fused),
                    act,
                    identity_added: identity,
                }
            };
        Ok(match part {
            0 => {
                let fused = self.stem.fuse();
                pair(
                    "stem".into(),
                    "stem.0".into(),
                    "stem.1".into(),
                    &self.stem.convs,
                    &fused.conv,
                    &self.stem.act,
                    false,
                )
            }
            p if p <= blocks => {
                let (block, i) = (&self.stages[p - 1], p - 1);
                let fused = block.fuse();
                let identity = fused.shortcut.is_none() && block.shortcut.is_some();
                let (name, fused_key, act_key) =
                    (format!("stages.{i}"), format!("stages.{i}.conv"), format!("stages.{i}.act"));
                pair(name, fused_key, act_key, &block.convs, &fused.conv, &block.act, identity)
            }
            p if p == blocks + 1 => {
                let head = &self.head;
                let conv1 = folded_conv(&head.conv1, head.bn.as_ref());
                let conv2 = head.conv2.as_ref().map(|c| folded_conv(c, None));
                let fused = head.fuse();
                let (fused_weight, fused_bias) = (fused.conv.weight.val(), bias_of(&fused.conv));
                FusionParts {
                    name: "head".into(),
                    fused_key: "cls.2".into(),
                    act_key: None,
                    conv1,
                    conv2,
                    fused_weight,
                    fused_bias,
                    act: None,
                    identity_added: false,
                }
            }
            p => {
                return Err(Error::InvalidInput(format!(
                    "part {p} does not exist: 0 is the stem, 1..={blocks} the blocks, {} the head",
                    blocks + 1
                )));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Distribution, Tensor};

    use super::decay_measures;
    use crate::model::config::VanillaNetConfig;

    fn host(t: Tensor<1>) -> Vec<f32> {
        t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn distance_from_linear_is_the_negative_part_scaled_by_one_minus_lambda() {
        let device = Device::flex();
        let x = Tensor::<1>::from_floats([3.0, -4.0, 0.0, 0.0], &device).reshape([1, 4, 1, 1]);
        // |x| = 5, the negative part 4: at lambda 0 the distance is 4/5, at 0.5 half of it.
        let at0 = host(decay_measures(&[x.clone()], 0.0).unwrap());
        assert_eq!(at0[0], 0.25, "one value in four is negative");
        assert!((at0[1] - 0.8).abs() < 1e-6, "{at0:?}");
        let at_half = host(decay_measures(&[x.clone()], 0.5).unwrap());
        assert!((at_half[1] - 0.4).abs() < 1e-6, "{at_half:?}");
        assert_eq!(host(decay_measures(&[x], 1.0).unwrap())[1], 0.0, "linear at lambda 1");
        let zeros = Tensor::<4>::zeros([1, 2, 2, 2], &device);
        assert_eq!(host(decay_measures(&[zeros], 0.0).unwrap()), vec![0.0, 0.0], "no NaN for zeros");
        assert!(decay_measures(&[], 0.3).is_none());
    }

    #[test]
    fn the_forward_inside_is_the_forward() {
        let device = Device::flex();
        device.seed(3);
        let config = VanillaNetConfig::new(vec![4, 8, 8], vec![2, 1]).with_in_chans(1).with_num_classes(3);
        let model = config.init(&device);
        let x = Tensor::<4>::random([2, 1, 16, 16], Distribution::Normal(0.0, 1.0), &device);
        let plain = model.forward(x.clone(), 0.3);
        let inside = model.forward_inside(x, 0.3);
        let diff = (plain - inside.logits).abs().max().into_scalar::<f32>();
        assert_eq!(diff, 0.0);
        assert_eq!(inside.features.len(), 3);
        assert_eq!(model.leaky_names(), vec!["stem", "stages.0", "stages.1", "head"]);
        let shapes: Vec<_> = inside.leaky_inputs.iter().map(|t| t.dims()).collect();
        assert_eq!(shapes, vec![[2, 4, 4, 4], [2, 4, 4, 4], [2, 8, 2, 2], [2, 3, 1, 1]]);
        let shallow = config.with_deep_training(false).init(&device);
        assert!(shallow.leaky_names().is_empty());
        assert!(shallow.forward_inside(Tensor::zeros([1, 1, 16, 16], &device), 0.0).leaky_inputs.is_empty());
    }
}
