//! The native wgpu backend on the machine's Vulkan device. `scripts/test.sh` installs Mesa's
//! lavapipe (a Vulkan device in software), so this runs on machines without a GPU, CI included:
//! the same logits as the CPU backend, trained and fused, training that lowers the loss, and
//! `vanillanet --backend gpu bench`.

use std::process::Command;
use std::sync::OnceLock;

use burn::tensor::Device;
use pollster::block_on;
use vanillanet::load_state;
use vanillanet::train::options::TrainOptions;
use vanillanet::train::trainer::Trainer;

use crate::common::*;

/// One device for every test here: tests run on parallel threads, and asking wgpu for the
/// adapter from several at once failed once on a loaded machine.
fn gpu() -> Device {
    static GPU: OnceLock<Device> = OnceLock::new();
    GPU.get_or_init(|| {
        Device::wgpu_options().init().unwrap_or_else(|e| {
            panic!("no wgpu adapter ({e}): install a Vulkan driver, e.g. Debian's mesa-vulkan-drivers (scripts/test.sh does)")
        })
    })
    .clone()
}

#[test]
fn gpu_logits_equal_the_cpu_backend_trained_and_fused() {
    let (io, state) = (fixture("io.safetensors"), fixture("train_state.safetensors"));
    let logits = |device: &Device| {
        let model = load_state(tiny_config().init(device), &state, device).unwrap();
        let x = input(&io, device);
        let fused = model.fuse(1.0).unwrap();
        [0.0, 0.5, 1.0].map(|lambda| host(model.forward(x.clone(), lambda))).into_iter().chain([host(fused.forward(x))])
    };
    let names = ["lambda 0", "lambda 0.5", "lambda 1", "fused"];
    for ((on_gpu, on_cpu), name) in logits(&gpu()).zip(logits(&Device::flex())).zip(names) {
        assert_close(&on_gpu, &on_cpu, &format!("{name}, gpu against cpu"));
    }
}

#[test]
fn training_on_the_gpu_lowers_the_loss() {
    let options = TrainOptions { epochs: 2, decay_epochs: 1, batch_size: 8, ..nano_options() };
    let mut trainer = Trainer::new(&gpu(), halves_data(96, 32), options).unwrap();
    let mut losses = vec![];
    while !trainer.finished() {
        let r = block_on(trainer.step()).unwrap();
        assert!(r.loss.is_finite(), "step {}: loss {}", r.global_step, r.loss);
        losses.push(r.loss);
    }
    assert_eq!(losses.len(), 24);
    let first = losses[..3].iter().sum::<f32>() / 3.0;
    let last = losses[21..].iter().sum::<f32>() / 3.0;
    assert!(last < first * 0.8, "loss {first} -> {last}");
}

#[test]
fn the_cli_benchmarks_on_the_gpu() {
    let args = "--backend gpu bench --models nano_28@28 --batches 1 --runs 2 --warmup 1 --train-preset nano_28 --train-batch 8 --train-steps 2 --breakdown";
    let out = Command::new(env!("CARGO_BIN_EXE_vanillanet")).args(args.split(' ')).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{args}: {stderr}");
    assert!(stdout.contains("backend gpu (wgpu)"), "{stdout}");
    assert!(stdout.contains("nano_28 28x28") && stdout.contains("images/s"), "{stdout}");
    // Where the time goes: every part named, in order.
    assert!(stdout.contains("round trip") && stdout.contains("own ms: stem"), "{stdout}");
    assert!(stdout.contains("stages.1") && stdout.contains(", head "), "{stdout}");
}
