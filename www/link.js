// A shared link read, before anything uses it: its length bounded, its backend, dataset and
// options each checked as people write them (options.js) and then by Rust's check (the caller
// passes it in), what fails named with its reason and never replaced. Pure: no page, no worker
// (actions/link.js applies what is read).
import * as check from "./checks.js";
import { t } from "./i18n.js";
import * as opts from "./options.js";

/** A query longer than this is not read at all (a shared link is a few hundred characters). */
export const MAX_LINK = 4096;

// An option whose range depends on another's: when Rust names the dependent one, the link's
// value of the other is the one refused.
const DEPENDS_ON = { decayEpochs: "epochs", warmupEpochs: "epochs", batchSize: "preset" };

/** A link's parameters, read before anything uses them: `{params, backend, refused, tooLong}`.
 * The backend is one of `backends` or "auto" (a refused one is said). */
export function readLink(search, backends) {
  const link = { params: new URLSearchParams(), backend: "auto", refused: [], tooLong: 0 };
  if (search.length > MAX_LINK) return { ...link, tooLong: search.length };
  link.params = new URLSearchParams(search);
  if (link.params.has("backend")) {
    const b = link.params.get("backend");
    if (backends.includes(b)) link.backend = b;
    else link.refused.push({ name: "backend", value: b, reason: t("link.notOffered", { values: backends.join(", ") }) });
  }
  return link;
}

/** What a link's parameters ask for, as the page's own checks read them (`opts.TRAIN` filled):
 * `{dataset, given, unknown, refused}`, where `given` says whether it sets any option, `dataset`
 * is one of `datasets` or null, `unknown` the keys that mean nothing here. */
export function linkAsks(link, datasets) {
  const keys = [...opts.TRAIN.map((f) => f.name), "dataset", "backend"];
  const params = link.params;
  const refused = [...link.refused];
  const unknown = [...new Set(params.keys())].filter((k) => !keys.includes(k));
  let dataset = null;
  if (params.has("dataset")) {
    const d = params.get("dataset");
    if (datasets.includes(d)) dataset = d;
    else refused.push({ name: "dataset", value: d, reason: t("link.notOffered", { values: datasets.join(", ") }) });
  }
  return { dataset, given: opts.TRAIN.some((f) => params.has(f.name)), unknown, refused };
}

/** The link's options over `base` (the form's), each read as people write it and then through
 * `checkOptions` (Rust's check: `{field, message}` or null) until what is left passes: a value
 * Rust names (or the one it depends on) is refused and the form's kept; a failure naming none of
 * the link's values refuses them all. `{options, names, refused}`: `names` the options applied. */
export async function linkOptions(params, base, presets, checkOptions) {
  const read = opts.fromQuery(opts.TRAIN, params, base, presets);
  const refused = [...read.refused];
  let { options, names } = read;
  for (let tries = 0; names.length && tries <= opts.TRAIN.length; tries++) {
    const problem = await checkOptions(options).catch((e) => ({ field: null, message: e.message }));
    if (!problem) break;
    const field = names.includes(problem.field) ? problem.field : names.includes(DEPENDS_ON[problem.field]) ? DEPENDS_ON[problem.field] : null;
    const culprits = field ? [field] : names;
    for (const n of culprits) {
      refused.push({ name: n, value: params.get(n), reason: problem.message });
      options = { ...options, [n]: base[n] };
    }
    names = names.filter((n) => !culprits.includes(n));
  }
  return { options, names, refused };
}

/** A refused value as the messages say it. */
export const describeRefused = (r) => t("link.refusedOne", { name: r.name, value: check.describe(r.value), reason: r.reason });
