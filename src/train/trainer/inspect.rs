//! What is read off the net in training, each in one awaited read: accuracy and the whole
//! test-set evaluation, the trained net against its fused form (one loop over the test images
//! for all three), the decay of the leaky activations, feature maps, the fusion drawn, an
//! activation's response.

use burn::module::Module;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::{Trainer, correct};
use crate::classify::{Classification, Classifier};
use crate::error::{Error, Result};
use crate::io::names::{NamedTensor, named_tensors};
use crate::model::{Form, VanillaNet, Weights};
use crate::readback::{argmax, read_f32, read_vec};
use crate::train::evaluation::{Evaluated, Evaluation};
use crate::train::inside::{
    DEFAULT_TILES, DecayHistory, DecayPoint, FeatureMaps, FusionView, MAX_EVERY, PROBE_IMAGES, check_tiles,
    fusion_view, probe_decay, trained_or_fused_maps,
};

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

/// The image whose feature maps are looked at: a test image by index, or an image file
/// (preprocessed as the training images are).
pub enum ProbeImage<'a> {
    Test(usize),
    File(&'a [u8]),
}

/// Test images per batch when the net goes over the test set.
const TEST_BATCH: usize = 256;

/// The first `n` test images' indices, in batches of [`TEST_BATCH`].
fn test_batches(n: usize) -> Vec<Vec<usize>> {
    (0..n).collect::<Vec<_>>().chunks(TEST_BATCH).map(<[usize]>::to_vec).collect()
}

impl Trainer {
    /// The fixed batch the decay is measured on: the first [`PROBE_IMAGES`] test images (the
    /// first training images when there are no test images).
    pub(super) fn probe_batch(&self, device: &Device) -> Tensor<4> {
        let split = if self.data.test.is_empty() { &self.data.train } else { &self.data.test };
        let indices: Vec<usize> = (0..split.len().min(PROBE_IMAGES)).collect();
        self.data.batch(split, &indices, device).0
    }

    /// The leaky activations' decay probed so far: per activation (stem, blocks, head) the
    /// share of negative inputs and the distance from linear, one value per probe.
    pub fn decay(&self) -> &DecayHistory {
        &self.inside
    }

    /// Probes the decay every `every` steps from now on (0: not at all); at most
    /// [`MAX_EVERY`].
    pub fn set_probe_every(&mut self, every: usize) -> Result<()> {
        if every > MAX_EVERY {
            return Err(Error::InvalidInput(format!("probe interval {every}: at most {MAX_EVERY} steps")));
        }
        self.inside.every = every;
        Ok(())
    }

    /// The decay now, at the next step's lambda, without recording it (None without deep
    /// training).
    pub async fn decay_now(&self) -> Result<Option<DecayPoint>> {
        let device = self.device.clone().inner();
        probe_decay(&self.model().valid(), self.probe_batch(&device), self.lambda(), self.global_step).await
    }

    /// One image as the net's input `[1, C, H, W]`.
    fn probe_image(&self, image: ProbeImage, device: &Device) -> Result<Tensor<4>> {
        let d = &self.data;
        match image {
            ProbeImage::Test(index) => {
                if index >= d.test.len() {
                    return Err(Error::InvalidInput(format!(
                        "there is no test image {index}: the test set has {}",
                        d.test.len()
                    )));
                }
                Ok(d.batch(&d.test, &[index], device).0)
            }
            ProbeImage::File(bytes) => {
                let values = d.preprocess().input(bytes)?;
                Ok(Tensor::from_data(TensorData::new(values, [1, d.channels, d.height, d.width]), device))
            }
        }
    }

    /// The feature maps after part `block` (0 the stem) for one image: the `tiles` most active
    /// channels of the net (its default weights: the moving average when there is one, as Fuse
    /// and the exports take; eval mode, at the next step's lambda), or of `fused` (this net's
    /// fused form) with their largest difference to the weights it was fused from.
    pub async fn feature_maps(
        &self,
        image: ProbeImage<'_>,
        block: usize,
        tiles: Option<usize>,
        fused: Option<&Classifier>,
    ) -> Result<FeatureMaps> {
        let tiles = check_tiles(tiles.unwrap_or(DEFAULT_TILES))?;
        let device = self.device.clone().inner();
        let x = self.probe_image(image, &device)?;
        let model = self.net(fused.and_then(|c| c.card.weights).unwrap_or(self.default_weights()))?;
        trained_or_fused_maps(&model, fused.map(|c| &c.model), x, self.lambda(), block, tiles).await
    }

    /// The fusion of part `part` (0 the stem, 1..=blocks a block, blocks + 1 the head) drawn,
    /// for the default weights (what Fuse takes): the convs with their BNs folded, their
    /// product, the activation's kernel, the counts.
    pub async fn fusion(&self, part: usize) -> Result<FusionView> {
        let model = self.net(self.default_weights())?;
        let parts = model.fusion_parts(part)?;
        let sizes = self.config.feature_sizes(self.data.height, self.data.width)?;
        fusion_view(parts, part, &sizes, self.lambda(), model.uses_lambda()).await
    }

    /// Accuracy on up to `limit` test images (all when `None`), in eval mode (running BN
    /// statistics) at the current lambda. `None` when there is no test image.
    pub async fn evaluate(&self, limit: Option<usize>) -> Result<Option<f32>> {
        self.accuracy_of(&self.model().valid(), limit).await
    }

    /// As [`Self::evaluate`], for the moving average of the weights (None without one).
    pub async fn evaluate_ema(&self, limit: Option<usize>) -> Result<Option<f32>> {
        match self.ema() {
            Some(net) => self.accuracy_of(net, limit).await,
            None => Ok(None),
        }
    }

    async fn accuracy_of(&self, model: &VanillaNet, limit: Option<usize>) -> Result<Option<f32>> {
        let n = limit.map_or(self.data.test.len(), |l| l.min(self.data.test.len()));
        if n == 0 {
            return Ok(None);
        }
        let device = self.device.clone().inner();
        let lambda = self.lambda();
        let mut correct_total = 0.0;
        for chunk in test_batches(n) {
            let (x, y) = self.data.batch(&self.data.test, &chunk, &device);
            correct_total += read_f32(correct(model.forward(x, lambda), y)).await?;
        }
        Ok(Some(correct_total / n as f32))
    }

    /// The trained net (or, given, its fused form) on the whole test set: accuracy per class,
    /// the confusion matrix, the most confident mistakes.
    pub async fn evaluation(&self, fused: Option<&Classifier>) -> Result<Evaluation> {
        self.evaluation_of(Weights::Trained, fused).await
    }

    /// The moving average of the weights on the whole test set (see [`Self::evaluation`]).
    pub async fn evaluation_ema(&self) -> Result<Evaluation> {
        self.evaluation_of(Weights::Ema, None).await
    }

    async fn evaluation_of(&self, weights: Weights, fused: Option<&Classifier>) -> Result<Evaluation> {
        let test = &self.data.test;
        let model = self.net(weights)?;
        let device = self.device.clone().inner();
        let lambda = self.lambda();
        let mut probabilities = Vec::with_capacity(test.len() * self.data.classes.len());
        for chunk in test_batches(test.len()) {
            let (x, _) = self.data.batch(test, &chunk, &device);
            let logits = match fused {
                Some(f) => f.model.forward(x),
                None => model.forward(x, lambda),
            };
            probabilities.extend(read_vec(softmax(logits, 1).flatten::<1>(0, 1)).await?);
        }
        let evaluated = match (fused, weights) {
            (Some(_), _) => Evaluated::Fused,
            (None, Weights::Trained) => Evaluated::Trained,
            (None, Weights::Ema) => Evaluated::Ema,
        };
        let classes = self.data.classes.clone();
        Evaluation::from_probabilities(evaluated, self.global_step, classes, &test.labels, &probabilities)
    }

    /// The learned series activation of stem (`layer` 0) or block `layer - 1`, channel
    /// `channel`: its output for a uniform input of each value in `inputs` (away from the
    /// borders), and its depthwise kernel. Eval mode (running statistics).
    pub async fn activation_response(
        &self,
        layer: usize,
        channel: usize,
        inputs: &[f32],
    ) -> Result<(Vec<f32>, Vec<f32>)> {
        let model = self.model().valid();
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
        let dims = self.config.dims[layer];
        let k = self.config.act_kernel();
        if channel >= dims {
            return Err(Error::InvalidInput(format!("layer {layer} has {dims} channels, not {}", channel + 1)));
        }
        let device = self.device.clone().inner();
        // A map 2k wide: the centre sees the whole kernel inside the padding.
        let size = 2 * k + 1;
        let mut values = Vec::with_capacity(inputs.len() * dims * size * size);
        for &v in inputs {
            values.extend(std::iter::repeat_n(v, dims * size * size));
        }
        let x = Tensor::<4>::from_data(TensorData::new(values, [inputs.len(), dims, size, size]), &device);
        let centre =
            act.forward(x).narrow(1, channel, 1).narrow(2, size / 2, 1).narrow(3, size / 2, 1).flatten::<1>(0, 3);
        // act_num 0 has no kernel: the response is the plain ReLU.
        let kernel = match &act.weight {
            Some(w) => read_vec(w.val().inner().narrow(0, channel, 1).flatten::<1>(0, 3)).await?,
            None => Vec::new(),
        };
        Ok((read_vec(centre).await?, kernel))
    }

    /// Why the net cannot be fused now, or none when it can: its convs merge only once the
    /// activation between them is the identity (lambda 1).
    pub fn cannot_fuse(&self) -> Option<String> {
        let lambda = self.lambda();
        (self.model().uses_lambda() && lambda != 1.0).then(|| Error::FuseLambda { lambda }.to_string())
    }

    /// Fuses the net's default weights (the moving average when there is one) and compares
    /// both forms on up to `limit` test images; only at lambda 1.
    pub async fn fuse(&self, limit: usize) -> Result<(Classifier, FuseReport)> {
        self.fuse_weights(self.default_weights(), limit).await
    }

    /// Fuses `weights` (see [`Self::fuse`]); the classifier's card says which they were.
    pub async fn fuse_weights(&self, weights: Weights, limit: usize) -> Result<(Classifier, FuseReport)> {
        let lambda = self.lambda();
        let model = self.net(weights)?;
        let fused = model.fuse(lambda)?;
        let device = self.device.clone().inner();
        let n = limit.min(self.data.test.len());
        let (mut max_diff, mut correct, mut correct_deploy, mut ms, mut ms_deploy) = (0f32, 0usize, 0usize, 0.0, 0.0);
        for chunk in test_batches(n) {
            let (x, _) = self.data.batch(&self.data.test, &chunk, &device);
            let start = web_time::Instant::now();
            let a = read_vec(model.forward(x.clone(), lambda).flatten::<1>(0, 1)).await?;
            ms += start.elapsed().as_secs_f64() * 1e3;
            let start = web_time::Instant::now();
            let b = read_vec(fused.forward(x).flatten::<1>(0, 1)).await?;
            ms_deploy += start.elapsed().as_secs_f64() * 1e3;
            let classes = self.data.classes.len();
            for (j, &i) in chunk.iter().enumerate() {
                let (ra, rb) = (&a[j * classes..(j + 1) * classes], &b[j * classes..(j + 1) * classes]);
                max_diff = ra.iter().zip(rb).map(|(x, y)| (x - y).abs()).fold(max_diff, nan_max);
                let label = self.data.test.labels[i] as usize;
                correct += (argmax(ra) == label) as usize;
                correct_deploy += (argmax(rb) == label) as usize;
            }
        }
        let c = &self.config;
        let (h, w) = (self.data.height, self.data.width);
        let tensors = named_tensors(self.model(), true);
        let kernels =
            |t: &[(String, NamedTensor)]| t.iter().filter(|(_, t)| matches!(t, NamedTensor::Kernel(_))).count();
        let accuracy = |k: usize| (n > 0).then(|| k as f32 / n as f32);
        let report = FuseReport {
            weights,
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
        let card = self.card(Form::Deploy, weights);
        Ok((Classifier { card, model: fused }, report))
    }

    /// Classifies an image file with `fused` (this net's fused form) and with the net it was
    /// fused from (the trained weights or their average, as its card says), both on the same
    /// preprocessed input.
    pub async fn compare(&self, fused: &Classifier, bytes: &[u8], k: usize) -> Result<Classification> {
        let x = fused.input(bytes, &self.device.clone().inner())?;
        let (probs, ms) = fused.probabilities(x.clone()).await?;
        let model = self.net(fused.card.weights.unwrap_or(Weights::Trained))?;
        let start = web_time::Instant::now();
        let unfused = read_vec(softmax(model.forward(x, self.lambda()), 1).flatten::<1>(0, 1)).await?;
        let ms_unfused = start.elapsed().as_secs_f64() * 1e3;
        Ok(Classification {
            top: fused.top(&probs, k),
            ms,
            top_unfused: Some(fused.top(&unfused, k)),
            ms_unfused: Some(ms_unfused),
        })
    }
}

/// The larger of two, NaN when either is (`f32::max` would skip a NaN and report 0 for a net
/// whose outputs are all NaN).
fn nan_max(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() { f32::NAN } else { a.max(b) }
}

#[cfg(test)]
mod tests {
    use super::{nan_max, test_batches};

    #[test]
    fn nan_wins_the_maximum() {
        assert!(nan_max(0.5, f32::NAN).is_nan() && nan_max(f32::NAN, 0.5).is_nan());
        assert_eq!(nan_max(0.5, 2.0), 2.0);
        assert!([0.1, f32::NAN, 0.3].into_iter().fold(0.0, nan_max).is_nan(), "f32::max would say 0.3");
    }

    #[test]
    fn test_batches_cover_every_image_once() {
        let batches = test_batches(600);
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), vec![256, 256, 88]);
        assert_eq!(batches.concat(), (0..600).collect::<Vec<_>>());
        assert!(test_batches(0).is_empty());
    }
}
