//! Start from a checkpoint: a fused classifier's body (any model file: an official checkpoint
//! or one of ours) computes each photo's features once (`features.rs`), a new head trains on
//! them in seconds (`head.rs`), and the body with the new head is one deploy model with its
//! card, a classifier like any other. Bounded work and awaited reads only, so the page's worker
//! can call the same functions: [`features::extract`], then [`new_head`].

pub mod features;
pub mod head;

use burn::tensor::Device;
use serde::Serialize;

use crate::classify::Classifier;
use crate::error::Result;
use crate::io::card::{Form, ModelCard};
use crate::model::VanillaNetDeploy;
use features::Features;
use head::{HeadOptions, predict, train_head};

/// A held-out photo, its class and the class the new model gives it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeldOutPrediction {
    pub photo: String,
    pub class: String,
    pub predicted: String,
}

/// What a transfer did: from what, on which photos, and how well the new head does on the
/// photos it trained on and on those held out (every fifth of each class).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferReport {
    /// The body's card's name.
    pub from: String,
    pub classes: Vec<String>,
    pub train_photos: usize,
    pub held_out_photos: usize,
    /// Photos not used, each "name: reason".
    pub skipped: Vec<String>,
    pub options: HeadOptions,
    pub loss: f32,
    pub train_accuracy: f64,
    /// None where no class has five photos (nothing is held out).
    pub held_out_accuracy: Option<f64>,
    pub held_out: Vec<HeldOutPrediction>,
    pub head_seconds: f64,
}

/// The classifier of `body`'s fused body with a new head for `classes`: its card names the new
/// classes, keeps the body's input size and preprocessing, and says what it was made from.
pub fn with_head(body: &Classifier, classes: Vec<String>, head: crate::model::head::HeadDeploy) -> Result<Classifier> {
    let mut architecture = body.card.architecture.clone();
    architecture.num_classes = classes.len();
    let name = format!("{} with a new head for {} classes", body.card.name, classes.len());
    let card = ModelCard::new(name, architecture, classes, body.card.preprocess.clone(), Form::Deploy);
    card.validate()?;
    let model = VanillaNetDeploy { stem: body.model.stem.clone(), stages: body.model.stages.clone(), head };
    Ok(Classifier { card, model })
}

/// A head trained on `features` (photos held out as [`Features::held_out`] says), put on
/// `body`; the report's accuracies are the assembled model's own on those features.
/// `progress(step, steps, loss)` as the head trains.
pub async fn new_head(
    body: &Classifier,
    features: &Features,
    options: &HeadOptions,
    device: &Device,
    progress: &mut dyn FnMut(usize, usize, f32),
) -> Result<(Classifier, TransferReport)> {
    features::check_classes(&features.classes)?;
    features.check()?;
    let start = web_time::Instant::now();
    let held = features.held_out();
    let train: Vec<bool> = held.iter().map(|h| !h).collect();
    let trained = train_head(features, &train, options, device, progress).await?;
    let deploy = trained.to_deploy(features.dim, body.card.architecture.drop_rate, device);
    let predicted = predict(&deploy, features, device).await?;
    let classifier = with_head(body, features.classes.clone(), deploy)?;
    let accuracy = |part: bool| {
        let rows: Vec<usize> = (0..features.len()).filter(|&i| held[i] == part).collect();
        let right = rows.iter().filter(|&&i| predicted[i] == features.labels[i]).count();
        (!rows.is_empty()).then(|| right as f64 / rows.len() as f64)
    };
    let name = |i: usize| features.classes[i].clone();
    let held_out = (0..features.len())
        .filter(|&i| held[i])
        .map(|i| HeldOutPrediction {
            photo: features.names[i].clone(),
            class: name(features.labels[i]),
            predicted: name(predicted[i]),
        })
        .collect::<Vec<_>>();
    let report = TransferReport {
        from: body.card.name.clone(),
        classes: features.classes.clone(),
        train_photos: features.len() - held_out.len(),
        held_out_photos: held_out.len(),
        skipped: features.skipped.clone(),
        options: options.clone(),
        loss: trained.loss,
        train_accuracy: accuracy(false).unwrap_or(0.0),
        held_out_accuracy: accuracy(true),
        held_out,
        head_seconds: start.elapsed().as_secs_f64(),
    };
    Ok((classifier, report))
}
