//! The fusion of one part of the net drawn as matrices: each conv with its BatchNorm folded,
//! their product (what the deploy form holds), the activation's kernel, and the parameters and
//! multiply-accumulates before and after.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::MAX_FUSION_VALUES;
use crate::error::{Error, Result};
use crate::model::inside::{Folded, FusionParts};
use crate::readback::read_vec;
use crate::train::trained_net::TrainedNet;

/// A weight tensor as a matrix: `rows` output channels, `cols` the rest (input channels times
/// kernel positions), row-major, with the tensor's own shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct Matrix {
    pub shape: Vec<usize>,
    pub rows: usize,
    pub cols: usize,
    pub values: Vec<f32>,
}

/// A conv and the BatchNorm folded into it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
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
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
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

/// The fusion of part `part` of `net` (0 the stem, 1..=blocks a block, blocks + 1 the head)
/// drawn: the convs with their BNs folded, their product, the activation's kernel, the counts.
pub async fn fusion_of_part(net: &TrainedNet<'_>, part: usize) -> Result<FusionView> {
    let parts = net.net.fusion_parts(part)?;
    let sizes = net.config.feature_sizes(net.data.height, net.data.width)?;
    fusion_view(parts, part, &sizes, net.lambda, net.net.uses_lambda()).await
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
