//! The validation split: training images held out to choose a recipe, a schedule or a number of
//! epochs on, so that the test set is only ever used for the numbers reported. The choice is a
//! fixed seeded draw per class, in proportion to the class's size, the same for every training
//! seed: runs that differ in their recipe are compared on the same images.

use crate::data::dataset::{Dataset, Split};
use crate::model::init::splitmix;

/// The seed of the draw every trainer uses (not the training seed, which varies between runs
/// that must be compared on the same validation images).
pub const VALIDATION_SEED: u64 = 0x5EED_0F_DA7A;

/// `data` with a share of each class's training images moved out (`round(share * n)` of a class
/// of `n`, at least one image left to train on), and the images moved, in their original
/// order. A share of 0 moves none.
pub fn hold_out(mut data: Dataset, share: f64, seed: u64) -> (Dataset, Split) {
    let image = data.image_len();
    let labels = &data.train.labels;
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); data.classes.len()];
    for (i, &l) in labels.iter().enumerate() {
        by_class[l as usize].push(i);
    }
    let mut held = vec![false; labels.len()];
    let mut state = seed;
    for members in &mut by_class {
        let n = members.len();
        let k = ((share.clamp(0.0, 1.0) * n as f64).round() as usize).min(n.saturating_sub(1));
        // A partial Fisher-Yates shuffle: the first k of a seeded permutation of the class.
        for i in 0..k {
            let j = i + (splitmix(&mut state) % (n - i) as u64) as usize;
            members.swap(i, j);
            held[members[i]] = true;
        }
    }
    if !held.contains(&true) {
        return (data, Split::default());
    }
    let (mut train, mut validation) = (Split::default(), Split::default());
    for (i, &l) in labels.iter().enumerate() {
        let to = if held[i] { &mut validation } else { &mut train };
        to.pixels.extend_from_slice(&data.train.pixels[i * image..(i + 1) * image]);
        to.labels.push(l);
    }
    data.train = train;
    (data, validation)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 3 classes of 12, 24 and 1 images; image i's single pixel is i (so images are told apart).
    fn data() -> Dataset {
        let labels: Vec<u8> = (0..37).map(|i| if i == 36 { 2 } else { (i % 3).min(1) as u8 }).collect();
        let pixels: Vec<u8> = (0..37).collect();
        let test = Split { pixels: vec![0], labels: vec![0] };
        Dataset::new("d", vec!["a".into(), "b".into(), "c".into()], [1, 1, 1], Split { pixels, labels }, test).unwrap()
    }

    #[test]
    fn held_out_images_are_a_per_class_share_disjoint_from_training() {
        let (train, validation) = hold_out(data(), 0.25, 7);
        let count = |s: &Split, c: u8| s.labels.iter().filter(|&&l| l == c).count();
        // Class a: 12 images, b: 24, c: 1 (its only image stays to train on).
        assert_eq!([count(&validation, 0), count(&validation, 1), count(&validation, 2)], [3, 6, 0]);
        assert_eq!(train.train.len() + validation.len(), 37);
        let mut all: Vec<u8> = train.train.pixels.iter().chain(&validation.pixels).copied().collect();
        all.sort();
        assert_eq!(all, (0..37).collect::<Vec<u8>>(), "every image once: disjoint and nothing lost");
        for (p, l) in validation.pixels.iter().zip(&validation.labels) {
            assert_eq!(data().train.labels[*p as usize], *l, "each image keeps its label");
        }
        assert_eq!(train.normalize, data().normalize, "inputs are normalised as before");
    }

    #[test]
    fn the_draw_is_fixed_by_the_seed() {
        let a = hold_out(data(), 0.25, 7).1;
        assert_eq!(a, hold_out(data(), 0.25, 7).1);
        assert_ne!(a.pixels, hold_out(data(), 0.25, 8).1.pixels);
        assert!(hold_out(data(), 0.0, 7).1.is_empty());
        assert_eq!(hold_out(data(), 0.0, 7).0, data());
    }
}
