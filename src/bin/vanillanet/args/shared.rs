//! The flags several commands share (a model file, an architecture, a dataset) and the parsers
//! that bound a flag's value by a row of the library's one table of limits (`vanillanet::limits`),
//! so a value out of range is clap's usage error naming the flag (exit 2).

use std::path::PathBuf;

use clap::Args;
use clap::builder::{PossibleValuesParser, RangedU64ValueParser, TypedValueParser};
use vanillanet::limits::{BENCH_SIZE, Bound, INPUT_SIDE, TILES};
use vanillanet::model::presets::named_model;
use vanillanet::train::inside::check_tiles;
use vanillanet::{Error, Result, VanillaNetConfig};

/// A whole number within `bound`, else clap's usage error naming the flag.
pub fn within<T>(bound: Bound) -> RangedU64ValueParser<T>
where
    T: TryFrom<u64> + Clone + Send + Sync + 'static,
    <T as TryFrom<u64>>::Error: Send + Sync + 'static + std::error::Error + ToString,
{
    RangedU64ValueParser::new().range(bound.min..=bound.max)
}

/// A count of feature-map tiles, as the engine checks it.
pub fn tiles(text: &str) -> std::result::Result<usize, String> {
    text.parse().ok().and_then(|n| check_tiles(n).ok()).ok_or_else(|| format!("tiles must be {}", TILES.range()))
}

/// One of the named models (`vanillanet models`).
pub fn model_name(text: &str) -> std::result::Result<String, String> {
    named_model(text).map(|_| text.to_string()).map_err(|e| e.to_string())
}

/// A model `bench` times: a named model at an input side.
#[derive(Clone)]
pub struct BenchModel {
    pub name: String,
    pub size: usize,
}

/// `NAME` (at the side the model is made for) or `NAME@SIZE`, within the bench's limit.
pub fn bench_model(text: &str) -> std::result::Result<BenchModel, String> {
    let (name, size) = text.split_once('@').map_or((text, None), |(n, s)| (n, Some(s)));
    let named = named_model(name).map_err(|e| e.to_string())?;
    let Some(size) = size else { return Ok(BenchModel { name: name.into(), size: named.input_size }) };
    match size.parse::<u64>() {
        Ok(side) if BENCH_SIZE.contains(side) => Ok(BenchModel { name: name.into(), size: side as usize }),
        _ => Err(format!("the size after @ must be a whole number from {}", BENCH_SIZE.range())),
    }
}

/// A dataset, the same kinds for every command that takes one.
#[derive(Args)]
pub struct DataArgs {
    /// fashion-mnist or mnist (the page's built-in sets, www/data/*.vnds), a .vnds file, or a
    /// folder with one subfolder of images per class.
    #[arg(long, visible_alias = "dataset")]
    pub data: String,
    #[command(flatten)]
    pub folder: FolderArgs,
}

/// How a folder of images becomes a dataset.
#[derive(Args)]
pub struct FolderArgs {
    #[arg(long, default_value_t = 32, value_parser = within::<usize>(INPUT_SIDE),
        help = format!("Folder datasets: images are centre-cropped and resized to this size ({})...", INPUT_SIDE.range()))]
    pub image_size: usize,
    /// ...with this many channels (1 = grayscale, 3 = RGB).
    #[arg(long, default_value_t = 3, value_parser = PossibleValuesParser::new(["1", "3"]).map(|c| c.parse::<usize>().unwrap_or(3)))]
    pub channels: usize,
}

#[derive(Args)]
pub struct ModelArgs {
    /// Checkpoint: official .pth (model_ema, model or bare state_dict) or safetensors, in
    /// training or deploy form. Without --model or --dims/--strides the architecture comes
    /// from the file: its model card (files exported by the page) or its tensors.
    #[arg(long)]
    pub checkpoint: PathBuf,
    #[command(flatten)]
    pub arch: ArchArgs,
}

/// An architecture, checked as a whole as every model file's is (`VanillaNetConfig::validate`:
/// widths, blocks, classes and the rest bounded, in one line, before anything is built).
#[derive(Args)]
pub struct ArchArgs {
    /// A named model (see `vanillanet models`), instead of --dims/--strides.
    #[arg(long, conflicts_with_all = ["dims", "strides"])]
    pub model: Option<String>,
    /// Channel widths, e.g. 16,32,64,128.
    #[arg(long, value_delimiter = ',', requires = "strides")]
    pub dims: Option<Vec<usize>>,
    /// One stride per block, e.g. 2,2,2.
    #[arg(long, value_delimiter = ',', requires = "dims")]
    pub strides: Option<Vec<usize>>,
    /// Depthwise kernel of the series activation is 2n+1 [default: 3].
    #[arg(long)]
    pub act_num: Option<usize>,
    /// Input channels [default: 3].
    #[arg(long)]
    pub in_chans: Option<usize>,
    /// Classes [default: 1000].
    #[arg(long)]
    pub num_classes: Option<usize>,
    /// Adaptive max-pool size per block (0 = none), as in vanillanet_13_x1_5_ada_pool.
    #[arg(long, value_delimiter = ',')]
    pub ada_pool: Option<Vec<usize>>,
    /// The stem's stride: 4 as published, or 2 (a grid twice as fine) [default: 4].
    #[arg(long)]
    pub stem_stride: Option<usize>,
}

impl ArchArgs {
    pub fn config(&self) -> Result<VanillaNetConfig> {
        let mut config = match (&self.model, &self.dims, &self.strides) {
            (Some(name), _, _) => VanillaNetConfig::named(name)?,
            (None, Some(dims), Some(strides)) => VanillaNetConfig::new(dims.clone(), strides.clone()),
            _ => return Err(Error::InvalidConfig("give --model NAME or --dims and --strides".into())),
        };
        if let Some(n) = self.act_num {
            config.act_num = n;
        }
        if let Some(n) = self.in_chans {
            config.in_chans = n;
        }
        if let Some(n) = self.num_classes {
            config.num_classes = n;
        }
        if self.ada_pool.is_some() {
            config.ada_pool = self.ada_pool.clone();
        }
        if let Some(s) = self.stem_stride {
            config.stem_stride = s;
        }
        config.validate()?;
        Ok(config)
    }

    /// The flags name an architecture (else it comes from the checkpoint).
    pub fn given(&self) -> bool {
        self.model.is_some() || self.dims.is_some()
    }
}
