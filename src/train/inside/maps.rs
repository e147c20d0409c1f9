//! The feature maps after one part of the net for one image: the most active channels, and the
//! largest difference between two forms of the net; for a test image or an image file.

use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::{DEFAULT_TILES, MAX_TILES};
use crate::data::dataset::Dataset;
use crate::error::{Error, Result};
use crate::model::inside::block_names;
use crate::model::{VanillaNet, VanillaNetDeploy};
use crate::readback::{read_vec, top_k};
use crate::train::trained_net::TrainedNet;

/// The image whose feature maps are looked at: a test image by index, or an image file
/// (preprocessed as the training images are).
pub enum MapsImage<'a> {
    Test(usize),
    File(&'a [u8]),
}

impl MapsImage<'_> {
    /// The image as the net's input `[1, C, H, W]`.
    pub fn input(&self, data: &Dataset, device: &Device) -> Result<Tensor<4>> {
        match *self {
            MapsImage::Test(index) => {
                if index >= data.test.len() {
                    return Err(Error::InvalidInput(format!(
                        "there is no test image {index}: the test set has {}",
                        data.test.len()
                    )));
                }
                Ok(data.batch(&data.test, &[index], device).0)
            }
            MapsImage::File(bytes) => {
                let values = data.preprocess().input(bytes)?;
                Ok(Tensor::from_data(TensorData::new(values, [1, data.channels, data.height, data.width]), device))
            }
        }
    }
}

/// One channel of a feature map.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct Tile {
    pub channel: usize,
    /// Mean absolute value over the map: how the tiles are ranked.
    pub activity: f32,
    /// `height x width`, row-major.
    pub values: Vec<f32>,
}

/// The feature maps after one block for one image: the most active channels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct FeatureMaps {
    /// 0 the stem, i the i-th block.
    pub block: usize,
    pub name: String,
    pub fused: bool,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    /// The most active channels, most active first.
    pub tiles: Vec<Tile>,
    /// With a reference (the fused net's maps against the trained net's): the largest
    /// difference over the whole map, every channel.
    pub max_diff: Option<f32>,
}

/// Checks a tile count: 1 to [`MAX_TILES`].
pub fn check_tiles(tiles: usize) -> Result<usize> {
    if tiles == 0 || tiles > MAX_TILES {
        return Err(Error::InvalidInput(format!("tiles must be 1 to {MAX_TILES}, got {tiles}")));
    }
    Ok(tiles)
}

/// The maps after part `block` (0 the stem) of one image's `features` (batch 1): the `tiles`
/// most active channels, and with `reference` (the same image through another form of the
/// net) the largest difference to it. One read.
pub async fn feature_maps(
    features: Vec<Tensor<4>>,
    block: usize,
    tiles: usize,
    fused: bool,
    reference: Option<Vec<Tensor<4>>>,
) -> Result<FeatureMaps> {
    check_tiles(tiles)?;
    let parts = features.len();
    let map = features.into_iter().nth(block).ok_or_else(|| {
        Error::InvalidInput(format!("block {block} does not exist: 0 is the stem, 1..={} the blocks", parts - 1))
    })?;
    let [n, channels, height, width] = map.dims();
    if n != 1 {
        return Err(Error::InvalidInput(format!("feature maps are of one image, not {n}")));
    }
    let mut read = vec![map.clone().flatten::<1>(0, 3)];
    if let Some(reference) = reference {
        let other = reference.into_iter().nth(block).expect("both forms have the same parts");
        read.push((map - other).abs().max().reshape([1]));
    }
    let with_diff = read.len() == 2;
    let values = read_vec(Tensor::cat(read, 0)).await?;
    let area = height * width;
    let activity: Vec<f32> = (0..channels)
        .map(|c| values[c * area..(c + 1) * area].iter().map(|v| v.abs()).sum::<f32>() / area.max(1) as f32)
        .collect();
    let tiles = top_k(&activity, tiles)
        .into_iter()
        .map(|c| Tile { channel: c, activity: activity[c], values: values[c * area..(c + 1) * area].to_vec() })
        .collect();
    let names = block_names(parts - 1);
    Ok(FeatureMaps {
        block,
        name: names[block].clone(),
        fused,
        channels,
        height,
        width,
        tiles,
        max_diff: with_diff.then(|| values[channels * area]),
    })
}

/// The feature maps of the trained net (eval mode, at `lambda`) and, given, of its fused form,
/// for one preprocessed image `[1, C, H, W]`: the fused form's are answered, with their largest
/// difference to the trained net's.
pub async fn trained_or_fused_maps(
    model: &VanillaNet,
    fused: Option<&VanillaNetDeploy>,
    x: Tensor<4>,
    lambda: f64,
    block: usize,
    tiles: usize,
) -> Result<FeatureMaps> {
    let trained = model.forward_features(x.clone(), lambda).1;
    match fused {
        Some(f) => feature_maps(f.forward_features(x).1, block, tiles, true, Some(trained)).await,
        None => feature_maps(trained, block, tiles, false, None).await,
    }
}

/// The feature maps after part `block` (0 the stem) of one image: the `tiles` most active
/// channels ([`DEFAULT_TILES`] unless given) of `net` (eval mode, at its lambda), or of `fused`
/// (the fused form of `net`'s weights) with their largest difference to `net`'s.
pub async fn maps_of_image(
    net: &TrainedNet<'_>,
    fused: Option<&VanillaNetDeploy>,
    image: MapsImage<'_>,
    block: usize,
    tiles: Option<usize>,
) -> Result<FeatureMaps> {
    let tiles = check_tiles(tiles.unwrap_or(DEFAULT_TILES))?;
    let x = image.input(net.data, &net.device)?;
    trained_or_fused_maps(&net.net, fused, x, net.lambda, block, tiles).await
}
