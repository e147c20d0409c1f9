//! `vanillanet export-onnx`: a model file's deploy form as an ONNX graph (opset 13).

use vanillanet::Result;

use crate::args::ExportOnnxArgs;
use crate::context::{Context, write_file};
use crate::model_file::ModelFile;

pub fn run(args: ExportOnnxArgs, context: &Context) -> Result<()> {
    let ExportOnnxArgs { model, size, output } = args;
    let device = context.device()?;
    let bytes = pollster::block_on(ModelFile::read(&model)?.classifier(size, &device)?.to_onnx())?;
    write_file(&output, &bytes)?;
    println!("wrote {} ({} bytes, opset 13)", output.display(), bytes.len());
    Ok(())
}
