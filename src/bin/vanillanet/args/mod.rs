//! The command line: the commands (`Cli`, `Command`), each command's flags (`commands.rs`),
//! the flags they share and the parsers that bound them (`shared.rs`). Value lists (schedules,
//! optimizers, studies, shortcuts) are the library's own enums; sizes, batches and counts rows
//! of its one table of limits (`vanillanet::limits`, the page's too), so a value out of range
//! is a usage error (exit 2) before anything is read or allocated.

mod commands;
mod shared;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use vanillanet::limits::THREADS;
use vanillanet::train::options::TrainOptions;
use vanillanet::train::study::StudyOptions;

pub use commands::*;
pub use shared::{ArchArgs, DataArgs, FolderArgs, ModelArgs};

#[derive(Parser)]
#[command(name = "vanillanet", version, about = "Run, fuse and inspect VanillaNet checkpoints (official key names)")]
pub struct Cli {
    /// Where to compute: cpu (burn's flex backend) or gpu (wgpu).
    #[arg(long, value_enum, default_value = "cpu", global = true)]
    pub backend: Backend,
    #[arg(long, global = true, allow_negative_numbers = true, value_parser = shared::within::<u16>(THREADS),
        help = format!("Threads for the CPU backend's kernels, {} [default: one per core]", THREADS.range()))]
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
    /// Start from a checkpoint: its fused body computes each photo's features (at the
    /// checkpoint's own input size and preprocessing), a new head learns the folder's classes
    /// on them, and the body with the new head is written as one model with its card.
    Transfer(TransferArgs),
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
