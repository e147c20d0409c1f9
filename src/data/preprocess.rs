//! From image file bytes to network input: decoding with limits (user files are untrusted), then
//! resize and crop as the model was trained or evaluated, then per-channel normalisation.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, imageops::FilterType};
use serde::{Deserialize, Serialize};

use crate::data::imagenet;
use crate::error::{Error, Result};

/// Largest side accepted: a photo fits, a header declaring a gigapixel image does not.
pub const MAX_SIDE: u32 = 16_384;
/// Largest decoded size: with RGBA that is about 64 megapixels.
pub const MAX_DECODED_BYTES: u64 = 256 * 1024 * 1024;
/// Largest network input side a card may ask for (the official models take 224).
pub const MAX_INPUT_SIDE: usize = 1024;

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
    let mut header = ImageReader::with_format(Cursor::new(bytes), format);
    // Only the header is read here; the limits apply to the decode below.
    header.no_limits();
    let (w, h) = header
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
    let damaged = |e| Error::InvalidInput(format!("cannot decode this {format:?} image (truncated or damaged?): {e}"));
    let mut decoder = reader.into_decoder().map_err(damaged)?;
    // A phone photo taken upright is stored sideways with an EXIF orientation: shown and
    // classified upright, as browsers show it. An unreadable tag leaves the pixels as stored.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(damaged)?;
    img.apply_orientation(orientation);
    Ok(img)
}

/// How an image becomes a network input of `height x width`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
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
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
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
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
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

    /// Checks a preprocessing that may come from a file (a model card): each problem named.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::InvalidConfig(format!("preprocessing: {m}")));
        if !matches!(self.channels, 1 | 3) {
            return bad(format!("{} channels; images give 1 (grey) or 3 (RGB)", self.channels));
        }
        if !(1..=MAX_INPUT_SIDE).contains(&self.height) || !(1..=MAX_INPUT_SIDE).contains(&self.width) {
            return bad(format!(
                "input {}x{}; each side must be 1 to {MAX_INPUT_SIDE} pixels",
                self.height, self.width
            ));
        }
        if !self.normalize.usable(self.channels) {
            return bad(format!("mean and std need one finite value per channel ({}), std above 0", self.channels));
        }
        if let Resize::ShortSideCrop { crop_pct } = self.resize {
            if !(0.1..=1.0).contains(&crop_pct) {
                return bad(format!("crop_pct {crop_pct}; it must be within [0.1, 1]"));
            }
        }
        Ok(())
    }

    /// The centred window `(width, height)` of a `w x h` source that becomes the input. It is
    /// cropped in source pixels, then resized: the work is the output's size, whatever the
    /// source's shape.
    pub fn source_window(&self, w: u32, h: u32) -> (u32, u32) {
        let (th, tw) = (self.height as u64, self.width as u64);
        let (w, h) = (w.max(1), h.max(1));
        match self.resize {
            // The largest centred window of the target's aspect ratio.
            Resize::CenterCrop => {
                if u64::from(w) * th > u64::from(h) * tw {
                    ((u64::from(h) * tw / th).max(1) as u32, h)
                } else {
                    (w, (u64::from(w) * th / tw).max(1) as u32)
                }
            }
            // The official order is "short side to size / crop_pct, then the centre crop"; the
            // same window in source pixels gives the same picture without resizing the whole
            // (a 1x16384 image would otherwise become 256x4194304 first).
            Resize::ShortSideCrop { crop_pct } => {
                let scale = (th.min(tw) as f64 / crop_pct).floor() / w.min(h) as f64;
                let window = |t: u64, side: u32| ((t as f64 / scale).round() as u32).clamp(1, side);
                (window(tw, w), window(th, h))
            }
        }
    }

    /// `channels x height x width` bytes (CHW), cropped and resized.
    pub fn pixels(&self, img: &DynamicImage) -> Vec<u8> {
        let (th, tw) = (self.height as u32, self.width as u32);
        let (w, h) = (img.width().max(1), img.height().max(1));
        let (cw, ch) = self.source_window(w, h);
        let filter = match self.resize {
            Resize::CenterCrop => FilterType::Triangle,
            Resize::ShortSideCrop { .. } => FilterType::CatmullRom,
        };
        let crop = img.crop_imm((w - cw) / 2, (h - ch) / 2, cw, ch).resize_exact(tw, th, filter);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_cropped_in_source_pixels() {
        let official = Preprocess::imagenet(224, 3);
        // Short side 256, then the centre 224: 7/8 of the short side.
        assert_eq!(official.source_window(512, 1024), (448, 448));
        assert_eq!(official.source_window(1024, 512), (448, 448));
        // A 1x16384 strip: one source pixel stretched, never a 256x4194304 intermediate.
        assert_eq!(official.source_window(1, 16384), (1, 1));
        let page = Preprocess::center_crop(1, 28, 28, Normalize::identity(1));
        assert_eq!(page.source_window(300, 200), (200, 200));
        assert_eq!(page.source_window(16384, 1), (1, 1));
        let img = DynamicImage::new_rgb8(1, 16384);
        assert_eq!(official.pixels(&img).len(), 3 * 224 * 224);
    }

    #[test]
    fn cards_cannot_ask_for_absurd_preprocessing() {
        let err = |p: Preprocess| p.validate().unwrap_err().to_string();
        let base = Preprocess::imagenet(224, 3);
        assert!(err(Preprocess { height: 100_000, ..base.clone() }).contains("1 to 1024"));
        assert!(err(Preprocess { channels: 4, ..base.clone() }).contains("4 channels"));
        assert!(
            err(Preprocess { resize: Resize::ShortSideCrop { crop_pct: 1e-9 }, ..base.clone() }).contains("crop_pct")
        );
        let nan = Normalize { mean: vec![f32::NAN; 3], std: vec![1.0; 3] };
        assert!(err(Preprocess { normalize: nan, ..base.clone() }).contains("finite"));
        assert!(base.validate().is_ok());
    }

    /// A JPEG with an EXIF orientation tag (6: the stored pixels need turning 90 degrees
    /// clockwise), as phones write them.
    fn jpeg_with_orientation(w: u32, h: u32, orientation: u8) -> Vec<u8> {
        let mut plain = Vec::new();
        image::RgbImage::from_fn(w, h, |x, _| image::Rgb([if x < w / 2 { 250 } else { 5 }, 0, 0]))
            .write_to(&mut Cursor::new(&mut plain), ImageFormat::Jpeg)
            .unwrap();
        let mut tiff = b"MM\0\x2a\0\0\0\x08\0\x01".to_vec();
        tiff.extend([0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0]);
        let mut app1 = vec![0xFF, 0xE1];
        app1.extend(((2 + 6 + tiff.len()) as u16).to_be_bytes());
        app1.extend(b"Exif\0\0");
        app1.extend(tiff);
        [&plain[..2], &app1[..], &plain[2..]].concat()
    }

    #[test]
    fn exif_orientation_is_honoured() {
        let size = |img: &DynamicImage| (img.width(), img.height());
        assert_eq!(size(&decode(&jpeg_with_orientation(40, 20, 1)).unwrap()), (40, 20));
        let upright = decode(&jpeg_with_orientation(40, 20, 6)).unwrap();
        assert_eq!(size(&upright), (20, 40));
        // The bright left half of the stored image is the top after turning clockwise.
        let rgb = upright.to_rgb8();
        assert!(rgb.get_pixel(10, 5).0[0] > 200 && rgb.get_pixel(10, 35).0[0] < 50);
    }
}
