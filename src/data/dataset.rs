//! Images and labels for training in the page: the built-in datasets (a compact binary format
//! made at build time) and the user's own images.

use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::data::preprocess::{Normalize, Preprocess};
use crate::error::{Error, Result};

const MAGIC: &[u8; 4] = b"VNDS";
/// Version 2 adds a flags word (bit 0: [`Dataset::mirror`]); version 1 files still read.
const VERSION: u32 = 2;
const MIRROR_FLAG: u32 = 1;

/// Images as bytes, `[n, channels, height, width]`, and one label each.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Split {
    pub pixels: Vec<u8>,
    pub labels: Vec<u8>,
}

impl Split {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    pub name: String,
    pub classes: Vec<String>,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub train: Split,
    pub test: Split,
    /// Per-channel mean and std of the training pixels (in [0, 1]): how inputs are normalised,
    /// here and in the card of a net trained on this data.
    pub normalize: Normalize,
    /// A left-right mirrored image is still of its class (clothes, photos), so training may
    /// mirror images; not for digits or letters, which a mirror makes into other shapes.
    pub mirror: bool,
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or_else(|| {
            Error::InvalidInput(format!("dataset file is truncated: {what} needs {n} bytes at offset {}", self.at))
        })?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn u32(&mut self, what: &str) -> Result<usize> {
        Ok(u32::from_le_bytes(self.take(4, what)?.try_into().unwrap()) as usize)
    }
}

impl Dataset {
    /// A dataset from images already decoded and resized, with statistics computed from `train`.
    pub fn new(
        name: impl Into<String>,
        classes: Vec<String>,
        [channels, height, width]: [usize; 3],
        train: Split,
        test: Split,
    ) -> Result<Self> {
        let image = super::bytes_per_image([channels, height, width])?;
        if classes.is_empty() || image == 0 {
            return Err(Error::InvalidInput("a dataset needs at least one class and a non-empty image size".into()));
        }
        for (what, split) in [("train", &train), ("test", &test)] {
            if split.len().checked_mul(image) != Some(split.pixels.len()) {
                return Err(Error::InvalidInput(format!(
                    "{what} split has {} labels but {} pixel bytes (expected {})",
                    split.len(),
                    split.pixels.len(),
                    split.len() as u128 * image as u128
                )));
            }
            if let Some(l) = split.labels.iter().find(|&&l| l as usize >= classes.len()) {
                return Err(Error::InvalidInput(format!(
                    "{what} split has label {l} but only {} classes",
                    classes.len()
                )));
            }
        }
        if train.is_empty() {
            return Err(Error::InvalidInput("the training split is empty: add images first".into()));
        }
        let (mut mean, mut std) = (vec![0f32; channels], vec![0f32; channels]);
        let plane = height * width;
        for c in 0..channels {
            let (mut sum, mut sq) = (0f64, 0f64);
            for img in train.pixels.chunks_exact(image) {
                for &p in &img[c * plane..(c + 1) * plane] {
                    let v = p as f64 / 255.0;
                    sum += v;
                    sq += v * v;
                }
            }
            let n = (train.len() * plane) as f64;
            let m = sum / n;
            mean[c] = m as f32;
            std[c] = ((sq / n - m * m).max(0.0).sqrt() as f32).max(1e-3);
        }
        Ok(Self {
            name: name.into(),
            classes,
            channels,
            height,
            width,
            train,
            test,
            normalize: Normalize { mean, std },
            mirror: false,
        })
    }

    /// The same data, saying whether a mirrored image keeps its class.
    pub fn with_mirror(self, mirror: bool) -> Self {
        Self { mirror, ..self }
    }

    /// Reads the format written by [`Dataset::to_bytes`] (and `scripts/build-data.mjs`).
    pub fn from_bytes(name: impl Into<String>, bytes: &[u8]) -> Result<Self> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(4, "magic")? != MAGIC {
            return Err(Error::InvalidInput("not a dataset file (no VNDS header)".into()));
        }
        let version = r.u32("version")?;
        if !(1..=VERSION as usize).contains(&version) {
            return Err(Error::InvalidInput(format!(
                "dataset format version {version}, this build reads 1 to {VERSION}"
            )));
        }
        let flags = if version >= 2 { Some(r.u32("flags")? as u32) } else { None };
        let (channels, height, width) = (r.u32("channels")?, r.u32("height")?, r.u32("width")?);
        let (n_classes, n_train, n_test) = (r.u32("classes")?, r.u32("train count")?, r.u32("test count")?);
        let mut classes = Vec::with_capacity(n_classes.min(1000));
        for i in 0..n_classes {
            let len = r.u32("class name length")?;
            let name = std::str::from_utf8(r.take(len, "class name")?)
                .map_err(|_| Error::InvalidInput(format!("class name {i} is not UTF-8")))?;
            classes.push(name.to_string());
        }
        let image = super::bytes_per_image([channels, height, width])?;
        let train_labels = r.take(n_train, "train labels")?.to_vec();
        let test_labels = r.take(n_test, "test labels")?.to_vec();
        let train_pixels = r.take(n_train.saturating_mul(image), "train pixels")?.to_vec();
        let test_pixels = r.take(n_test.saturating_mul(image), "test pixels")?.to_vec();
        // Version 1 files said nothing: the only ones written were the built-in sets, and of
        // those only the digits must not be mirrored.
        let digits = classes.iter().enumerate().all(|(i, c)| *c == i.to_string());
        let mirror = flags.map_or(!digits, |f| f & MIRROR_FLAG != 0);
        let data = Self::new(
            name,
            classes,
            [channels, height, width],
            Split { pixels: train_pixels, labels: train_labels },
            Split { pixels: test_pixels, labels: test_labels },
        )?;
        Ok(data.with_mirror(mirror))
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        let counts = [
            VERSION as usize,
            if self.mirror { MIRROR_FLAG as usize } else { 0 },
            self.channels,
            self.height,
            self.width,
            self.classes.len(),
            self.train.len(),
            self.test.len(),
        ];
        for v in counts {
            out.extend((v as u32).to_le_bytes());
        }
        for c in &self.classes {
            out.extend((c.len() as u32).to_le_bytes());
            out.extend(c.as_bytes());
        }
        for part in [&self.train.labels, &self.test.labels, &self.train.pixels, &self.test.pixels] {
            out.extend(part);
        }
        out
    }

    /// Labelled images (the user's own, or a folder's) split the page's way: every fifth image
    /// of each class is held out for testing. Photos of things: a mirrored one keeps its class.
    pub fn labelled(
        name: impl Into<String>,
        classes: Vec<String>,
        shape: [usize; 3],
        pixels: &[u8],
        labels: &[u8],
    ) -> Result<Self> {
        let image = super::bytes_per_image(shape)?;
        if labels.len().checked_mul(image) != Some(pixels.len()) {
            return Err(Error::InvalidInput(format!("{} labels but {} pixel bytes", labels.len(), pixels.len())));
        }
        let (mut train, mut test) = (Split::default(), Split::default());
        let mut seen = vec![0usize; classes.len()];
        for (i, &label) in labels.iter().enumerate() {
            let Some(count) = seen.get_mut(label as usize) else {
                return Err(Error::InvalidInput(format!("label {label} but only {} classes", classes.len())));
            };
            let split = if *count % 5 == 4 { &mut test } else { &mut train };
            *count += 1;
            split.pixels.extend_from_slice(&pixels[i * image..(i + 1) * image]);
            split.labels.push(label);
        }
        Ok(Self::new(name, classes, shape, train, test)?.with_mirror(true))
    }

    /// The first `train` and `test` images of each split (all where fewer), normalised as the
    /// whole set was. The built-in sets interleave classes, so any prefix is balanced.
    pub fn prefix(mut self, train: Option<usize>, test: Option<usize>) -> Self {
        let image = self.image_len();
        for (split, n) in [(&mut self.train, train), (&mut self.test, test)] {
            if let Some(n) = n.filter(|&n| n < split.len()) {
                split.labels.truncate(n);
                split.pixels.truncate(n * image);
                split.pixels.shrink_to_fit();
            }
        }
        self
    }

    pub fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Up to `per_class` training images of each class, the first ones (for thumbnails): their
    /// pixels concatenated, and their labels.
    pub fn samples(&self, per_class: usize) -> (Vec<u8>, Vec<u8>) {
        let image = self.image_len();
        let mut taken = vec![0; self.classes.len()];
        let (mut pixels, mut labels) = (Vec::new(), Vec::new());
        for (i, &l) in self.train.labels.iter().enumerate() {
            if taken[l as usize] < per_class {
                taken[l as usize] += 1;
                pixels.extend_from_slice(&self.train.pixels[i * image..(i + 1) * image]);
                labels.push(l);
            }
        }
        (pixels, labels)
    }

    /// Test image `index`'s pixels (`channels x height x width` bytes, CHW).
    pub fn test_image(&self, index: usize) -> Result<&[u8]> {
        if index >= self.test.len() {
            return Err(Error::InvalidInput(format!(
                "there is no test image {index}: the test set has {}",
                self.test.len()
            )));
        }
        let n = self.image_len();
        Ok(&self.test.pixels[index * n..(index + 1) * n])
    }

    /// How an image file becomes an input like this data's: what a net trained on it needs.
    pub fn preprocess(&self) -> Preprocess {
        Preprocess::center_crop(self.channels, self.height, self.width, self.normalize.clone())
    }

    /// Training images per class.
    pub fn train_per_class(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes.len()];
        for &l in &self.train.labels {
            counts[l as usize] += 1;
        }
        counts
    }

    /// The images `indices` of `split` as a normalised batch and their labels.
    pub fn batch(&self, split: &Split, indices: &[usize], device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
        let image = self.image_len();
        let mut pixels = Vec::with_capacity(indices.len() * image);
        for &i in indices {
            pixels.extend_from_slice(&split.pixels[i * image..(i + 1) * image]);
        }
        self.tensors(&pixels, split, indices, device)
    }

    /// `pixels` (the images `indices` of `split`, as bytes, changed or not) normalised, and
    /// their labels: the one place a batch becomes tensors.
    pub(crate) fn tensors(
        &self,
        pixels: &[u8],
        split: &Split,
        indices: &[usize],
        device: &Device,
    ) -> (Tensor<4>, Tensor<1, Int>) {
        let x = TensorData::new(
            self.normalize.apply(pixels, self.height * self.width),
            [indices.len(), self.channels, self.height, self.width],
        );
        let y = TensorData::new(indices.iter().map(|&i| split.labels[i] as i64).collect::<Vec<_>>(), [indices.len()]);
        (Tensor::from_data(x, device), Tensor::from_data(y, device))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn samples_take_the_first_of_each_class_and_test_images_are_bounded() {
        let labels = [0u8, 0, 1, 0, 1, 1, 1];
        let pixels: Vec<u8> = (0..7).collect();
        let d = Dataset::new(
            "d",
            vec!["a".into(), "b".into()],
            [1, 1, 1],
            Split { pixels: pixels.clone(), labels: labels.to_vec() },
            Split { pixels: vec![7, 8], labels: vec![0, 1] },
        )
        .unwrap();
        assert_eq!(d.samples(2), (vec![0, 1, 2, 4], vec![0, 0, 1, 1]));
        assert_eq!(d.test_image(1).unwrap(), &[8]);
        assert!(d.test_image(2).unwrap_err().to_string().contains("there is no test image 2: the test set has 2"));
    }

    use super::*;

    fn tiny() -> Dataset {
        let split =
            |labels: Vec<u8>| Split { pixels: labels.iter().flat_map(|&l| [l * 50, 255, 0, 10]).collect(), labels };
        Dataset::new("tiny", vec!["a".into(), "b".into()], [1, 2, 2], split(vec![0, 1, 1]), split(vec![1])).unwrap()
    }

    #[test]
    fn bytes_round_trip_and_statistics() {
        let d = tiny();
        assert_eq!(Dataset::from_bytes("tiny", &d.to_bytes()).unwrap(), d);
        // Pixels 0/50/50, 255 x3, 0 x3, 10 x3 over 12 values.
        let mean = (100.0 + 765.0 + 30.0) / 12.0 / 255.0;
        assert!((d.normalize.mean[0] - mean).abs() < 1e-6);
        assert_eq!(d.train_per_class(), vec![1, 2]);
    }

    #[test]
    fn whether_to_mirror_is_saved_and_version_1_files_still_read() {
        let mirrored = tiny().with_mirror(true);
        assert!(Dataset::from_bytes("tiny", &mirrored.to_bytes()).unwrap().mirror);
        assert!(!Dataset::from_bytes("tiny", &tiny().to_bytes()).unwrap().mirror);
        // Version 1: no flags word; the digits are not mirrored, other classes are.
        let v1 = |d: &Dataset| {
            let mut bytes = d.to_bytes();
            bytes[4] = 1;
            bytes.drain(8..12);
            Dataset::from_bytes("old", &bytes).unwrap()
        };
        assert!(v1(&tiny()).mirror);
        let digits = Dataset { classes: vec!["0".into(), "1".into()], ..tiny() };
        assert!(!v1(&digits).mirror);
        assert_eq!(v1(&digits).train, digits.train);
    }

    #[test]
    fn reader_names_what_is_wrong() {
        let bytes = tiny().to_bytes();
        let err = |b: &[u8]| Dataset::from_bytes("x", b).unwrap_err().to_string();
        assert!(err(b"nope").contains("no VNDS header"));
        assert!(err(&bytes[..bytes.len() - 1]).contains("truncated"));
        let mut bad_label = bytes.clone();
        let labels_at = bytes.len() - 4 * 4 - 4;
        bad_label[labels_at] = 7;
        assert!(err(&bad_label).contains("label 7"), "{}", err(&bad_label));
        let mut version = bytes.clone();
        version[4] = 9;
        assert!(err(&version).contains("version 9"));
    }

    #[test]
    fn labelled_holds_every_fifth_image_of_a_class_out() {
        // Two classes interleaved (image i has the pixel value i): each class's own 5th and 10th
        // image is held out, not every fifth image of the whole list.
        let labels: Vec<u8> = (0..20).map(|i| i % 2).collect();
        let pixels: Vec<u8> = (0..20).collect();
        let d = Dataset::labelled("own", vec!["a".into(), "b".into()], [1, 1, 1], &pixels, &labels).unwrap();
        assert_eq!((d.train.len(), d.test.len()), (16, 4));
        assert_eq!(d.test.pixels, vec![8, 9, 18, 19]);
        assert_eq!(d.test.labels, vec![0, 1, 0, 1]);
        // A class with fewer than five images has none held out; the others still do.
        let labels = [0, 0, 0, 1, 1, 1, 1, 1];
        let d = Dataset::labelled("own", vec!["a".into(), "b".into()], [1, 1, 1], &[0; 8], &labels).unwrap();
        assert_eq!(d.test.labels, vec![1]);
    }
}
