//! Inference latency and training throughput, measured the same way natively (`vanillanet
//! bench`) and in the browser: every timed run includes reading the output back to the host,
//! the first (cold) run is reported on its own, then warm-up, then the timed runs.

use burn::tensor::{Device, Distribution, Tensor};
use serde::Serialize;
use web_time::Instant;

use crate::classify::Classifier;
use crate::data::dataset::{Dataset, Split};
use crate::data::preprocess::MAX_INPUT_SIDE;
use crate::error::{Error, Result};
use crate::model::VanillaNetDeploy;
use crate::model::config::VanillaNetConfig;
use crate::model::inside::block_names;
use crate::model::presets::named_model;
use crate::readback::read_vec;
use crate::train::options::TrainOptions;
use crate::train::trainer::Trainer;

/// The most a benchmark may be asked for, on the command line and in the page alike (the
/// page reads them from the session's `Limits`): an input side, images in a batch, and
/// timed runs (also warm-up runs and training steps). A case stays a few GB at most, so a
/// mistyped size is refused rather than aborting the process on a failed allocation.
pub const MAX_SIZE: usize = MAX_INPUT_SIDE;
pub const MAX_BATCH: usize = 256;
pub const MAX_RUNS: usize = 1000;
/// Cases one benchmark times (models x batches).
pub const MAX_CASES: usize = 32;
/// What a case's forward may hold (see [`forward_bytes`]). Each bound above alone allows
/// vanillanet_13 at 1024x1024 in batches of 256, above 100 GB.
pub const MAX_CASE_BYTES: u64 = 2 << 30;
/// The random images a training benchmark makes (all its steps' batches and a test batch).
pub const MAX_TRAINING_BYTES: u64 = 512 << 20;

/// Refuses arguments past the limits above, naming the first one out of range.
pub fn check_limits(size: usize, batch: usize, runs: usize, warmup: usize) -> Result<()> {
    let bounds = [("size", size, 1, MAX_SIZE), ("batch", batch, 1, MAX_BATCH), ("runs", runs, 1, MAX_RUNS)];
    for (name, value, min, max) in bounds.into_iter().chain([("warmup", warmup, 0, MAX_RUNS)]) {
        if !(min..=max).contains(&value) {
            return Err(Error::InvalidInput(format!("{name} {value}: {min} to {max}")));
        }
    }
    Ok(())
}

/// Rough bytes a forward of `batch` images of `h`x`w` holds at once: the images, and about four
/// maps of every layer's output for each (a conv's, BN's, the activation's, the next input).
/// An overestimate: vanillanet_5 at 224 in a batch of 32 says 1.5 GB and peaks at 1.2 GB.
pub fn forward_bytes(config: &VanillaNetConfig, h: usize, w: usize, batch: usize) -> Result<u64> {
    let sizes = config.feature_sizes(h, w)?;
    let maps: u64 = config.dims.iter().zip(&sizes).map(|(&d, &(fh, fw))| d as u64 * fh as u64 * fw as u64).sum();
    let input = config.in_chans as u64 * h as u64 * w as u64;
    Ok(4 * batch as u64 * (4 * maps + input))
}

/// Refuses a case whose forward would hold more than [`MAX_CASE_BYTES`], before it is made.
pub fn check_case(config: &VanillaNetConfig, h: usize, w: usize, batch: usize) -> Result<()> {
    let bytes = forward_bytes(config, h, w, batch)?;
    if bytes > MAX_CASE_BYTES {
        return Err(Error::InvalidInput(format!(
            "{batch} images of {h}x{w}: a forward would hold about {} MB, at most {} MB: a smaller batch or size",
            bytes >> 20,
            MAX_CASE_BYTES >> 20
        )));
    }
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct Latency {
    pub model: String,
    pub size: usize,
    pub batch: usize,
    pub fused: bool,
    pub cold_ms: f64,
    pub median_ms: f64,
    pub p90_ms: f64,
    pub runs: usize,
}

/// The `q` quantile (nearest rank) of `ms`.
pub fn quantile(ms: &[f64], q: f64) -> f64 {
    let mut sorted = ms.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).copied().unwrap_or(f64::NAN)
}

/// The cold first run, then `warmup` untimed runs, then `runs` timed ones (ms each).
pub async fn time_runs<F, Fut, T>(runs: usize, warmup: usize, mut run: F) -> Result<(f64, Vec<f64>)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    // Instant is performance.now() in a browser: finer than Date.now()'s milliseconds.
    let start = Instant::now();
    run().await?;
    let cold_ms = ms_since(start);
    for _ in 0..warmup {
        run().await?;
    }
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        run().await?;
        times.push(ms_since(start));
    }
    Ok((cold_ms, times))
}

/// Latency of a classifier's fused net on `batch` random preprocessed inputs.
pub async fn classifier_latency(
    classifier: &Classifier,
    batch: usize,
    runs: usize,
    warmup: usize,
    device: &Device,
) -> Result<Latency> {
    let p = &classifier.card.preprocess;
    check_limits(p.height.max(p.width), batch, runs, warmup)?;
    check_case(&classifier.card.architecture, p.height, p.width, batch)?;
    let x = Tensor::<4>::random([batch, p.channels, p.height, p.width], Distribution::Normal(0.0, 1.0), device);
    let (cold_ms, times) = time_runs(runs, warmup, || classifier.logits(x.clone())).await?;
    Ok(Latency {
        model: classifier.card.name.clone(),
        size: p.height,
        batch,
        fused: true,
        cold_ms,
        median_ms: quantile(&times, 0.5),
        p90_ms: quantile(&times, 0.9),
        runs,
    })
}

fn ms_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}

/// What one latency measurement runs: a named architecture at `size`², `batch` images, in the
/// training form at lambda 1 or fused.
pub struct Case<'a> {
    pub name: &'a str,
    pub config: &'a VanillaNetConfig,
    pub size: usize,
    pub batch: usize,
    pub fused: bool,
}

/// `batch` random images of `size`² for `config`, once the size is known to fit its stem and
/// blocks and the case its bound.
fn random_images(config: &VanillaNetConfig, size: usize, batch: usize, device: &Device) -> Result<Tensor<4>> {
    check_case(config, size, size, batch)?;
    Ok(Tensor::<4>::random([batch, config.in_chans, size, size], Distribution::Normal(0.0, 1.0), device))
}

/// Latency of a case with random weights on random images.
pub async fn latency(case: Case<'_>, runs: usize, warmup: usize, device: &Device) -> Result<Latency> {
    let Case { name, config, size, batch, fused } = case;
    check_limits(size, batch, runs, warmup)?;
    let x = random_images(config, size, batch, device)?;
    let model = config.init(device);
    let deploy = if fused { Some(model.fuse(1.0)?) } else { None };
    let run = || {
        let logits = match &deploy {
            Some(m) => m.forward(x.clone()),
            None => model.forward(x.clone(), 1.0),
        };
        read_vec(logits.flatten::<1>(0, 1))
    };
    let (cold_ms, times) = time_runs(runs, warmup, run).await?;
    Ok(Latency {
        model: name.into(),
        size,
        batch,
        fused,
        cold_ms,
        median_ms: quantile(&times, 0.5),
        p90_ms: quantile(&times, 0.9),
        runs,
    })
}

/// One part of a forward (the stem, a block, the head) and its time in a [`Breakdown`].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct PartTime {
    pub name: String,
    /// Median ms of the forward cut after this part, its output summed and read back.
    pub through_ms: f64,
    /// This part's own share: `through_ms` less the part before's (the stem's: less the round trip).
    pub own_ms: f64,
}

/// Where a fused inference's time goes on a device.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct Breakdown {
    pub model: String,
    pub size: usize,
    pub batch: usize,
    pub runs: usize,
    /// Median ms of a round trip with next to no work: one value added to and read back, the
    /// fixed cost every inference pays to hand work to the device and get an answer.
    pub round_trip_ms: f64,
    /// Median ms the host takes to hand over the whole forward, before waiting for it.
    pub enqueue_ms: f64,
    /// Median ms of the whole forward with its logits read back (what `latency` times).
    pub total_ms: f64,
    pub parts: Vec<PartTime>,
}

/// The fused net's forward cut after `parts` parts (1: the stem alone; all of them: the
/// logits), summed to one value.
fn forward_through(model: &VanillaNetDeploy, x: Tensor<4>, parts: usize) -> Tensor<1> {
    let mut x = model.stem.forward(x);
    for block in model.stages.iter().take(parts.saturating_sub(1)) {
        x = block.forward(x);
    }
    if parts > model.stages.len() + 1 { model.head.forward(x).sum() } else { x.sum() }
}

/// Where the time of a fused inference goes (random weights and images): the round trip,
/// the host's hand-over, and each part's share from forwards cut after each part.
pub async fn breakdown(case: Case<'_>, runs: usize, warmup: usize, device: &Device) -> Result<Breakdown> {
    let Case { name, config, size, batch, .. } = case;
    check_limits(size, batch, runs, warmup)?;
    let x = random_images(config, size, batch, device)?;
    let model = config.init(device).fuse(1.0)?;
    let median = |times: Vec<f64>| quantile(&times, 0.5);
    let one = Tensor::<1>::from_floats([1.0], device);
    let round_trip_ms = median(time_runs(runs, warmup, || read_vec(one.clone() + 1.0)).await?.1);
    let mut names = block_names(model.stages.len());
    names.push("head".into());
    let mut parts: Vec<PartTime> = Vec::with_capacity(names.len());
    for (i, name) in names.into_iter().enumerate() {
        let through_ms =
            median(time_runs(runs, warmup, || read_vec(forward_through(&model, x.clone(), i + 1))).await?.1);
        let before = parts.last().map_or(round_trip_ms, |p| p.through_ms);
        parts.push(PartTime { name, through_ms, own_ms: through_ms - before });
    }
    let (mut enqueue, mut total) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for i in 0..warmup + runs {
        let start = Instant::now();
        let logits = model.forward(x.clone());
        let handed = ms_since(start);
        read_vec(logits.flatten::<1>(0, 1)).await?;
        if i >= warmup {
            enqueue.push(handed);
            total.push(ms_since(start));
        }
    }
    Ok(Breakdown {
        model: name.into(),
        size,
        batch,
        runs,
        round_trip_ms,
        enqueue_ms: median(enqueue),
        total_ms: median(total),
        parts,
    })
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct Throughput {
    pub preset: String,
    pub batch: usize,
    pub steps: usize,
    pub images_per_sec: f64,
}

/// Training images per second of the page's loop with `preset` on random images of the size and
/// channels the preset is made for (its entry in the named models), after one untimed step
/// (shader compilation, allocation).
pub async fn training(preset: &str, batch: usize, steps: usize, device: &Device) -> Result<Throughput> {
    let named = named_model(preset)?;
    let (channels, size) = ((named.config)().in_chans, named.input_size);
    check_limits(size, batch, steps, 0)?;
    let image = channels * size * size;
    let n = batch * (steps + 1);
    // Each step trains on images of its own, made before the timing starts: bounded together,
    // since each bound alone allows 256 x 1001 images of 3x224x224 (38 GB).
    let bytes = (n as u64 + batch as u64) * image as u64;
    if bytes > MAX_TRAINING_BYTES {
        return Err(Error::InvalidInput(format!(
            "the training benchmark's images would take {} MB ({n} of {channels}x{size}x{size} for batch {batch} \
             and {steps} steps); at most {} MB: fewer steps or a smaller batch",
            bytes >> 20,
            MAX_TRAINING_BYTES >> 20
        )));
    }
    let split = |n: usize| Split {
        pixels: (0..n * image).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect(),
        labels: (0..n).map(|i| (i % 10) as u8).collect(),
    };
    let classes = (0..10).map(|i| format!("class {i}")).collect();
    let data = Dataset::new("random", classes, [channels, size, size], split(n), split(batch))?;
    // The bare step, as the recorded runs and the PyTorch side by side measure it: no
    // augmentation or weight average (their cost is the recipe's, not the step's).
    let options =
        TrainOptions { preset: preset.into(), batch_size: batch, epochs: 1, decay_epochs: 1, ..Default::default() }
            .without_recipe();
    let mut trainer = Trainer::new(device, data, options)?;
    trainer.step().await?;
    let start = Instant::now();
    for _ in 0..steps {
        trainer.step().await?;
    }
    let secs = ms_since(start) / 1e3;
    Ok(Throughput { preset: preset.into(), batch, steps, images_per_sec: (steps * batch) as f64 / secs })
}

#[cfg(test)]
mod tests {
    use super::{MAX_CASE_BYTES, check_case, forward_bytes, quantile};
    use crate::model::presets::named_model;

    #[test]
    fn a_case_is_bounded_in_all_and_the_recorded_ones_fit() {
        let config = |name: &str| (named_model(name).unwrap().config)();
        let v5 = forward_bytes(&config("vanillanet_5"), 224, 224, 32).unwrap();
        assert!(v5 <= MAX_CASE_BYTES, "{v5}");
        let err = check_case(&config("vanillanet_13"), 1024, 1024, 256).unwrap_err().to_string();
        assert!(err.contains("at most 2048 MB"), "{err}");
    }

    #[test]
    fn nearest_rank_quantiles() {
        let ms = [5.0, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(quantile(&ms, 0.5), 3.0);
        assert_eq!(quantile(&ms, 0.9), 5.0);
        assert_eq!(quantile(&ms, 0.0), 1.0);
        assert!(quantile(&[], 0.5).is_nan());
    }
}
