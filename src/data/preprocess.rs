//! From image file bytes to network input: decoding with limits (user files are untrusted), then
//! resize and crop as the model was trained or evaluated, then per-channel normalisation.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, ImageReader, Limits, imageops::FilterType};
use serde::{Deserialize, Serialize};

use crate::data::imagenet;
use crate::error::{Error, Result};

/// Largest side accepted: a photo fits, a header declaring a gigapixel image does not.
pub const MAX_SIDE: u32 = 16_384;
/// Largest decoded size: with RGBA that is about 64 megapixels.
pub const MAX_DECODED_BYTES: u64 = 256 * 1024 * 1024;

/// Decodes PNG, JPEG, WebP, BMP or GIF (first frame). Every other input gets a message that
/// names the problem: empty, not an image, a format we don't read, dimensions too large, or
/// damaged data.
pub fn decode(bytes: &[u8]) -> Result<DynamicImage> {
    let bad = |m: String| Err(Error::InvalidInput(m));
    if bytes.is_empty() {
        return bad("the file is empty (0 bytes)".into());
    }
    let reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(Error::Io)?;
    let Some(format) = reader.format() else {
        return bad("not an image: PNG, JPEG, WebP, BMP and GIF are read".into());
    };
    let readable = [ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::WebP, ImageFormat::Bmp, ImageFormat::Gif];
    if !readable.contains(&format) {
        return bad(format!("{format:?} images are not supported: use PNG, JPEG, WebP, BMP or GIF"));
    }
    // The header alone tells the size: refuse before any pixel buffer is allocated.
    let mut probe = ImageReader::with_format(Cursor::new(bytes), format);
    // Only the header is read here; the limits apply to the decode below.
    probe.no_limits();
    let (w, h) = probe
        .into_dimensions()
        .map_err(|e| match e {
            // A 32-bit decoder can't even size such an image.
            image::ImageError::Limits(_) => Error::InvalidInput(format!(
                "the {format:?} header declares an image too large to decode; at most {MAX_SIDE} pixels per side and {} megapixels are decoded",
                MAX_DECODED_BYTES / 4 / 1_000_000
            )),
            e => Error::InvalidInput(format!("damaged {format:?} header: {e}")),
        })?;
    if w == 0 || h == 0 {
        return bad(format!("the {format:?} header declares an empty {w}x{h} image"));
    }
    if w > MAX_SIDE || h > MAX_SIDE || u64::from(w) * u64::from(h) * 4 > MAX_DECODED_BYTES {
        return bad(format!(
            "the image declares {w}x{h} pixels; at most {MAX_SIDE} per side and {} megapixels are decoded",
            MAX_DECODED_BYTES / 4 / 1_000_000
        ));
    }
    let mut reader = reader;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(limits);
    reader
        .decode()
        .map_err(|e| Error::InvalidInput(format!("cannot decode this {format:?} image (truncated or damaged?): {e}")))
}

/// How an image becomes a network input of `height x width`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Resize {
    /// Centre crop to the input's aspect ratio, then resize (bilinear): how images dropped into
    /// the page become training data.
    CenterCrop,
    /// The official evaluation (timm, as the authors' `main.py` uses it): short side to
    /// `size / crop_pct` with bicubic, then the centre `size` crop.
    #[serde(rename_all = "camelCase")]
    ShortSideCrop { crop_pct: f64 },
}

/// Per-channel normalisation of pixel values in [0, 1]: `(p / 255 - mean) / std`. A dataset
/// owns the one its net is trained with, and the net's card carries it on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Normalize {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl Normalize {
    /// Pixel values as they are, scaled to [0, 1].
    pub fn identity(channels: usize) -> Self {
        Self { mean: vec![0.0; channels], std: vec![1.0; channels] }
    }

    /// Network inputs of CHW images (`plane = height * width` pixels a channel, any number of
    /// images back to back).
    pub fn apply(&self, pixels: &[u8], plane: usize) -> Vec<f32> {
        let channels = self.mean.len();
        pixels
            .iter()
            .enumerate()
            .map(|(i, &p)| {
                let c = (i / plane) % channels;
                (p as f32 / 255.0 - self.mean[c]) / self.std[c]
            })
            .collect()
    }

    fn usable(&self, channels: usize) -> bool {
        self.mean.len() == channels
            && self.std.len() == channels
            && self.mean.iter().all(|m| m.is_finite())
            && self.std.iter().all(|s| s.is_finite() && *s > 0.0)
    }
}

/// Everything that turns an image into what the model expects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preprocess {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub resize: Resize,
    /// `mean` and `std` per channel, on values in [0, 1].
    #[serde(flatten)]
    pub normalize: Normalize,
}

impl Preprocess {
    /// The official ImageNet evaluation at `size` (224 for every released checkpoint).
    pub fn imagenet(size: usize, channels: usize) -> Self {
        let (mean, std) = if channels == 1 {
            // One channel sees the luma; it gets the mean of the ImageNet statistics.
            (vec![0.449], vec![0.226])
        } else {
            (imagenet::MEAN.to_vec(), imagenet::STD.to_vec())
        };
        Self {
            channels,
            height: size,
            width: size,
            resize: Resize::ShortSideCrop { crop_pct: imagenet::CROP_PCT },
            normalize: Normalize { mean, std },
        }
    }

    /// How the page makes training images of its own: centre crop to the aspect ratio, resize,
    /// then `normalize`.
    pub fn center_crop(channels: usize, height: usize, width: usize, normalize: Normalize) -> Self {
        Self { channels, height, width, resize: Resize::CenterCrop, normalize }
    }

    pub fn validate(&self) -> Result<()> {
        let ok = matches!(self.channels, 1 | 3)
            && self.height > 0
            && self.width > 0
            && self.height <= 4096
            && self.width <= 4096
            && self.normalize.usable(self.channels)
            && !matches!(self.resize, Resize::ShortSideCrop { crop_pct } if !(crop_pct > 0.0 && crop_pct <= 1.0));
        if ok { Ok(()) } else { Err(Error::InvalidConfig(format!("unusable preprocessing {self:?}"))) }
    }

    /// `channels x height x width` bytes (CHW), resized and cropped.
    pub fn pixels(&self, img: &DynamicImage) -> Vec<u8> {
        let (th, tw) = (self.height as u32, self.width as u32);
        let (w, h) = (img.width().max(1), img.height().max(1));
        let crop = match self.resize {
            Resize::CenterCrop => {
                // The largest centred window of the target's aspect ratio.
                let (cw, ch) = if u64::from(w) * u64::from(th) > u64::from(h) * u64::from(tw) {
                    ((u64::from(h) * u64::from(tw) / u64::from(th)).max(1) as u32, h)
                } else {
                    (w, (u64::from(w) * u64::from(th) / u64::from(tw)).max(1) as u32)
                };
                img.crop_imm((w - cw) / 2, (h - ch) / 2, cw, ch).resize_exact(tw, th, FilterType::Triangle)
            }
            Resize::ShortSideCrop { crop_pct } => {
                let scale = (th.min(tw) as f64 / crop_pct).floor() as u32;
                let (nw, nh) = if w <= h {
                    (scale, (h as f64 * scale as f64 / w as f64).round() as u32)
                } else {
                    ((w as f64 * scale as f64 / h as f64).round() as u32, scale)
                };
                let resized = img.resize_exact(nw.max(tw), nh.max(th), FilterType::CatmullRom);
                resized.crop_imm((resized.width() - tw) / 2, (resized.height() - th) / 2, tw, th)
            }
        };
        let plane = self.height * self.width;
        let mut out = vec![0u8; self.channels * plane];
        if self.channels == 1 {
            for (i, p) in crop.to_luma8().pixels().enumerate() {
                out[i] = p.0[0];
            }
        } else {
            for (i, p) in crop.to_rgb8().pixels().enumerate() {
                for c in 0..3 {
                    out[c * plane + i] = p.0[c];
                }
            }
        }
        out
    }

    /// Decode, resize, normalize: one image's input values.
    pub fn input(&self, bytes: &[u8]) -> Result<Vec<f32>> {
        Ok(self.normalize.apply(&self.pixels(&decode(bytes)?), self.height * self.width))
    }
}
