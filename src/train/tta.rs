//! Test-time augmentation: a net's class probabilities averaged over an image and copies of it
//! (its left-right mirror, where the data says a mirror keeps the class; the image moved one
//! pixel up, down, left and right), so that an answer leans less on where exactly the thing
//! sits. On short runs this measured the largest single gain (flip TTA, +0.5 points on
//! CIFAR-10 in the fast-training work issue 33 cites), for 2 (mirror) or 6 (mirror and shifts)
//! forwards an image.

use burn::tensor::activation::softmax;
use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::data::preprocess::Normalize;
use crate::train::table::OptionValue;

/// Which copies of each test image an evaluation averages over, beside the image itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[cfg_attr(not(target_arch = "wasm32"), derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Tta {
    /// The image alone: what the plain accuracy is.
    Off,
    /// The image and its left-right mirror (where the data allows a mirror): twice the
    /// forwards, the gain the fast-training work measured largest.
    #[default]
    Mirror,
    /// The image and its one-pixel shifts up, down, left and right (black comes in at the
    /// edge): five forwards.
    Shifts,
    /// The mirror and the four shifts: six forwards.
    MirrorShifts,
}

impl OptionValue for Tta {}

/// One copy of an image that test-time augmentation looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Identity,
    /// Left-right.
    Mirror,
    /// Moved `down` rows and `right` columns (each -1, 0 or 1); what comes in is black.
    Shift {
        down: i8,
        right: i8,
    },
}

/// The four one-pixel shifts: down, up, right, left.
const SHIFTS: [View; 4] = [
    View::Shift { down: 1, right: 0 },
    View::Shift { down: -1, right: 0 },
    View::Shift { down: 0, right: 1 },
    View::Shift { down: 0, right: -1 },
];

impl Tta {
    pub const ALL: [Tta; 4] = [Tta::Off, Tta::Mirror, Tta::Shifts, Tta::MirrorShifts];

    /// What is done on data that `mirror`s or not: the mirror only where a mirrored image keeps
    /// its class (not digits), so on such data Mirror is Off and MirrorShifts is Shifts.
    pub fn for_data(self, mirror: bool) -> Tta {
        match self {
            Tta::Mirror if !mirror => Tta::Off,
            Tta::MirrorShifts if !mirror => Tta::Shifts,
            tta => tta,
        }
    }

    /// The copies looked at, the image itself first.
    pub fn views(self) -> Vec<View> {
        let mut views = vec![View::Identity];
        if matches!(self, Tta::Mirror | Tta::MirrorShifts) {
            views.push(View::Mirror);
        }
        if matches!(self, Tta::Shifts | Tta::MirrorShifts) {
            views.extend(SHIFTS);
        }
        views
    }

    /// Only for a record from before TTA: what it was evaluated with.
    pub(crate) fn off() -> Tta {
        Tta::Off
    }
}

/// A black pixel's input value in each channel: what a shift brings in at the edge, as a padded
/// random crop does in training. Made by the same normalisation every batch goes through.
pub fn black(normalize: &Normalize) -> Vec<f32> {
    normalize.apply(&vec![0; normalize.mean.len()], 1)
}

/// `x` (a batch, `[n, c, h, w]`) as `view` sees it; `fill` is [`black`] of its channels.
pub fn view(x: Tensor<4>, view: View, fill: &[f32]) -> Tensor<4> {
    match view {
        View::Identity => x,
        View::Mirror => x.flip([3]),
        View::Shift { down, right } => shift(shift(x, 2, down, fill), 3, right, fill),
    }
}

/// `x` moved one step (`by` -1 or 1; 0 leaves it) along `dim` (2: rows, 3: columns), the line
/// that comes in filled with each channel's `fill`.
fn shift(x: Tensor<4>, dim: usize, by: i8, fill: &[f32]) -> Tensor<4> {
    let [n, c, h, w] = x.dims();
    let len = if dim == 2 { h } else { w };
    if by == 0 || len == 0 {
        return x;
    }
    let mut edge = [n, c, h, w];
    edge[dim] = 1;
    let line = Tensor::<4>::from_data(TensorData::new(fill.to_vec(), [1, c, 1, 1]), &x.device())
        .repeat_dim(0, n)
        .repeat_dim(2, edge[2])
        .repeat_dim(3, edge[3]);
    if len == 1 {
        return line;
    }
    let parts = if by > 0 { vec![line, x.narrow(dim, 0, len - 1)] } else { vec![x.narrow(dim, 1, len - 1), line] };
    Tensor::cat(parts, dim)
}

/// The class probabilities of a batch: the plain ones (the image alone) and, when `tta` looks
/// at more than the image, their mean over its views. One forward a view, the image's shared.
pub fn probabilities(
    logits: &impl Fn(Tensor<4>) -> Tensor<2>,
    x: Tensor<4>,
    tta: Tta,
    fill: &[f32],
) -> (Tensor<2>, Option<Tensor<2>>) {
    let plain = softmax(logits(x.clone()), 1);
    let views = tta.views();
    if views.len() == 1 {
        return (plain, None);
    }
    let mut sum = plain.clone();
    for &v in &views[1..] {
        sum = sum + softmax(logits(view(x.clone(), v, fill)), 1);
    }
    (plain, Some(sum / views.len() as f32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().convert::<f32>().try_into_vec::<f32>().unwrap()
    }

    #[test]
    fn views_drop_the_mirror_where_the_data_forbids_it() {
        assert_eq!(Tta::Off.views(), vec![View::Identity]);
        assert_eq!(Tta::Mirror.views(), vec![View::Identity, View::Mirror]);
        assert_eq!(Tta::Shifts.views().len(), 5);
        assert_eq!(Tta::MirrorShifts.views().len(), 6);
        assert_eq!(Tta::Mirror.for_data(false), Tta::Off);
        assert_eq!(Tta::MirrorShifts.for_data(false), Tta::Shifts);
        assert!(Tta::ALL.iter().all(|&t| t.for_data(true) == t));
        assert_eq!(Tta::Shifts.for_data(false), Tta::Shifts);
        let names: Vec<_> = Tta::ALL.iter().map(|t| serde_json::to_value(t).unwrap()).collect();
        assert_eq!(names, ["off", "mirror", "shifts", "mirror-shifts"]);
    }

    #[test]
    fn a_shift_moves_by_exactly_one_pixel_and_brings_in_black() {
        // Two images of two channels, 3 rows by 4 columns; every value distinct and nonzero.
        let (n, c, h, w) = (2, 2, 3, 4);
        let pixels: Vec<f32> = (0..n * c * h * w).map(|i| 1.0 + i as f32).collect();
        let device = Device::flex();
        let x = Tensor::<4>::from_data(TensorData::new(pixels.clone(), [n, c, h, w]), &device);
        let normalize = Normalize { mean: vec![0.25, 0.5], std: vec![0.5, 2.0] };
        let fill = black(&normalize);
        assert_eq!(fill, vec![-0.5, -0.25]);
        let at = |i: usize, ch: usize, y: usize, x: usize| pixels[((i * c + ch) * h + y) * w + x];
        for (down, right) in [(1i8, 0i8), (-1, 0), (0, 1), (0, -1)] {
            let moved = values(view(x.clone(), View::Shift { down, right }, &fill));
            for (i, ch, y, col) in (0..n)
                .flat_map(|i| (0..c).flat_map(move |ch| (0..h).flat_map(move |y| (0..w).map(move |x| (i, ch, y, x)))))
            {
                let (from_y, from_x) = (y as i64 - down as i64, col as i64 - right as i64);
                let expected = if (0..h as i64).contains(&from_y) && (0..w as i64).contains(&from_x) {
                    at(i, ch, from_y as usize, from_x as usize)
                } else {
                    fill[ch]
                };
                assert_eq!(
                    moved[((i * c + ch) * h + y) * w + col],
                    expected,
                    "shift ({down}, {right}) at {i} {ch} {y} {col}"
                );
            }
        }
        let mirrored = values(view(x.clone(), View::Mirror, &fill));
        assert_eq!(mirrored[0..w], [4.0, 3.0, 2.0, 1.0]);
        assert_eq!(values(view(x.clone(), View::Identity, &fill)), pixels);
        // A one-pixel-high image shifted down is all black.
        let row = Tensor::<4>::from_data(TensorData::new(vec![1.0f32, 2.0], [1, 2, 1, 1]), &device);
        assert_eq!(values(view(row, View::Shift { down: 1, right: 0 }, &fill)), fill);
    }
}
