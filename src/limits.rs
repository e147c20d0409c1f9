//! The one table of bounds on the whole numbers the command line and the page take, besides the
//! training options (whose bounds are their own table's, `TrainOptions::table`): each row its
//! range, what it counts and the arguments it bounds. The CLI's flags parse with these ranges
//! (a value past one is a usage error, exit 2, before anything is read or allocated), the
//! session's `Limits` hands the page the same numbers, and the CLI tests run every argument of
//! [`TABLE`] at `min - 1` and `max + 1`.
//!
//! Bounds that no flag sets but a file can (model files, images, labels, datasets, a logits
//! input) are here too, as bytes or a tensor's size, so that no command allocates past a
//! stated bound: a file past its bound is refused before it is read.

use serde::Serialize;

use crate::bench;
use crate::data::preprocess::{MAX_DECODED_BYTES, MAX_INPUT_SIDE};
use crate::model::config::{MAX_BLOCKS, MAX_CLASSES, MAX_PARAMS};
use crate::train::inside::{MAX_EVERY, MAX_TILES};
use crate::train::options::MAX_SEED;

/// A whole number's bounds (both included), what it counts, the command-line arguments it
/// bounds (`"bench --batches"`; `"--threads"` is before the command), and its most's name in
/// the page's `Limits` where the page takes it too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bound {
    pub min: u64,
    pub max: u64,
    pub what: &'static str,
    pub arguments: &'static [&'static str],
    pub page: Option<&'static str>,
}

impl Bound {
    pub fn contains(&self, n: u64) -> bool {
        (self.min..=self.max).contains(&n)
    }

    /// As help texts and messages say it: "1 to 256".
    pub fn range(&self) -> String {
        format!("{} to {}", self.min, self.max)
    }

    /// The most, as a size or count in memory (every bound fits a `usize`, on wasm32 too).
    pub const fn most(&self) -> usize {
        self.max as usize
    }
}

/// Threads of the CPU backend's pool (the page's own bound also depends on the machine's cores).
pub const THREADS: Bound = Bound { min: 1, max: 1024, what: "CPU threads", arguments: &["--threads"], page: None };

/// A network's input side in pixels, and the side a folder's images are resized to.
pub const INPUT_SIDE: Bound = Bound {
    min: 1,
    max: MAX_INPUT_SIDE as u64,
    what: "an input side in pixels",
    arguments: &[
        "classify --size",
        "info --size",
        "init --size",
        "export-onnx --size",
        "train --image-size",
        "ablate --image-size",
    ],
    page: Some("maxInputSide"),
};

/// Classes printed per image (no net has more classes).
pub const TOP: Bound =
    Bound { min: 1, max: MAX_CLASSES as u64, what: "classes shown", arguments: &["classify --top"], page: None };

/// A seed, as the page holds it exactly (a double's whole numbers), like the training seed.
pub const SEED: Bound =
    Bound { min: 0, max: MAX_SEED, what: "a seed", arguments: &["init --seed", "transfer --seed"], page: None };

/// A benchmark's input side (`NAME@SIZE`).
pub const BENCH_SIZE: Bound = Bound {
    min: 1,
    max: bench::MAX_SIZE as u64,
    what: "a benchmark's input side",
    arguments: &["bench --models"],
    page: Some("maxBenchSize"),
};

/// Images in a benchmark's batch, inference and training alike.
pub const BENCH_BATCH: Bound = Bound {
    min: 1,
    max: bench::MAX_BATCH as u64,
    what: "a benchmark's batch",
    arguments: &["bench --batches", "bench --train-batch"],
    page: Some("maxBenchBatch"),
};

/// Timed runs of a benchmark, and timed training steps.
pub const BENCH_RUNS: Bound = Bound {
    min: 1,
    max: bench::MAX_RUNS as u64,
    what: "timed runs",
    arguments: &["bench --runs", "bench --train-steps"],
    page: Some("maxBenchRuns"),
};

/// Untimed runs before the timed ones (the page's most is the runs' too).
pub const BENCH_WARMUP: Bound = Bound {
    min: 0,
    max: bench::MAX_RUNS as u64,
    what: "warm-up runs",
    arguments: &["bench --warmup"],
    page: Some("maxBenchRuns"),
};

/// Cases one benchmark times: models x batches on the command line, `MODEL@SIZE:BATCH` in the page.
pub const BENCH_CASES: Bound = Bound {
    min: 1,
    max: bench::MAX_CASES as u64,
    what: "benchmark cases (models x batches)",
    arguments: &["bench --models"],
    page: Some("maxBenchCases"),
};

/// Steps between two probes of the decay (0: none).
pub const PROBE_EVERY: Bound = Bound {
    min: 0,
    max: MAX_EVERY as u64,
    what: "steps between probes",
    arguments: &["train --probe-every"],
    page: Some("maxProbeEvery"),
};

/// Feature-map tiles answered, most active first.
pub const TILES: Bound = Bound {
    min: 1,
    max: MAX_TILES as u64,
    what: "feature-map tiles",
    arguments: &["inspect --tiles"],
    page: Some("maxTiles"),
};

/// The part whose feature maps are looked at: 0 the stem, i the i-th block.
pub const BLOCK: Bound =
    Bound { min: 0, max: MAX_BLOCKS as u64, what: "a block", arguments: &["inspect --block"], page: Some("maxBlocks") };

/// Steps a new head trains on a checkpoint's features (each a pass over them all).
pub const HEAD_STEPS: Bound = Bound {
    min: 1,
    max: crate::train::transfer::head::MAX_STEPS as u64,
    what: "head training steps",
    arguments: &["transfer --steps"],
    page: None,
};

/// Every bound above.
pub const TABLE: &[Bound] = &[
    THREADS,
    INPUT_SIDE,
    TOP,
    SEED,
    BENCH_SIZE,
    BENCH_BATCH,
    BENCH_RUNS,
    BENCH_WARMUP,
    BENCH_CASES,
    PROBE_EVERY,
    TILES,
    BLOCK,
    HEAD_STEPS,
];

/// The most a `--labels` file may hold: a name of 160 bytes for each of the most classes.
pub const MAX_LABELS_BYTES: u64 = 160 * MAX_CLASSES as u64;

/// The most a model file may be: two copies (`model` and `model_ema`) of the most parameters a
/// net may have, in f32, and room for the rest (the page's own bound is lower: its heap is 4 GB).
pub const MAX_CHECKPOINT_BYTES: u64 = 2 * 4 * MAX_PARAMS as u64 + (64 << 20);

/// The most an image file may be: what it may decode to (an encoded image is smaller).
pub const MAX_IMAGE_FILE_BYTES: u64 = MAX_DECODED_BYTES;

/// The most a dataset may hold in memory: a `.vnds` file, or a folder's images at their size.
pub const MAX_DATASET_BYTES: u64 = 2 << 30;

/// The images in the tensor `input` that `logits` runs (a benchmark's batch), each of a side
/// within [`INPUT_SIDE`], the forward bounded in all as a benchmark case's
/// (`bench::MAX_CASE_BYTES`): so the input file is at most that too.
pub const LOGITS_BATCH: Bound =
    Bound { min: 1, max: bench::MAX_BATCH as u64, what: "images in logits' input", arguments: &[], page: None };
