// Shared links: the form's options, dataset and backend as a link, and a link's parameters
// applied, each checked first (as people write it, then by Rust: link.js).
import * as check from "../checks.js";
import { call } from "../client.js";
import { $, fieldLabel } from "../dom.js";
import { t } from "../i18n.js";
import { describeRefused, linkAsks, linkOptions, readLink as readLinkOf } from "../link.js";
import * as opts from "../options.js";
import { get, message } from "../state.js";
import { BACKENDS, DATASETS } from "../names.js";
import { loadDataset } from "./session.js";
import { formOptions, refreshSchedule, setForm, trainForm } from "./training.js";

/** A link to this page that opens it with these options, dataset and backend. */
export function shareLink() {
  const s = get();
  const params = opts.toQuery(opts.TRAIN, formOptions());
  if (DATASETS.includes(s.datasetName)) params.set("dataset", s.datasetName);
  params.set("backend", $("backend-select").value);
  return `${location.origin}${location.pathname}?${params}`;
}

/** A link's parameters (the page's own, unless `search` is given), read before anything uses
 * them (link.js). */
export const readLink = (search = location.search) => readLinkOf(search, BACKENDS);

/** What a shared link sets, applied unless a saved model is open (which it would replace). Every
 * value goes through the form's checks first — read as people write them, then Rust's
 * `TrainOptions::check` — and one that fails is named in a message and not applied (link.js). */
export async function applyLink(link) {
  const { dataset, given, unknown, refused } = linkAsks(link, DATASETS);
  const say = () => {
    if (link.tooLong) message(t("link.tooLongAll", { n: link.tooLong }));
    if (refused.length) message(t("link.refused", { what: refused.map(describeRefused).join("; ") }));
    if (unknown.length) {
      const names = unknown.slice(0, 5).map((k) => check.describe(k));
      message(t("link.unknown", { names: names.join(", "), more: unknown.length - names.length }), "info");
    }
  };
  if (!given && !dataset) return say();
  if (get().model) {
    say();
    message(t("link.notApplied"), "info");
    return;
  }
  if (dataset && dataset !== get().datasetName) await loadDataset(dataset);
  // A preset only among those the data has (the form's choices).
  const presets = [...trainForm().elements.preset.options].map((o) => o.value);
  const read = await linkOptions(link.params, formOptions(), presets, (options) => call("checkOptions", { options }));
  refused.push(...read.refused);
  const { options, names } = read;
  for (const r of refused) if (opts.TRAIN.some((f) => f.name === r.name)) r.name = fieldLabel(trainForm(), r.name);
  if (names.length) setForm(options);
  await refreshSchedule();
  const said = names.map((n) => `${fieldLabel(trainForm(), n)} ${options[n]}`);
  const what = [...(dataset ? [t("link.dataset", { name: dataset })] : []), ...said];
  if (what.length) message(t("link.set", { what: what.join(", ") }), "info");
  say();
}
