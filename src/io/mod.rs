//! Files: the authors' tensor names, state dicts read from and written to checkpoints
//! (safetensors, `.pth`), the architecture told from tensors, the model card every file of
//! ours carries, and ONNX export.

pub mod card;
pub mod detect;
pub mod names;
pub mod onnx;
pub mod state_dict;
