//! `vanillanet inspect`: the feature maps after one part of the net for one image, the same
//! numbers the page's `vanillanet.inside.featureMaps` answers.

use burn::tensor::{Device, Tensor, TensorData};
use vanillanet::train::inside::{check_tiles, feature_maps, trained_or_fused_maps};
use vanillanet::{Error, ModelCard, Result, VanillaNet, VanillaNetDeploy};

use crate::args::{DataArgs, FolderArgs, InspectArgs};
use crate::commands::load_dataset;

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
            let bytes = std::fs::read(path).map_err(|e| Error::InvalidInput(format!("{}: {e}", path.display())))?;
            let p = &card.preprocess;
            let values = p.input(&bytes).map_err(|e| Error::InvalidInput(format!("{}: {e}", path.display())))?;
            Ok(Tensor::from_data(TensorData::new(values, [1, p.channels, p.height, p.width]), device))
        }
        _ => Err(Error::InvalidInput("give --data FILE.vnds (with --index N) or --image FILE".into())),
    }
}

/// Prints the maps; answers their JSON when `--json` asks for it.
pub fn run(
    card: &ModelCard,
    trained: Option<VanillaNet>,
    deploy: Option<VanillaNetDeploy>,
    args: &InspectArgs,
    device: &Device,
) -> Result<Option<String>> {
    check_tiles(args.tiles)?;
    if !(0.0..=1.0).contains(&args.lambda) {
        return Err(Error::InvalidInput(format!("--lambda must be within [0, 1], got {}", args.lambda)));
    }
    let blocks = card.architecture.num_blocks();
    if args.block > blocks {
        return Err(Error::InvalidInput(format!("--block {}: 0 is the stem, 1..={blocks} the blocks", args.block)));
    }
    let x = input(card, args, device)?;
    let maps = match (trained, deploy) {
        (Some(model), _) => {
            let fused = if args.fused { Some(model.fuse(args.lambda)?) } else { None };
            pollster::block_on(trained_or_fused_maps(&model, fused.as_ref(), x, args.lambda, args.block, args.tiles))?
        }
        (None, Some(model)) if args.fused => {
            pollster::block_on(feature_maps(model.forward_features(x).1, args.block, args.tiles, true, None))?
        }
        (None, Some(_)) => {
            return Err(Error::InvalidInput(
                "the checkpoint is already fused (deploy form): add --fused to look at it".into(),
            ));
        }
        (None, None) => unreachable!("a checkpoint is in one form or the other"),
    };
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
        println!("largest difference to the trained net's maps (lambda {}): {d:.3e}", args.lambda);
    }
    println!("{:>8} {:>12} {:>12} {:>12}", "channel", "mean |v|", "min", "max");
    for t in &maps.tiles {
        let min = t.values.iter().copied().fold(f32::INFINITY, f32::min);
        let max = t.values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        println!("{:>8} {:>12.5} {:>12.5} {:>12.5}", t.channel, t.activity, min, max);
    }
    args.json.as_ref().map(|_| serde_json::to_string(&maps).map_err(|e| Error::encode("JSON", e))).transpose()
}
