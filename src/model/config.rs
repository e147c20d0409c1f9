//! Architecture of a VanillaNet: everything that fixes its shapes, checked, with the sizes,
//! parameter counts and multiply-accumulates that follow from it.

use burn::config::Config;
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A shortcut around each block, for the paper's ablation (off in VanillaNet proper). Where the
/// block changes the width, the shortcut is a projection: the block's own pool, then a 1x1 conv
/// (no bias) and a BatchNorm; where only the resolution changes, just the pool; else identity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[cfg_attr(not(target_arch = "wasm32"), derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Shortcut {
    #[default]
    None,
    /// `act(block(x) + shortcut(x))`
    BeforeAct,
    /// `act(block(x)) + shortcut(x)`
    AfterAct,
}

impl Shortcut {
    pub const ALL: [Shortcut; 3] = [Shortcut::None, Shortcut::BeforeAct, Shortcut::AfterAct];
}

/// Bounds on what a config (from a user, a card or a file's tensors) may ask for, well above
/// every official model, so that a few bytes of file cannot make the loader allocate gigabytes.
pub const MAX_WIDTH: usize = 16_384;
pub const MAX_BLOCKS: usize = 64;
pub const MAX_CLASSES: usize = 100_000;
pub const MAX_ACT_NUM: usize = 8;
/// vanillanet_13_x1_5's training form has 237 million.
pub const MAX_PARAMS: usize = 600_000_000;

/// Everything that fixes the shapes of a VanillaNet. Lambda is not part of it: it changes
/// between steps and is passed to `forward`.
#[derive(Config, Debug, PartialEq)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
pub struct VanillaNetConfig {
    #[config(default = 3)]
    pub in_chans: usize,
    #[config(default = 1000)]
    pub num_classes: usize,
    /// Channel widths: the stem outputs `dims[0]`, block `i` maps `dims[i]` to `dims[i + 1]`.
    pub dims: Vec<usize>,
    /// One stride per block (1 or more); a stride above 1 max-pools by that factor.
    pub strides: Vec<usize>,
    /// Series activation depthwise kernel is `2 * act_num + 1`; 0 means plain ReLU, with no
    /// depthwise conv (the paper's n = 0; the official code would still add a 1x1 one).
    #[config(default = 3)]
    pub act_num: usize,
    /// Two convs per layer with lambda-annealed activations between them (the paper's deep
    /// training); off, every layer has the single conv of the deploy form from the start.
    #[config(default = true)]
    pub deep_training: bool,
    #[config(default = "Shortcut::None")]
    pub shortcut: Shortcut,
    #[config(default = 0.0)]
    pub drop_rate: f64,
    /// Per-block adaptive max-pool output sizes (0 = no pooling change); when set, the stem uses
    /// stride 3 with padding 1, as the official `_ada_pool` variant does.
    #[config(default = "None")]
    pub ada_pool: Option<Vec<usize>>,
    /// The stem's 4x4 conv moves 4 pixels (as published: a 28 px image leaves a 7x7 grid) or 2
    /// (padded by 1: 14x14), for small images, where a 7x7 grid is all the blocks would see.
    #[config(default = 4)]
    pub stem_stride: usize,
}

/// Reads a config saved before the ablation options and the stem stride existed (burn's
/// `Config` derive has no field defaults when deserializing): those nets were plain
/// VanillaNets with the published stem.
pub fn with_ablation_defaults<'de, D: serde::Deserializer<'de>>(d: D) -> Result<VanillaNetConfig, D::Error> {
    let mut value = serde_json::Value::deserialize(d)?;
    if let Some(fields) = value.as_object_mut() {
        fields.entry("deep_training").or_insert(true.into());
        fields.entry("shortcut").or_insert("none".into());
        fields.entry("stem_stride").or_insert(4.into());
    }
    serde_json::from_value(value).map_err(serde::de::Error::custom)
}

impl VanillaNetConfig {
    /// Checks what `init` would otherwise panic on.
    pub fn validate(&self) -> crate::Result<()> {
        let bad = |msg: String| Err(Error::InvalidConfig(msg));
        if self.in_chans == 0 || self.num_classes == 0 {
            return bad("in_chans and num_classes must be at least 1".into());
        }
        if self.dims.len() < 2 {
            return bad(format!("dims needs at least 2 entries (stem width and one block), got {:?}", self.dims));
        }
        if self.dims.len() > MAX_BLOCKS + 1 {
            return bad(format!("{} blocks; at most {MAX_BLOCKS} are built", self.dims.len() - 1));
        }
        if self.dims.contains(&0) {
            return bad(format!("every dim must be at least 1, got {:?}", self.dims));
        }
        if let Some(d) = self.dims.iter().find(|&&d| d > MAX_WIDTH) {
            return bad(format!("width {d}; at most {MAX_WIDTH} channels (the largest official model has 6144)"));
        }
        if self.in_chans > 4 || self.num_classes > MAX_CLASSES || self.act_num > MAX_ACT_NUM {
            return bad(format!(
                "in_chans {}, num_classes {}, act_num {}: at most 4, {MAX_CLASSES} and {MAX_ACT_NUM}",
                self.in_chans, self.num_classes, self.act_num
            ));
        }
        if self.strides.len() + 1 != self.dims.len() {
            return bad(format!(
                "strides needs one entry per block: {} dims make {} blocks, got {} strides",
                self.dims.len(),
                self.dims.len() - 1,
                self.strides.len()
            ));
        }
        if self.strides.contains(&0) {
            return bad(format!("strides must be at least 1, got {:?}", self.strides));
        }
        if let Some(ada) = &self.ada_pool {
            if ada.len() != self.strides.len() {
                return bad(format!("ada_pool needs one entry per block ({}), got {}", self.strides.len(), ada.len()));
            }
            if let Some(i) = (0..ada.len()).find(|&i| self.strides[i] > 1 && ada[i] == 0) {
                return bad(format!("ada_pool[{i}] is 0 but block {i} has stride {}", self.strides[i]));
            }
        }
        if self.stem_stride != 4 && (self.stem_stride != 2 || self.ada_pool.is_some()) {
            return bad(format!("stem_stride must be 4, or 2 without ada_pool; got {}", self.stem_stride));
        }
        if !(0.0..1.0).contains(&self.drop_rate) {
            return bad(format!("drop_rate must be in [0, 1), got {}", self.drop_rate));
        }
        // An upper bound of the training form's parameters in u64 (usize is 32 bits in wasm):
        // once it is under the cap, the exact counts in usize cannot overflow.
        let (d, c) = (self.dims.iter().map(|&v| v as u64).collect::<Vec<_>>(), self.num_classes as u64);
        let per_channel = (self.act_kernel() as u64).pow(2) + 8;
        let blocks: u64 = d.windows(2).map(|w| w[0] * w[0] + 2 * w[0] * w[1]).sum();
        let bound = blocks
            + d.iter().map(|v| v * per_channel).sum::<u64>()
            + (self.in_chans as u64 * 16 + d[0]) * d[0]
            + (d[d.len() - 1] + c + 3) * c;
        if bound > MAX_PARAMS as u64 {
            return bad(format!("about {bound} parameters; at most {MAX_PARAMS} are built"));
        }
        Ok(())
    }

    pub fn num_blocks(&self) -> usize {
        self.strides.len()
    }

    pub fn act_kernel(&self) -> usize {
        2 * self.act_num + 1
    }

    /// Weights per channel of the series activation's depthwise conv (none at act_num 0).
    fn act_taps(&self) -> usize {
        if self.act_num == 0 { 0 } else { self.act_kernel().pow(2) }
    }

    /// Block `i` has a projection shortcut (a 1x1 conv) rather than an identity or a pool.
    pub fn projects(&self, i: usize) -> bool {
        self.shortcut != Shortcut::None && self.dims[i] != self.dims[i + 1]
    }

    /// Block `i`'s shortcut vanishes into its conv when fused: an identity added before the
    /// activation, with nothing pooled in between, is `W + I`.
    pub fn shortcut_folds(&self, i: usize) -> bool {
        self.shortcut == Shortcut::BeforeAct && self.dims[i] == self.dims[i + 1] && self.strides[i] == 1
    }

    /// Stem convolution: (stride, padding).
    pub fn stem_stride_padding(&self) -> (usize, usize) {
        match (&self.ada_pool, self.stem_stride) {
            (Some(_), _) => (3, 1),
            (None, 2) => (2, 1),
            _ => (4, 0),
        }
    }

    /// Adaptive pool size of block `i` (0 = plain max pool or none).
    pub fn ada_pool_size(&self, i: usize) -> usize {
        self.ada_pool.as_ref().map_or(0, |a| a[i])
    }

    /// Spatial sizes after the stem and after each block, for an input of `h x w`
    /// (PyTorch's floor convention for convolution and max pooling).
    pub fn feature_sizes(&self, h: usize, w: usize) -> crate::Result<Vec<(usize, usize)>> {
        let (s, p) = self.stem_stride_padding();
        if h + 2 * p < 4 || w + 2 * p < 4 {
            return Err(Error::InvalidInput(format!("input {h}x{w} is smaller than the 4x4 stem kernel")));
        }
        let mut size = ((h + 2 * p - 4) / s + 1, (w + 2 * p - 4) / s + 1);
        let mut sizes = vec![size];
        for (i, &stride) in self.strides.iter().enumerate() {
            let ada = self.ada_pool_size(i);
            if stride > 1 {
                size = if ada > 0 { (ada, ada) } else { (size.0 / stride, size.1 / stride) };
            }
            if size.0 == 0 || size.1 == 0 {
                return Err(Error::InvalidInput(format!(
                    "input {h}x{w} is too small: block {i} (stride {stride}) would leave an empty feature map"
                )));
            }
            sizes.push(size);
        }
        Ok(sizes)
    }

    /// Learnable parameters of the training form (BatchNorm affine included, buffers not).
    pub fn params_train(&self) -> usize {
        let (d, taps, c, deep) = (&self.dims, self.act_taps(), self.num_classes, self.deep_training);
        let bn = |n: usize| 2 * n;
        let act = |n: usize| if taps == 0 { 0 } else { n * taps + bn(n) };
        let conv_bn = |a: usize, b: usize| a * b + b + bn(b);
        let stem = self.in_chans * d[0] * 16 + d[0] + bn(d[0]) + deep as usize * conv_bn(d[0], d[0]) + act(d[0]);
        let blocks: usize = (0..self.num_blocks())
            .map(|i| {
                let (a, b) = (d[i], d[i + 1]);
                deep as usize * conv_bn(a, a) + conv_bn(a, b) + act(b) + self.projects(i) as usize * (a * b + bn(b))
            })
            .sum();
        let last = *d.last().unwrap();
        let head = if deep { conv_bn(last, c) + c * c + c } else { last * c + c };
        stem + blocks + head
    }

    /// Parameters of the fused (deploy) form.
    pub fn params_deploy(&self) -> usize {
        let (d, taps, c) = (&self.dims, self.act_taps(), self.num_classes);
        let act = |n: usize| if taps == 0 { 0 } else { n * taps + n };
        let stem = self.in_chans * d[0] * 16 + d[0] + act(d[0]);
        let blocks: usize = (0..self.num_blocks())
            .map(|i| {
                let (a, b) = (d[i], d[i + 1]);
                a * b + b + act(b) + self.projects(i) as usize * (a * b + b)
            })
            .sum();
        stem + blocks + d.last().unwrap() * c + c
    }

    /// Multiply-accumulates of one image through the training form (`fused == false`) or the
    /// deploy form, counting convolutions only, as the paper's table does.
    pub fn macs(&self, h: usize, w: usize, fused: bool) -> crate::Result<u64> {
        let sizes = self.feature_sizes(h, w)?;
        let (d, taps, c) = (&self.dims, self.act_taps() as u64, self.num_classes as u64);
        let second_conv = (!fused && self.deep_training) as u64;
        let px = |i: usize| (sizes[i].0 * sizes[i].1) as u64;
        let d0 = d[0] as u64;
        let mut macs = self.in_chans as u64 * d0 * 16 * px(0) + d0 * taps * px(0) + second_conv * d0 * d0 * px(0);
        for i in 0..self.num_blocks() {
            let (a, b) = (d[i] as u64, d[i + 1] as u64);
            // The 1x1 convs run before the pool, at the incoming resolution; a projection
            // shortcut after it.
            macs += a * b * px(i) + b * taps * px(i + 1) + second_conv * a * a * px(i);
            macs += self.projects(i) as u64 * a * b * px(i + 1);
        }
        macs += *d.last().unwrap() as u64 * c + second_conv * c * c;
        Ok(macs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two widths, one stride-2 block, 1 channel in, 3 classes, act_num 1 (3x3 kernels).
    fn tiny() -> VanillaNetConfig {
        VanillaNetConfig::new(vec![2, 4], vec![2]).with_in_chans(1).with_num_classes(3).with_act_num(1)
    }

    #[test]
    fn feature_sizes_floor_like_pytorch() {
        let nano = VanillaNetConfig::new(vec![16, 32, 64], vec![2, 2]);
        assert_eq!(nano.feature_sizes(28, 28).unwrap(), vec![(7, 7), (3, 3), (1, 1)]);
        assert_eq!(nano.feature_sizes(31, 29).unwrap(), vec![(7, 7), (3, 3), (1, 1)]);
        assert!(nano.feature_sizes(3, 28).unwrap_err().to_string().contains("smaller than the 4x4 stem"));
        assert!(nano.feature_sizes(8, 8).unwrap_err().to_string().contains("empty feature map"));
        let ada = nano.clone().with_ada_pool(Some(vec![5, 2]));
        assert_eq!(ada.feature_sizes(30, 30).unwrap(), vec![(10, 10), (5, 5), (2, 2)], "stride 3, padding 1 stem");
        let fine = nano.with_stem_stride(2);
        assert_eq!(fine.feature_sizes(28, 28).unwrap(), vec![(14, 14), (7, 7), (3, 3)], "stride 2, padding 1 stem");
    }

    #[test]
    fn configs_saved_before_the_stem_stride_read_with_the_published_stem() {
        let old = r#"{"in_chans": 1, "num_classes": 10, "dims": [16, 32], "strides": [2], "act_num": 3,
            "drop_rate": 0.0, "ada_pool": null}"#;
        let c = with_ablation_defaults(&mut serde_json::Deserializer::from_str(old)).unwrap();
        assert_eq!((c.stem_stride, c.deep_training, c.shortcut), (4, true, Shortcut::None));
        assert_eq!(c.stem_stride_padding(), (4, 0));
        let saved = serde_json::to_string(&c.clone().with_stem_stride(2)).unwrap();
        let back = with_ablation_defaults(&mut serde_json::Deserializer::from_str(&saved)).unwrap();
        assert_eq!(back.stem_stride, 2);
    }

    #[test]
    fn parameters_and_macs_counted_by_hand() {
        let c = tiny();
        // Deploy: stem 4x4 conv (32 + 2) + act (2*9 + 2); block 1x1 (8 + 4) + act (4*9 + 4);
        // head (12 + 3).
        assert_eq!(c.params_deploy(), 34 + 20 + 12 + 40 + 15);
        // Training adds a 1x1 conv + BN per layer, every BN's affine and the head's cls2.
        assert_eq!(c.params_train(), (32 + 2 + 4 + 10 + 22) + (10 + 20 + 44) + (21 + 12));
        // At 8x8: the stem leaves 2x2, the block 1x1.
        assert_eq!(c.macs(8, 8, true).unwrap(), 128 + 72 + 32 + 36 + 12);
        assert_eq!(c.macs(8, 8, false).unwrap(), 280 + 16 + 16 + 9);
        let shallow = c.clone().with_deep_training(false);
        assert_eq!(shallow.macs(8, 8, false).unwrap(), shallow.macs(8, 8, true).unwrap());
    }

    #[test]
    fn validate_names_the_problem() {
        let err = |c: VanillaNetConfig| c.validate().unwrap_err().to_string();
        assert!(err(VanillaNetConfig::new(vec![8], vec![])).contains("at least 2 entries"));
        assert!(err(VanillaNetConfig::new(vec![8, 16], vec![2, 2])).contains("one entry per block"));
        assert!(err(VanillaNetConfig::new(vec![8, 0], vec![2])).contains("at least 1"));
        assert!(err(tiny().with_drop_rate(1.0)).contains("drop_rate"));
        assert!(err(tiny().with_stem_stride(3)).contains("stem_stride must be 4, or 2"));
        // What a few bytes of file could declare: refused before anything is built.
        assert!(err(VanillaNetConfig::new(vec![1_000_000_000, 2], vec![2])).contains("at most 16384 channels"));
        assert!(err(tiny().with_num_classes(100_000)).contains("parameters; at most"));
        assert!(err(tiny().with_act_num(500)).contains("act_num 500"));
        let deep = VanillaNetConfig::new(vec![16_384; 60], vec![1; 59]);
        assert!(err(deep).contains("parameters; at most"));
        let largest = VanillaNetConfig::named("vanillanet_13_x1_5").unwrap();
        assert!(largest.validate().is_ok() && largest.params_train() < MAX_PARAMS);
    }
}
