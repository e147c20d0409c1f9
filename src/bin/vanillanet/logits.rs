//! `vanillanet logits`: a model file run on the tensor `input` of a safetensors file, in eval
//! mode, its `logits` written to another.

use std::path::Path;

use burn::tensor::{Device, Tensor, TensorData};
use vanillanet::bench::{MAX_CASE_BYTES, check_case};
use vanillanet::limits::{INPUT_SIDE, LOGITS_BATCH};
use vanillanet::{Error, Result, StateDict, VanillaNetConfig};

use crate::args::LogitsArgs;
use crate::context::{Context, read_bounded, write_file};
use crate::model_file::{ModelFile, Net};

pub fn run(args: LogitsArgs, context: &Context) -> Result<()> {
    let LogitsArgs { model, lambda, fused, input, output } = args;
    if !(0.0..=1.0).contains(&lambda) {
        return Err(Error::InvalidInput(format!("--lambda must be within [0, 1], got {lambda}")));
    }
    if fused && lambda != 1.0 {
        return Err(Error::FuseLambda { lambda });
    }
    let device = context.device()?;
    let file = ModelFile::read(&model)?;
    let net = file.net(&device)?;
    let x = read_input(&input, &file.card.architecture, &device)?;
    let logits = match (fused, net) {
        (true, net) => net.into_deploy(lambda)?.forward(x),
        (false, Net::Training(m)) => m.forward(x, lambda),
        (false, Net::Deploy(m)) if lambda == 1.0 => m.forward(x),
        (false, Net::Deploy(_)) => {
            return Err(Error::InvalidInput(format!(
                "the checkpoint is already fused (deploy form): it has no lambda, so it cannot run at lambda {lambda}"
            )));
        }
    };
    let (shape, data) = to_host(logits)?;
    let mut out = StateDict::default();
    out.insert("logits", shape, data);
    write_file(&output, &out.to_safetensors()?)
}

/// The tensor `input` of a safetensors file, checked against the net it is fed to.
fn read_input(path: &Path, config: &VanillaNetConfig, device: &Device) -> Result<Tensor<4>> {
    let bytes = read_bounded(path, MAX_CASE_BYTES, "logits' input")
        .map_err(|e| Error::InvalidInput(format!("{}: {e}", path.display())))?;
    let sd =
        StateDict::from_safetensors(&bytes).map_err(|e| Error::InvalidInput(format!("{}: {e}", path.display())))?;
    let t = sd
        .get("input")
        .ok_or_else(|| Error::InvalidInput(format!("{} has no tensor named 'input'", path.display())))?;
    let &[n, c, h, w] = t.shape.as_slice() else {
        return Err(Error::InvalidInput(format!("'input' must be NCHW (4 dims), got shape {:?}", t.shape)));
    };
    if c != config.in_chans {
        return Err(Error::InvalidInput(format!("'input' has {c} channels, the model takes {}", config.in_chans)));
    }
    if n == 0 {
        return Err(Error::InvalidInput("'input' has batch size 0".into()));
    }
    if !LOGITS_BATCH.contains(n as u64) || h.max(w) > INPUT_SIDE.most() {
        return Err(Error::InvalidInput(format!(
            "'input' is {n} images of {h}x{w}: at most {} images, each side at most {}",
            LOGITS_BATCH.max, INPUT_SIDE.max
        )));
    }
    // The net's maps too, as a benchmark case's.
    check_case(config, h, w, n)?;
    Ok(Tensor::from_data(TensorData::new(t.data.clone(), [n, c, h, w]), device))
}

fn to_host(t: Tensor<2>) -> Result<(Vec<usize>, Vec<f32>)> {
    let dims = t.dims().to_vec();
    let data = t.into_data().convert::<f32>().try_into_vec::<f32>().map_err(|e| Error::Readback(format!("{e:?}")))?;
    Ok((dims, data))
}
