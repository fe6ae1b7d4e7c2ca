//! `driftdeck paths`: every path driftdeck uses, resolved.

use std::io::Write;
use std::process::ExitCode;

use super::CommandError;
use crate::cli::GlobalArgs;
use crate::config::Paths;

pub fn run(global: &GlobalArgs) -> Result<ExitCode, CommandError> {
    let paths = Paths::resolve(global.config.as_deref())?;
    let rows = [
        ("config", paths.config_file.clone()),
        ("themes", paths.themes_dir.clone()),
        ("data", paths.data_dir.clone()),
        ("cache", paths.cache_dir.clone()),
        ("log", paths.log_file()),
    ];
    let mut out = std::io::stdout().lock();
    for (what, path) in rows {
        writeln!(out, "{what:<8}{}", path.display())?;
    }
    Ok(ExitCode::SUCCESS)
}
