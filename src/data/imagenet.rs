//! ImageNet class names and the statistics of the official evaluation preprocessing (see
//! [`crate::data::preprocess::Preprocess::imagenet`]).

pub const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
pub const STD: [f32; 3] = [0.229, 0.224, 0.225];
pub const CROP_PCT: f64 = 0.875;

/// The 1000 class names, in the order of the logits.
pub fn class_names() -> Vec<&'static str> {
    include_str!("imagenet_classes.txt").lines().collect()
}
