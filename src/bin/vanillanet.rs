//! `vanillanet`: run, fuse and inspect VanillaNet checkpoints from the command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use burn::tensor::{Device, Tensor, TensorData, activation::softmax};
use clap::{Args, Parser, Subcommand, ValueEnum};
use vanillanet::imagenet;
use vanillanet::{
    Error, Layout, NAMED_MODELS, Result, StateDict, VanillaNet, VanillaNetConfig, VanillaNetDeploy, load_state,
    state_dict,
};

#[derive(Parser)]
#[command(name = "vanillanet", version, about = "Run, fuse and inspect VanillaNet checkpoints (official key names)")]
struct Cli {
    /// Where to compute: cpu (burn's flex backend) or gpu (wgpu).
    #[arg(long, value_enum, default_value = "cpu", global = true)]
    backend: Backend,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Backend {
    Cpu,
    Gpu,
}

#[derive(Subcommand)]
enum Command {
    /// Run a checkpoint on the tensor `input` (NCHW, f32) of a safetensors file, in eval mode
    /// (running BN statistics), and write the tensor `logits`.
    Logits {
        #[command(flatten)]
        model: ModelArgs,
        /// Slope of the leaky activations (0 = ReLU, 1 = identity).
        #[arg(long, default_value_t = 1.0)]
        lambda: f64,
        /// Run the fused deploy form (fused here from a training-form checkpoint).
        #[arg(long)]
        fused: bool,
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        output: PathBuf,
    },
    /// Fuse a training-form checkpoint and save the deploy form with official key names.
    Fuse {
        #[command(flatten)]
        model: ModelArgs,
        #[arg(long)]
        output: PathBuf,
    },
    /// Classify images: top-5 with the official evaluation preprocessing.
    Classify {
        #[command(flatten)]
        model: ModelArgs,
        /// Crop size fed to the network.
        #[arg(long, default_value_t = 224)]
        size: usize,
        /// Text file with one class name per line (default: ImageNet's for 1000 classes).
        #[arg(long)]
        labels: Option<PathBuf>,
        #[arg(long, default_value_t = 5)]
        top: usize,
        #[arg(required = true)]
        images: Vec<PathBuf>,
    },
    /// Parameters and multiply-accumulates of an architecture, training and deploy form.
    Info {
        #[command(flatten)]
        arch: ArchArgs,
        /// Input height and width.
        #[arg(long, default_value_t = 224)]
        size: usize,
    },
    /// List the named models.
    Models,
    /// Export the fused (deploy) form as ONNX (opset 13): input `input` [batch, C, H, W],
    /// output `logits`; runs in onnxruntime and other ONNX runtimes.
    ExportOnnx {
        #[command(flatten)]
        model: ModelArgs,
        /// Input side the graph declares (the batch stays free).
        #[arg(long, default_value_t = 224)]
        size: usize,
        #[arg(long)]
        output: PathBuf,
    },
    /// Inference latency (fused and unfused, readback included; median and p90 after warm-up,
    /// the cold first run apart) and training throughput, on random weights and images.
    Bench {
        /// Models as NAME@SIZE (input side in pixels).
        #[arg(long, value_delimiter = ',', default_value = "vanillanet_5@224,small_28@28")]
        models: Vec<String>,
        #[arg(long, value_delimiter = ',', default_value = "1,32")]
        batches: Vec<usize>,
        /// Timed runs per case.
        #[arg(long, default_value_t = 30)]
        runs: usize,
        #[arg(long, default_value_t = 3)]
        warmup: usize,
        /// Preset whose training throughput is measured, and its batch size and timed steps.
        #[arg(long, default_value = "small_28")]
        train_preset: String,
        #[arg(long, default_value_t = 64)]
        train_batch: usize,
        #[arg(long, default_value_t = 20)]
        train_steps: usize,
        /// Also write the figures as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Save a freshly initialised model (training form, random weights, official key names):
    /// for trying the tools and for benchmarks.
    Init {
        #[command(flatten)]
        arch: ArchArgs,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long)]
        output: PathBuf,
    },
    /// Train a preset on a dataset file (`www/data/*.vnds`, built by scripts/build-web.sh) with
    /// the page's training loop; prints a line per epoch; saves the fused model if asked.
    Train {
        /// Dataset file, e.g. www/data/fashion-mnist.vnds.
        #[arg(long)]
        data: PathBuf,
        #[arg(long, default_value = "small_28")]
        preset: String,
        #[arg(long, default_value_t = 3)]
        act_num: usize,
        #[arg(long, default_value_t = 3)]
        epochs: usize,
        /// Epochs over which lambda anneals from 0 to 1.
        #[arg(long, default_value_t = 2)]
        decay_epochs: usize,
        #[arg(long, value_enum, default_value = "cosine")]
        schedule: ScheduleArg,
        /// Move lambda once per epoch (official) instead of every step.
        #[arg(long)]
        per_epoch: bool,
        #[arg(long, value_enum, default_value = "adamw")]
        optimizer: OptimizerArg,
        #[arg(long, default_value_t = 2e-3)]
        lr: f64,
        #[arg(long, default_value_t = 0.05)]
        weight_decay: f64,
        #[arg(long, default_value_t = 64)]
        batch_size: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Where to save the fused (deploy-form) model, official key names.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Reproduce one of the paper's ablations: train every arm of a study with the same data,
    /// data order, seeds, step budget and schedule, fuse each, and print a table (also as JSON).
    Ablate {
        /// fashion-mnist, mnist (the page's built-in sets, www/data/*.vnds), a .vnds file, or a
        /// folder with one subfolder of images per class.
        #[arg(long)]
        dataset: String,
        #[arg(long, value_enum)]
        study: StudyArg,
        #[arg(long, default_value_t = 2)]
        epochs: usize,
        /// Epochs over which lambda anneals (at most --epochs: every arm is fused at the end).
        #[arg(long, default_value_t = 1)]
        decay_epochs: usize,
        /// Seeds per arm (seed, seed + 1, ...); the spread over them is the table's ±.
        #[arg(long, default_value_t = 3)]
        seeds: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long, default_value = "nano_28")]
        preset: String,
        #[arg(long, default_value_t = 64)]
        batch_size: usize,
        #[arg(long, default_value_t = 2e-3)]
        lr: f64,
        /// Train on the first N training images only (the built-in sets are class-balanced in
        /// any prefix).
        #[arg(long)]
        train_images: Option<usize>,
        /// Test on the first N test images only.
        #[arg(long)]
        test_images: Option<usize>,
        /// Folder datasets: images are centre-cropped and resized to this size...
        #[arg(long, default_value_t = 32)]
        image_size: usize,
        /// ...with this many channels (1 = grayscale, 3 = RGB).
        #[arg(long, default_value_t = 3)]
        channels: usize,
        /// Also write the whole report (every run, the summary, the options) as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum StudyArg {
    ActNum,
    DeepTraining,
    Shortcut,
}

#[derive(Clone, Copy, ValueEnum)]
enum ScheduleArg {
    Cosine,
    Linear,
}

#[derive(Clone, Copy, ValueEnum)]
enum OptimizerArg {
    Adamw,
    Sgd,
}

#[derive(Args)]
struct ModelArgs {
    /// Checkpoint: official .pth (model_ema, model or bare state_dict) or safetensors, in
    /// training or deploy form. Without --model or --dims/--strides the architecture comes
    /// from the file: its model card (files exported by the page) or its tensors.
    #[arg(long)]
    checkpoint: PathBuf,
    #[command(flatten)]
    arch: ArchArgs,
}

#[derive(Args)]
struct ArchArgs {
    /// A named model (see `vanillanet models`), instead of --dims/--strides.
    #[arg(long, conflicts_with_all = ["dims", "strides"])]
    model: Option<String>,
    /// Channel widths, e.g. 16,32,64,128.
    #[arg(long, value_delimiter = ',', requires = "strides")]
    dims: Option<Vec<usize>>,
    /// One stride per block, e.g. 2,2,2.
    #[arg(long, value_delimiter = ',', requires = "dims")]
    strides: Option<Vec<usize>>,
    /// Depthwise kernel of the series activation is 2n+1 [default: 3].
    #[arg(long)]
    act_num: Option<usize>,
    /// Input channels [default: 3].
    #[arg(long)]
    in_chans: Option<usize>,
    /// Classes [default: 1000].
    #[arg(long)]
    num_classes: Option<usize>,
    /// Adaptive max-pool size per block (0 = none), as in vanillanet_13_x1_5_ada_pool.
    #[arg(long, value_delimiter = ',')]
    ada_pool: Option<Vec<usize>>,
}

impl ArchArgs {
    fn config(&self) -> Result<VanillaNetConfig> {
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
        config.validate()?;
        Ok(config)
    }
}

/// A checkpoint's model in the form asked for.
enum Loaded {
    Training(VanillaNet),
    Deploy(VanillaNetDeploy),
}

impl ArchArgs {
    fn given(&self) -> bool {
        self.model.is_some() || self.dims.is_some()
    }
}

/// The architecture a checkpoint's card or tensors give, unless they leave it open.
fn architecture_of(sd: &StateDict) -> Result<VanillaNetConfig> {
    if let Some(json) = sd.metadata.get(vanillanet::classifier::CARD_KEY) {
        let card: vanillanet::ModelCard =
            serde_json::from_str(json).map_err(|e| Error::Format(format!("unreadable model card: {e}")))?;
        return Ok(card.architecture);
    }
    let detected = vanillanet::detect::detect(sd)?;
    if detected.ambiguous() {
        return Err(Error::InvalidConfig(format!(
            "the tensors fit several models ({}): give --model",
            detected.candidates.join(", ")
        )));
    }
    detected.config(None, None).map_err(|e| Error::InvalidConfig(format!("{e} (--dims and --strides)")))
}

fn load(args: &ModelArgs, device: &Device) -> Result<(VanillaNetConfig, Loaded)> {
    load_from(&StateDict::read(&args.checkpoint)?, &args.arch, device)
}

fn load_from(sd: &StateDict, arch: &ArchArgs, device: &Device) -> Result<(VanillaNetConfig, Loaded)> {
    let config = if arch.given() { arch.config()? } else { architecture_of(sd)? };
    let model = match sd.layout()? {
        Layout::Training => Loaded::Training(load_state(config.init(device), sd, device)?),
        Layout::Deploy => Loaded::Deploy(load_state(config.init_deploy(device), sd, device)?),
    };
    Ok((config, model))
}

fn read_input(path: &Path, config: &VanillaNetConfig, device: &Device) -> Result<Tensor<4>> {
    let bytes = std::fs::read(path).map_err(|e| Error::InvalidInput(format!("{}: {e}", path.display())))?;
    let sd =
        StateDict::from_safetensors(&bytes).map_err(|e| Error::InvalidInput(format!("{}: {e}", path.display())))?;
    let t = sd
        .get("input")
        .ok_or_else(|| Error::InvalidInput(format!("{} has no tensor named 'input'", path.display())))?;
    let &[n, c, h, w] = t.shape.as_slice() else {
        return Err(Error::InvalidInput(format!("'input' must be NCHW (4 dims), got shape {:?}", t.shape)));
    };
    if c != config.in_chans {
        return Err(Error::InvalidInput(format!("'input' has {c} channels, the model takes {}", config.in_chans)));
    }
    if n == 0 {
        return Err(Error::InvalidInput("'input' has batch size 0".into()));
    }
    config.feature_sizes(h, w)?;
    Ok(Tensor::from_data(TensorData::new(t.data.clone(), [n, c, h, w]), device))
}

fn to_host(t: Tensor<2>) -> Result<(Vec<usize>, Vec<f32>)> {
    let dims = t.dims().to_vec();
    let data = t.into_data().convert::<f32>().try_into_vec::<f32>().map_err(|e| Error::Readback(format!("{e:?}")))?;
    Ok((dims, data))
}

fn deploy_model(loaded: Loaded, lambda: f64) -> Result<VanillaNetDeploy> {
    match loaded {
        Loaded::Training(model) => model.fuse(lambda),
        Loaded::Deploy(_) if lambda != 1.0 => Err(Error::FuseLambda { lambda }),
        Loaded::Deploy(model) => Ok(model),
    }
}

fn device(backend: Backend) -> Result<Device> {
    match backend {
        Backend::Cpu => Ok(Device::flex()),
        Backend::Gpu => Device::wgpu_options()
            .init()
            .map_err(|e| Error::InvalidInput(format!("--backend gpu: no usable GPU adapter ({e}); use --backend cpu"))),
    }
}

/// A built-in set by name, a `.vnds` file, or a folder of class folders of images.
fn load_dataset(spec: &str, size: usize, channels: usize) -> Result<vanillanet::dataset::Dataset> {
    use vanillanet::dataset::Dataset;
    let path = Path::new(spec);
    if path.is_dir() {
        return dataset_from_folder(path, size, channels);
    }
    let file = if path.is_file() {
        path.to_path_buf()
    } else if ["fashion-mnist", "mnist"].contains(&spec) {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("www/data").join(format!("{spec}.vnds"))
    } else {
        return Err(Error::InvalidInput(format!(
            "--dataset {spec}: not fashion-mnist, mnist, a .vnds file nor a folder"
        )));
    };
    let bytes = std::fs::read(&file).map_err(|e| {
        Error::InvalidInput(format!(
            "{}: {e} (the built-in sets are made by `node scripts/build-data.mjs` after `npm ci`)",
            file.display()
        ))
    })?;
    Dataset::from_bytes(spec, &bytes)
}

/// One class per subfolder (sorted by name), every image in it decoded, centre-cropped and
/// resized as the page does with dropped images; files that are not images are listed and
/// skipped.
fn dataset_from_folder(dir: &Path, size: usize, channels: usize) -> Result<vanillanet::dataset::Dataset> {
    use vanillanet::preprocess::{Preprocess, Resize, decode};
    let p = Preprocess {
        channels,
        height: size,
        width: size,
        resize: Resize::CenterCrop,
        mean: vec![0.0; channels],
        std: vec![1.0; channels],
    };
    p.validate()?;
    let sorted = |d: &Path| -> Result<Vec<PathBuf>> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(d)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        Ok(entries)
    };
    let (mut classes, mut pixels, mut labels, mut skipped) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for class_dir in sorted(dir)?.into_iter().filter(|p| p.is_dir()) {
        if classes.len() == 255 {
            return Err(Error::InvalidInput(format!("{} has more than 255 class folders", dir.display())));
        }
        let label = classes.len() as u8;
        let mut count = 0;
        for file in sorted(&class_dir)?.into_iter().filter(|p| p.is_file()) {
            match std::fs::read(&file).map_err(Error::from).and_then(|b| decode(&b)) {
                Ok(img) => {
                    pixels.extend(p.pixels(&img));
                    labels.push(label);
                    count += 1;
                }
                Err(e) => skipped.push(format!("{}: {e}", file.display())),
            }
        }
        if count == 0 {
            return Err(Error::InvalidInput(format!("class folder {} has no readable image", class_dir.display())));
        }
        classes.push(class_dir.file_name().map_or(String::new(), |n| n.to_string_lossy().to_string()));
    }
    if classes.len() < 2 {
        return Err(Error::InvalidInput(format!(
            "{} needs at least two subfolders of images, one per class",
            dir.display()
        )));
    }
    for s in &skipped {
        eprintln!("skipped {s}");
    }
    let name = dir.file_name().map_or("folder".into(), |n| n.to_string_lossy().to_string());
    vanillanet::dataset::Dataset::labelled(name, classes, [channels, size, size], &pixels, &labels)
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Logits { model, lambda, fused, input, output } => {
            if !(0.0..=1.0).contains(&lambda) {
                return Err(Error::InvalidInput(format!("--lambda must be within [0, 1], got {lambda}")));
            }
            if fused && lambda != 1.0 {
                return Err(Error::FuseLambda { lambda });
            }
            let device = device(cli.backend)?;
            let (config, loaded) = load(&model, &device)?;
            let x = read_input(&input, &config, &device)?;
            let logits = match (fused, loaded) {
                (true, loaded) => deploy_model(loaded, lambda)?.forward(x),
                (false, Loaded::Training(m)) => m.forward(x, lambda),
                (false, Loaded::Deploy(m)) if lambda == 1.0 => m.forward(x),
                (false, Loaded::Deploy(_)) => {
                    return Err(Error::InvalidInput(format!(
                        "the checkpoint is already fused (deploy form): it has no lambda, so it cannot run at lambda {lambda}"
                    )));
                }
            };
            let (shape, data) = to_host(logits)?;
            let mut out = StateDict::default();
            out.insert("logits", shape, data);
            std::fs::write(&output, out.to_safetensors()?)?;
        }
        Command::Fuse { model, output } => {
            let device = device(cli.backend)?;
            let (config, loaded) = load(&model, &device)?;
            let deploy = deploy_model(loaded, 1.0)?;
            let mut sd = state_dict(&deploy)?;
            sd.metadata.insert("vanillanet_config".into(), serde_json::to_string(&config).unwrap_or_default());
            std::fs::write(&output, sd.to_safetensors()?)?;
            println!(
                "wrote {} ({} tensors, {} parameters)",
                output.display(),
                sd.tensors.len(),
                config.params_deploy()
            );
        }
        Command::Classify { model, size, labels, top, images } => {
            let device = device(cli.backend)?;
            let (config, loaded) = load(&model, &device)?;
            let deploy = deploy_model(loaded, 1.0)?;
            let names: Vec<String> = match labels {
                Some(path) => std::fs::read_to_string(&path)?.lines().map(String::from).collect(),
                None if config.num_classes == 1000 => imagenet::class_names().into_iter().map(String::from).collect(),
                None => (0..config.num_classes).map(|i| format!("class {i}")).collect(),
            };
            if names.len() != config.num_classes {
                return Err(Error::InvalidInput(format!("{} labels for {} classes", names.len(), config.num_classes)));
            }
            let pre = vanillanet::preprocess::Preprocess::imagenet(size, config.in_chans);
            config.feature_sizes(size, size)?;
            let mut failed = false;
            for path in &images {
                let x = match std::fs::read(path).map_err(Error::Io).and_then(|b| pre.input(&b)) {
                    Ok(x) => x,
                    Err(e) => {
                        eprintln!("{}: {e}", path.display());
                        failed = true;
                        continue;
                    }
                };
                let x = Tensor::<4>::from_data(TensorData::new(x, [1, config.in_chans, size, size]), &device);
                let (_, probs) = to_host(softmax(deploy.forward(x), 1))?;
                println!("{}", path.display());
                for i in vanillanet::trainer::top_k(&probs, top) {
                    println!("  {:6.2}%  {}", probs[i] * 100.0, names[i]);
                }
            }
            if failed {
                return Err(Error::InvalidInput("some images could not be read (see above)".into()));
            }
        }
        Command::ExportOnnx { model, size, output } => {
            let device = device(cli.backend)?;
            let sd = StateDict::read(&model.checkpoint)?;
            let classifier = if model.arch.given() || !sd.metadata.contains_key(vanillanet::classifier::CARD_KEY) {
                let (config, loaded) = load_from(&sd, &model.arch, &device)?;
                config.feature_sizes(size, size)?;
                let classes = (0..config.num_classes).map(|i| format!("class {i}")).collect();
                let name = model.arch.model.clone().unwrap_or_else(|| format!("VanillaNet {:?}", config.dims));
                let preprocess = vanillanet::preprocess::Preprocess::imagenet(size, config.in_chans);
                vanillanet::Classifier {
                    model: deploy_model(loaded, 1.0)?,
                    card: vanillanet::ModelCard::new(name, config, classes, preprocess),
                }
            } else {
                vanillanet::Classifier::from_checkpoint(&sd, None, None, &device)?
            };
            let bytes = pollster::block_on(vanillanet::onnx::export(&classifier))?;
            std::fs::write(&output, &bytes)?;
            println!("wrote {} ({} bytes, opset 13)", output.display(), bytes.len());
        }
        Command::Bench { models, batches, runs, warmup, train_preset, train_batch, train_steps, json } => {
            use vanillanet::bench;
            if runs == 0 || batches.contains(&0) {
                return Err(Error::InvalidInput("--runs and every batch size must be at least 1".into()));
            }
            let cases = models
                .iter()
                .map(|m| {
                    let (name, size) = m.split_once('@').unwrap_or((m, "224"));
                    let size = size
                        .parse::<usize>()
                        .map_err(|_| Error::InvalidInput(format!("'{m}': size after @ must be a number")))?;
                    Ok((name.to_string(), VanillaNetConfig::named(name)?, size))
                })
                .collect::<Result<Vec<_>>>()?;
            let device = device(cli.backend)?;
            let backend = match cli.backend {
                Backend::Cpu => "cpu (flex)",
                Backend::Gpu => "gpu (wgpu)",
            };
            println!("backend {backend}, {runs} timed runs after {warmup} warm-up, readback included");
            println!(
                "{:<22} {:>5} {:>8} {:>10} {:>10} {:>10}",
                "model", "batch", "form", "cold ms", "median ms", "p90 ms"
            );
            let mut latencies = Vec::new();
            for (name, config, size) in &cases {
                for &batch in &batches {
                    for fused in [false, true] {
                        let case = bench::Case { name, config, size: *size, batch, fused };
                        let l = pollster::block_on(bench::latency(case, runs, warmup, &device))?;
                        println!(
                            "{:<22} {:>5} {:>8} {:>10.2} {:>10.2} {:>10.2}",
                            format!("{name} {size}x{size}"),
                            batch,
                            if fused { "fused" } else { "unfused" },
                            l.cold_ms,
                            l.median_ms,
                            l.p90_ms
                        );
                        latencies.push(l);
                    }
                    let pair: Vec<_> = latencies.iter().rev().take(2).collect();
                    println!(
                        "{:<22} {:>5} {:>8} {:>10} {:>9.2}x",
                        "",
                        "",
                        "speed-up",
                        "",
                        pair[1].median_ms / pair[0].median_ms
                    );
                }
            }
            let data_size = if train_preset.ends_with("_28") {
                (1, 28)
            } else if train_preset.ends_with("_64") {
                (3, 64)
            } else {
                (3, 32)
            };
            let t = pollster::block_on(bench::training(
                &train_preset,
                data_size.0,
                data_size.1,
                train_batch,
                train_steps,
                &device,
            ))?;
            println!(
                "training {} batch {}: {:.0} images/s over {} steps",
                t.preset, t.batch, t.images_per_sec, t.steps
            );
            if let Some(path) = json {
                let out = serde_json::json!({ "backend": backend, "latency": latencies, "training": t });
                std::fs::write(&path, serde_json::to_string_pretty(&out).unwrap_or_default())?;
            }
        }
        Command::Init { arch, seed, output } => {
            let config = arch.config()?;
            let device = device(cli.backend)?;
            device.seed(seed);
            let sd = state_dict(&config.init(&device))?;
            std::fs::write(&output, sd.to_safetensors()?)?;
            println!("wrote {} ({} tensors, {} parameters)", output.display(), sd.tensors.len(), config.params_train());
        }
        Command::Info { arch, size } => {
            let config = arch.config()?;
            let sizes = config.feature_sizes(size, size)?;
            println!(
                "dims {:?} strides {:?} act_num {} in_chans {} classes {}",
                config.dims, config.strides, config.act_num, config.in_chans, config.num_classes
            );
            println!(
                "feature maps at {size}x{size}: {}",
                sizes.iter().map(|(h, w)| format!("{h}x{w}")).collect::<Vec<_>>().join(" -> ")
            );
            println!(
                "training form: {:>13} params {:>16} MACs",
                config.params_train(),
                config.macs(size, size, false)?
            );
            println!(
                "deploy form:   {:>13} params {:>16} MACs",
                config.params_deploy(),
                config.macs(size, size, true)?
            );
        }
        Command::Train {
            data,
            preset,
            act_num,
            epochs,
            decay_epochs,
            schedule,
            per_epoch,
            optimizer,
            lr,
            weight_decay,
            batch_size,
            seed,
            output,
        } => {
            use vanillanet::dataset::Dataset;
            use vanillanet::trainer::{OptimizerKind, TrainOptions, Trainer};
            let bytes = std::fs::read(&data).map_err(|e| Error::InvalidInput(format!("{}: {e}", data.display())))?;
            let name = data.file_stem().map_or("data".into(), |s| s.to_string_lossy().to_string());
            let dataset = Dataset::from_bytes(name, &bytes)?;
            let options = TrainOptions {
                preset,
                act_num,
                decay_epochs,
                schedule: match schedule {
                    ScheduleArg::Cosine => vanillanet::LambdaShape::Cosine,
                    ScheduleArg::Linear => vanillanet::LambdaShape::Linear,
                },
                per_step: !per_epoch,
                optimizer: match optimizer {
                    OptimizerArg::Adamw => OptimizerKind::AdamW,
                    OptimizerArg::Sgd => OptimizerKind::Sgd,
                },
                learning_rate: lr,
                weight_decay,
                batch_size,
                epochs,
                seed,
                ..Default::default()
            };
            let device = device(cli.backend)?;
            let mut trainer = Trainer::new(&device, dataset, options)?;
            let c = trainer.config();
            println!(
                "{}: dims {:?} strides {:?}, {} parameters ({} fused); {} steps per epoch",
                trainer.data().name,
                c.dims,
                c.strides,
                c.params_train(),
                c.params_deploy(),
                trainer.steps_per_epoch()
            );
            while !trainer.finished() {
                let (start, epoch) = (std::time::Instant::now(), trainer.epoch());
                let (mut loss, mut correct, mut seen, mut lambda) = (0.0, 0.0, 0, 0.0);
                while trainer.epoch() == epoch {
                    let r = pollster::block_on(trainer.step())?;
                    loss += r.loss as f64 * r.batch_size as f64;
                    correct += r.batch_accuracy as f64 * r.batch_size as f64;
                    seen += r.batch_size;
                    lambda = r.lambda;
                }
                let secs = start.elapsed().as_secs_f64();
                let test = pollster::block_on(trainer.evaluate(None))?;
                println!(
                    "epoch {:>3}  lambda {lambda:.3}  loss {:.4}  train {:.2}%  test {}  {:.0} images/s",
                    epoch + 1,
                    loss / seen as f64,
                    100.0 * correct / seen as f64,
                    test.map_or("-".into(), |a| format!("{:.2}%", 100.0 * a)),
                    seen as f64 / secs
                );
            }
            if let Some(output) = output {
                let deploy = trainer.model().fuse(trainer.lambda())?;
                let mut sd = state_dict(&deploy)?;
                sd.metadata
                    .insert("vanillanet_config".into(), serde_json::to_string(trainer.config()).unwrap_or_default());
                std::fs::write(&output, sd.to_safetensors()?)?;
                println!("wrote the fused model to {}", output.display());
            }
        }
        Command::Ablate {
            dataset,
            study,
            epochs,
            decay_epochs,
            seeds,
            seed,
            preset,
            batch_size,
            lr,
            train_images,
            test_images,
            image_size,
            channels,
            json,
        } => {
            use vanillanet::ablation::{Study, StudyOptions, StudyRun};
            use vanillanet::trainer::TrainOptions;
            let data = load_dataset(&dataset, image_size, channels)?;
            let study = match study {
                StudyArg::ActNum => Study::ActNum,
                StudyArg::DeepTraining => Study::DeepTraining,
                StudyArg::Shortcut => Study::Shortcut,
            };
            let options = StudyOptions {
                study,
                seeds,
                train: TrainOptions {
                    preset,
                    epochs,
                    decay_epochs,
                    batch_size,
                    learning_rate: lr,
                    seed,
                    ..Default::default()
                },
                train_images,
                test_images,
            };
            let device = device(cli.backend)?;
            let mut run = StudyRun::new(&device, data, options)?;
            let report = run.report()?;
            println!(
                "study {}: {} arms x {seeds} seeds on {} ({} train / {} test images), {} steps each ({epochs} epochs, batch {batch_size}, lambda annealed over {decay_epochs})",
                study.name(),
                report.arms.len(),
                report.dataset,
                report.train_images,
                report.test_images,
                report.steps_per_run
            );
            while !run.finished() {
                let progress = pollster::block_on(run.step())?;
                if let Some(r) = progress.finished {
                    println!(
                        "run {:>2}/{}  {:<28} seed {}  test {:.2}%  (fused; max logit diff {:.1e})  loss {:.4}  {:.1} s",
                        progress.run + 1,
                        progress.runs,
                        report.arms[r.arm].name,
                        r.seed,
                        100.0 * r.accuracy,
                        r.max_logit_diff,
                        r.final_loss,
                        r.train_seconds
                    );
                }
            }
            let report = run.report()?;
            println!("\n{}\npaper: {}", report.markdown(), report.claim);
            if let Some(path) = json {
                let text = serde_json::to_string_pretty(&report).map_err(|e| Error::Format(e.to_string()))?;
                std::fs::write(&path, text)?;
                println!("wrote {}", path.display());
            }
        }
        Command::Models => {
            for m in NAMED_MODELS {
                let c = (m.config)();
                println!("{:<28} {:<55} dims {:?} strides {:?}", m.name, m.description, c.dims, c.strides);
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            let _ = e.print(); // --help, --version
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // clap's message, on one line: the reason without the usage block after it.
            let text = e.render().to_string();
            let reason: Vec<&str> = text
                .lines()
                .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            eprintln!("{} (see --help)", reason.join(" "));
            return ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
