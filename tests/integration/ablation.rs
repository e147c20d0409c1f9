//! The ablation: its model options (act_num 0, deep training off, shortcuts) change the net as
//! documented, the counted sizes match the built modules, fusion stays exact; a study runs every
//! arm with every seed and resumes from saved runs.

use crate::common;

use burn::module::Module;
use burn::tensor::{Device, Distribution, Tensor};
use vanillanet::io::names::{named_tensors, state_dict};
use vanillanet::model::config::Shortcut;
use vanillanet::{Error, VanillaNetConfig, load_state};

/// Widths change in block 1 only; block 0 keeps width and resolution, block 2 only halves.
fn base() -> VanillaNetConfig {
    VanillaNetConfig::new(vec![8, 8, 16, 16], vec![1, 2, 2]).with_in_chans(1).with_num_classes(5)
}

fn variants() -> Vec<(&'static str, VanillaNetConfig)> {
    vec![
        ("official", base()),
        ("act_num 0", base().with_act_num(0)),
        ("act_num 1", base().with_act_num(1)),
        ("no deep training", base().with_deep_training(false)),
        ("no deep training, act_num 0", base().with_deep_training(false).with_act_num(0)),
        ("shortcut before act", base().with_shortcut(Shortcut::BeforeAct)),
        ("shortcut after act", base().with_shortcut(Shortcut::AfterAct)),
        ("shortcut, no deep training", base().with_shortcut(Shortcut::AfterAct).with_deep_training(false)),
    ]
}

fn keys(config: &VanillaNetConfig, device: &Device) -> Vec<(String, Vec<usize>)> {
    named_tensors(&config.init(device), false).into_iter().map(|(k, t)| (k, t.dims())).collect()
}

#[test]
fn counted_sizes_match_the_built_modules() {
    let device = Device::flex();
    for (name, config) in variants() {
        let learnable: usize = keys(&config, &device).iter().map(|(_, d)| d.iter().product::<usize>()).sum();
        assert_eq!(learnable, config.params_train(), "{name}: training form");
        assert_eq!(config.init_deploy(&device).num_params(), config.params_deploy(), "{name}: deploy form");
    }
    let official = base();
    // act_num 0: no depthwise kernel and no BN after it, in every layer (4 of them).
    let plain = base().with_act_num(0);
    assert_eq!(official.params_train() - plain.params_train(), (8 + 8 + 16 + 16) * (49 + 2));
    assert_eq!(official.params_deploy() - plain.params_deploy(), (8 + 8 + 16 + 16) * (49 + 1));
    assert!(keys(&plain, &device).iter().all(|(k, _)| !k.contains("act")));
    // Without deep training the net is the deploy form plus BNs: same MACs before and after fusing.
    let shallow = base().with_deep_training(false);
    assert_eq!(shallow.macs(28, 28, false).unwrap(), shallow.macs(28, 28, true).unwrap());
    assert_eq!(shallow.params_deploy(), official.params_deploy());
    assert!(keys(&shallow, &device).iter().all(|(k, _)| !k.contains("conv2") && !k.starts_with("stem2.0")));
    assert!(official.macs(28, 28, false).unwrap() > official.macs(28, 28, true).unwrap());
}

#[test]
fn shortcuts_are_identity_pool_or_projection_as_the_shapes_need() {
    let device = Device::flex();
    let config = base().with_shortcut(Shortcut::BeforeAct);
    let shortcut_keys: Vec<_> = keys(&config, &device).into_iter().filter(|(k, _)| k.contains("shortcut")).collect();
    // Only block 1 changes width: a 1x1 conv 8 -> 16 (no bias) and a BN.
    assert_eq!(
        shortcut_keys,
        vec![
            ("stages.1.shortcut.0.weight".to_string(), vec![16, 8, 1, 1]),
            ("stages.1.shortcut.1.weight".to_string(), vec![16]),
            ("stages.1.shortcut.1.bias".to_string(), vec![16]),
        ]
    );
    assert_eq!(config.params_train() - base().params_train(), 16 * 8 + 32);
    let model = config.init(&device);
    let x = Tensor::<4>::random([2, 1, 28, 28], Distribution::Normal(0.0, 1.0), &device);
    let (logits, features) = model.forward_features(x, 0.5);
    assert_eq!(logits.dims(), [2, 5]);
    let shapes: Vec<_> = features.iter().map(|f| f.dims()).collect();
    assert_eq!(shapes, vec![[2, 8, 7, 7], [2, 8, 7, 7], [2, 16, 3, 3], [2, 16, 1, 1]]);
}

/// The training form after a few batches in training mode (so the BN statistics are not the
/// identity), in eval mode.
fn trained(config: &VanillaNetConfig, device: &Device) -> vanillanet::VanillaNet {
    let ad = device.clone().autodiff();
    ad.seed(7);
    let model = config.init(&ad);
    for _ in 0..3 {
        let x = Tensor::<4>::random([8, 1, 28, 28], Distribution::Normal(0.5, 1.0), &ad);
        let _ = model.forward(x, 1.0);
    }
    let sd = state_dict(&model).unwrap();
    load_state(config.init(device), &sd, device).unwrap().valid()
}

#[test]
fn every_option_fuses_exactly_and_the_deploy_form_reloads() {
    let device = Device::flex();
    let x = Tensor::<4>::random([4, 1, 28, 28], Distribution::Normal(0.0, 1.0), &device);
    for (name, config) in variants() {
        let model = trained(&config, &device);
        let fused = model.fuse(1.0).unwrap_or_else(|e| panic!("{name}: {e}"));
        let diff = (model.forward(x.clone(), 1.0) - fused.forward(x.clone())).abs().max().into_scalar::<f32>();
        let scale = model.forward(x.clone(), 1.0).abs().max().into_scalar::<f32>();
        assert!(diff <= 1e-4 * scale.max(1.0), "{name}: fused differs by {diff} (scale {scale})");
        // The deploy form built from the config has the fused one's layout.
        let reloaded = load_state(config.init_deploy(&device), &state_dict(&fused).unwrap(), &device)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let again = (reloaded.forward(x.clone()) - fused.forward(x.clone())).abs().max().into_scalar::<f32>();
        assert_eq!(again, 0.0, "{name}");
    }
}

#[test]
fn lambda_matters_only_with_deep_training() {
    let device = Device::flex();
    let deep = trained(&base(), &device);
    assert!(matches!(deep.fuse(0.5), Err(Error::FuseLambda { .. })));
    let shallow = trained(&base().with_deep_training(false), &device);
    assert!(!shallow.uses_lambda());
    let x = Tensor::<4>::random([2, 1, 28, 28], Distribution::Normal(0.0, 1.0), &device);
    let (a, b) = (shallow.forward(x.clone(), 0.0), shallow.forward(x.clone(), 1.0));
    assert_eq!((a.clone() - b).abs().max().into_scalar::<f32>(), 0.0);
    let fused = shallow.fuse(0.0).expect("nothing to anneal, so any lambda fuses");
    assert!((a - fused.forward(x)).abs().max().into_scalar::<f32>() < 1e-4);
}

#[test]
fn an_identity_before_the_activation_folds_into_the_conv() {
    let device = Device::flex();
    let config = base().with_shortcut(Shortcut::BeforeAct);
    assert!(config.shortcut_folds(0) && !config.shortcut_folds(1) && !config.shortcut_folds(2));
    let fused = trained(&config, &device).fuse(1.0).unwrap();
    assert!(fused.stages[0].shortcut.is_none(), "W + I, no branch left");
    assert!(fused.stages[1].shortcut.as_ref().is_some_and(|s| s.conv.is_some()), "projection");
    assert!(fused.stages[2].shortcut.as_ref().is_some_and(|s| s.conv.is_none()), "pool only");
    let after = trained(&base().with_shortcut(Shortcut::AfterAct), &device).fuse(1.0).unwrap();
    assert!(after.stages[0].shortcut.is_some(), "after the activation, the add stays");
}

#[test]
fn model_cards_saved_before_the_options_read_as_vanillanet() {
    let preprocess = vanillanet::data::preprocess::Preprocess::imagenet(28, 1);
    let card = vanillanet::ModelCard::new("old".into(), base(), vec![], preprocess, vanillanet::Form::Deploy);
    let mut json = serde_json::to_value(&card).unwrap();
    let architecture = json["architecture"].as_object_mut().unwrap();
    assert!(architecture.remove("deep_training").is_some() && architecture.remove("shortcut").is_some());
    let card = json.to_string();
    let card: vanillanet::ModelCard = serde_json::from_str(&card).unwrap();
    assert!(card.architecture.deep_training);
    assert_eq!(card.architecture.shortcut, Shortcut::None);
    let with_shortcut = base().with_shortcut(Shortcut::AfterAct);
    let json = serde_json::to_string(&with_shortcut).unwrap();
    assert!(json.contains(r#""shortcut":"after-act""#), "{json}");
    assert_eq!(serde_json::from_str::<VanillaNetConfig>(&json).unwrap(), with_shortcut);
}

#[test]
fn a_study_runs_every_arm_with_every_seed_and_resumes_from_saved_runs() {
    use vanillanet::train::study::{Study, StudyOptions, StudyRun};
    use vanillanet::train::table::Limit;
    let data = common::halves_data(48, 16);
    let mut options =
        StudyOptions { study: Study::Shortcut, seeds: 2, train_images: Limit(Some(32)), ..Default::default() };
    options.train.epochs = 1;
    options.train.decay_epochs = 1;
    options.train.batch_size = 16;
    let device = Device::flex();
    let mut study = StudyRun::new(&device, data.clone(), options.clone()).unwrap();
    assert_eq!(study.runs(), 6);
    let mut steps = 0;
    while !study.finished() {
        let p = pollster::block_on(study.step()).unwrap();
        assert_eq!((p.arm, p.seed), (p.run % 3, 42 + (p.run / 3) as u64));
        steps += 1;
    }
    assert_eq!(steps, 6 * 2, "32 images in batches of 16, one epoch, per run");
    let report = study.report().unwrap();
    assert_eq!(report.summary.len(), 3);
    assert!(report.summary.iter().all(|a| a.runs == 2 && a.accuracy_mean.is_some()));
    assert!(report.runs.iter().all(|r| r.max_logit_diff < 1e-4), "every arm fuses exactly");
    assert_eq!(report.csv().lines().count(), 4, "{}", report.csv());
    // Each arm against VanillaNet (no shortcut), seed by seed.
    assert!(report.summary[0].vs_reference.is_none(), "the reference arm");
    for (arm, summary) in report.summary.iter().enumerate().skip(1) {
        let paired = summary.vs_reference.as_ref().expect("both seeds shared");
        let acc = |a: usize, seed: u64| report.runs.iter().find(|r| r.arm == a && r.seed == seed).unwrap().accuracy;
        let diffs = [42, 43].map(|seed| acc(arm, seed) - acc(0, seed));
        assert_eq!(paired.pairs, 2);
        assert!((paired.mean_diff - (diffs[0] + diffs[1]) / 2.0).abs() < 1e-6);
        assert_eq!(paired.wins, diffs.iter().filter(|&&d| d > 0.0).count());
    }
    assert!(report.csv().lines().all(|l| l.split(',').count() == 14), "{}", report.csv());
    assert!(report.markdown().contains("| shortcut after activation |"));

    // Same options, the first runs saved: the rest continues, the saved ones are kept.
    let partial = vanillanet::train::study::StudyReport { runs: report.runs[..4].to_vec(), ..report.clone() };
    let resumed = StudyRun::new(&device, data.clone(), options.clone()).unwrap().resume(partial.clone()).unwrap();
    assert_eq!(resumed.report().unwrap().runs, report.runs[..4].to_vec());
    assert!(!resumed.finished());
    // A saved study of other options or data is refused, saying why.
    let mut other = options.clone();
    other.train.seed = 7;
    let refused = StudyRun::new(&device, data.clone(), other).unwrap().resume(partial.clone());
    assert!(refused.err().unwrap().to_string().contains("other options"));
    let mut forged = partial.clone();
    forged.runs.swap(0, 1);
    let refused = StudyRun::new(&device, data.clone(), options.clone()).unwrap().resume(forged);
    assert!(refused.err().unwrap().to_string().contains("saved run 1"));
    let fewer = data.clone().prefix(None, Some(8));
    let refused = StudyRun::new(&device, fewer, options.clone()).unwrap().resume(partial);
    assert!(refused.err().unwrap().to_string().contains("load that data"));
    // Lambda must reach 1 so that every arm can be fused.
    let mut short = options;
    short.train.decay_epochs = 2;
    assert!(StudyRun::new(&device, data, short).err().unwrap().to_string().contains("decay epochs"));
}

#[test]
fn expected_shapes_are_those_of_the_built_modules() {
    use vanillanet::Form;
    use vanillanet::io::names::expected_shapes;
    let device = Device::flex();
    let mut configs: Vec<VanillaNetConfig> =
        ["nano_28", "nano5_28", "small_32", "base_64"].iter().map(|n| VanillaNetConfig::named(n).unwrap()).collect();
    configs.push(base().with_act_num(0));
    configs.push(base().with_deep_training(false));
    configs.push(base().with_shortcut(Shortcut::BeforeAct));
    configs.push(base().with_shortcut(Shortcut::AfterAct).with_deep_training(false).with_in_chans(1));
    for config in configs {
        let shapes = |tensors: Vec<(String, vanillanet::io::names::NamedTensor)>| {
            let mut v: Vec<_> = tensors.into_iter().map(|(k, t)| (k, t.dims())).collect();
            v.sort();
            v
        };
        let sorted = |mut v: Vec<(String, Vec<usize>)>| {
            v.sort();
            v
        };
        assert_eq!(
            sorted(expected_shapes(&config, Form::Training)),
            shapes(named_tensors(&config.init(&device), true))
        );
        assert_eq!(
            sorted(expected_shapes(&config, Form::Deploy)),
            shapes(named_tensors(&config.init_deploy(&device), true))
        );
    }
}
