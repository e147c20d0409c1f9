//! An exponential moving average of the trained net: every entry of its state, the weights and
//! the BatchNorm running statistics alike (the authors' `model_ema`, timm's `ModelEmaV2`; their
//! released checkpoints are this average). It lives on the device beside the trained net and
//! follows it with one lerp a tensor a step, nothing read back.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::Tensor;

use crate::model::VanillaNet;

/// The decay of update `t` (0-based): `min(decay, (1 + t) / (10 + t))`, so that early on the
/// average forgets its random start quickly and a short run's average is of its own last steps
/// rather than mostly of the first ones.
pub fn warmed_up_decay(decay: f64, t: usize) -> f64 {
    decay.min((1.0 + t as f64) / (10.0 + t as f64))
}

/// The averaged net, in eval mode on the trained net's device (without autodiff).
#[derive(Debug)]
pub struct Ema {
    pub net: VanillaNet,
}

/// Every float tensor of a net (parameters, then running statistics, as burn visits them),
/// flattened, in order.
#[derive(Default)]
struct Collect(Vec<Tensor<1>>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        let n = t.dims().iter().product::<usize>();
        self.0.push(t.reshape([n]));
    }
}

/// Moves each tensor of the average towards the same tensor of the trained net:
/// `average * decay + trained * (1 - decay)` (exactly the trained one at decay 0).
struct Lerp {
    trained: std::vec::IntoIter<Tensor<1>>,
    decay: f64,
}

impl ModuleMapper for Lerp {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, average, mapper) = param.consume();
        let trained = self.trained.next().expect("the average and the trained net have the same tensors");
        let trained = trained.reshape(average.dims());
        let next = average.mul_scalar(self.decay).add(trained.mul_scalar(1.0 - self.decay));
        Param::from_mapped_value(id, next, mapper)
    }
}

impl Ema {
    /// An average that starts as `trained` (its eval-mode copy: running statistics of its own).
    pub fn start(trained: &VanillaNet) -> Self {
        Self { net: trained.valid() }
    }

    /// One step of the average towards `trained` (the training net; its eval-mode copy is read,
    /// so its running statistics are up to date).
    pub fn update(&mut self, trained: &VanillaNet, decay: f64) {
        let mut collect = Collect::default();
        trained.valid().visit(&mut collect);
        let mut lerp = Lerp { trained: collect.0.into_iter(), decay };
        self.net = self.net.clone().map(&mut lerp);
        debug_assert!(lerp.trained.next().is_none(), "every tensor averaged");
    }
}

#[cfg(test)]
mod tests {
    use super::warmed_up_decay;

    #[test]
    fn the_decay_warms_up_to_its_cap() {
        assert_eq!(warmed_up_decay(0.9998, 0), 0.1);
        assert_eq!(warmed_up_decay(0.9998, 90), 0.91);
        assert_eq!(warmed_up_decay(0.9998, 1_000_000), 0.9998);
        assert_eq!(warmed_up_decay(0.0, 5), 0.0);
    }
}
