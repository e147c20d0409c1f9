// A checkpoint arrives in chunks straight into wasm memory, with progress, so a file of hundreds
// of MB needs no second copy and the page stays responsive.

/**
 * `file` streamed into a new `Upload` (the wasm side's buffer), progress posted as it goes.
 * @param {typeof import("../pkg/vanillanet.js").Upload} Upload
 * @param {File} file
 * @param {(message: object) => void} post
 */
export async function upload(Upload, file, post) {
  const upload = new Upload(file.size);
  const reader = file.stream().getReader();
  let loaded = 0;
  let last = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    upload.push(value);
    loaded += value.length;
    if (performance.now() - last > 100) {
      last = performance.now();
      post({ type: "checkpointProgress", name: file.name, loaded, total: file.size, phase: "reading" });
    }
  }
  post({ type: "checkpointProgress", name: file.name, loaded, total: file.size, phase: "parsing" });
  return upload;
}
