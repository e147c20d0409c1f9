//! A property test of the session's API, the boundary the page's calls cross: sequences of
//! calls (the state matters: a trainer, a classifier, a checkpoint read, a study) with arguments
//! drawn from valid values, edges and garbage. No call panics; each one answers, or is refused
//! with an error that says what is missing or names the argument it refuses (a word of the
//! call's table below), and leaves the session's status as it was; a huge input side or an
//! index past the test set is refused, never answered; the status only ever shows a train
//! accuracy and a lambda from 0 to 1.
//!
//! CI runs a fixed seed; `SESSION_CALLS_SEED=<n> SESSION_CALLS_CASES=<n> SESSION_CALLS_CALLS=<n>`
//! run others and longer (`SESSION_CALLS_VERBOSE=1` and `--nocapture` print every case's calls
//! and answers). Each case's seed is the seed plus its number; a failure prints it
//! and the calls that led there, and `SESSION_CALLS_SEED=<case seed> SESSION_CALLS_CASES=1`
//! replays it. The calls are also written to `session_calls.log` in the test's temporary
//! folder before each is made, for a failure that is no panic (an abort).

mod draw;
mod make;

use std::panic::{AssertUnwindSafe, catch_unwind};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use vanillanet::data::dataset::Dataset;
use vanillanet::session::{Session, SessionError};
use vanillanet::train::options::TrainOptions;

use draw::Call;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Each training option as its errors name it: `learningRate` is "learning rate".
fn option_words() -> Vec<String> {
    let spaced = |name: String| -> String {
        name.chars().flat_map(|c| [c.is_uppercase().then_some(' '), Some(c)]).flatten().collect()
    };
    let names = TrainOptions::table().into_iter().map(|o| spaced(o.name).to_lowercase());
    names.chain(["model", "deep-training epochs", "warm-up", "pause", "finished"].map(String::from)).collect()
}

/// The words one of which an error of this call must contain (lowercase), beside the errors
/// that say what is missing (no dataset, no trainer, ...).
fn words(call: &Call) -> Vec<String> {
    const IMAGE: &[&str] = &["file", "image", "bytes", "png", "jpeg", "webp", "gif", "bmp", "decod"];
    const FILE: &[&str] =
        &["file", "bytes", "checkpoint", "snapshot", "safetensors", "header", "tensor", "state_dict", "card"];
    let table: &[&str] = match call {
        Call::SetData(_) => &["dataset", "image", "label", "class", "channel", "pixel", "input", "byte", "height"],
        Call::Train(..) | Call::Step(_) | Call::SetOptions(_) | Call::CheckOptions(_) | Call::Schedule(..) => {
            return option_words();
        }
        Call::StudyRun { .. } => {
            let study = ["study", "seeds", "images", "saved", "options"].map(String::from);
            return option_words().into_iter().chain(study).collect();
        }
        Call::Resume | Call::FinishAnnealing(_) | Call::StudyResume => &["train", "study", "finished", "resume"],
        Call::Evaluation(_) | Call::Accuracy(..) => &["test", "moving average", "evaluat"],
        Call::EvaluationCell(..) => &["cell", "label", "predicted"],
        Call::Fuse(..) => &["lambda", "moving average", "limit", "fuse"],
        Call::Classify(..) => IMAGE,
        Call::LoadCheckpoint(_) | Call::Restore(..) => FILE,
        Call::UseCheckpoint(..) => &["variant", "stride", "tensor", "checkpoint", "block", "model"],
        Call::RandomClassifier(..) => &["model", "input", "size", "side"],
        Call::Logits { .. } | Call::LogitsFitting(_) | Call::LogitsWrapping => &["values", "shape", "batch"],
        Call::FeatureMaps(..) => {
            return [IMAGE, &["test image", "block", "tiles", "fuse"]].concat().iter().map(|w| w.to_string()).collect();
        }
        Call::Activation(..) | Call::Watch(..) => &["layer", "channel", "input"],
        Call::Fusion(_) => &["part", "block"],
        Call::TestImage(_) => &["test image"],
        Call::SetProbeEvery(_) => &["probe"],
        Call::ExportOnnx | Call::ExportModel | Call::ExportTraining(_) => &["onnx", "export", "moving average"],
        Call::SetBackend(_) => &["webgpu"],
        _ => &[],
    };
    table.iter().map(|w| w.to_string()).collect()
}

/// What is missing for the call, which every call may say.
fn says_what_is_missing(e: &SessionError) -> bool {
    use SessionError::*;
    matches!(e, NoDataset | NoTrainer | NoClassifier | NoFusedForm | NoCheckpoint | NoStudy | NotEvaluated)
}

/// What went wrong with one call, if anything.
fn check(call: &Call, answer: &make::Answer) -> Option<String> {
    match answer {
        Ok(()) => match call {
            Call::RandomClassifier(_, size) if *size > vanillanet::bench::MAX_SIZE => {
                Some(format!("a classifier of side {size} was made, past the most ({})", vanillanet::bench::MAX_SIZE))
            }
            _ => None,
        },
        Err(e) if says_what_is_missing(e) => None,
        Err(e) => {
            let message = e.to_string().to_lowercase();
            let table = words(call);
            (!table.iter().any(|w| message.contains(w.as_str())))
                .then(|| format!("the error names none of {table:?}: {e}"))
        }
    }
}

/// One case: a fresh session, its data, `calls` calls drawn from `seed`.
fn case(seed: u64, calls: usize, log: &mut Vec<String>) -> Result<(), String> {
    let mut g = StdRng::seed_from_u64(seed);
    let mut s = Session::new();
    let mut state = make::State::default();
    let mut start =
        if g.random_bool(0.85) { vec![Call::SetData(draw::Data::Halves { train: 48, test: 16 })] } else { vec![] };
    start.extend(draw::preamble(&mut g));
    let drawn: Vec<Call> = (0..calls).map(|_| draw::call(&mut g)).collect();
    for call in start.into_iter().chain(drawn) {
        log.push(format!("{call:?}"));
        make::write_log(seed, log);
        let before = s.status();
        let answer = catch_unwind(AssertUnwindSafe(|| make::make(&mut s, &mut state, &call)))
            .map_err(|p| format!("panicked: {}", make::panic_message(&p)))?;
        if let Some(wrong) = check(&call, &answer) {
            return Err(wrong);
        }
        log.push(match &answer {
            Ok(()) => "  -> ok".into(),
            Err(e) => format!("  -> refused: {e}"),
        });
        // A refused call leaves the session as it was: nothing made is lost to a bad argument.
        if answer.is_err() && s.status() != before {
            return Err(format!("the refused call changed the session: {before:?} became {:?}", s.status()));
        }
        let status = catch_unwind(AssertUnwindSafe(|| {
            for event in s.take_events() {
                serde_json::to_value(&event).expect("every event serialises");
            }
            s.status()
        }))
        .map_err(|p| format!("the status or the events after it panicked: {}", make::panic_message(&p)))?;
        // What the page shows of the session is a number it can show, whatever it was sent.
        if status.train_accuracy.is_some_and(|a| !(0.0..=1.0).contains(&a)) {
            return Err(format!("the train accuracy is {:?}", status.train_accuracy));
        }
        if status.training.is_some_and(|p| !(0.0..=1.0).contains(&p.lambda)) {
            return Err(format!("lambda is {:?}", s.status().training.map(|p| p.lambda)));
        }
    }
    Ok(())
}

#[test]
fn every_session_call_answers_or_names_what_it_refuses() {
    let seed = env("SESSION_CALLS_SEED", 34);
    let (cases, calls) = (env("SESSION_CALLS_CASES", 48), env("SESSION_CALLS_CALLS", 40) as usize);
    let mut failures = Vec::new();
    for n in 0..cases {
        let mut log = Vec::new();
        let start = std::time::Instant::now();
        let result = case(seed + n, calls, &mut log);
        if std::env::var_os("SESSION_CALLS_VERBOSE").is_some() {
            eprintln!("case seed {} ({:.1} s):\n  {}", seed + n, start.elapsed().as_secs_f64(), log.join("\n  "));
        }
        if let Err(wrong) = result {
            failures.push(format!(
                "case seed {} (replay: SESSION_CALLS_SEED={} SESSION_CALLS_CASES=1 SESSION_CALLS_CALLS={calls}):\n  {}\n{wrong}",
                seed + n,
                seed + n,
                log.join("\n  ")
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {cases} cases failed:\n{}", failures.len(), failures.join("\n\n"));
}

/// What the property test found, each case named: a panic, an answer where a refusal belongs,
/// a refusal that lost what there was, a number the page could not show.
#[test]
fn what_it_found_stays_fixed() {
    use vanillanet::bench::MAX_SIZE;
    let mut s = Session::new();
    // The side's bound came after the sizes it keeps from overflowing (a 2^32 side panicked).
    for size in [1 << 32, usize::MAX, MAX_SIZE + 1] {
        let refused = s.random_classifier("nano_28", size).unwrap_err().to_string();
        assert!(refused.contains("side"), "{refused}");
    }
    assert!(s.status().classifier.is_none());
    s.random_classifier("nano_28", 28).unwrap();
    // Saying which channel there is not overflowed for the last one a usize holds.
    s.set_data(crate::common::halves_data(16, 4));
    pollster::block_on(s.step_once(crate::common::nano_options())).unwrap();
    let Err(refused) = pollster::block_on(s.activation(1, usize::MAX, &[0.5])) else { panic!("answered") };
    let refused = refused.to_string();
    assert!(refused.contains(&format!("no channel {}", usize::MAX)), "{refused}");
    // A batch whose product with the input's size wrapped around to the values' count.
    let p = s.classifier().unwrap().card.preprocess.clone();
    let (values, batch) = make::wrapping_batch(p.channels * p.height * p.width);
    assert_eq!(batch.wrapping_mul(p.channels * p.height * p.width), values);
    let Err(refused) = pollster::block_on(s.logits(vec![0.5; values], batch)) else { panic!("answered") };
    assert!(refused.to_string().contains("values for an input of shape"), "{refused}");
    // A study's 0 images (all, in the page's form and the CLI) came from JavaScript as
    // `Some(0)`: it trained on none, the loss NaN, blamed on the learning rate.
    let study = r#"{"trainImages": 0, "testImages": 0, "train": {"preset": "nano_28", "epochs": 1, "batchSize": 8}}"#;
    let report = s.study_run(serde_json::from_str(study).unwrap(), None).unwrap();
    assert_eq!((report.train_images, report.test_images), (16, 4));
    // A restored run's train accuracy of -inf or NaN (a damaged record) was kept and shown.
    s.reset();
    pollster::block_on(s.step_once(crate::common::nano_options())).unwrap();
    let (snapshot, _) = pollster::block_on(s.snapshot()).unwrap();
    for odd in [f32::NEG_INFINITY, f32::NAN, 1.5] {
        pollster::block_on(s.restore(snapshot.clone(), Some(odd))).unwrap();
        assert_eq!(s.status().train_accuracy, None);
    }
    // Options refused after a finished run dropped the run all the same.
    s.set_data(crate::common::halves_data(16, 4));
    let short = TrainOptions { epochs: 1, decay_epochs: 1, ..crate::common::nano_options() };
    s.train(short.clone(), None, None).unwrap();
    while pollster::block_on(s.advance()) {}
    let finished = s.status();
    assert_eq!(finished.train, vanillanet::session::JobState::Finished);
    let refused = s.train(TrainOptions { learning_rate: f64::NAN, ..short.clone() }, None, None).unwrap_err();
    assert!(refused.to_string().contains("learning rate"), "{refused}");
    assert_eq!(s.status(), finished);
    // New options that end the run where it stands, then a step: refused, it dropped the
    // classifier fused from the weights and their evaluation all the same.
    s.reset();
    let long = TrainOptions { epochs: 4, ..short.clone() };
    for _ in 0..2 {
        pollster::block_on(s.step_once(long.clone())).unwrap();
    }
    s.set_options(short).unwrap();
    pollster::block_on(s.fuse(Some(4), None)).unwrap();
    let fused = s.status();
    assert_eq!((fused.training.as_ref().unwrap().finished, fused.train), (true, vanillanet::session::JobState::Paused));
    assert!(pollster::block_on(s.step_once(long)).unwrap_err().to_string().contains("finished"));
    assert_eq!(s.status(), fused);
    // The moving average turned off after its fused form became the classifier: classifying
    // was refused ("there is no moving average of the weights"), the classifier kept.
    s.reset();
    let ema = TrainOptions { ema_decay: 0.9, epochs: 4, ..crate::common::nano_options() };
    for _ in 0..3 {
        pollster::block_on(s.step_once(ema.clone())).unwrap();
    }
    pollster::block_on(s.fuse(Some(4), Some(vanillanet::model::Weights::Ema))).unwrap();
    s.set_options(TrainOptions { ema_decay: 0.0, ..ema }).unwrap();
    let status = s.status();
    assert!(status.classifier.is_none(), "fused from an average that is gone");
    assert!(status.evaluated.iter().all(|&e| e == vanillanet::train::evaluation::Evaluated::Trained));
    // The page's own images of a shape whose size no usize holds overflowed counting bytes.
    for shape in [[1 << 32, 23, usize::MAX], [2, usize::MAX - 1, 8]] {
        let refused = Dataset::labelled("own", vec!["a".into()], shape, &[0; 6], &[0; 6]).unwrap_err().to_string();
        assert!(refused.contains("more bytes than memory holds"), "{refused}");
    }
}
