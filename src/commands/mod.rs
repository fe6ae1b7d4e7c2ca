//! The headless commands and the hand-over to the TUI. Each command returns
//! its exit code; errors become one line on stderr and exit code 2.

mod paths;
mod sim;

use std::process::ExitCode;

use crate::cli::{Cli, Command, GlobalArgs};
use crate::config::{Config, ConfigError, PathError, Paths};

/// Why a command could not run (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Paths(#[from] PathError),
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
    #[error(transparent)]
    Sim(#[from] crate::simcluster::SimError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// Runs the command line and gives the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    match dispatch(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("{err}");
            ExitCode::from(2)
        }
    }
}

fn dispatch(cli: Cli) -> Result<ExitCode, CommandError> {
    match cli.command {
        None => {
            let help = Cli::command().render_help();
            println!("{help}");
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Paths) => paths::run(&cli.global),
        Some(Command::Sim(args)) => sim::run(&args),
        Some(Command::Completions { shell }) => {
            let mut command = Cli::command();
            clap_complete::generate(shell, &mut command, "driftdeck", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The resolved paths and the checked config, with the work tree offered as
/// an app when the config defines none.
pub fn load_config(global: &GlobalArgs) -> Result<(Paths, Config), CommandError> {
    let paths = Paths::resolve(global.config.as_deref())?;
    let mut config = Config::load(&paths.config_file, paths.config_given)?;
    if config.apps.is_empty()
        && let Some(app) = std::env::current_dir()
            .ok()
            .and_then(|dir| crate::source::offer_work_tree_app(&dir))
    {
        config.apps.push(app);
    }
    if global.readonly {
        config.ui.readonly = true;
    }
    if let Some(theme) = &global.theme {
        config.ui.theme = Some(theme.clone());
    }
    Ok((paths, config))
}
