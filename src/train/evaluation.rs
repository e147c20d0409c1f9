//! What a net learned, on the whole test set: overall and per-class accuracy, the confusion
//! matrix, and which images it gets wrong most confidently. Made from the class probabilities of
//! every test image, for the trained net or its fused form alike; and the plain accuracy the
//! training loop reports. Each is said with and without test-time augmentation ([`Tta`]).

use burn::tensor::{Device, Int, Tensor};
use serde::{Deserialize, Serialize};

use crate::classify::Classifier;
use crate::data::dataset::{Dataset, Split};
use crate::error::{Error, Result};
use crate::model::Weights;
use crate::readback::{argmax, read_f32, read_vec};
use crate::train::trained_net::TrainedNet;
use crate::train::tta::{self, Tta};

/// Which net was evaluated: the trained one or the moving average of its weights (both at the
/// training's lambda), or a fused form; the page shows them side by side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "lowercase")]
pub enum Evaluated {
    Trained,
    Ema,
    Fused,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct ClassScore {
    pub name: String,
    /// None for a class with no test images.
    pub accuracy: Option<f32>,
    /// Test images of this class.
    pub count: usize,
}

/// A test image the net got wrong, and how sure it was of its wrong answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct Scored {
    pub index: usize,
    pub label: usize,
    pub predicted: usize,
    pub confidence: f32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct Evaluation {
    /// Which net was evaluated ("trained", "ema" or "fused").
    pub model: Evaluated,
    /// The training step the weights are from.
    pub step: usize,
    /// Of the net's own answers (the image alone), as are the matrix, the per-class scores and
    /// the mistakes: what classifying one image gives.
    pub accuracy: f32,
    /// The test-time augmentation `accuracy_tta` is of: the option as the data allows it
    /// ("off" where it allows none, as the mirror alone on digits).
    #[serde(default = "Tta::off")]
    pub tta: Tta,
    /// The accuracy of the answers averaged over the views of `tta`; none when it is off.
    pub accuracy_tta: Option<f32>,
    pub classes: Vec<String>,
    pub per_class: Vec<ClassScore>,
    /// `confusion[true][predicted]`; the counts sum to the number of test images.
    pub confusion: Vec<Vec<usize>>,
    /// The most confidently wrong images, most confident first.
    pub mistakes: Vec<Scored>,
    /// Every image's answer, for [`Evaluation::cell`] (not sent with the summary).
    #[serde(skip)]
    answers: Vec<(usize, f32)>,
    #[serde(skip)]
    labels: Vec<usize>,
}

/// Mistakes kept in the summary.
pub const MISTAKES: usize = 32;

impl Evaluation {
    /// From the labels and the class probabilities (`labels.len()` rows of `classes.len()`).
    pub fn from_probabilities(
        model: Evaluated,
        step: usize,
        classes: Vec<String>,
        labels: &[u8],
        probabilities: &[f32],
    ) -> Result<Self> {
        let k = classes.len();
        if labels.is_empty() {
            return Err(Error::InvalidInput("there are no test images to evaluate on".into()));
        }
        if k == 0 || probabilities.len() != labels.len() * k {
            return Err(Error::InvalidInput(format!(
                "{} probabilities for {} images of {k} classes",
                probabilities.len(),
                labels.len()
            )));
        }
        let mut confusion = vec![vec![0; k]; k];
        let mut answers = Vec::with_capacity(labels.len());
        let mut wrong = Vec::new();
        for (index, (&label, row)) in labels.iter().zip(probabilities.chunks(k)).enumerate() {
            let label = label as usize;
            if label >= k {
                return Err(Error::InvalidInput(format!("test image {index} has label {label} of {k} classes")));
            }
            let predicted = argmax(row);
            // A NaN row (a diverged net) answers as `argmax` does, with no confidence.
            let confidence = if row[predicted].is_finite() { row[predicted] } else { 0.0 };
            confusion[label][predicted] += 1;
            answers.push((predicted, confidence));
            if predicted != label {
                wrong.push(Scored { index, label, predicted, confidence });
            }
        }
        wrong.sort_by(|a, b| b.confidence.total_cmp(&a.confidence).then(a.index.cmp(&b.index)));
        wrong.truncate(MISTAKES);
        let per_class = classes
            .iter()
            .enumerate()
            .map(|(c, name)| {
                let count: usize = confusion[c].iter().sum();
                let accuracy = (count > 0).then(|| confusion[c][c] as f32 / count as f32);
                ClassScore { name: name.clone(), accuracy, count }
            })
            .collect();
        let right: usize = (0..k).map(|c| confusion[c][c]).sum();
        Ok(Self {
            model,
            step,
            accuracy: right as f32 / labels.len() as f32,
            tta: Tta::Off,
            accuracy_tta: None,
            classes,
            per_class,
            confusion,
            mistakes: wrong,
            answers,
            labels: labels.iter().map(|&l| l as usize).collect(),
        })
    }

    /// With the accuracy of the class probabilities `tta` gave (one row an image, as for
    /// [`Evaluation::from_probabilities`]).
    pub fn with_tta(self, tta: Tta, probabilities: &[f32]) -> Result<Self> {
        let k = self.classes.len();
        if probabilities.len() != self.labels.len() * k {
            return Err(Error::InvalidInput(format!(
                "{} probabilities with test-time augmentation for {} images of {k} classes",
                probabilities.len(),
                self.labels.len()
            )));
        }
        let right = self.labels.iter().zip(probabilities.chunks(k)).filter(|&(&l, row)| argmax(row) == l).count();
        let accuracy_tta = (tta != Tta::Off).then(|| right as f32 / self.labels.len() as f32);
        Ok(Self { tta, accuracy_tta, ..self })
    }

    /// The test images of one confusion cell (true class `label`, answered `predicted`), most
    /// confident first, at most `limit`.
    pub fn cell(&self, label: usize, predicted: usize, limit: usize) -> Result<Vec<Scored>> {
        let k = self.classes.len();
        if label >= k || predicted >= k {
            return Err(Error::InvalidInput(format!("no cell ({label}, {predicted}) in a {k}-class matrix")));
        }
        let mut images: Vec<Scored> = self
            .labels
            .iter()
            .zip(&self.answers)
            .enumerate()
            .filter(|&(_, (&l, &(p, _)))| l == label && p == predicted)
            .map(|(index, (&label, &(predicted, confidence)))| Scored { index, label, predicted, confidence })
            .collect();
        images.sort_by(|a, b| b.confidence.total_cmp(&a.confidence).then(a.index.cmp(&b.index)));
        images.truncate(limit);
        Ok(images)
    }
}

/// Test images per batch when a net goes over the test set.
const TEST_BATCH: usize = 256;

/// The first `n` test images' indices, in batches of [`TEST_BATCH`].
pub(crate) fn test_batches(n: usize) -> Vec<Vec<usize>> {
    (0..n).collect::<Vec<_>>().chunks(TEST_BATCH).map(<[usize]>::to_vec).collect()
}

/// How many of the batch the logits get right.
pub(crate) fn correct(logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
    let [n, _] = logits.dims();
    logits.argmax(1).reshape([n]).equal(labels).float().sum().inner()
}

/// Accuracy of `net` on up to `limit` test images (all when `None`), at its lambda, without
/// test-time augmentation. `None` when there is no test image.
pub async fn accuracy(net: &TrainedNet<'_>, limit: Option<usize>) -> Result<Option<f32>> {
    accuracy_on(net, &net.data.test, limit).await
}

/// [`accuracy`] on the images of `test`, a split of `net`'s data (the test or the validation
/// images).
pub async fn accuracy_on(net: &TrainedNet<'_>, test: &Split, limit: Option<usize>) -> Result<Option<f32>> {
    Ok(accuracies_on(net, test, limit, Tta::Off).await?.map(|a| a.plain))
}

/// An accuracy with and without test-time augmentation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Accuracy {
    /// The image alone.
    pub plain: f32,
    /// Averaged over the views of the TTA the data allows; none when that is off.
    pub tta: Option<f32>,
}

/// Accuracy of `net` on up to `limit` images of `split` (all when `None`), at its lambda, with
/// and without `tta` (as the data allows it: one forward a view). `None` when `split` is empty.
pub async fn accuracies_on(
    net: &TrainedNet<'_>,
    split: &Split,
    limit: Option<usize>,
    tta: Tta,
) -> Result<Option<Accuracy>> {
    accuracy_with(|x| net.net.forward(x, net.lambda), net.data, split, limit, tta, &net.device).await
}

/// Accuracy of a fused classifier of this run on up to `limit` images of `data`'s `split`, with
/// and without `tta` (see [`accuracies_on`]).
pub async fn fused_accuracies_on(
    fused: &Classifier,
    data: &Dataset,
    split: &Split,
    limit: Option<usize>,
    tta: Tta,
    device: &Device,
) -> Result<Option<Accuracy>> {
    accuracy_with(|x| fused.model.forward(x), data, split, limit, tta, device).await
}

async fn accuracy_with(
    logits: impl Fn(Tensor<4>) -> Tensor<2>,
    data: &Dataset,
    split: &Split,
    limit: Option<usize>,
    tta: Tta,
    device: &Device,
) -> Result<Option<Accuracy>> {
    let n = limit.map_or(split.len(), |l| l.min(split.len()));
    if n == 0 {
        return Ok(None);
    }
    let tta = tta.for_data(data.mirror);
    let fill = tta::black(&data.normalize);
    let (mut plain, mut augmented) = (0.0, 0.0);
    for chunk in test_batches(n) {
        let (x, y) = data.batch(split, &chunk, device);
        if tta == Tta::Off {
            // The argmax of the logits is that of their softmax: no softmax to pay for.
            plain += read_f32(correct(logits(x), y)).await?;
            continue;
        }
        let (p, mean) = tta::probabilities(&logits, x, tta, &fill);
        plain += read_f32(correct(p, y.clone())).await?;
        if let Some(mean) = mean {
            augmented += read_f32(correct(mean, y)).await?;
        }
    }
    let tta = (tta != Tta::Off).then_some(augmented / n as f32);
    Ok(Some(Accuracy { plain: plain / n as f32, tta }))
}

/// The trained net (or the moving average of its weights, as `net` holds) on the whole test
/// set, at its lambda: accuracy per class, the confusion matrix, the most confident mistakes;
/// without test-time augmentation.
pub async fn evaluate_net(net: &TrainedNet<'_>) -> Result<Evaluation> {
    evaluate_net_tta(net, Tta::Off).await
}

/// [`evaluate_net`], with the accuracy under `tta` too (as the data allows it).
pub async fn evaluate_net_tta(net: &TrainedNet<'_>, tta: Tta) -> Result<Evaluation> {
    let evaluated = match net.weights {
        Weights::Trained => Evaluated::Trained,
        Weights::Ema => Evaluated::Ema,
    };
    let logits = |x| net.net.forward(x, net.lambda);
    evaluate_with(logits, evaluated, net.data, &net.device, net.step, tta).await
}

/// A fused classifier of this run on the whole test set of `data` (see [`evaluate_net`]),
/// stamped with step `step`; without test-time augmentation.
pub async fn evaluate_fused(fused: &Classifier, data: &Dataset, device: &Device, step: usize) -> Result<Evaluation> {
    evaluate_fused_tta(fused, data, device, step, Tta::Off).await
}

/// [`evaluate_fused`], with the accuracy under `tta` too (as the data allows it).
pub async fn evaluate_fused_tta(
    fused: &Classifier,
    data: &Dataset,
    device: &Device,
    step: usize,
    tta: Tta,
) -> Result<Evaluation> {
    evaluate_with(|x| fused.model.forward(x), Evaluated::Fused, data, device, step, tta).await
}

async fn evaluate_with(
    logits: impl Fn(Tensor<4>) -> Tensor<2>,
    evaluated: Evaluated,
    data: &Dataset,
    device: &Device,
    step: usize,
    tta: Tta,
) -> Result<Evaluation> {
    let test = &data.test;
    let tta = tta.for_data(data.mirror);
    let fill = tta::black(&data.normalize);
    let k = data.classes.len();
    let mut probabilities = Vec::with_capacity(test.len() * k);
    let mut augmented = Vec::with_capacity(if tta == Tta::Off { 0 } else { test.len() * k });
    for chunk in test_batches(test.len()) {
        let (x, _) = data.batch(test, &chunk, device);
        let (plain, mean) = tta::probabilities(&logits, x, tta, &fill);
        probabilities.extend(read_vec(plain.flatten::<1>(0, 1)).await?);
        if let Some(mean) = mean {
            augmented.extend(read_vec(mean.flatten::<1>(0, 1)).await?);
        }
    }
    let evaluation =
        Evaluation::from_probabilities(evaluated, step, data.classes.clone(), &test.labels, &probabilities)?;
    if tta == Tta::Off { Ok(evaluation) } else { evaluation.with_tta(tta, &augmented) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(k: usize) -> Vec<String> {
        (0..k).map(|c| format!("c{c}")).collect()
    }

    #[test]
    fn counts_scores_and_mistakes() {
        // Four images of three classes: two right, one wrong at 0.7, one wrong at 0.5.
        let labels = [0u8, 1, 1, 2];
        let probs = [
            0.8, 0.1, 0.1, //
            0.7, 0.2, 0.1, //
            0.1, 0.6, 0.3, //
            0.5, 0.2, 0.3,
        ];
        let e = Evaluation::from_probabilities(Evaluated::Trained, 7, names(3), &labels, &probs).unwrap();
        assert_eq!(e.confusion, vec![vec![1, 0, 0], vec![1, 1, 0], vec![1, 0, 0]]);
        assert_eq!(e.confusion.iter().flatten().sum::<usize>(), labels.len());
        assert_eq!(e.accuracy, 0.5);
        let per: Vec<_> = e.per_class.iter().map(|c| (c.accuracy, c.count)).collect();
        assert_eq!(per, vec![(Some(1.0), 1), (Some(0.5), 2), (Some(0.0), 1)]);
        let wrong: Vec<_> = e.mistakes.iter().map(|m| (m.index, m.label, m.predicted, m.confidence)).collect();
        assert_eq!(wrong, vec![(1, 1, 0, 0.7), (3, 2, 0, 0.5)]);
        let cell: Vec<_> = e.cell(1, 0, 10).unwrap().iter().map(|s| s.index).collect();
        assert_eq!(cell, vec![1]);
        assert!(e.cell(3, 0, 10).is_err());
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["model"], "trained");
        assert!(json.get("answers").is_none() && json["perClass"][1]["accuracy"] == 0.5);
    }

    #[test]
    fn empty_classes_nan_rows_and_bad_sizes() {
        let e = Evaluation::from_probabilities(Evaluated::Fused, 0, names(2), &[0], &[f32::NAN, f32::NAN]).unwrap();
        assert_eq!(e.per_class[1].accuracy, None);
        assert_eq!(e.confusion.iter().flatten().sum::<usize>(), 1);
        assert_eq!(e.cell(0, 0, 1).unwrap()[0].confidence, 0.0);
        assert!(Evaluation::from_probabilities(Evaluated::Fused, 0, names(2), &[], &[]).is_err());
        assert!(Evaluation::from_probabilities(Evaluated::Fused, 0, names(2), &[0], &[1.0]).is_err());
        assert!(Evaluation::from_probabilities(Evaluated::Fused, 0, names(2), &[5], &[0.5, 0.5]).is_err());
    }

    #[test]
    fn mistakes_are_capped_most_confident_first() {
        let n = MISTAKES + 10;
        let labels = vec![0u8; n];
        let probs: Vec<f32> = (0..n).flat_map(|i| [0.0, 0.5 + i as f32 / (4 * n) as f32]).collect();
        let e = Evaluation::from_probabilities(Evaluated::Trained, 0, names(2), &labels, &probs).unwrap();
        assert_eq!(e.mistakes.len(), MISTAKES);
        assert_eq!(e.mistakes[0].index, n - 1);
        assert!(e.mistakes.windows(2).all(|w| w[0].confidence >= w[1].confidence));
        assert_eq!(e.cell(0, 1, 5).unwrap().len(), 5);
    }

    #[test]
    fn test_batches_cover_every_image_once() {
        let batches = test_batches(600);
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), vec![256, 256, 88]);
        assert_eq!(batches.concat(), (0..600).collect::<Vec<_>>());
        assert!(test_batches(0).is_empty());
    }
}
