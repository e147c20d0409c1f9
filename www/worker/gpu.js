// The GPU seen from the worker: every device burn opens, so that a lost one is told to the page
// (its `lost` promise settles) and, for testing recovery, one can be destroyed on purpose; and
// what the GPU is asked to do, counted for the bench page.
const gpuDevices = [];
if (self.GPUAdapter) {
  const requestDevice = GPUAdapter.prototype.requestDevice;
  GPUAdapter.prototype.requestDevice = async function (...args) {
    const device = await requestDevice.apply(this, args);
    gpuDevices.push(device);
    device.lost.then((info) => self.postMessage({ type: "deviceLost", reason: info.reason, message: info.message }));
    return device;
  };
}

// What the GPU is asked to do, counted for the bench page: compute dispatches, queue submits,
// buffers mapped for reading (host round trips) and pipelines made (shader compilations).
const counts = { dispatches: 0, submits: 0, readbacks: 0, pipelines: 0 };
if (self.GPUComputePassEncoder) {
  const count = (proto, name, key) => {
    const original = proto[name];
    proto[name] = function (...args) {
      counts[key]++;
      return original.apply(this, args);
    };
  };
  count(GPUComputePassEncoder.prototype, "dispatchWorkgroups", "dispatches");
  count(GPUQueue.prototype, "submit", "submits");
  count(GPUBuffer.prototype, "mapAsync", "readbacks");
  count(GPUDevice.prototype, "createComputePipeline", "pipelines");
  count(GPUDevice.prototype, "createComputePipelineAsync", "pipelines");
}

/** The GPU work counted since the last call (zeros on the CPU backend). */
export function gpuCounts() {
  const now = { ...counts };
  for (const k of Object.keys(counts)) counts[k] = 0;
  return now;
}

/** Destroys every GPU device, as a driver reset would: answers how many there were. */
export function loseDevices() {
  for (const d of gpuDevices) d.destroy();
  return gpuDevices.length;
}

/** The WebGPU adapter the browser gives, described for the page (null without one). */
export async function adapterInfo() {
  if (!("gpu" in navigator)) return null;
  try {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return null;
    // isFallbackAdapter: on the adapter in older browsers, on its info in newer ones.
    /** @type {Partial<GPUAdapterInfo> & {isFallbackAdapter?: boolean}} */
    const info = adapter.info ?? {};
    return {
      vendor: info.vendor || "(unknown)",
      architecture: info.architecture || "(unknown)",
      description: info.description || "",
      isFallback: Boolean(info.isFallbackAdapter ?? /** @type {any} */ (adapter).isFallbackAdapter),
    };
  } catch {
    return null;
  }
}
