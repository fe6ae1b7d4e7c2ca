use std::process::ExitCode;

use clap::Parser;
use driftdeck::cli::Cli;

fn main() -> ExitCode {
    driftdeck::commands::run(Cli::parse())
}
