//! Our own ops (`src/model/ops/`) against burn's composed reference on the same inputs: the
//! output and the gradient of `sum(output * g)` for each input, at several shapes (odd sizes,
//! batch 1, 1x1 planes), on the CPU backend, where they run our kernels.

mod series {
    use burn::tensor::module::conv2d;
    use burn::tensor::{Tensor, activation::relu, ops::ConvOptions};

    use super::reference::{assert_close, device, draw, leaf};
    use vanillanet::model::ops::series_activation;

    #[test]
    fn matches_relu_then_burns_grouped_conv_with_gradients() {
        let device = device();
        for ([n, c, h, w], k) in
            [([2, 3, 14, 14], 7), ([1, 4, 5, 3], 7), ([3, 2, 1, 1], 3), ([1, 1, 28, 28], 5), ([4, 8, 7, 7], 1)]
        {
            let (x, weight, g) =
                (draw([n, c, h, w], &device), draw([c, 1, k, k], &device), draw([n, c, h, w], &device));
            let (x1, w1) = (leaf::<4>(&x, &device), leaf::<4>(&weight, &device));
            let (x2, w2) = (leaf::<4>(&x, &device), leaf::<4>(&weight, &device));
            let g = Tensor::<4>::from_data(g, &device);
            let ours = series_activation(x1.clone(), w1.clone());
            let options = ConvOptions::new([1, 1], [k / 2, k / 2], [1, 1], c);
            let theirs = conv2d(relu(x2.clone()), w2.clone(), None, options);
            let what = format!("x {:?}, k {k}", [n, c, h, w]);
            assert_close(ours.clone(), theirs.clone(), &format!("{what}: output"));
            let (ga, gb) = ((ours * g.clone()).sum().backward(), (theirs * g).sum().backward());
            assert_close(x1.grad(&ga).unwrap(), x2.grad(&gb).unwrap(), &format!("{what}: input gradient"));
            assert_close(w1.grad(&ga).unwrap(), w2.grad(&gb).unwrap(), &format!("{what}: weight gradient"));
        }
    }
}

mod batch_norm {
    use burn::tensor::{Tensor, activation::leaky_relu, module::batch_norm_train};

    use super::reference::{assert_close, device, draw, leaf};
    use vanillanet::model::ops::batch_norm_leaky;

    #[test]
    fn matches_burns_batch_norm_then_leaky_relu_with_gradients() {
        let device = device();
        for ([n, c, h, w], slope) in [
            ([2, 3, 14, 14], 0.3),
            ([1, 4, 5, 3], 1.0),
            ([32, 10, 1, 1], 0.0),
            ([3, 2, 7, 1], 0.75),
            ([1, 1, 1, 3], 0.5),
        ] {
            let (x, gamma, beta, g) =
                (draw([n, c, h, w], &device), draw([c], &device), draw([c], &device), draw([n, c, h, w], &device));
            let (x1, g1, b1) = (leaf::<4>(&x, &device), leaf::<1>(&gamma, &device), leaf::<1>(&beta, &device));
            let (x2, g2, b2) = (leaf::<4>(&x, &device), leaf::<1>(&gamma, &device), leaf::<1>(&beta, &device));
            let g = Tensor::<4>::from_data(g, &device);
            let ours = batch_norm_leaky(x1.clone(), g1.clone(), b1.clone(), 1e-6, slope);
            let reference = batch_norm_train(x2.clone(), g2.clone(), b2.clone(), 1e-6);
            let theirs = leaky_relu(reference.output, slope);
            let what = format!("x {:?}, slope {slope}", [n, c, h, w]);
            assert_close(ours.mean, reference.mean.detach(), &format!("{what}: mean"));
            assert_close(ours.variance, reference.variance.detach(), &format!("{what}: variance"));
            assert_close(ours.output.clone(), theirs.clone(), &format!("{what}: output"));
            let (ga, gb) = ((ours.output * g.clone()).sum().backward(), (theirs * g).sum().backward());
            assert_close(x1.grad(&ga).unwrap(), x2.grad(&gb).unwrap(), &format!("{what}: input gradient"));
            assert_close(g1.grad(&ga).unwrap(), g2.grad(&gb).unwrap(), &format!("{what}: gamma gradient"));
            assert_close(b1.grad(&ga).unwrap(), b2.grad(&gb).unwrap(), &format!("{what}: beta gradient"));
        }
    }
}

mod pointwise {
    use burn::tensor::module::conv2d;
    use burn::tensor::{Tensor, ops::ConvOptions};

    use super::reference::{assert_close, device, draw, leaf};
    use vanillanet::model::ops::pointwise_conv;

    #[test]
    fn matches_burns_conv_with_gradients() {
        let device = device();
        for [n, cin, cout, h, w] in
            [[2, 3, 5, 14, 14], [1, 16, 8, 1, 1], [5, 7, 3, 3, 2], [1, 1, 1, 1, 1], [32, 10, 10, 1, 1]]
        {
            let (x, weight, bias, g) = (
                draw([n, cin, h, w], &device),
                draw([cout, cin, 1, 1], &device),
                draw([cout], &device),
                draw([n, cout, h, w], &device),
            );
            let (x1, w1, b1) = (leaf::<4>(&x, &device), leaf::<4>(&weight, &device), leaf::<1>(&bias, &device));
            let (x2, w2, b2) = (leaf::<4>(&x, &device), leaf::<4>(&weight, &device), leaf::<1>(&bias, &device));
            let g = Tensor::<4>::from_data(g, &device);
            let ours = pointwise_conv(x1.clone(), w1.clone(), b1.clone());
            let theirs = conv2d(x2.clone(), w2.clone(), Some(b2.clone()), ConvOptions::new([1, 1], [0, 0], [1, 1], 1));
            let what = format!("{n} x {cin} -> {cout} at {h}x{w}");
            assert_close(ours.clone(), theirs.clone(), &format!("{what}: output"));
            let (ga, gb) = ((ours * g.clone()).sum().backward(), (theirs * g).sum().backward());
            assert_close(x1.grad(&ga).unwrap(), x2.grad(&gb).unwrap(), &format!("{what}: input gradient"));
            assert_close(w1.grad(&ga).unwrap(), w2.grad(&gb).unwrap(), &format!("{what}: weight gradient"));
            assert_close(b1.grad(&ga).unwrap(), b2.grad(&gb).unwrap(), &format!("{what}: bias gradient"));
        }
    }
}

/// What every op's test checks: the op against burn's composed reference on the same inputs,
/// the output and the gradient of `sum(output * g)` for each input.
mod reference {
    use burn::tensor::{Device, Distribution, Tensor, TensorData};

    pub fn device() -> Device {
        let device = Device::flex().autodiff();
        device.seed(7);
        device
    }

    /// Values drawn once, for two independent leaves (one for the op, one for the reference).
    pub fn draw<const D: usize>(shape: [usize; D], device: &Device) -> TensorData {
        Tensor::<D>::random(shape, Distribution::Normal(0.0, 1.0), device).into_data()
    }

    pub fn leaf<const D: usize>(data: &TensorData, device: &Device) -> Tensor<D> {
        Tensor::<D>::from_data(data.clone(), device).require_grad()
    }

    /// max |actual - expected| <= 1e-5 * max |expected|.
    pub fn assert_close<const D: usize>(actual: Tensor<D>, expected: Tensor<D>, what: &str) {
        assert_eq!(actual.dims(), expected.dims(), "{what}: shape");
        let (a, e) =
            (actual.into_data().try_to_vec::<f32>().unwrap(), expected.into_data().try_to_vec::<f32>().unwrap());
        let scale = e.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-12);
        let diff = a.iter().zip(&e).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(diff <= 1e-5 * scale, "{what}: max |diff| {diff:e} > 1e-5 * {scale:e}");
    }
}
