//! Architectures other than the fixture's: the model must stay general (stride-1 blocks,
//! act_num 1 and 2, one input channel, non-square and odd sizes, adaptive pooling) and every
//! named variant must have the published size.

use crate::common::*;
use burn::module::Module;
use burn::module::{Param, RunningState};
use burn::tensor::{Device, Tensor, TensorData};
use vanillanet::io::names::{OfficialNames, TensorVisitor};
use vanillanet::{NAMED_MODELS, VanillaNetConfig, load_state};

fn random_input(shape: [usize; 4], seed: u64) -> Vec<f32> {
    let mut rng = Lcg(seed);
    (0..shape.iter().product::<usize>()).map(|_| rng.next()).collect()
}

/// Runs the training form at lambda 1 and the fused form on the same input; they must agree,
/// and every feature map must have the size PyTorch's floor convention gives.
fn check_fusion_exact(config: VanillaNetConfig, h: usize, w: usize) {
    let device = Device::flex();
    let model = load_state(config.init(&device), &random_state(&config, 7), &device).unwrap();
    let shape = [2, config.in_chans, h, w];
    let x = Tensor::<4>::from_data(TensorData::new(random_input(shape, 3), shape), &device);
    let (logits, features) = model.forward_features(x.clone(), 1.0);
    assert_eq!(logits.dims(), [2, config.num_classes]);
    let sizes = config.feature_sizes(h, w).unwrap();
    for (f, (i, size)) in features.iter().zip(sizes.iter().enumerate()) {
        assert_eq!((f.dims()[2], f.dims()[3]), *size, "feature {i} of {config:?} at {h}x{w}");
        assert_eq!(f.dims()[1], config.dims[i]);
    }
    let fused = model.fuse(1.0).unwrap();
    assert_close(&host(fused.forward(x.clone())), &host(logits), &format!("fused vs unfused, {config:?} at {h}x{w}"));
    // Below lambda 1 the two forms differ, which is why fusing there is refused.
    let at_half = host(model.forward(x.clone(), 0.5));
    let fused_out = host(fused.forward(x));
    assert!(at_half.data.iter().zip(&fused_out.data).any(|(a, b)| (a - b).abs() > 1e-4));
}

#[test]
fn stride_one_blocks_and_odd_non_square_inputs() {
    check_fusion_exact(VanillaNetConfig::new(vec![8, 8, 16, 16], vec![1, 2, 1]).with_num_classes(5), 37, 51);
}

#[test]
fn act_num_one_and_two() {
    check_fusion_exact(VanillaNetConfig::new(vec![8, 16, 24], vec![2, 2]).with_act_num(1).with_num_classes(4), 33, 33);
    check_fusion_exact(VanillaNetConfig::new(vec![8, 16, 24], vec![2, 1]).with_act_num(2).with_num_classes(4), 30, 45);
}

#[test]
fn one_channel_input_and_the_28px_presets() {
    check_fusion_exact(VanillaNetConfig::named("nano_28").unwrap(), 28, 28);
    check_fusion_exact(VanillaNetConfig::named("small_28").unwrap(), 28, 28);
    check_fusion_exact(VanillaNetConfig::new(vec![8, 12], vec![3]).with_in_chans(1).with_num_classes(3), 29, 41);
}

#[test]
fn the_stem_at_stride_2_halves_the_image_and_fuses_exactly() {
    let fine = VanillaNetConfig::named("fine_28").unwrap();
    assert_eq!(fine.feature_sizes(28, 28).unwrap(), vec![(14, 14), (14, 14), (7, 7), (3, 3)]);
    check_fusion_exact(fine, 28, 28);
    // Odd sizes floor as PyTorch's conv does: (29 + 2 - 4) / 2 + 1 = 14.
    let odd = VanillaNetConfig::new(vec![8, 12], vec![2]).with_in_chans(1).with_num_classes(3).with_stem_stride(2);
    assert_eq!(odd.feature_sizes(29, 30).unwrap(), vec![(14, 15), (7, 7)]);
    check_fusion_exact(odd, 29, 30);
}

#[test]
fn adaptive_pool_variant_fuses_exactly() {
    let config =
        VanillaNetConfig::new(vec![8, 8, 16, 16], vec![1, 2, 2]).with_num_classes(3).with_ada_pool(Some(vec![0, 7, 3]));
    assert_eq!(config.feature_sizes(40, 40).unwrap(), vec![(13, 13), (13, 13), (7, 7), (3, 3)]);
    check_fusion_exact(config, 40, 40);
}

#[test]
fn max_pool_floors_odd_sizes() {
    let config = VanillaNetConfig::new(vec![4, 4, 4], vec![2, 2]).with_num_classes(2);
    // 4x4 stem stride 4: 47 -> 11, then 11 -> 5 -> 2.
    assert_eq!(config.feature_sizes(47, 47).unwrap(), vec![(11, 11), (5, 5), (2, 2)]);
    assert!(config.feature_sizes(8, 8).is_err(), "2x2 after the stem cannot be halved twice");
    assert!(config.feature_sizes(3, 3).is_err(), "smaller than the stem kernel");
}

/// Params (M) and MACs (G) of the deploy form, from the table in VANILLANET.md.
const PUBLISHED: &[(&str, f64, f64)] = &[
    ("vanillanet_5", 15.5, 5.2),
    ("vanillanet_6", 32.5, 6.0),
    ("vanillanet_7", 32.8, 6.9),
    ("vanillanet_8", 37.1, 7.7),
    ("vanillanet_9", 41.4, 8.6),
    ("vanillanet_10", 45.7, 9.4),
    ("vanillanet_11", 50.0, 10.3),
    ("vanillanet_12", 54.3, 11.1),
    ("vanillanet_13", 58.6, 11.9),
    ("vanillanet_13_x1_5", 127.8, 26.5),
    ("vanillanet_13_x1_5_ada_pool", 127.8, 48.9),
];

/// The learnable parameters of a net, counted from their shapes (nothing drawn).
struct Learnable(usize);

impl TensorVisitor for Learnable {
    fn param1(&mut self, _: &str, param: &mut Param<Tensor<1>>) {
        self.0 += param.lazy_shape().num_elements();
    }
    fn param4(&mut self, _: &str, param: &mut Param<Tensor<4>>) {
        self.0 += param.lazy_shape().num_elements();
    }
    fn buffer(&mut self, _: &str, _: &mut RunningState<Tensor<1>>) {}
}

#[test]
fn named_variants_have_the_published_sizes() {
    let device = Device::flex();
    for &(name, params_m, macs_g) in PUBLISHED {
        let config = VanillaNetConfig::named(name).unwrap();
        let deploy = config.init_deploy(&device);
        assert_eq!(deploy.num_params(), config.params_deploy(), "{name}: counted vs built (deploy)");
        // Counted without drawing the weights (hundreds of millions of random values for the
        // larger models: minutes in a test build).
        let mut learnable = Learnable(0);
        config.init(&device).visit_named("", &mut learnable);
        assert_eq!(learnable.0, config.params_train(), "{name}: counted vs built (training)");
        let params = config.params_deploy() as f64 / 1e6;
        assert!((params - params_m).abs() < 0.05, "{name}: {params:.2}M params, published {params_m}M");
        let macs = config.macs(224, 224, true).unwrap() as f64 / 1e9;
        assert!((macs - macs_g).abs() < 0.1, "{name}: {macs:.2}G MACs, published {macs_g}G");
    }
    let v5 = VanillaNetConfig::named("vanillanet_5").unwrap();
    assert_eq!(v5.params_deploy(), 15_523_304);
    assert!((v5.params_train() as f64 / 1e6 - 22.3).abs() < 0.05, "{}", v5.params_train());
    assert!((v5.macs(224, 224, false).unwrap() as f64 / 1e9 - 8.45).abs() < 0.01);
    assert_eq!(NAMED_MODELS.len(), PUBLISHED.len() + 9);
    assert!(VanillaNetConfig::named("vanillanet_4").is_err());
}

#[test]
fn invalid_configs_are_errors() {
    assert!(VanillaNetConfig::new(vec![8], vec![]).validate().is_err());
    assert!(VanillaNetConfig::new(vec![8, 16], vec![2, 2]).validate().is_err());
    assert!(VanillaNetConfig::new(vec![8, 16], vec![0]).validate().is_err());
    assert!(VanillaNetConfig::new(vec![8, 0], vec![2]).validate().is_err());
    assert!(VanillaNetConfig::new(vec![8, 16], vec![2]).with_ada_pool(Some(vec![0])).validate().is_err());
    for stride in [0, 1, 3, 8] {
        assert!(VanillaNetConfig::new(vec![8, 16], vec![2]).with_stem_stride(stride).validate().is_err(), "{stride}");
    }
    let ada = VanillaNetConfig::new(vec![8, 16], vec![2]).with_ada_pool(Some(vec![3]));
    assert!(ada.clone().validate().is_ok());
    assert!(ada.with_stem_stride(2).validate().is_err(), "the ada_pool variant has its own stem");
    assert!(VanillaNetConfig::new(vec![8, 16], vec![2]).validate().is_ok());
}
