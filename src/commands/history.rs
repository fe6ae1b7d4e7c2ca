//! `driftdeck history APP`: the app's syncs from the audit log, newest
//! first: when, who, which revision, how it went and what it did.

use std::io::{self, Write};
use std::process::ExitCode;

use super::table::write_table;
use super::{CommandError, load_config};
use crate::cli::{GlobalArgs, HistoryArgs, OutputFormat};
use crate::resource::short_revision;
use crate::sync::{AuditLog, ObjectResult, SyncHistoryEntry, SyncOperation};

pub fn run(global: &GlobalArgs, args: &HistoryArgs) -> Result<ExitCode, CommandError> {
    let (paths, config) = load_config(global)?;
    super::configured_app(&config, &args.app)?;
    let entries = AuditLog::in_data_dir(&paths).history(&args.app)?;
    let mut out = io::stdout().lock();
    let written = match args.output {
        OutputFormat::Json => serde_json::to_writer_pretty(&mut out, &entries)
            .map_err(io::Error::other)
            .and_then(|()| writeln!(out)),
        OutputFormat::Table => print_table(&mut out, &entries, &jiff::tz::TimeZone::system()),
    };
    match written {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(err) => Err(err.into()),
    }
}

fn print_table(
    out: &mut impl Write,
    entries: &[SyncHistoryEntry],
    time_zone: &jiff::tz::TimeZone,
) -> io::Result<()> {
    if entries.is_empty() {
        return writeln!(out, "no syncs recorded");
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|entry| {
            let started = &entry.started;
            let count =
                |result: ObjectResult| entry.objects.iter().filter(|o| o.result == result).count();
            let by = match &started.operator.kube_user {
                Some(kube_user) => format!("{} ({kube_user})", started.operator.identity()),
                None => started.operator.identity(),
            };
            vec![
                started
                    .time
                    .to_zoned(time_zone.clone())
                    .strftime("%Y-%m-%d %H:%M:%S")
                    .to_string(),
                match (started.operation, &started.from_revision) {
                    (SyncOperation::Rollback, Some(from)) => format!(
                        "{} (rollback from {})",
                        short_revision(&started.revision),
                        short_revision(from)
                    ),
                    (SyncOperation::Rollback, None) => {
                        format!("{} (rollback)", short_revision(&started.revision))
                    }
                    (SyncOperation::Sync, _) => short_revision(&started.revision).to_string(),
                },
                format!("{:?}", entry.status).to_lowercase(),
                format!(
                    "{} created, {} updated, {} pruned, {} failed",
                    count(ObjectResult::Created),
                    count(ObjectResult::Updated),
                    count(ObjectResult::Pruned),
                    count(ObjectResult::Failed)
                ),
                if started.trigger.is_automatic() {
                    started.trigger.word().to_string()
                } else if started.automatic {
                    "auto".to_string()
                } else {
                    by
                },
                entry.error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    write_table(
        out,
        &["TIME", "REVISION", "RESULT", "OBJECTS", "BY", "ERROR"],
        &rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::{AuditRecord, Operator, SyncCompleted, SyncStarted, SyncStatus, history};

    #[test]
    fn table_shows_one_line_per_sync_with_who_and_how_it_went() {
        let start = SyncStarted {
            id: "1".into(),
            time: jiff::Timestamp::from_second(1_700_000_000).unwrap(),
            operator: Operator {
                user: "alice".into(),
                host: "laptop".into(),
                kube_user: Some("admin".into()),
            },
            app: "shop".into(),
            context: "prod".into(),
            revision: "3f2a91c0d1e2".into(),
            automatic: false,
            operation: Default::default(),
            from_revision: None,
            trigger: crate::sync::SyncTrigger::Manual,
            plan: serde_json::json!({}),
        };
        let entries = history(
            vec![
                AuditRecord::Start(start.clone()),
                AuditRecord::Completion(SyncCompleted {
                    id: "1".into(),
                    time: start.time,
                    app: "shop".into(),
                    status: SyncStatus::Failed,
                    duration_ms: 5,
                    objects: Vec::new(),
                    error: Some("ConfigMap shop/c: 403 Forbidden".into()),
                }),
            ],
            "shop",
        );
        let mut out = Vec::new();
        print_table(&mut out, &entries, &jiff::tz::TimeZone::UTC).unwrap();
        let text = String::from_utf8(out).unwrap();
        let line = text.lines().nth(1).unwrap();
        assert!(
            line.starts_with("2023-11-14 22:13:20  3f2a91c   failed"),
            "{text}"
        );
        assert!(line.contains("alice@laptop (admin)"), "{text}");
        assert!(line.contains("403 Forbidden"), "{text}");
    }
}
