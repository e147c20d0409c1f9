// The page: one app state, views that subscribe to it, and window.vanillanet — the scripting
// API that the buttons use too. All model work happens in the worker (worker.js, over wasm).

import * as store from "./store.js";

// ---- worker calls -------------------------------------------------------------------------
// One worker at a time; a new one replaces it after a lost GPU device.
let worker = null;
let nextId = 0;
const pending = new Map();
function call(type, payload = {}) {
  return new Promise((resolve, reject) => {
    const id = ++nextId;
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, type, ...payload });
  });
}
function startWorker() {
  worker?.terminate();
  for (const p of pending.values()) p.reject(new Error("the worker was restarted"));
  pending.clear();
  worker = new Worker("worker.js", { type: "module" });
  worker.onmessage = onWorkerMessage;
  worker.onerror = (e) => message(`worker failed: ${e.message}`);
}

// ---- the app state --------------------------------------------------------------------------
const state = {
  backend: null, adapter: null, fallbackReason: null, webgpuAvailable: "gpu" in navigator,
  dataset: null, datasetName: null, samples: null,
  model: null, options: null, trainState: "idle",
  step: 0, epoch: 0, stepsPerEpoch: 0, totalSteps: 0, lambda: null, nextLambda: null,
  loss: null, trainAccuracy: null, testAccuracy: null, imagesPerSec: null, etaSeconds: null,
  history: { steps: [], loss: [], trainAccuracy: [], lambda: [] },
  evals: new Map(),
  schedule: null, probe: null, messages: [], fuseReport: null, predictions: [],
  classifier: null, checkpoint: null, checkpointLog: [],
  own: { size: "32x3", classes: [{ name: "class A", items: [] }, { name: "class B", items: [] }] },
  // The ablation study: its options and report (finished runs, summary per arm), the loss
  // curve of every run, and whether the worker holds it (`live`) or it was restored from disk.
  studies: [], study: null,
};
const listeners = [];
function update(patch) {
  Object.assign(state, patch);
  for (const f of listeners) f(state);
}
const subscribe = (f) => listeners.push(f);

function message(text, kind = "error") {
  update({ messages: [...state.messages.slice(-4), { text, kind, at: Date.now() }] });
}

function onWorkerMessage({ data: m }) {
  switch (m.type) {
    case "reply": {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(m.error));
      break;
    }
    case "backend":
      if ($("backend-select").value !== "auto" || m.fallbackReason) $("backend-select").value = m.backend;
      update({ backend: m.backend, adapter: m.adapter, fallbackReason: m.fallbackReason, webgpuAvailable: m.webgpuAvailable });
      if (m.fallbackReason) message(m.fallbackReason, "info");
      break;
    case "dataset":
      update({ dataset: m.summary, samples: m.samples });
      refreshSchedule();
      break;
    case "model":
      if (m.restored) setForm(m.options);
      update({ model: m.info, options: m.options, stepsPerEpoch: m.info.stepsPerEpoch, totalSteps: m.info.totalSteps });
      refreshSchedule();
      break;
    case "checkpointProgress":
      update({ checkpoint: { ...state.checkpoint, ...m } });
      break;
    case "deviceLost":
      recoverFromDeviceLoss(m);
      break;
    case "options":
      setForm(m.options);
      update({ options: m.options, totalSteps: m.totalSteps });
      refreshSchedule();
      break;
    case "reset":
      if (!restoring) {
        store.remove("training").catch((e) => message(e.message));
        if (state.classifier?.fromTrainer) forgetClassifier();
      }
      update({
        fuseReport: null,
        model: null, options: null, step: 0, epoch: 0, lambda: null, loss: null, trainAccuracy: null,
        testAccuracy: null, imagesPerSec: null, etaSeconds: null, probe: null,
        history: { steps: [], loss: [], trainAccuracy: [], lambda: [] }, evals: new Map(),
      });
      refreshSchedule();
      break;
    case "state":
      update({ trainState: m.state });
      if (m.state === "paused" || m.state === "finished") saveTraining();
      break;
    case "step": {
      // The step changed the weights: a classifier fused from them is gone (in wasm too).
      if (state.fuseReport) update({ fuseReport: null });
      if (state.classifier?.fromTrainer) forgetClassifier();
      if (Date.now() - lastSave > SAVE_EVERY_MS || m.report.epochEnd) saveTraining();
      const r = m.report;
      const h = state.history;
      h.steps.push(r.globalStep); h.loss.push(r.loss); h.trainAccuracy.push(m.trainAccuracy); h.lambda.push(r.lambda);
      const left = m.next.totalSteps - r.globalStep;
      update({
        step: r.globalStep, epoch: r.epoch, stepsPerEpoch: r.stepsPerEpoch, totalSteps: m.next.totalSteps,
        lambda: r.lambda, nextLambda: m.next.lambda, loss: r.loss, trainAccuracy: m.trainAccuracy,
        imagesPerSec: m.imagesPerSec, etaSeconds: (left * m.ms) / 1000,
      });
      break;
    }
    case "eval":
      if (m.testAccuracy !== null) state.evals.set(m.step, m.testAccuracy);
      update({ testAccuracy: m.testAccuracy });
      break;
    case "annealed":
      message("lambda reached 1: fusing", "info");
      api.fuse().catch((e) => message(e.message));
      break;
    case "probe":
      update({ probe: m });
      break;
    case "studyState":
      if (state.study) {
        update({ study: { ...state.study, state: m.state, live: m.state !== "idle" } });
        if (m.state === "paused" || m.state === "finished") saveStudy();
      }
      break;
    case "studyStep":
      if (state.study) onStudyStep(m.progress);
      break;
    case "studyRun":
      if (state.study) {
        update({ study: { ...state.study, report: m.report } });
        saveStudy();
      }
      break;
    case "info":
      message(m.message, "info");
      break;
    case "error":
      message(m.message);
      break;
  }
}
startWorker();

// ---- saved state (IndexedDB) -----------------------------------------------------------------
const SAVE_EVERY_MS = 15_000;
let lastSave = 0;
let saving = null;
let saveAgain = false;
let restoring = false;
const report = (what) => (e) => message(`${what}: ${e.message}`);
// The weights and position, with the charts up to that step, so a reload continues the run.
function saveTraining() {
  if (restoring) return;
  if (saving) {
    saveAgain = true;
    return;
  }
  lastSave = Date.now();
  saving = (async () => {
    const snap = await call("snapshot");
    if (!snap) return;
    const upto = snap.status.globalStep;
    const h = state.history;
    const keep = h.steps.findLastIndex((st) => st <= upto) + 1;
    await store.save("training", {
      bytes: snap.bytes, datasetName: state.datasetName, trainAccuracy: state.trainAccuracy,
      history: { steps: h.steps.slice(0, keep), loss: h.loss.slice(0, keep), trainAccuracy: h.trainAccuracy.slice(0, keep), lambda: h.lambda.slice(0, keep) },
      evals: [...state.evals].filter(([st]) => st <= upto), savedAt: Date.now(),
    });
  })().catch(report("saving the training state")).finally(() => {
    saving = null;
    if (saveAgain) {
      saveAgain = false;
      saveTraining();
    }
  });
}
let ownTimer = null;
function saveOwn() {
  clearTimeout(ownTimer);
  ownTimer = setTimeout(() => {
    ownTimer = null;
    const own = { size: state.own.size, classes: state.own.classes.map((c) => ({ name: c.name, items: c.items.map(({ name, pixels, error }) => ({ name, pixels, error })) })) };
    store.save("own", own).catch(report("saving your images"));
  }, 300);
}
async function saveClassifier() {
  const bytes = await call("exportModel");
  await store.save("classifier", { bytes, fromTrainer: state.classifier.fromTrainer, fuseReport: state.fuseReport });
}
function forgetClassifier() {
  update({ classifier: null });
  store.remove("classifier").catch(report("forgetting the classifier"));
}
function saveStudy() {
  const st = state.study;
  if (!st || restoring) return;
  // Only finished runs: a run in progress starts over after a reload.
  const done = st.report.runs.length;
  const record = { options: st.options, report: st.report, curves: st.curves.filter((c) => c.run < done), savedAt: Date.now() };
  store.save("study", record).catch(report("saving the study"));
}
function savePredictions() {
  const items = state.predictions.map(({ name, model, result, error, thumbBlob }) => ({ name, model, result, error, thumbBlob }));
  store.save("predictions", items).catch(report("saving the predictions"));
}

// Everything saved, back in place: images, data, the trained model and its charts, the
// classifier, the predictions. A record that cannot be restored is kept, and said so.
async function restoreSession() {
  const get = (key) => store.load(key).catch((e) => (message(`cannot read saved ${key}: ${e.message}`), undefined));
  const [own, session, training, classifier, predictions, study] = await Promise.all(["own", "session", "training", "classifier", "predictions", "study"].map(get));
  restoring = true;
  try {
    if (own) {
      const [side, channels] = own.size.split("x").map(Number);
      const classes = await Promise.all(own.classes.map(async (c) => ({
        name: c.name,
        items: await Promise.all(c.items.map(async (i) => (i.pixels ? { ...i, thumb: await pixelsUrl(i.pixels, channels, side) } : i))),
      })));
      $("own-size").value = own.size;
      update({ own: { size: own.size, classes } });
    }
    const datasetName = training?.datasetName ?? session?.datasetName ?? "fashion-mnist";
    for (const radio of document.querySelectorAll('input[name="dataset"]')) radio.checked = radio.value === datasetName;
    $("own").hidden = datasetName !== "own";
    if (datasetName === "own") await useOwnImages();
    else await api.loadDataset(datasetName);
    if (training) {
      try {
        const { status } = await call("restore", { bytes: training.bytes, trainAccuracy: training.trainAccuracy });
        const h = training.history;
        update({
          history: h, evals: new Map(training.evals), step: status.globalStep, epoch: status.epoch, totalSteps: status.totalSteps,
          lambda: h.lambda.at(-1) ?? null, nextLambda: status.lambda, loss: h.loss.at(-1) ?? null, trainAccuracy: training.trainAccuracy,
          testAccuracy: training.evals.at(-1)?.[1] ?? null, trainState: status.finished ? "finished" : "paused",
        });
        message(`restored the model at step ${status.globalStep} (saved ${new Date(training.savedAt).toLocaleTimeString()}); the optimizer's moments start afresh`, "info");
      } catch (e) {
        message(`the saved training could not be restored (it is kept): ${e.message}`);
      }
    }
    if (classifier) {
      try {
        if (classifier.fromTrainer && training && state.nextLambda === 1) await api.fuse();
        else await api.loadCheckpoint(new File([classifier.bytes], "saved classifier"));
      } catch (e) {
        message(`the saved classifier could not be restored (it is kept): ${e.message}`);
      }
    }
    if (study?.report) {
      const finished = study.report.runs.length === study.report.arms.length * study.options.seeds;
      setStudyForm(study.options);
      update({ study: { ...study, state: finished ? "finished" : "paused", live: false, progress: null } });
    }
    if (predictions?.length) {
      update({ predictions: predictions.map((p) => ({ ...p, thumb: p.thumbBlob ? URL.createObjectURL(p.thumbBlob) : null })) });
    }
  } finally {
    restoring = false;
  }
}

// A lost GPU device (driver reset, tab in the background too long, ...): a fresh worker on the
// CPU picks up from what was saved last.
let recovering = false;
async function recoverFromDeviceLoss(m) {
  if (recovering) return;
  recovering = true;
  try {
    message(`The WebGPU device was lost (${m.reason ?? "unknown"}${m.message ? `: ${m.message}` : ""}); continuing on the CPU from the last saved state.`);
    await saving;
    startWorker();
    update({ trainState: "idle", fuseReport: null, classifier: null });
    await api.setBackend("cpu");
    $("backend-select").value = "cpu";
    await restoreSession();
    message(`recovered on the CPU${state.step ? ` at step ${state.step}` : ""}`, "info");
  } catch (e) {
    message(`recovery failed: ${e.message}; reload the page (saved work is kept)`);
  } finally {
    recovering = false;
  }
}

// ---- options form -------------------------------------------------------------------------
const form = document.getElementById("options");
const PRESETS = { 28: ["small_28", "nano5_28", "nano_28"], 32: ["small_32"], 64: ["base_64"] };
function formOptions() {
  const f = new FormData(form);
  const num = (k) => Number(f.get(k));
  return {
    preset: f.get("preset"), actNum: num("actNum"), decayEpochs: num("decayEpochs"), schedule: f.get("schedule"),
    perStep: f.get("perStep") === "true", optimizer: f.get("optimizer"), learningRate: num("learningRate"),
    weightDecay: num("weightDecay"), momentum: num("momentum"), batchSize: num("batchSize"), epochs: num("epochs"),
    seed: num("seed"), deepTraining: f.get("deepTraining") === "true", shortcut: f.get("shortcut"),
  };
}
function setForm(options) {
  for (const [k, v] of Object.entries(options)) {
    if (form.elements[k]) form.elements[k].value = String(v);
  }
}
// The presets that fit the data's image size, refilled when it changes.
function fillPresets(select, height, order = (presets) => presets) {
  if (select.dataset.for === String(height)) return;
  select.innerHTML = order([...(PRESETS[height] ?? [])]).map((p) => `<option>${p}</option>`).join("");
  select.dataset.for = String(height);
}
subscribe((s) => fillPresets(form.elements.preset, s.dataset?.height));
form.addEventListener("change", async (e) => {
  refreshSchedule();
  if (!state.model) return;
  const options = formOptions();
  try {
    await call("setOptions", { options });
    message(`${e.target.name} changed: applies from the next step, weights kept`, "info");
  } catch (err) {
    message(`${err.message}`);
  }
});

async function refreshSchedule() {
  if (!state.dataset) return;
  try {
    update({ schedule: await call("schedule", { options: state.options ?? formOptions() }) });
  } catch (err) {
    update({ schedule: null });
  }
}

// ---- the scripting API --------------------------------------------------------------------
const EVAL_EVERY = 50;
const EVAL_LIMIT = 500;
const api = {
  status() {
    return {
      backend: state.backend, adapter: state.adapter, state: state.trainState, step: state.step, epoch: state.epoch,
      lambda: state.lambda, loss: state.loss, trainAccuracy: state.trainAccuracy, testAccuracy: state.testAccuracy,
    };
  },
  async train(options = {}) {
    const merged = { ...formOptions(), ...options };
    const { evalEvery = EVAL_EVERY, evalLimit = EVAL_LIMIT } = options;
    delete merged.evalEvery; delete merged.evalLimit;
    setForm(merged);
    return call("train", { options: merged, evalEvery, evalLimit });
  },
  pause: () => call("pause"),
  resume: () => call("resume"),
  step: (options = {}) => call("step", { options: { ...formOptions(), ...options } }),
  reset: () => call("reset"),
  setBackend: (backend) => call("setBackend", { backend }),
  async loadDataset(name) {
    update({ datasetName: name });
    const summary = await call("loadDataset", { name });
    store.save("session", { datasetName: name }).catch(report("saving the data choice"));
    return summary;
  },
  finishAnnealing: () => call("finishAnnealing"),
  async fuse() {
    const fuseReport = await call("fuse", { limit: 500 });
    update({ fuseReport, classifier: await call("classifierInfo") });
    if (!restoring) await saveClassifier().catch(report("saving the classifier"));
    return fuseReport;
  },
  /** Top-k `{label, probability}` of an image by the classifier, with timings (and the trained
   * net's answer while the classifier is its fused form). */
  async classify(blob) {
    const item = { name: blob.name || "pasted image" };
    try {
      if (!state.classifier) throw new Error("no classifier yet: fuse a trained model or load a checkpoint");
      checkImageSize(blob);
      const r = await call("classify", { file: blob, k: 5 });
      item.result = r;
      item.model = state.classifier.card.name;
      item.thumbBlob = await thumbnail(blob);
      item.thumb = URL.createObjectURL(item.thumbBlob);
    } catch (e) {
      item.error = e.message;
    }
    update({ predictions: [item, ...state.predictions].slice(0, 12) });
    savePredictions();
    if (item.error) throw new Error(`${item.name}: ${item.error}`);
    return item.result;
  },
  /** Reads a checkpoint (official .pth, safetensors, or a model exported here) and, unless the
   * tensors leave the architecture open, makes it the classifier. `choice` settles that:
   * `{variant}` or `{strides: [...]}`. */
  async loadCheckpoint(file, choice) {
    update({ checkpoint: { name: file.name, loaded: 0, total: file.size, phase: "reading" } });
    try {
      const read = await call("readCheckpoint", { file });
      update({ checkpoint: { ...state.checkpoint, phase: "read", read } });
      if (read.ambiguous && !choice) {
        update({ checkpoint: { ...state.checkpoint, phase: "choose" } });
        return { needsChoice: true, detected: read.detected };
      }
      return await api.useCheckpoint(choice);
    } catch (e) {
      update({ checkpoint: null, checkpointLog: [{ name: file.name, error: e.message }, ...state.checkpointLog].slice(0, 8) });
      throw new Error(`${file.name}: ${e.message}`);
    }
  },
  async useCheckpoint(choice = {}) {
    const name = state.checkpoint?.name ?? "checkpoint";
    update({ checkpoint: { ...state.checkpoint, phase: "fusing" } });
    try {
      const info = await call("useCheckpoint", choice);
      update({ classifier: info, fuseReport: null, checkpoint: null, checkpointLog: [{ name, ok: `classifying with ${info.card.name}` }, ...state.checkpointLog].slice(0, 8) });
      if (!restoring) await saveClassifier().catch(report("saving the classifier"));
      return info;
    } catch (e) {
      update({ checkpoint: state.checkpoint?.phase === "fusing" ? { ...state.checkpoint, phase: "choose" } : null });
      throw e;
    }
  },
  /** The classifier as `{safetensors, json}` Blobs: official deploy key names, and the model
   * card (architecture, classes, preprocessing), which the safetensors header carries too. */
  async exportModel() {
    if (!state.classifier) throw new Error("nothing to export: fuse a trained model or load a checkpoint");
    const bytes = await call("exportModel");
    return {
      safetensors: new Blob([bytes], { type: "application/octet-stream" }),
      json: new Blob([JSON.stringify(state.classifier.card, null, 2)], { type: "application/json" }),
      name: fileStem(state.classifier.card.name),
    };
  },
  importModel: (file) => api.loadCheckpoint(file),
  /** The classifier as an ONNX model (opset 13; input `input` [batch, C, H, W] preprocessed as
   * its card says, output `logits`), as a Blob. */
  async exportOnnx() {
    if (!state.classifier) throw new Error("nothing to export: fuse a trained model or load a checkpoint");
    return new Blob([await call("exportOnnx")], { type: "application/octet-stream" });
  },
  /** The classifier's logits for preprocessed inputs (a Float32Array of batch x C x H x W). */
  logits: (values, batch = 1) => call("classifierLogits", { values, batch }),
  /** Benchmarks on the current backend (random weights): see the README. */
  bench: {
    latency: (model, size, batch, fused, runs = 30, warmup = 3) => call("benchLatency", { model, size, batch, fused, runs, warmup }),
    training: (preset, channels, size, batch = 64, steps = 20) => call("benchTraining", { preset, channels, size, batch, steps }),
  },
  classifier: () => state.classifier,
  /** The paper's ablations: run one on the loaded data (options as the Experiments form's,
   * overridden by `options`), pause, continue, discard; the report, and CSV/JSON of it. */
  study: {
    async run(options = {}) {
      const fromForm = studyFormOptions();
      const merged = { ...fromForm, ...options, train: { ...fromForm.train, ...(options.train ?? {}) } };
      setStudyForm(merged);
      const study = { options: merged, report: null, curves: [], state: "running", live: true, progress: null, startedAt: performance.now() };
      update({ study });
      try {
        update({ study: { ...state.study, report: await call("startStudy", { options: merged }) } });
      } catch (e) {
        update({ study: null });
        throw e;
      }
      saveStudy();
      return state.study.report;
    },
    pause: () => call("pauseStudy"),
    async resume() {
      const st = state.study;
      if (!st) throw new Error("no study to continue");
      if (st.live) return call("resumeStudy");
      // A study restored from disk: the worker starts it again from its finished runs.
      const report = await call("startStudy", { options: st.options, saved: st.report });
      update({ study: { ...state.study, report, live: true, curves: st.curves.filter((c) => c.run < report.runs.length) } });
      return true;
    },
    async discard() {
      await call("discardStudy");
      update({ study: null });
      await store.remove("study");
    },
    report: () => state.study?.report ?? null,
    status: () => (state.study ? { state: state.study.state, progress: state.study.progress, runs: state.study.report?.runs.length ?? 0 } : null),
    async csv() {
      if (!state.study?.report) throw new Error("no study results yet");
      return new Blob([await call("studyCsv", { report: state.study.report })], { type: "text/csv" });
    },
    json() {
      if (!state.study?.report) throw new Error("no study results yet");
      const { report, curves } = state.study;
      return new Blob([JSON.stringify({ ...report, curves }, null, 2)], { type: "application/json" });
    },
  },
  /** Settles once what has changed is saved to IndexedDB. */
  whenSaved: async () => {
    while (saving || ownTimer) await (saving ?? new Promise((r) => setTimeout(r, 350)));
  },
  debug: {
    /** Destroys the worker's GPU device, as a driver reset would: to see recovery work. */
    loseDevice: () => call("loseDevice"),
  },
  history: () => ({ steps: [...state.history.steps], loss: [...state.history.loss], lambda: [...state.history.lambda],
    trainAccuracy: [...state.history.trainAccuracy], testAccuracy: [...state.evals.entries()] }),
  own: {
    addClass: (name) => addClass(name),
    addFiles: (classIndex, files) => addFiles(classIndex, files),
    use: () => useOwnImages(),
    classes: () => state.own.classes.map((c) => ({ name: c.name, images: c.items.filter((i) => i.pixels).length,
      rejected: c.items.filter((i) => i.error).map((i) => ({ file: i.name, reason: i.error })) })),
  },
};
window.vanillanet = api;
const fileStem = (name) => name.replace(/[^\w.-]+/g, "_");


const guard = (fn) => async (...args) => {
  try {
    await fn(...args);
  } catch (err) {
    message(err.message);
  }
};
document.getElementById("train").onclick = guard(async () => {
  if (state.trainState === "finished" && !confirm("Training again starts a new model: discard the trained weights and charts?")) return;
  await api.train();
});
document.getElementById("pause").onclick = guard(() => api.pause());
document.getElementById("resume").onclick = guard(() => api.resume());
document.getElementById("step").onclick = guard(() => api.step());
document.getElementById("reset").onclick = guard(async () => {
  if (state.step > 0 && !confirm("Reset discards the trained weights and the charts. Reset?")) return;
  await api.reset();
});
document.getElementById("backend-select").onchange = guard(async (e) => {
  await api.setBackend(document.getElementById("backend-select").value);
});
// Switching data starts a new model: ask before discarding a trained one.
const keepModel = () => state.step > 0 && !confirm("New data means a new model: discard the trained weights and charts?");
for (const radio of document.querySelectorAll('input[name="dataset"]')) {
  radio.onchange = guard(async () => {
    document.getElementById("own").hidden = radio.value !== "own";
    if (radio.value === "own") return;
    if (keepModel()) {
      document.querySelector(`input[name="dataset"][value="${state.datasetName ?? "fashion-mnist"}"]`).checked = true;
      document.getElementById("own").hidden = state.datasetName !== "own";
      return;
    }
    await api.loadDataset(radio.value);
  });
}

// ---- views --------------------------------------------------------------------------------
const $ = (id) => document.getElementById(id);
const pct = (v) => (v === null || v === undefined ? "–" : `${(v * 100).toFixed(1)}%`);
const fmt = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n));

subscribe((s) => {
  $("backend-name").textContent = s.backend === "webgpu" ? "WebGPU" : s.backend === "cpu" ? "CPU (wasm)" : "starting…";
  $("backend-name").className = `pill ${s.backend ?? ""}`;
  const a = s.adapter;
  $("adapter").textContent = a
    ? `${a.vendor} · ${a.architecture}${a.description ? ` · ${a.description}` : ""}${a.isFallback ? " · fallback adapter" : ""}`
    : s.backend === "cpu" ? (s.fallbackReason ? "no WebGPU adapter: running on the CPU" : s.webgpuAvailable ? "CPU chosen; WebGPU can be tried" : "this browser has no WebGPU") : "";
  $("messages").innerHTML = s.messages
    .map((m) => `<div class="msg ${m.kind}">${m.text.replace(/</g, "&lt;")}</div>`)
    .join("");
  const d = s.dataset;
  $("data-summary").textContent = d
    ? `${d.name}: ${d.train} training and ${d.test} test images, ${d.height}×${d.width}×${d.channels}, ${d.classes.length} classes`
    : "no data yet";
  const m = s.model;
  $("model-info").textContent = m
    ? `${m.config.dims.join("-")} (strides ${m.config.strides.join(",")}): ${fmt(m.params)} parameters, ${fmt(m.macs)} MACs per image; after fusion ${fmt(m.paramsDeploy)} / ${fmt(m.macsDeploy)}`
    : "the model is built when you press Train";
  const frac = s.totalSteps ? s.step / s.totalSteps : 0;
  $("progress-bar").style.width = `${(frac * 100).toFixed(1)}%`;
  $("progress-text").textContent = s.step
    ? `${s.trainState} · epoch ${Math.min(s.epoch + 1, s.options?.epochs ?? 1)}/${s.options?.epochs ?? "?"} · step ${s.step}/${s.totalSteps} · loss ${s.loss.toFixed(4)} · train ${pct(s.trainAccuracy)} · test ${pct(s.testAccuracy)}${s.imagesPerSec ? ` · ${Math.round(s.imagesPerSec)} images/s` : ""} · ETA ${eta(s)}`
    : s.trainState;
  $("lambda-now").textContent = s.lambda === null ? "–" : s.lambda.toFixed(3);
  for (const [id, enabled] of [["train", s.trainState !== "running"], ["pause", s.trainState === "running"],
    ["resume", s.trainState === "paused"], ["step", s.trainState !== "running" && s.trainState !== "finished"]]) {
    $(id).disabled = !enabled || !s.dataset;
  }
});
function eta(s) {
  if (s.trainState === "finished") return "done";
  const t = Math.round(s.etaSeconds ?? 0);
  if (t >= 3600) return `${Math.floor(t / 3600)} h ${Math.round((t % 3600) / 60)} min`;
  return t >= 60 ? `${Math.floor(t / 60)} min ${t % 60} s` : `${t} s`;
}

// Sample thumbnails: a column per class.
subscribe((s) => {
  if (!s.samples || s.samples === drawnSamples) return;
  drawnSamples = s.samples;
  const d = s.dataset;
  const canvas = $("samples");
  const scale = Math.max(1, Math.floor(56 / d.height));
  const cell = d.width * scale + 4;
  const rows = 3;
  canvas.width = Math.max(cell * d.classes.length, 100);
  canvas.height = cell * rows + 16;
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const img = ctx.createImageData(d.width, d.height);
  const plane = d.width * d.height;
  const seen = new Array(d.classes.length).fill(0);
  const tmp = new OffscreenCanvas(d.width, d.height);
  const tctx = tmp.getContext("2d");
  s.samples.labels.forEach((label, i) => {
    if (seen[label] >= rows) return;
    const px = s.samples.pixels.subarray(i * plane * d.channels, (i + 1) * plane * d.channels);
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) img.data[p * 4 + c] = px[(d.channels === 3 ? c : 0) * plane + p];
      img.data[p * 4 + 3] = 255;
    }
    tctx.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(tmp, label * cell, seen[label] * cell, d.width * scale, d.height * scale);
    seen[label]++;
  });
  ctx.fillStyle = "#444";
  ctx.font = "11px system-ui";
  d.classes.forEach((name, l) => ctx.fillText(name.slice(0, 10), l * cell, rows * cell + 11));
});
let drawnSamples = null;

// Charts (uPlot).
function chart(el, series, opts = {}) {
  const target = $(el);
  return new uPlot({
    width: target.clientWidth || 360, height: 200, legend: { show: series.length > 2 },
    scales: { x: { time: false }, ...(opts.scales ?? {}) },
    axes: opts.axes ?? [{}, {}],
    series: [{}, ...series],
  }, [[], ...series.map(() => [])], target);
}
// Steps are whole numbers: no ticks between them.
const STEP_TICKS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];
const charts = {
  lambda: chart("lambda-chart", [
    { label: "schedule", stroke: "#9aa5b1", width: 2 },
    { label: "used", stroke: "#d9480f", width: 3, points: { show: false } },
  ], { scales: { y: { range: [0, 1.02] } }, axes: [{ label: "epoch" }, {}] }),
  act: chart("act-chart", [{ label: "A′(x)", stroke: "#1c7ed6", width: 3 }, { label: "ReLU", stroke: "#ced4da", dash: [4, 4] }],
    { scales: { x: { time: false, range: [-2, 2] }, y: { range: [-2, 2] } } }),
  probe: chart("probe-chart", [{ label: "response", stroke: "#2b8a3e", width: 3 }], { axes: [{ label: "x" }, {}] }),
  loss: chart("loss-chart", [{ label: "loss", stroke: "#c2255c", width: 2 }], { axes: [{ label: "step", incrs: STEP_TICKS }, {}] }),
  acc: chart("acc-chart", [
    { label: "train", stroke: "#1c7ed6", width: 2 },
    { label: "test", stroke: "#2b8a3e", width: 2, spanGaps: true, points: { show: true, size: 6 } },
  ], { scales: { y: { range: [0, 1] } }, axes: [{ label: "step", incrs: STEP_TICKS }, {}] }),
};
window.vanillanet.charts = () => Object.fromEntries(Object.entries(charts).map(([k, c]) => [k, c.data[0].length]));

let drawn = { history: -1, schedule: null, lambda: undefined, probe: null };
subscribe((s) => {
  const h = s.history;
  if (h.steps.length !== drawn.history) {
    drawn.history = h.steps.length;
    charts.loss.setData([h.steps, h.loss]);
    charts.acc.setData([h.steps, h.trainAccuracy, h.steps.map((st) => s.evals.get(st) ?? null)]);
  }
  if (s.schedule !== drawn.schedule || h.steps.length !== drawn.lambdaLen) {
    drawn.schedule = s.schedule;
    drawn.lambdaLen = h.steps.length;
    if (s.schedule) {
      const spe = s.schedule.stepsPerEpoch;
      const used = s.schedule.epochs.map(() => null);
      // The lambdas actually used, on the schedule's x (fractional epochs).
      const xs = [...s.schedule.epochs, ...h.steps.map((st) => (st - 1) / spe)];
      const order = xs.map((x, i) => [x, i]).sort((a, b) => a[0] - b[0]);
      const sched = [...s.schedule.lambda, ...h.steps.map(() => null)];
      const usedAll = [...used, ...h.lambda];
      charts.lambda.setData([order.map(([x]) => x), order.map(([, i]) => sched[i]), order.map(([, i]) => usedAll[i])]);
    }
  }
  const lambda = s.lambda ?? s.nextLambda ?? 0;
  if (lambda !== drawn.lambda) {
    drawn.lambda = lambda;
    const xs = Array.from({ length: 81 }, (_, i) => -2 + i * 0.05);
    charts.act.setData([xs, xs.map((x) => (1 - lambda) * Math.max(0, x) + lambda * x), xs.map((x) => Math.max(0, x))]);
  }
  if (s.probe !== drawn.probe) {
    drawn.probe = s.probe;
    if (s.probe) {
      charts.probe.setData([s.probe.inputs, s.probe.curve]);
      drawKernel(s.probe.kernel);
    }
  }
});
function drawKernel(kernel) {
  const k = Math.round(Math.sqrt(kernel.length));
  const canvas = $("kernel");
  const ctx = canvas.getContext("2d");
  // act_num 0: a plain ReLU, no kernel.
  if (k === 0) return ctx.clearRect(0, 0, canvas.width, canvas.height);
  const cell = canvas.width / k;
  const max = Math.max(...kernel.map(Math.abs)) || 1;
  kernel.forEach((w, i) => {
    const t = w / max;
    ctx.fillStyle = t >= 0 ? `rgba(224,49,49,${t})` : `rgba(28,126,214,${-t})`;
    ctx.clearRect((i % k) * cell, Math.floor(i / k) * cell, cell, cell);
    ctx.fillRect((i % k) * cell, Math.floor(i / k) * cell, cell, cell);
  });
}

// Probe layer picker.
subscribe((s) => {
  const sel = $("probe-layer");
  const blocks = s.model?.config.strides.length ?? 0;
  if (sel.dataset.blocks !== String(blocks)) {
    sel.dataset.blocks = String(blocks);
    sel.innerHTML = ['<option value="0">stem</option>', ...Array.from({ length: blocks }, (_, i) => `<option value="${i + 1}">block ${i + 1}</option>`)].join("");
    sel.value = blocks ? "1" : "0";
  }
});
const probeChange = guard(async () => {
  await call("probe", { layer: Number($("probe-layer").value), channel: Number($("probe-channel").value) });
});
$("probe-layer").onchange = probeChange;
$("probe-channel").onchange = probeChange;

// ---- own images ---------------------------------------------------------------------------
function ownSize() {
  const [side, channels] = state.own.size.split("x").map(Number);
  return { side, channels };
}
function addClass(name) {
  const classes = [...state.own.classes, { name: name ?? `class ${String.fromCharCode(65 + state.own.classes.length)}`, items: [] }];
  update({ own: { ...state.own, classes } });
  return classes.length - 1;
}
const MAX_FILE_BYTES = 32 * 1024 * 1024;
function checkImageSize(file) {
  if (file.size > MAX_FILE_BYTES) throw new Error(`too large (${(file.size / 1e6).toFixed(0)} MB; images up to ${MAX_FILE_BYTES / 1e6} MB)`);
}
async function decode(file, { side, channels } = ownSize()) {
  checkImageSize(file);
  const pixels = await call("decodeImage", { file, channels, side });
  return { pixels, thumb: await pixelsUrl(pixels, channels, side) };
}
// CHW bytes to an image URL (thumbnails of the training images, as the net sees them).
async function pixelsUrl(pixels, channels, side) {
  const canvas = new OffscreenCanvas(side, side);
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(side, side);
  const plane = side * side;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) img.data[p * 4 + c] = pixels[(channels === 3 ? c : 0) * plane + p];
    img.data[p * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return URL.createObjectURL(await canvas.convertToBlob());
}
// A small preview of an image the wasm decoder has already accepted.
async function thumbnail(blob) {
  const bitmap = await createImageBitmap(blob, { resizeWidth: 112, resizeQuality: "medium" });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  canvas.getContext("2d").drawImage(bitmap, 0, 0);
  bitmap.close();
  return canvas.convertToBlob({ type: "image/png" });
}
async function addFiles(classIndex, files) {
  const cls = state.own.classes[classIndex];
  if (!cls) throw new Error(`no class ${classIndex}`);
  for (const file of files) {
    const item = { name: file.webkitRelativePath || file.name };
    try {
      Object.assign(item, await decode(file));
    } catch (e) {
      item.error = e.message;
    }
    cls.items.push(item);
    update({ own: { ...state.own } });
  }
  return api.own.classes()[classIndex];
}
async function filesFromDrop(dataTransfer) {
  const entries = [...dataTransfer.items].map((i) => i.webkitGetAsEntry?.()).filter(Boolean);
  if (!entries.length) return [...dataTransfer.files];
  const out = [];
  async function walk(entry) {
    if (entry.isFile) out.push(await new Promise((res, rej) => entry.file(res, rej)));
    else if (entry.isDirectory) {
      const reader = entry.createReader();
      let batch;
      do {
        batch = await new Promise((res, rej) => reader.readEntries(res, rej));
        for (const e of batch) await walk(e);
      } while (batch.length);
    }
  }
  for (const e of entries) await walk(e);
  return out;
}
async function useOwnImages() {
  const { side, channels } = ownSize();
  const usable = state.own.classes.filter((c) => c.items.some((i) => i.pixels));
  if (usable.length < 2) throw new Error("add images to at least two classes first");
  const labels = [];
  const chunks = [];
  usable.forEach((c, l) => c.items.filter((i) => i.pixels).forEach((i) => { labels.push(l); chunks.push(i.pixels); }));
  const pixels = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) { pixels.set(c, at); at += c.length; }
  update({ datasetName: "own" });
  store.save("session", { datasetName: "own" }).catch(report("saving the data choice"));
  return call("ownDataset", { classes: usable.map((c) => c.name), pixels, labels: Uint8Array.from(labels), channels, height: side, width: side });
}
$("add-class").onclick = () => addClass();
$("use-own").onclick = guard(async () => {
  if (!keepModel()) await useOwnImages();
});
$("own-size").onchange = () => {
  const anyImages = state.own.classes.some((c) => c.items.length);
  if (anyImages && !confirm("Changing the size clears the images added so far. Continue?")) {
    $("own-size").value = state.own.size;
    return;
  }
  update({ own: { size: $("own-size").value, classes: state.own.classes.map((c) => ({ ...c, items: [] })) } });
};
subscribe((s) => {
  if (s.own === drawnOwn) return;
  drawnOwn = s.own;
  const root = $("classes");
  root.replaceChildren(...s.own.classes.map((c, i) => {
    const card = document.createElement("div");
    card.className = "class-card";
    const ok = c.items.filter((x) => x.pixels);
    const bad = c.items.filter((x) => x.error);
    card.innerHTML = `
      <div class="row"><input class="class-name" value="${c.name.replace(/"/g, "&quot;")}" aria-label="class name">
      <span class="count">${ok.length} image${ok.length === 1 ? "" : "s"}</span>
      <label class="file">files<input type="file" accept="image/*" multiple hidden></label>
      <label class="file">folder<input type="file" webkitdirectory hidden></label>
      <button type="button" class="delete" title="delete class">✕</button></div>
      <div class="drop">drop images or folders here</div>
      <div class="thumbs">${ok.slice(-40).map((x) => `<img src="${x.thumb}" alt="" title="${x.name}">`).join("")}</div>
      ${bad.length ? `<ul class="rejected">${bad.map((x) => `<li>${x.name}: ${x.error}</li>`).join("")}</ul>` : ""}`;
    card.querySelector(".class-name").onchange = (e) => { c.name = e.target.value || c.name; update({ own: { ...s.own } }); };
    card.querySelector(".delete").onclick = () => {
      if (c.items.length && !confirm(`Delete ${c.name} and its ${c.items.length} images?`)) return;
      update({ own: { ...s.own, classes: s.own.classes.filter((_, j) => j !== i) } });
    };
    for (const input of card.querySelectorAll('input[type="file"]')) input.onchange = guard(() => addFiles(i, [...input.files]));
    const drop = card.querySelector(".drop");
    card.ondragover = (e) => { e.preventDefault(); drop.classList.add("over"); };
    card.ondragleave = () => drop.classList.remove("over");
    card.ondrop = guard(async (e) => {
      e.preventDefault();
      e.stopPropagation();
      drop.classList.remove("over");
      await addFiles(i, await filesFromDrop(e.dataTransfer));
    });
    return card;
  }));
});
let drawnOwn = null;
let savedOwn = state.own;
subscribe((s) => {
  if (s.own === savedOwn) return;
  savedOwn = s.own;
  if (!restoring) saveOwn();
});

// ---- fuse and classify ---------------------------------------------------------------------
$("fuse").onclick = guard(() => api.fuse());
$("finish-annealing").onclick = guard(() => api.finishAnnealing());
subscribe((s) => {
  // Without deep training there is no lambda to wait for: the BNs fold at any step.
  const shallow = s.model && s.options?.deepTraining === false;
  const lambdaNow = shallow ? 1 : s.nextLambda ?? s.lambda ?? 0;
  const ready = s.model && (shallow ? s.step > 0 : s.lambda !== null && lambdaNow === 1) && s.trainState !== "running";
  $("fuse").disabled = !ready;
  $("finish-annealing").hidden = !(s.model && lambdaNow < 1 && s.trainState !== "finished");
  $("fuse-why").textContent = !s.model
    ? "train a model first"
    : lambdaNow < 1
      ? `λ is ${lambdaNow.toFixed(3)}: the two convs of a block merge into one only when the activation between them is the identity (λ = 1). Deep training ends after ${s.options?.decayEpochs} epoch(s); or finish annealing with this epoch, then fuse.`
      : s.trainState === "running" ? "pause to fuse" : s.fuseReport ? "fused: drop images to classify" : shallow ? "no deep training: the BatchNorms fold into the convs at any step" : "λ = 1: ready to fuse";
  const r = s.fuseReport;
  $("fuse-table").hidden = !r;
  if (r && r !== drawnFuse) {
    drawnFuse = r;
    const ms = (v) => `${v.toFixed(1)} ms for ${r.images} images`;
    const rows = [
      ["parameters", fmt(r.params), fmt(r.paramsDeploy)],
      ["conv layers", r.convs, r.convsDeploy],
      ["BatchNorms", r.batchNorms, 0],
      ["MACs per image", fmt(r.macs), fmt(r.macsDeploy)],
      ["inference time", ms(r.ms), ms(r.msDeploy)],
      ["test accuracy", pct(r.accuracy), pct(r.accuracyDeploy)],
      ["largest logit difference", "", r.maxLogitDiff.toExponential(2)],
    ];
    $("fuse-table").querySelector("tbody").innerHTML = rows.map((row) => `<tr>${row.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("");
  }
  if (s.predictions !== drawnPredictions) {
    drawnPredictions = s.predictions;
    const esc = (t) => String(t).replace(/&/g, "&amp;").replace(/</g, "&lt;");
    $("predictions").innerHTML = s.predictions.map((p) => `
      <div class="prediction">${p.thumb ? `<img src="${p.thumb}" alt="">` : ""}
        <div class="bars"><b>${esc(p.name)}</b>
        ${p.error ? `<div class="error">${esc(p.error)}</div>` : p.result.top.map((t) => `
          <div class="bar"><span title="${esc(t.label)}">${esc(t.label)}</span><div style="width:${(t.probability * 150).toFixed(0)}px"></div>${(t.probability * 100).toFixed(1)}%</div>`).join("") +
          `<div class="model">${esc(p.model ?? "")} · fused ${p.result.ms.toFixed(1)} ms${p.result.topUnfused ? ` · trained ${p.result.msUnfused.toFixed(1)} ms (top-1 ${esc(p.result.topUnfused[0].label)})` : ""}</div>`}
        </div></div>`).join("");
  }
});
let drawnFuse = null;
let drawnPredictions = null;

// Checkpoints and the classifier.
subscribe((s) => {
  const c = s.checkpoint;
  $("checkpoint-progress").hidden = !c || c.phase !== "reading";
  if (c?.phase === "reading") $("checkpoint-progress").firstElementChild.style.width = `${((100 * c.loaded) / Math.max(1, c.total)).toFixed(1)}%`;
  $("checkpoint-status").hidden = !c;
  if (c) {
    const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
    const d = c.read?.detected;
    $("checkpoint-status").textContent = {
      reading: `${c.name}: reading ${mb(c.loaded)} of ${mb(c.total)}`,
      parsing: `${c.name}: reading the tensors…`,
      read: `${c.name}: read`,
      fusing: `${c.name}: building${d?.trainingForm ? " and fusing" : ""} the model…`,
      choose: d ? `${c.name}: ${d.trainingForm ? "training" : "deploy"} form, widths ${d.dims.join("-")}, act_num ${d.actNum}, ${d.inChans} channels in, ${d.numClasses} classes. ${d.candidates.length ? "Several variants have these widths (strides and pooling have no tensors): pick one." : "No known variant has these widths: give the stride of each of its " + (d.dims.length - 1) + " blocks."}` : "",
    }[c.phase] ?? "";
  }
  const choose = c?.phase === "choose" && c.read?.detected;
  $("checkpoint-choice").hidden = !choose;
  if (choose && $("checkpoint-choice").dataset.for !== c.name) {
    $("checkpoint-choice").dataset.for = c.name;
    const d = c.read.detected;
    $("checkpoint-variant").innerHTML = [...d.candidates.map((n) => `<option value="${n}">${n}</option>`), '<option value="">custom strides</option>'].join("");
    $("checkpoint-strides").value = Array(d.dims.length - 1).fill(2).join(",");
  }
  $("checkpoint-strides-label").hidden = $("checkpoint-variant").value !== "";
  if (s.checkpointLog !== drawnLog) {
    drawnLog = s.checkpointLog;
    $("checkpoint-log").replaceChildren(...s.checkpointLog.map((l) => {
      const li = document.createElement("li");
      li.className = l.error ? "error" : "ok";
      li.textContent = `${l.name}: ${l.error ?? l.ok}`;
      return li;
    }));
  }
  const k = s.classifier;
  $("export-model").disabled = !k;
  $("export-onnx").disabled = !k || Boolean(k.card.architecture.ada_pool);
  $("classifier-info").textContent = k
    ? `${k.card.name}: ${fmt(k.paramsDeploy)} parameters, ${fmt(k.macsDeploy)} MACs, ${k.card.classes.length} classes; input ${k.card.preprocess.height}×${k.card.preprocess.width}×${k.card.preprocess.channels}, ${k.card.preprocess.resize.kind === "shortSideCrop" ? "resized and centre-cropped as the official evaluation (ImageNet mean/std)" : "centre-cropped and resized like the training images"}`
    : "none yet: fuse a trained net or bring a checkpoint";
});
let drawnLog = null;
$("checkpoint-variant").onchange = () => update({});
$("checkpoint-choice").onsubmit = guard(async (e) => {
  e.preventDefault();
  const variant = $("checkpoint-variant").value;
  const strides = $("checkpoint-strides").value.split(/[\s,]+/).filter(Boolean).map(Number);
  if (!variant && strides.some((v) => !Number.isInteger(v) || v < 1)) throw new Error("strides are whole numbers of at least 1, one per block, e.g. 2,2,2");
  await api.useCheckpoint(variant ? { variant } : { strides });
});
// Failures are listed beside the checkpoint panel and the predictions, not as banners.
const loadCheckpoints = guard(async (files) => {
  for (const f of files) await api.loadCheckpoint(f).catch(() => {});
});
$("checkpoint-file").onchange = () => loadCheckpoints([...$("checkpoint-file").files]);
function download(blob, fileName) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = fileName;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}
$("export-model").onclick = guard(async () => {
  const { safetensors, json, name } = await api.exportModel();
  download(safetensors, `${name}.safetensors`);
  download(json, `${name}.json`);
});
$("export-onnx").onclick = guard(async () => {
  download(await api.exportOnnx(), `${fileStem(state.classifier.card.name)}.onnx`);
});

const isCheckpoint = (f) => /\.(pth|pt|safetensors|ckpt)$/i.test(f.name);
const classifyAll = guard(async (files) => {
  for (const f of files) await api.classify(f).catch(() => {});
});
// Anything dropped on the page: checkpoints load, everything else is classified.
const dropped = (files) => {
  loadCheckpoints(files.filter(isCheckpoint));
  const images = files.filter((f) => !isCheckpoint(f));
  if (images.length) classifyAll(images);
};
$("classify-files").onchange = () => classifyAll([...$("classify-files").files]);
document.addEventListener("dragover", (e) => e.preventDefault());
document.addEventListener("drop", (e) => {
  e.preventDefault();
  dropped([...e.dataTransfer.files]);
});
document.addEventListener("paste", (e) => {
  const files = [...(e.clipboardData?.files ?? [])];
  if (files.length) dropped(files);
});

// ---- experiments (the paper's ablations) ------------------------------------------------------
const studyForm = $("study-options");
const ARM_COLOURS = ["#1c7ed6", "#d9480f", "#2b8a3e", "#ae3ec9", "#f08c00", "#495057"];
function studyFormOptions() {
  const f = new FormData(studyForm);
  const num = (k) => Number(f.get(k));
  const count = (k) => (num(k) > 0 ? num(k) : null);
  return {
    study: f.get("study"), seeds: num("seeds"), trainImages: count("trainImages"), testImages: count("testImages"),
    train: { ...formOptions(), preset: f.get("preset"), epochs: num("epochs"), decayEpochs: num("decayEpochs") },
  };
}
function setStudyForm(o) {
  const values = { study: o.study, seeds: o.seeds, trainImages: o.trainImages ?? 0, testImages: o.testImages ?? 0,
    preset: o.train?.preset, epochs: o.train?.epochs, decayEpochs: o.train?.decayEpochs };
  for (const [k, v] of Object.entries(values)) if (v !== undefined && studyForm.elements[k]) studyForm.elements[k].value = String(v);
}
// Loss curves: an exponential moving average per run, kept at about 150 points a run.
let studyClock = null;
function onStudyStep(p) {
  const st = state.study;
  const perRun = st.report?.stepsPerRun ?? p.step.stepsPerEpoch;
  const every = Math.max(1, Math.floor(perRun / 150));
  let curve = st.curves.find((c) => c.run === p.run);
  if (curve && p.step.globalStep <= (curve.steps.at(-1) ?? 0)) {
    // The run started over (another backend): so does its curve.
    st.curves.splice(st.curves.indexOf(curve), 1);
    curve = null;
  }
  if (!curve) {
    curve = { run: p.run, arm: p.arm, seed: p.seed, steps: [], loss: [], ema: null };
    st.curves.push(curve);
  }
  curve.ema = curve.ema === null ? p.step.loss : 0.9 * curve.ema + 0.1 * p.step.loss;
  const step = p.step.globalStep;
  if (step % every === 0 || step === perRun) {
    curve.steps.push(step);
    curve.loss.push(curve.ema);
  }
  const now = performance.now();
  const msPerStep = studyClock ? 0.95 * (st.msPerStep ?? now - studyClock) + 0.05 * (now - studyClock) : null;
  studyClock = now;
  update({ study: { ...st, progress: p, msPerStep } });
}
let studyChart = null;
let studyChartArms = null;
let drawnStudy = { curves: -1, report: null };
subscribe((s) => {
  // The smallest preset first: studies train many nets.
  fillPresets(studyForm.elements.preset, s.dataset?.height, (presets) => presets.reverse());
  const st = s.study;
  const described = s.studies.find((d) => d.study === (st?.options.study ?? studyForm.elements.study.value));
  $("study-claim").textContent = described ? `The paper: ${described.claim}` : "";
  const running = st?.state === "running";
  for (const [id, enabled] of [["study-run", !running && s.dataset], ["study-pause", running], ["study-resume", st?.state === "paused"],
    ["study-discard", st && !running], ["study-csv", st?.report?.runs.length], ["study-json", st?.report?.runs.length]]) {
    $(id).disabled = !enabled;
  }
  const r = st?.report;
  const runs = r ? r.arms.length * st.options.seeds : 0;
  const done = r?.runs.length ?? 0;
  const p = st?.progress;
  const inRun = p && st.state !== "finished" && p.run === done ? p.step.globalStep / r.stepsPerRun : 0;
  $("study-bar").style.width = `${runs ? ((100 * (done + inRun)) / runs).toFixed(1) : 0}%`;
  if (!st) $("study-text").textContent = "no study yet";
  else if (!r) $("study-text").textContent = "starting…";
  else {
    const where = st.state === "finished" ? `all ${runs} runs done`
      : p && p.run === done ? `run ${done + 1}/${runs}: ${r.arms[p.arm].name}, seed ${p.seed} · step ${p.step.globalStep}/${r.stepsPerRun} · loss ${p.step.loss.toFixed(3)}`
        : `${done}/${runs} runs done`;
    const left = (runs - done - inRun) * r.stepsPerRun;
    const etaText = st.state === "running" && st.msPerStep ? ` · ETA ${eta({ etaSeconds: (left * st.msPerStep) / 1000 })}` : "";
    $("study-text").textContent = `${st.state} · ${r.study} on ${r.dataset} (${r.trainImages} training / ${r.testImages} test images, ${r.stepsPerRun} steps a run) · ${where}${etaText}`;
  }
  // The chart: one series per arm, rebuilt when the arms change.
  const arms = r?.arms.map((a) => a.name).join("|") ?? null;
  if (arms !== studyChartArms) {
    studyChartArms = arms;
    studyChart?.destroy();
    studyChart = r ? chart("study-chart", r.arms.map((a, i) => ({ label: a.name, stroke: ARM_COLOURS[i % ARM_COLOURS.length], width: 2, spanGaps: true })),
      { axes: [{ label: "step", incrs: STEP_TICKS }, {}] }) : null;
    drawnStudy = { curves: -1, report: null };
  }
  const points = st?.curves.reduce((n, c) => n + c.steps.length, 0) ?? 0;
  if (studyChart && points !== drawnStudy.curves) {
    drawnStudy.curves = points;
    const xs = [...new Set(st.curves.flatMap((c) => c.steps))].sort((a, b) => a - b);
    const series = r.arms.map((_, arm) => {
      const mine = st.curves.filter((c) => c.arm === arm).map((c) => new Map(c.steps.map((x, i) => [x, c.loss[i]])));
      return xs.map((x) => {
        const vals = mine.map((m) => m.get(x)).filter((v) => v !== undefined);
        return vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : null;
      });
    });
    studyChart.setData([xs, ...series]);
  }
  const tableKey = `${st?.state}:${st?.progress?.run}`;
  if (r !== drawnStudy.report || tableKey !== drawnStudy.tableKey) {
    drawnStudy.report = r;
    drawnStudy.tableKey = tableKey;
    const rows = r?.summary ?? [];
    const best = Math.max(...rows.map((a) => a.accuracyMean ?? -1));
    $("study-table").querySelector("tbody").innerHTML = rows.map((a, i) => {
      const current = st.state === "running" && st.progress?.arm === i;
      const acc = a.accuracyMean === null
        ? `<td class="pending">${current ? "training…" : st.state === "running" ? "waiting" : "not run"}</td>`
        : `<td>${pct(a.accuracyMean)}${a.runs > 1 ? ` ± ${(100 * a.accuracyStd).toFixed(1)}<br><span class="muted">${pct(a.accuracyMin)}–${pct(a.accuracyMax)}</span>` : ""}</td>`;
      return `<tr class="${a.accuracyMean === best && a.runs ? "best" : ""}"><td><span class="swatch" style="background:${ARM_COLOURS[i % ARM_COLOURS.length]}"></span>${a.name}</td>${acc}` +
        `<td>${a.runs}/${st.options.seeds}</td><td>${vsReference(a, i === described?.reference)}</td><td>${fmt(a.params)} / ${fmt(a.paramsDeploy)}</td><td>${fmt(a.macsDeploy)}</td>` +
        `<td>${a.fusedMsPerImage === null ? "–" : a.fusedMsPerImage.toFixed(3)}</td></tr>`;
    }).join("");
  }
});
function vsReference(a, isReference) {
  if (isReference) return '<span class="muted">reference</span>';
  const p = a.vsReference;
  if (!p) return "–";
  const points = (100 * p.meanDiff).toFixed(1);
  return `<span class="${p.meanDiff > 0 ? "better" : p.meanDiff < 0 ? "worse" : ""}">${p.meanDiff > 0 ? "+" : ""}${points} pts</span><br><span class="muted">better on ${p.wins} of ${p.pairs}</span>`;
}
studyForm.elements.study.onchange = () => update({});
$("study-run").onclick = guard(async () => {
  if (state.study?.report?.runs.length && !confirm("A new study replaces the results of this one (download them first if you want them). Start?")) return;
  if (state.study) await api.study.discard();
  studyClock = null;
  await api.study.run();
});
$("study-pause").onclick = guard(() => api.study.pause());
$("study-resume").onclick = guard(() => {
  studyClock = null;
  return api.study.resume();
});
$("study-discard").onclick = guard(async () => {
  if (state.study?.report?.runs.length && !confirm("Discard this study's results?")) return;
  await api.study.discard();
});
const studyFileName = () => `vanillanet-${state.study.report.study}-${fileStem(state.study.report.dataset)}`;
$("study-csv").onclick = guard(async () => download(await api.study.csv(), `${studyFileName()}.csv`));
$("study-json").onclick = guard(async () => download(api.study.json(), `${studyFileName()}.json`));

// ---- start --------------------------------------------------------------------------------
api.ready = (async () => {
  const params = new URLSearchParams(location.search);
  const backend = params.get("backend") ?? "auto";
  $("backend-select").value = backend;
  try {
    await api.setBackend(backend);
  } catch (e) {
    message(`${e.message}; using the CPU`);
    await api.setBackend("cpu");
  }
  update({ studies: await call("studies") });
  await restoreSession();
  return true;
})();
api.ready.catch((e) => message(e.message));
update({});
