//! Images and datasets: decoding and preprocessing image files, the built-in datasets' format,
//! the user's own images, folders of class folders, training images augmented on the fly.

pub mod augment;
pub mod dataset;
#[cfg(not(target_arch = "wasm32"))]
pub mod folder;
pub mod imagenet;
pub mod preprocess;

/// The built-in datasets, by the names the CLI's `--data` and the page use: the page fetches
/// `www/data/<name>.vnds` (written by `scripts/build-data.mjs`), the CLI reads the same files.
pub const BUILTIN_DATASETS: [&str; 2] = ["fashion-mnist", "mnist"];
