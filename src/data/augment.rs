//! Training images changed on the fly (the authors' recipe trains on augmented images): a random
//! shift (pad, then crop back to size, as torchvision's `RandomCrop(padding)`), a left-right
//! mirror where the data says a mirrored image keeps its class, and random erasing. Each draw
//! comes from a stream made from the seed, the epoch and the step, so a run continued from a
//! snapshot sees the very batches it would have seen.

use burn::tensor::{Device, Int, Tensor};

use crate::data::dataset::{Dataset, Split};
use crate::model::init::{splitmix, unit};

/// A stream of random draws.
#[derive(Clone, Debug)]
pub struct Draws(u64);

impl Draws {
    /// The draws of one training step: from the run's seed, the epoch and the step within it
    /// (each mixed, so that neighbouring steps share nothing).
    pub fn of_step(seed: u64, epoch: usize, step: usize) -> Self {
        let mut state = seed;
        let mut mix = |v: u64| {
            state ^= v;
            splitmix(&mut state)
        };
        mix(0x6175_676D_656E_7421); // "augment!": apart from the shuffle's stream of the same seed
        mix(epoch as u64);
        Self(mix(step as u64))
    }

    fn next(&mut self) -> u64 {
        splitmix(&mut self.0)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        unit(&mut self.0)
    }
}

/// What is done to each training image, drawn anew each time it is seen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Augment {
    /// Shift by up to this many pixels each way, the uncovered border black (zeros), as
    /// padding then cropping back does.
    pub pad: usize,
    /// Mirror left-right half the time.
    pub flip: bool,
    /// Probability of erasing one rectangle (2% to 1/3 of the image, aspect 0.3 to 3.3, as
    /// torchvision's `RandomErasing`), filled with the data's mean (0 once normalised).
    pub erase: f64,
}

impl Augment {
    pub const NONE: Augment = Augment { pad: 0, flip: false, erase: 0.0 };

    pub fn is_none(&self) -> bool {
        self.pad == 0 && !self.flip && self.erase <= 0.0
    }

    /// Changes one image (`[channels, height, width]` bytes) in place; `fill` is the erased
    /// area's value per channel.
    pub fn apply(&self, image: &mut [u8], [c, h, w]: [usize; 3], fill: &[u8], draws: &mut Draws) {
        let plane = h * w;
        if self.pad > 0 {
            let (dy, dx) = (draws.below(2 * self.pad + 1), draws.below(2 * self.pad + 1));
            // Output (y, x) is the padded image's (y + dy, x + dx), the source's (y + dy - pad, ...).
            let source = image.to_vec();
            for ch in 0..c {
                for y in 0..h {
                    let sy = (y + dy).checked_sub(self.pad).filter(|&sy| sy < h);
                    for x in 0..w {
                        let sx = (x + dx).checked_sub(self.pad).filter(|&sx| sx < w);
                        image[ch * plane + y * w + x] = match (sy, sx) {
                            (Some(sy), Some(sx)) => source[ch * plane + sy * w + sx],
                            _ => 0,
                        };
                    }
                }
            }
        }
        if self.flip && draws.below(2) == 1 {
            for row in image.chunks_exact_mut(w) {
                row.reverse();
            }
        }
        if self.erase > 0.0 && draws.unit() < self.erase {
            self.erase_one(image, [c, h, w], fill, draws);
        }
    }

    fn erase_one(&self, image: &mut [u8], [c, h, w]: [usize; 3], fill: &[u8], draws: &mut Draws) {
        let area = (h * w) as f64;
        // As torchvision: up to ten tries at a rectangle that fits.
        for _ in 0..10 {
            let share = 0.02 + draws.unit() * (1.0 / 3.0 - 0.02);
            let ratio = ((0.3f64).ln() + draws.unit() * ((3.3f64).ln() - (0.3f64).ln())).exp();
            let eh = (share * area * ratio).sqrt().round() as usize;
            let ew = (share * area / ratio).sqrt().round() as usize;
            if eh == 0 || ew == 0 || eh >= h || ew >= w {
                continue;
            }
            let (top, left) = (draws.below(h - eh + 1), draws.below(w - ew + 1));
            for ch in 0..c {
                let value = fill.get(ch).copied().unwrap_or(0);
                for y in top..top + eh {
                    let row = ch * h * w + y * w;
                    image[row + left..row + left + ew].fill(value);
                }
            }
            return;
        }
    }
}

impl Dataset {
    /// The images `indices` of `split` as a normalised batch and their labels, each image
    /// changed by `augment` with `draws`. The mirror is left out where this data says a
    /// mirrored image is not of the same class.
    pub fn augmented_batch(
        &self,
        split: &Split,
        indices: &[usize],
        augment: &Augment,
        draws: &mut Draws,
        device: &Device,
    ) -> (Tensor<4>, Tensor<1, Int>) {
        let augment = Augment { flip: augment.flip && self.mirror, ..*augment };
        let image = self.image_len();
        let shape = [self.channels, self.height, self.width];
        let fill: Vec<u8> = self.normalize.mean.iter().map(|m| (m * 255.0).round().clamp(0.0, 255.0) as u8).collect();
        let mut pixels = Vec::with_capacity(indices.len() * image);
        for &i in indices {
            let start = pixels.len();
            pixels.extend_from_slice(&split.pixels[i * image..(i + 1) * image]);
            if !augment.is_none() {
                augment.apply(&mut pixels[start..], shape, &fill, draws);
            }
        }
        self.tensors(&pixels, split, indices, device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1x3x4 image whose pixel values are 1..=12.
    fn image() -> Vec<u8> {
        (1..=12).collect()
    }

    #[test]
    fn a_shift_moves_the_image_and_fills_with_zeros() {
        let shift = Augment { pad: 1, ..Augment::NONE };
        let mut seen = std::collections::HashSet::new();
        for seed in 0..200 {
            let mut img = image();
            shift.apply(&mut img, [1, 3, 4], &[0], &mut Draws::of_step(seed, 0, 0));
            // Every kept pixel is a source pixel shifted by the same offset.
            let kept: Vec<(usize, u8)> = img.iter().copied().enumerate().filter(|&(_, v)| v != 0).collect();
            let offset = |(i, v): (usize, u8)| {
                let s = v as usize - 1;
                ((s / 4) as i64 - (i / 4) as i64, (s % 4) as i64 - (i % 4) as i64)
            };
            let first = offset(kept[0]);
            assert!(kept.iter().all(|&k| offset(k) == first), "{img:?}");
            assert!(first.0.abs() <= 1 && first.1.abs() <= 1);
            seen.insert(first);
        }
        assert_eq!(seen.len(), 9, "every shift of up to one pixel each way is drawn");
    }

    #[test]
    fn a_mirror_reverses_each_row_and_erasing_fills_a_rectangle() {
        let flip = Augment { flip: true, ..Augment::NONE };
        let flipped = (0..50).find_map(|seed| {
            let mut img = image();
            flip.apply(&mut img, [1, 3, 4], &[0], &mut Draws::of_step(seed, 0, 0));
            (img != image()).then_some(img)
        });
        assert_eq!(flipped.unwrap(), vec![4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9]);
        let erase = Augment { erase: 1.0, ..Augment::NONE };
        let mut img = vec![9u8; 2 * 16 * 16];
        erase.apply(&mut img, [2, 16, 16], &[100, 200], &mut Draws::of_step(3, 1, 2));
        let (a, b) = img.split_at(256);
        let count = |p: &[u8], v: u8| p.iter().filter(|&&x| x == v).count();
        assert!(count(a, 100) >= 5 && count(a, 100) == count(b, 200), "the same rectangle in each channel");
        assert!(count(a, 100) < 256 / 3 + 16);
    }

    #[test]
    fn draws_follow_the_seed_epoch_and_step() {
        let all = |seed, epoch, step| {
            let mut d = Draws::of_step(seed, epoch, step);
            (0..8).map(|_| d.next()).collect::<Vec<_>>()
        };
        assert_eq!(all(42, 1, 7), all(42, 1, 7));
        assert_ne!(all(42, 1, 7), all(43, 1, 7));
        assert_ne!(all(42, 1, 7), all(42, 2, 7));
        assert_ne!(all(42, 1, 7), all(42, 1, 8));
    }
}
