//! A learned series activation's response: its output for uniform inputs of given values,
//! and its depthwise kernel; the page's chart of what one channel's activation has become.

use burn::tensor::{Tensor, TensorData};

use crate::error::{Error, Result};
use crate::readback::read_vec;
use crate::train::trained_net::TrainedNet;

/// The series activation of stem (`layer` 0) or block `layer - 1` of `net`, channel
/// `channel`: its output for a uniform input of each value in `inputs` (away from the
/// borders), and its depthwise kernel (empty without one). Eval mode (running statistics).
pub async fn activation_response(
    net: &TrainedNet<'_>,
    layer: usize,
    channel: usize,
    inputs: &[f32],
) -> Result<(Vec<f32>, Vec<f32>)> {
    let model = &net.net;
    let act = match layer {
        0 => &model.stem.act,
        l if l <= model.stages.len() => &model.stages[l - 1].act,
        _ => {
            return Err(Error::InvalidInput(format!(
                "layer {layer} does not exist (0 = stem, 1..={} blocks)",
                model.stages.len()
            )));
        }
    };
    let dims = net.config.dims[layer];
    let k = net.config.act_kernel();
    if channel >= dims {
        // Not `channel + 1` channels: the page's usize::MAX would overflow saying it.
        return Err(Error::InvalidInput(format!("no channel {channel}: layer {layer} has {dims} (0 to {})", dims - 1)));
    }
    // A map 2k wide: the centre sees the whole kernel inside the padding.
    let size = 2 * k + 1;
    let mut values = Vec::with_capacity(inputs.len() * dims * size * size);
    for &v in inputs {
        values.extend(std::iter::repeat_n(v, dims * size * size));
    }
    let x = Tensor::<4>::from_data(TensorData::new(values, [inputs.len(), dims, size, size]), &net.device);
    let centre = act.forward(x).narrow(1, channel, 1).narrow(2, size / 2, 1).narrow(3, size / 2, 1).flatten::<1>(0, 3);
    // act_num 0 has no kernel: the response is the plain ReLU.
    let kernel = match &act.weight {
        Some(w) => read_vec(w.val().inner().narrow(0, channel, 1).flatten::<1>(0, 3)).await?,
        None => Vec::new(),
    };
    Ok((read_vec(centre).await?, kernel))
}
