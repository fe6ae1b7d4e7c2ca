//! The headless commands and the hand-over to the TUI. Each command returns
//! its exit code; errors become one line on stderr and exit code 2.

mod check;
mod controller;
mod demo;
mod diff;
mod health;
mod history;
mod log;
mod object_file;
mod paths;
mod rollback;
mod rollback_controller;
mod rollback_git;
mod sim;
mod status;
mod sync;
mod sync_all;
mod sync_all_engines;
mod sync_session;
mod table;
mod tui;
mod watch;

use std::process::ExitCode;

use crate::cli::{Cli, Command, GlobalArgs};
use crate::config::{Config, ConfigError, PathError, Paths, READ_ONLY};

/// Why a command could not run (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Paths(#[from] PathError),
    #[error(transparent)]
    Log(#[from] crate::logging::LogError),
    #[error(transparent)]
    Tui(#[from] crate::tui::TuiError),
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
    #[error("unknown app \"{app}\"{}", match file {
        Some(file) => format!(" (not defined in {})", file.display()),
        None => " (no config file, and not started inside a Git work tree)".to_string(),
    })]
    UnknownApp {
        app: String,
        file: Option<std::path::PathBuf>,
    },
    #[error("app \"{app}\": {source}")]
    Source {
        app: String,
        source: Box<crate::source::SourceError>,
    },
    #[error(transparent)]
    Manifests(#[from] crate::manifests::ManifestError),
    #[error(transparent)]
    Git(#[from] crate::source::SourceError),
    #[error(transparent)]
    Desired(#[from] crate::engine::DesiredError),
    #[error(transparent)]
    ObjectFile(#[from] object_file::ObjectFileError),
    #[error("cannot write the output as JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Sim(#[from] crate::simcluster::SimError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("app \"{app}\": state unknown: {reason}")]
    Unknown { app: String, reason: String },
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Audit(#[from] crate::sync::AuditError),
    #[error(transparent)]
    Pins(#[from] crate::sync::PinError),
    #[error(transparent)]
    Demo(#[from] crate::demo::DemoError),
}

/// Runs the command line and gives the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    match dispatch(cli) {
        Ok(code) => code,
        // The reader went away (`| head -1`): what it wanted it has, as git
        // and kubectl see it.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{err}");
            ExitCode::from(2)
        }
    }
}

/// Whether the error is stdout's reader having closed the pipe, however
/// deep the I/O error sits (an I/O error may carry a JSON error carrying one).
fn is_broken_pipe(err: &CommandError) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(err) = next {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::BrokenPipe {
                return true;
            }
            if let Some(inner) = io.get_ref() {
                next = Some(inner);
                continue;
            }
        }
        if let Some(json) = err.downcast_ref::<serde_json::Error>()
            && json.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe)
        {
            return true;
        }
        next = err.source();
    }
    false
}

/// How long a command waits for an app's first settled verdict.
const LOOK_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

/// The engine's options as the command line and the config set them.
fn engine_options(
    global: &GlobalArgs,
    config: &Config,
    exact: bool,
    one_shot: bool,
) -> crate::engine::EngineOptions {
    crate::engine::EngineOptions {
        kubeconfig: global.kubeconfig.clone(),
        context: global.context.clone(),
        exact,
        one_shot,
        drift: config.drift.clone(),
        engines: config.engines.clone(),
        contexts: read_contexts(global, config),
        auto_sync: false,
        readonly: config.ui.readonly,
    }
}

/// The contexts whose engine apps are shown: `--context`, else those of
/// the config's apps, else the current one.
fn read_contexts(global: &GlobalArgs, config: &Config) -> Vec<Option<String>> {
    if global.context.is_some() {
        return vec![global.context.clone()];
    }
    let mut contexts: Vec<Option<String>> = config.apps.iter().map(|a| a.context.clone()).collect();
    contexts.sort();
    contexts.dedup();
    if contexts.is_empty() {
        contexts.push(None);
    }
    contexts
}

/// The runtime a headless command runs the engine on.
fn runtime() -> Result<tokio::runtime::Runtime, CommandError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(CommandError::Runtime)
}

fn dispatch(cli: Cli) -> Result<ExitCode, CommandError> {
    match cli.command {
        None => tui::run(&cli.global),
        Some(Command::Check { path, rev, output }) => {
            check::run(&cli.global, &path, rev.as_deref(), output)
        }
        Some(Command::Paths) => paths::run(&cli.global),
        Some(Command::Log(args)) => log::run(&cli.global, &args),
        Some(Command::History(args)) => history::run(&cli.global, &args),
        Some(Command::Diff(args)) => diff::run(&cli.global, &args),
        Some(Command::Status(args)) => status::run(&cli.global, &args),
        Some(Command::Sync(args)) => sync::run(&cli.global, &args),
        Some(Command::Rollback(args)) => rollback::run(&cli.global, &args),
        Some(Command::Unpin { app }) => rollback::unpin(&cli.global, &app),
        Some(Command::Refresh(args)) => controller::refresh(&cli.global, &args),
        Some(Command::Suspend(args)) => controller::toggle(&cli.global, &args, true),
        Some(Command::Resume(args)) => controller::toggle(&cli.global, &args, false),
        Some(Command::Health(args)) => health::run(&args),
        Some(Command::Sim(args)) => sim::run(&args),
        Some(Command::Watch(args)) => watch::run(&cli.global, &args),
        Some(Command::Demo(args)) => demo::run(&cli.global, &args),
        Some(Command::Completions { shell }) => {
            let mut command = Cli::command();
            // Generated in memory: clap_complete panics when its writer fails.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "driftdeck", &mut script);
            std::io::Write::write_all(&mut std::io::stdout().lock(), &script)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The resolved paths and the checked config, with the work tree offered as
/// an app when the config defines none.
/// The app the config names `name`, or the error every command gives for
/// an unknown one (naming the config file).
pub(crate) fn configured_app<'a>(
    config: &'a Config,
    name: &str,
) -> Result<&'a crate::config::AppConfig, CommandError> {
    config.app(name).ok_or_else(|| CommandError::UnknownApp {
        app: name.to_string(),
        file: config.file.clone(),
    })
}

/// Refuses a command that writes while driftdeck is read-only (`--readonly`
/// is folded into the config by `load_config`); `refused` leads the
/// message, e.g. `app "web": rollback refused`.
pub(super) fn refuse_when_read_only(config: &Config, refused: &str) -> Result<(), CommandError> {
    if config.ui.readonly {
        return Err(CommandError::Usage(format!("{refused}: {READ_ONLY}")));
    }
    Ok(())
}

pub fn load_config(global: &GlobalArgs) -> Result<(Paths, Config), CommandError> {
    let paths = Paths::resolve(global.config.as_deref())?;
    let mut config = Config::load(&paths.config_file, paths.config_given)?;
    crate::cluster::set_request_timeout(config.cluster.request_timeout);
    if config.apps.is_empty()
        && let Some(app) = std::env::current_dir()
            .ok()
            .and_then(|dir| crate::config::offer_work_tree_app(&dir))
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

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    #[test]
    fn a_broken_pipe_is_found_under_json_and_io_wrappers() {
        let pipe = || io::Error::from(io::ErrorKind::BrokenPipe);
        assert!(is_broken_pipe(&CommandError::Output(pipe())));
        let json = serde_json::Error::io(pipe());
        assert!(is_broken_pipe(&CommandError::Output(io::Error::other(
            json
        ))));
        assert!(is_broken_pipe(&CommandError::Json(serde_json::Error::io(
            pipe()
        ))));
        let full = io::Error::from(io::ErrorKind::StorageFull);
        assert!(!is_broken_pipe(&CommandError::Output(full)));
        assert!(!is_broken_pipe(&CommandError::Usage("broken pipe".into())));
    }
}
