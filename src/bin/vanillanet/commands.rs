//! What each command does. Every model file goes through the library's one loader and comes
//! out with its card, so the CLI and the page agree on a model file.

use std::path::Path;

use burn::tensor::{Device, Tensor, TensorData};
use vanillanet::classify::Classifier;
use vanillanet::data::dataset::Dataset;
use vanillanet::io::card::{Form, ModelCard};
use vanillanet::io::detect::detect;
use vanillanet::io::names::check_shapes;
use vanillanet::train::trainer::Trainer;
use vanillanet::{
    Error, NAMED_MODELS, Result, StateDict, VanillaNet, VanillaNetConfig, VanillaNetDeploy, load_state, state_dict,
};

use crate::args::{ArchArgs, Backend, Cli, Command, DataArgs, ModelArgs};

/// A checkpoint's model in the form asked for.
enum Loaded {
    Training(VanillaNet),
    Deploy(VanillaNetDeploy),
}

/// The card of a checkpoint: the flags' architecture (with the file's classes and
/// preprocessing when its card is of that net), else the file's own card, else one made from
/// its tensors when they settle the architecture.
fn card_of(sd: &StateDict, arch: &ArchArgs) -> Result<ModelCard> {
    let carried = ModelCard::read(sd)?;
    if arch.given() {
        let config = arch.config()?;
        return Ok(match carried {
            Some(card) if card.architecture == config => card,
            _ => {
                let name = arch.model.clone().unwrap_or_else(|| format!("VanillaNet {:?}", config.dims));
                ModelCard::official(name, config, sd.form()?.into())
            }
        });
    }
    if let Some(card) = carried {
        return Ok(card);
    }
    let detected = detect(sd)?;
    if detected.ambiguous() {
        return Err(Error::InvalidConfig(format!(
            "the tensors fit several models ({}): give --model",
            detected.candidates.join(", ")
        )));
    }
    ModelCard::of_checkpoint(sd, None, None).map_err(|e| match e {
        Error::InvalidConfig(m) => Error::InvalidConfig(format!("{m} (--dims and --strides)")),
        e => e,
    })
}

fn load(args: &ModelArgs, device: &Device) -> Result<(ModelCard, Loaded)> {
    let sd = StateDict::read(&args.checkpoint)?;
    let card = card_of(&sd, &args.arch)?;
    let config = &card.architecture;
    check_shapes(config, &sd)?;
    let model = match sd.form()? {
        Form::Training => Loaded::Training(load_state(config.init(device), &sd, device)?),
        Form::Deploy => Loaded::Deploy(load_state(config.init_deploy(device), &sd, device)?),
    };
    Ok((card, model))
}

/// The checkpoint as a classifier, its input side set to `size` when given.
fn classifier(args: &ModelArgs, size: Option<usize>, device: &Device) -> Result<Classifier> {
    let (mut card, loaded) = load(args, device)?;
    if let Some(size) = size {
        card.preprocess.height = size;
        card.preprocess.width = size;
        card.validate()?;
    }
    card.form = Form::Deploy;
    Ok(Classifier { card, model: deploy_model(loaded, 1.0)? })
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
        #[cfg(feature = "webgpu")]
        Backend::Gpu => Device::wgpu_options()
            .init()
            .map_err(|e| Error::InvalidInput(format!("--backend gpu: no usable GPU adapter ({e}); use --backend cpu"))),
        #[cfg(not(feature = "webgpu"))]
        Backend::Gpu => Err(Error::InvalidInput(
            "--backend gpu: this build has no wgpu backend (built without the `webgpu` feature); use --backend cpu"
                .into(),
        )),
    }
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`: an output
/// that is also the input (`--output` = `--checkpoint`) or a failure halfway never leaves a
/// half-written file. Errors name the path.
fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let named = |e: std::io::Error| Error::write(path.display(), e);
    let name = path.file_name().ok_or_else(|| Error::InvalidInput(format!("{} is not a file name", path.display())))?;
    let tmp = path.with_file_name(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    std::fs::write(&tmp, bytes).map_err(named)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        named(e)
    })
}

/// Writes a state dict with its card.
fn write_model(path: &Path, mut sd: StateDict, card: &ModelCard) -> Result<()> {
    card.attach(&mut sd)?;
    write_file(path, &sd.to_safetensors()?)
}

/// A built-in set by name, a `.vnds` file, or a folder of class folders of images: what every
/// command's `--data` takes.
pub fn load_dataset(args: &DataArgs) -> Result<Dataset> {
    let spec = args.data.as_str();
    let path = Path::new(spec);
    if path.is_dir() {
        let (size, channels) = (args.folder.image_size, args.folder.channels);
        let (data, skipped) = vanillanet::data::folder::dataset_from_folder(path, size, channels)?;
        for s in &skipped {
            eprintln!("skipped {s}");
        }
        return Ok(data);
    }
    let file = if path.is_file() {
        path.to_path_buf()
    } else if ["fashion-mnist", "mnist"].contains(&spec) {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("www/data").join(format!("{spec}.vnds"))
    } else {
        return Err(Error::InvalidInput(format!("--data {spec}: not fashion-mnist, mnist, a .vnds file nor a folder")));
    };
    let bytes = std::fs::read(&file).map_err(|e| {
        Error::InvalidInput(format!(
            "{}: {e} (the built-in sets are made by `node scripts/build-data.mjs` after `npm ci`)",
            file.display()
        ))
    })?;
    let name = path.file_stem().map_or(spec.into(), |s| s.to_string_lossy().to_string());
    Dataset::from_bytes(name, &bytes)
}

/// Sizes the pool the CPU backend's kernels run on (rayon's global pool, used by burn-flex and
/// gemm); once, before any tensor work. Returns the number of threads.
fn thread_pool(threads: Option<u16>) -> Result<usize> {
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        pool = pool.num_threads(n.into());
    }
    pool.build_global().map_err(|e| Error::InvalidInput(format!("--threads: cannot start the thread pool ({e})")))?;
    Ok(rayon::current_num_threads())
}

pub fn run(cli: Cli) -> Result<()> {
    let threads = thread_pool(cli.threads)?;
    match cli.command {
        Command::Logits { model, lambda, fused, input, output } => {
            if !(0.0..=1.0).contains(&lambda) {
                return Err(Error::InvalidInput(format!("--lambda must be within [0, 1], got {lambda}")));
            }
            if fused && lambda != 1.0 {
                return Err(Error::FuseLambda { lambda });
            }
            let device = device(cli.backend)?;
            let (card, loaded) = load(&model, &device)?;
            let x = read_input(&input, &card.architecture, &device)?;
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
            write_file(&output, &out.to_safetensors()?)?;
        }
        Command::Fuse { model, output } => {
            let device = device(cli.backend)?;
            let c = classifier(&model, None, &device)?;
            let sd = state_dict(&c.model)?;
            let tensors = sd.tensors.len();
            write_model(&output, sd, &c.card)?;
            println!(
                "wrote {} ({tensors} tensors, {} parameters)",
                output.display(),
                c.card.architecture.params_deploy()
            );
        }
        Command::Classify { model, size, labels, top, images } => {
            let device = device(cli.backend)?;
            let mut c = classifier(&model, size, &device)?;
            if let Some(path) = labels {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| Error::InvalidInput(format!("{}: {e}", path.display())))?;
                c.card.classes = text.lines().map(String::from).collect();
                if c.card.classes.len() != c.card.architecture.num_classes {
                    return Err(Error::InvalidInput(format!(
                        "{}: {} labels for {} classes",
                        path.display(),
                        c.card.classes.len(),
                        c.card.architecture.num_classes
                    )));
                }
            }
            let mut failed = false;
            for path in &images {
                let result = std::fs::read(path)
                    .map_err(Error::Io)
                    .and_then(|b| pollster::block_on(c.classify(&b, top, &device)));
                match result {
                    Ok(r) => {
                        println!("{}", path.display());
                        for p in r.top {
                            println!("  {:6.2}%  {}", p.probability * 100.0, p.label);
                        }
                    }
                    Err(e) => {
                        eprintln!("{}: {e}", path.display());
                        failed = true;
                    }
                }
            }
            if failed {
                return Err(Error::InvalidInput("some images could not be read (see above)".into()));
            }
        }
        Command::ExportOnnx { model, size, output } => {
            let device = device(cli.backend)?;
            let bytes = pollster::block_on(classifier(&model, size, &device)?.to_onnx())?;
            write_file(&output, &bytes)?;
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
            println!(
                "backend {backend}, {threads} CPU thread{}, {runs} timed runs after {warmup} warm-up, readback included",
                if threads == 1 { "" } else { "s" }
            );
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
                let out =
                    serde_json::json!({ "backend": backend, "threads": threads, "latency": latencies, "training": t });
                write_file(&path, serde_json::to_string_pretty(&out).unwrap_or_default().as_bytes())?;
            }
        }
        Command::Init { arch, size, seed, output } => {
            let config = arch.config()?;
            config.feature_sizes(size, size)?;
            let device = device(cli.backend)?;
            device.seed(seed);
            let mut sd = state_dict(&config.init(&device))?;
            sd.add_batch_counts(0);
            let (tensors, params) = (sd.tensors.len(), config.params_train());
            let name = arch.model.clone().unwrap_or_else(|| format!("VanillaNet {:?}", config.dims));
            let mut card = ModelCard::official(name, config, Form::Training);
            card.preprocess = vanillanet::data::preprocess::Preprocess::imagenet(size, card.architecture.in_chans);
            write_model(&output, sd, &card)?;
            println!("wrote {} ({tensors} tensors, {params} parameters)", output.display());
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
        Command::Train { data, options, output, output_training, probe_every } => {
            let dataset = load_dataset(&data)?;
            let device = device(cli.backend)?;
            let mut trainer = Trainer::new(&device, dataset, options)?;
            trainer.set_probe_every(probe_every)?;
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
                if let Some(p) = trainer.decay().at_or_before(trainer.global_step()) {
                    println!("           inside (step {}): {}", p.step, p.line());
                }
            }
            if let Some(output) = output {
                let deploy = trainer.model().fuse(trainer.lambda())?;
                write_model(&output, state_dict(&deploy)?, &trainer.card(Form::Deploy))?;
                println!("wrote the fused model to {}", output.display());
            }
            if let Some(output) = output_training {
                write_file(&output, &pollster::block_on(trainer.export_training())?)?;
                println!("wrote the training form to {}", output.display());
            }
        }
        Command::Ablate { data, options, json } => {
            use vanillanet::train::study::StudyRun;
            let data = load_dataset(&data)?;
            let (study, seeds, t) = (options.study, options.seeds, &options.train);
            let (epochs, batch_size, decay_epochs) = (t.epochs, t.batch_size, t.decay_epochs);
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
                let text = serde_json::to_string_pretty(&report).map_err(|e| Error::encode("JSON", e))?;
                write_file(&path, text.as_bytes())?;
                println!("wrote {}", path.display());
            }
        }
        Command::Inspect(args) => {
            let device = device(cli.backend)?;
            let (card, loaded) = load(&args.model, &device)?;
            let (trained, deploy) = match loaded {
                Loaded::Training(m) => (Some(m), None),
                Loaded::Deploy(m) => (None, Some(m)),
            };
            if let Some(json) = crate::inspect::run(&card, trained, deploy, &args, &device)? {
                let path = args.json.as_ref().expect("JSON only when asked");
                write_file(path, json.as_bytes())?;
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
