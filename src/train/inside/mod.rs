//! Inside the net while it trains, read back as small host arrays: how far each leaky
//! activation is from linear, the feature maps after each block for one image, the fusion of
//! one block drawn as matrices, and what a learned activation has become. Each is one awaited
//! read, whatever the net; the work is bounded (a fixed batch, a bounded number of tiles and
//! matrix values).
//!
//! A *probe*, here and everywhere in the crate, is one measurement of the decay: the training
//! loop measures every leaky activation on a fixed batch of [`PROBE_IMAGES`] images every few
//! steps, and the history of probes is the page's decay chart. (Looking at a model file's
//! feature maps from the command line is `vanillanet inspect`, the one meaning of "inspect".)

//! This file: the decay; `maps.rs` the feature maps; `fusion.rs` the fusion drawn;
//! `response.rs` an activation's response.

mod fusion;
mod maps;
mod response;

pub use fusion::{FoldedView, FusionView, Matrix, fusion_of_part, fusion_view};
pub use maps::{FeatureMaps, MapsImage, Tile, check_tiles, feature_maps, maps_of_image, trained_or_fused_maps};
pub use response::activation_response;

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::model::VanillaNet;
use crate::model::inside::decay_measures;
use crate::readback::read_vec;

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
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
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
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
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
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
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
