//! `vanillanet classify`: the top classes of image files, preprocessed and labelled as the
//! model file's card says (as the page does).

use vanillanet::limits::{MAX_IMAGE_FILE_BYTES, MAX_LABELS_BYTES};
use vanillanet::{Error, Result};

use crate::args::ClassifyArgs;
use crate::context::{Context, read_bounded};
use crate::model_file::ModelFile;

/// Every image is tried; those that cannot be read are named on stderr and make the command
/// fail at the end, after the others are printed.
pub fn run(args: ClassifyArgs, context: &Context) -> Result<()> {
    let ClassifyArgs { model, size, labels, top, images } = args;
    let device = context.device()?;
    let mut c = ModelFile::read(&model)?.classifier(size, &device)?;
    if let Some(path) = labels {
        let bytes = read_bounded(&path, MAX_LABELS_BYTES, "a labels file")
            .map_err(|e| Error::InvalidInput(format!("{}: {e}", path.display())))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::InvalidInput(format!("{}: not text (UTF-8)", path.display())))?;
        c.card.classes = text.lines().map(String::from).collect();
        if c.card.classes.len() != c.card.architecture.num_classes {
            return Err(Error::InvalidInput(format!(
                "{}: {} labels for {} classes",
                path.display(),
                c.card.classes.len(),
                c.card.architecture.num_classes
            )));
        }
    }
    let mut failed = false;
    for path in &images {
        let result = read_bounded(path, MAX_IMAGE_FILE_BYTES, "an image file")
            .map_err(Error::InvalidInput)
            .and_then(|b| pollster::block_on(c.classify(&b, top, &device)));
        match result {
            Ok(r) => {
                println!("{}", path.display());
                for p in r.top {
                    println!("  {:6.2}%  {}", p.probability * 100.0, p.label);
                }
            }
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                failed = true;
            }
        }
    }
    if failed {
        return Err(Error::InvalidInput("some images could not be read (see above)".into()));
    }
    Ok(())
}
