//! `driftdeck sync --all`: every app that is OutOfSync, synced one after
//! the other, each under its own Lease; then the health of each synced app
//! followed. One app at a time because a sync already keeps
//! `sync_concurrency` objects in flight, which is what loads the API
//! server, and so that the progress and a failure read as one app's.
//! Exit 0 all synced (or in sync), 1 any failed or not healthy, 2 any
//! could not run.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use serde::Serialize;

use super::CommandError;
use super::sync::{Session, confirmed, print_plan, summarize};
use crate::cli::{OutputFormat, SyncArgs};
use crate::config::AppConfig;
use crate::drift::{AppStatus, Health};
use crate::sync::{SyncOutcome, SyncPlan, SyncStatus};

/// How an app came out of `sync --all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Verdict {
    /// Synced (and healthy, when waited for).
    Synced,
    /// Nothing to write: Synced already, or nothing the plan does.
    InSync,
    /// Refused by its plan or the server's dry run, failed midway, or not
    /// healthy in time.
    Failed,
    /// Could not run: no verdict, the Lease held, the cluster unreachable,
    /// or the operator said no.
    CouldNotRun,
}

/// One app's line of the result (`-o json`: an array of them).
#[derive(Serialize)]
struct AppResult {
    app: String,
    result: Verdict,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "shared_plan"
    )]
    plan: Option<Arc<SyncPlan>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<SyncOutcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    health: Option<Health>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// The plan as itself (serde's `rc` feature is off).
fn shared_plan<S: serde::Serializer>(
    plan: &Option<Arc<SyncPlan>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    plan.as_deref().serialize(serializer)
}

impl AppResult {
    fn new(app: &AppConfig, result: Verdict) -> AppResult {
        AppResult {
            app: app.name.clone(),
            result,
            plan: None,
            outcome: None,
            health: None,
            error: None,
        }
    }

    fn because(mut self, error: impl Into<String>) -> AppResult {
        self.error = Some(error.into());
        self
    }
}

pub(super) async fn run(
    session: &mut Session,
    apps: &[AppConfig],
    args: &SyncArgs,
    confirm: bool,
) -> Result<ExitCode, CommandError> {
    let table = args.output == OutputFormat::Table;
    let mut results = Vec::new();
    let mut to_sync = Vec::new();
    for app in apps {
        let report = match session.settled(&app.name).await {
            Ok(report) => report,
            Err(err) => {
                results.push(AppResult::new(app, Verdict::CouldNotRun).because(err.to_string()));
                continue;
            }
        };
        match report.summary.status {
            AppStatus::OutOfSync => {}
            AppStatus::Synced => {
                let mut result = AppResult::new(app, Verdict::InSync);
                result.health = Some(report.summary.health);
                results.push(result);
                continue;
            }
            AppStatus::Unknown => {
                let reason = report.summary.reason.clone().unwrap_or_default();
                let error = format!("app \"{}\": state unknown: {reason}", app.name);
                results.push(AppResult::new(app, Verdict::CouldNotRun).because(error));
                continue;
            }
        }
        match session.plan(&app.name, args.prune).await? {
            Ok(plan) if plan.is_empty() && !args.dry_run => {
                let mut result = AppResult::new(app, Verdict::InSync);
                result.plan = Some(plan);
                results.push(result);
            }
            Ok(plan) => {
                if table {
                    print_plan(&mut std::io::stdout().lock(), &plan)?;
                }
                to_sync.push((app, plan));
            }
            Err(refusal) => results.push(AppResult::new(app, Verdict::Failed).because(refusal)),
        }
    }

    let names: Vec<&str> = to_sync.iter().map(|(app, _)| app.name.as_str()).collect();
    let go = !confirm
        || to_sync.is_empty()
        || confirmed(&format!(
            "sync {} app(s): {}?",
            to_sync.len(),
            names.join(", ")
        ))?;
    for (app, plan) in to_sync {
        let mut result = AppResult::new(app, Verdict::Failed);
        if !go {
            result = AppResult::new(app, Verdict::CouldNotRun).because("not confirmed");
        } else {
            match session.sync(&app.name, args, true).await {
                Ok(outcome) => {
                    if outcome.status == SyncStatus::Succeeded {
                        result.result = Verdict::Synced;
                    }
                    result.error = outcome.error.clone();
                    result.outcome = Some(outcome);
                }
                Err(refused) => {
                    if refused.could_not_run {
                        result.result = Verdict::CouldNotRun;
                    }
                    result.error = Some(refused.message);
                }
            }
        }
        result.plan = Some(plan);
        results.push(result);
    }

    // Health once every sync is done: the apps settle side by side.
    if !args.dry_run && !args.no_wait {
        for result in results.iter_mut().filter(|r| r.result == Verdict::Synced) {
            let (Some(app), Some(plan)) = (
                apps.iter().find(|a| a.name == result.app),
                result.plan.as_ref(),
            ) else {
                continue;
            };
            let health = session.wait_for_health(app, &plan.revision).await;
            result.health = Some(health);
            if health != Health::Healthy {
                result.result = Verdict::Failed;
            }
        }
    }

    for error in results.iter().filter_map(|r| r.error.as_ref()) {
        eprintln!("{error}");
    }
    if table {
        for result in &results {
            print_result(result);
        }
    } else {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &results)?;
        writeln!(out)?;
    }
    let any = |verdict| results.iter().any(|r| r.result == verdict);
    Ok(if any(Verdict::CouldNotRun) {
        ExitCode::from(2)
    } else if any(Verdict::Failed) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// One line per app on stdout.
fn print_result(result: &AppResult) {
    let app = &result.app;
    match (&result.outcome, result.result) {
        (Some(outcome), _) => summarize(app, outcome, result.health),
        (None, Verdict::InSync) => {
            println!("app \"{app}\": nothing to do, the cluster matches Git");
        }
        (None, Verdict::Synced | Verdict::Failed) => println!("app \"{app}\": not synced"),
        (None, Verdict::CouldNotRun) => println!("app \"{app}\": could not sync"),
    }
}
