//! What a fused body sees in each photo: the head's input after its average pool (one vector of
//! `dims[-1]` values a photo), computed once, batched, at the checkpoint's own input size and
//! preprocessing (its card's, or the official evaluation's), so that a new head trains on these
//! vectors alone. Every read is awaited: the page's worker runs the same code on WebGPU.

use burn::tensor::module::adaptive_avg_pool2d;
use burn::tensor::{Device, Tensor, TensorData};

use crate::classify::Classifier;
use crate::data::preprocess::Preprocess;
use crate::error::{Error, Result};
use crate::model::VanillaNetDeploy;
use crate::model::config::{MAX_CLASSES, VanillaNetConfig};
use crate::readback::read_vec;

/// Photos one transfer takes: their features stay in memory (2,000 photos of vanillanet_5's
/// 4,096 features are 33 MB; this bound, with the widest named body's 6,144, is 123 MB).
pub const MAX_PHOTOS: usize = 5_000;
/// Photos one forward takes at most; fewer where the body's maps at its input size are large.
pub const MAX_BATCH: usize = 32;
/// What one batch's forward may hold: its inputs and about four maps of its widest layer.
pub const BATCH_BYTES: usize = 256 << 20;

/// One photo of a class: its file's bytes, or why they could not be read (it is then skipped
/// and listed, as an undecodable one is).
pub struct Photo {
    pub name: String,
    pub class: usize,
    pub bytes: std::result::Result<Vec<u8>, String>,
}

/// The feature vectors of the photos that could be read, in the order given, with their
/// classes; and the photos skipped, each with its reason.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Features {
    pub classes: Vec<String>,
    /// Values a photo (the body's last width).
    pub dim: usize,
    /// `[photos, dim]`, row by row.
    pub values: Vec<f32>,
    pub labels: Vec<usize>,
    pub names: Vec<String>,
    /// "name: reason" of each photo that was not used.
    pub skipped: Vec<String>,
}

impl Features {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.dim..(i + 1) * self.dim]
    }

    /// `more` (features of photos added later, through the same body) after these: a cache
    /// grows without recomputing what it holds. Refused when the classes or widths differ.
    pub fn append(&mut self, more: Features) -> Result<()> {
        if more.classes != self.classes || more.dim != self.dim {
            return Err(Error::InvalidInput(format!(
                "features of {} classes and {} values a photo cannot join {} classes and {} values",
                more.classes.len(),
                more.dim,
                self.classes.len(),
                self.dim
            )));
        }
        if self.len() + more.len() > MAX_PHOTOS {
            return Err(Error::InvalidInput(format!("more than {MAX_PHOTOS} photos: take fewer")));
        }
        self.values.extend(more.values);
        self.labels.extend(more.labels);
        self.names.extend(more.names);
        self.skipped.extend(more.skipped);
        Ok(())
    }

    /// Which photos are held out: every fifth of each class, counted in the order given among
    /// those that could be read (the rule `Dataset::labelled` splits own images by).
    pub fn held_out(&self) -> Vec<bool> {
        let mut seen = vec![0usize; self.classes.len()];
        self.labels
            .iter()
            .map(|&l| {
                let count = &mut seen[l];
                *count += 1;
                *count % 5 == 0
            })
            .collect()
    }

    /// Each class has at least two photos that could be read: one to train on, and the head
    /// learns nothing of a class from a single one.
    pub fn check(&self) -> Result<()> {
        let mut counts = vec![0usize; self.classes.len()];
        for &l in &self.labels {
            counts[l] += 1;
        }
        for (class, &n) in self.classes.iter().zip(&counts) {
            if n < 2 {
                let s = if n == 1 { "" } else { "s" };
                return Err(Error::InvalidInput(format!(
                    "class '{class}' has {n} readable photo{s}: each class needs at least 2 (5 or more to hold one out for testing)"
                )));
            }
        }
        Ok(())
    }
}

/// New class names: 2 to the most a net has, each named, no two alike.
pub fn check_classes(classes: &[String]) -> Result<()> {
    if classes.len() < 2 {
        return Err(Error::InvalidInput(format!(
            "{} class{}: a new head needs at least two classes, one folder of photos each",
            classes.len(),
            if classes.len() == 1 { "" } else { "es" }
        )));
    }
    if classes.len() > MAX_CLASSES {
        return Err(Error::InvalidInput(format!("{} classes; at most {MAX_CLASSES}", classes.len())));
    }
    for (i, c) in classes.iter().enumerate() {
        if c.trim().is_empty() {
            return Err(Error::InvalidInput(format!("class {i} has no name")));
        }
        if classes[..i].contains(c) {
            return Err(Error::InvalidInput(format!("two classes are named '{c}'")));
        }
    }
    Ok(())
}

/// Photos a forward takes for this body at this input: at most [`MAX_BATCH`], and within
/// [`BATCH_BYTES`]; an input whose one photo exceeds that is refused, naming the size.
pub fn batch_size(config: &VanillaNetConfig, p: &Preprocess) -> Result<usize> {
    let sizes = config.feature_sizes(p.height, p.width)?;
    let mut widest = config.dims[0] * sizes[0].0 * sizes[0].1;
    for (i, &(h, w)) in sizes[..sizes.len() - 1].iter().enumerate() {
        // A block's maps are at its input's size until its pool.
        widest = widest.max(config.dims[i].max(config.dims[i + 1]) * h * w);
    }
    let per_photo = 4 * (p.channels * p.height * p.width + 4 * widest);
    match BATCH_BYTES / per_photo {
        0 => Err(Error::InvalidInput(format!(
            "a {}x{} input needs {} MB a photo through this body, more than the {} MB a batch may hold",
            p.height,
            p.width,
            per_photo >> 20,
            BATCH_BYTES >> 20
        ))),
        n => Ok(n.min(MAX_BATCH)),
    }
}

/// The head's input after pooling, `[batch, dims[-1]]`, for inputs `[batch, c, h, w]`: the
/// body of `VanillaNetDeploy::forward_features`, then the head's average pool (its dropout is
/// the identity outside training).
pub fn pooled(model: &VanillaNetDeploy, x: Tensor<4>) -> Tensor<2> {
    let mut x = model.stem.forward(x);
    for block in &model.stages {
        x = block.forward(x);
    }
    adaptive_avg_pool2d(x, [1, 1]).flatten(1, 3)
}

/// Features of `photos` through `body`, batched, each decoded and preprocessed as its card
/// says; `progress` is told the photos done (read or skipped) after each batch. Photos that
/// cannot be read are skipped and listed; a class label past `classes` is an error.
pub async fn extract(
    body: &Classifier,
    classes: Vec<String>,
    photos: impl IntoIterator<Item = Photo>,
    device: &Device,
    progress: &mut dyn FnMut(usize),
) -> Result<Features> {
    check_classes(&classes)?;
    let p = body.card.preprocess.clone();
    let batch = batch_size(&body.card.architecture, &p)?;
    let dim = *body.card.architecture.dims.last().expect("a validated architecture has dims");
    let mut out = Features { classes, dim, ..Features::default() };
    let (mut inputs, mut pending) = (Vec::new(), Vec::new());
    let mut done = 0;
    for photo in photos {
        if photo.class >= out.classes.len() {
            return Err(Error::InvalidInput(format!(
                "{}: class {} but only {} classes",
                photo.name,
                photo.class,
                out.classes.len()
            )));
        }
        if out.len() + pending.len() == MAX_PHOTOS {
            return Err(Error::InvalidInput(format!("more than {MAX_PHOTOS} photos: take fewer")));
        }
        match photo.bytes.and_then(|b| p.input(&b).map_err(|e| e.to_string())) {
            Ok(input) => {
                inputs.extend(input);
                pending.push((photo.name, photo.class));
            }
            Err(e) => out.skipped.push(format!("{}: {e}", photo.name)),
        }
        done += 1;
        if pending.len() == batch {
            run_batch(body, &p, &mut inputs, &mut pending, &mut out, device).await?;
            progress(done);
        }
    }
    run_batch(body, &p, &mut inputs, &mut pending, &mut out, device).await?;
    progress(done);
    Ok(out)
}

async fn run_batch(
    body: &Classifier,
    p: &Preprocess,
    inputs: &mut Vec<f32>,
    pending: &mut Vec<(String, usize)>,
    out: &mut Features,
    device: &Device,
) -> Result<()> {
    if pending.is_empty() {
        return Ok(());
    }
    let shape = [pending.len(), p.channels, p.height, p.width];
    let x = Tensor::<4>::from_data(TensorData::new(std::mem::take(inputs), shape), device);
    let values = read_vec(pooled(&body.model, x).flatten::<1>(0, 1)).await?;
    if values.len() != pending.len() * out.dim {
        return Err(Error::Readback(format!("{} feature values for {} photos", values.len(), pending.len())));
    }
    out.values.extend(values);
    for (name, class) in pending.drain(..) {
        out.names.push(name);
        out.labels.push(class);
    }
    Ok(())
}
