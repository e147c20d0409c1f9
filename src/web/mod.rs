//! The browser API (wasm32): a shim over [`crate::session::Session`] that converts JavaScript
//! values to Rust and back, and nothing else. Every answer is a plain JS object of the
//! TypeScript type its Rust type declares (tsify, into `pkg/vanillanet.d.ts`, which the worker
//! is checked against: a field renamed in Rust fails the page's type check); strings the page
//! sends (a backend, which net to evaluate, which weights) become the session's enums here,
//! once. Methods that await borrow the session for their whole run, so wasm-bindgen refuses a
//! second call while one is in flight; the worker makes them one at a time.

mod bench;
mod classifier;
mod data;
mod inside;
mod study;
mod training;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tsify::{Ts, Tsify};
use wasm_bindgen::prelude::*;

use crate::session::{BackendChoice, BackendRequest, Session as Core, Status};

/// An answer, as a plain JS object of the TypeScript type its Rust type declares.
fn js<T: Serialize + Tsify>(value: &T) -> Result<Ts<T>, JsError> {
    Ok(Ts::new_unchecked(plain(value)?))
}

/// An answer whose type the method declares itself (`unchecked_return_type`): a list, or one
/// that may be null.
fn plain<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsError> {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsError::new(&e.to_string()))
}

fn err(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// A JS value as the Rust type it stands for (undefined and null are `None` for an `Option`).
fn from_js<T: DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsError> {
    serde_wasm_bindgen::from_value(value).map_err(|e| err(format!("bad {what}: {e}")))
}

/// Starts the pool of `n` Web Workers the CPU backend's kernels run on (the threaded build).
#[cfg(feature = "threads")]
pub use wasm_bindgen_rayon::init_thread_pool;

/// What this build is.
#[derive(Serialize, Tsify)]
#[tsify(missing_as_null, hashmap_as_object)]
pub struct Build {
    pub webgpu: bool,
    /// The size of the CPU pool (1 without one).
    pub threads: usize,
}

#[wasm_bindgen]
pub fn build() -> Result<Ts<Build>, JsError> {
    #[cfg(feature = "threads")]
    let threads = rayon::current_num_threads();
    #[cfg(not(feature = "threads"))]
    let threads = 1;
    js(&Build { webgpu: cfg!(feature = "webgpu"), threads })
}

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// Largest checkpoint taken: wasm32 memory is 4 GB and reading needs about twice the file.
const MAX_CHECKPOINT_BYTES: usize = 1536 * 1024 * 1024;

/// A checkpoint file arriving in chunks (so a large file needs no second copy in JavaScript),
/// then handed to `Session.loadCheckpoint`.
#[wasm_bindgen]
pub struct Upload {
    bytes: Vec<u8>,
}

#[wasm_bindgen]
impl Upload {
    /// Room for a file of `size` bytes, or the reason there is none.
    #[wasm_bindgen(constructor)]
    pub fn new(size: usize) -> Result<Upload, JsError> {
        if size == 0 {
            return Err(err("the file is empty (0 bytes)"));
        }
        if size > MAX_CHECKPOINT_BYTES {
            return Err(err(format!(
                "the file is {} MB; the browser can read checkpoints up to {} MB",
                size / 1_000_000,
                MAX_CHECKPOINT_BYTES / 1_000_000
            )));
        }
        let mut bytes = Vec::new();
        bytes
            .try_reserve_exact(size)
            .map_err(|_| err(format!("not enough memory for a {} MB file", size / 1_000_000)))?;
        Ok(Upload { bytes })
    }

    pub fn push(&mut self, chunk: &[u8]) -> Result<(), JsError> {
        if self.bytes.len() + chunk.len() > self.bytes.capacity() {
            return Err(err("more bytes than announced"));
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }
}

impl Upload {
    fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

#[wasm_bindgen]
pub struct Session {
    inner: Core,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

#[wasm_bindgen]
impl Session {
    /// A session on the CPU backend, with nothing loaded.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Session {
        Session { inner: Core::new() }
    }

    /// Every event of the session (`{type, ...}`) is given to `post` as it happens.
    #[wasm_bindgen(js_name = setEventSink)]
    pub fn set_event_sink(&mut self, post: js_sys::Function) {
        self.inner.set_sink(move |event| {
            if let Ok(value) = plain(&event) {
                let _ = post.call1(&JsValue::NULL, &value);
            }
        });
    }

    /// Picks the backend ("webgpu", "cpu" or "auto": WebGPU when the browser has an adapter).
    /// The trainer, the classifier and a study move to the new device; if one can't, nothing
    /// moves.
    #[wasm_bindgen(js_name = setBackend)]
    pub async fn set_backend(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "BackendRequest")] kind: JsValue,
    ) -> Result<Ts<BackendChoice>, JsError> {
        let request: BackendRequest = from_js(kind, "backend")?;
        js(&self.inner.set_backend(request).await.map_err(err)?)
    }

    /// What the session holds, and where its jobs stand.
    pub fn status(&self) -> Result<Ts<Status>, JsError> {
        js(&self.inner.status())
    }

    /// Drops the model (the dataset stays).
    pub fn reset(&mut self) {
        self.inner.reset();
    }

    /// Panics on purpose, in an awaited call like any other (for the page's crash recovery).
    #[wasm_bindgen(js_name = debugPanic)]
    pub async fn debug_panic(&mut self) -> Result<(), JsError> {
        panic!("a panic on purpose (debug.panic())");
    }
}
