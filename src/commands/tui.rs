//! `driftdeck` with no command: the TUI, and the engine behind it.
//! Everything that can fail on bad input (config, keymap) is checked before
//! the terminal is touched.

use std::process::ExitCode;

use super::CommandError;
use crate::cli::GlobalArgs;
use crate::config::{Config, Paths};
use crate::tui::{ColorDepth, EngineSetup, Exit, Keymap, State, Theme};

pub fn run(global: &GlobalArgs) -> Result<ExitCode, CommandError> {
    let (paths, config) = super::load_config(global)?;
    start(global, paths, config, None)
}

/// The TUI on a config and paths already resolved, with `banner` (a line
/// saying what this session is) above the status bar.
pub fn start(
    global: &GlobalArgs,
    paths: Paths,
    config: Config,
    banner: Option<String>,
) -> Result<ExitCode, CommandError> {
    let keymap = Keymap::from_config(&config)?;
    let (theme, theme_warning) = Theme::load(
        config.ui.theme.as_deref(),
        &paths.themes_dir,
        ColorDepth::from_env(),
    );
    let _log = crate::logging::init(&paths, global.verbose)?;
    if let Some(warning) = &theme_warning {
        tracing::warn!("{warning}");
    }
    let mut state = State::new(&config, &paths.config_file, keymap, theme);
    state.notice = theme_warning;
    state.banner = banner;
    // The dialog of an Argo CD sync shows the initiator it will write.
    state.operator = Some(crate::sync::Operator::current(None, None).identity());
    tracing::info!(apps = state.apps.len(), "starting the TUI");
    let setup = EngineSetup {
        apps: config.apps.clone(),
        paths,
        options: crate::engine::EngineOptions {
            auto_sync: true,
            ..super::engine_options(global, &config, false, false)
        },
    };
    let exit = crate::tui::run(state, setup)?;
    tracing::info!(?exit, "TUI stopped");
    Ok(match exit {
        Exit::Quit => ExitCode::SUCCESS,
        // The shell's convention for "stopped by signal N".
        Exit::Signal(signal) => ExitCode::from(u8::try_from(128 + signal).unwrap_or(1)),
    })
}
