//! Fusing a trained net and reporting on it: the trained net (or the moving average of its
//! weights) against its fused deploy form on the same test images, in one loop over them for
//! the logits, both accuracies and both timings; and the counts of both forms.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::io::names::{NamedTensor, named_tensors};
use crate::model::{VanillaNetDeploy, Weights};
use crate::readback::{argmax, read_vec};
use crate::train::evaluation::test_batches;
use crate::train::trained_net::TrainedNet;

/// The trained net (or the moving average of its weights) against its fused deploy form, on
/// the same test images.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct FuseReport {
    /// Which weights were fused.
    pub weights: Weights,
    pub params: usize,
    pub params_deploy: usize,
    pub convs: usize,
    pub convs_deploy: usize,
    pub batch_norms: usize,
    pub macs: u64,
    pub macs_deploy: u64,
    /// Test images compared (all of them, up to the limit).
    pub images: usize,
    pub max_logit_diff: f32,
    pub accuracy: Option<f32>,
    pub accuracy_deploy: Option<f32>,
    /// Milliseconds for those images through each form, readback included.
    pub ms: f64,
    pub ms_deploy: f64,
}

/// Fuses `net` (only at lambda 1 when it trains deep) and compares both forms on up to
/// `limit` test images.
pub async fn fuse_and_report(net: &TrainedNet<'_>, limit: usize) -> Result<(VanillaNetDeploy, FuseReport)> {
    let (model, lambda, data) = (&net.net, net.lambda, net.data);
    let fused = model.fuse(lambda)?;
    let n = limit.min(data.test.len());
    let (mut max_diff, mut correct, mut correct_deploy, mut ms, mut ms_deploy) = (0f32, 0usize, 0usize, 0.0, 0.0);
    for chunk in test_batches(n) {
        let (x, _) = data.batch(&data.test, &chunk, &net.device);
        let start = web_time::Instant::now();
        let a = read_vec(model.forward(x.clone(), lambda).flatten::<1>(0, 1)).await?;
        ms += start.elapsed().as_secs_f64() * 1e3;
        let start = web_time::Instant::now();
        let b = read_vec(fused.forward(x).flatten::<1>(0, 1)).await?;
        ms_deploy += start.elapsed().as_secs_f64() * 1e3;
        let classes = data.classes.len();
        for (j, &i) in chunk.iter().enumerate() {
            let (ra, rb) = (&a[j * classes..(j + 1) * classes], &b[j * classes..(j + 1) * classes]);
            max_diff = ra.iter().zip(rb).map(|(x, y)| (x - y).abs()).fold(max_diff, nan_max);
            let label = data.test.labels[i] as usize;
            correct += (argmax(ra) == label) as usize;
            correct_deploy += (argmax(rb) == label) as usize;
        }
    }
    let c = net.config;
    let (h, w) = (data.height, data.width);
    let tensors = named_tensors(model, true);
    let kernels = |t: &[(String, NamedTensor)]| t.iter().filter(|(_, t)| matches!(t, NamedTensor::Kernel(_))).count();
    let accuracy = |k: usize| (n > 0).then(|| k as f32 / n as f32);
    let report = FuseReport {
        weights: net.weights,
        params: c.params_train(),
        params_deploy: c.params_deploy(),
        convs: kernels(&tensors),
        convs_deploy: kernels(&named_tensors(&fused, false)),
        batch_norms: tensors.iter().filter(|(k, _)| k.ends_with("running_mean")).count(),
        macs: c.macs(h, w, false)?,
        macs_deploy: c.macs(h, w, true)?,
        images: n,
        max_logit_diff: max_diff,
        accuracy: accuracy(correct),
        accuracy_deploy: accuracy(correct_deploy),
        ms,
        ms_deploy,
    };
    Ok((fused, report))
}

/// The larger of two, NaN when either is (`f32::max` would skip a NaN and report 0 for a net
/// whose outputs are all NaN).
fn nan_max(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() { f32::NAN } else { a.max(b) }
}

#[cfg(test)]
mod tests {
    use super::nan_max;

    #[test]
    fn nan_wins_the_maximum() {
        assert!(nan_max(0.5, f32::NAN).is_nan() && nan_max(f32::NAN, 0.5).is_nan());
        assert_eq!(nan_max(0.5, 2.0), 2.0);
        assert!([0.1, f32::NAN, 0.3].into_iter().fold(0.0, nan_max).is_nan(), "f32::max would say 0.3");
    }
}
