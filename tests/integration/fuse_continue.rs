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

/// Three epochs of 24 steps, lambda reaching 1 after the second (by then the BN running
/// statistics have caught up and the eval-mode logits are of a net that has learned), the
/// moving average on.
fn options(fuse_and_continue: bool) -> TrainOptions {
    let recipe = common::recipe_options();
    TrainOptions { batch_size: 8, epochs: 3, decay_epochs: 2, validation: 0.0, fuse_and_continue, ..recipe }
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
    let steps = 2 * off.steps_per_epoch();
    let stem = &on.model().stem;
    let kept =
        (stem.act.weight.as_ref().unwrap().id, stem.convs.bn2.as_ref().unwrap().gamma.id, stem.convs.conv1.weight.id);
    for step in 1..=steps {
        let (a, b) = (block_on(off.step()).unwrap(), block_on(on.step()).unwrap());
        assert_eq!(a.loss, b.loss, "the same run until the switch (step {step})");
        assert!(!a.continued);
        assert_eq!(b.continued, step == steps, "merged with the step that ends lambda's decay ({step})");
    }
    assert_eq!((off.lambda(), on.continued_at(), off.continued_at()), (1.0, Some(steps), None));
    assert!(off.model().uses_lambda() && !on.model().uses_lambda());
    assert!(!on.config().deep_training);
    // Tensors that stay as they were keep their identity, and so their optimizer moments; the
    // merged conv is a new one.
    let stem = &on.model().stem;
    assert_eq!(stem.act.weight.as_ref().unwrap().id, kept.0, "the series activation");
    assert_eq!(stem.convs.bn1.gamma.id, kept.1, "the second BN, now the layer's one");
    assert_ne!(stem.convs.conv1.weight.id, kept.2, "the merged conv");
    for weights in [Weights::Trained, Weights::Ema] {
        let (pairs, merged) = (off.net(weights).unwrap(), on.net(weights).unwrap());
        let (diff, scale) = logit_diff(&pairs, 1.0, &merged, off.data());
        assert!(scale > 0.2, "{weights:?}: logits up to {scale}: a net that has learned");
        assert!(diff <= 1e-4 * scale, "{weights:?}: {diff} off (logits up to {scale})");
    }
    // Turning the option off now keeps the merged net; changing the architecture is refused.
    on.set_options(TrainOptions { fuse_and_continue: false, learning_rate: 5e-3, ..options(true) }).unwrap();
    assert!(!on.model().uses_lambda());
    let e = on.set_options(TrainOptions { deep_training: false, ..options(false) }).unwrap_err();
    assert!(e.to_string().contains("reset"), "{e}");
    // Lambda 1 from the start: merged before the first step.
    let mut at_once = Trainer::new(&Device::flex(), data(), TrainOptions { decay_epochs: 0, ..options(true) }).unwrap();
    assert!(block_on(at_once.step()).unwrap().continued);
    assert_eq!(at_once.continued_at(), Some(0));
    // Only with deep training, and said so by name.
    let e = TrainOptions { deep_training: false, ..options(true) }.check(&data()).unwrap_err();
    assert_eq!(e.field, "fuseAndContinue", "{}", e.message);
}

#[test]
fn a_run_trains_the_merged_form_on_and_fuses_to_it() {
    let mut trainer = Trainer::new(&Device::flex(), data(), options(true)).unwrap();
    let steps = 2 * trainer.steps_per_epoch();
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
    assert_eq!(losses.len(), 3 * trainer.steps_per_epoch());
    // The merged form trained on: its weights moved, and the loss stayed where it was.
    let end = state_dict(trainer.model()).unwrap();
    let at_switch = at_switch.unwrap();
    let moved = end.tensors.iter().filter(|(k, t)| at_switch.get(k).is_some_and(|s| s.data != t.data)).count();
    assert!(moved * 2 > end.tensors.len(), "{moved} of {} tensors moved", end.tensors.len());
    let mean = |l: &[f32]| l.iter().sum::<f32>() / l.len() as f32;
    assert!(losses[steps] < losses[steps - 1] * 1.25, "no jump at the switch: {losses:?}");
    let (before, after) = (mean(&losses[steps - 4..steps]), mean(&losses[steps..]));
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
    let steps = 2 * trainer.steps_per_epoch();
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
    let steps = 2 * trainer.steps_per_epoch();
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

#[test]
fn the_page_is_told_and_its_views_of_the_inside_follow_the_merged_net() {
    use vanillanet::session::Session;
    let mut s = Session::new();
    s.set_data(halves_data(96, 32));
    let options = TrainOptions { epochs: 3, decay_epochs: 1, fuse_and_continue: true, ..common::nano_options() };
    s.set_probe_every(2).unwrap();
    let told =
        |s: &mut Session| s.take_events().iter().any(|e| serde_json::to_value(e).unwrap()["key"] == "train.continued");
    for step in 1..=8 {
        block_on(s.step_once(options.clone())).unwrap();
        assert_eq!(told(&mut s), step == 6, "said once, with the step that ends the decay ({step})");
    }
    // The decay probed before the switch stays; every view of the inside reads the merged net.
    assert!(!s.decay().unwrap().steps.is_empty());
    let blocks = vanillanet::VanillaNetConfig::named("nano_28").unwrap().num_blocks();
    for part in 0..=blocks + 1 {
        let view = block_on(s.fusion(part)).unwrap();
        assert!(view.conv2.is_none(), "part {part}: one conv since the switch");
    }
    block_on(s.activation(1, 0, &[-1.0, 0.0, 1.0])).unwrap();
    block_on(s.feature_maps(Some(3), None, 1, false, None)).unwrap();
    let report = block_on(s.fuse(Some(32), None)).unwrap();
    assert!(report.max_logit_diff < 1e-4, "{}", report.max_logit_diff);
    let maps = block_on(s.feature_maps(Some(3), None, 1, true, None)).unwrap();
    assert!(maps.max_diff.unwrap() < 1e-4);
    // A reload continues in the merged form.
    let (bytes, _) = block_on(s.snapshot()).unwrap();
    block_on(s.restore(bytes, None)).unwrap();
    assert!(!told(&mut s));
    block_on(s.step_once(options)).unwrap();
    assert!(!told(&mut s), "not said again");
}

#[test]
fn vanillanet_train_says_the_switch_and_fuses_the_merged_form() {
    use std::process::Command;
    let dir = std::env::temp_dir().join(format!("vanillanet-fuse-continue-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (data_path, out_path) = (dir.join("halves.vnds"), dir.join("fused.safetensors"));
    std::fs::write(&data_path, halves_data(64, 16).to_bytes()).unwrap();
    let (data_arg, out_arg) = (data_path.to_str().unwrap(), out_path.to_str().unwrap());
    let train = |extra: &[&str]| {
        let args = ["train", "--data", data_arg, "--preset", "nano_28", "--epochs", "3", "--decay-epochs", "1"];
        let more = ["--batch-size", "16", "--lr", "0.01", "--validation", "0", "--fuse-and-continue", "true"];
        Command::new(env!("CARGO_BIN_EXE_vanillanet")).args(args).args(more).args(extra).output().unwrap()
    };
    let out = train(&["--output", out_arg]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let said: Vec<&str> = text.lines().filter(|l| l.contains("the pairs are fused")).collect();
    assert_eq!(said.len(), 1, "{text}");
    assert!(said[0].starts_with("step 4: lambda reached 1"), "after the first epoch's 4 steps: {}", said[0]);
    assert_eq!(text.lines().filter(|l| l.starts_with("epoch")).count(), 3, "{text}");
    assert!(std::fs::metadata(&out_path).unwrap().len() > 0, "the fused model written");
    let out = train(&["--deep-training", "false"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("fuse and continue needs deep training"), "{err}");
}
