//! The training loop the page drives, run natively on the CPU backend.

use crate::common;
use crate::common::{Lcg, halves, halves_data};
use burn::tensor::Device;
use pollster::block_on;
use vanillanet::LambdaShape;
use vanillanet::data::dataset::{Dataset, Split};
use vanillanet::model::Weights;
use vanillanet::train::compare::compare;
use vanillanet::train::evaluation::{accuracy, evaluate_fused, evaluate_net};
use vanillanet::train::inside::activation_response;
use vanillanet::train::options::{OptimizerKind, TrainOptions};
use vanillanet::train::trainer::Trainer;

fn data() -> Dataset {
    halves_data(96, 32)
}

#[test]
fn loss_falls_lambda_follows_the_schedule_and_the_net_learns() {
    // Batches of 8, 36 steps: at 18 the BatchNorm running statistics have not caught up with
    // the net for most seeds, and the test accuracy (eval mode) is at chance.
    let options = TrainOptions { batch_size: 8, ..common::nano_options() };
    let mut trainer = Trainer::new(&Device::flex(), data(), options.clone()).unwrap();
    assert_eq!(trainer.steps_per_epoch(), 12);
    let schedule = options.lambda_schedule();
    let mut losses = vec![];
    while !trainer.finished() {
        let r = block_on(trainer.step()).unwrap();
        assert!(r.loss.is_finite());
        assert_eq!(r.lambda, schedule.at(r.epoch, r.step, 12), "step {}", r.global_step);
        losses.push(r.loss);
    }
    assert_eq!(losses.len(), 36);
    assert_eq!(trainer.lambda(), 1.0, "annealed by the end");
    let first: f32 = losses[..4].iter().sum::<f32>() / 4.0;
    let last: f32 = losses[32..].iter().sum::<f32>() / 4.0;
    assert!(last < first * 0.7, "loss {first} -> {last}");
    let accuracy = test_accuracy(&trainer, None).unwrap();
    assert!(accuracy >= 0.9, "test accuracy {accuracy}");
    // Annealed: the model fuses.
    assert!(trainer.model().fuse(trainer.lambda()).is_ok());
    assert!(block_on(trainer.step()).is_err(), "no step after the last epoch");
}

#[test]
fn changing_options_mid_training_keeps_weights_and_position() {
    let mut trainer = Trainer::new(&Device::flex(), data(), common::nano_options()).unwrap();
    for _ in 0..3 {
        block_on(trainer.step()).unwrap();
    }
    let before = vanillanet::state_dict(trainer.model()).unwrap();
    let new =
        TrainOptions { learning_rate: 1e-4, schedule: LambdaShape::Linear, per_step: false, ..common::nano_options() };
    trainer.set_options(new.clone()).unwrap();
    assert_eq!(vanillanet::state_dict(trainer.model()).unwrap(), before);
    assert_eq!(trainer.global_step(), 3);
    assert_eq!(trainer.lambda(), 0.0, "linear per-epoch schedule in epoch 0");
    // SGD from here on, same weights.
    trainer.set_options(TrainOptions { optimizer: OptimizerKind::Sgd, ..new.clone() }).unwrap();
    assert_eq!(vanillanet::state_dict(trainer.model()).unwrap(), before);
    assert!(block_on(trainer.step()).unwrap().loss.is_finite());
    let err = trainer.set_options(TrainOptions { preset: "small_28".into(), ..new }).unwrap_err();
    assert!(err.to_string().contains("reset"), "{err}");
}

#[test]
fn activation_response_is_the_learned_piecewise_linear_curve() {
    let trainer = Trainer::new(&Device::flex(), data(), common::nano_options()).unwrap();
    let inputs: Vec<f32> = (-4..=4).map(|i| i as f32 * 0.5).collect();
    let net = trainer.trained_net(Weights::Trained).unwrap();
    let (curve, kernel) = block_on(activation_response(&net, 1, 3, &inputs)).unwrap();
    assert_eq!(curve.len(), inputs.len());
    assert_eq!(kernel.len(), 49);
    // ReLU first: constant for negative inputs, linear with slope sum(kernel) (BN aside) after.
    assert!(curve[..5].windows(2).all(|w| (w[0] - w[1]).abs() < 1e-5), "{curve:?}");
    assert!(block_on(activation_response(&net, 9, 0, &inputs)).is_err());
    assert!(block_on(activation_response(&net, 0, 99, &inputs)).is_err());
}

#[test]
fn dataset_bytes_round_trip_and_bad_files_are_errors() {
    let d = data();
    let bytes = d.to_bytes();
    assert_eq!(Dataset::from_bytes("halves", &bytes).unwrap(), d);
    assert!(Dataset::from_bytes("x", &bytes[..bytes.len() - 1]).unwrap_err().to_string().contains("truncated"));
    assert!(Dataset::from_bytes("x", b"hello world, no dataset").is_err());
    assert!(Dataset::from_bytes("x", &[]).is_err());
    // Presets that cannot take the image size are refused with the reason.
    let tiny = Dataset::new(
        "t",
        vec!["a".into()],
        [1, 8, 8],
        Split { pixels: vec![0; 64], labels: vec![0] },
        Split::default(),
    )
    .unwrap();
    let err = Trainer::new(&Device::flex(), tiny, common::nano_options()).err().unwrap();
    assert!(err.to_string().contains("does not fit 8x8"), "{err}");
    let bad = TrainOptions { learning_rate: -1.0, ..common::nano_options() };
    assert!(Trainer::new(&Device::flex(), data(), bad).is_err());
}

/// The own-images case: a handful of small colour images per class, tiny batches.
#[test]
fn a_few_solid_colour_images_are_learned() {
    let mut rng = Lcg(7);
    let mut noise = move || rng.below(40) as u8;
    let mut make = |n: usize| {
        let mut s = Split::default();
        for i in 0..n {
            let l = (i % 2) as u8;
            let rgb = if l == 0 { [200u8, 30, 30] } else { [30, 30, 200] };
            for c in 0..3 {
                for _ in 0..1024 {
                    s.pixels.push(rgb[c].saturating_add(noise()));
                }
            }
            s.labels.push(l);
        }
        s
    };
    let (train, test) = (make(32), make(8));
    let data = Dataset::new("c", vec!["r".into(), "b".into()], [3, 32, 32], train, test).unwrap();
    // The recipe off, as in the other tests of the loop: in 32 steps a decaying learning rate
    // leaves the loss at 0.43 (0.26 at a constant rate), where the answer can go either way.
    let o = TrainOptions {
        preset: "small_32".into(),
        batch_size: 8,
        epochs: 8,
        decay_epochs: 3,
        learning_rate: 1e-2,
        ..Default::default()
    }
    .without_recipe();
    let mut t = Trainer::new(&Device::flex(), data, o).unwrap();
    while !t.finished() {
        block_on(t.step()).unwrap();
    }
    assert_eq!(test_accuracy(&t, None), Some(1.0));
}

#[test]
fn fusing_the_trained_net_keeps_its_predictions_and_classifies() {
    let mut trainer = Trainer::new(&Device::flex(), data(), common::nano_options()).unwrap();
    block_on(trainer.step()).unwrap();
    assert!(block_on(trainer.fuse(32)).unwrap_err().to_string().contains("lambda"), "refused before annealing");
    while !trainer.finished() {
        block_on(trainer.step()).unwrap();
    }
    let (fused, report) = block_on(trainer.fuse(32)).unwrap();
    assert_eq!(report.images, 32);
    assert_eq!(report.accuracy, report.accuracy_deploy);
    assert!(report.max_logit_diff < 1e-3, "{report:?}");
    assert!(report.params_deploy < report.params && report.convs_deploy < report.convs);
    let gray = image::GrayImage::from_raw(28, 28, trainer.data().test.pixels[..784].to_vec()).unwrap();
    let mut png = std::io::Cursor::new(Vec::new());
    gray.write_to(&mut png, image::ImageFormat::Png).unwrap();
    // The net it was fused from: the weights its card names.
    let net = trainer.trained_net(fused.card.weights.unwrap()).unwrap();
    let c = block_on(compare(&net, &fused, png.get_ref(), 2)).unwrap();
    assert_eq!(c.top.len(), 2);
    let unfused = c.top_unfused.unwrap();
    assert_eq!(c.top[0].label, unfused[0].label);
    assert!((c.top[0].probability - unfused[0].probability).abs() < 1e-4);
    let e = block_on(compare(&net, &fused, &png.get_ref()[..100], 2)).unwrap_err().to_string();
    assert!(e.contains("truncated"), "{e}");
    assert_eq!(fused.card.classes, ["left", "right"]);

    // The whole test set, trained and fused: the same answers, the accuracy `accuracy` gives.
    let trained = block_on(evaluate_net(&trainer.trained_net(Weights::Trained).unwrap())).unwrap();
    let deployed = block_on(evaluate_fused(&fused, trainer.data(), &trainer.device(), trainer.global_step())).unwrap();
    assert_eq!(trained.confusion, deployed.confusion);
    assert_eq!(trained.confusion.iter().flatten().sum::<usize>(), trainer.data().test.len());
    assert_eq!(Some(trained.accuracy), test_accuracy(&trainer, None));
    assert_eq!((trained.step, trained.per_class[0].name.as_str()), (trainer.global_step(), "left"));
    for m in &deployed.mistakes {
        assert_ne!(m.label, m.predicted);
        assert_eq!(m.label, trainer.data().test.labels[m.index] as usize);
    }
}

#[test]
fn a_snapshot_continues_the_same_run() {
    let mut trainer = Trainer::new(&Device::flex(), data(), common::nano_options()).unwrap();
    for _ in 0..9 {
        block_on(trainer.step()).unwrap();
    }
    let bytes = block_on(trainer.snapshot()).unwrap();
    let mut restored = Trainer::restore(&Device::flex(), data(), bytes.clone()).unwrap();
    assert_eq!((restored.epoch(), restored.global_step(), restored.lambda()), (trainer.epoch(), 9, trainer.lambda()));
    assert_eq!(test_accuracy(&restored, None), test_accuracy(&trainer, None));
    // Same weights, same next batch: the same loss (the optimizer acts only after it).
    let (a, b) = (block_on(trainer.step()).unwrap(), block_on(restored.step()).unwrap());
    assert_eq!((a.loss, a.global_step, a.lambda), (b.loss, b.global_step, b.lambda));
    let other = Dataset::new("other", vec!["a".into(), "b".into()], [1, 28, 28], halves(64, 3), halves(8, 4)).unwrap();
    let e = Trainer::restore(&Device::flex(), other, bytes).err().unwrap().to_string();
    assert!(e.contains("halves"), "{e}");
}

#[test]
fn a_diverging_run_stops_with_the_last_finite_weights() {
    // Plain SGD at the largest learning rate allowed blows up here, though when depends on the
    // summation order of the CPU backend's threads: a few presets and seeds, the first that does.
    let mut diverged = None;
    'runs: for preset in ["nano_28", "small_28"] {
        for seed in 42..45 {
            let o = TrainOptions {
                preset: preset.into(),
                batch_size: 16,
                epochs: 20,
                decay_epochs: 2,
                optimizer: OptimizerKind::Sgd,
                learning_rate: 10.0,
                momentum: 0.0,
                weight_decay: 0.0,
                seed,
                ..Default::default()
            };
            let mut trainer = Trainer::new(&Device::flex(), data(), o).unwrap();
            for _ in 0..120 {
                if let Err(e) = block_on(trainer.step()) {
                    diverged = Some((e.to_string(), trainer));
                    break 'runs;
                }
            }
        }
    }
    let (error, trainer) = diverged.expect("SGD at 10 diverges");
    assert!(
        error.contains("training diverged at step") && error.contains("lower the learning rate (now 10)"),
        "{error}"
    );
    // What is left is finite: it evaluates, snapshots and fuses like any net.
    let sd = vanillanet::state_dict(trainer.model()).unwrap();
    assert!(sd.tensors.values().all(|t| t.data.iter().all(|v| v.is_finite())));
    assert!(block_on(trainer.snapshot()).is_ok());
    assert!(test_accuracy(&trainer, Some(8)).is_some());
}

#[test]
fn options_out_of_range_name_their_field() {
    let check = |o: TrainOptions| o.check(&data()).unwrap_err();
    assert_eq!(check(TrainOptions { learning_rate: 1e6, ..common::nano_options() }).field, "learningRate");
    assert_eq!(check(TrainOptions { learning_rate: f64::NAN, ..common::nano_options() }).field, "learningRate");
    assert_eq!(check(TrainOptions { decay_epochs: 5, epochs: 1, ..common::nano_options() }).field, "decayEpochs");
    assert_eq!(check(TrainOptions { epochs: 0, ..common::nano_options() }).field, "epochs");
    assert_eq!(check(TrainOptions { act_num: 99, ..common::nano_options() }).field, "actNum");
    assert_eq!(check(TrainOptions { momentum: 1.0, ..common::nano_options() }).field, "momentum");
    let big = check(TrainOptions { batch_size: 1_000_000, ..common::nano_options() });
    assert_eq!(big.field, "batchSize");
    assert!(big.message.contains("1 to 4096"), "{}", big.message);
    assert!(common::nano_options().check(&data()).is_ok());
}

#[test]
fn finishing_annealing_ends_deep_training_with_the_current_epoch() {
    let mut trainer = Trainer::new(&Device::flex(), data(), common::nano_options()).unwrap();
    block_on(trainer.step()).unwrap();
    assert!(trainer.finish_annealing().unwrap(), "lambda was below 1");
    assert_eq!(trainer.options().decay_epochs, 1, "deep training ends with epoch 1 of 3");
    while trainer.epoch() == 0 {
        block_on(trainer.step()).unwrap();
    }
    assert_eq!(trainer.lambda(), 1.0);
    assert!(trainer.cannot_fuse().is_none(), "fusable after the epoch");
    assert!(!trainer.finish_annealing().unwrap(), "nothing left to shorten");
    while !trainer.finished() {
        block_on(trainer.step()).unwrap();
    }
    assert!(trainer.finish_annealing().unwrap_err().to_string().contains("training is finished"));
}

/// Lambda annealed (linear, per step) over the run's one epoch: the net at its end is at lambda
/// 1 and fuses, and the decay's last probe measures it so (linear), not at the last step's
/// lambda (5/6 here); the probes within the epoch are at their step's lambda.
#[test]
fn the_last_probe_of_a_run_annealed_to_its_end_is_of_the_linear_net() {
    let options = TrainOptions { epochs: 1, decay_epochs: 1, schedule: LambdaShape::Linear, ..common::nano_options() };
    let mut trainer = Trainer::new(&Device::flex(), data(), options).unwrap();
    trainer.set_probe_every(2).unwrap();
    assert_eq!(trainer.steps_per_epoch(), 6);
    let mut last = None;
    while !trainer.finished() {
        let r = block_on(trainer.step()).unwrap();
        if let Some(p) = &r.inside {
            let measured = if r.epoch_end { 1.0 } else { r.lambda };
            assert_eq!(p.lambda, measured, "step {}", r.global_step);
        }
        last = r.inside.or(last);
    }
    assert!(trainer.cannot_fuse().is_none(), "lambda 1 at the end");
    let d = trainer.decay();
    assert_eq!(d.steps, vec![1, 2, 4, 6]);
    // Step k is trained at lambda (k - 1) / 6; the last probe after it, at 6 / 6.
    let expected = [0.0, 1.0 / 6.0, 3.0 / 6.0, 1.0];
    assert!(d.lambda.iter().zip(expected).all(|(l, e)| (l - e).abs() < 1e-12), "{:?}", d.lambda);
    assert_eq!(d.lambda[3], 1.0, "exactly: the net fuses at it");
    assert_eq!(last.as_ref().map(|p| (p.step, p.lambda)), Some((6, 1.0)), "the step's report tells it too");
    for b in &d.blocks {
        assert!(b.distance[0] > 0.05, "{} at lambda 0: {}", b.name, b.distance[0]);
        assert!(b.distance[3] < 1e-6, "{} at the end, lambda 1: {}", b.name, b.distance[3]);
    }
}

/// Accuracy of the trained weights on up to `limit` test images (all when `None`).
fn test_accuracy(trainer: &Trainer, limit: Option<usize>) -> Option<f32> {
    block_on(accuracy(&trainer.trained_net(Weights::Trained).unwrap(), limit)).unwrap()
}
