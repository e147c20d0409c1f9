// A small options table shaped as Rust's (`TrainOptions::table()`, src/train/table.rs: name,
// path, flag, kind and bounds, default, help), for the unit tests of the page's modules that
// read it. Not Rust's own: the page takes whatever table Rust gives, these tests what it does
// with one.
const row = (name, kind, extra, def, path = [name]) => ({ name, path, flag: name, kind, ...extra, default: def, help: "" });

export const TABLES = {
  train: [
    row("preset", "preset", {}, "fine_wide_28"),
    row("epochs", "integer", { min: 1, max: 1000 }, 2),
    row("decayEpochs", "integer", { min: 0, max: 1000 }, 1),
    row("batchSize", "integer", { min: 1, max: 4096 }, 32),
    row("learningRate", "number", { min: 0, max: 10, above: true, below: false }, 0.01),
    row("deepTraining", "boolean", {}, true),
    row("schedule", "choice", { values: ["cosine", "linear"] }, "cosine"),
    row("trainLimit", "count", { max: 60000 }, null),
    row("seed", "integer", { min: 0, max: 2 ** 53 - 1 }, 42),
  ],
  study: [
    row("study", "choice", { values: ["lambda", "depth"] }, "lambda"),
    row("seeds", "integer", { min: 1, max: 10 }, 2),
    row("epochs", "integer", { min: 1, max: 1000 }, 2, ["train", "epochs"]),
  ],
};
