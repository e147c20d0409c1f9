//! One image through both forms: a fused classifier of a run against the net it was fused
//! from, on the same preprocessed input, with their top classes and times side by side.

use burn::tensor::activation::softmax;

use crate::classify::{Classification, Classifier};
use crate::error::Result;
use crate::readback::read_vec;
use crate::train::trained_net::TrainedNet;

/// Classifies an image file with `fused` and with `net`, the net it was fused from (the
/// weights its card names), both on the same preprocessed input; the `k` top classes of each.
pub async fn compare(net: &TrainedNet<'_>, fused: &Classifier, bytes: &[u8], k: usize) -> Result<Classification> {
    let x = fused.input(bytes, &net.device)?;
    let (probs, ms) = fused.probabilities(x.clone()).await?;
    let start = web_time::Instant::now();
    let unfused = read_vec(softmax(net.net.forward(x, net.lambda), 1).flatten::<1>(0, 1)).await?;
    let ms_unfused = start.elapsed().as_secs_f64() * 1e3;
    Ok(Classification {
        top: fused.top(&probs, k),
        ms,
        top_unfused: Some(fused.top(&unfused, k)),
        ms_unfused: Some(ms_unfused),
    })
}
