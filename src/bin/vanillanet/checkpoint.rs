//! The commands on a model file: logits, fuse, classify, export-onnx, init, info, models and
//! inspect. Every model file goes through one loader and comes out with its card, so the CLI
//! and the page agree on a model file.

/// A checkpoint's model in the form asked for.
enum Loaded {
    Training(VanillaNet),
    Deploy(VanillaNetDeploy),
}

use std::path::Path;

use burn::tensor::{Device, Tensor, TensorData};
use vanillanet::classify::Classifier;
use vanillanet::io::card::{Form, ModelCard};
use vanillanet::io::detect::detect;
use vanillanet::io::names::check_shapes;
use vanillanet::{
    Error, NAMED_MODELS, Result, StateDict, VanillaNet, VanillaNetConfig, VanillaNetDeploy, load_state, state_dict,
};

use crate::args::{
    ArchArgs, Backend, ClassifyArgs, ExportOnnxArgs, FuseArgs, InfoArgs, InitArgs, InspectArgs, LogitsArgs, ModelArgs,
};
use crate::commands::{device, write_file, write_model};

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
                ModelCard::official(name, config, sd.form()?.into())
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

fn load(args: &ModelArgs, device: &Device) -> Result<(ModelCard, Loaded)> {
    let sd = StateDict::read(&args.checkpoint)?;
    let card = card_of(&sd, &args.arch)?;
    let config = &card.architecture;
    check_shapes(config, &sd)?;
    let model = match sd.form()? {
        Form::Training => Loaded::Training(load_state(config.init(device), &sd, device)?),
        Form::Deploy => Loaded::Deploy(load_state(config.init_deploy(device), &sd, device)?),
    };
    Ok((card, model))
}

fn deploy_model(loaded: Loaded, lambda: f64) -> Result<VanillaNetDeploy> {
    match loaded {
        Loaded::Training(model) => model.fuse(lambda),
        Loaded::Deploy(_) if lambda != 1.0 => Err(Error::FuseLambda { lambda }),
        Loaded::Deploy(model) => Ok(model),
    }
}

/// The checkpoint as a classifier (the library's loader, as the page's), its input side set to
/// `size` when given.
fn classifier(args: &ModelArgs, size: Option<usize>, device: &Device) -> Result<Classifier> {
    let sd = StateDict::read(&args.checkpoint)?;
    let mut card = card_of(&sd, &args.arch)?;
    if let Some(size) = size {
        card.preprocess.height = size;
        card.preprocess.width = size;
        card.validate()?;
    }
    Classifier::load(card, &sd, device)
}

fn read_input(path: &Path, config: &VanillaNetConfig, device: &Device) -> Result<Tensor<4>> {
    let bytes = std::fs::read(path).map_err(|e| Error::InvalidInput(format!("{}: {e}", path.display())))?;
    let sd =
        StateDict::from_safetensors(&bytes).map_err(|e| Error::InvalidInput(format!("{}: {e}", path.display())))?;
    let t = sd
        .get("input")
        .ok_or_else(|| Error::InvalidInput(format!("{} has no tensor named 'input'", path.display())))?;
    let &[n, c, h, w] = t.shape.as_slice() else {
        return Err(Error::InvalidInput(format!("'input' must be NCHW (4 dims), got shape {:?}", t.shape)));
    };
    if c != config.in_chans {
        return Err(Error::InvalidInput(format!("'input' has {c} channels, the model takes {}", config.in_chans)));
    }
    if n == 0 {
        return Err(Error::InvalidInput("'input' has batch size 0".into()));
    }
    config.feature_sizes(h, w)?;
    Ok(Tensor::from_data(TensorData::new(t.data.clone(), [n, c, h, w]), device))
}

fn to_host(t: Tensor<2>) -> Result<(Vec<usize>, Vec<f32>)> {
    let dims = t.dims().to_vec();
    let data = t.into_data().convert::<f32>().try_into_vec::<f32>().map_err(|e| Error::Readback(format!("{e:?}")))?;
    Ok((dims, data))
}

pub fn logits(args: LogitsArgs, backend: Backend) -> Result<()> {
    let LogitsArgs { model, lambda, fused, input, output } = args;
    if !(0.0..=1.0).contains(&lambda) {
        return Err(Error::InvalidInput(format!("--lambda must be within [0, 1], got {lambda}")));
    }
    if fused && lambda != 1.0 {
        return Err(Error::FuseLambda { lambda });
    }
    let device = device(backend)?;
    let (card, loaded) = load(&model, &device)?;
    let x = read_input(&input, &card.architecture, &device)?;
    let logits = match (fused, loaded) {
        (true, loaded) => deploy_model(loaded, lambda)?.forward(x),
        (false, Loaded::Training(m)) => m.forward(x, lambda),
        (false, Loaded::Deploy(m)) if lambda == 1.0 => m.forward(x),
        (false, Loaded::Deploy(_)) => {
            return Err(Error::InvalidInput(format!(
                "the checkpoint is already fused (deploy form): it has no lambda, so it cannot run at lambda {lambda}"
            )));
        }
    };
    let (shape, data) = to_host(logits)?;
    let mut out = StateDict::default();
    out.insert("logits", shape, data);
    write_file(&output, &out.to_safetensors()?)?;
    Ok(())
}

pub fn fuse(args: FuseArgs, backend: Backend) -> Result<()> {
    let FuseArgs { model, output } = args;
    let device = device(backend)?;
    let c = classifier(&model, None, &device)?;
    let sd = state_dict(&c.model)?;
    let tensors = sd.tensors.len();
    write_model(&output, sd, &c.card)?;
    println!("wrote {} ({tensors} tensors, {} parameters)", output.display(), c.card.architecture.params_deploy());
    Ok(())
}

pub fn classify(args: ClassifyArgs, backend: Backend) -> Result<()> {
    let ClassifyArgs { model, size, labels, top, images } = args;
    let device = device(backend)?;
    let mut c = classifier(&model, size, &device)?;
    if let Some(path) = labels {
        let text =
            std::fs::read_to_string(&path).map_err(|e| Error::InvalidInput(format!("{}: {e}", path.display())))?;
        c.card.classes = text.lines().map(String::from).collect();
        if c.card.classes.len() != c.card.architecture.num_classes {
            return Err(Error::InvalidInput(format!(
                "{}: {} labels for {} classes",
                path.display(),
                c.card.classes.len(),
                c.card.architecture.num_classes
            )));
        }
    }
    let mut failed = false;
    for path in &images {
        let result =
            std::fs::read(path).map_err(Error::Io).and_then(|b| pollster::block_on(c.classify(&b, top, &device)));
        match result {
            Ok(r) => {
                println!("{}", path.display());
                for p in r.top {
                    println!("  {:6.2}%  {}", p.probability * 100.0, p.label);
                }
            }
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                failed = true;
            }
        }
    }
    if failed {
        return Err(Error::InvalidInput("some images could not be read (see above)".into()));
    }
    Ok(())
}

pub fn export_onnx(args: ExportOnnxArgs, backend: Backend) -> Result<()> {
    let ExportOnnxArgs { model, size, output } = args;
    let device = device(backend)?;
    let bytes = pollster::block_on(classifier(&model, size, &device)?.to_onnx())?;
    write_file(&output, &bytes)?;
    println!("wrote {} ({} bytes, opset 13)", output.display(), bytes.len());
    Ok(())
}

pub fn init(args: InitArgs, backend: Backend) -> Result<()> {
    let InitArgs { arch, size, seed, output } = args;
    let config = arch.config()?;
    config.feature_sizes(size, size)?;
    let device = device(backend)?;
    let mut sd = state_dict(&config.init_seeded(seed, &device))?;
    sd.add_batch_counts(0);
    let (tensors, params) = (sd.tensors.len(), config.params_train());
    let name = arch.model.clone().unwrap_or_else(|| format!("VanillaNet {:?}", config.dims));
    let mut card = ModelCard::official(name, config, Form::Training);
    card.preprocess = vanillanet::data::preprocess::Preprocess::imagenet(size, card.architecture.in_chans);
    write_model(&output, sd, &card)?;
    println!("wrote {} ({tensors} tensors, {params} parameters)", output.display());
    Ok(())
}

pub fn info(args: InfoArgs) -> Result<()> {
    let InfoArgs { arch, size } = args;
    let config = arch.config()?;
    let sizes = config.feature_sizes(size, size)?;
    println!(
        "dims {:?} strides {:?} act_num {} in_chans {} classes {}",
        config.dims, config.strides, config.act_num, config.in_chans, config.num_classes
    );
    println!(
        "feature maps at {size}x{size}: {}",
        sizes.iter().map(|(h, w)| format!("{h}x{w}")).collect::<Vec<_>>().join(" -> ")
    );
    println!("training form: {:>13} params {:>16} MACs", config.params_train(), config.macs(size, size, false)?);
    println!("deploy form:   {:>13} params {:>16} MACs", config.params_deploy(), config.macs(size, size, true)?);
    Ok(())
}

pub fn models() -> Result<()> {
    for m in NAMED_MODELS {
        let c = (m.config)();
        println!("{:<28} {:<55} dims {:?} strides {:?}", m.name, m.description, c.dims, c.strides);
    }
    Ok(())
}

pub fn inspect(args: InspectArgs, backend: Backend) -> Result<()> {
    let device = device(backend)?;
    let (card, loaded) = load(&args.model, &device)?;
    let (trained, deploy) = match loaded {
        Loaded::Training(m) => (Some(m), None),
        Loaded::Deploy(m) => (None, Some(m)),
    };
    if let Some(json) = crate::inspect::run(&card, trained, deploy, &args, &device)? {
        let path = args.json.as_ref().expect("JSON only when asked");
        write_file(path, json.as_bytes())?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
