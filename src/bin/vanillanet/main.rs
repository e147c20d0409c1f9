//! `vanillanet`: run, fuse, train and inspect VanillaNet checkpoints from the command line.

mod args;
mod checkpoint;
mod commands;
mod inspect;
mod measure;
mod training;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

fn main() -> ExitCode {
    let command = args::Cli::command().mut_subcommand("ablate", args::study_defaults);
    let cli = match command.try_get_matches().and_then(|m| args::Cli::from_arg_matches(&m)) {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            let _ = e.print(); // --help, --version
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // clap's message, on one line: the reason without the usage block after it.
            let text = e.render().to_string();
            let reason: Vec<&str> = text
                .lines()
                .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            eprintln!("{} (see --help)", reason.join(" "));
            return ExitCode::from(2);
        }
    };
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
