//! Every integration test in one binary: burn and wgpu are linked once, not once a file.
//! (`training_f64` stays apart: it sets the CPU device's float type for its whole process.)

mod common;

mod ablation;
mod architectures;
mod builtin_data;
mod classifier;
mod cli;
mod fuse_continue;
mod fuzz;
mod gpu;
mod inside;
mod layout;
mod model_file;
mod ops;
mod parity;
mod recipe;
mod session;
mod session_calls;
mod trainer;
mod transfer;
mod tta;
