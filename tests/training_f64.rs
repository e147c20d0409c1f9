//! The training step in float64, as the reference was computed: every gradient, the loss and
//! the BN running statistics must then agree to 1e-4 of the reference's magnitude.

#[path = "integration/common/mod.rs"]
mod common;

use burn::tensor::{Device, FloatDType};

#[test]
fn training_step_in_f64_matches_official_to_1e4() {
    let mut device = Device::flex();
    // Only one test in this binary: the dtype can be set before the device's first tensor only.
    device.configure(FloatDType::F64).expect("flex supports f64");
    let report = common::training_step(&device.autodiff());
    assert_eq!(report.len(), 2 + 50 + 26);
    for (key, rel) in report {
        assert!(rel <= 1e-4, "{key}: relative error {rel:e}");
    }
}
