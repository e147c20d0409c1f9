//! Where the session computes: the two backends, the one asked for (`auto`: WebGPU when the
//! browser has an adapter), and opening WebGPU, which only the browser build can.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// burn's pure-Rust CPU backend (flex).
    Cpu,
    Webgpu,
}

/// The backend a caller asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "lowercase")]
pub enum BackendRequest {
    Cpu,
    Webgpu,
    /// WebGPU when there is an adapter, else the CPU (with the reason).
    Auto,
}

/// The backend picked, and why it is not the one asked for (`auto` without WebGPU).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct BackendChoice {
    pub backend: Backend,
    pub fallback_reason: Option<String>,
}

/// A WebGPU device: the browser's adapter, initialised before the first tensor op.
#[cfg(all(target_arch = "wasm32", feature = "webgpu"))]
pub async fn open_webgpu() -> Result<Device, String> {
    Device::wgpu_options().init_async().await.map_err(|e| e.to_string())
}

#[cfg(all(target_arch = "wasm32", not(feature = "webgpu")))]
pub async fn open_webgpu() -> Result<Device, String> {
    Err("this is the multi-threaded CPU build, which has no WebGPU".into())
}

/// Natively the session is the page's core under test, on the CPU: it has no browser adapter.
#[cfg(not(target_arch = "wasm32"))]
pub async fn open_webgpu() -> Result<Device, String> {
    Err("WebGPU is the browser's; this native session computes on the CPU".into())
}
