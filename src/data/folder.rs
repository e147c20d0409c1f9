//! A dataset from a folder with one subfolder of images per class (sorted by name), every image
//! decoded, centre-cropped and resized as the page does with dropped images.

use std::path::{Path, PathBuf};

use crate::data::dataset::Dataset;
use crate::data::preprocess::{Normalize, Preprocess, decode};
use crate::error::{Error, Result};

/// The dataset, and the files that were skipped with the reason (not images, unreadable).
pub fn dataset_from_folder(dir: &Path, size: usize, channels: usize) -> Result<(Dataset, Vec<String>)> {
    let p = Preprocess::center_crop(channels, size, size, Normalize::identity(channels));
    p.validate()?;
    let sorted = |d: &Path| -> Result<Vec<PathBuf>> {
        let entries = std::fs::read_dir(d).map_err(|e| Error::InvalidInput(format!("{}: {e}", d.display())))?;
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        Ok(paths)
    };
    let (mut classes, mut pixels, mut labels, mut skipped) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for class_dir in sorted(dir)?.into_iter().filter(|p| p.is_dir()) {
        if classes.len() == 255 {
            return Err(Error::InvalidInput(format!("{} has more than 255 class folders", dir.display())));
        }
        let label = classes.len() as u8;
        let mut count = 0;
        for file in sorted(&class_dir)?.into_iter().filter(|p| p.is_file()) {
            match std::fs::read(&file).map_err(Error::from).and_then(|b| decode(&b)) {
                Ok(img) => {
                    pixels.extend(p.pixels(&img));
                    labels.push(label);
                    count += 1;
                }
                Err(e) => skipped.push(format!("{}: {e}", file.display())),
            }
        }
        if count == 0 {
            return Err(Error::InvalidInput(format!("class folder {} has no readable image", class_dir.display())));
        }
        classes.push(class_dir.file_name().map_or(String::new(), |n| n.to_string_lossy().to_string()));
    }
    if classes.len() < 2 {
        return Err(Error::InvalidInput(format!(
            "{} needs at least two subfolders of images, one per class",
            dir.display()
        )));
    }
    let name = dir.file_name().map_or("folder".into(), |n| n.to_string_lossy().to_string());
    Ok((Dataset::labelled(name, classes, [channels, size, size], &pixels, &labels)?, skipped))
}
