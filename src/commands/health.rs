//! `driftdeck health -f FILE`: the health of live objects saved from a
//! cluster, offline.

use std::io::Write;
use std::process::ExitCode;

use serde::Serialize;

use super::CommandError;
use super::object_file::read_objects;
use super::table::write_table;
use crate::cli::{HealthArgs, OutputFormat};
use crate::drift::{Health, HealthAssessment, ResourceKey, health};

/// The JSON output: the worst health, then every object's.
#[derive(Serialize)]
struct HealthReport {
    health: Health,
    resources: Vec<ObjectHealth>,
}

#[derive(Serialize)]
struct ObjectHealth {
    #[serde(flatten)]
    key: ResourceKey,
    health: HealthAssessment,
}

/// Exit 0 whatever the health: the command reports, it does not judge.
pub fn run(args: &HealthArgs) -> Result<ExitCode, CommandError> {
    let objects = read_objects(&args.file)?;
    let resources: Vec<ObjectHealth> = objects
        .iter()
        .map(|o| ObjectHealth {
            key: o.key.clone(),
            health: health(&o.object),
        })
        .collect();
    let worst = resources
        .iter()
        .map(|r| r.health.status)
        .max()
        .unwrap_or(Health::Healthy);
    let mut out = std::io::stdout().lock();
    match args.output {
        OutputFormat::Table => {
            let rows: Vec<Vec<String>> = resources
                .iter()
                .map(|r| {
                    vec![
                        r.key.kind.clone(),
                        r.key.namespace.clone().unwrap_or_else(|| "-".to_string()),
                        r.key.name.clone(),
                        r.health.status.to_string(),
                        r.health.message.clone(),
                    ]
                })
                .collect();
            write_table(
                &mut out,
                &["KIND", "NAMESPACE", "NAME", "HEALTH", "MESSAGE"],
                &rows,
            )?;
        }
        OutputFormat::Json => {
            let report = HealthReport {
                health: worst,
                resources,
            };
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
