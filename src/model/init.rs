//! The initial weights of a seed, drawn on the host from the seed alone. The backend's own
//! generator is one for the whole process, shared with everything else that draws at the same
//! time (parallel tests, a second trainer), and each backend draws differently; drawn here, a
//! seed gives the same net on the CPU and on WebGPU, in any thread, next to anything.

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{Device, Tensor, TensorData};

use crate::model::VanillaNet;
use crate::model::config::VanillaNetConfig;

/// splitmix64: a seeded, portable stream is all the weights, the shuffling and the augmentation
/// need.
pub fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The next draw of a splitmix64 stream, uniform in [0, 1).
pub fn unit(state: &mut u64) -> f64 {
    (splitmix(state) >> 11) as f64 / (1u64 << 53) as f64
}

/// Standard normal draws (Box-Muller) from a splitmix64 stream.
struct Normal(u64);

impl Normal {
    fn next(&mut self) -> f64 {
        // 1 - u is in (0, 1]: the logarithm stays finite.
        let (u, v) = (1.0 - unit(&mut self.0), unit(&mut self.0));
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// The official `_init_weights`: every conv weight (the 4-D tensors: convs and the series
/// activations' depthwise kernels) from N(0, 0.02), in the order burn visits them. The rest
/// (biases, BatchNorm) start at constants and are left as built.
struct ConvWeights {
    normal: Normal,
}

impl ModuleMapper for ConvWeights {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        if D != 4 {
            return param;
        }
        // Its shape and device without initialising it: a lazy weight would otherwise draw
        // from the backend's generator first, for nothing.
        let (shape, device) = (param.lazy_shape(), param.lazy_device());
        let values: Vec<f32> = (0..shape.num_elements()).map(|_| (0.02 * self.normal.next()) as f32).collect();
        let id = param.id;
        param.transform_for_load(Tensor::from_data(TensorData::new(values, shape), &device), id)
    }
}

impl VanillaNetConfig {
    /// The training form with the initial weights of `seed`: the same net for a seed on every
    /// backend. Panics as [`Self::init`] does.
    pub fn init_seeded(&self, seed: u64, device: &Device) -> VanillaNet {
        let mut state = seed ^ 0x7765_6967_6874_7321; // "weights!": apart from other streams of the seed
        self.init(device).map(&mut ConvWeights { normal: Normal(splitmix(&mut state)) })
    }
}

/// A conv weight `[out, in, kh, kw]` as the identity (Dirac) where it can be: output channel k
/// copies input channel k at the kernel's centre for k below both counts; output channels past
/// the input count (a pair that widens) keep random N(0, 0.02) weights from `normal`, so they
/// start as new features rather than as dead zeros.
fn dirac(param: Param<Tensor<4>>, normal: &mut Normal) -> Param<Tensor<4>> {
    let (shape, device) = (param.lazy_shape(), param.lazy_device());
    let [out, cin, kh, kw] = shape.dims::<4>();
    let per_output = cin * kh * kw;
    let mut values = vec![0f32; out * per_output];
    for (k, row) in values.chunks_exact_mut(per_output).enumerate() {
        if k < cin {
            row[(k * kh + kh / 2) * kw + kw / 2] = 1.0;
        } else {
            row.iter_mut().for_each(|v| *v = (0.02 * normal.next()) as f32);
        }
    }
    let id = param.id;
    param.transform_for_load(Tensor::from_data(TensorData::new(values, shape), &device), id)
}

/// Identity initialisation of the deep-training pairs: every second (1x1) conv of a pair, the
/// stem's, each block's and the head's, starts as the identity on the channels it keeps, so
/// each pair starts as one layer (conv, BN, ReLU, BN) and deep training only adds depth where
/// training asks for it (the fast-training recipes' Dirac initialisation). The widening rows
/// are drawn from `seed`. Nets without pairs are returned as they are.
pub fn identity_pairs(mut net: VanillaNet, seed: u64) -> VanillaNet {
    let mut state = seed ^ 0x6469_7261_6321_2121; // "dirac!!!": apart from the weights' stream
    let mut normal = Normal(splitmix(&mut state));
    let pairs = std::iter::once(&mut net.stem.convs).chain(net.stages.iter_mut().map(|b| &mut b.convs));
    for conv in pairs.filter_map(|p| p.conv2.as_mut()).chain(net.head.conv2.as_mut()) {
        conv.weight = dirac(conv.weight.clone(), &mut normal);
    }
    net
}

#[cfg(test)]
mod tests {
    use burn::module::{Module, ModuleVisitor, Param};
    use burn::tensor::{Device, Tensor};

    use crate::model::config::VanillaNetConfig;

    /// The values of every 4-D tensor, in the order burn visits them.
    struct ConvWeights(Vec<f32>);

    impl ModuleVisitor for ConvWeights {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if D == 4 {
                self.0.extend(param.val().into_data().try_to_vec::<f32>().unwrap());
            }
        }
    }

    fn weights(seed: u64) -> Vec<f32> {
        let mut visitor = ConvWeights(Vec::new());
        VanillaNetConfig::named("nano_28").unwrap().init_seeded(seed, &Device::flex()).visit(&mut visitor);
        visitor.0
    }

    #[test]
    fn identity_pairs_start_as_one_layer() {
        use burn::tensor::Distribution;
        let device = Device::flex();
        let config = VanillaNetConfig::named("nano_28").unwrap();
        let net = super::identity_pairs(config.init_seeded(1, &device), 1);
        let conv2 = net.stages[0].convs.conv2.as_ref().unwrap();
        let [out, cin, _, _] = conv2.weight.dims();
        assert!(out > cin, "nano_28's first block widens: {out} from {cin}");
        let w = conv2.weight.val().reshape([out, cin]);
        let kept = w.clone().slice([0..cin, 0..cin]);
        assert!(
            kept.equal(Tensor::<2>::eye(cin, &device)).all().into_scalar::<bool>(),
            "the identity on the kept channels"
        );
        let new = w.slice([cin..out, 0..cin]).into_data().try_to_vec::<f32>().unwrap();
        let std = (new.iter().map(|v| v * v).sum::<f32>() / new.len() as f32).sqrt();
        assert!((std - 0.02).abs() < 0.004, "the widening rows are drawn N(0, 0.02): {std}");
        assert!(net.head.conv2.is_some() && net.stem.convs.conv2.is_some());
        // At lambda 1 (the leaky activation the identity), and BN fresh (eval mode: x / sqrt(1 +
        // eps)), each pair is its first conv: the net's output equals that of the shallow form
        // with the same first convs. Checked on the stem's pair alone.
        let x = Tensor::<4>::random([2, 1, 28, 28], Distribution::Normal(0.0, 1.0), &device);
        let stem = &net.valid().stem.convs;
        let pair = stem.forward(x.clone(), 1.0);
        let scale = (1.0f64 + 1e-6).sqrt();
        let one = crate::model::conv::conv_forward(&stem.conv1, x).div_scalar(scale * scale);
        let diff = (pair - one).abs().max().into_scalar::<f32>();
        assert!(diff < 1e-4, "{diff}");
    }

    #[test]
    fn a_seed_gives_its_weights_whatever_the_backends_generator_does() {
        Device::flex().seed(1);
        let a = weights(42);
        Device::flex().seed(2);
        assert_eq!(a, weights(42));
        assert_ne!(a, weights(43));
        // N(0, 0.02), as the official init.
        let n = a.len() as f64;
        let mean = a.iter().map(|&v| v as f64).sum::<f64>() / n;
        let std = (a.iter().map(|&v| v as f64 - mean).map(|d| d * d).sum::<f64>() / n).sqrt();
        assert!(mean.abs() < 0.002 && (std - 0.02).abs() < 0.002, "mean {mean}, std {std}");
    }
}
