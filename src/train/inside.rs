//! Inside the net while it trains, read back as small host arrays: how far each leaky
//! activation is from linear (recorded by the training loop every few steps, on a fixed probe
//! batch), the feature maps after each block for one image, and the fusion of one block drawn
//! as matrices. Each is one awaited read, whatever the net; the work is bounded (a fixed probe
//! batch, a bounded number of tiles and matrix values).

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::probe::{Folded, FusionParts, block_names, decay_measures};
use crate::model::{VanillaNet, VanillaNetDeploy};
use crate::readback::{read_vec, top_k};

/// Test images (the first ones; training images when there are no test images) the decay is
/// measured on, the same ones at every probe.
pub const PROBE_IMAGES: usize = 32;
/// Steps between two probes of the decay, unless set otherwise.
pub const DEFAULT_EVERY: usize = 10;
/// Most probes kept: beyond, every other one is dropped and the interval doubles.
pub const MAX_PROBES: usize = 2000;
/// Tiles a feature-map answer holds unless asked otherwise, and at most.
pub const DEFAULT_TILES: usize = 16;
pub const MAX_TILES: usize = 64;
/// Most values one fusion view reads back (the matrices and kernels together).
pub const MAX_FUSION_VALUES: usize = 4_000_000;
/// Most probe interval that can be set.
pub const MAX_EVERY: usize = 1_000_000;

/// One leaky activation's measures over the probes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockDecay {
    /// `stem`, `stages.i` or `head`.
    pub name: String,
    /// Share of the activation's inputs below 0, the part lambda acts on.
    pub negative_share: Vec<f32>,
    /// `|A'(x) - x| / |x|` over the probe batch: 0 once the activation is the identity.
    pub distance: Vec<f32>,
}

/// One probe: the measures of every leaky activation at one step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecayPoint {
    pub step: usize,
    pub lambda: f64,
    pub names: Vec<String>,
    pub negative_share: Vec<f32>,
    pub distance: Vec<f32>,
}

/// Every probe of a run so far, one value per probe aligned with `steps`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecayHistory {
    pub steps: Vec<usize>,
    pub lambda: Vec<f64>,
    pub blocks: Vec<BlockDecay>,
    /// Steps between probes now (0: none); it doubles when the history is thinned.
    pub every: usize,
}

impl Default for DecayHistory {
    fn default() -> Self {
        Self::new(DEFAULT_EVERY)
    }
}

impl DecayHistory {
    pub fn new(every: usize) -> Self {
        Self { steps: Vec::new(), lambda: Vec::new(), blocks: Vec::new(), every }
    }

    /// Whether the training loop probes after step `step` (1-based): the first step, every
    /// `every`-th and each epoch's last.
    pub fn due(&self, step: usize, epoch_end: bool) -> bool {
        self.every > 0 && (step == 1 || step % self.every == 0 || epoch_end)
    }

    pub fn len(&self) -> usize {
        self.steps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub fn push(&mut self, p: &DecayPoint) {
        if self.blocks.len() != p.names.len() || self.blocks.iter().zip(&p.names).any(|(b, n)| &b.name != n) {
            // Another net: its measures start over.
            *self = Self::new(self.every);
            self.blocks = p.names.iter().map(|n| BlockDecay { name: n.clone(), ..Default::default() }).collect();
        }
        if self.steps.len() >= MAX_PROBES {
            self.thin();
        }
        self.steps.push(p.step);
        self.lambda.push(p.lambda);
        for (i, b) in self.blocks.iter_mut().enumerate() {
            b.negative_share.push(p.negative_share[i]);
            b.distance.push(p.distance[i]);
        }
    }

    /// Keeps every other probe (the first and the latest among them) and probes half as often.
    fn thin(&mut self) {
        let n = self.steps.len();
        let keep = |i: usize| i % 2 == 0 || i + 1 == n;
        let pick = |v: &mut Vec<f32>| *v = v.iter().enumerate().filter(|(i, _)| keep(*i)).map(|(_, x)| *x).collect();
        self.steps = self.steps.iter().enumerate().filter(|(i, _)| keep(*i)).map(|(_, x)| *x).collect();
        self.lambda = self.lambda.iter().enumerate().filter(|(i, _)| keep(*i)).map(|(_, x)| *x).collect();
        for b in &mut self.blocks {
            pick(&mut b.negative_share);
            pick(&mut b.distance);
        }
        self.every = self.every.saturating_mul(2).min(MAX_EVERY);
    }

    /// Every block's series as long as `steps`, within the bounds: what a saved history must
    /// be to be used.
    pub fn is_consistent(&self) -> bool {
        let n = self.steps.len();
        n <= MAX_PROBES
            && self.lambda.len() == n
            && self.every <= MAX_EVERY
            && self.blocks.iter().all(|b| b.negative_share.len() == n && b.distance.len() == n)
    }

    /// The last probe of each of the first `epochs` epochs.
    pub fn per_epoch(&self, steps_per_epoch: usize, epochs: usize) -> Vec<DecayPoint> {
        (1..=epochs).filter_map(|e| self.at_or_before(e * steps_per_epoch)).collect()
    }

    /// The latest probe at or before `step`, as a point.
    pub fn at_or_before(&self, step: usize) -> Option<DecayPoint> {
        let i = self.steps.iter().rposition(|&s| s <= step)?;
        Some(DecayPoint {
            step: self.steps[i],
            lambda: self.lambda[i],
            names: self.blocks.iter().map(|b| b.name.clone()).collect(),
            negative_share: self.blocks.iter().map(|b| b.negative_share[i]).collect(),
            distance: self.blocks.iter().map(|b| b.distance[i]).collect(),
        })
    }
}

impl DecayPoint {
    /// One line: each activation's negative share and distance from linear.
    pub fn line(&self) -> String {
        self.names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                format!("{n} {:.1}% neg, {:.3e} from linear", 100.0 * self.negative_share[i], self.distance[i])
            })
            .collect::<Vec<_>>()
            .join(" | ")
    }
}

/// The decay of every leaky activation of `model` (eval mode) on the probe batch `x` at
/// `lambda`, in one read; None for a net without deep training.
pub async fn probe_decay(model: &VanillaNet, x: Tensor<4>, lambda: f64, step: usize) -> Result<Option<DecayPoint>> {
    let names = model.leaky_names();
    let inside = model.forward_inside(x, lambda);
    let Some(measures) = decay_measures(&inside.leaky_inputs, lambda) else {
        return Ok(None);
    };
    let values = read_vec(measures).await?;
    Ok(Some(DecayPoint {
        step,
        lambda,
        names,
        negative_share: values.iter().step_by(2).copied().collect(),
        distance: values.iter().skip(1).step_by(2).copied().collect(),
    }))
}

/// One channel of a feature map.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tile {
    pub channel: usize,
    /// Mean absolute value over the map: how the tiles are ranked.
    pub activity: f32,
    /// `height x width`, row-major.
    pub values: Vec<f32>,
}

/// The feature maps after one block for one image: the most active channels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeatureMaps {
    /// 0 the stem, i the i-th block.
    pub block: usize,
    pub name: String,
    pub fused: bool,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    /// The most active channels, most active first.
    pub tiles: Vec<Tile>,
    /// With a reference (the fused net's maps against the trained net's): the largest
    /// difference over the whole map, every channel.
    pub max_diff: Option<f32>,
}

/// Checks a tile count: 1 to [`MAX_TILES`].
pub fn check_tiles(tiles: usize) -> Result<usize> {
    if tiles == 0 || tiles > MAX_TILES {
        return Err(Error::InvalidInput(format!("tiles must be 1 to {MAX_TILES}, got {tiles}")));
    }
    Ok(tiles)
}

/// The maps after part `block` (0 the stem) of one image's `features` (batch 1): the `tiles`
/// most active channels, and with `reference` (the same image through another form of the
/// net) the largest difference to it. One read.
pub async fn feature_maps(
    features: Vec<Tensor<4>>,
    block: usize,
    tiles: usize,
    fused: bool,
    reference: Option<Vec<Tensor<4>>>,
) -> Result<FeatureMaps> {
    check_tiles(tiles)?;
    let parts = features.len();
    let map = features.into_iter().nth(block).ok_or_else(|| {
        Error::InvalidInput(format!("block {block} does not exist: 0 is the stem, 1..={} the blocks", parts - 1))
    })?;
    let [n, channels, height, width] = map.dims();
    if n != 1 {
        return Err(Error::InvalidInput(format!("feature maps are of one image, not {n}")));
    }
    let mut read = vec![map.clone().flatten::<1>(0, 3)];
    if let Some(reference) = reference {
        let other = reference.into_iter().nth(block).expect("both forms have the same parts");
        read.push((map - other).abs().max().reshape([1]));
    }
    let with_diff = read.len() == 2;
    let values = read_vec(Tensor::cat(read, 0)).await?;
    let area = height * width;
    let activity: Vec<f32> = (0..channels)
        .map(|c| values[c * area..(c + 1) * area].iter().map(|v| v.abs()).sum::<f32>() / area.max(1) as f32)
        .collect();
    let tiles = top_k(&activity, tiles)
        .into_iter()
        .map(|c| Tile { channel: c, activity: activity[c], values: values[c * area..(c + 1) * area].to_vec() })
        .collect();
    let names = block_names(parts - 1);
    Ok(FeatureMaps {
        block,
        name: names[block].clone(),
        fused,
        channels,
        height,
        width,
        tiles,
        max_diff: with_diff.then(|| values[channels * area]),
    })
}

/// The feature maps of the trained net (eval mode, at `lambda`) and, given, of its fused form,
/// for one preprocessed image `[1, C, H, W]`: the fused form's are answered, with their largest
/// difference to the trained net's.
pub async fn trained_or_fused_maps(
    model: &VanillaNet,
    fused: Option<&VanillaNetDeploy>,
    x: Tensor<4>,
    lambda: f64,
    block: usize,
    tiles: usize,
) -> Result<FeatureMaps> {
    let trained = model.forward_features(x.clone(), lambda).1;
    match fused {
        Some(f) => feature_maps(f.forward_features(x).1, block, tiles, true, Some(trained)).await,
        None => feature_maps(trained, block, tiles, false, None).await,
    }
}

/// A weight tensor as a matrix: `rows` output channels, `cols` the rest (input channels times
/// kernel positions), row-major, with the tensor's own shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Matrix {
    pub shape: Vec<usize>,
    pub rows: usize,
    pub cols: usize,
    pub values: Vec<f32>,
}

/// A conv and the BatchNorm folded into it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FoldedView {
    pub weight: Matrix,
    pub bias: Vec<f32>,
    /// Whether a BatchNorm follows (else `scale` is ones and folding changes nothing).
    pub batch_norm: bool,
    /// gamma / sqrt(running_var + eps) per output channel: what folding multiplies rows by.
    pub scale: Vec<f32>,
    pub folded: Matrix,
    pub folded_bias: Vec<f32>,
}

/// The fusion of one part, drawn: its two convs with their BNs folded, their product (the
/// fused conv, exactly the tensors of the deploy form), the series activation's depthwise
/// kernel with its BN folded, and what fusing saves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FusionView {
    /// 0 the stem, 1..=blocks a block, blocks + 1 the head.
    pub part: usize,
    pub name: String,
    pub lambda: f64,
    /// The fused conv computes what the two do: lambda is 1 (or there is no lambda).
    pub exact: bool,
    /// Official deploy names (`stages.0.conv`, ...): `.weight` and `.bias` in the file.
    pub fused_key: String,
    pub act_key: Option<String>,
    pub conv1: FoldedView,
    pub conv2: Option<FoldedView>,
    pub fused: Matrix,
    pub fused_bias: Vec<f32>,
    /// The depthwise kernel `[dim, 1, k, k]` as `dim` rows of `k * k`.
    pub act: Option<FoldedView>,
    /// The fused conv is `conv2 conv1 + I`: the block's identity shortcut folded in.
    pub identity_added: bool,
    /// Parameters and multiply-accumulates (one image) of this part's convs, BNs and series
    /// activation, before fusing and after.
    pub params_before: u64,
    pub params_after: u64,
    pub macs_before: u64,
    pub macs_after: u64,
}

fn numel(t: &Tensor<4>) -> usize {
    t.dims().iter().product()
}

/// What fusing part `parts` looks like: read in one go. `sizes`: the feature-map sizes of the
/// net's input (stem first), for the MACs.
pub async fn fusion_view(
    parts: FusionParts,
    part: usize,
    sizes: &[(usize, usize)],
    lambda: f64,
    uses_lambda: bool,
) -> Result<FusionView> {
    let folds: Vec<&Folded> =
        [Some(&parts.conv1), parts.conv2.as_ref(), parts.act.as_ref()].into_iter().flatten().collect();
    let total: usize = folds.iter().map(|f| 2 * numel(&f.weight) + 3 * f.bias.dims()[0]).sum::<usize>()
        + numel(&parts.fused_weight)
        + parts.fused_bias.dims()[0];
    if total > MAX_FUSION_VALUES {
        return Err(Error::InvalidInput(format!(
            "{} has {total} weights to draw; the fusion view reads at most {MAX_FUSION_VALUES}",
            parts.name
        )));
    }
    let mut tensors: Vec<Tensor<1>> = Vec::new();
    for f in &folds {
        tensors.push(f.weight.clone().flatten(0, 3));
        tensors.push(f.bias.clone());
        tensors.push(f.scale.clone());
        tensors.push(f.folded_weight.clone().flatten(0, 3));
        tensors.push(f.folded_bias.clone());
    }
    tensors.push(parts.fused_weight.clone().flatten(0, 3));
    tensors.push(parts.fused_bias.clone());
    let lengths: Vec<usize> = tensors.iter().map(|t| t.dims()[0]).collect();
    let values = read_vec(Tensor::cat(tensors, 0)).await?;
    let mut at = 0;
    let mut next = |n: usize| {
        let v = values[at..at + n].to_vec();
        at += n;
        v
    };
    let mut lengths = lengths.into_iter();
    let matrix = |t: &Tensor<4>, values: Vec<f32>| {
        let shape = t.dims().to_vec();
        Matrix { rows: shape[0], cols: shape[1..].iter().product(), shape, values }
    };
    let mut views = Vec::new();
    for f in &folds {
        let weight = next(lengths.next().unwrap());
        let bias = next(lengths.next().unwrap());
        let scale = next(lengths.next().unwrap());
        let folded = next(lengths.next().unwrap());
        let folded_bias = next(lengths.next().unwrap());
        views.push(FoldedView {
            weight: matrix(&f.weight, weight),
            bias,
            batch_norm: f.batch_norm,
            scale,
            folded: matrix(&f.folded_weight, folded),
            folded_bias,
        });
    }
    let fused = matrix(&parts.fused_weight, next(lengths.next().unwrap()));
    let fused_bias = next(lengths.next().unwrap());
    let mut views = views.into_iter();
    let conv1 = views.next().expect("a part has a first conv");
    let conv2 = parts.conv2.as_ref().map(|_| views.next().expect("read"));
    let act = parts.act.as_ref().map(|_| views.next().expect("read"));
    let counts = Counts::of(&parts, part, sizes);
    Ok(FusionView {
        part,
        name: parts.name.clone(),
        lambda,
        exact: !uses_lambda || lambda == 1.0,
        fused_key: parts.fused_key.clone(),
        act_key: parts.act_key.clone(),
        conv1,
        conv2,
        fused,
        fused_bias,
        act,
        identity_added: parts.identity_added,
        params_before: counts.params_before,
        params_after: counts.params_after,
        macs_before: counts.macs_before,
        macs_after: counts.macs_after,
    })
}

struct Counts {
    params_before: u64,
    params_after: u64,
    macs_before: u64,
    macs_after: u64,
}

impl Counts {
    fn of(parts: &FusionParts, part: usize, sizes: &[(usize, usize)]) -> Self {
        let px = |i: usize| sizes.get(i).map_or(1, |(h, w)| (h * w) as u64);
        let blocks = sizes.len().saturating_sub(1);
        // Where the convs run (before any pool) and where the activation runs.
        let (conv_px, act_px) = match part {
            0 => (px(0), px(0)),
            p if p <= blocks => (px(p - 1), px(p)),
            _ => (1, 1),
        };
        let conv = |f: &Folded| {
            let [out, ..] = f.weight.dims();
            let w = numel(&f.weight) as u64;
            (w + out as u64 + if f.batch_norm { 2 * out as u64 } else { 0 }, w * conv_px)
        };
        let (p1, m1) = conv(&parts.conv1);
        let (p2, m2) = parts.conv2.as_ref().map_or((0, 0), conv);
        let (act_params, act_folded, act_macs) = parts.act.as_ref().map_or((0, 0, 0), |a| {
            let [dim, ..] = a.weight.dims();
            let taps = numel(&a.weight) as u64;
            (taps + 2 * dim as u64, taps + dim as u64, taps * act_px)
        });
        let fused = numel(&parts.fused_weight) as u64;
        Self {
            params_before: p1 + p2 + act_params,
            params_after: fused + parts.fused_bias.dims()[0] as u64 + act_folded,
            macs_before: m1 + m2 + act_macs,
            macs_after: fused * conv_px + act_macs,
        }
    }
}
