//! The calls the property test makes, and how they are drawn: each argument from valid values,
//! edges (0, one past a limit, 2^32, 2^53, usize::MAX) and garbage (NaN, infinities, unknown
//! names, random or cut bytes), as the page's worker could send them after JavaScript's
//! numbers and strings cross the wasm shim.

use rand::RngExt;
use rand::rngs::StdRng;
use vanillanet::model::Weights;
use vanillanet::session::{BackendRequest, WhenAnnealed};
use vanillanet::train::evaluation::Evaluated;

/// The bytes an argument is made of, resolved when the call is made (an export or a snapshot
/// of the session as it is then), so that a seed replays.
#[derive(Clone, Debug)]
pub enum Bytes {
    Empty,
    Png,
    Random(usize),
    /// The classifier exported (safetensors), else a PNG.
    Model,
    /// The trainer's snapshot, else a PNG.
    Snapshot,
    /// A model file or a snapshot made before (the `i`-th, modulo how many), else a PNG: one
    /// from another net, other data, another classifier.
    Earlier(usize),
    /// The first `at` (of a thousand) parts of the inner bytes.
    Cut(Box<Bytes>, u16),
    /// The inner bytes with a few bits flipped.
    Flipped(Box<Bytes>, u64),
}

/// Edits of the base training options (the integration tests' small nano_28 run).
#[derive(Clone, Debug)]
pub enum Edit {
    Preset(String),
    Count(&'static str, usize),
    Number(&'static str, f64),
    Seed(u64),
    Flag(&'static str, bool),
    Choice(&'static str, usize),
}

/// The dataset a case starts from (or is given later).
#[derive(Clone, Debug)]
pub enum Data {
    Halves {
        train: usize,
        test: usize,
    },
    /// The page's own images: `Dataset::labelled` with this shape, images and classes.
    Own {
        shape: [usize; 3],
        images: usize,
        classes: usize,
        extra_bytes: usize,
    },
    /// A dataset file of random bytes (`Dataset::from_bytes`).
    File(usize),
}

#[derive(Clone, Debug)]
pub enum Call {
    SetData(Data),
    Train(Vec<Edit>, Option<usize>, Option<usize>),
    Step(Vec<Edit>),
    /// Claims the loop and runs up to this many steps of it.
    Advance(usize),
    Pause,
    Resume,
    Reset,
    SetOptions(Vec<Edit>),
    CheckOptions(Vec<Edit>),
    Schedule(Vec<Edit>, usize),
    FinishAnnealing(WhenAnnealed),
    Evaluation(Evaluated),
    EvaluationCell(Evaluated, usize, usize, usize),
    Accuracy(Weights, Option<usize>),
    Fuse(Option<usize>, Option<Weights>),
    Classify(Bytes, usize),
    ExportModel,
    ExportOnnx,
    ExportTraining(Option<Weights>),
    LoadCheckpoint(Bytes),
    UseCheckpoint(Option<String>, Option<Vec<usize>>),
    RandomClassifier(String, usize),
    /// `values` inputs of one value for a batch of `batch`.
    Logits {
        values: usize,
        batch: usize,
        value: f32,
    },
    /// Logits for exactly the classifier's input shape times `batch`.
    LogitsFitting(usize),
    /// Logits for a few values, with the batch whose product with the input's size wraps
    /// around to their count.
    LogitsWrapping,
    FeatureMaps(Option<u64>, Option<Bytes>, usize, bool, Option<usize>),
    Activation(usize, usize, Vec<f32>),
    Watch(usize, usize),
    Fusion(usize),
    SetProbeEvery(usize),
    /// A study of this kind, seeds, images, its training edits; continuing the last report
    /// (with its runs cut to `keep`) or a fresh one.
    StudyRun {
        study: usize,
        seeds: usize,
        train_images: Option<usize>,
        edits: Vec<Edit>,
        saved: Option<usize>,
    },
    StudyPause,
    StudyResume,
    StudyReport,
    StudyDiscard,
    Snapshot,
    Restore(Bytes, Option<f32>),
    SetBackend(BackendRequest),
    WarmUp,
    Status,
    /// The data's calls beside the session's: a test image's pixels, thumbnails per class.
    TestImage(usize),
    Samples(usize),
}

/// An index or count: small valid ones mostly, else an edge.
pub fn index(g: &mut StdRng, valid: usize) -> usize {
    const EDGES: [usize; 7] = [0, 1, 1 << 20, 1 << 32, (1 << 53) + 1, usize::MAX - 1, usize::MAX];
    match g.random_range(0..4) {
        0 => EDGES[g.random_range(0..EDGES.len())],
        _ => g.random_range(0..=valid),
    }
}

fn maybe<T>(g: &mut StdRng, value: impl FnOnce(&mut StdRng) -> T) -> Option<T> {
    if g.random_bool(0.3) { None } else { Some(value(g)) }
}

fn number(g: &mut StdRng) -> f64 {
    const ODD: [f64; 10] = [0.0, -0.0, -1.0, 1.0, 1e-300, 1e308, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.5];
    if g.random_bool(0.5) { ODD[g.random_range(0..ODD.len())] } else { g.random_range(0.0..1.0) }
}

pub fn name(g: &mut StdRng, valid: &[&str]) -> String {
    const ODD: [&str; 6] = ["", "nano", "NANO_28", "vanillanet_99", "nano_28\0", "../../etc/passwd"];
    match g.random_range(0..5) {
        0 => ODD[g.random_range(0..ODD.len())].into(),
        1 => "x".repeat(g.random_range(1..5000)),
        _ => valid[g.random_range(0..valid.len())].into(),
    }
}

/// A few edits of the options, each one field to an edge or a garbage value (most draws
/// leave the options valid so that training goes on).
pub fn edits(g: &mut StdRng) -> Vec<Edit> {
    const COUNTS: [&str; 5] = ["actNum", "decayEpochs", "cropPadding", "batchSize", "epochs"];
    const NUMBERS: [&str; 8] = [
        "learningRate",
        "warmupEpochs",
        "weightDecay",
        "labelSmoothing",
        "dropRate",
        "emaDecay",
        "erasing",
        "momentum",
    ];
    const FLAGS: [&str; 3] = ["deepTraining", "perStep", "mirror"];
    const CHOICES: [&str; 4] = ["shortcut", "schedule", "optimizer", "lrSchedule"];
    let n = if g.random_bool(0.5) { 0 } else { g.random_range(1..=3) };
    (0..n)
        .map(|_| match g.random_range(0..6) {
            0 => Edit::Preset(name(g, &["nano_28", "nano_28"])),
            1 => Edit::Count(COUNTS[g.random_range(0..COUNTS.len())], index(g, 6)),
            2 => Edit::Number(NUMBERS[g.random_range(0..NUMBERS.len())], number(g)),
            3 => Edit::Seed([0, 7, (1 << 53) - 1, 1 << 53, u64::MAX][g.random_range(0..5)]),
            4 => Edit::Flag(FLAGS[g.random_range(0..FLAGS.len())], g.random_bool(0.5)),
            _ => Edit::Choice(CHOICES[g.random_range(0..CHOICES.len())], g.random_range(0..3)),
        })
        .collect()
}

pub fn bytes(g: &mut StdRng) -> Bytes {
    let plain = match g.random_range(0..7) {
        5 | 6 => Bytes::Earlier(g.random_range(0..8)),
        0 => Bytes::Empty,
        1 => Bytes::Random(g.random_range(1..4096)),
        2 => Bytes::Model,
        3 => Bytes::Snapshot,
        _ => Bytes::Png,
    };
    match g.random_range(0..4) {
        0 => Bytes::Cut(Box::new(plain), g.random_range(0..1000)),
        1 => Bytes::Flipped(Box::new(plain), g.random_range(0..u64::MAX)),
        _ => plain,
    }
}

pub fn data(g: &mut StdRng) -> Data {
    match g.random_range(0..6) {
        0 => Data::Own {
            shape: [index(g, 3), index(g, 40), index(g, 40)],
            images: g.random_range(0..12),
            classes: g.random_range(0..4),
            extra_bytes: [0, 0, 1][g.random_range(0..3)],
        },
        1 => Data::File(g.random_range(0..200)),
        _ => Data::Halves { train: [1, 2, 5, 16, 48][g.random_range(0..5)], test: [0, 1, 8, 32][g.random_range(0..4)] },
    }
}

fn weights(g: &mut StdRng) -> Weights {
    if g.random_bool(0.5) { Weights::Trained } else { Weights::Ema }
}

fn evaluated(g: &mut StdRng) -> Evaluated {
    [Evaluated::Trained, Evaluated::Ema, Evaluated::Fused][g.random_range(0..3)]
}

fn strides(g: &mut StdRng) -> Vec<usize> {
    match g.random_range(0..4) {
        0 => vec![],
        1 => vec![2, 2, 2],
        2 => vec![1; g.random_range(1..200)],
        _ => (0..g.random_range(1..6)).map(|_| index(g, 3)).collect(),
    }
}

/// How a case begins (after its data): as it is, or with a few steps and a fuse, or with a
/// random classifier, so that the calls drawn after find something to work on.
pub fn preamble(g: &mut StdRng) -> Vec<Call> {
    match g.random_range(0..4) {
        0 => vec![],
        1 => vec![Call::RandomClassifier("nano_28".into(), g.random_range(16..64))],
        _ => {
            let mut calls = vec![Call::Step(vec![]); g.random_range(1..5)];
            calls.push(Call::Fuse(Some(8), None));
            if g.random_bool(0.5) {
                calls.extend([Call::LoadCheckpoint(Bytes::Model), Call::UseCheckpoint(None, None)]);
            }
            calls
        }
    }
}

/// One call, its kind drawn with the weights below (training and stepping often enough that
/// the later calls find a trainer, a classifier, a checkpoint read).
pub fn call(g: &mut StdRng) -> Call {
    match g.random_range(0..44) {
        0 => Call::SetData(data(g)),
        1..=3 => Call::Train(edits(g), maybe(g, |g| index(g, 8)), maybe(g, |g| index(g, 40))),
        4..=6 => Call::Step(edits(g)),
        7..=8 => Call::Advance(g.random_range(1..4)),
        9 => [Call::Pause, Call::Resume, Call::Reset][g.random_range(0..3)].clone(),
        10 => Call::SetOptions(edits(g)),
        11 => Call::CheckOptions(edits(g)),
        12 => Call::Schedule(edits(g), index(g, 2000)),
        13 => Call::FinishAnnealing(match g.random_range(0..3) {
            0 => WhenAnnealed::Pause,
            1 => WhenAnnealed::Fuse(None),
            _ => WhenAnnealed::Fuse(Some(weights(g))),
        }),
        14 => Call::Evaluation(evaluated(g)),
        15 => Call::EvaluationCell(evaluated(g), index(g, 3), index(g, 3), index(g, 10)),
        16 => Call::Accuracy(weights(g), maybe(g, |g| index(g, 40))),
        17..=18 => Call::Fuse(maybe(g, |g| index(g, 40)), maybe(g, weights)),
        19..=20 => Call::Classify(bytes(g), index(g, 5)),
        21 => [Call::ExportModel, Call::ExportOnnx][g.random_range(0..2)].clone(),
        22 => Call::ExportTraining(maybe(g, weights)),
        23..=24 => Call::LoadCheckpoint(bytes(g)),
        25 => Call::UseCheckpoint(None, None),
        26 => {
            Call::UseCheckpoint(maybe(g, |g| name(g, &["vanillanet_5", "nano_28", "vanillanet_13"])), maybe(g, strides))
        }
        27 => Call::RandomClassifier(name(g, &["nano_28"]), index(g, 64)),
        28 => Call::Logits { values: g.random_range(0..3000), batch: index(g, 3), value: number(g) as f32 },
        29 => [Call::LogitsFitting(g.random_range(0..3)), Call::LogitsWrapping][g.random_range(0..4) / 3].clone(),
        30..=31 => Call::FeatureMaps(
            g.random_bool(0.7).then(|| [index(g, 20) as u64, u64::MAX][g.random_range(0..8) / 7]),
            g.random_bool(0.4).then(|| bytes(g)),
            index(g, 4),
            g.random_bool(0.4),
            maybe(g, |g| index(g, 70)),
        ),
        32 => {
            Call::Activation(index(g, 4), index(g, 40), (0..g.random_range(0..50)).map(|_| number(g) as f32).collect())
        }
        33 => Call::Watch(index(g, 4), index(g, 40)),
        34 => Call::Fusion(index(g, 5)),
        35 => Call::SetProbeEvery(index(g, 20)),
        36 => Call::StudyRun {
            study: g.random_range(0..3),
            seeds: index(g, 2),
            train_images: maybe(g, |g| index(g, 24)),
            edits: edits(g),
            saved: maybe(g, |g| g.random_range(0..3)),
        },
        37 => {
            [Call::StudyPause, Call::StudyResume, Call::StudyReport, Call::StudyDiscard][g.random_range(0..4)].clone()
        }
        38 => Call::Snapshot,
        39 => Call::Restore(bytes(g), maybe(g, |g| number(g) as f32)),
        40 => {
            Call::SetBackend([BackendRequest::Cpu, BackendRequest::Auto, BackendRequest::Webgpu][g.random_range(0..3)])
        }
        41 => [Call::WarmUp, Call::TestImage(index(g, 20)), Call::Samples(index(g, 5))][g.random_range(0..3)].clone(),
        _ => Call::Status,
    }
}
