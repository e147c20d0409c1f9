//! Shared by the integration tests: the official fixture and tolerance checks.
#![allow(dead_code)]

use std::path::PathBuf;

use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::{Device, Int, Tensor, TensorData};
use vanillanet::data::dataset::{Dataset, Split};
use vanillanet::io::names::{NamedTensor, named_tensors};
use vanillanet::io::state_dict::HostTensor;
use vanillanet::train::options::TrainOptions;
use vanillanet::{StateDict, VanillaNetConfig, load_state};

pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/official-tiny").join(name)
}

pub fn fixture(name: &str) -> StateDict {
    StateDict::from_safetensors(&std::fs::read(fixture_path(name)).unwrap()).unwrap()
}

pub fn tiny_config() -> VanillaNetConfig {
    VanillaNetConfig::new(vec![16, 32, 64, 128], vec![2, 2, 2]).with_num_classes(10)
}

pub fn input(io: &StateDict, device: &Device) -> Tensor<4> {
    let t = io.get("input").unwrap();
    Tensor::from_data(TensorData::new(t.data.clone(), t.shape.clone()), device)
}

pub fn host<const D: usize>(t: Tensor<D>) -> HostTensor {
    let shape = t.dims().to_vec();
    HostTensor { shape, data: t.into_data().convert::<f32>().try_into_vec::<f32>().unwrap() }
}

/// max |actual - expected| <= 1e-4 * max |expected|, shapes equal.
pub fn assert_close(actual: &HostTensor, expected: &HostTensor, what: &str) {
    assert_eq!(actual.shape, expected.shape, "{what}: shape");
    let scale = expected.data.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-12);
    let diff = actual.data.iter().zip(&expected.data).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(diff <= 1e-4 * scale, "{what}: max |diff| {diff:e} > 1e-4 * {scale:e}");
}

/// Deterministic pseudo-random values (no extra dependency for tests).
pub struct Lcg(pub u64);

impl Lcg {
    fn advance(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0
    }

    /// Uniform in [-1, 1).
    pub fn next(&mut self) -> f32 {
        ((self.advance() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    /// Uniform in 0..n, from the high bits (the low bits of an LCG cycle quickly).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.advance() >> 32) * n) >> 32
    }
}

/// The test data: two classes of 28x28 grey images told apart by which half is bright
/// (label 0: the left half), with noise; `seed` picks the noise.
pub fn halves(n: usize, seed: u64) -> Split {
    let mut rng = Lcg(seed);
    let mut split = Split::default();
    for i in 0..n {
        let label = (i % 2) as u8;
        for _y in 0..28 {
            for x in 0..28 {
                let bright = (x < 14) == (label == 0);
                split.pixels.push(if bright { 200 } else { 40 } + rng.below(32) as u8);
            }
        }
        split.labels.push(label);
    }
    split
}

/// [`halves`] as a dataset, classes "left" and "right".
pub fn halves_data(train: usize, test: usize) -> Dataset {
    Dataset::new("halves", vec!["left".into(), "right".into()], [1, 28, 28], halves(train, 1), halves(test, 2)).unwrap()
}

/// A training-form state_dict for `config` with random weights, BN affine parameters and
/// running statistics, so that every folding step matters.
pub fn random_state(config: &VanillaNetConfig, seed: u64) -> StateDict {
    let device = Device::flex();
    let mut rng = Lcg(seed);
    let mut sd = StateDict::default();
    for (key, t) in named_tensors(&config.init(&device), true) {
        let shape = t.dims();
        let n: usize = shape.iter().product();
        let data = (0..n)
            .map(|_| {
                let r = rng.next();
                if key.ends_with("running_var") {
                    0.5 + r.abs()
                } else if key.ends_with(".weight") && shape.len() == 1 {
                    1.0 + 0.3 * r
                } else {
                    0.3 * r
                }
            })
            .collect();
        sd.insert(key, shape, data);
    }
    sd
}

/// Relative error max|a - e| / max|e| (absolute where the reference is all zeros).
pub fn relative_error(actual: &HostTensor, expected: &HostTensor) -> f32 {
    assert_eq!(actual.shape, expected.shape);
    let scale = expected.data.iter().fold(0f32, |m, v| m.max(v.abs()));
    let diff = actual.data.iter().zip(&expected.data).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    if scale > 0.0 { diff / scale } else { diff }
}

/// One training-mode forward and backward at lambda 0.25 on the fixture, as the official
/// `train_one_epoch` would do it: returns the relative error of the logits, the loss, every
/// gradient and every updated running statistic against the reference.
pub fn training_step(device: &Device) -> Vec<(String, f32)> {
    let io = fixture("io.safetensors");
    let model = load_state(tiny_config().init(device), &fixture("train_state.safetensors"), device).unwrap();
    let logits = model.forward(input(&io, device), 0.25);
    let mut report = vec![(
        "logits".to_string(),
        relative_error(&host(logits.clone()), io.get("logits_train_lambda_0.25").unwrap()),
    )];

    let labels = io.get("labels").unwrap();
    let labels = Tensor::<1, Int>::from_data(
        TensorData::new(labels.data.iter().map(|&v| v as i64).collect(), [labels.shape[0]]),
        device,
    );
    let loss = CrossEntropyLossConfig::new().init(device).forward(logits, labels);
    report.push((
        "loss".into(),
        relative_error(&host(loss.clone()), &io.get("loss_train_lambda_0.25").unwrap().clone().reshaped(vec![1])),
    ));

    let grads = loss.backward();
    // The scale of all gradients: conv biases right before a BN have an exactly zero gradient
    // (BN removes any constant shift), so the reference holds only rounding noise for them.
    let grad_scale = io
        .tensors
        .iter()
        .filter(|(k, _)| k.starts_with("grad."))
        .flat_map(|(_, t)| &t.data)
        .fold(0f32, |m, v| m.max(v.abs()));
    let params = named_tensors(&model, false);
    assert_eq!(params.len(), io.keys().filter(|k| k.starts_with("grad.")).count(), "one gradient per parameter");
    for (key, t) in params {
        let expected = io.get(&format!("grad.{key}")).unwrap_or_else(|| panic!("no reference gradient for {key}"));
        let grad = match t {
            NamedTensor::Vector(t) => host(t.grad(&grads).unwrap_or_else(|| panic!("no gradient for {key}"))),
            NamedTensor::Kernel(t) => host(t.grad(&grads).unwrap_or_else(|| panic!("no gradient for {key}"))),
        };
        let rel = if expected.data.iter().all(|v| v.abs() < 1e-12 * grad_scale) {
            grad.data.iter().fold(0f32, |m, v| m.max(v.abs())) / grad_scale
        } else {
            relative_error(&grad, expected)
        };
        report.push((format!("grad.{key}"), rel));
    }

    let after = vanillanet::state_dict(&model).unwrap();
    let stats: Vec<_> = io.keys().filter_map(|k| k.strip_prefix("after_train_step.")).collect();
    assert_eq!(stats.len(), 26);
    for key in stats {
        report.push((
            format!("running.{key}"),
            relative_error(after.get(key).unwrap(), io.get(&format!("after_train_step.{key}")).unwrap()),
        ));
    }
    report
}

/// Training options for the small tests of the loop: nano_28, batch 16, 3 epochs annealed over
/// 2, the recipe off (18 steps are too few for augmented images or a decaying learning rate to
/// be learned reliably, nor an average to catch up; `recipe.rs` tests those parts).
pub fn nano_options() -> TrainOptions {
    recipe_options().without_recipe()
}

/// [`nano_options`] with the recipe's defaults (augmentation, warm-up and cosine decay, the
/// moving average of the weights).
pub fn recipe_options() -> TrainOptions {
    TrainOptions {
        preset: "nano_28".into(),
        batch_size: 16,
        epochs: 3,
        decay_epochs: 2,
        learning_rate: 1e-2,
        ..Default::default()
    }
}
