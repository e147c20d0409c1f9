//! Named tensors on the host, read from and written to checkpoint files with the official key
//! names. Everything here is plain data, so it works the same natively and in wasm.

use std::collections::{BTreeMap, HashMap};

use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use crate::error::{Error, Result};
use crate::model::Form;

/// A tensor's shape and values, as f32 (what the model computes in).
#[derive(Clone, Debug, PartialEq)]
pub struct HostTensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl HostTensor {
    /// The same values under another shape of as many elements.
    pub fn reshaped(self, shape: Vec<usize>) -> Self {
        assert_eq!(shape.iter().product::<usize>(), self.data.len(), "reshape to {shape:?}");
        Self { shape, data: self.data }
    }
}

/// Tensors by official name (`stages.0.conv1.0.weight`, ...).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StateDict {
    pub tensors: BTreeMap<String, HostTensor>,
    /// Free-form `__metadata__` of a safetensors file (architecture, class names, ...).
    pub metadata: HashMap<String, String>,
}

fn to_f32(dtype: &str, bytes: &[u8], name: &str) -> Result<Vec<f32>> {
    fn chunks<const N: usize>(bytes: &[u8]) -> impl Iterator<Item = [u8; N]> + '_ {
        bytes.chunks_exact(N).map(|c| c.try_into().unwrap())
    }
    Ok(match dtype {
        "F32" => chunks::<4>(bytes).map(f32::from_le_bytes).collect(),
        "F64" => chunks::<8>(bytes).map(|b| f64::from_le_bytes(b) as f32).collect(),
        "F16" => chunks::<2>(bytes).map(|b| half::f16::from_le_bytes(b).to_f32()).collect(),
        "BF16" => chunks::<2>(bytes).map(|b| half::bf16::from_le_bytes(b).to_f32()).collect(),
        "I64" => chunks::<8>(bytes).map(|b| i64::from_le_bytes(b) as f32).collect(),
        "I32" => chunks::<4>(bytes).map(|b| i32::from_le_bytes(b) as f32).collect(),
        other => {
            return Err(Error::read("checkpoint", format!("tensor '{name}' has unsupported element type {other}")));
        }
    })
}

impl StateDict {
    pub fn insert(&mut self, key: impl Into<String>, shape: Vec<usize>, data: Vec<f32>) {
        self.tensors.insert(key.into(), HostTensor { shape, data });
    }

    pub fn get(&self, key: &str) -> Option<&HostTensor> {
        self.tensors.get(key)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    /// Takes out the tensors whose keys start with `prefix`, as a state dict of their own under
    /// the rest of their keys (no metadata).
    pub fn take_prefixed(&mut self, prefix: &str) -> StateDict {
        let keys: Vec<String> = self.tensors.keys().filter(|k| k.starts_with(prefix)).cloned().collect();
        let mut out = StateDict::default();
        for key in keys {
            if let Some(t) = self.tensors.remove(&key) {
                out.tensors.insert(key[prefix.len()..].to_string(), t);
            }
        }
        out
    }

    /// Reads a safetensors file's bytes.
    pub fn from_safetensors(bytes: &[u8]) -> Result<Self> {
        let st = SafeTensors::deserialize(bytes)
            .map_err(|e| Error::read("checkpoint", format!("not a valid safetensors file: {e}")))?;
        let mut sd = StateDict::default();
        for (name, view) in st.tensors() {
            let data = to_f32(&format!("{:?}", view.dtype()), view.data(), &name)?;
            sd.insert(name, view.shape().to_vec(), data);
        }
        let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| Error::read("checkpoint", e))?;
        if let Some(m) = meta.metadata() {
            sd.metadata = m.clone();
        }
        Ok(sd)
    }

    /// Every value of every tensor is a finite number.
    pub fn all_finite(&self) -> bool {
        self.tensors.values().all(|t| t.data.iter().all(|v| v.is_finite()))
    }

    /// Adds every BatchNorm's `num_batches_tracked` (PyTorch's counter of training steps),
    /// which the authors' code needs to load a state dict with `strict=True`.
    pub fn add_batch_counts(&mut self, batches: usize) {
        let bns: Vec<String> = self
            .keys()
            .filter_map(|k| k.strip_suffix(".running_mean"))
            .map(|bn| format!("{bn}.num_batches_tracked"))
            .collect();
        for key in bns {
            self.insert(key, vec![], vec![batches as f32]);
        }
    }

    /// Writes every tensor as little-endian f32 (BN step counters as int64, as PyTorch keeps
    /// them), keys sorted, with the metadata.
    pub fn to_safetensors(&self) -> Result<Vec<u8>> {
        let bytes: Vec<(&String, Dtype, Vec<u8>, &Vec<usize>)> = self
            .tensors
            .iter()
            .map(|(k, t)| {
                if k.ends_with("num_batches_tracked") {
                    (k, Dtype::I64, t.data.iter().flat_map(|&v| (v as i64).to_le_bytes()).collect(), &t.shape)
                } else {
                    (k, Dtype::F32, t.data.iter().flat_map(|v| v.to_le_bytes()).collect(), &t.shape)
                }
            })
            .collect();
        let views = bytes
            .iter()
            .map(|(k, dtype, b, shape)| {
                TensorView::new(*dtype, shape.to_vec(), b)
                    .map(|v| (k.as_str(), v))
                    .map_err(|e| Error::encode("safetensors", e))
            })
            .collect::<Result<Vec<_>>>()?;
        let meta = (!self.metadata.is_empty()).then(|| self.metadata.clone());
        safetensors::serialize(views, meta).map_err(|e| Error::encode("safetensors", e))
    }

    /// Training or deploy form, told apart by the stem's key names.
    pub fn form(&self) -> Result<Form> {
        if self.tensors.contains_key("stem1.0.weight") {
            Ok(Form::Training)
        } else if self.tensors.contains_key("stem.0.weight") {
            Ok(Form::Deploy)
        } else {
            let first: Vec<_> = self.keys().take(3).collect();
            Err(Error::NotVanillaNet(if first.is_empty() { "(none)".into() } else { first.join(", ") }))
        }
    }

    /// Reads a checkpoint file: safetensors, or a PyTorch `.pth` (zip or legacy pickle).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read(path: &std::path::Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::read("checkpoint", format!("{}: {e}", path.display())))?;
        Self::from_bytes(bytes).map_err(|e| match e {
            Error::Read { what, reason } => Error::Read { what, reason: format!("{}: {reason}", path.display()) },
            other => other,
        })
    }

    /// Reads a checkpoint from memory: safetensors, or a PyTorch `.pth` holding a dict with
    /// `model_ema` (preferred, as the released checkpoints hold) or `model`, or a bare
    /// state_dict. The pickle is read by burn's `pytorch-reader`, which interprets only data
    /// opcodes: a pickle that asks to call anything (`os.system`, ...) is refused, never run.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        if bytes.is_empty() {
            return Err(Error::read("checkpoint", "the file is empty (0 bytes)"));
        }
        if is_safetensors(&bytes) {
            Self::from_safetensors(&bytes)
        } else if bytes.starts_with(b"PK\x03\x04") || bytes[0] == 0x80 {
            Self::from_pth(bytes)
        } else {
            // Neither: the safetensors reader names what is wrong.
            Self::from_safetensors(&bytes)
        }
    }

    fn from_pth(bytes: Vec<u8>) -> Result<Self> {
        let fail = |e: pytorch_reader::PytorchError| {
            Error::read("checkpoint", format!("not a readable PyTorch checkpoint: {e}"))
        };
        let reader = pytorch_reader::PytorchReader::from_bytes(bytes, None).map_err(fail)?;
        let mut tensors = reader.into_tensors();
        // Every tensor comes flattened to a dotted path. `model_ema` holds no tensor when
        // torch.save pickled it as a reference to `model` (the very same dict), so it falls
        // through to `model`, then to the bare state_dict.
        let prefix = ["model_ema.", "model.", "state_dict.", ""]
            .into_iter()
            .find(|p| tensors.keys().any(|k| k.strip_prefix(p).is_some_and(|rest| rest.starts_with("stem"))))
            .unwrap_or("");
        let mut sd = StateDict::default();
        let names: Vec<String> = tensors.keys().filter(|k| k.starts_with(prefix)).cloned().collect();
        for name in names {
            let t = tensors.remove(&name).expect("listed above");
            let key = name[prefix.len()..].to_string();
            let bytes = t.read().map_err(|e| Error::read("checkpoint", format!("tensor '{name}': {e}")))?;
            let dtype = format!("{:?}", t.dtype()).to_uppercase();
            // pytorch-reader gives native-endian bytes; every target we build for is little-endian.
            let data = to_f32(&dtype, &bytes, &name)?;
            sd.insert(key, t.shape().to_vec(), data);
        }
        if sd.tensors.is_empty() {
            return Err(Error::read(
                "checkpoint",
                "the PyTorch file holds no tensors; anything in it but plain data (such as calls to Python functions) was skipped, never run",
            ));
        }
        Ok(sd)
    }
}

/// A safetensors file: a little-endian u64 header length, then that many bytes of JSON, which
/// starts with `{`. Its first byte alone says nothing: a header length of 128 + 256k starts the
/// file with 0x80, a pickle's PROTO opcode (snapshots met this once their metadata grew).
fn is_safetensors(bytes: &[u8]) -> bool {
    let Some(len) = bytes.get(..8) else { return false };
    let len = u64::from_le_bytes(len.try_into().expect("8 bytes"));
    bytes.get(8) == Some(&b'{') && len.checked_add(8).is_some_and(|end| end <= bytes.len() as u64)
}
