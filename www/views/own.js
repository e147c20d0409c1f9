// Section 1, "My images": classes of the user's own images, added by drop (files or folders)
// or picked, their thumbnails and the files that were refused with the reason.
import { api, deleteClass, renameClass } from "../actions.js";
import { $, el, guard } from "../dom.js";
import * as persist from "../persist.js";
import { get, subscribe, tracker, update } from "../state.js";
import { keepModel } from "./data.js";

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

function classCard(c, i) {
  const ok = c.items.filter((x) => x.pixels);
  const bad = c.items.filter((x) => x.error);
  const picker = (props) => el("label", { class: "file" }, props.webkitdirectory ? "folder" : "files",
    el("input", { type: "file", hidden: true, ...props, onchange: guard((e) => api.own.addFiles(i, [...e.target.files])) }));
  const drop = el("div", { class: "drop" }, "drop images or folders here");
  const card = el("div", { class: "class-card" },
    el("div", { class: "row" },
      el("input", { class: "class-name", value: c.name, "aria-label": "class name", onchange: (e) => renameClass(i, e.target.value) }),
      el("span", { class: "count" }, `${ok.length} image${ok.length === 1 ? "" : "s"}`),
      picker({ accept: "image/*", multiple: true }),
      picker({ webkitdirectory: true }),
      el("button", {
        type: "button", class: "delete", title: "delete class",
        onclick: () => {
          if (c.items.length && !confirm(`Delete ${c.name} and its ${c.items.length} images?`)) return;
          deleteClass(i);
        },
      }, "✕")),
    drop,
    el("div", { class: "thumbs" }, ok.slice(-40).map((x) => el("img", { src: x.thumb, alt: "", title: x.name }))),
    bad.length ? el("ul", { class: "rejected" }, bad.map((x) => el("li", {}, `${x.name}: ${x.error}`))) : null);
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
    if (own.classes.some((c) => c.items.length) && !confirm("Changing the size clears the images added so far. Continue?")) {
      $("own-size").value = own.size;
      return;
    }
    update({ own: { size: $("own-size").value, classes: own.classes.map((c) => ({ ...c, items: [] })) } });
  };
  const changed = tracker();
  const draw = (own) => {
    $("own-size").value = own.size;
    $("classes").replaceChildren(...own.classes.map(classCard));
  };
  // The initial classes are drawn, not saved: saving them would overwrite the user's images
  // before they are restored.
  changed("own", get().own);
  draw(get().own);
  subscribe((s) => {
    if (!changed("own", s.own)) return;
    draw(s.own);
    persist.saveOwn(s.own);
  });
}
