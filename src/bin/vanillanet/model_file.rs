//! The one loader of model files (`--checkpoint`) for every command: the file read, its card
//! settled (the flags' architecture, else the file's card, else its tensors), then the net in
//! the form the file holds or the classifier the page would build from it. So the CLI and the
//! page agree on a model file.

use burn::tensor::Device;
use vanillanet::classify::Classifier;
use vanillanet::io::card::{Form, ModelCard};
use vanillanet::io::detect::detect;
use vanillanet::io::names::check_shapes;
use vanillanet::limits::MAX_CHECKPOINT_BYTES;
use vanillanet::{Error, Result, StateDict, VanillaNet, VanillaNetDeploy, load_state};

use crate::args::{ArchArgs, ModelArgs};
use crate::context::read_bounded;

/// A model file read, with the card that says what it holds.
pub struct ModelFile {
    pub card: ModelCard,
    state: StateDict,
}

/// A model file's net, in the form the file holds.
pub enum Net {
    Training(VanillaNet),
    Deploy(VanillaNetDeploy),
}

impl ModelFile {
    pub fn read(args: &ModelArgs) -> Result<Self> {
        let path = &args.checkpoint;
        let bytes = read_bounded(path, MAX_CHECKPOINT_BYTES, "a model file")
            .map_err(|e| Error::read("checkpoint", format!("{}: {e}", path.display())))?;
        // As `StateDict::read` names the file in what is wrong with it.
        let state = StateDict::from_bytes(bytes).map_err(|e| match e {
            Error::Read { what, reason } => Error::Read { what, reason: format!("{}: {reason}", path.display()) },
            other => other,
        })?;
        let card = card_of(&state, &args.arch)?;
        Ok(Self { card, state })
    }

    /// The net the card describes, with the file's tensors, in the file's form.
    pub fn net(&self, device: &Device) -> Result<Net> {
        let config = &self.card.architecture;
        check_shapes(config, &self.state)?;
        Ok(match self.state.form()? {
            Form::Training => Net::Training(load_state(config.init(device), &self.state, device)?),
            Form::Deploy => Net::Deploy(load_state(config.init_deploy(device), &self.state, device)?),
        })
    }

    /// The file as a classifier (the library's loader, as the page's), its input side set to
    /// `size` when given.
    pub fn classifier(mut self, size: Option<usize>, device: &Device) -> Result<Classifier> {
        if let Some(size) = size {
            self.card.preprocess.height = size;
            self.card.preprocess.width = size;
            self.card.validate()?;
        }
        Classifier::load(self.card, &self.state, device)
    }
}

impl Net {
    /// The deploy form: fused at `lambda` from the training form, or the file's own deploy
    /// form (which has no lambda but 1).
    pub fn into_deploy(self, lambda: f64) -> Result<VanillaNetDeploy> {
        match self {
            Net::Training(model) => model.fuse(lambda),
            Net::Deploy(_) if lambda != 1.0 => Err(Error::FuseLambda { lambda }),
            Net::Deploy(model) => Ok(model),
        }
    }
}

/// The card of a checkpoint: the flags' architecture (with the file's classes and
/// preprocessing when its card is of that net), else the file's own card, else one made from
/// its tensors when they settle the architecture.
fn card_of(sd: &StateDict, arch: &ArchArgs) -> Result<ModelCard> {
    let carried = ModelCard::read(sd)?;
    if arch.given() {
        let config = arch.config()?;
        return Ok(match carried {
            Some(card) if card.architecture == config => card,
            _ => {
                let name = arch.model.clone().unwrap_or_else(|| format!("VanillaNet {:?}", config.dims));
                ModelCard::official(name, config, sd.form()?)
            }
        });
    }
    if let Some(card) = carried {
        return Ok(card);
    }
    let detected = detect(sd)?;
    if detected.ambiguous() {
        return Err(Error::InvalidConfig(format!(
            "the tensors fit several models ({}): give --model",
            detected.candidates.join(", ")
        )));
    }
    ModelCard::of_checkpoint(sd, None, None).map_err(|e| match e {
        Error::InvalidConfig(m) => Error::InvalidConfig(format!("{m} (--dims and --strides)")),
        e => e,
    })
}
