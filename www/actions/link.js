// Shared links: the form's options, dataset and backend as a link, and a link's parameters read
// back, each checked (as people write it, then by Rust) before anything uses it.
import * as check from "../checks.js";
import { call } from "../client.js";
import { $, fieldLabel } from "../dom.js";
import { t } from "../i18n.js";
import * as opts from "../options.js";
import { get, message } from "../state.js";
import { BACKENDS, DATASETS, loadDataset } from "./session.js";
import { formOptions, refreshSchedule, setForm, trainForm } from "./training.js";

/** A link to this page that opens it with these options, dataset and backend. */
export function shareLink() {
  const s = get();
  const params = opts.toQuery(opts.TRAIN, formOptions());
  if (DATASETS.includes(s.datasetName)) params.set("dataset", s.datasetName);
  params.set("backend", $("backend-select").value);
  return `${location.origin}${location.pathname}?${params}`;
}

/** A query longer than this is not read at all (a shared link is a few hundred characters). */
export const MAX_LINK = 4096;
const linkKeys = () => [...opts.TRAIN.map((f) => f.name), "dataset", "backend"];

/** A link's parameters, read before anything uses them: `{params, backend, refused, tooLong}`.
 * The backend is one of the known names or "auto" (a refused one is said). */
export function readLink(search = location.search) {
  const link = { params: new URLSearchParams(), backend: "auto", refused: [], tooLong: 0 };
  if (search.length > MAX_LINK) return { ...link, tooLong: search.length };
  link.params = new URLSearchParams(search);
  if (link.params.has("backend")) {
    const b = link.params.get("backend");
    if (BACKENDS.includes(b)) link.backend = b;
    else link.refused.push({ name: "backend", value: b, reason: t("link.notOffered", { values: BACKENDS.join(", ") }) });
  }
  return link;
}

// An option whose range depends on another's: when Rust names the dependent one, the link's
// value of the other is the one refused.
const DEPENDS_ON = { decayEpochs: "epochs", warmupEpochs: "epochs", batchSize: "preset" };

/** What a shared link sets, applied unless a saved model is open (which it would replace). Every
 * value goes through the form's checks first — read as people write them, then Rust's
 * `TrainOptions::check` — and one that fails is named in a message and not applied. */
export async function applyLink(link) {
  const described = (r) => t("link.refusedOne", { name: r.name, value: check.describe(r.value), reason: r.reason });
  const refused = [...link.refused];
  // Keys the table does not have (known once the tables are in).
  const unknown = [...new Set(link.params.keys())].filter((k) => !linkKeys().includes(k));
  const say = () => {
    if (link.tooLong) message(t("link.tooLongAll", { n: link.tooLong }));
    if (refused.length) message(t("link.refused", { what: refused.map(described).join("; ") }));
    if (unknown.length) {
      const names = unknown.slice(0, 5).map((k) => check.describe(k));
      message(t("link.unknown", { names: names.join(", "), more: unknown.length - names.length }), "info");
    }
  };
  const params = link.params;
  let dataset = null;
  if (params.has("dataset")) {
    const d = params.get("dataset");
    if (DATASETS.includes(d)) dataset = d;
    else refused.push({ name: "dataset", value: d, reason: t("link.notOffered", { values: DATASETS.join(", ") }) });
  }
  const given = opts.TRAIN.some((f) => params.has(f.name));
  if (!given && !dataset) return say();
  if (get().model) {
    say();
    message(t("link.notApplied"), "info");
    return;
  }
  if (dataset && dataset !== get().datasetName) await loadDataset(dataset);
  const base = formOptions();
  // A preset only among those the data has (the form's choices).
  const presets = [...trainForm().elements.preset.options].map((o) => o.value);
  const read = opts.fromQuery(opts.TRAIN, params, base, presets);
  refused.push(...read.refused);
  let { options, names } = read;
  // Rust's check, until what is left passes: each value it names is refused and the form's kept.
  for (let tries = 0; names.length && tries <= opts.TRAIN.length; tries++) {
    const problem = await call("checkOptions", { options }).catch((e) => ({ field: null, message: e.message }));
    if (!problem) break;
    const field = names.includes(problem.field) ? problem.field : names.includes(DEPENDS_ON[problem.field]) ? DEPENDS_ON[problem.field] : null;
    // Not one of the link's values (nor what it depends on): none of them is used.
    const culprits = field ? [field] : names;
    for (const n of culprits) {
      refused.push({ name: n, value: params.get(n), reason: problem.message });
      options = { ...options, [n]: base[n] };
    }
    names = names.filter((n) => !culprits.includes(n));
  }
  for (const r of refused) if (opts.TRAIN.some((f) => f.name === r.name)) r.name = fieldLabel(trainForm(), r.name);
  if (names.length) setForm(options);
  await refreshSchedule();
  const said = names.map((n) => `${fieldLabel(trainForm(), n)} ${options[n]}`);
  const what = [...(dataset ? [t("link.dataset", { name: dataset })] : []), ...said];
  if (what.length) message(t("link.set", { what: what.join(", ") }), "info");
  say();
}
