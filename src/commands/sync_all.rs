//! `driftdeck sync --all`: every app that is OutOfSync, synced one after
//! the other, each under its own Lease; then the health of each synced app
//! followed. One app at a time because a sync already keeps
//! `sync_concurrency` objects in flight, which is what loads the API
//! server, and so that the progress and a failure read as one app's.
//! Then the OutOfSync Argo CD and Flux apps, each asked of its engine
//! (`sync_all_engines.rs`). Exit 0 all synced (or in sync), 1 any failed
//! or not healthy, 2 any could not run.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use serde::Serialize;

use super::CommandError;
use super::sync_all_engines::{self, Answer, Asked};
use super::sync_session::{Session, confirmed, print_plan, summarize};
use crate::cli::{OutputFormat, SyncFlags};
use crate::config::AppConfig;
use crate::drift::{AppStatus, Health};
use crate::engine::SyncTarget;
use crate::engines::ActionKind;
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
    /// An engine app: what its engine was asked (`sync Application …`).
    #[serde(skip_serializing_if = "Option::is_none")]
    asked: Option<String>,
    /// An engine app: what its engine answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
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
        AppResult::named(&app.name, result)
    }

    fn named(app: &str, result: Verdict) -> AppResult {
        AppResult {
            app: app.to_string(),
            result,
            plan: None,
            outcome: None,
            health: None,
            error: None,
            asked: None,
            message: None,
        }
    }

    /// An engine app's line, from its engine's answer.
    fn answered(app: &str, asked: Option<String>, answer: Answer) -> AppResult {
        let mut result = match answer {
            Answer::InSync => AppResult::named(app, Verdict::InSync),
            Answer::CouldNotRun(why) => AppResult::named(app, Verdict::CouldNotRun).because(why),
            Answer::Done {
                succeeded: true,
                message,
            } => {
                let mut result = AppResult::named(app, Verdict::Synced);
                result.message = Some(message);
                result
            }
            Answer::Done {
                succeeded: false,
                message,
            } => {
                let error = format!("app \"{app}\": {message}");
                let mut result = AppResult::named(app, Verdict::Failed).because(error);
                result.message = Some(message);
                result
            }
        };
        result.asked = asked;
        result
    }

    fn because(mut self, error: impl Into<String>) -> AppResult {
        self.error = Some(error.into());
        self
    }
}

pub(super) async fn run(
    session: &mut Session,
    apps: &[AppConfig],
    contexts: usize,
    args: &SyncFlags,
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
        match session
            .plan(&app.name, args.prune, &SyncTarget::Compared)
            .await?
        {
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

    let engine_action = ActionKind::Sync { prune: args.prune };
    let (to_ask, answered) = sync_all_engines::out_of_sync(session, contexts, &engine_action).await;
    for (app, answer) in answered {
        results.push(AppResult::answered(&app, None, answer));
    }
    if table {
        for asked in &to_ask {
            println!("app \"{}\": would {}", asked.app, asked.what);
        }
    }

    let names: Vec<&str> = to_sync
        .iter()
        .map(|(app, _)| app.name.as_str())
        .chain(to_ask.iter().map(|asked| asked.app.as_str()))
        .collect();
    let go = !confirm
        || names.is_empty()
        || confirmed(&format!(
            "sync {} app(s): {}?",
            names.len(),
            names.join(", ")
        ))?;
    for (app, plan) in to_sync {
        let mut result = AppResult::new(app, Verdict::Failed);
        if !go {
            result = AppResult::new(app, Verdict::CouldNotRun).because("not confirmed");
        } else {
            match session
                .sync(&app.name, args, &SyncTarget::Compared, true)
                .await
            {
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

    for Asked { app, what } in to_ask {
        let answer = if !go {
            Answer::CouldNotRun("not confirmed".to_string())
        } else if args.dry_run {
            Answer::Done {
                succeeded: true,
                message: "dry run: nothing written".to_string(),
            }
        } else {
            sync_all_engines::ask(session, &app, &engine_action, !args.no_wait).await
        };
        results.push(AppResult::answered(&app, Some(what), answer));
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
            let health = session
                .wait_for_health(app, &plan.revision, &SyncTarget::Compared)
                .await;
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
        (None, Verdict::InSync) if crate::engines::is_controller_app_name(app) => {
            println!("app \"{app}\": nothing to do, its engine says Synced");
        }
        (None, Verdict::InSync) => {
            println!("app \"{app}\": nothing to do, the cluster matches Git");
        }
        (None, Verdict::Synced | Verdict::Failed) if result.asked.is_some() => {
            let verdict = if result.result == Verdict::Synced {
                "done"
            } else {
                "FAILED"
            };
            let message = result.message.as_deref().unwrap_or_default();
            println!("app \"{app}\": sync {verdict}: {message}");
        }
        (None, Verdict::Synced | Verdict::Failed) => println!("app \"{app}\": not synced"),
        (None, Verdict::CouldNotRun) => println!("app \"{app}\": could not sync"),
    }
}
