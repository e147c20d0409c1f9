//! A new head trained on cached features. Its form is the deploy head's own (`HeadDeploy`: one
//! 1x1 conv from `dims[-1]` to the new classes on the pooled features), so the body with it is an
//! ordinary `VanillaNetDeploy` that classifying, exporting and ONNX take as they are. The
//! training-form head (conv + BN, leaky activation, conv) would fuse into that same one conv: on
//! features that never change it adds nothing a linear layer cannot learn, and its BN and lambda
//! would need a schedule for a job that takes seconds.
//!
//! Features are standardised (each value by its training mean and deviation) before training,
//! since a body's feature scales differ by orders of magnitude (a random body's most of all),
//! and the standardisation is folded into the conv afterwards: exact, and the model stays plain.

use burn::module::Param;
use burn::nn::Linear;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::fusion::conv_from;
use crate::model::head::HeadDeploy;
use crate::model::init::unit;
use crate::readback::{argmax, read_vec};
use crate::train::transfer::features::Features;

/// Training steps a head may take (each a full pass over at most `MAX_PHOTOS` vectors).
pub const MAX_STEPS: usize = 10_000;
/// Steps between two reads of the loss (each read waits for the device).
const REPORT_EVERY: usize = 25;
/// Rows a prediction pass takes at once.
const PREDICT_ROWS: usize = 512;

/// How the head trains: full-batch AdamW on the training photos' features, the learning rate
/// decayed on a cosine to 0 over `steps`, softmax cross-entropy with optional label smoothing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeadOptions {
    pub steps: usize,
    pub learning_rate: f64,
    pub weight_decay: f64,
    pub label_smoothing: f64,
    /// Draws the head's initial weights.
    pub seed: u64,
}

impl Default for HeadOptions {
    fn default() -> Self {
        Self { steps: 300, learning_rate: 1e-2, weight_decay: 1e-2, label_smoothing: 0.1, seed: 0 }
    }
}

impl HeadOptions {
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::InvalidOption(m));
        if !(1..=MAX_STEPS).contains(&self.steps) {
            return bad(format!("head steps {}: 1 to {MAX_STEPS}", self.steps));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            return bad(format!("head learning rate {}: above 0, at most 1", self.learning_rate));
        }
        if !(0.0..=1.0).contains(&self.weight_decay) || !(0.0..1.0).contains(&self.label_smoothing) {
            return bad("head weight decay within [0, 1] and label smoothing within [0, 1)".into());
        }
        Ok(())
    }
}

/// The head after training: the conv's weights `[classes, dim]` and bias on raw features (the
/// standardisation folded in), and the last loss read.
#[derive(Clone, Debug)]
pub struct TrainedHead {
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
    pub loss: f32,
}

impl TrainedHead {
    /// The deploy head, dropout as the body's config had it (the identity outside training).
    pub fn to_deploy(&self, dim: usize, drop_rate: f64, device: &Device) -> HeadDeploy {
        let classes = self.bias.len();
        let w = Tensor::<4>::from_data(TensorData::new(self.weight.clone(), [classes, dim, 1, 1]), device);
        let b = Tensor::<1>::from_data(TensorData::new(self.bias.clone(), [classes]), device);
        let mut head = HeadDeploy::new(dim, classes, drop_rate, device);
        head.conv = conv_from(w, b, 1, 0, 1);
        head
    }
}

/// Per feature: the training rows' mean and deviation (a constant feature gets 1: it carries
/// nothing, and stays 0 once centred).
fn standardisation(features: &Features, train: &[bool]) -> (Vec<f64>, Vec<f64>) {
    let d = features.dim;
    let (mut sum, mut sq, mut n) = (vec![0f64; d], vec![0f64; d], 0f64);
    for (i, _) in train.iter().enumerate().filter(|(_, t)| **t) {
        for (j, &v) in features.row(i).iter().enumerate() {
            sum[j] += v as f64;
            sq[j] += v as f64 * v as f64;
        }
        n += 1.0;
    }
    let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
    let scale = sq.iter().zip(&mean).map(|(q, m)| (q / n - m * m).max(0.0).sqrt()).collect::<Vec<_>>();
    let largest = scale.iter().fold(0f64, |a, &b| a.max(b));
    let std = scale.into_iter().map(|s| if s > 1e-6 * largest && s > 0.0 { s } else { 1.0 }).collect();
    (mean, std)
}

/// Trains a head on the rows of `features` marked in `train`; `progress(step, steps, loss)`
/// every few steps. A loss that stops being finite is an error naming the step.
pub async fn train_head(
    features: &Features,
    train: &[bool],
    options: &HeadOptions,
    device: &Device,
    progress: &mut dyn FnMut(usize, usize, f32),
) -> Result<TrainedHead> {
    options.validate()?;
    let (d, c) = (features.dim, features.classes.len());
    let rows: Vec<usize> = (0..features.len()).filter(|&i| train[i]).collect();
    if rows.is_empty() {
        return Err(Error::InvalidInput("no photo left to train the head on".into()));
    }
    let (mean, std) = standardisation(features, train);
    let mut z = Vec::with_capacity(rows.len() * d);
    for &i in &rows {
        z.extend(features.row(i).iter().enumerate().map(|(j, &v)| ((v as f64 - mean[j]) / std[j]) as f32));
    }
    let labels: Vec<i64> = rows.iter().map(|&i| features.labels[i] as i64).collect();
    let ad = device.clone().autodiff();
    let z = Tensor::<2>::from_data(TensorData::new(z, [rows.len(), d]), &ad);
    let y = Tensor::<1, Int>::from_data(TensorData::new(labels, [rows.len()]), &ad);
    // Small seeded weights (Box-Muller on the seed's own stream: the same head on any backend).
    let mut state = options.seed;
    let init: Vec<f32> = (0..d * c)
        .map(|_| {
            let (u, v) = (1.0 - unit(&mut state), unit(&mut state));
            (0.01 * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
        })
        .collect();
    let mut model = Linear {
        weight: Param::from_tensor(Tensor::from_data(TensorData::new(init, [d, c]), &ad)),
        bias: Some(Param::from_tensor(Tensor::zeros([c], &ad))),
    };
    let smoothing = (options.label_smoothing > 0.0).then_some(options.label_smoothing as f32);
    let loss_fn = CrossEntropyLossConfig::new().with_smoothing(smoothing).init(&ad);
    let mut optim = AdamWConfig::new().with_weight_decay(options.weight_decay as f32).init();
    let mut loss = f32::NAN;
    for step in 1..=options.steps {
        let lr = options.learning_rate
            * 0.5
            * (1.0 + (std::f64::consts::PI * (step - 1) as f64 / options.steps as f64).cos());
        let value = loss_fn.forward(model.forward(z.clone()), y.clone());
        let read = value.clone().inner();
        let grads = GradientsParams::from_grads(value.backward(), &model);
        model = optim.step(lr, model, grads);
        if step % REPORT_EVERY == 0 || step == options.steps {
            loss = read_vec(read.reshape([1])).await?[0];
            if !loss.is_finite() {
                return Err(Error::InvalidInput(format!(
                    "the head's loss became {loss} at step {step}: lower its learning rate"
                )));
            }
            progress(step, options.steps, loss);
        }
    }
    let w = read_vec(model.weight.val().inner().flatten::<1>(0, 1)).await?;
    let b = match &model.bias {
        Some(b) => read_vec(b.val().inner()).await?,
        None => vec![0.0; c],
    };
    // logits = sum_j w[j, k] (x_j - mean_j) / std_j + b_k: w / std per input, the means into b.
    let (mut weight, mut bias) = (vec![0f32; c * d], vec![0f32; c]);
    for k in 0..c {
        let mut shift = b[k] as f64;
        for j in 0..d {
            let scaled = w[j * c + k] as f64 / std[j];
            weight[k * d + j] = scaled as f32;
            shift -= scaled * mean[j];
        }
        bias[k] = shift as f32;
    }
    Ok(TrainedHead { weight, bias, loss })
}

/// The class `head` gives each photo of `features`, through the deploy head itself (pooling a
/// 1x1 map is the identity), in rows of a bounded count.
pub async fn predict(head: &HeadDeploy, features: &Features, device: &Device) -> Result<Vec<usize>> {
    let (d, c) = (features.dim, features.classes.len());
    let mut out = Vec::with_capacity(features.len());
    for start in (0..features.len()).step_by(PREDICT_ROWS) {
        let n = PREDICT_ROWS.min(features.len() - start);
        let x = features.values[start * d..(start + n) * d].to_vec();
        let x = Tensor::<4>::from_data(TensorData::new(x, [n, d, 1, 1]), device);
        let logits = read_vec(head.forward(x).flatten::<1>(0, 1)).await?;
        out.extend(logits.chunks_exact(c).map(argmax));
    }
    Ok(out)
}
