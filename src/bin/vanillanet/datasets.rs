//! The datasets every command's `--data` takes: a built-in set by name, a `.vnds` file, or a
//! folder of class folders of images.

use std::path::Path;

use vanillanet::data::BUILTIN_DATASETS;
use vanillanet::data::dataset::Dataset;
use vanillanet::limits::{MAX_DATASET_BYTES, MAX_IMAGE_FILE_BYTES};
use vanillanet::{Error, Result};

use crate::args::DataArgs;
use crate::context::read_bounded;

pub fn load_dataset(args: &DataArgs) -> Result<Dataset> {
    let spec = args.data.as_str();
    let path = Path::new(spec);
    if path.is_dir() {
        let (size, channels) = (args.folder.image_size, args.folder.channels);
        check_folder(path, (size * size * channels) as u64)?;
        let (data, skipped) = vanillanet::data::folder::dataset_from_folder(path, size, channels)?;
        for s in &skipped {
            eprintln!("skipped {s}");
        }
        return Ok(data);
    }
    let file = if path.is_file() {
        path.to_path_buf()
    } else if BUILTIN_DATASETS.contains(&spec) {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("www/data").join(format!("{spec}.vnds"))
    } else {
        return Err(Error::InvalidInput(format!(
            "--data {spec}: not {}, a .vnds file nor a folder",
            BUILTIN_DATASETS.join(", ")
        )));
    };
    let bytes = read_bounded(&file, MAX_DATASET_BYTES, "a dataset").map_err(|e| {
        Error::InvalidInput(format!(
            "{}: {e} (the built-in sets are made by `node scripts/build-data.mjs` after `npm ci`)",
            file.display()
        ))
    })?;
    let name = path.file_stem().map_or(spec.into(), |s| s.to_string_lossy().to_string());
    Dataset::from_bytes(name, &bytes)
}

/// A folder's images at `image` bytes each fit [`MAX_DATASET_BYTES`], and none is a file too
/// large to be an image, counted before any is read (a file that is no image counts too).
fn check_folder(dir: &Path, image: u64) -> Result<()> {
    let listed = |d: &Path| std::fs::read_dir(d).map_err(|e| Error::InvalidInput(format!("{}: {e}", d.display())));
    let mut files = 0u64;
    for class in listed(dir)?.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_dir()) {
        for file in listed(&class)?.filter_map(|e| e.ok()) {
            let Ok(meta) = file.metadata() else { continue };
            if meta.is_file() && meta.len() > MAX_IMAGE_FILE_BYTES {
                return Err(Error::InvalidInput(format!(
                    "{}: larger than {} MB, the most an image file may be",
                    file.path().display(),
                    MAX_IMAGE_FILE_BYTES / 1_000_000
                )));
            }
            files += u64::from(meta.is_file());
        }
    }
    if files.saturating_mul(image) > MAX_DATASET_BYTES {
        return Err(Error::InvalidInput(format!(
            "{}: {files} files of {image} bytes each as images: above {} MB, the most a dataset may hold",
            dir.display(),
            MAX_DATASET_BYTES / 1_000_000
        )));
    }
    Ok(())
}
