//! Test-time augmentation: the averaged probabilities are the mean of the net's softmax over the
//! image and its mirror (made here from the image's bytes, not by the code under test), only
//! where the data allows a mirror; every evaluation says the accuracy with and without it.

use crate::common::{halves_data, random_state};
use burn::module::Module;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor};
use pollster::block_on;
use vanillanet::data::dataset::{Dataset, Split};
use vanillanet::load_state;
use vanillanet::model::Weights;
use vanillanet::train::evaluation::{
    accuracies_on, accuracy, evaluate_fused_tta, evaluate_net, evaluate_net_tta, fused_accuracies_on,
};
use vanillanet::train::options::TrainOptions;
use vanillanet::train::trained_net::TrainedNet;
use vanillanet::train::trainer::Trainer;
use vanillanet::train::tta::{self, Tta};

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec::<f32>().unwrap()
}

/// A nano net trained for an epoch (lambda at 1, so it fuses) on 28x28 halves (left bright:
/// class 0; a mirror swaps the classes, so the mirror's answers differ from the image's).
fn trainer(mirror: bool, tta: Tta) -> Trainer {
    let options = TrainOptions {
        preset: "nano_28".into(),
        batch_size: 16,
        epochs: 1,
        decay_epochs: 1,
        learning_rate: 1e-2,
        mirror: false,
        tta,
        ..Default::default()
    };
    let mut trainer = Trainer::new(&Device::flex(), halves_data(64, 40).with_mirror(mirror), options).unwrap();
    while !trainer.finished() {
        block_on(trainer.step()).unwrap();
    }
    trainer
}

/// `split` with every image mirrored left-right, byte by byte.
fn mirrored(data: &Dataset, split: &Split) -> Split {
    let (w, image) = (data.width, data.image_len());
    let mut pixels = split.pixels.clone();
    for row in pixels.chunks_mut(w) {
        row.reverse();
    }
    assert_eq!(pixels.len() % image, 0);
    Split { pixels, labels: split.labels.clone() }
}

#[test]
fn tta_is_the_mean_softmax_of_the_image_and_its_mirror() {
    let trainer = trainer(true, Tta::Mirror);
    let (data, config, device) = (trainer.data(), trainer.config(), Device::flex());
    // Random weights, BN statistics included, at lambda 0.5: an epoch on halves leaves the net
    // answering alike for an image and its mirror; this one tells them apart.
    let weights = load_state(config.init(&device), &random_state(config, 7), &device).unwrap().valid();
    let net = TrainedNet { net: weights, weights: Weights::Trained, config, data, lambda: 0.5, step: 3, device };
    let indices: Vec<usize> = (0..data.test.len()).collect();
    let (x, _) = data.batch(&data.test, &indices, &net.device);
    let (mx, _) = data.batch(&mirrored(data, &data.test), &indices, &net.device);
    let logits = |x| net.net.forward(x, net.lambda);
    let plain = values(softmax(logits(x.clone()), 1));
    let of_mirror = values(softmax(logits(mx), 1));
    let expected: Vec<f32> = plain.iter().zip(&of_mirror).map(|(a, b)| (a + b) / 2.0).collect();
    let fill = tta::black(&data.normalize);
    let (p, mean) = tta::probabilities(&logits, x.clone(), Tta::Mirror, &fill);
    assert_eq!(values(p), plain, "the plain answers are the image's");
    let mean = values(mean.expect("a mirror is allowed"));
    let diff = mean.iter().zip(&expected).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(diff <= 1e-5, "max |tta - mean softmax| {diff:e}");
    assert_ne!(plain, of_mirror, "the mirror is another image to this net");

    // The evaluation's accuracy with TTA is that of the mean's answers; without, the plain one.
    let k = data.classes.len();
    let right = |probs: &[f32]| {
        let hits = probs.chunks(k).zip(&data.test.labels).filter(|(row, l)| argmax(row) == **l as usize).count();
        hits as f32 / data.test.len() as f32
    };
    let e = block_on(evaluate_net_tta(&net, Tta::Mirror)).unwrap();
    assert_eq!((e.tta, e.accuracy_tta), (Tta::Mirror, Some(right(&expected))));
    assert_eq!(e.accuracy, right(&plain));
    assert_eq!(e.accuracy, block_on(evaluate_net(&net)).unwrap().accuracy);
    let a = block_on(accuracies_on(&net, &data.test, None, Tta::Mirror)).unwrap().unwrap();
    assert_eq!((a.plain, a.tta), (e.accuracy, e.accuracy_tta));
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!((json["tta"].as_str(), json["accuracyTta"].as_f64()), (Some("mirror"), e.accuracy_tta.map(f64::from)));
    // An evaluation kept from before TTA reads as without it.
    let mut old = json.clone();
    old.as_object_mut().unwrap().retain(|k, _| k != "tta" && k != "accuracyTta");
    let old: vanillanet::train::evaluation::Evaluation = serde_json::from_value(old).unwrap();
    assert_eq!((old.tta, old.accuracy_tta), (Tta::Off, None));

    // Six views: the image, its mirror and the four one-pixel shifts, averaged.
    let (_, six) = tta::probabilities(&logits, x.clone(), Tta::MirrorShifts, &fill);
    let mut sum = expected.iter().map(|p| 2.0 * p).collect::<Vec<f32>>();
    for v in tta::Tta::Shifts.views().into_iter().skip(1) {
        let shifted = values(softmax(logits(tta::view(x.clone(), v, &fill)), 1));
        sum.iter_mut().zip(shifted).for_each(|(s, p)| *s += p);
    }
    let diff = values(six.unwrap()).iter().zip(&sum).fold(0f32, |m, (a, s)| m.max((a - s / 6.0).abs()));
    assert!(diff <= 1e-5, "max |six views - their mean| {diff:e}");
}

#[test]
fn where_the_data_allows_no_mirror_tta_is_plain() {
    let trainer = trainer(false, Tta::Mirror);
    let net = trainer.trained_net(Weights::Trained).unwrap();
    let data = trainer.data();
    let e = block_on(evaluate_net_tta(&net, Tta::Mirror)).unwrap();
    assert_eq!((e.tta, e.accuracy_tta), (Tta::Off, None));
    let plain = block_on(accuracy(&net, None)).unwrap();
    let a = block_on(accuracies_on(&net, &data.test, None, Tta::Mirror)).unwrap().unwrap();
    assert_eq!((Some(a.plain), a.tta), (plain, None));
    assert_eq!(Some(e.accuracy), plain);
    // Shifts keep a digit a digit: they still apply, the mirror dropped.
    let e = block_on(evaluate_net_tta(&net, Tta::MirrorShifts)).unwrap();
    assert_eq!(e.tta, Tta::Shifts);
    assert!(e.accuracy_tta.is_some());
    // Off is off on any data.
    let e = block_on(evaluate_net_tta(&trainer.trained_net(Weights::Trained).unwrap(), Tta::Off)).unwrap();
    assert_eq!((e.tta, e.accuracy_tta), (Tta::Off, None));
    assert_eq!(block_on(accuracies_on(&net, &Split::default(), None, Tta::Mirror)).unwrap(), None, "no images");
}

#[test]
fn the_fused_classifier_is_evaluated_with_and_without_tta() {
    let trainer = trainer(true, Tta::MirrorShifts);
    let data = trainer.data();
    let (fused, _) = block_on(trainer.fuse_weights(Weights::Trained, data.test.len())).unwrap();
    let device = trainer.device();
    let e = block_on(evaluate_fused_tta(&fused, data, &device, 7, trainer.options().tta)).unwrap();
    assert_eq!((e.step, e.tta), (7, Tta::MirrorShifts));
    let a = block_on(fused_accuracies_on(&fused, data, &data.test, None, Tta::MirrorShifts, &device)).unwrap().unwrap();
    assert_eq!((Some(a.plain), a.tta), (Some(e.accuracy), e.accuracy_tta));
    let limited = block_on(fused_accuracies_on(&fused, data, &data.test, Some(5), Tta::Off, &device)).unwrap().unwrap();
    assert_eq!(limited.tta, None);
    assert!((limited.plain * 5.0).fract() == 0.0, "of 5 images");
}

#[test]
fn the_option_is_a_row_of_the_table_parsed_and_named_like_the_others() {
    let row = TrainOptions::table().into_iter().find(|o| o.name == "tta").expect("a row");
    assert_eq!((row.flag.as_str(), &row.default), ("--tta", &serde_json::json!("mirror")));
    let parsed: TrainOptions = serde_json::from_value(serde_json::json!({ "tta": "mirror-shifts" })).unwrap();
    assert_eq!(parsed.tta, Tta::MirrorShifts);
    assert!(serde_json::from_value::<TrainOptions>(serde_json::json!({ "tta": "sideways" })).is_err());
    assert_eq!(serde_json::from_value::<TrainOptions>(serde_json::json!({})).unwrap().tta, Tta::Mirror);
    let kind = serde_json::to_value(&row.kind).unwrap();
    assert_eq!(kind["values"], serde_json::json!(["off", "mirror", "shifts", "mirror-shifts"]));
}

#[test]
fn the_session_evaluates_with_the_option_and_again_when_it_changes() {
    use vanillanet::session::Session;
    use vanillanet::train::evaluation::Evaluated;
    let mut s = Session::new();
    s.set_data(halves_data(64, 24).with_mirror(true));
    let options =
        TrainOptions { preset: "nano_28".into(), batch_size: 16, epochs: 1, decay_epochs: 1, ..Default::default() };
    s.create_trainer(options.clone()).unwrap();
    let e = block_on(s.evaluation(Evaluated::Trained)).unwrap();
    assert_eq!(e.tta, Tta::Mirror, "the default");
    assert!(e.accuracy_tta.is_some());
    assert_eq!(block_on(s.evaluation(Evaluated::Trained)).unwrap(), e, "kept while the weights hold");
    // Another TTA asked for: the kept evaluation is of the one before, so it is made again.
    s.set_options(TrainOptions { tta: Tta::Off, ..options }).unwrap();
    let off = block_on(s.evaluation(Evaluated::Trained)).unwrap();
    assert_eq!((off.tta, off.accuracy_tta, off.accuracy), (Tta::Off, None, e.accuracy));
}

fn argmax(row: &[f32]) -> usize {
    (0..row.len()).fold(0, |best, i| if row[i] > row[best] { i } else { best })
}
