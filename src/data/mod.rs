//! Images and datasets: decoding and preprocessing image files, the built-in datasets' format,
//! the user's own images, folders of class folders, training images augmented on the fly.

pub mod augment;
pub mod dataset;
#[cfg(not(target_arch = "wasm32"))]
pub mod folder;
pub mod imagenet;
pub mod preprocess;
pub mod validation;

use crate::error::{Error, Result};

/// The built-in datasets, by the names the CLI's `--data` and the page use: the page fetches
/// `www/data/<name>.vnds` (written by `scripts/build-data.mjs`), the CLI reads the same files.
pub const BUILTIN_DATASETS: [&str; 2] = ["fashion-mnist", "mnist"];

/// The bytes of one image of `[channels, height, width]`: shapes come from files and from the
/// page, and one whose size no memory holds is refused, not wrapped (or overflowed) into a
/// small one.
pub(crate) fn bytes_per_image([channels, height, width]: [usize; 3]) -> Result<usize> {
    channels.checked_mul(height).and_then(|n| n.checked_mul(width)).ok_or_else(|| {
        Error::InvalidInput(format!(
            "images of {channels} channels, height {height} and width {width}: more bytes than memory holds"
        ))
    })
}
