//! Telling the architecture of a state_dict from its tensors. Shapes fix the widths, the depth,
//! act_num, the input channels and the classes; strides and adaptive pooling have no tensors, so
//! they come from the named models whose widths match, or from the user.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::io::state_dict::StateDict;
use crate::model::Form;
use crate::model::config::VanillaNetConfig;
use crate::model::presets::NAMED_MODELS;

/// What the tensors say.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(rename_all = "camelCase")]
pub struct Detected {
    #[serde(skip)]
    pub layout: Form,
    pub training_form: bool,
    pub in_chans: usize,
    pub num_classes: usize,
    pub dims: Vec<usize>,
    pub act_num: usize,
    /// Named models with these widths, best first (same classes and channels before others).
    pub candidates: Vec<&'static str>,
    /// How many of them also have these classes and channels.
    pub exact_matches: usize,
}

fn shape<'a>(sd: &'a StateDict, key: &str) -> Result<&'a [usize]> {
    sd.get(key)
        .map(|t| t.shape.as_slice())
        .ok_or_else(|| Error::read("checkpoint", format!("a VanillaNet checkpoint has '{key}', this one does not")))
}

fn kernel(sd: &StateDict, key: &str) -> Result<[usize; 4]> {
    let s = shape(sd, key)?;
    s.try_into().map_err(|_| Error::read("checkpoint", format!("'{key}' should be a 4-d conv kernel, has shape {s:?}")))
}

/// Reads the architecture off the tensors of a training- or deploy-form state_dict.
pub fn detect(sd: &StateDict) -> Result<Detected> {
    let layout = sd.form()?;
    let (stem, block_conv, head) = match layout {
        Form::Training => ("stem1.0.weight", "conv2.0.weight", "cls2.0.weight"),
        Form::Deploy => ("stem.0.weight", "conv.weight", "cls.2.weight"),
    };
    let [d0, in_chans, ..] = kernel(sd, stem)?;
    let mut dims = vec![d0];
    loop {
        let key = format!("stages.{}.{block_conv}", dims.len() - 1);
        if sd.get(&key).is_none() {
            break;
        }
        dims.push(kernel(sd, &key)?[0]);
        if dims.len() > 64 {
            return Err(Error::read("checkpoint", "more than 64 blocks: not a VanillaNet"));
        }
    }
    if dims.len() < 2 {
        return Err(Error::read("checkpoint", format!("no block found: no 'stages.0.{block_conv}'")));
    }
    let act = kernel(sd, if layout == Form::Training { "stem2.2.weight" } else { "stem.1.weight" })?;
    if act[2] % 2 == 0 || act[2] != act[3] {
        return Err(Error::read(
            "checkpoint",
            format!("the series activation kernel is {}x{}, not odd and square", act[2], act[3]),
        ));
    }
    if act[2] == 1 {
        return Err(Error::read(
            "checkpoint",
            "the series activation kernels are 1x1 (the official code's act_num 0); here act_num 0 means plain ReLU without them, so this checkpoint cannot be loaded",
        ));
    }
    let num_classes = kernel(sd, head)?[0];
    let act_num = act[2] / 2;
    // Only models with the published stem: the tensors cannot tell a stem's stride, so a preset
    // with another one is known by its card alone (and never comes from the authors' code).
    let mut candidates: Vec<(bool, &'static str)> = NAMED_MODELS
        .iter()
        .filter_map(|m| {
            let c = (m.config)();
            (c.dims == dims && c.stem_stride == 4)
                .then_some((c.num_classes == num_classes && c.in_chans == in_chans, m.name))
        })
        .collect();
    candidates.sort_by_key(|(exact, _)| !exact);
    let exact_matches = candidates.iter().filter(|(exact, _)| *exact).count();
    Ok(Detected {
        exact_matches,
        layout,
        training_form: layout == Form::Training,
        in_chans,
        num_classes,
        dims,
        act_num,
        candidates: candidates.into_iter().map(|(_, n)| n).collect(),
    })
}

impl Detected {
    /// The architecture: a named model's strides and pooling (`variant`), or `strides` given by
    /// the user; widths, act_num, channels and classes always from the tensors.
    pub fn config(&self, variant: Option<&str>, strides: Option<Vec<usize>>) -> Result<VanillaNetConfig> {
        let base = match (variant, strides) {
            (Some(name), _) => {
                if !self.candidates.contains(&name) {
                    return Err(Error::InvalidConfig(format!(
                        "'{name}' has other widths than this checkpoint ({:?}); matching: {}",
                        self.dims,
                        if self.candidates.is_empty() { "none".into() } else { self.candidates.join(", ") }
                    )));
                }
                VanillaNetConfig::named(name)?
            }
            (None, Some(strides)) => VanillaNetConfig::new(self.dims.clone(), strides),
            (None, None) => match self.candidates.first() {
                Some(name) => VanillaNetConfig::named(name)?,
                None => {
                    return Err(Error::InvalidConfig(format!(
                        "no known model has widths {:?}: give the strides of its {} blocks",
                        self.dims,
                        self.dims.len() - 1
                    )));
                }
            },
        };
        let config = VanillaNetConfig { dims: self.dims.clone(), ..base }
            .with_in_chans(self.in_chans)
            .with_num_classes(self.num_classes)
            .with_act_num(self.act_num);
        config.validate()?;
        Ok(config)
    }

    /// Several named models share these widths (e.g. with and without adaptive pooling): the
    /// user has to pick.
    pub fn ambiguous(&self) -> bool {
        self.exact_matches > 1 || (self.exact_matches == 0 && self.candidates.len() > 1)
    }
}
