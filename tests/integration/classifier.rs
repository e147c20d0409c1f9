//! Classifiers from checkpoints: variant detection, export/import, hostile and broken input.

use crate::common;

use crate::common::{fixture, fixture_path, host, input};
use burn::tensor::Device;
use pollster::block_on;
use vanillanet::classify::Classifier;
use vanillanet::data::preprocess::{Preprocess, decode};
use vanillanet::io::card::CARD_KEY;
use vanillanet::io::detect::detect;
use vanillanet::io::state_dict::HostTensor;
use vanillanet::{StateDict, VanillaNetConfig, state_dict};

fn read(path: &str) -> Vec<u8> {
    std::fs::read(fixture_path(path)).unwrap()
}

#[test]
fn official_pth_from_memory_detects_the_widths_and_asks_for_strides() {
    let sd = StateDict::from_bytes(read("checkpoint.pth")).unwrap();
    let d = detect(&sd).unwrap();
    assert_eq!((d.dims.clone(), d.act_num, d.in_chans, d.num_classes), (vec![16, 32, 64, 128], 3, 3, 10));
    assert!(d.training_form && d.candidates.is_empty());
    let device = Device::flex();
    let missing = Classifier::from_checkpoint(&sd, None, None, &device).unwrap_err().to_string();
    assert!(missing.contains("strides"), "{missing}");
    let c = Classifier::from_checkpoint(&sd, None, Some(vec![2, 2, 2]), &device).unwrap();
    let io = fixture("io.safetensors");
    common::assert_close(&host(c.model.forward(input(&io, &device))), io.get("logits_deploy").unwrap(), "fused");
    // The deploy-form state_dict gives the same architecture, unfused.
    let deploy = detect(&fixture("deploy_state.safetensors")).unwrap();
    assert_eq!((deploy.dims, deploy.act_num, deploy.training_form), (d.dims, 3, false));
}

/// A state_dict of `config`'s shapes with no values: enough for detection.
fn shapes_of(config: &VanillaNetConfig) -> StateDict {
    let full = state_dict(&config.init_deploy(&Device::flex())).unwrap();
    let mut sd = StateDict::default();
    for (k, t) in full.tensors {
        sd.tensors.insert(k, HostTensor { shape: t.shape, data: vec![] });
    }
    sd
}

#[test]
fn detection_picks_the_named_model_or_says_it_is_ambiguous() {
    let d = detect(&shapes_of(&VanillaNetConfig::named("vanillanet_5").unwrap())).unwrap();
    assert_eq!(d.candidates, ["vanillanet_5"]);
    assert!(!d.ambiguous());
    assert_eq!(d.config(None, None).unwrap(), VanillaNetConfig::named("vanillanet_5").unwrap());
    // small_28 and small_32 share widths; the channels tell them apart.
    let gray = detect(&shapes_of(&VanillaNetConfig::named("small_28").unwrap())).unwrap();
    assert_eq!(gray.candidates[0], "small_28");
    assert!(!gray.ambiguous());
    let other = VanillaNetConfig::named("small_28").unwrap().with_in_chans(2).with_num_classes(4);
    let d = detect(&shapes_of(&other)).unwrap();
    assert!(d.ambiguous(), "{d:?}");
    assert_eq!(d.config(Some("small_32"), None).unwrap().strides, vec![2, 2, 2]);
    assert!(d.config(Some("vanillanet_5"), None).unwrap_err().to_string().contains("widths"));
}

#[test]
fn export_then_import_gives_identical_outputs() {
    let device = Device::flex();
    let sd = StateDict::from_bytes(read("checkpoint.pth")).unwrap();
    let c = Classifier::from_checkpoint(&sd, None, Some(vec![2, 2, 2]), &device).unwrap();
    let bytes = block_on(c.to_safetensors()).unwrap();
    let back = StateDict::from_bytes(bytes).unwrap();
    assert!(back.metadata.contains_key(CARD_KEY));
    assert!(back.keys().all(|k| k.starts_with("stem.") || k.starts_with("stages.") || k.starts_with("cls.")));
    let imported = Classifier::from_checkpoint(&back, None, None, &device).unwrap();
    assert_eq!(imported.card, c.card);
    let x = input(&fixture("io.safetensors"), &device);
    assert_eq!(host(imported.model.forward(x.clone())), host(c.model.forward(x)));
}

#[test]
fn a_card_that_does_not_fit_the_tensors_is_refused() {
    let device = Device::flex();
    let sd = StateDict::from_bytes(read("checkpoint.pth")).unwrap();
    let c = Classifier::from_checkpoint(&sd, None, Some(vec![2, 2, 2]), &device).unwrap();
    let mut sd = StateDict::from_bytes(block_on(c.to_safetensors()).unwrap()).unwrap();
    let card = sd.metadata[CARD_KEY].replace("[16,32,64,128]", "[16,32,64,256]");
    sd.metadata.insert(CARD_KEY.into(), card);
    let e = Classifier::from_checkpoint(&sd, None, None, &device).unwrap_err().to_string();
    assert!(e.contains("shape"), "{e}");
    sd.metadata.insert(CARD_KEY.into(), "{not json".into());
    assert!(Classifier::from_checkpoint(&sd, None, None, &device).unwrap_err().to_string().contains("model card"));
}

#[test]
fn pickles_that_call_code_are_refused_and_nothing_runs() {
    let marker = std::path::Path::new("/tmp/vanillanet-pwned");
    let _ = std::fs::remove_file(marker);
    for name in ["payload-pickle.pth", "payload-zip.pth"] {
        let bytes = std::fs::read(fixture_path("../hostile").join(name)).unwrap();
        let e = StateDict::from_bytes(bytes).unwrap_err().to_string();
        assert!(e.contains("never run"), "{name}: {e}");
        println!("{name}: {e}");
    }
    assert!(!marker.exists(), "a payload ran");
}

#[test]
fn broken_files_get_messages() {
    let e = |bytes: Vec<u8>| StateDict::from_bytes(bytes).unwrap_err().to_string();
    assert!(e(vec![]).contains("empty"));
    let pth = read("checkpoint.pth");
    assert!(e(pth[..pth.len() / 2].to_vec()).contains("PyTorch"));
    assert!(e(b"hello, not a checkpoint".to_vec()).contains("safetensors"));
    let foreign = StateDict::from_bytes(read("io.safetensors")).unwrap();
    assert!(detect(&foreign).unwrap_err().to_string().contains("not a VanillaNet"));
}

#[test]
fn safetensors_whose_header_length_starts_like_a_pickle_are_read() {
    // A header length of 128 + 256k makes the file's first byte 0x80, a pickle's first opcode:
    // a training snapshot's metadata once grew to such a length, and it was read as a pickle.
    let mut sd = StateDict::default();
    sd.insert("w", vec![2], vec![1.0, -2.0]);
    let found = (0..256).find_map(|pad| {
        sd.metadata.insert("pad".into(), "x".repeat(pad));
        let bytes = sd.to_safetensors().unwrap();
        (bytes[0] == 0x80).then_some(bytes)
    });
    let bytes = found.expect("some padding gives a header length of 128 mod 256");
    let back = StateDict::from_bytes(bytes).unwrap();
    assert_eq!(back.metadata, sd.metadata);
    assert_eq!(back.keys().collect::<Vec<_>>(), ["w"]);
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 8) as u8, (y * 8) as u8, 128]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A PNG signature and a valid IHDR chunk declaring `w x h`, and no pixel data.
fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    let ihdr_crc = crc(&ihdr);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(13u32.to_be_bytes());
    out.extend(ihdr);
    out.extend(ihdr_crc.to_be_bytes());
    for chunk in [b"IDAT", b"IEND"] {
        out.extend(0u32.to_be_bytes());
        out.extend(chunk);
        out.extend(crc(chunk).to_be_bytes());
    }
    out
}

fn crc(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
    }
    !c
}

#[test]
fn images_are_decoded_with_limits_and_clear_messages() {
    let e = |bytes: &[u8]| decode(bytes).unwrap_err().to_string();
    assert!(e(&[]).contains("empty"));
    assert!(e(b"just some text").contains("not an image"));
    assert!(e(b"II*\0\x08\0\0\0 tiff").contains("not supported"));
    let huge = e(&png_header(100_000, 100_000));
    assert!(huge.contains("100000x100000"), "{huge}");
    let good = png(40, 30);
    assert!(e(&good[..good.len() / 2]).contains("truncated"), "{}", e(&good[..good.len() / 2]));
    assert_eq!(decode(&good).unwrap().width(), 40);
}

#[test]
fn imagenet_preprocessing_resizes_crops_and_normalizes() {
    let p = Preprocess::imagenet(224, 3);
    let x = p.input(&png(400, 300)).unwrap();
    assert_eq!(x.len(), 3 * 224 * 224);
    // The blue channel is 128 everywhere: (128/255 - 0.406) / 0.225.
    let blue = x[2 * 224 * 224 + 1000];
    assert!((blue - (128.0 / 255.0 - 0.406) / 0.225).abs() < 1e-4, "{blue}");
    let device = Device::flex();
    let sd = StateDict::from_bytes(read("checkpoint.pth")).unwrap();
    let c = Classifier::from_checkpoint(&sd, None, Some(vec![2, 2, 2]), &device).unwrap();
    let r = block_on(c.classify(&png(64, 64), 3, &device)).unwrap();
    let (top, ms) = (r.top, r.ms);
    assert_eq!(top.len(), 3);
    assert!(top[0].probability >= top[1].probability && ms >= 0.0);
    assert!(top.iter().all(|t| t.label.starts_with("class ")));
}

#[test]
fn onnx_export_holds_the_deploy_graph_with_official_names() {
    use onnx_protobuf::{Message, ModelProto};
    let device = Device::flex();
    let sd = StateDict::from_bytes(read("checkpoint.pth")).unwrap();
    let c = Classifier::from_checkpoint(&sd, None, Some(vec![2, 2, 2]), &device).unwrap();
    let model = ModelProto::parse_from_bytes(&block_on(c.to_onnx()).unwrap()).unwrap();
    let g = model.graph.as_ref().unwrap();
    let ops: Vec<&str> = g.node.iter().map(|n| n.op_type.as_str()).collect();
    // Stem conv + act, then per block conv, pool, act; then pool, conv, flatten.
    assert_eq!(ops.iter().filter(|o| **o == "Conv").count(), 2 + 2 * 3 + 1);
    assert_eq!(ops.iter().filter(|o| **o == "MaxPool").count(), 3);
    assert_eq!(ops.last(), Some(&"Flatten"));
    let mut names: Vec<&str> = g.initializer.iter().map(|t| t.name.as_str()).collect();
    names.sort();
    let deploy = vanillanet::state_dict(&c.model).unwrap();
    assert_eq!(names, deploy.keys().collect::<Vec<_>>());
    assert_eq!((g.input[0].name.as_str(), g.output[0].name.as_str()), ("input", "logits"));
    assert!(model.metadata_props.iter().any(|p| p.key == CARD_KEY));
}

/// A file of a few hundred bytes: zero-element tensors whose shapes declare a 10^9-wide net.
fn tiny_file_declaring(stem_width: usize) -> StateDict {
    let mut sd = StateDict::default();
    sd.insert("stem.0.weight", vec![stem_width, 3, 0, 4], vec![]);
    sd.insert("stem.1.weight", vec![stem_width, 0, 7, 7], vec![]);
    sd.insert("stages.0.conv.weight", vec![64, 0, 1, 1], vec![]);
    sd.insert("cls.2.weight", vec![10, 0, 1, 1], vec![]);
    sd
}

#[test]
fn declared_sizes_are_checked_before_anything_is_built() {
    let device = Device::flex();
    let load =
        |sd: &StateDict| Classifier::from_checkpoint(sd, None, Some(vec![2]), &device).err().unwrap().to_string();
    let bytes = tiny_file_declaring(1_000_000_000).to_safetensors().unwrap();
    assert!(bytes.len() < 1000, "{} bytes", bytes.len());
    let err = load(&StateDict::from_bytes(bytes).unwrap());
    assert!(err.contains("at most 16384 channels"), "{err}");
    // Widths within the caps, tensors empty: the shapes are compared before the net is built.
    let err = load(&tiny_file_declaring(64));
    assert!(err.contains("'stem.0.bias'") || err.contains("has shape"), "{err}");
    // A scalar where a kernel belongs: an error, not a panic.
    let mut scalar = tiny_file_declaring(64);
    scalar.insert("stages.0.conv.weight", vec![], vec![1.0]);
    let err = load(&scalar);
    assert!(err.contains("4-d conv kernel"), "{err}");
    // A card declaring a huge net over a small file.
    let mut carded = fixture("deploy_state.safetensors");
    let card = vanillanet::ModelCard::official(
        "huge".into(),
        VanillaNetConfig::new(vec![16, 32, 64, 128], vec![2, 2, 2]),
        vanillanet::Form::Deploy,
    );
    let json = card.to_json().unwrap().replace("[16,32,64,128]", "[16,32,64,1000000000]");
    carded.metadata.insert(CARD_KEY.into(), json);
    let err = load(&carded);
    assert!(err.contains("at most 16384 channels"), "{err}");
}

#[test]
fn a_random_classifier_moves_between_devices_with_the_same_answers() {
    let device = Device::flex();
    let c = Classifier::random("nano_28", 28, &device).unwrap();
    assert_eq!(c.card.preprocess.height, 28);
    assert!(Classifier::random("nano_28", 1, &device).is_err(), "too small an input for the net");
    assert!(Classifier::random("no_such_model", 28, &device).is_err());
    let moved = block_on(c.to_device(&Device::flex())).unwrap();
    let channels = c.card.preprocess.channels;
    let values: Vec<f32> = (0..channels * 28 * 28).map(|i| (i % 17) as f32 / 17.0).collect();
    let x = burn::tensor::Tensor::<4>::from_data(burn::tensor::TensorData::new(values, [1, channels, 28, 28]), &device);
    assert_eq!(block_on(c.logits(x.clone())).unwrap(), block_on(moved.logits(x)).unwrap());
}
