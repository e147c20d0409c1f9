//! The datasets every command's `--data` takes: a built-in set by name, a `.vnds` file, or a
//! folder of class folders of images.

use std::path::Path;

use vanillanet::data::BUILTIN_DATASETS;
use vanillanet::data::dataset::Dataset;
use vanillanet::{Error, Result};

use crate::args::DataArgs;

pub fn load_dataset(args: &DataArgs) -> Result<Dataset> {
    let spec = args.data.as_str();
    let path = Path::new(spec);
    if path.is_dir() {
        let (size, channels) = (args.folder.image_size, args.folder.channels);
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
    let bytes = std::fs::read(&file).map_err(|e| {
        Error::InvalidInput(format!(
            "{}: {e} (the built-in sets are made by `node scripts/build-data.mjs` after `npm ci`)",
            file.display()
        ))
    })?;
    let name = path.file_stem().map_or(spec.into(), |s| s.to_string_lossy().to_string());
    Dataset::from_bytes(name, &bytes)
}
