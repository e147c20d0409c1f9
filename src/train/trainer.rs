//! The one training loop the page drives (and tests run natively): deep training with lambda
//! following its schedule, one optimizer step per call, every read from the device awaited.

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::classify::{Classification, Classifier};
use crate::data::dataset::Dataset;
use crate::error::{Error, Result};
use crate::io::card::{Form, ModelCard};
use crate::io::names::{NamedTensor, check_shapes, load_state, named_tensors, state_dict_async};
use crate::io::state_dict::StateDict;
use crate::model::VanillaNet;
use crate::model::config::VanillaNetConfig;
use crate::readback::{argmax, read_f32, read_vec};
use crate::train::evaluation::Evaluation;
use crate::train::inside::{
    DEFAULT_TILES, DecayHistory, DecayPoint, FeatureMaps, FusionView, MAX_EVERY, PROBE_IMAGES, check_tiles,
    fusion_view, probe_decay, trained_or_fused_maps,
};
use crate::train::options::TrainOptions;

/// What one optimizer step did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepReport {
    /// Epoch and step within it of this step (0-based).
    pub epoch: usize,
    pub step: usize,
    /// Steps done so far, this one included.
    pub global_step: usize,
    pub steps_per_epoch: usize,
    pub lambda: f64,
    pub loss: f32,
    pub batch_accuracy: f32,
    pub batch_size: usize,
    /// This step ended an epoch.
    pub epoch_end: bool,
    /// Said once, when the loss stays far above where it started.
    pub warning: Option<String>,
    /// The decay of the leaky activations, when this step probed it (see [`Trainer::decay`]).
    #[serde(default)]
    pub inside: Option<DecayPoint>,
}

/// The image whose feature maps are looked at: a test image by index, or an image file
/// (preprocessed as the training images are).
pub enum ProbeImage<'a> {
    Test(usize),
    File(&'a [u8]),
}

pub struct Trainer {
    device: Device,
    data: Dataset,
    options: TrainOptions,
    config: VanillaNetConfig,
    model: Option<VanillaNet>,
    optim: ModuleOptimizer,
    order: Vec<usize>,
    rng: u64,
    /// `rng` before this epoch's shuffle: enough to rebuild the order after a reload.
    epoch_rng: u64,
    epoch: usize,
    step: usize,
    global_step: usize,
    /// What a diverging run goes back to: the last weights and BN statistics read back and
    /// found finite (every `CHECK_EVERY` steps and at epoch ends; a copy on the host, since BN
    /// statistics are shared between clones of a module), with the steps done then.
    checked_good: Option<(StateDict, usize)>,
    loss_watch: LossWatch,
    /// The leaky activations' decay, probed every few steps on a fixed batch.
    inside: DecayHistory,
}

/// Watches the loss for a run that is not learning: the mean of the first steps, a moving
/// average since, and whether the user was told.
#[derive(Clone, Debug, Default)]
struct LossWatch {
    start: Vec<f32>,
    average: Option<f32>,
    warned: bool,
}

impl LossWatch {
    const START_STEPS: usize = 10;
    const AFTER_STEPS: usize = 60;

    /// A warning, once, when the loss still averages well above its start.
    fn see(&mut self, loss: f32, steps: usize, learning_rate: f64) -> Option<String> {
        if self.start.len() < Self::START_STEPS {
            self.start.push(loss);
        }
        let average = self.average.map_or(loss, |a| 0.95 * a + 0.05 * loss);
        self.average = Some(average);
        let start = self.start.iter().sum::<f32>() / self.start.len() as f32;
        if self.warned || steps < Self::AFTER_STEPS || average < 1.5 * start {
            return None;
        }
        self.warned = true;
        Some(format!(
            "after {steps} steps the loss ({average:.3}) is still far above where it started ({start:.3}): the learning rate ({learning_rate}) is probably too high; pause and lower it"
        ))
    }
}

/// splitmix64: the shuffling needs a seeded, portable stream, nothing more.
fn next_random(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The trained net against its fused deploy form, on the same test images.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FuseReport {
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

/// Where training stands, saved with the weights so a reload continues the same run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Position {
    pub options: TrainOptions,
    pub dataset: String,
    pub train_images: usize,
    pub classes: Vec<String>,
    pub epoch: usize,
    pub step: usize,
    pub global_step: usize,
    /// Hex: JSON numbers lose u64 digits in JavaScript.
    pub epoch_rng: String,
    /// The decay probed so far (absent in snapshots made before it was recorded).
    #[serde(default)]
    pub inside: Option<DecayHistory>,
}

const POSITION_KEY: &str = "vanillanet_trainer";
/// Steps between reading the weights back to check they are finite (a restore point).
const CHECK_EVERY: usize = 50;

impl Trainer {
    /// A fresh model for `data` on `device` (an autodiff device is made from it).
    pub fn new(device: &Device, data: Dataset, options: TrainOptions) -> Result<Self> {
        let config = options.model_config(&data)?;
        let device = device.clone().autodiff();
        device.seed(options.seed);
        let model = config.init(&device);
        let mut trainer = Self {
            device,
            optim: options.optimizer(),
            rng: options.seed,
            epoch_rng: options.seed,
            data,
            options,
            config,
            model: Some(model),
            order: Vec::new(),
            epoch: 0,
            step: 0,
            global_step: 0,
            checked_good: None,
            loss_watch: LossWatch::default(),
            inside: DecayHistory::default(),
        };
        trainer.shuffle();
        Ok(trainer)
    }

    fn shuffle(&mut self) {
        self.epoch_rng = self.rng;
        self.order = (0..self.data.train.len()).collect();
        for i in (1..self.order.len()).rev() {
            let j = (next_random(&mut self.rng) % (i as u64 + 1)) as usize;
            self.order.swap(i, j);
        }
    }

    pub fn steps_per_epoch(&self) -> usize {
        self.data.train.len().div_ceil(self.options.batch_size)
    }

    pub fn total_steps(&self) -> usize {
        self.steps_per_epoch() * self.options.epochs
    }

    /// Lambda of the next step.
    pub fn lambda(&self) -> f64 {
        self.options.lambda_schedule().at(self.epoch, self.step, self.steps_per_epoch())
    }

    pub fn finished(&self) -> bool {
        self.epoch >= self.options.epochs
    }

    pub fn epoch(&self) -> usize {
        self.epoch
    }

    pub fn global_step(&self) -> usize {
        self.global_step
    }

    pub fn options(&self) -> &TrainOptions {
        &self.options
    }

    pub fn config(&self) -> &VanillaNetConfig {
        &self.config
    }

    pub fn data(&self) -> &Dataset {
        &self.data
    }

    pub fn model(&self) -> &VanillaNet {
        self.model.as_ref().expect("the model is only out during a step")
    }

    /// Changes the options mid-training. The weights and the position in training stay; the
    /// learning rate, schedule, epochs and batch size apply from the next step, a new optimizer
    /// kind starts with fresh state. Options that change the architecture need a reset.
    pub fn set_options(&mut self, options: TrainOptions) -> Result<()> {
        if options.model_config(&self.data)? != self.config {
            return Err(Error::InvalidConfig(
                "the preset, act_num, deep training or shortcut changed: reset to train a new model".into(),
            ));
        }
        let new_optimizer = options.optimizer != self.options.optimizer
            || options.weight_decay != self.options.weight_decay
            || options.momentum != self.options.momentum;
        if options.batch_size != self.options.batch_size {
            // Keep the position as a fraction of the epoch.
            let done = self.step * self.options.batch_size;
            self.step = done / options.batch_size;
        }
        self.options = options;
        if new_optimizer {
            self.optim = self.options.optimizer();
        }
        Ok(())
    }

    /// One optimizer step on the next batch, at the scheduled lambda.
    pub async fn step(&mut self) -> Result<StepReport> {
        if self.finished() {
            return Err(Error::InvalidInput(format!("training is finished ({} epochs)", self.options.epochs)));
        }
        let steps_per_epoch = self.steps_per_epoch();
        let lambda = self.lambda();
        let start = self.step * self.options.batch_size;
        let end = (start + self.options.batch_size).min(self.order.len());
        let (x, y) = self.data.batch(&self.data.train, &self.order[start..end], &self.device);
        if self.checked_good.is_none() {
            self.checked_good = Some((state_dict_async(self.model()).await?, self.global_step));
        }
        let model = self.model.take().expect("one step at a time");
        let logits = model.forward(x, lambda);
        let correct = correct(logits.clone(), y.clone());
        let loss = self.options.loss(&self.device).forward(logits, y);
        let loss_value = loss.clone().inner();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        self.model = Some(self.optim.step(self.options.learning_rate, model, grads));

        // Loss and correct answers in one read: a host round trip is the slow part of a step on
        // a GPU.
        let read = read_vec(Tensor::cat(vec![loss_value.reshape([1]), correct.reshape([1])], 0)).await?;
        let (loss, correct) = (read[0], read[1]);
        if !loss.is_finite() {
            // Back to the last weights known finite, with fresh optimizer moments.
            let (good, restored) = self.checked_good.as_ref().expect("taken before the first step");
            self.model = Some(load_state(self.config.init(&self.device), good, &self.device)?);
            self.optim = self.options.optimizer();
            return Err(Error::Diverged {
                step: self.global_step + 1,
                loss,
                restored: *restored,
                learning_rate: self.options.learning_rate,
            });
        }
        let warning = self.loss_watch.see(loss, self.global_step + 1, self.options.learning_rate);
        let report = StepReport {
            epoch: self.epoch,
            step: self.step,
            global_step: self.global_step + 1,
            steps_per_epoch,
            lambda,
            loss,
            batch_accuracy: correct / (end - start) as f32,
            batch_size: end - start,
            epoch_end: self.step + 1 >= steps_per_epoch,
            warning,
            inside: None,
        };
        self.global_step += 1;
        self.step += 1;
        if self.step >= steps_per_epoch {
            self.step = 0;
            self.epoch += 1;
            self.shuffle();
        }
        let mut report = report;
        if self.inside.due(report.global_step, report.epoch_end) {
            let device = self.device.clone().inner();
            let point =
                probe_decay(&self.model().valid(), self.probe_batch(&device), lambda, report.global_step).await?;
            if let Some(point) = point {
                self.inside.push(&point);
                report.inside = Some(point);
            }
        }
        if report.epoch_end || self.global_step % CHECK_EVERY == 0 {
            let sd = state_dict_async(self.model()).await?;
            if sd.all_finite() {
                self.checked_good = Some((sd, self.global_step));
            }
        }
        Ok(report)
    }

    /// The fixed batch the decay is measured on: the first [`PROBE_IMAGES`] test images (the
    /// first training images when there are no test images).
    fn probe_batch(&self, device: &Device) -> Tensor<4> {
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
    /// channels of the trained net (eval mode, at the next step's lambda), or of `fused` (this
    /// net's fused form) with their largest difference to the trained net's.
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
        let model = self.model().valid();
        trained_or_fused_maps(&model, fused.map(|c| &c.model), x, self.lambda(), block, tiles).await
    }

    /// The fusion of part `part` (0 the stem, 1..=blocks a block, blocks + 1 the head) drawn:
    /// the convs with their BNs folded, their product, the activation's kernel, the counts.
    pub async fn fusion(&self, part: usize) -> Result<FusionView> {
        let model = self.model().valid();
        let parts = model.fusion_parts(part)?;
        let sizes = self.config.feature_sizes(self.data.height, self.data.width)?;
        fusion_view(parts, part, &sizes, self.lambda(), model.uses_lambda()).await
    }

    /// Accuracy on up to `limit` test images (all when `None`), in eval mode (running BN
    /// statistics) at the current lambda. `None` when there is no test image.
    pub async fn evaluate(&self, limit: Option<usize>) -> Result<Option<f32>> {
        let n = limit.map_or(self.data.test.len(), |l| l.min(self.data.test.len()));
        if n == 0 {
            return Ok(None);
        }
        let model = self.model().valid();
        let device = self.device.clone().inner();
        let lambda = self.lambda();
        let mut correct_total = 0.0;
        let indices: Vec<usize> = (0..n).collect();
        for chunk in indices.chunks(256) {
            let (x, y) = self.data.batch(&self.data.test, chunk, &device);
            correct_total += read_f32(correct(model.forward(x, lambda), y)).await?;
        }
        Ok(Some(correct_total / n as f32))
    }

    /// The trained net (or, given, its fused form) on the whole test set: accuracy per class,
    /// the confusion matrix, the most confident mistakes.
    pub async fn evaluation(&self, fused: Option<&Classifier>) -> Result<Evaluation> {
        let test = &self.data.test;
        let indices: Vec<usize> = (0..test.len()).collect();
        let model = self.model().valid();
        let device = self.device.clone().inner();
        let lambda = self.lambda();
        let mut probabilities = Vec::with_capacity(test.len() * self.data.classes.len());
        for chunk in indices.chunks(256) {
            let (x, _) = self.data.batch(test, chunk, &device);
            let logits = match fused {
                Some(f) => f.model.forward(x),
                None => model.forward(x, lambda),
            };
            probabilities.extend(read_vec(softmax(logits, 1).flatten::<1>(0, 1)).await?);
        }
        let evaluated = if fused.is_some() { Form::Deploy } else { Form::Training };
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

    /// The same training, continued on another device: weights and BN statistics move with
    /// awaited reads, the position in training and the options stay; the optimizer starts
    /// with fresh moments. A failure leaves it where it was.
    pub async fn move_to(&mut self, device: &Device) -> Result<()> {
        let state = state_dict_async(self.model()).await?;
        let device = device.clone().autodiff();
        self.model = Some(load_state(self.config.init(&device), &state, &device)?);
        self.device = device;
        self.optim = self.options.optimizer();
        Ok(())
    }

    /// Why the net cannot be fused now, or none when it can: its convs merge only once the
    /// activation between them is the identity (lambda 1).
    pub fn cannot_fuse(&self) -> Option<String> {
        let lambda = self.lambda();
        (self.model().uses_lambda() && lambda != 1.0).then(|| Error::FuseLambda { lambda }.to_string())
    }

    /// Fuses the net (only at lambda 1) and compares both forms on up to `limit` test images.
    pub async fn fuse(&self, limit: usize) -> Result<(Classifier, FuseReport)> {
        let lambda = self.lambda();
        let fused = self.model().fuse(lambda)?;
        let model = self.model().valid();
        let device = self.device.clone().inner();
        let n = limit.min(self.data.test.len());
        let (mut max_diff, mut correct, mut correct_deploy, mut ms, mut ms_deploy) = (0f32, 0usize, 0usize, 0.0, 0.0);
        let indices: Vec<usize> = (0..n).collect();
        for chunk in indices.chunks(250) {
            let (x, _) = self.data.batch(&self.data.test, chunk, &device);
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
        let card = self.card(Form::Deploy);
        Ok((Classifier { card, model: fused }, report))
    }

    /// Classifies an image file with `fused` (this net's fused form) and with the trained net,
    /// both on the same preprocessed input.
    pub async fn compare(&self, fused: &Classifier, bytes: &[u8], k: usize) -> Result<Classification> {
        let x = fused.input(bytes, &self.device.clone().inner())?;
        let (probs, ms) = fused.probabilities(x.clone()).await?;
        let model = self.model().valid();
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

    /// The card of this net in `form`: the data's classes and preprocessing.
    pub fn card(&self, form: Form) -> ModelCard {
        let d = &self.data;
        let name = format!("{} on {}", self.options.preset, d.name);
        ModelCard::new(name, self.config.clone(), d.classes.clone(), d.preprocess(), form)
    }

    /// The training form as the authors' code keeps it: official key names, every BatchNorm's
    /// step counter, and the card. It loads with `strict=True` into their `VanillaNet` to train
    /// on there, and comes back here as a checkpoint.
    pub async fn export_training(&self) -> Result<Vec<u8>> {
        let mut sd = state_dict_async(self.model()).await?;
        sd.add_batch_counts(self.global_step);
        self.card(Form::Training).attach(&mut sd)?;
        sd.to_safetensors()
    }

    /// The weights (training form, BN statistics included) and the position in training, as
    /// one safetensors file. The optimizer's moments are not kept.
    pub async fn snapshot(&self) -> Result<Vec<u8>> {
        let mut sd = state_dict_async(self.model()).await?;
        if !sd.all_finite() {
            return Err(Error::InvalidInput("not saved: the weights are not finite numbers".into()));
        }
        let position = Position {
            options: self.options.clone(),
            dataset: self.data.name.clone(),
            train_images: self.data.train.len(),
            classes: self.data.classes.clone(),
            epoch: self.epoch,
            step: self.step,
            global_step: self.global_step,
            epoch_rng: format!("{:x}", self.epoch_rng),
            inside: Some(self.inside.clone()),
        };
        sd.metadata.insert(
            POSITION_KEY.into(),
            serde_json::to_string(&position).map_err(|e| Error::encode("training snapshot", e))?,
        );
        sd.to_safetensors()
    }

    /// The run a [`Self::snapshot`] saved, continued on `device` with `data` (which must be the
    /// data it was trained on). The optimizer starts with fresh moments.
    pub fn restore(device: &Device, data: Dataset, bytes: Vec<u8>) -> Result<Self> {
        let sd = StateDict::from_bytes(bytes)?;
        let position: Position = sd
            .metadata
            .get(POSITION_KEY)
            .ok_or_else(|| Error::read("training snapshot", "no trainer position in it"))
            .and_then(|j| {
                serde_json::from_str(j)
                    .map_err(|e| Error::read("training snapshot", format!("unreadable trainer position: {e}")))
            })?;
        if position.train_images != data.train.len() || position.classes != data.classes {
            return Err(Error::InvalidInput(format!(
                "the snapshot was trained on {} ({} images, classes {:?}), not on this data",
                position.dataset, position.train_images, position.classes
            )));
        }
        let epoch_rng = u64::from_str_radix(&position.epoch_rng, 16)
            .map_err(|_| Error::read("training snapshot", format!("bad shuffle state '{}'", position.epoch_rng)))?;
        let mut trainer = Self::new(device, data, position.options)?;
        check_shapes(&trainer.config, &sd)?;
        let device = trainer.device.clone();
        trainer.model = Some(load_state(trainer.config.init(&device), &sd, &device)?);
        trainer.rng = epoch_rng;
        trainer.shuffle();
        if position.step > trainer.steps_per_epoch() {
            return Err(Error::read(
                "training snapshot",
                format!("step {} is past the end of its epoch", position.step),
            ));
        }
        trainer.epoch = position.epoch;
        trainer.step = position.step;
        trainer.global_step = position.global_step;
        // A saved history that does not add up is dropped, not trusted.
        if let Some(inside) = position.inside.filter(DecayHistory::is_consistent) {
            trainer.inside = inside;
        }
        Ok(trainer)
    }
}

/// How many of the batch the logits get right.
fn correct(logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
    let [n, _] = logits.dims();
    logits.argmax(1).reshape([n]).equal(labels).float().sum().inner()
}

/// The larger of two, NaN when either is (`f32::max` would skip a NaN and report 0 for a net
/// whose outputs are all NaN).
fn nan_max(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() { f32::NAN } else { a.max(b) }
}

#[cfg(test)]
mod tests {
    use super::{LossWatch, nan_max};

    #[test]
    fn a_loss_far_above_its_start_is_said_once() {
        let mut watch = LossWatch::default();
        let said: Vec<Option<String>> =
            (1..=200).map(|step| watch.see(if step <= 10 { 2.3 } else { 33.0 }, step, 10.0)).collect();
        let warnings: Vec<_> = said.iter().enumerate().filter_map(|(i, w)| w.as_ref().map(|w| (i + 1, w))).collect();
        assert_eq!(warnings.len(), 1, "once");
        assert_eq!(warnings[0].0, LossWatch::AFTER_STEPS, "not before {} steps", LossWatch::AFTER_STEPS);
        assert!(warnings[0].1.contains("learning rate (10) is probably too high"), "{}", warnings[0].1);
        let mut learning = LossWatch::default();
        assert!((1..=200).all(|step| learning.see(2.3 / step as f32, step, 0.002).is_none()));
    }

    #[test]
    fn nan_wins_the_maximum() {
        assert!(nan_max(0.5, f32::NAN).is_nan() && nan_max(f32::NAN, 0.5).is_nan());
        assert_eq!(nan_max(0.5, 2.0), 2.0);
        assert!([0.1, f32::NAN, 0.3].into_iter().fold(0.0, nan_max).is_nan(), "f32::max would say 0.3");
    }
}
