//! `driftdeck diff APP`: the drift of an app, its desired state compared
//! with its live state; and `driftdeck diff --desired FILE --live FILE`, the
//! same comparison on two files of objects, offline.

use std::io::Write;
use std::process::ExitCode;

use serde::Serialize;

use super::CommandError;
use super::object_file::read_objects;
use crate::cli::{DiffArgs, GlobalArgs, OutputFormat};
use crate::drift::{
    AppStatus, AppSummary, ChangeKind, ResourceResult, ResourceStatus, assess_objects, summarize,
};

/// The JSON output: the verdict on the whole set, then every resource.
#[derive(Serialize)]
struct DiffReport<'a> {
    summary: &'a AppSummary,
    resources: &'a [ResourceResult],
    /// An engine app's: driftdeck's own comparison, or why there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    driftdeck: Option<&'a crate::engines::OwnComparison>,
}

/// Exit 0 when everything is in sync, 1 when something drifted, 2 when the
/// state could not be established.
pub fn run(global: &GlobalArgs, args: &DiffArgs) -> Result<ExitCode, CommandError> {
    let (resources, summary, own, note) = match (&args.app, &args.desired, &args.live) {
        (Some(app), _, _) => {
            let report = super::status::look(global, Some(app), args.exact)?
                .pop()
                .ok_or_else(|| CommandError::UnknownApp {
                    app: app.clone(),
                    file: None,
                })?;
            for problem in &report.problems {
                eprintln!("{problem}");
            }
            if report.summary.status == AppStatus::Unknown {
                let reason = report.summary.reason.unwrap_or_default();
                return Err(CommandError::Unknown {
                    app: report.app,
                    reason,
                });
            }
            // An engine app: why only the engine's verdict is shown, or
            // that driftdeck's own comparison differs from it.
            let note = report
                .driftdeck
                .as_deref()
                .zip(report.engine)
                .and_then(|(own, engine)| own.note(engine, report.summary.status));
            (report.resources, report.summary, report.driftdeck, note)
        }
        (None, Some(desired), Some(live)) => {
            let resources = assess_objects(&read_objects(desired)?, &read_objects(live)?, &[]);
            let summary = summarize(&resources);
            (resources, summary, None, None)
        }
        // clap requires an app or both files.
        _ => {
            return Err(CommandError::Usage(
                "give an app, or --desired FILE and --live FILE".to_string(),
            ));
        }
    };
    let mut out = std::io::stdout().lock();
    match args.output {
        OutputFormat::Table => {
            write_text(&mut out, &resources, &summary)?;
            if let Some(note) = note {
                writeln!(out, "{}", crate::text::printable(&note))?;
            }
        }
        OutputFormat::Json => {
            let report = DiffReport {
                summary: &summary,
                resources: &resources,
                driftdeck: own.as_deref(),
            };
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
    }
    let drift = resources.iter().any(|r| r.status != ResourceStatus::Synced);
    Ok(if drift {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Per drifted object: a header, its changed fields, its diff.
fn write_text<W: Write>(
    out: &mut W,
    resources: &[ResourceResult],
    summary: &AppSummary,
) -> std::io::Result<()> {
    for resource in resources
        .iter()
        .filter(|r| r.status != ResourceStatus::Synced)
    {
        let reason = resource.reason.as_deref().unwrap_or_default();
        writeln!(out, "{}: {}: {reason}", resource.key, resource.status)?;
        for change in &resource.changes {
            let marker = match change.change {
                ChangeKind::Changed => "~",
                ChangeKind::Added => "+",
                ChangeKind::Removed => "-",
            };
            writeln!(out, "  {marker} {}", change.path)?;
        }
        write!(out, "{}", resource.diff)?;
        writeln!(out)?;
    }
    let differing = resources.iter().any(|r| r.status != ResourceStatus::Synced);
    match &summary.reason {
        Some(reason) => writeln!(out, "{reason}"),
        // An engine's Synced beside driftdeck's drift: the note says so.
        None if differing => Ok(()),
        None if resources.len() == 1 => writeln!(out, "no drift: 1 object in sync"),
        None => writeln!(out, "no drift: {} objects in sync", resources.len()),
    }
}
