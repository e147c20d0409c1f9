//! `vanillanet inspect`: the feature maps after one part of the net for one image, the same
//! numbers the page's `vanillanet.inside.featureMaps` answers.

use burn::tensor::{Device, Tensor, TensorData};
use vanillanet::limits::MAX_IMAGE_FILE_BYTES;
use vanillanet::train::inside::{FeatureMaps, check_tiles, feature_maps, trained_or_fused_maps};
use vanillanet::{Error, ModelCard, Result};

use crate::args::{DataArgs, FolderArgs, InspectArgs};
use crate::context::{Context, read_bounded, write_file};
use crate::datasets::load_dataset;
use crate::model_file::{ModelFile, Net};

/// Prints the maps, and writes them as JSON when `--json` names a file.
pub fn run(args: InspectArgs, context: &Context) -> Result<()> {
    let device = context.device()?;
    let file = ModelFile::read(&args.model)?;
    let maps = maps(&file.card, file.net(&device)?, &args, &device)?;
    print(&maps, args.lambda);
    if let Some(path) = &args.json {
        // One line, not indented: thousands of pixel values, read by programs (the page's tests).
        let text = serde_json::to_string(&maps).map_err(|e| Error::encode("JSON", e))?;
        write_file(path, text.as_bytes())?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// The image asked for as the net's input `[1, C, H, W]`.
fn input(card: &ModelCard, args: &InspectArgs, device: &Device) -> Result<Tensor<4>> {
    let config = &card.architecture;
    match (&args.data, &args.image) {
        (Some(spec), None) => {
            let folder = FolderArgs { image_size: card.preprocess.height, channels: config.in_chans };
            let data = load_dataset(&DataArgs { data: spec.clone(), folder })?;
            let path = std::path::Path::new(spec);
            if data.channels != config.in_chans {
                return Err(Error::InvalidInput(format!(
                    "{} has {} channels, the model takes {}",
                    path.display(),
                    data.channels,
                    config.in_chans
                )));
            }
            if args.index >= data.test.len() {
                return Err(Error::InvalidInput(format!(
                    "--index {}: {} has {} test images",
                    args.index,
                    path.display(),
                    data.test.len()
                )));
            }
            config.feature_sizes(data.height, data.width)?;
            Ok(data.batch(&data.test, &[args.index], device).0)
        }
        (None, Some(path)) => {
            let bytes = read_bounded(path, MAX_IMAGE_FILE_BYTES, "an image file")
                .map_err(|e| Error::InvalidInput(format!("{}: {e}", path.display())))?;
            let p = &card.preprocess;
            let values = p.input(&bytes).map_err(|e| Error::InvalidInput(format!("{}: {e}", path.display())))?;
            Ok(Tensor::from_data(TensorData::new(values, [1, p.channels, p.height, p.width]), device))
        }
        _ => Err(Error::InvalidInput("give --data FILE.vnds (with --index N) or --image FILE".into())),
    }
}

/// The maps after the part `--block` names, of the net (`--fused`: of its deploy form) for the
/// image asked for.
fn maps(card: &ModelCard, net: Net, args: &InspectArgs, device: &Device) -> Result<FeatureMaps> {
    check_tiles(args.tiles)?;
    if !(0.0..=1.0).contains(&args.lambda) {
        return Err(Error::InvalidInput(format!("--lambda must be within [0, 1], got {}", args.lambda)));
    }
    let blocks = card.architecture.num_blocks();
    if args.block > blocks {
        return Err(Error::InvalidInput(format!("--block {}: 0 is the stem, 1..={blocks} the blocks", args.block)));
    }
    let x = input(card, args, device)?;
    match net {
        Net::Training(model) => {
            let fused = if args.fused { Some(model.fuse(args.lambda)?) } else { None };
            pollster::block_on(trained_or_fused_maps(&model, fused.as_ref(), x, args.lambda, args.block, args.tiles))
        }
        Net::Deploy(model) if args.fused => {
            pollster::block_on(feature_maps(model.forward_features(x).1, args.block, args.tiles, true, None))
        }
        Net::Deploy(_) => {
            Err(Error::InvalidInput("the checkpoint is already fused (deploy form): add --fused to look at it".into()))
        }
    }
}

fn print(maps: &FeatureMaps, lambda: f64) {
    let form = if maps.fused { "fused" } else { "trained" };
    println!(
        "{} ({form}): {} channels of {}x{}, the {} most active (mean |value|) first",
        maps.name,
        maps.channels,
        maps.height,
        maps.width,
        maps.tiles.len()
    );
    if let Some(d) = maps.max_diff {
        println!("largest difference to the trained net's maps (lambda {lambda}): {d:.3e}");
    }
    println!("{:>8} {:>12} {:>12} {:>12}", "channel", "mean |v|", "min", "max");
    for t in &maps.tiles {
        let min = t.values.iter().copied().fold(f32::INFINITY, f32::min);
        let max = t.values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        println!("{:>8} {:>12.5} {:>12.5} {:>12.5}", t.channel, t.activity, min, max);
    }
}
