//! `vanillanet`: run, fuse, train and inspect VanillaNet checkpoints from the command line.
//! `main` parses the flags (`args.rs`), builds the context every command runs in
//! (`context.rs`) and hands each command to the module named for it; commands share the model
//! file loader (`model_file.rs`) and the datasets `--data` takes (`datasets.rs`), never each
//! other.

mod args;
mod context;
mod datasets;
mod model_file;

mod ablate;
mod bench;
mod classify;
mod export_onnx;
mod fuse;
mod info;
mod init;
mod inspect;
mod logits;
mod models;
mod train;
mod transfer;

use std::process::ExitCode;

use clap::FromArgMatches;
use vanillanet::Result;
use vanillanet::limits::BENCH_CASES;
use vanillanet::train::options::{OptionError, TrainOptions};
use vanillanet::train::recipes;

use args::{Cli, Command};
use context::Context;

fn main() -> ExitCode {
    let parsed = args::command().try_get_matches().and_then(|m| Ok((Cli::from_arg_matches(&m)?, m)));
    let cli = match parsed {
        Ok((mut cli, matches)) => match with_recipe(&mut cli, &matches) {
            Ok(()) => cli,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        },
        Err(e) if !e.use_stderr() => {
            let _ = e.print(); // --help, --version
            return ExitCode::SUCCESS;
        }
        Err(e) => return usage_error(&e),
    };
    if let Err(e) = check_options(&cli) {
        return usage_error(&e);
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `vanillanet train --preset <recipe>`: the recipe's options, with those given on the command
/// line beside it taken as given.
fn with_recipe(cli: &mut Cli, matches: &clap::ArgMatches) -> Result<()> {
    let (Command::Train(args), Some(("train", sub))) = (&mut cli.command, matches.subcommand()) else {
        return Ok(());
    };
    let Some(recipe) = recipes::recipe(&args.options.preset) else {
        return Ok(());
    };
    let options: Vec<String> = TrainOptions::table().into_iter().map(|o| o.name).collect();
    let given: Vec<String> = sub
        .ids()
        .map(|id| id.as_str().to_string())
        .filter(|id| id != "preset" && sub.value_source(id) == Some(clap::parser::ValueSource::CommandLine))
        .filter(|id| options.iter().any(|o| o.to_lowercase() == id.replace('_', "")))
        .collect();
    args.options = recipes::with_given(recipe, &args.options, &given)?;
    Ok(())
}

/// clap's message, on one line: the reason without the usage block after it; exit 2.
fn usage_error(e: &clap::Error) -> ExitCode {
    let text = e.render().to_string();
    let reason: Vec<&str> = text
        .lines()
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    eprintln!("{} (see --help)", reason.join(" "));
    ExitCode::from(2)
}

/// The bounds clap cannot check flag by flag, checked as clap checks a flag's: a usage error
/// naming the flag, before any data is read or allocated. The training options' (the options
/// table's, the page's form's), and the cases a benchmark times (models x batches).
fn check_options(cli: &Cli) -> std::result::Result<(), clap::Error> {
    let bounds = match &cli.command {
        Command::Train(a) => a.options.check_bounds(),
        Command::Ablate(a) => a.options.check_bounds().and_then(|()| a.options.train.check_bounds()),
        Command::Bench(a) => {
            let cases = a.models.len() * a.batches.len();
            match BENCH_CASES.contains(cases as u64) {
                true => Ok(()),
                false => Err(OptionError {
                    field: "models".into(),
                    message: format!("{cases} cases (models x batches): {}", BENCH_CASES.range()),
                }),
            }
        }
        _ => Ok(()),
    };
    bounds.map_err(|e| {
        let flag: String = e
            .field
            .chars()
            .map(|c| if c.is_uppercase() { format!("-{}", c.to_ascii_lowercase()) } else { c.to_string() })
            .collect();
        args::command()
            .error(clap::error::ErrorKind::ValueValidation, format!("invalid value for '--{flag}': {}", e.message))
    })
}

/// Runs one command. The thread pool starts first, before any tensor work, whatever the
/// command.
fn run(cli: Cli) -> Result<()> {
    let context = Context::new(cli.backend, cli.threads)?;
    match cli.command {
        Command::Logits(args) => logits::run(args, &context),
        Command::Fuse(args) => fuse::run(args, &context),
        Command::Classify(args) => classify::run(args, &context),
        Command::Info(args) => info::run(args),
        Command::Models => {
            models::run();
            Ok(())
        }
        Command::ExportOnnx(args) => export_onnx::run(args, &context),
        Command::Bench(args) => bench::run(args, &context),
        Command::Init(args) => init::run(args, &context),
        Command::Train(args) => train::run(args, &context),
        Command::Inspect(args) => inspect::run(args, &context),
        Command::Ablate(args) => ablate::run(args, &context),
        Command::Transfer(args) => transfer::run(args, &context),
    }
}
