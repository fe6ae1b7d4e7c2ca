//! `driftdeck status [APP]`: sync status and health of every app (or one),
//! from one look at Git and the clusters.

use std::io::Write;
use std::process::ExitCode;

use super::table::write_table;
use super::{CommandError, load_config};
use crate::cli::{GlobalArgs, OutputFormat, StatusArgs};
use crate::config::AppConfig;
use crate::drift::{AppStatus, StatusCounts};
use crate::engine::{EngineApps, settle};
use crate::report::AppReport;
use crate::text::printable;

/// Exit 0 when every app reported is Synced, 1 when any is OutOfSync, 2
/// when any is Unknown (or the look could not run).
pub fn run(global: &GlobalArgs, args: &StatusArgs) -> Result<ExitCode, CommandError> {
    let reports = look(global, args.app.as_deref(), args.exact)?;
    let mut out = std::io::stdout().lock();
    match args.output {
        OutputFormat::Table => {
            let rows: Vec<Vec<String>> = reports.iter().map(row).collect();
            write_table(
                &mut out,
                &[
                    "APP",
                    "ENGINE",
                    "SYNC",
                    "HEALTH",
                    "DEPLOYED",
                    "RESOURCES",
                    "REASON",
                ],
                &rows,
            )?;
        }
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &reports)?;
            writeln!(out)?;
        }
    }
    // An app whose state could not be established (a cluster or a
    // repository that failed or did not answer in time) is an error: one
    // line on stderr each.
    for report in reports
        .iter()
        .filter(|r| r.summary.status == AppStatus::Unknown)
    {
        let reason = report
            .summary
            .reason
            .as_deref()
            .unwrap_or("no reason given");
        let error = CommandError::Unknown {
            app: report.app.clone(),
            reason: printable(reason).into_owned(),
        };
        eprintln!("{error}");
    }
    Ok(exit_code(&reports))
}

fn exit_code(reports: &[AppReport]) -> ExitCode {
    let statuses = || reports.iter().map(|r| r.summary.status);
    if statuses().any(|s| s == AppStatus::Unknown) {
        ExitCode::from(2)
    } else if statuses().any(|s| s == AppStatus::OutOfSync) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Reports on one app, or on every app of the config.
pub(super) fn look(
    global: &GlobalArgs,
    app: Option<&str>,
    exact: bool,
) -> Result<Vec<AppReport>, CommandError> {
    let (paths, config) = load_config(global)?;
    let engine_apps = match app {
        Some(name) if crate::engines::is_controller_app_name(name) => {
            EngineApps::Named(name.to_string())
        }
        Some(_) => EngineApps::None,
        None => EngineApps::All,
    };
    let apps: Vec<AppConfig> = match app {
        Some(name) if crate::engines::is_controller_app_name(name) => Vec::new(),
        Some(name) => vec![super::configured_app(&config, name)?.clone()],
        None => config.apps.clone(),
    };
    let _log = crate::logging::init(&paths, global.verbose).ok();
    let options = super::engine_options(global, &config, exact, true);
    Ok(super::runtime()?.block_on(settle(
        apps,
        engine_apps,
        paths,
        options,
        super::LOOK_DEADLINE,
    )))
}

/// One table row; text from Git, the cluster or the config is escaped.
fn row(report: &AppReport) -> Vec<String> {
    let summary = &report.summary;
    let cells = vec![
        report.app.clone(),
        report
            .engine
            .map_or("native", crate::engines::Engine::name)
            .to_string(),
        match (&report.pinned, report.driftdeck.as_deref()) {
            (Some(pin), _) => format!(
                "{}, pinned {}",
                summary.status,
                crate::resource::short_revision(pin)
            ),
            // The engine's verdict, and driftdeck's where they differ.
            (None, Some(own)) if own.disagrees => match own.sync {
                Some(sync) => format!("{}, driftdeck: {sync}", summary.status),
                None => summary.status.to_string(),
            },
            (None, _) => summary.status.to_string(),
        },
        summary.health.to_string(),
        summary
            .revision
            .as_deref()
            .map(crate::resource::short_revision_text)
            .unwrap_or_else(|| "-".to_string()),
        counts(&summary.counts),
        summary.reason.clone().unwrap_or_default(),
    ];
    cells
        .into_iter()
        .map(|cell| printable(&cell).into_owned())
        .collect()
}

/// `3 synced, 1 out of sync`; `-` when there are none.
fn counts(counts: &StatusCounts) -> String {
    let parts: Vec<String> = [
        (counts.synced, "synced"),
        (counts.out_of_sync, "out of sync"),
        (counts.missing, "missing"),
        (counts.extra, "extra"),
        (counts.unknown, "unknown"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    if parts.is_empty() {
        "-".to_string()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_name_only_the_statuses_present() {
        let mixed = StatusCounts {
            synced: 3,
            out_of_sync: 1,
            missing: 0,
            extra: 2,
            unknown: 0,
        };
        assert_eq!(counts(&mixed), "3 synced, 1 out of sync, 2 extra");
        assert_eq!(counts(&StatusCounts::default()), "-");
    }
}
