//! The command line: what each command takes. Value lists (schedules, optimizers, studies,
//! shortcuts) are the library's own enums; sizes, batches and counts its limits (the page's too),
//! so a value out of range is a usage error (exit 2) before anything is read or allocated.

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, RangedU64ValueParser, TypedValueParser};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use vanillanet::bench::{MAX_BATCH, MAX_RUNS, MAX_SIZE};
use vanillanet::data::preprocess::MAX_INPUT_SIDE;
use vanillanet::model::Weights;
use vanillanet::model::config::MAX_BLOCKS;
use vanillanet::model::presets::named_model;
use vanillanet::train::inside::{DEFAULT_EVERY, DEFAULT_TILES, MAX_EVERY, MAX_TILES, check_tiles};
use vanillanet::train::options::TrainOptions;
use vanillanet::train::study::StudyOptions;
use vanillanet::{Error, Result, VanillaNetConfig};

#[derive(Parser)]
#[command(name = "vanillanet", version, about = "Run, fuse and inspect VanillaNet checkpoints (official key names)")]
pub struct Cli {
    /// Where to compute: cpu (burn's flex backend) or gpu (wgpu).
    #[arg(long, value_enum, default_value = "cpu", global = true)]
    pub backend: Backend,
    /// Threads for the CPU backend's kernels [default: one per core].
    #[arg(long, global = true, allow_negative_numbers = true, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Backend {
    Cpu,
    Gpu,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run a checkpoint on the tensor `input` (NCHW, f32) of a safetensors file, in eval mode
    /// (running BN statistics), and write the tensor `logits`.
    Logits(LogitsArgs),
    /// Fuse a training-form checkpoint and save the deploy form with official key names.
    Fuse(FuseArgs),
    /// Classify images: top-5, preprocessed and labelled as the model's card says (files from
    /// the page, `fuse`, `train`), else with the official evaluation preprocessing.
    Classify(ClassifyArgs),
    /// Parameters and multiply-accumulates of an architecture, training and deploy form.
    Info(InfoArgs),
    /// List the named models.
    Models,
    /// Export the fused (deploy) form as ONNX (opset 13): input `input` [batch, C, H, W],
    /// output `logits`; runs in onnxruntime and other ONNX runtimes.
    ExportOnnx(ExportOnnxArgs),
    /// Inference latency (fused and unfused, readback included; median and p90 after warm-up,
    /// the cold first run apart) and training throughput, on random weights and images.
    Bench(BenchArgs),
    /// Save a freshly initialised model (training form, random weights, official key names):
    /// for trying the tools and for benchmarks.
    Init(InitArgs),
    /// Train on a dataset with the page's training loop; prints a line per epoch; saves the
    /// fused model if asked. The options are the page's form's, with its defaults and bounds.
    Train(TrainArgs),
    /// The feature maps after the stem or a block for one image, the most active channels
    /// (the page's "what each layer sees"), of the trained net or its fused form.
    Inspect(InspectArgs),
    /// Reproduce one of the paper's ablations: train every arm of a study with the same data,
    /// data order, seeds, step budget and schedule, fuse each, and print a table (also as JSON).
    /// The options are the page's Experiments form's, with its defaults and bounds.
    Ablate(AblateArgs),
}

#[derive(Args)]
pub struct LogitsArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Slope of the leaky activations (0 = ReLU, 1 = identity).
    #[arg(long, default_value_t = 1.0)]
    pub lambda: f64,
    /// Run the fused deploy form (fused here from a training-form checkpoint).
    #[arg(long)]
    pub fused: bool,
    #[arg(long)]
    pub input: PathBuf,
    #[arg(long)]
    pub output: PathBuf,
}

#[derive(Args)]
pub struct FuseArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[arg(long)]
    pub output: PathBuf,
}

#[derive(Args)]
pub struct ClassifyArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Input side fed to the network, 1 to 1024 [default: the card's, else 224].
    #[arg(long, value_parser = within(1, MAX_INPUT_SIDE))]
    pub size: Option<usize>,
    /// Text file with one class name per line [default: the card's, else ImageNet's for
    /// 1000 classes].
    #[arg(long)]
    pub labels: Option<PathBuf>,
    #[arg(long, default_value_t = 5)]
    pub top: usize,
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
}

#[derive(Args)]
pub struct InfoArgs {
    #[command(flatten)]
    pub arch: ArchArgs,
    /// Input height and width, 1 to 1024.
    #[arg(long, default_value_t = 224, value_parser = within(1, MAX_INPUT_SIDE))]
    pub size: usize,
}

#[derive(Args)]
pub struct ExportOnnxArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Input side the graph declares (the batch stays free), 1 to 1024 [default: the card's,
    /// else 224].
    #[arg(long, value_parser = within(1, MAX_INPUT_SIDE))]
    pub size: Option<usize>,
    #[arg(long)]
    pub output: PathBuf,
}

#[derive(Args)]
pub struct BenchArgs {
    /// Models as NAME or NAME@SIZE (input side in pixels, 1 to 1024; the size the model is
    /// made for when not given).
    #[arg(long, value_delimiter = ',', default_value = "vanillanet_5@224,small_28@28", value_parser = bench_model)]
    pub models: Vec<BenchModel>,
    /// Batch sizes, each 1 to 256.
    #[arg(long, value_delimiter = ',', default_value = "1,32", value_parser = within(1, MAX_BATCH))]
    pub batches: Vec<usize>,
    /// Timed runs per case, 1 to 1000.
    #[arg(long, default_value_t = 30, value_parser = within(1, MAX_RUNS))]
    pub runs: usize,
    /// Untimed runs before them, 0 to 1000.
    #[arg(long, default_value_t = 3, value_parser = within(0, MAX_RUNS))]
    pub warmup: usize,
    /// Preset whose training throughput is measured, and its batch size (1 to 256) and timed
    /// steps (1 to 1000).
    #[arg(long, default_value = "small_28", value_parser = model_name)]
    pub train_preset: String,
    #[arg(long, default_value_t = 64, value_parser = within(1, MAX_BATCH))]
    pub train_batch: usize,
    #[arg(long, default_value_t = 20, value_parser = within(1, MAX_RUNS))]
    pub train_steps: usize,
    /// Also where each fused case's time goes: the round trip, the host's hand-over, and each
    /// part's share (forwards cut after the stem, each block and the head).
    #[arg(long)]
    pub breakdown: bool,
    /// Also write the figures as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

#[derive(Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub arch: ArchArgs,
    /// Input side its card declares (official preprocessing), 1 to 1024.
    #[arg(long, default_value_t = 224, value_parser = within(1, MAX_INPUT_SIDE))]
    pub size: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long)]
    pub output: PathBuf,
}

#[derive(Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub options: TrainOptions,
    /// Where to save the fused (deploy-form) model, official key names, with its card.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Where to save the training form for the authors' PyTorch code (official key names,
    /// BN step counters; loads with strict=True), with its card.
    #[arg(long)]
    pub output_training: Option<PathBuf>,
    /// Which weights --output and --output-training hold (their card says which): the moving
    /// average, the default when --ema-decay is above 0, or the weights as trained.
    #[arg(long, value_enum)]
    pub weights: Option<Weights>,
    /// Steps between probes of the leaky activations' decay (on the first 32 test images;
    /// 0: none; at most 1000000). Each epoch's line is followed by the last probe's figures.
    #[arg(long, default_value_t = DEFAULT_EVERY, value_parser = within(0, MAX_EVERY))]
    pub probe_every: usize,
}

#[derive(Args)]
pub struct AblateArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub options: StudyOptions,
    /// Also write the whole report (every run, the summary, the options) as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
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
    /// Folder datasets: images are centre-cropped and resized to this size (1 to 1024)...
    #[arg(long, default_value_t = 32, value_parser = within(1, MAX_INPUT_SIDE))]
    pub image_size: usize,
    /// ...with this many channels (1 = grayscale, 3 = RGB).
    #[arg(long, default_value_t = 3, value_parser = PossibleValuesParser::new(["1", "3"]).map(|c| c.parse::<usize>().unwrap_or(3)))]
    pub channels: usize,
}

/// A whole number from `min` to `max`, else clap's usage error naming the flag.
fn within(min: usize, max: usize) -> RangedU64ValueParser<usize> {
    RangedU64ValueParser::new().range(min as u64..=max as u64)
}

/// A count of feature-map tiles, as the engine checks it.
fn tiles(text: &str) -> std::result::Result<usize, String> {
    text.parse().ok().and_then(|n| check_tiles(n).ok()).ok_or_else(|| format!("tiles must be 1 to {MAX_TILES}"))
}

/// One of the named models (`vanillanet models`).
fn model_name(text: &str) -> std::result::Result<String, String> {
    named_model(text).map(|_| text.to_string()).map_err(|e| e.to_string())
}

/// A model `bench` times: a named model at an input side.
#[derive(Clone)]
pub struct BenchModel {
    pub name: String,
    pub size: usize,
}

/// `NAME` (at the side the model is made for) or `NAME@SIZE`, within the bench's limit.
fn bench_model(text: &str) -> std::result::Result<BenchModel, String> {
    let (name, size) = text.split_once('@').map_or((text, None), |(n, s)| (n, Some(s)));
    let named = named_model(name).map_err(|e| e.to_string())?;
    let Some(size) = size else { return Ok(BenchModel { name: name.into(), size: named.input_size }) };
    match size.parse() {
        Ok(size) if (1..=MAX_SIZE).contains(&size) => Ok(BenchModel { name: name.into(), size }),
        _ => Err(format!("the size after @ must be a whole number from 1 to {MAX_SIZE}")),
    }
}

/// The whole command line as clap parses it: `Cli` with `ablate`'s study defaults. The one
/// definition `main` parses with and the CLI tests enumerate the subcommands of.
pub fn command() -> clap::Command {
    Cli::command().mut_subcommand("ablate", study_defaults)
}

/// `ablate`'s flags as the study has them: the defaults of `StudyOptions::default().train`
/// where they differ from plain training's, and the options each arm sets hidden.
fn study_defaults(mut ablate: clap::Command) -> clap::Command {
    let study = serde_json::to_value(StudyOptions::default().train).unwrap_or_default();
    let plain = serde_json::to_value(TrainOptions::default()).unwrap_or_default();
    for spec in TrainOptions::table() {
        let id = spec.flag.trim_start_matches("--").replace('-', "_");
        let (value, usual) = (&study[&spec.name], &plain[&spec.name]);
        if value != usual {
            let text = value.as_str().map_or_else(|| value.to_string(), String::from);
            let text: &'static str = Box::leak(text.into_boxed_str());
            ablate = ablate.mut_arg(&id, |a| a.default_value(text));
        }
        if StudyOptions::ARM_OPTIONS.contains(&spec.name.as_str()) {
            ablate = ablate.mut_arg(&id, |a| a.hide(true));
        }
    }
    ablate
}

#[derive(Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Dataset (fashion-mnist, mnist, a .vnds file, or a folder of class folders, read at the
    /// model's input size) whose test image --index is looked at, normalised as training on it
    /// normalises.
    #[arg(long, visible_alias = "dataset", conflicts_with = "image")]
    pub data: Option<String>,
    #[arg(long, default_value_t = 0)]
    pub index: usize,
    /// An image file instead, preprocessed as the checkpoint's card says.
    #[arg(long)]
    pub image: Option<PathBuf>,
    /// 0 the stem, i the i-th block (at most 64).
    #[arg(long, default_value_t = 0, value_parser = within(0, MAX_BLOCKS))]
    pub block: usize,
    /// The fused (deploy) form's maps, with their largest difference to the trained net's.
    #[arg(long)]
    pub fused: bool,
    /// Slope of the leaky activations for the trained net, 0 to 1 (1 once annealed).
    #[arg(long, default_value_t = 1.0)]
    pub lambda: f64,
    /// How many channels, most active first (1 to 64).
    #[arg(long, default_value_t = DEFAULT_TILES, value_parser = tiles)]
    pub tiles: usize,
    /// Also write the answer as JSON (the page's `vanillanet.inside.featureMaps`).
    #[arg(long)]
    pub json: Option<PathBuf>,
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
}

impl ArchArgs {
    /// The flags name an architecture (else it comes from the checkpoint).
    pub fn given(&self) -> bool {
        self.model.is_some() || self.dims.is_some()
    }
}
