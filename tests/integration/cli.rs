//! The `vanillanet` binary, end to end.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::*;
use vanillanet::io::card::{CARD_KEY, Form, LEGACY_CONFIG_KEY, ModelCard};
use vanillanet::{Classifier, StateDict};

const TINY: &[&str] = &["--dims", "16,32,64,128", "--strides", "2,2,2", "--num-classes", "10"];

fn vanillanet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vanillanet")).args(args).output().unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vanillanet-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Paths as `&str` for argument lists (leaked: tests are short-lived).
fn s(p: &Path) -> &'static str {
    Box::leak(p.to_str().unwrap().to_string().into_boxed_str())
}

fn read(p: &Path) -> StateDict {
    StateDict::from_safetensors(&std::fs::read(p).unwrap()).unwrap()
}

fn fails_with(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should fail: {stderr}");
    assert!(stderr.contains(needle), "stderr lacks '{needle}': {stderr}");
    assert!(!stderr.contains("panicked"), "panicked: {stderr}");
}

#[test]
fn logits_reproduce_the_official_outputs() {
    let io = fixture("io.safetensors");
    let (input, pth, st) =
        (fixture_path("io.safetensors"), fixture_path("checkpoint.pth"), fixture_path("train_state.safetensors"));
    for (lambda, ckpt) in [("0.0", &pth), ("0.5", &st), ("1.0", &pth)] {
        let out_path = tmp(&format!("logits-{lambda}.safetensors"));
        let mut args =
            vec!["logits", "--checkpoint", s(ckpt), "--lambda", lambda, "--input", s(&input), "--output", s(&out_path)];
        args.extend_from_slice(TINY);
        let out = vanillanet(&args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_close(
            read(&out_path).get("logits").unwrap(),
            io.get(&format!("logits_eval_lambda_{lambda}")).unwrap(),
            lambda,
        );
    }
    // --fused from a training checkpoint and from the official deploy checkpoint.
    for ckpt in [pth.clone(), fixture_path("deploy_state.safetensors")] {
        let out_path = tmp("logits-fused.safetensors");
        let mut args =
            vec!["logits", "--checkpoint", s(&ckpt), "--fused", "--input", s(&input), "--output", s(&out_path)];
        args.extend_from_slice(TINY);
        let out = vanillanet(&args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_close(read(&out_path).get("logits").unwrap(), io.get("logits_deploy").unwrap(), "fused");
    }
}

#[test]
fn fused_with_lambda_below_one_fails_clearly() {
    let out_path = tmp("never.safetensors");
    let mut args = vec!["logits", "--checkpoint", s(&fixture_path("checkpoint.pth")), "--fused", "--lambda", "0.5"];
    args.extend(["--input", s(&fixture_path("io.safetensors")), "--output", s(&out_path)]);
    args.extend_from_slice(TINY);
    let out = vanillanet(&args);
    fails_with(&out, "cannot fuse at lambda = 0.5");
    assert!(!out_path.exists());
}

#[test]
fn fuse_writes_the_official_deploy_state() {
    let out_path = tmp("deploy.safetensors");
    let mut args = vec!["fuse", "--checkpoint", s(&fixture_path("checkpoint.pth")), "--output", s(&out_path)];
    args.extend_from_slice(TINY);
    let out = vanillanet(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (ours, official) = (read(&out_path), fixture("deploy_state.safetensors"));
    assert_eq!(ours.keys().collect::<Vec<_>>(), official.keys().collect::<Vec<_>>());
    for (key, t) in &official.tensors {
        assert_close(ours.get(key).unwrap(), t, key);
    }
    let card = ModelCard::read(&ours).unwrap().expect("the card");
    assert_eq!((card.form, card.architecture.dims.clone()), (Form::Deploy, vec![16, 32, 64, 128]));
    assert!(!ours.metadata.contains_key(LEGACY_CONFIG_KEY));
}

#[test]
fn bad_input_exits_nonzero_with_one_line() {
    let io = fixture_path("io.safetensors");
    let out_path = tmp("bad.safetensors");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--model", "vanillanet_5"], "shape"),
        (vec!["--model", "vanillanet_99"], "unknown model 'vanillanet_99'"),
        (
            vec!["--dims", "16,32,64,128", "--strides", "2,2", "--num-classes", "10"],
            "strides needs one entry per block",
        ),
        (vec!["--dims", "16,32,64,128", "--strides", "2,2,2", "--num-classes", "10", "--in-chans", "1"], "shape"),
    ];
    for (arch, needle) in cases {
        let mut args = vec![
            "logits",
            "--checkpoint",
            s(&fixture_path("checkpoint.pth")),
            "--input",
            s(&io),
            "--output",
            s(&out_path),
        ];
        args.extend(arch);
        let out = vanillanet(&args);
        fails_with(&out, needle);
        assert_eq!(String::from_utf8_lossy(&out.stderr).trim().lines().count(), 1);
    }
    let mut args = vec!["logits", "--checkpoint", s(&io), "--input", s(&io), "--output", s(&out_path)];
    args.extend_from_slice(TINY);
    fails_with(&vanillanet(&args), "not a VanillaNet state_dict");
    let missing = tmp("nope.pth");
    let mut args = vec!["fuse", "--checkpoint", s(&missing), "--output", s(&out_path)];
    args.extend_from_slice(TINY);
    fails_with(&vanillanet(&args), "nope.pth");
    // Input without the 'input' tensor.
    let mut args = vec![
        "logits",
        "--checkpoint",
        s(&fixture_path("train_state.safetensors")),
        "--input",
        s(&fixture_path("deploy_state.safetensors")),
        "--output",
        s(&out_path),
    ];
    args.extend_from_slice(TINY);
    fails_with(&vanillanet(&args), "no tensor named 'input'");
}

/// The binary's own flags (its `args/`, compiled here too), to enumerate its subcommands.
#[allow(dead_code, unused_imports)]
#[path = "../../src/bin/vanillanet/args/mod.rs"]
mod args;

#[test]
fn help_everywhere_and_info() {
    let command = args::command();
    let subcommands: Vec<&str> = command.get_subcommands().map(|c| c.get_name()).collect();
    assert!(subcommands.len() >= 11 && subcommands.contains(&"export-onnx"), "{subcommands:?}");
    let out = vanillanet(&["--help"]);
    let top = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && top.contains("Usage: vanillanet"), "{top}");
    for sub in subcommands {
        assert!(top.contains(&format!("\n  {sub} ")), "--help lists {sub}: {top}");
        let out = vanillanet(&[sub, "--help"]);
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{sub} --help: {}", String::from_utf8_lossy(&out.stderr));
        assert!(help.contains(&format!("Usage: vanillanet {sub}")), "{sub} --help: {help}");
    }
    let out = vanillanet(&["info", "--model", "vanillanet_5"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("15523304"), "{text}");
    // Usage errors too are one line.
    let out = vanillanet(&["logits", "--model", "vanillanet_5"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("--checkpoint"), "{err}");
    let out = vanillanet(&["models"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("vanillanet_13_x1_5_ada_pool"));
}

#[test]
fn classify_prints_top5_with_imagenet_names_and_rejects_non_images() {
    // A small 1000-class model with random weights: the names must be ImageNet's.
    let config = vanillanet::VanillaNetConfig::new(vec![8, 16], vec![2]);
    let ckpt = tmp("imagenet-tiny.safetensors");
    std::fs::write(&ckpt, random_state(&config, 11).to_safetensors().unwrap()).unwrap();
    let img_path = tmp("photo.png");
    image::RgbImage::from_fn(300, 200, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 128]))
        .save(&img_path)
        .unwrap();
    let arch = ["--dims", "8,16", "--strides", "2"];
    let mut args = vec!["classify", "--checkpoint", s(&ckpt), s(&img_path)];
    args.extend_from_slice(&arch);
    let out = vanillanet(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "{text}");
    let names = vanillanet::data::imagenet::class_names();
    assert!(lines[1..].iter().all(|l| names.iter().any(|n| l.ends_with(n))), "{text}");

    let not_image = tmp("notes.png");
    std::fs::write(&not_image, "just text").unwrap();
    let mut args = vec!["classify", "--checkpoint", s(&ckpt), s(&img_path), s(&not_image)];
    args.extend_from_slice(&arch);
    let out = vanillanet(&args);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("notes.png: invalid input: not an image"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("photo.png"), "the good image is still classified");
}

#[test]
fn a_recipe_named_as_the_preset_gives_its_options_and_those_given_beside_it_win() {
    let data = halves_data(64, 16);
    let data_path = tmp("halves-recipe.vnds");
    std::fs::write(&data_path, data.to_bytes()).unwrap();
    let args = ["train", "--data", s(&data_path), "--preset", "best", "--epochs", "1", "--decay-epochs", "0"];
    let out =
        vanillanet(&[&args[..], &["--warmup-epochs", "0.5", "--batch-size", "16", "--probe-every", "0"]].concat());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("dims [48, 96, 192, 384]"), "the recipe's model: {text}");
    assert_eq!(text.lines().filter(|l| l.starts_with("epoch")).count(), 1, "the epochs given: {text}");
    // 58 of 64 images trained on (the validation share), batches of 16 as given: 4 steps.
    assert!(text.contains("4 steps per epoch"), "{text}");
    let help = String::from_utf8_lossy(&vanillanet(&["models"]).stdout).to_string();
    assert!(help.contains("best") && help.contains("recipe"), "{help}");
}

#[test]
fn train_prints_epochs_and_saves_the_fused_model() {
    let data = halves_data(64, 16);
    let (data_path, out_path) = (tmp("halves.vnds"), tmp("trained.safetensors"));
    std::fs::write(&data_path, data.to_bytes()).unwrap();
    let args = ["train", "--data", s(&data_path), "--preset", "nano_28", "--epochs", "3", "--decay-epochs", "2"];
    let out = vanillanet(&[&args[..], &["--batch-size", "16", "--lr", "0.01", "--output", s(&out_path)]].concat());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(text.lines().filter(|l| l.starts_with("epoch")).count(), 3, "{text}");
    assert!(text.contains("lambda 1.000") && text.contains(" ema "), "{text}");
    assert!(text.contains("wrote the fused model (the moving average of the weights)"), "{text}");
    let fused = read(&out_path);
    assert_eq!(fused.form().unwrap(), vanillanet::Form::Deploy);
    assert_eq!(ModelCard::read(&fused).unwrap().unwrap().weights, Some(vanillanet::model::Weights::Ema));
    let out = vanillanet(&[&args[..], &["--ema-decay", "0", "--weights", "ema", "--output", s(&out_path)]].concat());
    fails_with(&out, "--weights ema: there is no moving average with --ema-decay 0");
    // A schedule that cannot end annealed: refused before training, with the reason.
    let out = vanillanet(&[&args[..5], &["--epochs", "1", "--decay-epochs", "5", "--output", s(&out_path)]].concat());
    fails_with(&out, "deep-training epochs (5) must not exceed epochs (1)");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("epoch   1"), "nothing trained");
    fails_with(&vanillanet(&["train", "--data", s(&fixture_path("io.safetensors"))]), "not a dataset file");
}

#[test]
fn the_architecture_comes_from_the_checkpoint_when_not_given() {
    let init = tmp("init-small28.safetensors");
    let out =
        vanillanet(&["init", "--model", "small_28", "--in-chans", "1", "--num-classes", "10", "--output", s(&init)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let fused = tmp("init-small28-fused.safetensors");
    let out = vanillanet(&["fuse", "--checkpoint", s(&init), "--output", s(&fused)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let card = ModelCard::read(&read(&init)).unwrap().expect("init writes a card");
    assert_eq!(card.form, Form::Training);
    assert!(read(&init).keys().any(|k| k.ends_with("num_batches_tracked")), "loads strictly in PyTorch");
    let card = ModelCard::read(&read(&fused)).unwrap().expect("fuse writes a card");
    assert_eq!(card.architecture, vanillanet::VanillaNetConfig::named("small_28").unwrap());
    assert_eq!(card.form, Form::Deploy);
    // The official tiny fixture matches no named model: its strides must be given.
    let out = vanillanet(&["fuse", "--checkpoint", s(&fixture_path("checkpoint.pth")), "--output", s(&fused)]);
    fails_with(&out, "--dims and --strides");
}

/// A folder of class folders: bright images in one, dark in the other, plus a stray text file.
fn image_folder(name: &str) -> PathBuf {
    let dir = tmp(name);
    for (class, level) in [("bright", 220u8), ("dark", 30u8)] {
        std::fs::create_dir_all(dir.join(class)).unwrap();
        for i in 0..10u8 {
            let img =
                image::RgbImage::from_fn(20, 16, |x, y| image::Rgb([level, level.wrapping_add(i), (x + y) as u8]));
            img.save(dir.join(class).join(format!("{i}.png"))).unwrap();
        }
    }
    std::fs::write(dir.join("dark").join("notes.txt"), "not an image").unwrap();
    dir
}

#[test]
fn ablate_runs_every_arm_of_a_study_on_a_folder_and_writes_json() {
    let (dir, json) = (image_folder("study-images"), tmp("study.json"));
    let out = vanillanet(&[
        "ablate",
        "--dataset",
        s(&dir),
        "--study",
        "deep-training",
        "--epochs",
        "1",
        "--decay-epochs",
        "1",
        "--seeds",
        "2",
        "--image-size",
        "16",
        "--batch-size",
        "8",
        "--json",
        s(&json),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("notes.txt"), "the stray file is reported as skipped: {stderr}");
    for arm in ["neither", "deep training only", "series activation only", "both (VanillaNet)"] {
        assert!(stdout.contains(&format!("| {arm} |")), "table row for {arm}: {stdout}");
    }
    assert!(stdout.contains("16 train / 4 test images"), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["runs"].as_array().unwrap().len(), 8, "4 arms x 2 seeds");
    for arm in report["summary"].as_array().unwrap() {
        assert_eq!(arm["runs"], 2);
        let acc = arm["accuracyMean"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&acc), "{arm}");
    }
    // Same seeds for every arm: each seed appears once per arm.
    let seeds: Vec<u64> = report["runs"].as_array().unwrap().iter().map(|r| r["seed"].as_u64().unwrap()).collect();
    assert_eq!(seeds, vec![42, 42, 42, 42, 43, 43, 43, 43]);
    for r in report["runs"].as_array().unwrap() {
        assert!(r["maxLogitDiff"].as_f64().unwrap() < 1e-3, "fused equals trained: {r}");
    }
}

#[test]
fn ablate_names_bad_datasets_and_budgets() {
    fails_with(&vanillanet(&["ablate", "--dataset", "cifar-100", "--study", "act-num"]), "not fashion-mnist, mnist");
    let one_class = tmp("one-class");
    std::fs::create_dir_all(one_class.join("only")).unwrap();
    image::GrayImage::new(8, 8).save(one_class.join("only").join("a.png")).unwrap();
    fails_with(
        &vanillanet(&["ablate", "--dataset", s(&one_class), "--study", "act-num"]),
        "needs at least two subfolders",
    );
    fails_with(
        &vanillanet(&[
            "ablate",
            "--dataset",
            s(&image_folder("budget-images")),
            "--study",
            "shortcut",
            "--epochs",
            "1",
            "--decay-epochs",
            "2",
        ]),
        "decay epochs (2) must not exceed epochs (1)",
    );
}

/// A model trained and fused as the page does it (28x28 grey, its own class names and
/// normalisation), saved as the page exports it.
fn page_export(name: &str) -> (PathBuf, Classifier) {
    let data = halves_data(64, 16);
    let options = vanillanet::train::options::TrainOptions {
        preset: "nano_28".into(),
        batch_size: 16,
        epochs: 1,
        decay_epochs: 0,
        ..Default::default()
    };
    let mut trainer = vanillanet::train::trainer::Trainer::new(&burn::tensor::Device::flex(), data, options).unwrap();
    for _ in 0..4 {
        pollster::block_on(trainer.step()).unwrap();
    }
    let (classifier, _) = pollster::block_on(trainer.fuse(16)).unwrap();
    let path = tmp(name);
    std::fs::write(&path, pollster::block_on(classifier.to_safetensors()).unwrap()).unwrap();
    (path, classifier)
}

fn colour_photo(name: &str) -> PathBuf {
    let path = tmp(name);
    image::RgbImage::from_fn(300, 200, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, if x < 150 { 230 } else { 20 }])
    })
    .save(&path)
    .unwrap();
    path
}

/// What `classify` prints for one image, as (label, percent) pairs.
fn printed_top(out: &Output) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .skip(1)
        .map(|l| {
            let (pct, label) = l.trim().split_once("%  ").unwrap_or_else(|| panic!("{text}"));
            (label.to_string(), pct.trim().to_string())
        })
        .collect()
}

#[test]
fn classify_reads_a_page_export_as_the_page_does() {
    let (model, classifier) = page_export("page-export.safetensors");
    let photo = colour_photo("colour.png");
    let card = &classifier.card;
    assert_eq!((card.preprocess.channels, card.preprocess.height), (1, 28));
    assert_eq!(card.classes, vec!["left", "right"]);
    // What the page answers: the same call the worker makes.
    let page =
        pollster::block_on(classifier.classify(&std::fs::read(&photo).unwrap(), 5, &burn::tensor::Device::flex()))
            .unwrap()
            .top;
    let out = vanillanet(&["classify", "--checkpoint", s(&model), s(&photo)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let expected: Vec<(String, String)> =
        page.iter().map(|p| (p.label.clone(), format!("{:.2}", p.probability * 100.0))).collect();
    assert_eq!(printed_top(&out), expected);
    // ImageNet preprocessing at 224 would give another answer: the card is what makes them agree.
    let imagenet = vanillanet::data::preprocess::Preprocess::imagenet(224, 1);
    assert_ne!(imagenet, card.preprocess);
}

#[test]
fn older_files_with_only_the_architecture_still_load() {
    let (model, classifier) = page_export("legacy-source.safetensors");
    let mut sd = read(&model);
    let json = sd.metadata.remove(CARD_KEY).unwrap();
    let architecture = serde_json::from_str::<serde_json::Value>(&json).unwrap()["architecture"].to_string();
    sd.metadata.insert(LEGACY_CONFIG_KEY.into(), architecture);
    let legacy = tmp("legacy.safetensors");
    std::fs::write(&legacy, sd.to_safetensors().unwrap()).unwrap();
    let card = ModelCard::read(&read(&legacy)).unwrap().expect("a card from the architecture");
    assert_eq!(card.architecture, classifier.card.architecture);
    assert_eq!(card.classes, vec!["class 0", "class 1"], "no names were stored");
    let fused = tmp("legacy-refused.safetensors");
    let out = vanillanet(&["fuse", "--checkpoint", s(&legacy), "--output", s(&fused)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rewritten = read(&fused);
    assert!(rewritten.metadata.contains_key(CARD_KEY) && !rewritten.metadata.contains_key(LEGACY_CONFIG_KEY));
}

#[test]
fn train_writes_both_forms_with_the_same_card() {
    let data_path = tmp("halves-both.vnds");
    std::fs::write(&data_path, halves_data(32, 8).to_bytes()).unwrap();
    let (deploy, training) = (tmp("both-deploy.safetensors"), tmp("both-training.safetensors"));
    let args = ["train", "--data", s(&data_path), "--preset", "nano_28", "--epochs", "1", "--decay-epochs", "0"];
    let out = vanillanet(
        &[&args[..], &["--batch-size", "16", "--output", s(&deploy), "--output-training", s(&training)]].concat(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (d, t) =
        (ModelCard::read(&read(&deploy)).unwrap().unwrap(), ModelCard::read(&read(&training)).unwrap().unwrap());
    assert_eq!((d.form, t.form), (Form::Deploy, Form::Training));
    assert_eq!(ModelCard { form: Form::Deploy, ..t }, d);
    assert_eq!(d.classes, vec!["left", "right"]);
    // The training form fuses here into the same classifier.
    let refused = tmp("both-refused.safetensors");
    let out = vanillanet(&["fuse", "--checkpoint", s(&training), "--output", s(&refused)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for (key, tensor) in &read(&deploy).tensors {
        assert_close(read(&refused).get(key).unwrap(), tensor, key);
    }
}

#[test]
fn outputs_are_replaced_whole_and_write_errors_name_the_path() {
    // --output equal to --checkpoint: read in full first, then replaced by a rename.
    let same = tmp("in-place.pth");
    std::fs::copy(fixture_path("checkpoint.pth"), &same).unwrap();
    let mut args = vec!["fuse", "--checkpoint", s(&same), "--output", s(&same)];
    args.extend_from_slice(TINY);
    let out = vanillanet(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(read(&same).form().unwrap(), vanillanet::Form::Deploy);
    let leftovers: Vec<_> = std::fs::read_dir(same.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary file left behind");

    let missing = Path::new("/nonexistent-dir/deploy.safetensors");
    let mut args = vec!["fuse", "--checkpoint", s(&fixture_path("checkpoint.pth")), "--output", s(missing)];
    args.extend_from_slice(TINY);
    let out = vanillanet(&args);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("cannot write /nonexistent-dir/deploy.safetensors"), "{err}");
}

#[test]
fn absurd_architectures_are_refused_in_one_line() {
    let out_path = tmp("never-init.safetensors");
    for (dims, needle) in [("1000000000,2", "at most 16384 channels"), ("16,0", "at least 1")] {
        let out = vanillanet(&["init", "--dims", dims, "--strides", "2", "--output", s(&out_path)]);
        assert_eq!(out.status.code(), Some(1), "{dims}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{err}");
    }
    assert!(!out_path.exists());
}

#[test]
fn threads_sizes_the_cpu_pool_and_is_checked() {
    let bench = [
        "bench",
        "--models",
        "nano_28@28",
        "--batches",
        "1",
        "--runs",
        "1",
        "--warmup",
        "1",
        "--train-preset",
        "nano_28",
        "--train-batch",
        "4",
        "--train-steps",
        "1",
    ];
    for (threads, said) in [("1", "1 CPU thread,"), ("3", "3 CPU threads,")] {
        let out = vanillanet(&[&["--threads", threads][..], &bench].concat());
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains(said), "--threads {threads}: {stdout}");
    }
    for bad in ["0", "-1", "many", "100000"] {
        let out = vanillanet(&["--threads", bad, "bench"]);
        assert_eq!(out.status.code(), Some(2), "--threads {bad}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("--threads"), "--threads {bad}");
    }
}

#[test]
fn train_takes_every_option_of_the_table_and_a_folder() {
    use vanillanet::train::options::TrainOptions;
    let help = String::from_utf8_lossy(&vanillanet(&["train", "--help"]).stdout).to_string();
    for o in TrainOptions::table() {
        assert!(help.contains(&o.flag), "train --help lists {}: {help}", o.flag);
    }
    // The study's own defaults (the page's Experiments form's), its arms' options hidden.
    let help = String::from_utf8_lossy(&vanillanet(&["ablate", "--help"]).stdout).to_string();
    assert!(help.contains("[default: nano_28]") && help.contains("[default: 5000]"), "{help}");
    assert!(!help.contains("--act-num"), "each arm sets act_num: {help}");
    // A folder of class folders, as `ablate` takes it, and the flags the page has.
    let dir = image_folder("train-images");
    let args = ["train", "--data", s(&dir), "--image-size", "28", "--channels", "1", "--preset", "nano_28"];
    let more = ["--epochs", "1", "--decay-epochs", "0", "--batch-size", "8", "--deep-training", "false"];
    let out = vanillanet(
        &[&args[..], &more[..], &["--shortcut", "after-act", "--optimizer", "sgd", "--momentum", "0.5"]].concat(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("epoch   1"));
    // The same bound and reason as the page's form.
    fails_with(
        &vanillanet(&[&args[..], &["--momentum", "1"]].concat()),
        "momentum 1 is out of range: at least 0, below 1",
    );
}

/// The arguments a command needs besides the one tried, so that only that one can be wrong;
/// files that do not exist, so that a value clap accepts ends in a runtime error (exit 1), and
/// for `bench` a case too large in all, refused before anything is timed.
fn around(command: &str, flag: &str) -> Vec<&'static str> {
    let none = "/nonexistent-dir/none.safetensors";
    match command {
        "" => vec!["info", "--model", "nano_28", "--size", "1"],
        "classify" => vec!["--checkpoint", none, none],
        "info" => vec!["--model", "nano_28"],
        "init" => vec!["--model", "nano_28", "--output", none],
        "export-onnx" => vec!["--checkpoint", none, "--output", none],
        "inspect" => vec!["--checkpoint", none, "--data", "mnist"],
        "train" | "ablate" => vec!["--data", "/nonexistent-dir"],
        "transfer" => vec!["--checkpoint", none, "--data", "/nonexistent-dir", "--output", none],
        "bench" => match flag {
            "--models" => vec!["--batches", "256"],
            "--batches" => vec!["--models", "vanillanet_13@1024"],
            _ => vec!["--models", "vanillanet_13@1024", "--batches", "256"],
        },
        other => panic!("no arguments known for {other}"),
    }
}

/// Every whole-number argument of the one table of limits (`vanillanet::limits::TABLE`), and
/// every bounded training and study option (their tables'), run at min - 1 and max + 1: a usage
/// error naming the flag, exit 2, in one line, before anything is read or allocated (`bench
/// --models nano_28@99999` once asked for 40 GB); at min and max: past the parser (another
/// error, exit 1, from the missing files around it). So the CLI's bounds are the table's.
#[test]
fn arguments_past_their_limits_are_usage_errors() {
    use vanillanet::limits::{BENCH_CASES, BENCH_SIZE, TABLE};
    use vanillanet::train::options::TrainOptions;
    use vanillanet::train::study::StudyOptions;
    use vanillanet::train::table::Kind;
    // (command, flag, values outside, values at the edges)
    let mut tried: Vec<(&str, String, Vec<String>, Vec<String>)> = Vec::new();
    for bound in TABLE {
        for argument in bound.arguments {
            let (command, flag) = argument.rsplit_once(' ').unwrap_or(("", argument));
            let value = |n: u64| match (*argument, *bound) {
                ("bench --models", b) if b == BENCH_CASES => vec!["vanillanet_13@1024"; n as usize].join(","),
                ("bench --models", b) if b == BENCH_SIZE => format!("vanillanet_13@{n}"),
                _ => n.to_string(),
            };
            let outside = bound.min.checked_sub(1).into_iter().chain([bound.max + 1]).map(value).collect();
            tried.push((command, flag.to_string(), outside, vec![value(bound.min), value(bound.max)]));
        }
    }
    let train = TrainOptions::table().into_iter().map(|o| ("train", o));
    let ablate = StudyOptions::table().into_iter().chain(TrainOptions::table()).map(|o| ("ablate", o));
    for (command, o) in train.chain(ablate) {
        let (outside, edges) = match o.kind {
            Kind::Integer { min, max } => ([(min > 0.0).then_some(min - 1.0), Some(max + 1.0)], [Some(min), Some(max)]),
            Kind::Count { max } => ([None, Some(max + 1.0)], [Some(0.0), Some(max)]),
            Kind::Number { min, max, above, below } => (
                [Some(if above { min } else { min - 1.0 }), Some(if below { max } else { max + 1.0 })],
                [(!above).then_some(min), (!below).then_some(max)],
            ),
            _ => continue,
        };
        let text = |v: [Option<f64>; 2]| v.into_iter().flatten().map(|v| v.to_string()).collect();
        tried.push((command, o.flag.clone(), text(outside), text(edges)));
    }
    assert!(tried.len() >= 40, "{} arguments tried", tried.len());
    for (command, flag, outside, edges) in &tried {
        for (value, past) in outside.iter().map(|v| (v, true)).chain(edges.iter().map(|v| (v, false))) {
            // `--flag=value`: a value that starts with '-' is the flag's, not another flag.
            let tried = format!("{flag}={value}");
            let mut args: Vec<&str> = command.split_whitespace().collect();
            args.push(&tried);
            args.extend(around(command, flag));
            let out = vanillanet(&args);
            let err = String::from_utf8_lossy(&out.stderr);
            if past {
                assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
                assert!(
                    err.starts_with("error: invalid value") && err.contains(&format!("'{flag}")),
                    "{args:?}: {err}"
                );
                assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
            } else {
                assert_ne!(out.status.code(), Some(2), "{args:?} is within its bounds: {err}");
                assert!(!err.contains("panicked"), "{args:?}: {err}");
            }
        }
    }
    // Values no bound's edge is: not numbers, too large for any number, names that are none.
    let huge = "99999999999999999999999";
    let none = "missing.safetensors";
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["bench", "--models", "nano_28@99999", "--batches", "1"], "--models"),
        (vec!["bench", "--models", "nano_28@x"], "--models"),
        (vec!["bench", "--models", "nano_99@28"], "--models"),
        (vec!["bench", "--batches", huge], "--batches"),
        (vec!["bench", "--train-steps", huge], "--train-steps"),
        (vec!["bench", "--train-preset", "nano_99"], "--train-preset"),
        (vec!["inspect", "--checkpoint", none, "--data", "mnist", "--index", huge], "--index"),
        (vec!["classify", "--checkpoint", none, "--size", "99999", "a.png"], "--size"),
        (vec!["classify", "--checkpoint", none, "--top=-1", "a.png"], "--top"),
        (vec!["train", "--data", "mnist", "--batch-size", "99999"], "--batch-size"),
        (vec!["train", "--data", "mnist", "--channels", "2"], "--channels"),
        (vec!["train", "--data", "mnist", "--probe-every", huge], "--probe-every"),
        (vec!["ablate", "--data", "mnist", "--batch-size", "99999"], "--batch-size"),
    ];
    for (args, flag) in cases {
        let out = vanillanet(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with("error: invalid value") && err.contains(&format!("'{flag}")), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    }
    // Each bound is stated in its flag's help, from the same row.
    for bound in TABLE {
        for argument in bound.arguments {
            let command: Vec<&str> = argument.rsplit_once(' ').map_or(vec![], |(c, _)| vec![c]);
            let help = String::from_utf8_lossy(&vanillanet(&[&command[..], &["--help"]].concat()).stdout).to_string();
            assert!(help.contains(&bound.range()), "{argument}'s help states {}: {help}", bound.range());
        }
    }
}

/// The page's limits (Rust's `Limits`, as the engine answers `defaults`) are the CLI's: every
/// most the page reads that the CLI has too is a row of the one table, the same number.
#[test]
fn the_page_reads_the_limits_the_cli_is_bounded_by() {
    use vanillanet::limits::TABLE;
    use vanillanet::session::Limits;
    let page = serde_json::to_value(Limits::get()).unwrap();
    let mut rows = std::collections::BTreeSet::new();
    for bound in TABLE {
        if let Some(key) = bound.page {
            assert_eq!(
                page[key],
                serde_json::json!(bound.max),
                "the page's {key} is the table's {:?}",
                bound.arguments
            );
            rows.insert(key.to_string());
        }
    }
    // Every most the page is told is a row (the loop's own limits, eval and fuse, are not
    // arguments of any command).
    let mosts: std::collections::BTreeSet<String> =
        page.as_object().unwrap().keys().filter(|k| k.starts_with("max")).cloned().collect();
    assert_eq!(mosts, rows, "the page's limits and the table's rows with a page name");
}

/// Each bench bound alone allows 256 x 1001 training images of 3x224x224 (38 GB): their product
/// is bounded too, and refused before a byte of it is made.
#[test]
fn a_training_benchmark_too_large_in_all_is_refused_before_it_allocates() {
    let out = vanillanet(&[
        "bench",
        "--models",
        "nano_28",
        "--batches",
        "1",
        "--runs",
        "1",
        "--warmup",
        "0",
        "--train-preset",
        "vanillanet_13",
        "--train-batch",
        "256",
        "--train-steps",
        "1000",
    ]);
    fails_with(&out, "at most 512 MB");
}

/// What no flag sets but a file can is bounded too (`vanillanet::limits`): a labels file, an
/// image, a model file, a logits input, a folder's images; past a bound the command says which
/// in one line, before the file is read whole (`/dev/zero` has no end and no size).
#[test]
fn files_past_their_bounds_are_refused_before_they_are_read() {
    use vanillanet::limits::{LOGITS_BATCH, MAX_LABELS_BYTES};
    let model = tmp("bounded-nano.safetensors");
    assert!(vanillanet(&["init", "--model", "nano_28", "--size", "28", "--output", s(&model)]).status.success());
    let photo = colour_photo("bounded-photo.png");
    let labels = format!("larger than {} MB, the most a labels file may be", MAX_LABELS_BYTES / 1_000_000);
    fails_with(&vanillanet(&["classify", "--checkpoint", s(&model), "--labels", "/dev/zero", s(&photo)]), &labels);
    fails_with(&vanillanet(&["classify", "--checkpoint", s(&model), "/dev/zero"]), "the most an image file may be");
    fails_with(&vanillanet(&["inspect", "--checkpoint", s(&model), "--image", "/dev/zero"]), "the most an image file");
    fails_with(
        &vanillanet(&["fuse", "--checkpoint", "/dev/zero", "--output", s(&tmp("never.st"))]),
        "the most a model file",
    );
    let n = LOGITS_BATCH.most() + 1;
    let mut input = StateDict::default();
    input.insert("input", vec![n, 1, 28, 28], vec![0.0; n * 28 * 28]);
    let input_path = tmp("bounded-input.safetensors");
    std::fs::write(&input_path, input.to_safetensors().unwrap()).unwrap();
    let out =
        vanillanet(&["logits", "--checkpoint", s(&model), "--input", s(&input_path), "--output", s(&tmp("o.st"))]);
    fails_with(&out, &format!("'input' is {n} images of 28x28: at most {} images", LOGITS_BATCH.max));
    // A folder with a file too large to be an image is refused by that file's name.
    let dir = image_folder("bounded-folder");
    let big = dir.join("dark").join("huge.png");
    std::fs::File::create(&big).unwrap().set_len(vanillanet::limits::MAX_IMAGE_FILE_BYTES + 1).unwrap();
    fails_with(&vanillanet(&["train", "--data", s(&dir)]), "huge.png: larger than");
    std::fs::remove_file(&big).unwrap();
}

/// docs/cli.md's table of limits is the table's: each row's range and arguments, on one line.
#[test]
fn the_manual_states_the_table_of_limits() {
    let manual = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/cli.md")).unwrap();
    for bound in vanillanet::limits::TABLE {
        let row = manual.lines().find(|l| l.starts_with(&format!("| {} |", bound.what)));
        let row = row.unwrap_or_else(|| panic!("docs/cli.md has a row for {}", bound.what));
        assert!(row.contains(&format!("| {} |", bound.range())), "{row}");
        for argument in bound.arguments {
            assert!(row.contains(&format!("`{argument}`")), "{row} names {argument}");
        }
        assert!(bound.page.is_none_or(|key| row.contains(&format!("`{key}`"))), "{row}");
    }
}
