//! One model file: the training-form export loads into the authors' code (same keys, shapes
//! and dtypes as their own state_dict) and comes back here; every file carries the card.

use crate::common::*;
use burn::tensor::Device;
use pollster::block_on;
use safetensors::SafeTensors;
use vanillanet::io::card::{CARD_KEY, Form, ModelCard};
use vanillanet::train::options::TrainOptions;
use vanillanet::train::trainer::Trainer;
use vanillanet::{Classifier, StateDict, load_state, state_dict};

/// Name -> (dtype, shape) of every tensor in a safetensors file.
fn layout(bytes: &[u8]) -> Vec<(String, String, Vec<usize>)> {
    let st = SafeTensors::deserialize(bytes).unwrap();
    let mut out: Vec<_> =
        st.tensors().into_iter().map(|(k, v)| (k, format!("{:?}", v.dtype()), v.shape().to_vec())).collect();
    out.sort();
    out
}

#[test]
fn the_training_form_has_exactly_the_authors_state_dict() {
    // The authors' own training-form state_dict (`model.state_dict()`), as their code wrote it.
    let official = std::fs::read(fixture_path("train_state.safetensors")).unwrap();
    let device = Device::flex();
    let model = load_state(tiny_config().init(&device), &fixture("train_state.safetensors"), &device).unwrap();
    let mut sd = state_dict(&model).unwrap();
    sd.add_batch_counts(3);
    let ours = sd.to_safetensors().unwrap();
    // strict=True: no key missing, none extra, every shape and dtype (int64 step counters) equal.
    assert_eq!(layout(&ours), layout(&official));
    let back = StateDict::from_safetensors(&ours).unwrap();
    assert_eq!(back.get("stem1.1.num_batches_tracked").unwrap().data, vec![3.0]);
}

#[test]
fn a_trainer_exports_its_training_form_which_comes_back_as_the_same_classifier() {
    let options =
        TrainOptions { preset: "nano_28".into(), batch_size: 16, epochs: 1, decay_epochs: 0, ..Default::default() };
    let mut trainer = Trainer::new(&Device::flex(), halves_data(48, 16), options).unwrap();
    for _ in 0..3 {
        block_on(trainer.step()).unwrap();
    }
    let bytes = block_on(trainer.export_training()).unwrap();
    let sd = StateDict::from_bytes(bytes).unwrap();
    assert!(sd.keys().any(|k| k == "stages.0.conv1.0.weight"), "official training-form names");
    assert_eq!(sd.get("stem1.1.num_batches_tracked").unwrap().data, vec![3.0], "PyTorch's step counter");
    let card = ModelCard::read(&sd).unwrap().unwrap();
    assert_eq!(card.form, Form::Training);
    assert_eq!(card.classes, vec!["left", "right"]);
    assert_eq!(card.preprocess, trainer.data().preprocess());

    // Back here as a checkpoint: fused on load, the same logits as fusing the trainer.
    let (fused, _) = block_on(trainer.fuse(16)).unwrap();
    let loaded = Classifier::from_checkpoint(&sd, None, None, &Device::flex()).unwrap();
    assert_eq!(loaded.card.form, Form::Deploy);
    assert_eq!(ModelCard { form: Form::Training, ..loaded.card.clone() }, card);
    let (x, _) = trainer.data().batch(&trainer.data().test, &[0, 1, 2, 3], &Device::flex());
    let (a, b) = (block_on(fused.logits(x.clone())).unwrap(), block_on(loaded.logits(x)).unwrap());
    let diff = a.iter().zip(&b).fold(0f32, |m, (p, q)| m.max((p - q).abs()));
    assert!(diff < 1e-5, "{diff}");
}

#[test]
fn a_card_that_contradicts_its_tensors_is_refused() {
    let device = Device::flex();
    let model = load_state(tiny_config().init(&device), &fixture("train_state.safetensors"), &device).unwrap();
    let mut sd = state_dict(&model).unwrap();
    let card = ModelCard::official("tiny".into(), tiny_config(), Form::Deploy);
    sd.metadata.insert(CARD_KEY.into(), card.to_json().unwrap());
    let err = ModelCard::read(&sd).unwrap_err().to_string();
    assert!(err.contains("Deploy form but the tensors are in Training form"), "{err}");
}
