//! What the stem, the blocks and the head share when they fuse: building a conv from given
//! tensors and merging a 1x1 conv into the conv before it.

use burn::module::Param;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::Tensor;

/// A conv with the given (already fused) weights.
pub fn conv_from(weight: Tensor<4>, bias: Tensor<1>, stride: usize, padding: usize, groups: usize) -> Conv2d {
    let [_, _, kh, kw] = weight.dims();
    Conv2d {
        weight: Param::from_tensor(weight),
        bias: Some(Param::from_tensor(bias)),
        stride: [stride, stride],
        kernel_size: [kh, kw],
        dilation: [1, 1],
        groups,
        padding: PaddingConfig2d::Explicit(padding, padding, padding, padding),
    }
}

/// A conv shaped as `like` (stride, padding, dilation, groups) holding new weights: a new
/// parameter, which an optimizer starts with fresh moments.
pub fn conv_like(like: &Conv2d, weight: Tensor<4>, bias: Tensor<1>) -> Conv2d {
    let [_, _, kh, kw] = weight.dims();
    Conv2d {
        weight: Param::from_tensor(weight),
        bias: Some(Param::from_tensor(bias)),
        stride: like.stride,
        kernel_size: [kh, kw],
        dilation: like.dilation,
        groups: like.groups,
        padding: like.padding.clone(),
    }
}

/// `conv2(conv1(x))` as one conv, where conv2 is 1x1: W = W2 @ W1 over the middle channel,
/// b = b2 + W2 @ b1. Only exact when nothing nonlinear sits between them.
pub fn merge_1x1(w1: Tensor<4>, b1: Tensor<1>, w2: Tensor<4>, b2: Tensor<1>) -> (Tensor<4>, Tensor<1>) {
    let [mid, cin, kh, kw] = w1.dims();
    let [cout, mid2, _, _] = w2.dims();
    assert_eq!(mid, mid2, "merge_1x1: conv2 must take conv1's output channels");
    let w2 = w2.reshape([cout, mid]);
    let weight = w2.clone().matmul(w1.reshape([mid, cin * kh * kw])).reshape([cout, cin, kh, kw]);
    let bias = b2.add(w2.matmul(b1.reshape([mid, 1])).reshape([cout]));
    (weight, bias)
}

/// A conv's bias as a tensor (zeros where it has none).
pub fn bias_of(conv: &Conv2d) -> Tensor<1> {
    match &conv.bias {
        Some(b) => b.val(),
        None => {
            let w = conv.weight.val();
            Tensor::zeros([w.dims()[0]], &w.device())
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::module::conv2d;
    use burn::tensor::ops::ConvOptions;
    use burn::tensor::{Device, Distribution, Tensor};

    use super::merge_1x1;

    #[test]
    fn merged_conv_equals_the_two_convs() {
        let device = Device::flex();
        let normal = Distribution::Normal(0.0, 1.0);
        let (w1, b1) = (Tensor::<4>::random([3, 2, 3, 3], normal, &device), Tensor::<1>::random([3], normal, &device));
        let (w2, b2) = (Tensor::<4>::random([4, 3, 1, 1], normal, &device), Tensor::<1>::random([4], normal, &device));
        let x = Tensor::<4>::random([2, 2, 6, 5], normal, &device);
        let opts = || ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
        let plain = || ConvOptions::new([1, 1], [0, 0], [1, 1], 1);
        let two =
            conv2d(conv2d(x.clone(), w1.clone(), Some(b1.clone()), opts()), w2.clone(), Some(b2.clone()), plain());
        let (w, b) = merge_1x1(w1, b1, w2, b2);
        assert_eq!(w.dims(), [4, 2, 3, 3]);
        let one = conv2d(x, w, Some(b), opts());
        let diff = (two - one).abs().max().into_scalar::<f32>();
        assert!(diff < 1e-4, "{diff}");
    }
}
