//! Models by name: the authors' ImageNet variants and small presets for training in a browser.

use crate::error::Error;
use crate::model::config::VanillaNetConfig;

/// One of the authors' ImageNet variants or one of our small presets.
pub struct NamedModel {
    pub name: &'static str,
    pub description: &'static str,
    pub config: fn() -> VanillaNetConfig,
}

fn imagenet(dims: &[usize], strides: &[usize]) -> VanillaNetConfig {
    VanillaNetConfig::new(dims.to_vec(), strides.to_vec())
}

fn x1_5(dims: &[usize]) -> Vec<usize> {
    dims.iter().map(|d| d * 3 / 2).collect()
}

const D13: [usize; 12] = [512, 512, 1024, 2048, 2048, 2048, 2048, 2048, 2048, 2048, 4096, 4096];
const S13: [usize; 11] = [1, 2, 2, 1, 1, 1, 1, 1, 1, 2, 1];

/// Every model known by name: the official variants, then the browser presets.
pub const NAMED_MODELS: &[NamedModel] = &[
    NamedModel {
        name: "vanillanet_5",
        description: "official, ImageNet 224px",
        config: || imagenet(&[512, 1024, 2048, 4096], &[2, 2, 2]),
    },
    NamedModel {
        name: "vanillanet_6",
        description: "official, ImageNet 224px",
        config: || imagenet(&[512, 1024, 2048, 4096, 4096], &[2, 2, 2, 1]),
    },
    NamedModel {
        name: "vanillanet_7",
        description: "official, ImageNet 224px",
        config: || imagenet(&[512, 512, 1024, 2048, 4096, 4096], &[1, 2, 2, 2, 1]),
    },
    NamedModel {
        name: "vanillanet_8",
        description: "official, ImageNet 224px",
        config: || imagenet(&[512, 512, 1024, 2048, 2048, 4096, 4096], &[1, 2, 2, 1, 2, 1]),
    },
    NamedModel {
        name: "vanillanet_9",
        description: "official, ImageNet 224px",
        config: || imagenet(&[512, 512, 1024, 2048, 2048, 2048, 4096, 4096], &[1, 2, 2, 1, 1, 2, 1]),
    },
    NamedModel {
        name: "vanillanet_10",
        description: "official, ImageNet 224px",
        config: || imagenet(&[512, 512, 1024, 2048, 2048, 2048, 2048, 4096, 4096], &[1, 2, 2, 1, 1, 1, 2, 1]),
    },
    NamedModel {
        name: "vanillanet_11",
        description: "official, ImageNet 224px",
        config: || imagenet(&[512, 512, 1024, 2048, 2048, 2048, 2048, 2048, 4096, 4096], &[1, 2, 2, 1, 1, 1, 1, 2, 1]),
    },
    NamedModel {
        name: "vanillanet_12",
        description: "official, ImageNet 224px",
        config: || {
            imagenet(&[512, 512, 1024, 2048, 2048, 2048, 2048, 2048, 2048, 4096, 4096], &[1, 2, 2, 1, 1, 1, 1, 1, 2, 1])
        },
    },
    NamedModel { name: "vanillanet_13", description: "official, ImageNet 224px", config: || imagenet(&D13, &S13) },
    NamedModel {
        name: "vanillanet_13_x1_5",
        description: "official, ImageNet 224px",
        config: || imagenet(&x1_5(&D13), &S13),
    },
    NamedModel {
        name: "vanillanet_13_x1_5_ada_pool",
        description: "official, ImageNet 224px",
        config: || imagenet(&x1_5(&D13), &S13).with_ada_pool(Some(vec![0, 38, 19, 0, 0, 0, 0, 0, 0, 10, 0])),
    },
    // Presets for training in a browser. 28 px: the stem leaves 7x7, so at most two halvings.
    NamedModel {
        name: "nano_28",
        description: "browser preset, 28px grayscale (MNIST, Fashion-MNIST)",
        config: || VanillaNetConfig::new(vec![16, 32, 64], vec![2, 2]).with_in_chans(1).with_num_classes(10),
    },
    NamedModel {
        name: "nano5_28",
        description: "browser preset, 28px grayscale, 5 layers; a stride-1 block keeps its width",
        config: || VanillaNetConfig::new(vec![16, 32, 32, 64], vec![2, 1, 2]).with_in_chans(1).with_num_classes(10),
    },
    NamedModel {
        name: "small_28",
        description: "browser preset, 28px grayscale (MNIST, Fashion-MNIST)",
        config: || VanillaNetConfig::new(vec![32, 64, 128, 256], vec![1, 2, 2]).with_in_chans(1).with_num_classes(10),
    },
    // The stem at stride 2 (14x14 after it): the blocks see twice the detail, for four times
    // the work of the same widths.
    NamedModel {
        name: "fine_28",
        description: "browser preset, 28px grayscale, stem stride 2 (14x14 grid)",
        config: || {
            VanillaNetConfig::new(vec![16, 32, 64, 128], vec![1, 2, 2])
                .with_in_chans(1)
                .with_num_classes(10)
                .with_stem_stride(2)
        },
    },
    NamedModel {
        name: "fine_wide_28",
        description: "browser preset, 28px grayscale, stem stride 2 (14x14 grid), 1.5 times fine_28's widths",
        config: || {
            VanillaNetConfig::new(vec![24, 48, 96, 192], vec![1, 2, 2])
                .with_in_chans(1)
                .with_num_classes(10)
                .with_stem_stride(2)
        },
    },
    // The widest 28 px preset, for a GPU (WebGPU in the page, `--backend gpu` natively): six
    // times fine_wide_28's multiply-adds, some 11 minutes an epoch on 2 CPU threads.
    NamedModel {
        name: "large_28",
        description: "browser preset, 28px grayscale, stem stride 2 (14x14 grid), widths 64 to 512: for a GPU",
        config: || {
            VanillaNetConfig::new(vec![64, 128, 256, 512], vec![1, 2, 2])
                .with_in_chans(1)
                .with_num_classes(10)
                .with_stem_stride(2)
        },
    },
    NamedModel {
        name: "small_32",
        description: "browser preset, 32px RGB",
        config: || VanillaNetConfig::new(vec![32, 64, 128, 256], vec![2, 2, 2]).with_num_classes(10),
    },
    NamedModel {
        name: "base_64",
        description: "browser preset, 64px RGB",
        config: || VanillaNetConfig::new(vec![64, 128, 256, 512], vec![2, 2, 2]).with_num_classes(10),
    },
];

impl VanillaNetConfig {
    /// The model of that name, or an error listing the names there are.
    pub fn named(name: &str) -> crate::Result<Self> {
        NAMED_MODELS.iter().find(|m| m.name == name).map(|m| (m.config)()).ok_or_else(|| {
            let names: Vec<_> = NAMED_MODELS.iter().map(|m| m.name).collect();
            Error::InvalidConfig(format!("unknown model '{name}'; known: {}", names.join(", ")))
        })
    }
}

/// The browser presets whose stem and blocks fit square images of `side` pixels, smallest
/// input first: what the page offers for a dataset.
pub fn presets_for(side: usize) -> Vec<&'static str> {
    let suffix = format!("_{side}");
    NAMED_MODELS
        .iter()
        .filter(|m| m.name.ends_with(&suffix) && !m.name.starts_with("vanillanet"))
        .map(|m| m.name)
        .collect()
}
