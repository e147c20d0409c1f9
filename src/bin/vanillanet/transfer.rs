//! `vanillanet transfer`: start from a checkpoint. Its fused body computes the features of a
//! folder's photos (one subfolder a class) at its own input size and preprocessing, a new head
//! trains on them, and the body with the new head is written as one model with its card
//! (`classify` reads it as any other). The library does the work (`train::transfer`), as it
//! will for the page.

use std::path::{Path, PathBuf};

use serde::Serialize;
use vanillanet::limits::MAX_IMAGE_FILE_BYTES;
use vanillanet::train::transfer::features::{MAX_PHOTOS, Photo, check_classes, extract};
use vanillanet::train::transfer::head::HeadOptions;
use vanillanet::train::transfer::{TransferReport, new_head};
use vanillanet::{Error, Result, state_dict_async};

use crate::args::TransferArgs;
use crate::context::{Context, read_bounded, write_json, write_model};
use crate::model_file::ModelFile;

/// The JSON report: the library's, with the time the features took and the file written.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    #[serde(flatten)]
    transfer: TransferReport,
    feature_seconds: f64,
    output: String,
}

pub fn run(args: TransferArgs, context: &Context) -> Result<()> {
    let TransferArgs { model, data, output, steps, seed, json } = args;
    let (classes, files) = class_folders(&data)?;
    let device = context.device()?;
    let body = ModelFile::read(&model)?.classifier(None, &device)?;
    let p = &body.card.preprocess;
    println!(
        "from: {} (input {}x{}, {} channels, {} features a photo)",
        body.card.name,
        p.height,
        p.width,
        p.channels,
        body.card.architecture.dims.last().copied().unwrap_or(0)
    );
    let total = files.len();
    let photos = files.into_iter().map(|(path, class)| Photo {
        name: path.display().to_string(),
        class,
        bytes: read_bounded(&path, MAX_IMAGE_FILE_BYTES, "an image file"),
    });
    let start = std::time::Instant::now();
    let features = pollster::block_on(extract(&body, classes, photos, &device, &mut |done| {
        eprintln!("features: {done}/{total} photos");
    }))?;
    let feature_seconds = start.elapsed().as_secs_f64();
    for skipped in &features.skipped {
        eprintln!("skipped {skipped}");
    }
    println!("features: {} photos in {feature_seconds:.1} s, {} skipped", features.len(), features.skipped.len());
    let options = HeadOptions { steps, seed, ..HeadOptions::default() };
    let (classifier, report) = pollster::block_on(new_head(&body, &features, &options, &device, &mut |s, n, loss| {
        eprintln!("head: step {s}/{n}, loss {loss:.4}");
    }))?;
    println!("classes: {}", report.classes.join(", "));
    println!("head: {} steps in {:.1} s, loss {:.4}", steps, report.head_seconds, report.loss);
    println!("training accuracy: {:.2}% ({} photos)", report.train_accuracy * 100.0, report.train_photos);
    match report.held_out_accuracy {
        Some(a) => println!("held-out accuracy: {:.2}% ({} photos)", a * 100.0, report.held_out_photos),
        None => println!("held-out accuracy: none (no class has the 5 photos that hold one out)"),
    }
    write_model(&output, pollster::block_on(state_dict_async(&classifier.model))?, &classifier.card)?;
    println!("wrote {}: {}", output.display(), classifier.card.name);
    if let Some(path) = json {
        let report = Report { transfer: report, feature_seconds, output: output.display().to_string() };
        write_json(&path, &report)?;
    }
    Ok(())
}

/// The class folders of `dir` (sorted by name; the class is the folder's name) and every file
/// in them with its class, sorted, checked before any is read: at least two classes, each with
/// at least two files, and no more files than a transfer takes.
fn class_folders(dir: &Path) -> Result<(Vec<String>, Vec<(PathBuf, usize)>)> {
    let sorted = |d: &Path| -> Result<Vec<PathBuf>> {
        let entries = std::fs::read_dir(d).map_err(|e| Error::InvalidInput(format!("{}: {e}", d.display())))?;
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        Ok(paths)
    };
    let (mut classes, mut files) = (Vec::new(), Vec::new());
    for class_dir in sorted(dir)?.into_iter().filter(|p| p.is_dir()) {
        let name = class_dir.file_name().map_or(String::new(), |n| n.to_string_lossy().to_string());
        let photos: Vec<PathBuf> = sorted(&class_dir)?.into_iter().filter(|p| p.is_file()).collect();
        if photos.len() < 2 {
            return Err(Error::InvalidInput(format!(
                "class '{name}' ({}) has {} photo{}: each class needs at least 2 (5 or more to hold one out for testing)",
                class_dir.display(),
                photos.len(),
                if photos.len() == 1 { "" } else { "s" }
            )));
        }
        files.extend(photos.into_iter().map(|p| (p, classes.len())));
        if files.len() > MAX_PHOTOS {
            return Err(Error::InvalidInput(format!("{} holds more than {MAX_PHOTOS} photos", dir.display())));
        }
        classes.push(name);
    }
    if classes.len() < 2 {
        return Err(Error::InvalidInput(format!(
            "{} needs at least two subfolders of photos, one per class",
            dir.display()
        )));
    }
    check_classes(&classes)?;
    Ok((classes, files))
}
