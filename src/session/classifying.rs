//! The classifier in the session: what it says of an image (beside the trained net's answer
//! while it is that net's fused form), its card and exports, a checkpoint read and made the
//! classifier, a random one for benchmarks, its logits, its warm-up on WebGPU.

use burn::tensor::{Tensor, TensorData};

use crate::classify::{Classification, Classifier};
use crate::io::card::ModelCard;
use crate::io::state_dict::StateDict;
use crate::session::Session;
use crate::session::answers::{CheckpointRead, ClassifierInfo};
use crate::session::backend::Backend;
use crate::session::current::{Current, Origin};
use crate::session::error::{Result, SessionError};
use crate::train::compare::compare;

impl Session {
    pub fn classifier(&self) -> Result<&Classifier> {
        self.classifier.as_ref().map(|c| &c.classifier).ok_or(SessionError::NoClassifier)
    }

    /// The classifier's card and sizes, and where it came from; none without one.
    pub fn classifier_info(&self) -> Result<Option<ClassifierInfo>> {
        match &self.classifier {
            Some(c) => Ok(Some(ClassifierInfo::of(&c.classifier, c.origin)?)),
            None => Ok(None),
        }
    }

    /// Top `k` of an image file by the classifier, with its time; while the classifier is the
    /// trainer's fused form, also the trained net's answer and time.
    pub async fn classify(&self, bytes: &[u8], k: usize) -> Result<Classification> {
        let classifier = self.classifier()?;
        let k = k.min(classifier.card.classes.len());
        let from_trainer = Current::fused_from_trainer(self.classifier.as_ref()).is_some();
        Ok(match (&self.trainer, from_trainer) {
            (Some(trainer), true) => {
                let weights = classifier.card.weights.unwrap_or(crate::model::Weights::Trained);
                compare(&trainer.trained_net(weights)?, classifier, bytes, k).await?
            }
            _ => classifier.classify(bytes, k, &self.device).await?,
        })
    }

    /// The classifier as one safetensors file: official deploy key names, the model card in
    /// the header's metadata.
    pub async fn export_model(&self) -> Result<Vec<u8>> {
        Ok(self.classifier()?.to_safetensors().await?)
    }

    /// The classifier as an ONNX model (opset 13): input `input`, output `logits`.
    pub async fn export_onnx(&self) -> Result<Vec<u8>> {
        Ok(self.classifier()?.to_onnx().await?)
    }

    /// Reads a checkpoint (safetensors or `.pth`; nothing in it is executed) and says what it
    /// holds: the card of a file of ours, or what the tensors tell of any other VanillaNet
    /// checkpoint. It waits for [`Self::use_checkpoint`].
    pub fn load_checkpoint(&mut self, bytes: Vec<u8>) -> Result<CheckpointRead> {
        let sd = StateDict::from_bytes(bytes)?;
        let detected = Classifier::detect_foreign(&sd)?;
        // A card that does not read is no card here: the tensors still tell what they can.
        let card = ModelCard::read(&sd).ok().flatten();
        let ambiguous = detected.as_ref().is_some_and(|d| d.ambiguous() || d.candidates.is_empty());
        self.checkpoint = Some(sd);
        Ok(CheckpointRead { card, detected, ambiguous })
    }

    /// Makes the read checkpoint the classifier (fused if in training form): `variant` or
    /// `strides` settle what the tensors can't tell. A failure keeps the classifier there was.
    pub fn use_checkpoint(&mut self, variant: Option<&str>, strides: Option<Vec<usize>>) -> Result<ClassifierInfo> {
        let sd = self.checkpoint.as_ref().ok_or(SessionError::NoCheckpoint)?;
        let classifier = Classifier::from_checkpoint(sd, variant, strides, &self.device)?;
        let info = ClassifierInfo::of(&classifier, Origin::Checkpoint)?;
        self.set_classifier(Current { classifier, origin: Origin::Checkpoint });
        self.checkpoint = None;
        Ok(info)
    }

    /// Makes a named model with random weights, fused, the classifier (ImageNet preprocessing
    /// at `size`): for benchmarks against other runtimes on the same weights.
    pub fn random_classifier(&mut self, model: &str, size: usize) -> Result<ClassifierInfo> {
        let classifier = Classifier::random(model, size, &self.device)?;
        let info = ClassifierInfo::of(&classifier, Origin::Random)?;
        self.set_classifier(Current { classifier, origin: Origin::Random });
        Ok(info)
    }

    /// The classifier's logits (`[batch, classes]`, flat) for preprocessed inputs `[batch,
    /// channels, height, width]` (flat): for comparing with other runtimes.
    pub async fn logits(&self, values: Vec<f32>, batch: usize) -> Result<Vec<f32>> {
        let classifier = self.classifier()?;
        let p = &classifier.card.preprocess;
        let shape = [batch, p.channels, p.height, p.width];
        // Checked: a batch whose product wraps around to the values' count is no such input.
        let expected = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        if expected != Some(values.len()) {
            return Err(SessionError::Refused(format!("{} values for an input of shape {shape:?}", values.len())));
        }
        let x = Tensor::<4>::from_data(TensorData::new(values, shape), &self.device);
        Ok(classifier.logits(x).await?)
    }

    /// On WebGPU the first run of a net compiles its shaders (most of a second on a slow
    /// adapter): a new classifier runs once on a blank input, so the first image does not wait.
    pub async fn warm_up(&self) -> Result<()> {
        if self.backend != Backend::Webgpu || self.classifier.is_none() {
            return Ok(());
        }
        let p = &self.classifier()?.card.preprocess;
        self.logits(vec![0.0; p.channels * p.height * p.width], 1).await.map(|_| ())
    }
}
