// Section 1, "My images": classes of the user's own images, added by drop (files or folders)
// or picked, their thumbnails and the files that were refused with the reason.
import { api, deleteClass, renameClass } from "../actions.js";
import { cameraApi as camera } from "../camera.js";
import { $, el, guard, keepModel } from "../dom.js";
import { foreign, num, t } from "../i18n.js";
import * as persist from "../persist.js";
import { get, subscribe, tracker, update } from "../state.js";

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

function classCard(c, i, cam) {
  const ok = c.items.filter((x) => x.pixels);
  const bad = c.items.filter((x) => x.error);
  // Buttons that open hidden file inputs: reachable and operable by keyboard.
  const picker = (what, props) => {
    const input = el("input", { type: "file", hidden: true, ...props, onchange: guard((e) => api.own.addFiles(i, [...e.target.files])) });
    const label = t(what === "files" ? "own.addFiles" : "own.addFolder", { name: c.name });
    return [el("button", { type: "button", "data-focus": `${what}-${i}`, "aria-label": label, onclick: () => input.click() }, t(`own.${what}`)), input];
  };
  const recording = cam.recording === i;
  const record = el("button", {
    type: "button", class: `record${recording ? " on" : ""}`, "data-focus": `record-${i}`, disabled: !cam.running || (cam.recording !== null && !recording),
    "aria-pressed": String(recording), "aria-label": t("camera.recordLabel", { name: c.name }),
    title: t(cam.running ? "camera.recordTitle" : "camera.startFirst"),
    onpointerdown: (e) => { e.preventDefault(); guard(() => camera.startRecording(i))(); },
    onkeydown: (e) => {
      if ((e.key === " " || e.key === "Enter") && !e.repeat) { e.preventDefault(); guard(() => camera.startRecording(i))(); }
    },
  }, t(recording ? "camera.recording" : "camera.record"));
  const drop = el("div", { class: "drop" }, t("own.drop"));
  const card = el("div", { class: "class-card" },
    el("div", { class: "row" },
      el("input", { class: "class-name", value: c.name, "aria-label": t("own.nameLabel", { n: i + 1 }), "data-focus": `name-${i}`, onchange: (e) => renameClass(i, e.target.value) }),
      el("span", { class: "count", "aria-live": "polite" }, t("own.images", { n: ok.length, count: num(ok.length) })),
      picker("files", { accept: "image/*", multiple: true }),
      picker("folder", { webkitdirectory: true }),
      record,
      el("button", {
        type: "button", class: "delete", title: t("own.delete", { name: c.name }), "aria-label": t("own.delete", { name: c.name }), "data-focus": `delete-${i}`,
        onclick: () => {
          if (c.items.length && !confirm(t("own.confirmDelete", { name: c.name, n: c.items.length }))) return;
          deleteClass(i);
        },
      }, "✕")),
    drop,
    el("div", { class: "thumbs" }, ok.slice(-40).map((x) => el("img", { src: x.thumb, alt: "", title: x.name }))),
    bad.length ? el("ul", { class: "rejected" }, bad.map((x) => el("li", {}, el("span", {}, `${x.name}: `), el("span", { lang: foreign(x.error) }, x.error)))) : null);
  card.ondragover = (e) => { e.preventDefault(); drop.classList.add("over"); };
  card.ondragleave = () => drop.classList.remove("over");
  card.ondrop = guard(async (e) => {
    e.preventDefault();
    e.stopPropagation();
    drop.classList.remove("over");
    await api.own.addFiles(i, await filesFromDrop(e.dataTransfer));
  });
  return card;
}

export function mount() {
  $("add-class").onclick = () => api.own.addClass();
  $("use-own").onclick = guard(async () => {
    if (!keepModel()) await api.own.dataset();
  });
  $("own-size").onchange = () => {
    const own = get().own;
    // Only a size the select offers: one set by a script to a value it lacks reads "".
    if (!$("own-size").value || (own.classes.some((c) => c.items.length) && !confirm(t("own.confirmSize")))) {
      $("own-size").value = own.size;
      return;
    }
    update({ own: { size: $("own-size").value, classes: own.classes.map((c) => ({ ...c, items: [] })) } });
  };
  const changed = tracker();
  let drawing = false;
  const draw = (own, cam) => {
    // Removing a focused name field whose text changed fires its change event (a rename, so a
    // redraw) in the middle of replaceChildren: that redraw waits until this one is done.
    if (drawing) return void queueMicrotask(() => draw(get().own, get().camera));
    drawing = true;
    try {
      $("own-size").value = own.size;
      // Redrawn on every change: the focused control keeps the focus.
      const focused = /** @type {HTMLElement} */ (document.activeElement)?.dataset?.focus;
      $("classes").replaceChildren(...own.classes.map((c, i) => classCard(c, i, cam)));
      if (focused) $("classes").querySelector(`[data-focus="${focused}"]`)?.focus();
    } finally {
      drawing = false;
    }
  };
  // The initial classes are drawn, not saved: saving them would overwrite the user's images
  // before they are restored.
  changed("own", get().own);
  draw(get().own, get().camera);
  subscribe((s) => {
    const ownChanged = changed("own", s.own);
    // Saved first: a drawing that fails does not stop the images from being kept.
    if (ownChanged) persist.saveOwn(s.own);
    if (!ownChanged && !changed("camera", `${s.camera.running} ${s.camera.recording}`)) return;
    draw(s.own, s.camera);
  });
}
