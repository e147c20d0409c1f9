//! Thousands of damaged copies of good files through every reader of untrusted bytes: the
//! checkpoint loader (safetensors and `.pth`, then the classifier built from it), the model
//! card, the dataset reader and the image decoder. Each answers Ok or Err; none panics, hangs or
//! allocates without bound.

use crate::common::*;
use burn::tensor::Device;
use vanillanet::Classifier;
use vanillanet::StateDict;
use vanillanet::data::dataset::Dataset;
use vanillanet::data::preprocess::decode;
use vanillanet::io::card::ModelCard;

/// One random damage: a truncation, flipped bits, a run of bytes overwritten, or a spliced
/// repeat.
fn mutate(good: &[u8], rng: &mut Lcg) -> Vec<u8> {
    let mut b = good.to_vec();
    let at = |rng: &mut Lcg, len: usize| rng.below(len.max(1) as u64) as usize;
    match rng.below(4) {
        0 => b.truncate(at(rng, good.len())),
        1 => {
            for _ in 0..1 + rng.below(8) {
                let i = at(rng, b.len());
                b[i] ^= 1 << rng.below(8);
            }
        }
        2 => {
            let i = at(rng, b.len());
            let value = [0x00, 0xFF, 0x7F, 0x80][rng.below(4) as usize];
            for j in i..(i + 1 + rng.below(16) as usize).min(b.len()) {
                b[j] = value;
            }
        }
        _ => {
            let (i, n) = (at(rng, b.len()), 1 + rng.below(64) as usize);
            let chunk = b[i..(i + n).min(b.len())].to_vec();
            b.splice(i..i, chunk);
        }
    }
    b
}

/// A safetensors file with one tensor's header entry edited: a dimension set to 0, to a huge
/// value or removed, a dimension added, or another dtype.
fn edit_header(good: &[u8], rng: &mut Lcg) -> Vec<u8> {
    let n = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Value = serde_json::from_slice(&good[8..8 + n]).unwrap();
    let keys: Vec<String> = header.as_object().unwrap().keys().filter(|k| *k != "__metadata__").cloned().collect();
    let entry = &mut header[&keys[rng.below(keys.len() as u64) as usize]];
    let shape = entry["shape"].as_array_mut().unwrap();
    match rng.below(5) {
        0 if !shape.is_empty() => {
            let i = rng.below(shape.len() as u64) as usize;
            shape[i] = 0.into();
        }
        1 if !shape.is_empty() => {
            let i = rng.below(shape.len() as u64) as usize;
            shape[i] = [1u64 << 31, 1 << 40, u32::MAX as u64][rng.below(3) as usize].into();
        }
        2 => {
            shape.pop();
        }
        3 => shape.push(1.into()),
        _ => entry["dtype"] = ["F16", "I64", "BOOL", "U8", "F64"][rng.below(5) as usize].into(),
    }
    let text = serde_json::to_vec(&header).unwrap();
    [&(text.len() as u64).to_le_bytes()[..], &text, &good[8 + n..]].concat()
}

fn read_fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap()
}

/// Reads a checkpoint and, when it reads, builds the classifier (strides given, as the page asks).
fn load(bytes: Vec<u8>) -> bool {
    match StateDict::from_bytes(bytes) {
        Ok(sd) => Classifier::from_checkpoint(&sd, None, Some(vec![2, 2, 2]), &Device::flex()).is_ok(),
        Err(_) => false,
    }
}

#[test]
fn damaged_checkpoints_are_errors() {
    let mut rng = Lcg(2024);
    let (pth, deploy, train) = (
        read_fixture("checkpoint.pth"),
        read_fixture("deploy_state.safetensors"),
        read_fixture("train_state.safetensors"),
    );
    assert!(load(pth.clone()) && load(deploy.clone()) && load(train.clone()), "the good files load");
    let mut loaded = 0;
    for i in 0..2400 {
        let bytes = match i % 4 {
            0 => mutate(&pth, &mut rng),
            1 => mutate(&deploy, &mut rng),
            2 => edit_header(&deploy, &mut rng),
            _ => edit_header(&train, &mut rng),
        };
        loaded += load(bytes) as usize;
    }
    // Some damage misses anything that matters (a flipped bit in a weight): those still load.
    assert!(loaded < 2400, "{loaded} of 2400 damaged files loaded");
}

#[test]
fn damaged_cards_are_errors() {
    let good = ModelCard::official("tiny".into(), tiny_config(), vanillanet::Form::Deploy).to_json().unwrap();
    assert!(ModelCard::from_json(&good).is_ok());
    let mut rng = Lcg(7);
    for _ in 0..1500 {
        let bytes = mutate(good.as_bytes(), &mut rng);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = ModelCard::from_json(text);
        }
    }
    // Numbers a card could carry: each refused with a reason.
    for (from, to) in [
        ("[16,32,64,128]", "[16,32,64,99999999999]"),
        ("\"height\":224", "\"height\":0"),
        ("\"num_classes\":10", "\"num_classes\":0"),
    ] {
        assert!(ModelCard::from_json(&good.replace(from, to)).is_err(), "{to}");
    }
}

#[test]
fn damaged_datasets_are_errors() {
    let good = halves_data(40, 10).to_bytes();
    let mut rng = Lcg(99);
    let mut read = 0;
    for _ in 0..1500 {
        read += Dataset::from_bytes("x", &mutate(&good, &mut rng)).is_ok() as usize;
    }
    assert!(read < 1500);
    // Counts declaring billions of images in a short file: refused, not allocated.
    let mut huge = good.clone();
    huge[24..28].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(Dataset::from_bytes("x", &huge).unwrap_err().to_string().contains("truncated"));
}

#[test]
fn damaged_images_are_errors() {
    let mut png = Vec::new();
    image::RgbImage::from_fn(48, 32, |x, y| image::Rgb([x as u8 * 5, y as u8 * 7, 90]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let mut jpeg = Vec::new();
    image::RgbImage::from_fn(48, 32, |x, y| image::Rgb([x as u8 * 5, y as u8 * 7, 90]))
        .write_to(&mut std::io::Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
        .unwrap();
    // Cut short: an error naming the format and the damage, never an image.
    for (name, bytes) in [("Png", &png), ("Jpeg", &jpeg)] {
        let err = decode(&bytes[..bytes.len() / 2]).expect_err("a truncated image is an error").to_string();
        assert!(err.contains(name) && err.contains("damaged"), "the format and the damage named: {err}");
    }
    let mut rng = Lcg(5);
    let mut errors = 0;
    for i in 0..1500 {
        let bytes = mutate(if i % 2 == 0 { &png } else { &jpeg }, &mut rng);
        match decode(&bytes) {
            Ok(img) => assert!(img.width() as u64 * img.height() as u64 <= 64_000_000),
            Err(e) => {
                assert!(!e.to_string().is_empty());
                errors += 1;
            }
        }
    }
    // Most mutations (cuts, headers overwritten) break the file: they are errors, not panics.
    assert!(errors > 300, "{errors} of 1500 damaged images were errors");
}
