//! Models by name: the authors' ImageNet variants and small presets for training in a browser.

use crate::error::Error;
use crate::model::config::VanillaNetConfig;

/// One of the authors' ImageNet variants or one of our small presets.
pub struct NamedModel {
    pub name: &'static str,
    /// The side of the square images it is made for (its input channels are the config's):
    /// 224 for the official variants. The `_28` ending a preset's name says it to people; code
    /// reads this.
    pub input_size: usize,
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
        input_size: 224,
        description: "official, ImageNet 224px",
        config: || imagenet(&[512, 1024, 2048, 4096], &[2, 2, 2]),
    },
    NamedModel {
        name: "vanillanet_6",
        input_size: 224,
        description: "official, ImageNet 224px",
        config: || imagenet(&[512, 1024, 2048, 4096, 4096], &[2, 2, 2, 1]),
    },
    NamedModel {
        name: "vanillanet_7",
        input_size: 224,
        description: "official, ImageNet 224px",
        config: || imagenet(&[512, 512, 1024, 2048, 4096, 4096], &[1, 2, 2, 2, 1]),
    },
    NamedModel {
        name: "vanillanet_8",
        input_size: 224,
        description: "official, ImageNet 224px",
        config: || imagenet(&[512, 512, 1024, 2048, 2048, 4096, 4096], &[1, 2, 2, 1, 2, 1]),
    },
    NamedModel {
        name: "vanillanet_9",
        input_size: 224,
        description: "official, ImageNet 224px",
        config: || imagenet(&[512, 512, 1024, 2048, 2048, 2048, 4096, 4096], &[1, 2, 2, 1, 1, 2, 1]),
    },
    NamedModel {
        name: "vanillanet_10",
        input_size: 224,
        description: "official, ImageNet 224px",
        config: || imagenet(&[512, 512, 1024, 2048, 2048, 2048, 2048, 4096, 4096], &[1, 2, 2, 1, 1, 1, 2, 1]),
    },
    NamedModel {
        name: "vanillanet_11",
        input_size: 224,
        description: "official, ImageNet 224px",
        config: || imagenet(&[512, 512, 1024, 2048, 2048, 2048, 2048, 2048, 4096, 4096], &[1, 2, 2, 1, 1, 1, 1, 2, 1]),
    },
    NamedModel {
        name: "vanillanet_12",
        input_size: 224,
        description: "official, ImageNet 224px",
        config: || {
            imagenet(&[512, 512, 1024, 2048, 2048, 2048, 2048, 2048, 2048, 4096, 4096], &[1, 2, 2, 1, 1, 1, 1, 1, 2, 1])
        },
    },
    NamedModel {
        name: "vanillanet_13",
        input_size: 224,
        description: "official, ImageNet 224px",
        config: || imagenet(&D13, &S13),
    },
    NamedModel {
        name: "vanillanet_13_x1_5",
        input_size: 224,
        description: "official, ImageNet 224px",
        config: || imagenet(&x1_5(&D13), &S13),
    },
    NamedModel {
        name: "vanillanet_13_x1_5_ada_pool",
        input_size: 224,
        description: "official, ImageNet 224px",
        config: || imagenet(&x1_5(&D13), &S13).with_ada_pool(Some(vec![0, 38, 19, 0, 0, 0, 0, 0, 0, 10, 0])),
    },
    // Presets for training in a browser. 28 px: the stem leaves 7x7, so at most two halvings.
    NamedModel {
        name: "nano_28",
        input_size: 28,
        description: "browser preset, 28px grayscale (MNIST, Fashion-MNIST)",
        config: || VanillaNetConfig::new(vec![16, 32, 64], vec![2, 2]).with_in_chans(1).with_num_classes(10),
    },
    NamedModel {
        name: "nano5_28",
        input_size: 28,
        description: "browser preset, 28px grayscale, 5 layers; a stride-1 block keeps its width",
        config: || VanillaNetConfig::new(vec![16, 32, 32, 64], vec![2, 1, 2]).with_in_chans(1).with_num_classes(10),
    },
    NamedModel {
        name: "small_28",
        input_size: 28,
        description: "browser preset, 28px grayscale (MNIST, Fashion-MNIST)",
        config: || VanillaNetConfig::new(vec![32, 64, 128, 256], vec![1, 2, 2]).with_in_chans(1).with_num_classes(10),
    },
    // The stem at stride 2 (14x14 after it): the blocks see twice the detail, for four times
    // the work of the same widths.
    NamedModel {
        name: "fine_28",
        input_size: 28,
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
        input_size: 28,
        description: "browser preset, 28px grayscale, stem stride 2 (14x14 grid), 1.5 times fine_28's widths",
        config: || {
            VanillaNetConfig::new(vec![24, 48, 96, 192], vec![1, 2, 2])
                .with_in_chans(1)
                .with_num_classes(10)
                .with_stem_stride(2)
        },
    },
    // Twice fine_wide_28's widths (3.5 times its work): what the short-budget recipe (`train
    // --preset best`) trains natively, some 2 to 3 minutes an epoch on 2 CPU threads.
    NamedModel {
        name: "wide_28",
        input_size: 28,
        description: "browser preset, 28px grayscale, stem stride 2 (14x14 grid), twice fine_wide_28's widths",
        config: || {
            VanillaNetConfig::new(vec![48, 96, 192, 384], vec![1, 2, 2])
                .with_in_chans(1)
                .with_num_classes(10)
                .with_stem_stride(2)
        },
    },
    // The widest 28 px preset, for a GPU (WebGPU in the page, `--backend gpu` natively): six
    // times fine_wide_28's multiply-adds, some 11 minutes an epoch on 2 CPU threads.
    NamedModel {
        name: "large_28",
        input_size: 28,
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
        input_size: 32,
        description: "browser preset, 32px RGB",
        config: || VanillaNetConfig::new(vec![32, 64, 128, 256], vec![2, 2, 2]).with_num_classes(10),
    },
    NamedModel {
        name: "base_64",
        input_size: 64,
        description: "browser preset, 64px RGB",
        config: || VanillaNetConfig::new(vec![64, 128, 256, 512], vec![2, 2, 2]).with_num_classes(10),
    },
];

impl VanillaNetConfig {
    /// The model of that name, or an error listing the names there are.
    pub fn named(name: &str) -> crate::Result<Self> {
        named_model(name).map(|m| (m.config)())
    }
}

/// The model of that name, or an error listing the names there are.
pub fn named_model(name: &str) -> crate::Result<&'static NamedModel> {
    NAMED_MODELS.iter().find(|m| m.name == name).ok_or_else(|| {
        let names: Vec<_> = NAMED_MODELS.iter().map(|m| m.name).collect();
        Error::InvalidConfig(format!("unknown model '{name}'; known: {}", names.join(", ")))
    })
}

/// The browser presets made for square images of `side` pixels, in the table's order: what
/// the page offers for a dataset.
pub fn presets_for(side: usize) -> Vec<&'static str> {
    NAMED_MODELS.iter().filter(|m| m.input_size == side && !m.official()).map(|m| m.name).collect()
}

impl NamedModel {
    /// One of the authors' ImageNet variants (not a browser preset).
    pub fn official(&self) -> bool {
        self.name.starts_with("vanillanet")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_is_made_for_its_input_size() {
        for m in NAMED_MODELS {
            let sizes = (m.config)().feature_sizes(m.input_size, m.input_size);
            assert!(sizes.is_ok(), "{} does not fit {}px: {:?}", m.name, m.input_size, sizes.err());
        }
        assert_eq!(
            presets_for(28),
            ["nano_28", "nano5_28", "small_28", "fine_28", "fine_wide_28", "wide_28", "large_28"]
        );
        assert_eq!(presets_for(32), ["small_32"]);
        assert!(presets_for(224).is_empty(), "the official variants are not offered for training");
        assert_eq!(named_model("base_64").unwrap().input_size, 64);
        assert!(named_model("nope").is_err());
    }
}
