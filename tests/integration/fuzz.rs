//! Thousands of damaged copies of good files through every reader of untrusted bytes: the
//! checkpoint loader (safetensors and `.pth`, then the classifier built from it), the model
//! card, the dataset reader and the image decoder. Each damaged file is an error whose message
//! says what was being read and why, or it reads as something that works: a net that runs, a
//! dataset that batches, an image that becomes an input. Damage that leaves nothing whole must be
//! an error: a checkpoint, card or dataset cut short, a PNG cut before its last chunk, the header
//! of a tensor the net uses edited. None panics, hangs or allocates without bound.

use crate::common::*;
use burn::tensor::{Device, Tensor};
use vanillanet::Classifier;
use vanillanet::StateDict;
use vanillanet::data::dataset::Dataset;
use vanillanet::data::preprocess::{Preprocess, decode};
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
/// value or removed, a dimension added, or another dtype. Also the tensor's name.
fn edit_header(good: &[u8], rng: &mut Lcg) -> (Vec<u8>, String) {
    let n = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Value = serde_json::from_slice(&good[8..8 + n]).unwrap();
    let keys: Vec<String> = header.as_object().unwrap().keys().filter(|k| *k != "__metadata__").cloned().collect();
    let key = keys[rng.below(keys.len() as u64) as usize].clone();
    let entry = &mut header[&key];
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
    ([&(text.len() as u64).to_le_bytes()[..], &text, &good[8 + n..]].concat(), key)
}

fn read_fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap()
}

/// The damage was a cut: `bytes` is `good` cut short.
fn is_cut(bytes: &[u8], good: &[u8]) -> bool {
    bytes.len() < good.len() && good.starts_with(bytes)
}

/// An error's message says why: more than a word, and naming what was being read (`what`, one
/// of the words given).
fn assert_says_why(message: &str, what: &[&str], damage: &str) {
    assert!(
        message.len() > 24 && what.iter().any(|w| message.contains(w)),
        "{damage}: the message does not say what could not be read and why: '{message}'"
    );
}

/// What a damaged checkpoint comes to: its tensors and the classifier built from them (strides
/// given, as the page asks), or the error's message.
fn load(bytes: &[u8]) -> Result<(StateDict, Classifier), String> {
    let sd = StateDict::from_bytes(bytes.to_vec()).map_err(|e| e.to_string())?;
    let c = Classifier::from_checkpoint(&sd, None, Some(vec![2, 2, 2]), &Device::flex()).map_err(|e| e.to_string())?;
    Ok((sd, c))
}

/// The classifier runs: one image of the channels its card declares in (at most 64 px a side:
/// the nets end in an adaptive pool, and 224 px would cost twelve times as much to check the
/// same), one logit per class out; finite ones when its tensors' values are of the size weights
/// have (damage can write 3e38 or NaN into a weight: such a net still runs, to infinities).
fn assert_runs((sd, c): &(StateDict, Classifier), damage: &str) {
    let p = &c.card.preprocess;
    let x = Tensor::<4>::ones([1, p.channels, p.height.min(64), p.width.min(64)], &Device::flex());
    let logits = host(c.model.forward(x));
    assert_eq!(logits.shape, [1, c.card.architecture.num_classes], "{damage}: logits' shape");
    let used = sd.tensors.iter().filter(|(key, _)| !key.ends_with("num_batches_tracked"));
    let sane = used.flat_map(|(_, t)| &t.data).all(|v| v.abs() <= 1e6);
    assert!(!sane || logits.data.iter().all(|v| v.is_finite()), "{damage}: sane weights, logits {:?}", logits.data);
}

#[test]
fn damaged_checkpoints_are_errors_that_say_why_or_nets_that_run() {
    let mut rng = Lcg(2024);
    let (pth, deploy, train) = (
        read_fixture("checkpoint.pth"),
        read_fixture("deploy_state.safetensors"),
        read_fixture("train_state.safetensors"),
    );
    for good in [&pth, &deploy, &train] {
        assert_runs(&load(good).expect("the good files load"), "none");
    }
    let (mut errors, mut ran) = (0, 0);
    for i in 0..2400 {
        let (good, bytes, edited) = match i % 4 {
            0 => (&pth, mutate(&pth, &mut rng), None),
            1 => (&deploy, mutate(&deploy, &mut rng), None),
            k => {
                let good = if k == 2 { &deploy } else { &train };
                let (bytes, key) = edit_header(good, &mut rng);
                (good, bytes, Some(key))
            }
        };
        let damage = match &edited {
            Some(key) => format!("file {i}, the header of '{key}' edited"),
            None if is_cut(&bytes, good) => format!("file {i}, cut to {} bytes", bytes.len()),
            None => format!("file {i}, bytes changed"),
        };
        match load(&bytes) {
            Err(message) => {
                assert_says_why(&message, &["checkpoint", "tensor '", "state_dict"], &damage);
                errors += 1;
            }
            Ok(loaded) => {
                // A BatchNorm's step counter is not part of the net: its header may say anything.
                let unused = edited.as_ref().is_some_and(|key| key.ends_with("num_batches_tracked"));
                assert!(edited.is_none() || unused, "{damage}: an edited header must be an error");
                assert!(!is_cut(&bytes, good), "{damage}: a cut file must be an error");
                assert_runs(&loaded, &damage);
                ran += 1;
            }
        }
    }
    assert!(errors > 0 && ran > 0, "{errors} errors, {ran} nets that ran: the damage reaches both outcomes");
}

#[test]
fn damaged_cards_are_errors_that_say_why_or_cards_whose_net_runs() {
    let good = ModelCard::official("tiny".into(), tiny_config(), vanillanet::Form::Deploy).to_json().unwrap();
    assert!(ModelCard::from_json(&good).is_ok());
    let mut rng = Lcg(7);
    let device = Device::flex();
    let mut nets = std::collections::BTreeSet::new();
    let (mut errors, mut read) = (0, 0);
    for i in 0..1500 {
        let bytes = mutate(good.as_bytes(), &mut rng);
        // Not UTF-8: no JSON string to give the reader (a safetensors header refuses it first).
        let Ok(text) = std::str::from_utf8(&bytes) else { continue };
        let damage = format!("card {i}: {text}");
        match ModelCard::from_json(text) {
            Err(e) => {
                assert_says_why(&e.to_string(), &["model card", "architecture"], &damage);
                errors += 1;
            }
            Ok(card) => {
                assert!(!is_cut(&bytes, good.as_bytes()), "{damage}: a cut card must be an error");
                assert_eq!(ModelCard::from_json(&card.to_json().unwrap()).unwrap(), card, "{damage}: round trip");
                // The net it describes runs on the input it declares (each such net once: most
                // damage that reads changes a name, not the net).
                let p = &card.preprocess;
                if nets.insert((serde_json::to_string(&card.architecture).unwrap(), p.channels, p.height, p.width)) {
                    let x = Tensor::<4>::ones([1, p.channels, p.height, p.width], &device);
                    let logits = host(card.architecture.init_deploy(&device).forward(x));
                    assert_eq!(logits.shape, [1, card.architecture.num_classes], "{damage}");
                    assert!(logits.data.iter().all(|v| v.is_finite()), "{damage}");
                }
                read += 1;
            }
        }
    }
    assert!(errors > 0 && read > 0, "{errors} errors, {read} cards that read ({} nets ran)", nets.len());
    // Numbers a card could carry: each refused with a reason.
    for (from, to) in [
        ("[16,32,64,128]", "[16,32,64,99999999999]"),
        ("\"height\":224", "\"height\":0"),
        ("\"num_classes\":10", "\"num_classes\":0"),
    ] {
        let e = ModelCard::from_json(&good.replace(from, to)).expect_err(to).to_string();
        assert_says_why(&e, &["model card", "architecture"], to);
    }
}

#[test]
fn damaged_datasets_are_errors_that_say_why_or_datasets_that_batch() {
    let good = halves_data(40, 10).to_bytes();
    let mut rng = Lcg(99);
    let device = Device::flex();
    let (mut errors, mut read) = (0, 0);
    for i in 0..1500 {
        let bytes = mutate(&good, &mut rng);
        let damage = format!("dataset {i}");
        match Dataset::from_bytes("x", &bytes) {
            Err(e) => {
                assert_says_why(&e.to_string(), &["dataset", "split", "class"], &damage);
                errors += 1;
            }
            Ok(data) => {
                assert!(!is_cut(&bytes, &good), "{damage}: a cut file must be an error");
                // Every image has its pixels and a label of a class; the test split batches into
                // normalised inputs of the declared shape.
                let image = data.channels * data.height * data.width;
                for split in [&data.train, &data.test] {
                    assert_eq!(split.pixels.len(), split.len() * image, "{damage}");
                    assert!(split.labels.iter().all(|&l| (l as usize) < data.classes.len()), "{damage}");
                }
                let all: Vec<usize> = (0..data.test.len()).collect();
                let (x, y) = data.batch(&data.test, &all, &device);
                assert_eq!(x.dims(), [data.test.len(), data.channels, data.height, data.width], "{damage}");
                assert_eq!(y.dims(), [data.test.len()], "{damage}");
                assert!(host(x).data.iter().all(|v| v.is_finite()), "{damage}");
                read += 1;
            }
        }
    }
    assert!(errors > 0 && read > 0, "{errors} errors, {read} datasets that batched");
    // Counts declaring billions of images in a short file: refused, not allocated.
    let mut huge = good.clone();
    huge[24..28].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(Dataset::from_bytes("x", &huge).unwrap_err().to_string().contains("truncated"));
}

#[test]
fn damaged_images_are_errors_that_say_why_or_inputs_of_the_right_size() {
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
    let preprocess = Preprocess::imagenet(32, 3);
    let mut rng = Lcg(5);
    let (mut errors, mut decoded) = (0, 0);
    for i in 0..1500 {
        let good = if i % 2 == 0 { &png } else { &jpeg };
        let bytes = mutate(good, &mut rng);
        let damage = format!("image {i} ({} of {} bytes)", bytes.len(), good.len());
        match decode(&bytes) {
            Err(e) => {
                assert_says_why(&e.to_string(), &["image", "header", "empty"], &damage);
                errors += 1;
            }
            Ok(img) => {
                // A PNG cut before its closing 12-byte chunk has lost pixels: an error. (A JPEG
                // cut short may still decode: its decoder fills in what is missing.)
                let png_cut = i % 2 == 0 && is_cut(&bytes, good) && bytes.len() < good.len() - 12;
                assert!(!png_cut, "{damage}: a PNG cut short must be an error");
                assert!(img.width() as u64 * img.height() as u64 <= 64_000_000, "{damage}");
                // It becomes the net's input: every channel of every pixel, cropped and resized.
                assert_eq!(preprocess.pixels(&img).len(), 3 * 32 * 32, "{damage}");
                decoded += 1;
            }
        }
    }
    // Most mutations (cuts, headers overwritten) break the file: they are errors, not panics.
    assert!(errors > 300 && decoded > 0, "{errors} of 1500 damaged images were errors");
}
