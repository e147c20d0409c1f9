//! `vanillanet init`: a freshly initialised model file (training form, seeded random weights,
//! official key names, with its card).

use vanillanet::io::card::{Form, ModelCard};
use vanillanet::{Result, state_dict};

use crate::args::InitArgs;
use crate::context::{Context, write_model};

pub fn run(args: InitArgs, context: &Context) -> Result<()> {
    let InitArgs { arch, size, seed, output } = args;
    let config = arch.config()?;
    config.feature_sizes(size, size)?;
    let device = context.device()?;
    let mut sd = state_dict(&config.init_seeded(seed, &device))?;
    // Step counters as PyTorch's BatchNorm keeps them: the file loads with strict=True there.
    sd.add_batch_counts(0);
    let (tensors, params) = (sd.tensors.len(), config.params_train());
    let name = arch.model.clone().unwrap_or_else(|| format!("VanillaNet {:?}", config.dims));
    let mut card = ModelCard::official(name, config, Form::Training);
    card.preprocess = vanillanet::data::preprocess::Preprocess::imagenet(size, card.architecture.in_chans);
    write_model(&output, sd, &card)?;
    println!("wrote {} ({tensors} tensors, {params} parameters)", output.display());
    Ok(())
}
