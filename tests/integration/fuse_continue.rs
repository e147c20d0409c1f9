//! Fuse and continue: the deep-training pairs merged at lambda 1 into one conv + BN a layer
//! give the same eval-mode logits, the run trains that form on, the final fuse equals it, and
//! a snapshot says (and restores) which form it holds.

use crate::common;
use crate::common::{halves_data, host};
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use pollster::block_on;
use vanillanet::data::dataset::Dataset;
use vanillanet::io::names::check_shapes;
use vanillanet::io::state_dict::StateDict;
use vanillanet::model::{VanillaNet, Weights};
use vanillanet::train::options::TrainOptions;
use vanillanet::train::trainer::Trainer;
use vanillanet::{load_state, state_dict};

fn data() -> Dataset {
    halves_data(192, 48)
}

/// Two epochs of 12 steps (a few are held out), lambda reaching 1 after the first, the
/// moving average on.
fn options(fuse_and_continue: bool) -> TrainOptions {
    TrainOptions { epochs: 3, decay_epochs: 1, validation: 0.0, fuse_and_continue, ..common::recipe_options() }
}

/// The largest difference between two nets' eval-mode logits on `data`'s test images, and the
/// largest logit.
fn logit_diff(a: &VanillaNet, lambda_a: f64, b: &VanillaNet, data: &Dataset) -> (f32, f32) {
    let device = Device::flex();
    let indices: Vec<usize> = (0..data.test.len()).collect();
    let (x, _) = data.batch(&data.test, &indices, &device);
    let ya = host(a.valid().forward(x.clone(), lambda_a));
    let yb = host(b.valid().forward(x, 0.5));
    let diff = ya.data.iter().zip(&yb.data).fold(0f32, |m, (p, q)| m.max((p - q).abs()));
    (diff, ya.data.iter().fold(0f32, |m, v| m.max(v.abs())))
}

#[test]
fn merged_pairs_give_the_pairs_logits_at_lambda_one() {
    // Random weights, BN scales and running statistics: every fold matters.
    let device = Device::flex();
    let config = common::tiny_config();
    let deep: VanillaNet = load_state(config.init(&device), &common::random_state(&config, 7), &device).unwrap();
    let merged = deep.merge_pairs(1.0).unwrap();
    assert!(!merged.uses_lambda(), "one conv a layer");
    // It is exactly the net without deep training: its tensors load into that config.
    let shallow = config.clone().with_deep_training(false);
    check_shapes(&shallow, &state_dict(&merged).unwrap()).unwrap();
    let x = Tensor::<4>::random([3, 3, 32, 32], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
    let (a, b) = (host(deep.forward(x.clone(), 1.0)), host(merged.forward(x.clone(), 0.3)));
    let scale = a.data.iter().fold(0f32, |m, v| m.max(v.abs()));
    let diff = a.data.iter().zip(&b.data).fold(0f32, |m, (p, q)| m.max((p - q).abs()));
    assert!(diff <= 1e-4 * scale.max(1.0), "merged {diff} off (logits up to {scale})");
    // Its fuse (BN folds only) is the deploy form of the pairs.
    let (fa, fb) = (host(deep.fuse(1.0).unwrap().forward(x.clone())), host(merged.fuse(0.3).unwrap().forward(x)));
    let diff = fa.data.iter().zip(&fb.data).fold(0f32, |m, (p, q)| m.max((p - q).abs()));
    assert!(diff <= 1e-4 * scale.max(1.0), "fused {diff} off");
    // Below lambda 1 the pairs are not linear; a net without pairs has none to merge.
    assert!(deep.merge_pairs(0.99).unwrap_err().to_string().contains("0.99"));
    assert!(merged.merge_pairs(1.0).is_err());
}

#[test]
fn the_switch_changes_no_logit_of_the_trained_net_or_its_average() {
    let (mut off, mut on) = (
        Trainer::new(&Device::flex(), data(), options(false)).unwrap(),
        Trainer::new(&Device::flex(), data(), options(true)).unwrap(),
    );
    let steps = off.steps_per_epoch();
    for step in 1..=steps {
        let (a, b) = (block_on(off.step()).unwrap(), block_on(on.step()).unwrap());
        assert_eq!(a.loss, b.loss, "the same run until the switch (step {step})");
        assert!(!a.continued);
        assert_eq!(b.continued, step == steps, "merged with the step that ends lambda's decay ({step})");
    }
    assert_eq!((off.lambda(), on.continued_at(), off.continued_at()), (1.0, Some(steps), None));
    assert!(off.model().uses_lambda() && !on.model().uses_lambda());
    assert!(!on.config().deep_training);
    for weights in [Weights::Trained, Weights::Ema] {
        let (pairs, merged) = (off.net(weights).unwrap(), on.net(weights).unwrap());
        let (diff, scale) = logit_diff(&pairs, 1.0, &merged, off.data());
        assert!(diff <= 1e-4 * scale.max(1.0), "{weights:?}: {diff} off (logits up to {scale})");
    }
    // Turning the option off now keeps the merged net; changing the architecture is refused.
    on.set_options(TrainOptions { fuse_and_continue: false, learning_rate: 5e-3, ..options(true) }).unwrap();
    assert!(!on.model().uses_lambda());
    let e = on.set_options(TrainOptions { deep_training: false, ..options(false) }).unwrap_err();
    assert!(e.to_string().contains("reset"), "{e}");
    // Only with deep training, and said so by name.
    let e = TrainOptions { deep_training: false, ..options(true) }.check(&data()).unwrap_err();
    assert_eq!(e.field, "fuseAndContinue", "{}", e.message);
}

#[test]
fn a_run_trains_the_merged_form_on_and_fuses_to_it() {
    let mut trainer = Trainer::new(&Device::flex(), data(), options(true)).unwrap();
    let steps = trainer.steps_per_epoch();
    let mut switched = vec![];
    let mut at_switch = None;
    let mut losses = vec![];
    while !trainer.finished() {
        let r = block_on(trainer.step()).unwrap();
        assert!(r.loss.is_finite(), "step {}", r.global_step);
        losses.push(r.loss);
        if r.continued {
            switched.push(r.global_step);
            at_switch = Some(state_dict(trainer.model()).unwrap());
        }
    }
    assert_eq!(switched, vec![steps], "once, when lambda reached 1");
    assert_eq!(losses.len(), 3 * steps);
    // The merged form trained on: its weights moved, and the loss stayed where it was.
    let end = state_dict(trainer.model()).unwrap();
    let at_switch = at_switch.unwrap();
    let moved = end.tensors.iter().filter(|(k, t)| at_switch.get(k).is_some_and(|s| s.data != t.data)).count();
    assert!(moved * 2 > end.tensors.len(), "{moved} of {} tensors moved", end.tensors.len());
    let mean = |l: &[f32]| l.iter().sum::<f32>() / l.len() as f32;
    assert!(losses[steps] < losses[steps - 1] * 1.25, "no jump at the switch: {losses:?}");
    let (before, after) = (mean(&losses[steps - 4..steps]), mean(&losses[2 * steps..]));
    assert!(after < before * 1.5, "loss {before} before the switch, {after} at the end");
    // The final fuse folds the BNs of the merged form: the same logits.
    for weights in [Weights::Trained, Weights::Ema] {
        let (classifier, report) = block_on(trainer.fuse_weights(weights, 48)).unwrap();
        assert!(report.max_logit_diff < 1e-4, "{weights:?}: {}", report.max_logit_diff);
        assert_eq!(report.images, 48);
        assert_eq!(report.accuracy, report.accuracy_deploy, "{weights:?}");
        assert!(!classifier.card.architecture.deep_training, "the card is of the merged net");
    }
}

#[test]
fn a_snapshot_after_the_switch_restores_the_merged_form_and_continues_identically() {
    let mut trainer = Trainer::new(&Device::flex(), data(), options(true)).unwrap();
    let steps = trainer.steps_per_epoch();
    for _ in 0..steps + 2 {
        block_on(trainer.step()).unwrap();
    }
    let bytes = block_on(trainer.snapshot()).unwrap();
    let position = StateDict::from_bytes(bytes.clone()).unwrap().metadata["vanillanet_trainer"].clone();
    assert!(position.contains(&format!("\"continuedAt\":{steps}")), "{position}");
    let restore = || Trainer::restore(&Device::flex(), data(), bytes.clone()).unwrap();
    let (mut a, mut b) = (restore(), restore());
    assert_eq!((a.continued_at(), a.global_step()), (Some(steps), steps + 2));
    assert!(!a.model().uses_lambda() && !a.config().deep_training);
    assert_eq!(state_dict(a.model()).unwrap(), state_dict(trainer.model()).unwrap());
    assert_eq!(state_dict(a.ema().unwrap()).unwrap(), state_dict(trainer.ema().unwrap()).unwrap());
    // Same weights, same next batch: the same loss (the optimizer acts only after it); and
    // two restores go on step for step.
    let (first, again) = (block_on(trainer.step()).unwrap(), block_on(a.step()).unwrap());
    assert_eq!((first.loss, first.global_step, first.continued), (again.loss, again.global_step, false));
    block_on(b.step()).unwrap();
    for _ in 0..3 {
        let (x, y) = (block_on(a.step()).unwrap(), block_on(b.step()).unwrap());
        assert_eq!((x.loss, x.global_step), (y.loss, y.global_step));
    }
    assert_eq!(state_dict(a.model()).unwrap(), state_dict(b.model()).unwrap());
}

#[test]
fn a_snapshot_without_the_form_is_of_the_pairs_and_merges_when_due() {
    let mut trainer = Trainer::new(&Device::flex(), data(), options(true)).unwrap();
    let steps = trainer.steps_per_epoch();
    for _ in 0..steps - 1 {
        block_on(trainer.step()).unwrap();
    }
    // As saved before the form was recorded.
    let mut sd = StateDict::from_bytes(block_on(trainer.snapshot()).unwrap()).unwrap();
    let position = sd.metadata.get_mut("vanillanet_trainer").unwrap();
    assert!(position.contains("\"continuedAt\":null"), "{position}");
    *position = position.replace(",\"continuedAt\":null", "");
    let mut restored = Trainer::restore(&Device::flex(), data(), sd.to_safetensors().unwrap()).unwrap();
    assert_eq!(restored.continued_at(), None);
    assert!(restored.model().uses_lambda());
    assert!(block_on(restored.step()).unwrap().continued, "merged with the step that ends the decay");
    assert_eq!(restored.continued_at(), Some(steps));
    // A snapshot that says it was merged, of a run without pairs, is refused as the file's.
    let mut merged = StateDict::from_bytes(block_on(restored.snapshot()).unwrap()).unwrap();
    let position = merged.metadata.get_mut("vanillanet_trainer").unwrap();
    *position = position.replace("\"deepTraining\":true", "\"deepTraining\":false");
    *position = position.replace("\"fuseAndContinue\":true", "\"fuseAndContinue\":false");
    let e = Trainer::restore(&Device::flex(), data(), merged.to_safetensors().unwrap()).err().unwrap().to_string();
    assert!(e.contains("training snapshot"), "{e}");
}
