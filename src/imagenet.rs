//! ImageNet class names and the official evaluation preprocessing (timm's, as the authors'
//! `main.py` uses it: resize the short side to 224 / 0.875 = 256 with bicubic, center crop 224,
//! normalize with the ImageNet mean and std).

use image::{DynamicImage, imageops::FilterType};

pub const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
pub const STD: [f32; 3] = [0.229, 0.224, 0.225];
pub const CROP_PCT: f64 = 0.875;

/// The 1000 class names, in the order of the logits.
pub fn class_names() -> Vec<&'static str> {
    include_str!("imagenet_classes.txt").lines().collect()
}

/// `[channels, size, size]` values (CHW, normalized) of `img` as the official evaluation sees
/// it. One channel takes the luma and the mean of the ImageNet statistics.
pub fn preprocess(img: &DynamicImage, size: usize, channels: usize, mean: &[f32], std: &[f32]) -> Vec<f32> {
    let scale = (size as f64 / CROP_PCT).floor() as u32;
    let (w, h) = (img.width().max(1), img.height().max(1));
    let (nw, nh) = if w <= h {
        (scale, ((h as f64) * scale as f64 / w as f64).round() as u32)
    } else {
        (((w as f64) * scale as f64 / h as f64).round() as u32, scale)
    };
    let resized = img.resize_exact(nw.max(size as u32), nh.max(size as u32), FilterType::CatmullRom);
    let (left, top) = ((resized.width() - size as u32) / 2, (resized.height() - size as u32) / 2);
    let crop = resized.crop_imm(left, top, size as u32, size as u32);
    let mut out = vec![0.0; channels * size * size];
    if channels == 1 {
        let gray = crop.to_luma8();
        for (i, p) in gray.pixels().enumerate() {
            out[i] = (p.0[0] as f32 / 255.0 - mean[0]) / std[0];
        }
    } else {
        let rgb = crop.to_rgb8();
        for (i, p) in rgb.pixels().enumerate() {
            for c in 0..channels.min(3) {
                out[c * size * size + i] = (p.0[c] as f32 / 255.0 - mean[c]) / std[c];
            }
        }
    }
    out
}
