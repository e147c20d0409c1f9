//! The authors' recipe in the one training loop: images augmented on the fly (from the seed, the
//! epoch and the step), the learning rate's warm-up and decay, and the moving average of the
//! weights and BN statistics, which is evaluated, fused and exported like the trained net and
//! kept in snapshots.

use crate::common;
use crate::common::halves_data;
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use pollster::block_on;
use vanillanet::data::augment::{Augment, Draws};
use vanillanet::data::dataset::Dataset;
use vanillanet::io::card::{ModelCard, Weights};
use vanillanet::train::ema::Ema;
use vanillanet::train::evaluation::{accuracy, evaluate_net};
use vanillanet::train::inside::{MapsImage, fusion_of_part, maps_of_image};
use vanillanet::train::lr::LrShape;
use vanillanet::train::options::{RECIPE, TrainOptions};
use vanillanet::train::trainer::Trainer;
use vanillanet::{Classifier, StateDict, VanillaNet, state_dict};

fn data() -> Dataset {
    halves_data(96, 32)
}

/// Sixteen training images as a batch's values, augmented with the draws of `seed`'s step 3.
fn batch(data: &Dataset, augment: Augment, seed: u64) -> Vec<f32> {
    let indices: Vec<usize> = (0..16).collect();
    let mut draws = Draws::of_step(seed, 0, 3);
    let (x, _) = data.augmented_batch(&data.train, &indices, &augment, &mut draws, &Device::flex());
    values(x.flatten(0, 3))
}

fn values(t: Tensor<1>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec::<f32>().unwrap()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).fold(0f32, |m, (p, q)| m.max((p - q).abs()))
}

/// Every tensor of `a` within `tolerance` of the same tensor of `b`.
pub(crate) fn close(a: &StateDict, b: &StateDict, tolerance: f32) -> bool {
    a.tensors.len() == b.tensors.len()
        && a.tensors.iter().all(|(k, t)| b.get(k).is_some_and(|u| max_diff(&t.data, &u.data) <= tolerance))
}

#[test]
fn augmentation_follows_the_seed_and_mirrors_only_where_the_data_allows() {
    let clothes = data().with_mirror(true);
    let all = Augment { pad: 2, flip: true, erase: 0.5 };
    let plain = batch(&clothes, Augment::NONE, 1);
    assert_eq!(
        plain,
        values(clothes.batch(&clothes.train, &(0..16).collect::<Vec<_>>(), &Device::flex()).0.flatten(0, 3))
    );
    assert_eq!(batch(&clothes, all, 1), batch(&clothes, all, 1), "the same seed, the same images");
    assert_ne!(batch(&clothes, all, 1), batch(&clothes, all, 2), "another seed, other images");
    assert_ne!(batch(&clothes, all, 1), plain);
    // A mirror alone: images change where the data allows it, never where it does not (digits).
    let mirror = Augment { flip: true, ..Augment::NONE };
    assert_ne!(batch(&clothes, mirror, 1), plain);
    let digits = data().with_mirror(false);
    assert_eq!(batch(&digits, mirror, 1), plain);
    // The built-in sets say so themselves (when built: scripts/build-data.mjs).
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("www/data");
    for (name, mirrored) in [("mnist", false), ("fashion-mnist", true)] {
        if let Ok(bytes) = std::fs::read(root.join(format!("{name}.vnds"))) {
            assert_eq!(Dataset::from_bytes(name, &bytes).unwrap().mirror, mirrored, "{name}");
        }
    }
}

#[test]
fn the_learning_rate_warms_up_then_decays_to_about_zero() {
    // 96 images in batches of 16: 6 steps an epoch, 18 in all, the first 6 warming up.
    let options = TrainOptions { warmup_epochs: 1.0, lr_schedule: LrShape::Cosine, ..common::recipe_options() };
    let mut trainer = Trainer::new(&Device::flex(), data(), options.clone()).unwrap();
    let mut rates = vec![];
    while !trainer.finished() {
        rates.push(block_on(trainer.step()).unwrap().learning_rate);
    }
    let lr = options.learning_rate;
    assert_eq!(rates.len(), 18);
    assert!((rates[0] - lr / 6.0).abs() < 1e-12, "the warm-up's first step: {}", rates[0]);
    assert_eq!(rates[5], lr, "the warm-up's last step");
    assert_eq!(rates[6], lr, "the decay's first step");
    assert!(rates[17] > 0.0 && rates[17] < 0.02 * lr, "the last step, about 0: {}", rates[17]);
    assert!(rates[6..].windows(2).all(|w| w[1] < w[0]));
    let constant = TrainOptions { lr_schedule: LrShape::Constant, ..options };
    let mut trainer = Trainer::new(&Device::flex(), data(), constant).unwrap();
    let rates: Vec<f64> = (0..18).map(|_| block_on(trainer.step()).unwrap().learning_rate).collect();
    assert_eq!(rates[17], lr);
    let too_long = TrainOptions { warmup_epochs: 4.0, ..common::recipe_options() };
    assert_eq!(too_long.check(&data()).unwrap_err().field, "warmupEpochs");
}

#[test]
fn the_moving_average_takes_every_tensor_the_running_statistics_too() {
    let mut trainer = Trainer::new(&Device::flex(), data(), common::recipe_options()).unwrap();
    for _ in 0..3 {
        block_on(trainer.step()).unwrap();
    }
    let trained = state_dict(&trainer.model().valid()).unwrap();
    // Another net of the same shape (built once: the CPU device's generator is shared with the
    // tests running beside this one); each average below starts from its own copy of it.
    let other: VanillaNet = trainer.config().init(&Device::flex());
    let before = state_dict(&Ema::start(&other).net).unwrap();
    let key = "stages.0.conv1.1.running_var";
    assert!(max_diff(&before.get(key).unwrap().data, &trained.get(key).unwrap().data) > 1e-3, "far apart");

    // Decay 0: the trained net, exactly, BN statistics included.
    let mut ema = Ema::start(&other);
    ema.update(trainer.model(), 0.0);
    assert_eq!(state_dict(&ema.net).unwrap(), trained);
    // Decay near 1: it stays where it was.
    let mut ema = Ema::start(&other);
    ema.update(trainer.model(), 1.0 - 1e-9);
    assert!(close(&state_dict(&ema.net).unwrap(), &before, 1e-6));
    // Halfway: every tensor, weights and statistics alike, is the mean of the two.
    let mut ema = Ema::start(&other);
    ema.update(trainer.model(), 0.5);
    let half = state_dict(&ema.net).unwrap();
    for k in ["stem1.0.weight", key, "stem1.1.running_mean", "cls2.0.bias"] {
        let mean: Vec<f32> =
            before.get(k).unwrap().data.iter().zip(&trained.get(k).unwrap().data).map(|(a, b)| (a + b) / 2.0).collect();
        assert!(max_diff(&half.get(k).unwrap().data, &mean) < 1e-6, "{k}");
    }
    // In the loop: after some steps the average trails the trained net.
    let average = state_dict(trainer.ema().expect("on by default")).unwrap();
    assert_ne!(average, trained);
    assert!(close(&average, &trained, 10.0), "the same tensors");
}

#[test]
fn the_average_is_evaluated_fused_and_exported_and_says_so() {
    let mut trainer = Trainer::new(&Device::flex(), data(), common::recipe_options()).unwrap();
    while !trainer.finished() {
        block_on(trainer.step()).unwrap();
    }
    assert_eq!(trainer.default_weights(), Weights::Ema);
    let average = trainer.trained_net(Weights::Ema).unwrap();
    let evaluation = block_on(evaluate_net(&average)).unwrap();
    assert_eq!(serde_json::to_value(&evaluation).unwrap()["model"], "ema");
    assert_eq!(Some(evaluation.accuracy), block_on(accuracy(&average, None)).unwrap());

    let (fused, report) = block_on(trainer.fuse(32)).unwrap();
    assert_eq!((report.weights, fused.card.weights), (Weights::Ema, Some(Weights::Ema)));
    assert!(report.max_logit_diff < 1e-4, "{report:?}");
    assert_eq!(report.accuracy, report.accuracy_deploy);
    // The fused logits are the average's (not the trained net's).
    let (x, _) = trainer.data().batch(&trainer.data().test, &(0..8).collect::<Vec<_>>(), &Device::flex());
    let average = values(trainer.ema().unwrap().forward(x.clone(), 1.0).flatten(0, 1));
    let deployed = block_on(fused.logits(x.clone())).unwrap();
    assert!(max_diff(&average, &deployed) < 1e-4);
    let (trained_fused, report) = block_on(trainer.fuse_weights(Weights::Trained, 32)).unwrap();
    assert_eq!((report.weights, trained_fused.card.weights), (Weights::Trained, Some(Weights::Trained)));
    assert!(max_diff(&block_on(trained_fused.logits(x.clone())).unwrap(), &deployed) > 1e-4, "two nets");
    // The views inside the net look at the weights that were fused, each against its source.
    for (net, weights) in [(&fused, Weights::Ema), (&trained_fused, Weights::Trained)] {
        let source = trainer.trained_net(net.card.weights.unwrap()).unwrap();
        let maps = block_on(maps_of_image(&source, Some(&net.model), MapsImage::Test(1), 1, Some(4))).unwrap();
        assert!(maps.max_diff.unwrap() < 1e-4, "{weights:?}: {:?}", maps.max_diff);
    }
    let view = block_on(fusion_of_part(&trainer.trained_net(trainer.default_weights()).unwrap(), 1)).unwrap();
    let deploy = state_dict(&fused.model).unwrap();
    assert_eq!(view.fused.values, deploy.get(&format!("{}.weight", view.fused_key)).unwrap().data, "the average's");

    // Exported in the authors' training form, the card says which; it comes back as the same net.
    let sd = StateDict::from_bytes(block_on(trainer.export_training()).unwrap()).unwrap();
    assert_eq!(ModelCard::read(&sd).unwrap().unwrap().weights, Some(Weights::Ema));
    let loaded = Classifier::from_checkpoint(&sd, None, None, &Device::flex()).unwrap();
    assert_eq!(loaded.card.weights, Some(Weights::Ema));
    assert!(max_diff(&block_on(loaded.logits(x)).unwrap(), &deployed) < 1e-4);
    let sd = StateDict::from_bytes(block_on(trainer.export_training_of(Weights::Trained)).unwrap()).unwrap();
    assert_eq!(ModelCard::read(&sd).unwrap().unwrap().weights, Some(Weights::Trained));

    // Without an average: the trained weights, and the average asked for is refused.
    let off = TrainOptions { ema_decay: 0.0, ..common::recipe_options() };
    let trainer = Trainer::new(&Device::flex(), data(), off).unwrap();
    assert_eq!((trainer.default_weights(), trainer.ema().is_none()), (Weights::Trained, true));
    let e = trainer.trained_net(Weights::Ema).err().unwrap().to_string();
    assert!(e.contains("no moving average"), "{e}");
    let e = block_on(trainer.fuse_weights(Weights::Ema, 8)).err().unwrap().to_string();
    assert!(e.contains("no moving average"), "{e}");
}

#[test]
fn a_snapshot_keeps_the_average_and_the_augmented_batches() {
    // Every augmentation drawn (the mirror too, though it swaps these images' classes).
    let options = TrainOptions { erasing: 0.5, crop_padding: 2, ..common::recipe_options() };
    let mut trainer = Trainer::new(&Device::flex(), data().with_mirror(true), options).unwrap();
    for _ in 0..8 {
        block_on(trainer.step()).unwrap();
    }
    let bytes = block_on(trainer.snapshot()).unwrap();
    let mut restored = Trainer::restore(&Device::flex(), data().with_mirror(true), bytes.clone()).unwrap();
    assert_eq!(state_dict(restored.ema().unwrap()).unwrap(), state_dict(trainer.ema().unwrap()).unwrap());
    // The same weights and the same augmented batch: the same loss (the optimizer's moments,
    // which a snapshot does not keep, act only after it).
    let (a, b) = (block_on(trainer.step()).unwrap(), block_on(restored.step()).unwrap());
    assert_eq!((a.loss, a.learning_rate), (b.loss, b.learning_rate));
    // Another seed draws other images (and starts from other weights): another loss.
    let options = TrainOptions { seed: 43, ..trainer.options().clone() };
    let mut other = Trainer::new(&Device::flex(), data().with_mirror(true), options).unwrap();
    assert_ne!(block_on(other.step()).unwrap().loss, a.loss);

    // A snapshot of an older build: no average and no recipe options. It continues as it
    // trained then, the recipe off.
    let mut old = StateDict::from_bytes(bytes.clone()).unwrap();
    assert!(!old.take_prefixed("model_ema.").tensors.is_empty());
    let position = old.metadata.get_mut("vanillanet_trainer").unwrap();
    let mut json: serde_json::Value = serde_json::from_str(position).unwrap();
    for key in RECIPE {
        json["options"].as_object_mut().unwrap().remove(key);
    }
    // Before the validation split it trained on every training image.
    json["trainImages"] = data().train.len().into();
    *position = json.to_string();
    let mut older = Trainer::restore(&Device::flex(), data(), old.to_safetensors().unwrap()).unwrap();
    assert_eq!(older.options(), &common::nano_options());
    assert!(older.ema().is_none());
    assert!(block_on(older.step()).unwrap().loss.is_finite());

    // The options keep an average but the snapshot has none: it starts from the weights.
    let mut bare = StateDict::from_bytes(bytes.clone()).unwrap();
    bare.take_prefixed("model_ema.");
    let restored = Trainer::restore(&Device::flex(), data(), bare.to_safetensors().unwrap()).unwrap();
    assert_eq!(state_dict(restored.ema().unwrap()).unwrap(), state_dict(&restored.model().valid()).unwrap());

    // An average of the wrong shape is named, not loaded.
    let mut bad = StateDict::from_bytes(bytes).unwrap();
    bad.tensors.get_mut("model_ema.cls2.0.bias").unwrap().shape = vec![1, 2];
    let e = Trainer::restore(&Device::flex(), data(), bad.to_safetensors().unwrap()).err().unwrap().to_string();
    assert!(e.contains("moving average") && e.contains("cls2.0.bias"), "{e}");
}

#[test]
fn the_average_switched_on_and_off_mid_run() {
    let off = TrainOptions { ema_decay: 0.0, ..common::recipe_options() };
    let mut trainer = Trainer::new(&Device::flex(), data(), off.clone()).unwrap();
    block_on(trainer.step()).unwrap();
    trainer.set_options(common::recipe_options()).unwrap();
    assert_eq!(state_dict(trainer.ema().unwrap()).unwrap(), state_dict(&trainer.model().valid()).unwrap());
    block_on(trainer.step()).unwrap();
    trainer.set_options(off).unwrap();
    assert!(trainer.ema().is_none());
    let e = trainer.set_options(TrainOptions { drop_rate: 0.3, ..common::recipe_options() }).unwrap_err();
    assert!(e.to_string().contains("drop rate"), "{e}");
}
