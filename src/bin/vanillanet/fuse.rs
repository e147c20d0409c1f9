//! `vanillanet fuse`: a model file saved in the deploy form, official key names, with its card.

use vanillanet::{Result, state_dict};

use crate::args::FuseArgs;
use crate::context::{Context, write_model};
use crate::model_file::ModelFile;

pub fn run(args: FuseArgs, context: &Context) -> Result<()> {
    let FuseArgs { model, output } = args;
    let device = context.device()?;
    let c = ModelFile::read(&model)?.classifier(None, &device)?;
    let sd = state_dict(&c.model)?;
    let tensors = sd.tensors.len();
    write_model(&output, sd, &c.card)?;
    println!("wrote {} ({tensors} tensors, {} parameters)", output.display(), c.card.architecture.params_deploy());
    Ok(())
}
