//! Makes one drawn call on the session, as the wasm shim would after converting the page's
//! values: the options edited, the dataset built (`Dataset::labelled`, `Dataset::from_bytes`,
//! as the shim's `ownDataset` and `loadDataset` do), the bytes resolved, futures run with
//! `pollster` as the other session tests do.

use pollster::block_on;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use vanillanet::data::dataset::Dataset;
use vanillanet::model::config::Shortcut;
use vanillanet::session::{Session, SessionError};
use vanillanet::train::lambda::LambdaShape;
use vanillanet::train::lr::LrShape;
use vanillanet::train::options::{OptimizerKind, TrainOptions};
use vanillanet::train::study::{Study, StudyOptions, StudyReport};
use vanillanet::train::table::Limit;

use super::draw::{Bytes, Call, Data, Edit};
use crate::common;

pub type Answer = Result<(), SessionError>;

/// What the case keeps between calls: the last study report (to continue it), every model file
/// and snapshot made (to give them to a session that has changed since).
#[derive(Default)]
pub struct State {
    study: Option<StudyReport>,
    kept: Vec<Vec<u8>>,
}

pub fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| p.downcast_ref::<String>().cloned()).unwrap_or_default()
}

/// The calls so far, on disk before each is made: an abort leaves no panic to report.
pub fn write_log(seed: u64, log: &[String]) {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("session_calls.log");
    let _ = std::fs::write(path, format!("case seed {seed}\n{}\n", log.join("\n")));
}

/// The integration tests' small nano_28 run with `edits`.
pub fn options(base: TrainOptions, edits: &[Edit]) -> TrainOptions {
    let mut o = base;
    for edit in edits {
        match edit.clone() {
            Edit::Preset(p) => o.preset = p,
            Edit::Count(field, v) => match field {
                "actNum" => o.act_num = v,
                "decayEpochs" => o.decay_epochs = v,
                "cropPadding" => o.crop_padding = v,
                "batchSize" => o.batch_size = v,
                _ => o.epochs = v,
            },
            Edit::Number(field, v) => match field {
                "learningRate" => o.learning_rate = v,
                "warmupEpochs" => o.warmup_epochs = v,
                "weightDecay" => o.weight_decay = v,
                "labelSmoothing" => o.label_smoothing = v,
                "dropRate" => o.drop_rate = v,
                "emaDecay" => o.ema_decay = v,
                "erasing" => o.erasing = v,
                _ => o.momentum = v,
            },
            Edit::Seed(v) => o.seed = v,
            Edit::Flag(field, v) => match field {
                "deepTraining" => o.deep_training = v,
                "perStep" => o.per_step = v,
                _ => o.mirror = v,
            },
            Edit::Choice(field, i) => match field {
                "shortcut" => o.shortcut = [Shortcut::None, Shortcut::BeforeAct, Shortcut::AfterAct][i % 3],
                "schedule" => o.schedule = [LambdaShape::Linear, LambdaShape::Cosine][i % 2],
                "optimizer" => o.optimizer = OptimizerKind::ALL[i % 2],
                _ => o.lr_schedule = [LrShape::Constant, LrShape::Cosine][i % 2],
            },
        }
    }
    o
}

/// nano_28 on 48 images, 3 steps an epoch: lambda is 1 after the first epoch of two, so that
/// a few steps make a net that fuses.
fn train_options(edits: &[Edit]) -> TrainOptions {
    options(TrainOptions { epochs: 2, decay_epochs: 1, ..common::nano_options() }, edits)
}

fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut g = StdRng::seed_from_u64(seed);
    (0..n).map(|_| g.random()).collect()
}

fn png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([(x * 6) as u8, (y * 8) as u8, 90]));
    let mut bytes = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
    bytes
}

/// `bytes` (else a PNG), kept for later calls: the last eight.
fn keep(kept: &mut Vec<Vec<u8>>, bytes: Option<Vec<u8>>) -> Vec<u8> {
    if kept.len() == 8 {
        kept.remove(0);
    }
    kept.extend(bytes.clone());
    bytes.unwrap_or_else(png)
}

fn resolve(s: &Session, kept: &mut Vec<Vec<u8>>, b: &Bytes) -> Vec<u8> {
    match b {
        Bytes::Empty => Vec::new(),
        Bytes::Png => png(),
        Bytes::Random(n) => random_bytes(*n, *n as u64),
        Bytes::Model => keep(kept, block_on(s.export_model()).ok()),
        Bytes::Snapshot => keep(kept, block_on(s.snapshot()).ok().map(|(b, _)| b)),
        Bytes::Earlier(i) => kept.get(i % kept.len().max(1)).cloned().unwrap_or_else(png),
        Bytes::Cut(inner, at) => {
            let mut v = resolve(s, kept, inner);
            v.truncate(v.len() * *at as usize / 1000);
            v
        }
        Bytes::Flipped(inner, seed) => {
            let mut v = resolve(s, kept, inner);
            let mut g = StdRng::seed_from_u64(*seed);
            for _ in 0..g.random_range(1..8) {
                if !v.is_empty() {
                    let i = g.random_range(0..v.len());
                    v[i] ^= 1 << g.random_range(0..8);
                }
            }
            v
        }
    }
}

fn dataset(d: &Data) -> vanillanet::Result<Dataset> {
    match *d {
        Data::Halves { train, test } => Dataset::new(
            "halves",
            vec!["left".into(), "right".into()],
            [1, 28, 28],
            common::halves(train, 1),
            common::halves(test, 2),
        ),
        Data::Own { shape, images, classes, extra_bytes } => {
            // Pixels for the shape where they fit in memory; else as many as the page could send.
            let image = shape.iter().try_fold(1usize, |a, &b| a.checked_mul(b)).filter(|&n| n <= 1 << 16);
            let pixels = vec![128u8; image.unwrap_or(1) * images + extra_bytes];
            let labels: Vec<u8> = (0..images).map(|i| (i % (classes + 1)) as u8).collect();
            let names = (0..classes).map(|c| format!("class {c}")).collect();
            Dataset::labelled("own images", names, shape, &pixels, &labels)
        }
        Data::File(n) => Dataset::from_bytes("file", &[b"VNDS".as_slice(), &random_bytes(n, n as u64)].concat()),
    }
}

/// A count of values and a batch whose product with `image` (the values of one input) wraps
/// around to that count: `batch * image = values` modulo 2^64 (2^32 on wasm).
pub fn wrapping_batch(image: usize) -> (usize, usize) {
    let (zeros, odd) = (image.trailing_zeros(), image >> image.trailing_zeros());
    // The inverse of an odd number modulo 2^64, by Newton's iteration (each doubles the bits).
    let mut inverse = odd;
    for _ in 0..6 {
        inverse = inverse.wrapping_mul(2usize.wrapping_sub(odd.wrapping_mul(inverse)));
    }
    (1 << zeros, inverse)
}

fn study(s: &mut Session, state: &mut State, call: &Call) -> Answer {
    let Call::StudyRun { study, seeds, train_images, edits, saved } = call else { unreachable!() };
    let base = TrainOptions { epochs: 1, decay_epochs: 1, batch_size: 8, ..common::nano_options() };
    let options = StudyOptions {
        study: Study::ALL[study % 3],
        seeds: *seeds,
        train_images: Limit(*train_images),
        test_images: Limit(Some(8)),
        train: options(base, edits),
    };
    let saved = match (saved, &state.study) {
        (Some(how), Some(report)) => {
            let mut report = report.clone();
            match how {
                0 => {}
                1 => report.runs.truncate(0),
                _ => report.options.seeds += 1,
            }
            Some(report)
        }
        _ => None,
    };
    state.study = Some(s.study_run(options, saved)?);
    Ok(())
}

pub fn make(s: &mut Session, state: &mut State, call: &Call) -> Answer {
    match call {
        Call::SetData(d) => drop(s.set_data(dataset(d)?)),
        Call::Train(edits, every, limit) => s.train(train_options(edits), *every, *limit)?,
        Call::Step(edits) => drop(block_on(s.step_once(train_options(edits)))?),
        Call::Advance(n) => {
            s.claim_loop();
            for _ in 0..*n {
                if !block_on(s.advance()) {
                    break;
                }
            }
            s.end_loop();
        }
        Call::Pause => s.pause(),
        Call::Resume => s.resume()?,
        Call::Reset => s.reset(),
        Call::SetOptions(edits) => drop(s.set_options(train_options(edits))?),
        Call::CheckOptions(edits) => drop(s.check_options(&train_options(edits))?),
        Call::Schedule(edits, points) => drop(s.schedule(&train_options(edits), *points)?),
        Call::FinishAnnealing(then) => drop(s.finish_annealing(*then)?),
        Call::Evaluation(model) => drop(block_on(s.evaluation(*model))?),
        Call::EvaluationCell(model, label, predicted, limit) => {
            drop(s.evaluation_cell(*model, *label, *predicted, *limit)?)
        }
        Call::Accuracy(weights, limit) => drop(block_on(s.accuracy(*weights, *limit))?),
        Call::Fuse(limit, weights) => {
            block_on(s.fuse(*limit, *weights))?;
        }
        Call::Classify(bytes, k) => drop(block_on(s.classify(&resolve(s, &mut state.kept, bytes), *k))?),
        Call::ExportModel => drop(block_on(s.export_model())?),
        Call::ExportOnnx => drop(block_on(s.export_onnx())?),
        Call::ExportTraining(weights) => drop(block_on(s.export_training(*weights))?),
        Call::LoadCheckpoint(bytes) => drop(s.load_checkpoint(resolve(s, &mut state.kept, bytes))?),
        Call::UseCheckpoint(variant, strides) => drop(s.use_checkpoint(variant.as_deref(), strides.clone())?),
        Call::RandomClassifier(model, size) => drop(s.random_classifier(model, *size)?),
        Call::Logits { values, batch, value } => drop(block_on(s.logits(vec![*value; *values], *batch))?),
        Call::LogitsFitting(batch) => {
            let p = &s.classifier()?.card.preprocess;
            let values = vec![0.5; batch * p.channels * p.height * p.width];
            drop(block_on(s.logits(values, *batch))?)
        }
        Call::LogitsWrapping => {
            let p = &s.classifier()?.card.preprocess;
            let (values, batch) = wrapping_batch(p.channels * p.height * p.width);
            drop(block_on(s.logits(vec![0.5; values], batch))?)
        }
        Call::FeatureMaps(index, bytes, block, fused, tiles) => {
            let bytes = bytes.as_ref().map(|b| resolve(s, &mut state.kept, b));
            let test_images = s.trainer().map(|t| t.data().test.len() as u64).unwrap_or(0);
            let maps = block_on(s.feature_maps(*index, bytes.as_deref(), *block, *fused, *tiles));
            if maps.is_ok() && bytes.is_none() && index.is_some_and(|i| i >= test_images) {
                panic!("answered for test image {index:?} of {test_images}");
            }
            drop(maps?)
        }
        Call::Activation(layer, channel, inputs) => drop(block_on(s.activation(*layer, *channel, inputs))?),
        Call::Watch(layer, channel) => block_on(s.watch(*layer, *channel)),
        Call::Fusion(part) => drop(block_on(s.fusion(*part))?),
        Call::SetProbeEvery(every) => s.set_probe_every(*every)?,
        Call::StudyRun { .. } => study(s, state, call)?,
        Call::StudyPause => s.study_pause(),
        Call::StudyResume => s.study_resume()?,
        Call::StudyReport => state.study = Some(s.study_report()?),
        Call::StudyDiscard => s.study_discard(),
        Call::Snapshot => drop(block_on(s.snapshot())?),
        Call::Restore(bytes, accuracy) => drop(block_on(s.restore(resolve(s, &mut state.kept, bytes), *accuracy))?),
        Call::SetBackend(request) => drop(block_on(s.set_backend(*request))?),
        Call::WarmUp => block_on(s.warm_up())?,
        Call::TestImage(index) => drop(s.data()?.test_image(*index)?),
        Call::Samples(per_class) => drop(s.data()?.samples(*per_class)),
        Call::Status => {
            s.classifier_info()?;
            s.decay();
        }
    }
    Ok(())
}
