//! What every command runs in, reads and writes through: the backend's device, the CPU thread
//! pool, files read within a bound and files written whole. A leaf: it uses the flags' types
//! (`args/`) and nothing else of the CLI, so any command can use it and it uses none.

use std::path::Path;

use burn::tensor::Device;
use serde::Serialize;
use vanillanet::{Error, ModelCard, Result, StateDict};

use crate::args::Backend;

/// The backend the flags chose and the threads the CPU pool was started with. Built once by
/// `main` before any tensor work; the device is made when a command asks for it, so commands
/// that compute nothing (`info`, `models`) never fail for want of a GPU.
pub struct Context {
    backend: Backend,
    pub threads: usize,
}

impl Context {
    /// Starts the CPU thread pool (`threads`, else one per core) for `backend`.
    pub fn new(backend: Backend, threads: Option<u16>) -> Result<Self> {
        Ok(Self { backend, threads: thread_pool(threads)? })
    }

    pub fn device(&self) -> Result<Device> {
        match self.backend {
            Backend::Cpu => Ok(Device::flex()),
            #[cfg(feature = "webgpu")]
            Backend::Gpu => Device::wgpu_options().init().map_err(|e| {
                Error::InvalidInput(format!("--backend gpu: no usable GPU adapter ({e}); use --backend cpu"))
            }),
            #[cfg(not(feature = "webgpu"))]
            Backend::Gpu => Err(Error::InvalidInput(
                "--backend gpu: this build has no wgpu backend (built without the `webgpu` feature); use --backend cpu"
                    .into(),
            )),
        }
    }

    /// The backend as `bench` reports it.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Cpu => "cpu (flex)",
            Backend::Gpu => "gpu (wgpu)",
        }
    }
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

/// A file read whole, refused when it is larger than `most` bytes (the library's limits): its
/// size is checked first, and the read stops past `most` all the same, for what has no size
/// (`/dev/zero`, a pipe) or grows meanwhile. The error says why; the caller names the path.
pub fn read_bounded(path: &Path, most: u64, what: &str) -> std::result::Result<Vec<u8>, String> {
    use std::io::Read;
    let named = |e: std::io::Error| e.to_string();
    let too_large = || format!("larger than {} MB, the most {what} may be", most / 1_000_000);
    let file = std::fs::File::open(path).map_err(named)?;
    if file.metadata().map_err(named)?.len() > most {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(most + 1).read_to_end(&mut bytes).map_err(named)?;
    if bytes.len() as u64 > most {
        return Err(too_large());
    }
    Ok(bytes)
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

/// Writes a state dict with its card: the model files `fuse`, `init` and `train` make.
pub fn write_model(path: &Path, mut sd: StateDict, card: &ModelCard) -> Result<()> {
    card.attach(&mut sd)?;
    write_file(path, &sd.to_safetensors()?)
}

/// Writes a report as indented JSON (`bench --json`, `ablate --json`: read by people and by
/// the scripts that make the results tables).
pub fn write_json(path: &Path, report: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(report).map_err(|e| Error::encode("JSON", e))?;
    write_file(path, text.as_bytes())
}
