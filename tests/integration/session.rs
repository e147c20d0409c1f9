//! The page's session, natively on the CPU: which classifier is current and where it came from,
//! which evaluations a step or a new classifier makes stale, backend switching, the loop that
//! steps the trainer or the study, and the errors without a dataset or a trainer.

use crate::common::{self, halves_data};
use pollster::block_on;
use vanillanet::model::Weights;
use vanillanet::session::{Backend, BackendRequest, JobState, Origin, Session, SessionError, WhenAnnealed};
use vanillanet::train::evaluation::Evaluated;
use vanillanet::train::options::TrainOptions;

/// 96 training images in batches of 16: 6 steps an epoch, 18 in all, lambda 1 after step 12.
fn session() -> Session {
    let mut s = Session::new();
    s.set_data(halves_data(96, 32));
    s.take_events();
    s
}

fn options() -> TrainOptions {
    common::nano_options()
}

/// The names of the events since the last call (`step`, `state:paused`, ...).
fn names(s: &mut Session) -> Vec<String> {
    s.take_events()
        .iter()
        .map(|e| {
            let v = serde_json::to_value(e).unwrap();
            let kind = v["type"].as_str().unwrap().to_string();
            match v.get("state").and_then(|s| s.as_str()) {
                Some(state) => format!("{kind}:{state}"),
                None => kind,
            }
        })
        .collect()
}

fn steps(s: &mut Session, n: usize) {
    for _ in 0..n {
        block_on(s.step_once(options())).unwrap();
    }
}

#[test]
fn without_data_or_a_trainer_each_call_says_what_is_missing() {
    let mut s = Session::new();
    let status = s.status();
    assert_eq!((status.backend, status.dataset, status.training, status.classifier), (Backend::Cpu, None, None, None));
    assert!(matches!(s.create_trainer(options()), Err(SessionError::NoDataset)));
    assert!(matches!(s.train(options(), None, None), Err(SessionError::NoDataset)));
    s.set_data(halves_data(96, 32));
    assert_eq!(s.status().dataset.as_deref(), Some("halves"));
    assert!(matches!(block_on(s.fuse(Some(10), None)), Err(SessionError::NoTrainer)));
    assert!(matches!(block_on(s.evaluation(Evaluated::Trained)), Err(SessionError::NoTrainer)));
    assert!(matches!(block_on(s.fusion(1)), Err(SessionError::NoTrainer)));
    assert!(matches!(block_on(s.snapshot()), Err(SessionError::NoTrainer)));
    assert!(matches!(s.set_options(options()), Err(SessionError::NoTrainer)));
    assert!(matches!(block_on(s.classify(&[0u8; 4], 3)), Err(SessionError::NoClassifier)));
    assert!(matches!(block_on(s.export_model()), Err(SessionError::NoClassifier)));
    assert!(matches!(s.use_checkpoint(None, None), Err(SessionError::NoCheckpoint)));
    assert!(matches!(s.evaluation_cell(Evaluated::Trained, 0, 0, 5), Err(SessionError::NotEvaluated)));
    assert!(matches!(s.study_report(), Err(SessionError::NoStudy)));
    let refused = s.resume().unwrap_err().to_string();
    assert!(refused.contains("start training first"), "{refused}");
    assert!(s.decay().is_none());
    assert!(!s.claim_loop(), "nothing runs");
}

#[test]
fn a_step_makes_every_evaluation_stale_and_drops_the_classifier_fused_from_the_weights() {
    let mut s = session();
    steps(&mut s, 13);
    assert_eq!(s.status().training.unwrap().cannot_fuse, None, "lambda 1 after two epochs");
    let trained = block_on(s.evaluation(Evaluated::Trained)).unwrap();
    assert_eq!(trained.step, 13);
    assert!(matches!(block_on(s.evaluation(Evaluated::Fused)), Err(SessionError::NoFusedForm)));
    let report = block_on(s.fuse(Some(32), None)).unwrap();
    assert_eq!(report.weights, Weights::Trained, "no moving average: the trained weights");
    assert_eq!(s.status().classifier, Some(Origin::Trainer));
    assert!(s.classifier_info().unwrap().unwrap().from_trainer);
    block_on(s.evaluation(Evaluated::Fused)).unwrap();
    assert_eq!(s.status().evaluated, vec![Evaluated::Trained, Evaluated::Fused], "the fuse kept the trained one");
    assert!(block_on(s.feature_maps(Some(0), None, 1, true, Some(4))).unwrap().max_diff.is_some());
    // Fused again: the fused form's evaluation is of the classifier before.
    block_on(s.fuse(Some(32), Some(Weights::Trained))).unwrap();
    assert_eq!(s.status().evaluated, vec![Evaluated::Trained]);
    assert!(matches!(block_on(s.fuse(Some(32), Some(Weights::Ema))), Err(SessionError::Refused(_))));
    steps(&mut s, 1);
    let status = s.status();
    assert_eq!(status.classifier, None, "the step changed the weights it was fused from");
    assert!(status.evaluated.is_empty());
    assert!(matches!(s.evaluation_cell(Evaluated::Trained, 0, 0, 5), Err(SessionError::NotEvaluated)));
    assert!(matches!(block_on(s.feature_maps(Some(0), None, 1, true, None)), Err(SessionError::NoFusedForm)));
}

#[test]
fn a_classifier_from_a_file_outlives_steps_and_new_data_and_is_no_fused_form() {
    let mut s = session();
    steps(&mut s, 13);
    block_on(s.fuse(Some(32), None)).unwrap();
    let file = block_on(s.export_model()).unwrap();
    let read = s.load_checkpoint(file).unwrap();
    assert!(read.card.is_some() && !read.ambiguous);
    let info = s.use_checkpoint(None, None).unwrap();
    assert_eq!((info.origin, info.from_trainer), (Origin::Checkpoint, false));
    assert!(matches!(block_on(s.evaluation(Evaluated::Fused)), Err(SessionError::NoFusedForm)));
    steps(&mut s, 1);
    assert_eq!(s.status().classifier, Some(Origin::Checkpoint));
    let png = image_file();
    let answer = block_on(s.classify(&png, 5)).unwrap();
    assert_eq!(answer.top.len(), 2, "k is capped at the classes");
    assert!(answer.top_unfused.is_none(), "no trained net to compare with a file's classifier");
    s.take_events();
    s.set_data(halves_data(32, 8));
    let status = s.status();
    assert_eq!((status.classifier, status.training, status.train), (Some(Origin::Checkpoint), None, JobState::Idle));
    assert_eq!(names(&mut s), ["state:idle", "reset"]);
}

/// A small PNG, as the page would drop one.
fn image_file() -> Vec<u8> {
    let img = image::GrayImage::from_fn(28, 28, |x, _| image::Luma([if x < 14 { 220 } else { 30 }]));
    let mut bytes = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
    bytes
}

#[test]
fn switching_backends_moves_the_trainer_and_the_classifier_or_says_why_not() {
    let mut s = session();
    steps(&mut s, 13);
    block_on(s.fuse(Some(32), None)).unwrap();
    let choice = block_on(s.set_backend(BackendRequest::Cpu)).unwrap();
    assert_eq!((choice.backend, choice.fallback_reason), (Backend::Cpu, None));
    assert_eq!(s.status().classifier, Some(Origin::Trainer), "moved, not dropped");
    let auto = block_on(s.set_backend(BackendRequest::Auto)).unwrap();
    assert_eq!(auto.backend, Backend::Cpu);
    assert!(auto.fallback_reason.unwrap().contains("WebGPU unavailable"));
    assert!(matches!(block_on(s.set_backend(BackendRequest::Webgpu)), Err(SessionError::Refused(_))));
    assert_eq!(s.backend(), Backend::Cpu);
    steps(&mut s, 1);
    let strings: Vec<BackendRequest> = serde_json::from_str(r#"["cpu", "webgpu", "auto"]"#).unwrap();
    assert_eq!(strings, [BackendRequest::Cpu, BackendRequest::Webgpu, BackendRequest::Auto]);
    assert!(serde_json::from_str::<BackendRequest>(r#""quantum""#).is_err());
}

#[test]
fn the_loop_trains_to_the_end_evaluating_and_watching_as_it_goes() {
    let mut s = session();
    s.train(options(), Some(4), Some(8)).unwrap();
    assert_eq!(names(&mut s), ["model", "state:running"]);
    assert!(s.claim_loop(), "a job runs and no loop steps it");
    assert!(!s.claim_loop(), "one loop at a time");
    let mut rounds = 0;
    while block_on(s.advance()) {
        rounds += 1;
    }
    assert_eq!(rounds, 18);
    assert!(!s.claim_loop() && !s.jobs().looping, "the loop is over");
    let events = names(&mut s);
    let count = |name: &str| events.iter().filter(|e| *e == name).count();
    assert_eq!(count("step"), 18);
    // Steps 4, 8, 16 look at part of the test set; each epoch's end (6, 12, 18) at all of it.
    assert_eq!(count("eval"), 6);
    assert_eq!(count("evaluation"), 3);
    // Step 1, every 10th, and the last one's end.
    assert_eq!(count("activation"), 3);
    assert_eq!(events.last().unwrap(), "state:finished");
    let status = s.status();
    assert_eq!(status.train, JobState::Finished);
    assert!(status.train_accuracy.is_some());
    assert_eq!(status.evaluated, vec![Evaluated::Trained], "the last evaluation holds");
    assert!(s.resume().unwrap_err().to_string().contains("finished"));
    // Training again after the end starts over.
    s.train(options(), None, None).unwrap();
    assert_eq!(names(&mut s), ["state:idle", "reset", "model", "state:running"]);
    assert_eq!(s.status().training.unwrap().global_step, 0);
}

#[test]
fn pausing_stops_the_loop_and_one_step_at_a_time_needs_a_pause() {
    let mut s = session();
    s.train(options(), None, None).unwrap();
    assert!(s.claim_loop());
    assert!(block_on(s.advance()));
    s.pause();
    assert!(!block_on(s.advance()), "paused: the loop ends before its next step");
    assert_eq!(s.status().training.unwrap().global_step, 1);
    let report = block_on(s.step_once(options())).unwrap();
    assert_eq!(report.global_step, 2);
    assert_eq!(s.jobs().train, JobState::Paused);
    s.resume().unwrap();
    assert!(block_on(s.step_once(options())).unwrap_err().to_string().contains("pause before stepping"));
    // New options keep the weights and the position.
    s.take_events();
    assert_eq!(s.set_options(TrainOptions { epochs: 4, ..options() }).unwrap(), 24);
    assert_eq!(names(&mut s), ["options"]);
    assert_eq!(s.status().training.unwrap().global_step, 2);
    s.reset();
    assert_eq!((s.jobs().train, s.status().training), (JobState::Idle, None));
}

#[test]
fn finishing_annealing_trains_to_lambda_one_then_pauses_and_fuses() {
    let mut s = session();
    let long = TrainOptions { epochs: 6, decay_epochs: 5, ..options() };
    steps(&mut s, 1);
    s.set_options(long).unwrap();
    s.take_events();
    let options = s.finish_annealing(WhenAnnealed::Fuse(None)).unwrap().unwrap();
    assert_eq!(options.decay_epochs, 1, "deep training ends with the current epoch");
    assert!(s.claim_loop());
    while block_on(s.advance()) {}
    let events = names(&mut s);
    let at = |name: &str| events.iter().position(|e| e == name).unwrap_or_else(|| panic!("no {name} in {events:?}"));
    assert!(at("state:paused") < at("annealed") && at("annealed") < at("fused"), "{events:?}");
    let status = s.status();
    assert_eq!((status.train, status.classifier), (JobState::Paused, Some(Origin::Trainer)));
    let progress = status.training.unwrap();
    assert_eq!((progress.global_step, progress.cannot_fuse), (6, None));
    assert_eq!(s.finish_annealing(WhenAnnealed::Fuse(None)).unwrap(), None, "lambda is 1 already");
}

#[test]
fn starting_a_study_pauses_training_and_training_pauses_the_study() {
    use vanillanet::train::study::{Study, StudyOptions};
    let mut s = session();
    s.train(options(), None, None).unwrap();
    let study = StudyOptions { study: Study::ALL[0], ..StudyOptions::default() };
    let report = s.study_run(study, None).unwrap();
    assert!(!report.finished);
    assert_eq!((s.jobs().train, s.jobs().study), (JobState::Paused, JobState::Running));
    assert!(names(&mut s).contains(&"info".to_string()), "the page is told why training paused");
    s.resume().unwrap();
    assert_eq!((s.jobs().train, s.jobs().study), (JobState::Running, JobState::Paused));
    assert!(s.study_resume().is_ok());
    s.study_discard();
    assert_eq!(s.jobs().study, JobState::Idle);
    assert!(s.study_resume().is_err());
}

#[test]
fn snapshots_restore_paused_with_the_page_s_train_accuracy() {
    let mut s = session();
    steps(&mut s, 3);
    let (bytes, progress) = block_on(s.snapshot()).unwrap();
    assert_eq!(progress.global_step, 3);
    let mut other = session();
    let restored = block_on(other.restore(bytes, Some(0.75))).unwrap();
    assert_eq!(restored.status, progress);
    assert_eq!(names(&mut other), ["model", "state:paused", "activation"]);
    assert_eq!((other.jobs().train, other.status().train_accuracy), (JobState::Paused, Some(0.75)));
    // The period of the decay probes holds for trainers made later too.
    other.set_probe_every(3).unwrap();
    other.reset();
    other.create_trainer(options()).unwrap();
    assert_eq!(other.decay().unwrap().every, 3);
    assert!(other.set_probe_every(usize::MAX).is_err());
}

#[test]
fn the_page_reads_the_limits_and_the_events_by_these_names() {
    use vanillanet::bench;
    use vanillanet::model::config::MAX_BLOCKS;
    use vanillanet::session::OptionsTables;
    use vanillanet::train::inside::{DEFAULT_EVERY, DEFAULT_TILES, MAX_EVERY, MAX_TILES};
    let limits = serde_json::to_value(OptionsTables::get().limits).unwrap();
    let expected = serde_json::json!({
        "evalEvery": 50, "evalLimit": 500, "fuseLimit": 500, "activationEvery": DEFAULT_EVERY,
        "probeEvery": DEFAULT_EVERY, "maxProbeEvery": MAX_EVERY, "defaultTiles": DEFAULT_TILES,
        "maxTiles": MAX_TILES, "maxBlocks": MAX_BLOCKS,
        "maxInputSide": vanillanet::data::preprocess::MAX_INPUT_SIDE,
        "maxBenchSize": bench::MAX_SIZE, "maxBenchBatch": bench::MAX_BATCH, "maxBenchRuns": bench::MAX_RUNS,
        "maxBenchCases": bench::MAX_CASES,
    });
    assert_eq!(limits, expected);
    let mut s = session();
    s.train(options(), Some(1), Some(8)).unwrap();
    s.take_events();
    assert!(s.claim_loop() && block_on(s.advance()));
    let events: Vec<serde_json::Value> = s.take_events().iter().map(|e| serde_json::to_value(e).unwrap()).collect();
    let step = events.iter().find(|e| e["type"] == "step").unwrap();
    for key in ["report", "ms", "imagesPerSec", "trainAccuracy"] {
        assert!(step.get(key).is_some(), "step has {key}: {step}");
    }
    assert_eq!(step["next"]["globalStep"], 1);
    assert!(step["next"]["cannotFuse"].is_string() && step["next"]["totalSteps"] == 18);
    // A quick look tells both nets' accuracy, the average's null without one.
    let eval = events.iter().find(|e| e["type"] == "eval").unwrap();
    assert!(eval["testAccuracy"].is_number() && eval["emaAccuracy"].is_null() && eval["full"] == false, "{eval}");
    let activation = events.iter().find(|e| e["type"] == "activation").unwrap();
    assert_eq!((activation["layer"].as_u64(), activation["inputs"].as_array().unwrap().len()), (Some(1), 41));
    // A whole evaluation of the trained net leaves the average's accuracy out, not null.
    block_on(s.evaluation(Evaluated::Trained)).unwrap();
    let told: Vec<serde_json::Value> = s.take_events().iter().map(|e| serde_json::to_value(e).unwrap()).collect();
    assert_eq!(
        told[1],
        serde_json::json!({"type": "eval", "step": 1, "testAccuracy": told[0]["evaluation"]["accuracy"], "full": true})
    );
}

#[test]
fn each_epoch_end_tells_the_validation_accuracy_of_images_held_out_of_training() {
    let mut s = session();
    // A quarter of each class's 48 images held out: 72 train (5 steps of 16 an epoch), 24 kept.
    let options = TrainOptions { validation: 0.25, ..options() };
    s.train(options, None, None).unwrap();
    s.take_events();
    assert!(s.claim_loop());
    while block_on(s.advance()) {}
    let events: Vec<serde_json::Value> = s.take_events().iter().map(|e| serde_json::to_value(e).unwrap()).collect();
    let told: Vec<_> = events.iter().filter(|e| e["type"] == "validation").collect();
    let steps: Vec<u64> = told.iter().map(|e| e["step"].as_u64().unwrap()).collect();
    assert_eq!(steps, [5, 10, 15], "one at each epoch's end");
    assert!(told.iter().all(|e| e["emaAccuracy"].is_null()), "no average in these options");
    let last = block_on(s.validation_accuracy(Weights::Trained)).unwrap().unwrap();
    assert_eq!(told[2]["accuracy"].as_f64().unwrap() as f32, last);
    assert_eq!(s.status().training.unwrap().total_steps, 15, "the held-out images are not trained on");
    // Without the share, none is told.
    let mut plain = session();
    plain.train(self::options(), None, None).unwrap();
    assert!(plain.claim_loop());
    while block_on(plain.advance()) {}
    assert!(!names(&mut plain).iter().any(|e| e == "validation"));
}
