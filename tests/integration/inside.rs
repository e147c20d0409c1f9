//! Inside the net: the decay the training loop records, feature maps of both forms, the fusion
//! drawn as matrices, and `vanillanet inspect` giving the page's numbers.

use std::path::PathBuf;
use std::process::Command;

use burn::tensor::Device;
use pollster::block_on;

use crate::common;
use crate::common::{halves_data, random_state};
use vanillanet::io::names::state_dict;
use vanillanet::session::Session;
use vanillanet::train::inside::{
    DecayHistory, DecayPoint, FeatureMaps, MAX_PROBES, MapsImage, fusion_of_part, maps_of_image,
};
use vanillanet::train::trainer::Trainer;
use vanillanet::{Classifier, VanillaNetConfig, load_state};

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vanillanet-inside-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A nano_28 trained through lambda 0 -> 1 (3 epochs of 6 steps, annealed over 2).
fn trained(every: usize) -> Trainer {
    let mut trainer = Trainer::new(&Device::flex(), halves_data(96, 40), common::nano_options()).unwrap();
    trainer.set_probe_every(every).unwrap();
    while !trainer.finished() {
        block_on(trainer.step()).unwrap();
    }
    trainer
}

#[test]
fn the_loop_records_every_activations_decay_from_relu_to_linear() {
    let mut trainer = Trainer::new(&Device::flex(), halves_data(96, 40), common::nano_options()).unwrap();
    trainer.set_probe_every(4).unwrap();
    let mut probed = Vec::new();
    while !trainer.finished() {
        let r = block_on(trainer.step()).unwrap();
        // The first step, every 4th and each epoch's last.
        let due = r.global_step == 1 || r.global_step % 4 == 0 || r.epoch_end;
        assert_eq!(r.inside.is_some(), due, "step {}", r.global_step);
        if let Some(p) = r.inside {
            // An epoch's last probe is of the net as it stands after it: at the next step's lambda.
            let measured = if r.epoch_end { trainer.lambda() } else { r.lambda };
            assert_eq!((p.step, p.lambda), (r.global_step, measured));
            probed.push(p.step);
        }
    }
    let d = trainer.decay();
    assert_eq!(d.steps, probed);
    assert_eq!(d.steps, vec![1, 4, 6, 8, 12, 16, 18]);
    let names: Vec<&str> = d.blocks.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["stem", "stages.0", "stages.1", "head"]);
    for b in &d.blocks {
        assert_eq!((b.distance.len(), b.negative_share.len()), (d.steps.len(), d.steps.len()));
        assert!(b.negative_share.iter().all(|s| (0.0..=1.0).contains(s)), "{}: {:?}", b.name, b.negative_share);
        // At lambda 0 the activation is a ReLU: far from linear wherever inputs are negative.
        assert_eq!(d.lambda[0], 0.0);
        assert!(b.distance[0] > 0.05, "{} at lambda 0: {}", b.name, b.distance[0]);
        for (i, &l) in d.lambda.iter().enumerate() {
            // |A'(x) - x| = (1 - lambda) |x-|: bounded by 1 - lambda, 0 at lambda 1.
            assert!(b.distance[i] <= (1.0 - l as f32) + 1e-6, "{} step {}: {}", b.name, d.steps[i], b.distance[i]);
            if l == 1.0 {
                assert!(b.distance[i] < 1e-6, "{} at lambda 1: {}", b.name, b.distance[i]);
            }
        }
    }
    assert!(d.lambda.iter().filter(|&&l| l == 1.0).count() >= 2, "{:?}", d.lambda);
    // The last probe of each epoch, as a study's run keeps them.
    let per_epoch = d.per_epoch(trainer.steps_per_epoch(), 3);
    assert_eq!(per_epoch.iter().map(|p| p.step).collect::<Vec<_>>(), vec![6, 12, 18]);
    assert!(per_epoch[2].line().contains("stem"), "{}", per_epoch[2].line());
    // Kept through a snapshot (the page's reload).
    let restored =
        Trainer::restore(&Device::flex(), halves_data(96, 40), block_on(trainer.snapshot()).unwrap()).unwrap();
    let back = restored.decay();
    assert_eq!((&back.steps, &back.blocks, back.every), (&d.steps, &d.blocks, d.every));
    // Lambda goes through JSON, which may round its last digit.
    assert!(back.lambda.iter().zip(&d.lambda).all(|(a, b)| (a - b).abs() < 1e-12), "{:?}", back.lambda);
    // Probing reads and changes nothing: the same run without probes ends with the same weights.
    let quiet = trained(0);
    assert!(quiet.decay().is_empty());
    // To float rounding: the CPU kernels' threads may sum in another order from run to run.
    assert!(
        crate::recipe::close(&state_dict(quiet.model()).unwrap(), &state_dict(trainer.model()).unwrap(), 1e-4),
        "probing changed the weights"
    );
    assert!(trainer.set_probe_every(10_000_000).unwrap_err().to_string().contains("at most"));
}

#[test]
fn a_long_run_keeps_a_bounded_history() {
    let mut h = DecayHistory::new(1);
    let point = |step: usize| DecayPoint {
        step,
        lambda: 0.5,
        names: vec!["stem".into(), "head".into()],
        negative_share: vec![0.5, 0.25],
        distance: vec![step as f32, 0.0],
    };
    for step in 1..=5 * MAX_PROBES {
        if h.due(step, false) {
            h.push(&point(step));
        }
    }
    assert!(h.len() <= MAX_PROBES && h.len() > MAX_PROBES / 4, "{}", h.len());
    assert!(h.every >= 2, "probes less often once thinned: every {}", h.every);
    assert!(h.is_consistent());
    assert_eq!(h.steps[0], 1, "the first probe stays");
    assert!(h.steps.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(h.blocks[0].distance, h.steps.iter().map(|&s| s as f32).collect::<Vec<_>>(), "values stay aligned");
    let mut broken = h.clone();
    broken.blocks[1].distance.pop();
    assert!(!broken.is_consistent(), "a saved history that does not add up is not used");
}

#[test]
fn feature_maps_of_the_trained_and_fused_net_agree_at_lambda_1() {
    let trainer = trained(0);
    assert_eq!(trainer.lambda(), 1.0);
    let (fused, _) = block_on(trainer.fuse(40)).unwrap();
    let blocks = trainer.config().num_blocks();
    for block in 0..=blocks {
        let maps = block_on(maps_of(&trainer, MapsImage::Test(3), block, Some(5), None)).unwrap();
        let (channels, side) = ([16, 32, 64][block], [7, 3, 1][block]);
        assert_eq!((maps.channels, maps.height, maps.width), (channels, side, side));
        assert_eq!(maps.tiles.len(), 5);
        assert!(maps.tiles.windows(2).all(|w| w[0].activity >= w[1].activity), "most active first");
        assert!(maps.tiles.iter().all(|t| t.values.len() == side * side));
        let f = block_on(maps_of(&trainer, MapsImage::Test(3), block, Some(5), Some(&fused))).unwrap();
        assert!(f.fused);
        let diff = f.max_diff.unwrap();
        assert!(diff < 1e-4, "block {block}: fused maps differ by {diff}");
        for (a, b) in maps.tiles.iter().zip(&f.tiles) {
            let close = a.values.iter().zip(&b.values).all(|(x, y)| (x - y).abs() <= 1e-4);
            assert!(a.channel != b.channel || close, "block {block} channel {}", a.channel);
        }
    }
    let err = |r: vanillanet::Result<FeatureMaps>| r.unwrap_err().to_string();
    assert!(err(block_on(maps_of(&trainer, MapsImage::Test(0), 3, None, None))).contains("block 3 does not exist"));
    assert!(err(block_on(maps_of(&trainer, MapsImage::Test(40), 0, None, None))).contains("no test image 40"));
    assert!(err(block_on(maps_of(&trainer, MapsImage::Test(0), 0, Some(0), None))).contains("tiles must be 1 to 64"));
    assert!(err(block_on(maps_of(&trainer, MapsImage::Test(0), 0, Some(65), None))).contains("tiles must be 1 to 64"));
    assert!(err(block_on(maps_of(&trainer, MapsImage::File(b"nope"), 0, None, None))).contains("not an image"));
    assert_eq!(block_on(maps_of(&trainer, MapsImage::Test(0), 2, None, None)).unwrap().tiles.len(), 16, "default");
}

/// The page's index is a JS number, up to 2 ** 53 and past a 32-bit usize (wasm's): the
/// session takes it whole and refuses it as past the test set, never wrapped onto an image.
#[test]
fn a_test_image_index_past_any_usize_is_refused_as_past_the_test_set() {
    let mut s = Session::new();
    s.set_data(halves_data(96, 40));
    s.create_trainer(common::nano_options()).unwrap();
    for index in [40, 1 << 32, (1 << 32) + 7, 1 << 53, u64::MAX] {
        let refused = block_on(s.feature_maps(Some(index), None, 0, false, None)).unwrap_err().to_string();
        assert!(refused.contains(&format!("there is no test image {index}: the test set has 40")), "{refused}");
    }
    assert_eq!(block_on(s.feature_maps(Some(7), None, 0, false, Some(2))).unwrap().tiles.len(), 2);
}

#[test]
fn the_fusion_view_is_the_deploy_forms_tensors_and_adds_up_to_the_whole_net() {
    // Random BN statistics, so that folding matters.
    let config = VanillaNetConfig::named("nano5_28").unwrap();
    let device = Device::flex();
    let model = load_state(config.init(&device), &random_state(&config, 7), &device).unwrap();
    let deploy = state_dict(&model.fuse(1.0).unwrap()).unwrap();
    let sizes = config.feature_sizes(28, 28).unwrap();
    let (mut params, mut params_deploy, mut macs, mut macs_deploy) = (0, 0, 0, 0);
    for part in 0..=config.num_blocks() + 1 {
        let parts = model.fusion_parts(part).unwrap();
        let v = block_on(vanillanet::train::inside::fusion_view(parts, part, &sizes, 1.0, true)).unwrap();
        assert!(v.exact);
        let tensor = |key: String| deploy.get(&key).unwrap_or_else(|| panic!("{key}")).clone();
        let w = tensor(format!("{}.weight", v.fused_key));
        assert_eq!((w.shape.clone(), w.data.clone()), (v.fused.shape.clone(), v.fused.values.clone()), "{}", v.name);
        assert_eq!(tensor(format!("{}.bias", v.fused_key)).data, v.fused_bias, "{}", v.name);
        if let Some(act) = &v.act {
            let key = v.act_key.clone().unwrap();
            assert_eq!(tensor(format!("{key}.weight")).data, act.folded.values, "{key}");
            assert_eq!(tensor(format!("{key}.bias")).data, act.folded_bias, "{key}");
        }
        // The product of the folded matrices is the fused conv.
        let (a, b) = (&v.conv1.folded, &v.conv2.as_ref().unwrap().folded);
        assert_eq!((a.rows, b.cols, b.rows, a.cols), (b.cols, a.rows, v.fused.rows, v.fused.cols));
        for r in 0..b.rows {
            for c in 0..a.cols {
                let p: f32 = (0..a.rows).map(|k| b.values[r * b.cols + k] * a.values[k * a.cols + c]).sum();
                let f = v.fused.values[r * a.cols + c];
                assert!((p - f).abs() <= 1e-4 * (1.0 + f.abs()), "{} [{r},{c}]: {p} vs {f}", v.name);
            }
        }
        // Folding multiplies each row by its BN's scale.
        let c1 = &v.conv1;
        for r in 0..c1.weight.rows {
            let (raw, folded) = (c1.weight.values[r * c1.weight.cols], c1.folded.values[r * c1.weight.cols]);
            assert!((raw * c1.scale[r] - folded).abs() <= 1e-5 * (1.0 + folded.abs()), "{} row {r}", v.name);
        }
        params += v.params_before;
        params_deploy += v.params_after;
        macs += v.macs_before;
        macs_deploy += v.macs_after;
    }
    assert_eq!((params, params_deploy), (config.params_train() as u64, config.params_deploy() as u64));
    assert_eq!((macs, macs_deploy), (config.macs(28, 28, false).unwrap(), config.macs(28, 28, true).unwrap()));
    let bad = model.fusion_parts(config.num_blocks() + 2).err().unwrap().to_string();
    assert!(bad.contains("does not exist"), "{bad}");
    // Below lambda 1 it is drawn, and says it is not exact.
    let trainer = Trainer::new(&device, halves_data(32, 8), common::nano_options()).unwrap();
    let v = block_on(fusion_of_part(&trainer.trained_net(trainer.default_weights()).unwrap(), 1)).unwrap();
    assert_eq!(v.lambda, 0.0);
    assert!(!v.exact);
}

fn vanillanet(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vanillanet")).args(args).output().unwrap()
}

#[test]
fn inspect_gives_the_engines_feature_maps_and_train_prints_the_decay() {
    let trainer = trained(0);
    let (data, checkpoint) = (tmp("halves.vnds"), tmp("trained.safetensors"));
    std::fs::write(&data, trainer.data().to_bytes()).unwrap();
    std::fs::write(&checkpoint, block_on(trainer.export_training()).unwrap()).unwrap();
    let (fused, _) = block_on(trainer.fuse(40)).unwrap();
    let deploy = tmp("fused.safetensors");
    std::fs::write(&deploy, block_on(fused.to_safetensors()).unwrap()).unwrap();
    let s = |p: &PathBuf| p.to_str().unwrap().to_string();
    for (file, fused_flag) in [(&checkpoint, false), (&checkpoint, true), (&deploy, true)] {
        let json = tmp("maps.json");
        let mut args = vec!["inspect".to_string(), "--checkpoint".into(), s(file), "--data".into(), s(&data)];
        args.extend(["--index", "5", "--block", "1", "--tiles", "4", "--json"].map(String::from));
        args.push(s(&json));
        if fused_flag {
            args.push("--fused".into());
        }
        let out = vanillanet(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
        assert!(text.contains("stages.0"), "{text}");
        let cli: FeatureMaps = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        let engine = block_on(maps_of(&trainer, MapsImage::Test(5), 1, Some(4), fused_flag.then_some(&fused))).unwrap();
        assert_eq!((cli.channels, cli.height, cli.tiles.len(), cli.fused), (32, 3, 4, fused_flag));
        for (a, b) in cli.tiles.iter().zip(&engine.tiles) {
            assert_eq!(a.channel, b.channel);
            assert!(a.values.iter().zip(&b.values).all(|(x, y)| (x - y).abs() <= 1e-5), "{:?} {:?}", a, b);
        }
    }
    let fails = |args: &[&str], needle: &str| {
        let out = vanillanet(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains(needle), "{needle}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    };
    let (c, d) = (s(&checkpoint), s(&data));
    fails(&["inspect", "--checkpoint", &c, "--data", &d, "--block", "3"], "--block 3: 0 is the stem, 1..=2 the blocks");
    fails(&["inspect", "--checkpoint", &c, "--data", &d, "--index", "99"], "--index 99");
    fails(&["inspect", "--checkpoint", &c, "--data", &d, "--tiles", "0"], "tiles must be 1 to 64");
    fails(&["inspect", "--checkpoint", &c], "give --data FILE.vnds");
    fails(&["inspect", "--checkpoint", &s(&deploy), "--data", &d], "already fused");
    fails(&["inspect", "--checkpoint", &c, "--data", &d, "--fused", "--lambda", "0.5"], "lambda");
    // `train` follows each epoch's line with the decay of its last probe.
    let out = vanillanet(&[
        "train",
        "--data",
        &d,
        "--preset",
        "nano_28",
        "--epochs",
        "2",
        "--decay-epochs",
        "1",
        "--batch-size",
        "16",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let inside: Vec<&str> = text.lines().filter(|l| l.trim_start().starts_with("inside")).collect();
    assert_eq!(inside.len(), 2, "{text}");
    assert!(inside[0].contains("stem") && inside[0].contains("head") && inside[0].contains("from linear"), "{text}");
    assert!(inside[1].contains("0.000e0 from linear"), "linear at lambda 1: {text}");
}

/// The feature maps of `trainer`'s default weights, or of `fused` (their fused form).
async fn maps_of(
    trainer: &Trainer,
    image: MapsImage<'_>,
    block: usize,
    tiles: Option<usize>,
    fused: Option<&Classifier>,
) -> vanillanet::Result<FeatureMaps> {
    maps_of_image(&trainer.trained_net(trainer.default_weights())?, fused.map(|c| &c.model), image, block, tiles).await
}
