//! What each command takes: its own flags, those it shares (`shared.rs`) flattened in. Every
//! whole number is bounded by a row of the library's one table of limits (`vanillanet::limits`),
//! its help saying the range from the same row; the training and study options are their own
//! tables' (`TrainOptions`, `StudyOptions`), checked by `main` as clap checks a flag.

use std::path::PathBuf;

use clap::Args;
use vanillanet::limits::{
    BENCH_BATCH, BENCH_RUNS, BENCH_SIZE, BENCH_WARMUP, BLOCK, HEAD_STEPS, INPUT_SIDE, PROBE_EVERY, SEED, TILES, TOP,
};
use vanillanet::model::Weights;
use vanillanet::train::inside::{DEFAULT_EVERY, DEFAULT_TILES};
use vanillanet::train::options::TrainOptions;
use vanillanet::train::study::StudyOptions;
use vanillanet::train::transfer::head::HeadOptions;

use super::shared::{ArchArgs, BenchModel, DataArgs, ModelArgs, bench_model, model_name, tiles, within};

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
    #[arg(long, value_parser = within::<usize>(INPUT_SIDE),
        help = format!("Input side fed to the network, {} [default: the card's, else 224]", INPUT_SIDE.range()))]
    pub size: Option<usize>,
    /// Text file with one class name per line [default: the card's, else ImageNet's for
    /// 1000 classes].
    #[arg(long)]
    pub labels: Option<PathBuf>,
    #[arg(long, default_value_t = 5, value_parser = within::<usize>(TOP),
        help = format!("Classes shown per image, most probable first ({})", TOP.range()))]
    pub top: usize,
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
}

#[derive(Args)]
pub struct InfoArgs {
    #[command(flatten)]
    pub arch: ArchArgs,
    #[arg(long, default_value_t = 224, value_parser = within::<usize>(INPUT_SIDE),
        help = format!("Input height and width, {}", INPUT_SIDE.range()))]
    pub size: usize,
}

#[derive(Args)]
pub struct ExportOnnxArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[arg(long, value_parser = within::<usize>(INPUT_SIDE),
        help = format!("Input side the graph declares (the batch stays free), {} [default: the card's, else 224]", INPUT_SIDE.range()))]
    pub size: Option<usize>,
    #[arg(long)]
    pub output: PathBuf,
}

#[derive(Args)]
pub struct BenchArgs {
    #[arg(long, value_delimiter = ',', default_value = "vanillanet_5@224,small_28@28", value_parser = bench_model,
        help = format!("Models as NAME or NAME@SIZE (input side in pixels, {}; the size the model is made for when not given); {} cases (models x batches)", BENCH_SIZE.range(), vanillanet::limits::BENCH_CASES.range()))]
    pub models: Vec<BenchModel>,
    #[arg(long, value_delimiter = ',', default_value = "1,32", value_parser = within::<usize>(BENCH_BATCH),
        help = format!("Batch sizes, each {}", BENCH_BATCH.range()))]
    pub batches: Vec<usize>,
    #[arg(long, default_value_t = 30, value_parser = within::<usize>(BENCH_RUNS),
        help = format!("Timed runs per case, {}", BENCH_RUNS.range()))]
    pub runs: usize,
    #[arg(long, default_value_t = 3, value_parser = within::<usize>(BENCH_WARMUP),
        help = format!("Untimed runs before them, {}", BENCH_WARMUP.range()))]
    pub warmup: usize,
    /// Preset whose training throughput is measured.
    #[arg(long, default_value = "small_28", value_parser = model_name)]
    pub train_preset: String,
    #[arg(long, default_value_t = 64, value_parser = within::<usize>(BENCH_BATCH),
        help = format!("Its batch size, {}", BENCH_BATCH.range()))]
    pub train_batch: usize,
    #[arg(long, default_value_t = 20, value_parser = within::<usize>(BENCH_RUNS),
        help = format!("Its timed steps, {}", BENCH_RUNS.range()))]
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
    #[arg(long, default_value_t = 224, value_parser = within::<usize>(INPUT_SIDE),
        help = format!("Input side its card declares (official preprocessing), {}", INPUT_SIDE.range()))]
    pub size: usize,
    #[arg(long, default_value_t = 0, value_parser = within::<u64>(SEED),
        help = format!("Seed of the random weights, {}", SEED.range()))]
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
    #[arg(long, default_value_t = DEFAULT_EVERY, value_parser = within::<usize>(PROBE_EVERY),
        help = format!("Steps between probes of the leaky activations' decay, {} (0: none; on the first 32 test images). Each epoch's line is followed by the last probe's figures", PROBE_EVERY.range()))]
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

#[derive(Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Dataset (fashion-mnist, mnist, a .vnds file, or a folder of class folders, read at the
    /// model's input size) whose test image --index is looked at, normalised as training on it
    /// normalises.
    #[arg(long, visible_alias = "dataset", conflicts_with = "image")]
    pub data: Option<String>,
    /// Which test image (within the test set, checked once it is read).
    #[arg(long, default_value_t = 0)]
    pub index: usize,
    /// An image file instead, preprocessed as the checkpoint's card says.
    #[arg(long)]
    pub image: Option<PathBuf>,
    #[arg(long, default_value_t = 0, value_parser = within::<usize>(BLOCK),
        help = format!("The part looked at, {}: 0 the stem, i the i-th block", BLOCK.range()))]
    pub block: usize,
    /// The fused (deploy) form's maps, with their largest difference to the trained net's.
    #[arg(long)]
    pub fused: bool,
    /// Slope of the leaky activations for the trained net, 0 to 1 (1 once annealed).
    #[arg(long, default_value_t = 1.0)]
    pub lambda: f64,
    #[arg(long, default_value_t = DEFAULT_TILES, value_parser = tiles,
        help = format!("How many channels, most active first ({})", TILES.range()))]
    pub tiles: usize,
    /// Also write the answer as JSON (the page's `vanillanet.inside.featureMaps`).
    #[arg(long)]
    pub json: Option<PathBuf>,
}

#[derive(Args)]
pub struct TransferArgs {
    /// The checkpoint whose fused body computes the features (any model file `classify` reads:
    /// an official checkpoint, with ARCH where its tensors do not settle it, or one of ours).
    #[command(flatten)]
    pub model: ModelArgs,
    /// A folder with one subfolder of photos per class (the class is the folder's name); every
    /// fifth photo of a class is held out to test the new head on.
    #[arg(long, visible_alias = "dataset")]
    pub data: PathBuf,
    /// Where to write the new model: the body and the new head, fused, with its card.
    #[arg(long)]
    pub output: PathBuf,
    #[arg(long, default_value_t = HeadOptions::default().steps, value_parser = within::<usize>(HEAD_STEPS),
        help = format!("Steps the new head trains (full batch, AdamW), {}", HEAD_STEPS.range()))]
    pub steps: usize,
    #[arg(long, default_value_t = 0, value_parser = within::<u64>(SEED),
        help = format!("Seed of the head's initial weights, {}", SEED.range()))]
    pub seed: u64,
    /// Also write the report (accuracies, each held-out photo's answer, skipped files) as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
}
