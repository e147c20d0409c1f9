//! The official state_dict names of every tensor, and moving tensors between a model and a
//! [`StateDict`] under those names.

use std::collections::HashSet;

use burn::module::{Param, RunningState};
use burn::nn::conv::Conv2d;
use burn::tensor::{Device, Tensor, TensorData};

use crate::error::{Error, Result};
use crate::io::state_dict::{HostTensor, StateDict};
use crate::model::Form;
use crate::model::activation::{SeriesActivation, SeriesActivationDeploy};
use crate::model::batch_norm::BatchNorm2d;
use crate::model::block::{Block, BlockDeploy};
use crate::model::config::VanillaNetConfig;
use crate::model::conv::ConvPair;
use crate::model::head::{Head, HeadDeploy};
use crate::model::stem::{Stem, StemDeploy};
use crate::model::{VanillaNet, VanillaNetDeploy};

/// Receives every tensor of a module with its official key.
pub trait TensorVisitor {
    fn param1(&mut self, key: &str, param: &mut Param<Tensor<1>>);
    fn param4(&mut self, key: &str, param: &mut Param<Tensor<4>>);
    fn buffer(&mut self, key: &str, state: &mut RunningState<Tensor<1>>);
}

/// A module whose tensors have official names, relative to `prefix`.
pub trait OfficialNames {
    fn visit_named(&mut self, prefix: &str, v: &mut dyn TensorVisitor);
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() { name.to_string() } else { format!("{prefix}.{name}") }
}

impl OfficialNames for Conv2d {
    fn visit_named(&mut self, prefix: &str, v: &mut dyn TensorVisitor) {
        v.param4(&join(prefix, "weight"), &mut self.weight);
        if let Some(bias) = &mut self.bias {
            v.param1(&join(prefix, "bias"), bias);
        }
    }
}

impl OfficialNames for BatchNorm2d {
    fn visit_named(&mut self, prefix: &str, v: &mut dyn TensorVisitor) {
        v.param1(&join(prefix, "weight"), &mut self.gamma);
        v.param1(&join(prefix, "bias"), &mut self.beta);
        v.buffer(&join(prefix, "running_mean"), &mut self.running_mean);
        v.buffer(&join(prefix, "running_var"), &mut self.running_var);
    }
}

impl<M: OfficialNames> OfficialNames for Option<M> {
    fn visit_named(&mut self, prefix: &str, v: &mut dyn TensorVisitor) {
        if let Some(m) = self {
            m.visit_named(prefix, v);
        }
    }
}

impl OfficialNames for SeriesActivation {
    fn visit_named(&mut self, prefix: &str, v: &mut dyn TensorVisitor) {
        if let Some(weight) = &mut self.weight {
            v.param4(&join(prefix, "weight"), weight);
        }
        self.bn.visit_named(&join(prefix, "bn"), v);
    }
}

impl OfficialNames for SeriesActivationDeploy {
    fn visit_named(&mut self, prefix: &str, v: &mut dyn TensorVisitor) {
        self.conv.visit_named(prefix, v);
    }
}

/// Official names of a [`ConvPair`], whose two halves have prefixes of their own.
fn visit_pair(pair: &mut ConvPair, [first, second]: [&str; 2], v: &mut dyn TensorVisitor) {
    pair.conv1.visit_named(&join(first, "0"), v);
    pair.bn1.visit_named(&join(first, "1"), v);
    pair.conv2.visit_named(&join(second, "0"), v);
    pair.bn2.visit_named(&join(second, "1"), v);
}

impl OfficialNames for Stem {
    fn visit_named(&mut self, _: &str, v: &mut dyn TensorVisitor) {
        visit_pair(&mut self.convs, ["stem1", "stem2"], v);
        self.act.visit_named("stem2.2", v);
    }
}

impl OfficialNames for StemDeploy {
    fn visit_named(&mut self, _: &str, v: &mut dyn TensorVisitor) {
        self.conv.visit_named("stem.0", v);
        self.act.visit_named("stem.1", v);
    }
}

impl OfficialNames for Block {
    fn visit_named(&mut self, prefix: &str, v: &mut dyn TensorVisitor) {
        visit_pair(&mut self.convs, [&join(prefix, "conv1"), &join(prefix, "conv2")], v);
        self.act.visit_named(&join(prefix, "act"), v);
        if let Some(shortcut) = &mut self.shortcut {
            shortcut.conv.visit_named(&join(prefix, "shortcut.0"), v);
            shortcut.bn.visit_named(&join(prefix, "shortcut.1"), v);
        }
    }
}

impl OfficialNames for BlockDeploy {
    fn visit_named(&mut self, prefix: &str, v: &mut dyn TensorVisitor) {
        self.conv.visit_named(&join(prefix, "conv"), v);
        self.act.visit_named(&join(prefix, "act"), v);
        if let Some(shortcut) = &mut self.shortcut {
            shortcut.conv.visit_named(&join(prefix, "shortcut"), v);
        }
    }
}

impl OfficialNames for Head {
    fn visit_named(&mut self, _: &str, v: &mut dyn TensorVisitor) {
        self.conv1.visit_named("cls1.2", v);
        self.bn.visit_named("cls1.3", v);
        self.conv2.visit_named("cls2.0", v);
    }
}

impl OfficialNames for HeadDeploy {
    fn visit_named(&mut self, _: &str, v: &mut dyn TensorVisitor) {
        self.conv.visit_named("cls.2", v);
    }
}

impl OfficialNames for VanillaNet {
    fn visit_named(&mut self, _: &str, v: &mut dyn TensorVisitor) {
        self.stem.visit_named("", v);
        for (i, block) in self.stages.iter_mut().enumerate() {
            block.visit_named(&format!("stages.{i}"), v);
        }
        self.head.visit_named("", v);
    }
}

impl OfficialNames for VanillaNetDeploy {
    fn visit_named(&mut self, _: &str, v: &mut dyn TensorVisitor) {
        self.stem.visit_named("", v);
        for (i, block) in self.stages.iter_mut().enumerate() {
            block.visit_named(&format!("stages.{i}"), v);
        }
        self.head.visit_named("", v);
    }
}

/// A tensor of the model, by rank.
#[derive(Clone, Debug)]
pub enum NamedTensor {
    Vector(Tensor<1>),
    Kernel(Tensor<4>),
}

impl NamedTensor {
    pub fn dims(&self) -> Vec<usize> {
        match self {
            NamedTensor::Vector(t) => t.dims().to_vec(),
            NamedTensor::Kernel(t) => t.dims().to_vec(),
        }
    }

    fn flat(&self) -> Tensor<1> {
        match self {
            NamedTensor::Vector(t) => t.clone(),
            NamedTensor::Kernel(t) => t.clone().flatten(0, 3),
        }
    }
}

#[derive(Default)]
struct Collector {
    tensors: Vec<(String, NamedTensor)>,
    with_buffers: bool,
}

impl TensorVisitor for Collector {
    fn param1(&mut self, key: &str, param: &mut Param<Tensor<1>>) {
        self.tensors.push((key.to_string(), NamedTensor::Vector(param.val())));
    }
    fn param4(&mut self, key: &str, param: &mut Param<Tensor<4>>) {
        self.tensors.push((key.to_string(), NamedTensor::Kernel(param.val())));
    }
    fn buffer(&mut self, key: &str, state: &mut RunningState<Tensor<1>>) {
        if self.with_buffers {
            self.tensors.push((key.to_string(), NamedTensor::Vector(state.value_sync())));
        }
    }
}

/// Every tensor of `module` (learnable parameters, and the BN running statistics when
/// `with_buffers`), with its official key, still on the device.
pub fn named_tensors<M: OfficialNames + Clone>(module: &M, with_buffers: bool) -> Vec<(String, NamedTensor)> {
    let mut collector = Collector { with_buffers, ..Default::default() };
    module.clone().visit_named("", &mut collector);
    collector.tensors
}

fn host(dims: Vec<usize>, data: TensorData) -> Result<HostTensor> {
    let data = data.convert::<f32>().try_into_vec::<f32>().map_err(|e| Error::Readback(format!("{e:?}")))?;
    Ok(HostTensor { shape: dims, data })
}

/// The module's state_dict (parameters and running statistics). Reads synchronously, so not on
/// WebGPU: use [`state_dict_async`] there.
pub fn state_dict<M: OfficialNames + Clone>(module: &M) -> Result<StateDict> {
    let mut sd = StateDict::default();
    for (key, t) in named_tensors(module, true) {
        sd.tensors.insert(key, host(t.dims(), t.flat().into_data())?);
    }
    Ok(sd)
}

/// The module's state_dict, read with awaited device reads (works everywhere, WebGPU included).
pub async fn state_dict_async<M: OfficialNames + Clone>(module: &M) -> Result<StateDict> {
    let mut sd = StateDict::default();
    for (key, t) in named_tensors(module, true) {
        let data = t.flat().into_data_async().await.map_err(|e| Error::Readback(format!("{e:?}")))?;
        sd.tensors.insert(key, host(t.dims(), data)?);
    }
    Ok(sd)
}

struct Loader<'a> {
    sd: &'a StateDict,
    device: Device,
    used: HashSet<String>,
    error: Option<Error>,
}

impl Loader<'_> {
    fn take<const D: usize>(&mut self, key: &str, expected: Vec<usize>) -> Option<Tensor<D>> {
        if self.error.is_some() {
            return None;
        }
        let Some(t) = self.sd.get(key) else {
            self.error = Some(Error::MissingKey { key: key.to_string(), expected });
            return None;
        };
        if t.shape != expected {
            self.error = Some(Error::ShapeMismatch { key: key.to_string(), expected, actual: t.shape.clone() });
            return None;
        }
        self.used.insert(key.to_string());
        Some(Tensor::from_data(TensorData::new(t.data.clone(), t.shape.clone()), &self.device))
    }
}

impl TensorVisitor for Loader<'_> {
    fn param1(&mut self, key: &str, param: &mut Param<Tensor<1>>) {
        if let Some(t) = self.take(key, param.lazy_shape().to_vec()) {
            *param = Param::from_tensor(t);
        }
    }
    fn param4(&mut self, key: &str, param: &mut Param<Tensor<4>>) {
        if let Some(t) = self.take(key, param.lazy_shape().to_vec()) {
            *param = Param::from_tensor(t);
        }
    }
    fn buffer(&mut self, key: &str, state: &mut RunningState<Tensor<1>>) {
        if let Some(t) = self.take(key, state.value_sync().dims().to_vec()) {
            *state = RunningState::new(t);
        }
    }
}

/// Replaces every tensor of `module` with the one of the same official name in `sd`. Fails on
/// a missing key, a shape mismatch (naming both shapes) or a key the module has no use for
/// (`num_batches_tracked` aside), as PyTorch's `load_state_dict(strict=True)` would.
pub fn load_state<M: OfficialNames>(mut module: M, sd: &StateDict, device: &Device) -> Result<M> {
    let mut loader = Loader { sd, device: device.clone(), used: HashSet::new(), error: None };
    module.visit_named("", &mut loader);
    if let Some(e) = loader.error {
        return Err(e);
    }
    let unexpected: Vec<String> = sd
        .keys()
        .filter(|k| !loader.used.contains(*k) && !k.ends_with("num_batches_tracked"))
        .map(String::from)
        .collect();
    if !unexpected.is_empty() {
        return Err(Error::UnexpectedKeys { keys: unexpected });
    }
    Ok(module)
}

/// Every tensor a net of `config` has in `layout`, with its shape: computed from the config
/// alone, nothing built, in the names and shapes [`load_state`] asks for.
pub fn expected_shapes(config: &VanillaNetConfig, layout: Form) -> Vec<(String, Vec<usize>)> {
    let mut out = Vec::new();
    let mut put = |key: String, shape: Vec<usize>| out.push((key, shape));
    let (d, c, k, deep) = (&config.dims, config.num_classes, config.act_kernel(), config.deep_training);
    let act = config.act_num > 0;
    let bn = |put: &mut dyn FnMut(String, Vec<usize>), prefix: &str, n: usize| {
        for name in ["weight", "bias", "running_mean", "running_var"] {
            put(format!("{prefix}.{name}"), vec![n]);
        }
    };
    let conv = |put: &mut dyn FnMut(String, Vec<usize>), prefix: &str, shape: [usize; 4], bias: bool| {
        put(format!("{prefix}.weight"), shape.to_vec());
        if bias {
            put(format!("{prefix}.bias"), vec![shape[0]]);
        }
    };
    let stem = [d[0], config.in_chans, 4, 4];
    let last = d[d.len() - 1];
    match layout {
        Form::Training => {
            conv(&mut put, "stem1.0", stem, true);
            bn(&mut put, "stem1.1", d[0]);
            if deep {
                conv(&mut put, "stem2.0", [d[0], d[0], 1, 1], true);
                bn(&mut put, "stem2.1", d[0]);
            }
            if act {
                put("stem2.2.weight".into(), vec![d[0], 1, k, k]);
                bn(&mut put, "stem2.2.bn", d[0]);
            }
            for i in 0..config.num_blocks() {
                let (a, b, p) = (d[i], d[i + 1], format!("stages.{i}"));
                let mid = if deep { a } else { b };
                conv(&mut put, &format!("{p}.conv1.0"), [mid, a, 1, 1], true);
                bn(&mut put, &format!("{p}.conv1.1"), mid);
                if deep {
                    conv(&mut put, &format!("{p}.conv2.0"), [b, a, 1, 1], true);
                    bn(&mut put, &format!("{p}.conv2.1"), b);
                }
                if act {
                    put(format!("{p}.act.weight"), vec![b, 1, k, k]);
                    bn(&mut put, &format!("{p}.act.bn"), b);
                }
                if config.projects(i) {
                    conv(&mut put, &format!("{p}.shortcut.0"), [b, a, 1, 1], false);
                    bn(&mut put, &format!("{p}.shortcut.1"), b);
                }
            }
            conv(&mut put, "cls1.2", [c, last, 1, 1], true);
            if deep {
                bn(&mut put, "cls1.3", c);
                conv(&mut put, "cls2.0", [c, c, 1, 1], true);
            }
        }
        Form::Deploy => {
            conv(&mut put, "stem.0", stem, true);
            if act {
                conv(&mut put, "stem.1", [d[0], 1, k, k], true);
            }
            for i in 0..config.num_blocks() {
                let (a, b, p) = (d[i], d[i + 1], format!("stages.{i}"));
                conv(&mut put, &format!("{p}.conv"), [b, a, 1, 1], true);
                if act {
                    conv(&mut put, &format!("{p}.act"), [b, 1, k, k], true);
                }
                if config.projects(i) {
                    conv(&mut put, &format!("{p}.shortcut"), [b, a, 1, 1], true);
                }
            }
            conv(&mut put, "cls.2", [c, last, 1, 1], true);
        }
    }
    out
}

/// Compares a state dict with what a net of `config` needs, before anything is built: every
/// tensor there with its exact shape, none left over (`num_batches_tracked` aside). So a file
/// of a few bytes whose shapes or card declare a huge net is refused without allocating it.
pub fn check_shapes(config: &VanillaNetConfig, sd: &StateDict) -> Result<()> {
    config.validate()?;
    let expected = expected_shapes(config, sd.form()?);
    for (key, shape) in &expected {
        match sd.get(key) {
            None => return Err(Error::MissingKey { key: key.clone(), expected: shape.clone() }),
            Some(t) if &t.shape != shape => {
                return Err(Error::ShapeMismatch {
                    key: key.clone(),
                    expected: shape.clone(),
                    actual: t.shape.clone(),
                });
            }
            Some(_) => {}
        }
    }
    let known: HashSet<&str> = expected.iter().map(|(k, _)| k.as_str()).collect();
    let unexpected: Vec<String> =
        sd.keys().filter(|k| !known.contains(k) && !k.ends_with("num_batches_tracked")).map(String::from).collect();
    if unexpected.is_empty() { Ok(()) } else { Err(Error::UnexpectedKeys { keys: unexpected }) }
}
