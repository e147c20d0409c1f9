//! The CLI's commands: `run` hands each to its function (by concern: `checkpoint.rs`,
//! `training.rs`, `measure.rs`); the helpers they share: the device, the CPU thread pool,
//! writing files whole, and datasets as every command's `--data` takes them.

use std::path::Path;

use burn::tensor::Device;
use vanillanet::data::dataset::Dataset;
use vanillanet::{Error, ModelCard, Result, StateDict};

use crate::args::{Backend, Cli, Command, DataArgs};
use crate::{checkpoint, measure, training};

pub fn device(backend: Backend) -> Result<Device> {
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
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
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
pub fn write_model(path: &Path, mut sd: StateDict, card: &ModelCard) -> Result<()> {
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

/// Runs one command: each is one function, by concern (`checkpoint.rs`, `training.rs`,
/// `measure.rs`).
pub fn run(cli: Cli) -> Result<()> {
    let threads = thread_pool(cli.threads)?;
    match cli.command {
        Command::Logits(args) => checkpoint::logits(args, cli.backend),
        Command::Fuse(args) => checkpoint::fuse(args, cli.backend),
        Command::Classify(args) => checkpoint::classify(args, cli.backend),
        Command::ExportOnnx(args) => checkpoint::export_onnx(args, cli.backend),
        Command::Bench(args) => measure::bench(args, cli.backend, threads),
        Command::Init(args) => checkpoint::init(args, cli.backend),
        Command::Info(args) => checkpoint::info(args),
        Command::Train(args) => training::train(args, cli.backend),
        Command::Ablate(args) => training::ablate(args, cli.backend),
        Command::Inspect(args) => checkpoint::inspect(args, cli.backend),
        Command::Models => checkpoint::models(),
    }
}
