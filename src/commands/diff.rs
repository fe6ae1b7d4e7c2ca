//! `driftdeck diff --desired FILE --live FILE`: the drift between desired
//! objects and live ones saved from a cluster, offline.

use std::io::Write;
use std::process::ExitCode;

use serde::Serialize;

use super::CommandError;
use super::object_file::read_objects;
use crate::cli::{DiffArgs, OutputFormat};
use crate::reconcile::{
    AppSummary, ChangeKind, ResourceResult, ResourceStatus, assess_objects, summarize,
};

/// The JSON output: the verdict on the whole set, then every resource.
#[derive(Serialize)]
struct DiffReport<'a> {
    summary: &'a AppSummary,
    resources: &'a [ResourceResult],
}

/// Exit 0 when everything is in sync, 1 when something drifted.
pub fn run(args: &DiffArgs) -> Result<ExitCode, CommandError> {
    let desired = read_objects(&args.desired)?;
    let live = read_objects(&args.live)?;
    let resources = assess_objects(&desired, &live, &[]);
    let summary = summarize(&resources);
    let mut out = std::io::stdout().lock();
    match args.output {
        OutputFormat::Table => write_text(&mut out, &resources, &summary)?,
        OutputFormat::Json => {
            let report = DiffReport {
                summary: &summary,
                resources: &resources,
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
    match &summary.reason {
        Some(reason) => writeln!(out, "{reason}"),
        None if resources.len() == 1 => writeln!(out, "no drift: 1 object in sync"),
        None => writeln!(out, "no drift: {} objects in sync", resources.len()),
    }
}
