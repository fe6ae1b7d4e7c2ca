//! `driftdeck sync APP`: the engine the TUI runs, asked to plan a sync of
//! the app, then (confirmed) to run it; then the app's health is followed
//! until it is Healthy, Degraded or out of time.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;

use super::{CommandError, load_config};
use crate::cli::{GlobalArgs, OutputFormat, SyncArgs};
use crate::config::AppConfig;
use crate::drift::{AppStatus, Health};
use crate::engine::{Engine, EngineCommand, EngineEvent, SyncCommand, SyncRefused};
use crate::resource::short_revision;
use crate::sync::{ObjectResult, SyncAction, SyncOutcome, SyncPlan, SyncProgress, SyncStatus};

/// The JSON output: the plan, how the sync went, the health at the end.
#[derive(Serialize)]
struct SyncReport<'a> {
    plan: &'a SyncPlan,
    outcome: Option<&'a SyncOutcome>,
    health: Option<Health>,
}

pub fn run(global: &GlobalArgs, args: &SyncArgs) -> Result<ExitCode, CommandError> {
    let (paths, config) = load_config(global)?;
    if global.readonly || config.ui.readonly {
        return Err(CommandError::Usage(format!(
            "app \"{}\": sync refused: driftdeck is read-only (--readonly or [ui] readonly = true)",
            args.app
        )));
    }
    if crate::engines::is_controller_app_name(&args.app) {
        return super::controller::sync(global, args, paths, config);
    }
    let app = config
        .app(&args.app)
        .cloned()
        .ok_or_else(|| CommandError::UnknownApp {
            app: args.app.clone(),
            file: config.file.clone(),
        })?;
    let confirm = !args.yes && !args.dry_run;
    if confirm && !std::io::stdin().is_terminal() {
        return Err(CommandError::Usage(format!(
            "app \"{}\": no terminal to confirm the sync on; give --yes to sync without asking",
            app.name
        )));
    }
    let _log = crate::logging::init(&paths, global.verbose).ok();
    let options = super::engine_options(global, &config, false, false);
    super::runtime()?.block_on(async {
        let (sender, events) = mpsc::unbounded_channel();
        let engine = Engine::start(vec![app.clone()], paths, options, sender);
        let mut session = Session {
            engine,
            events,
            app: &app,
            args,
            confirm,
        };
        session.sync().await
    })
}

struct Session<'a> {
    engine: Engine,
    events: mpsc::UnboundedReceiver<EngineEvent>,
    app: &'a AppConfig,
    args: &'a SyncArgs,
    confirm: bool,
}

impl Session<'_> {
    async fn sync(&mut self) -> Result<ExitCode, CommandError> {
        let name = self.app.name.clone();
        let report = self
            .next(super::LOOK_DEADLINE, |event| match event {
                EngineEvent::Report {
                    app,
                    report,
                    settled: true,
                    ..
                } if *app == name => Some(report.clone()),
                _ => None,
            })
            .await
            .ok_or_else(|| {
                self.unknown(format!(
                    "no verdict within {}s",
                    super::LOOK_DEADLINE.as_secs()
                ))
            })?;
        if report.summary.status == AppStatus::Unknown && report.resources.is_empty() {
            let reason = report.summary.reason.clone().unwrap_or_default();
            return Err(self.unknown(reason));
        }

        self.engine.send(EngineCommand::Plan {
            app: name.clone(),
            prune: self.args.prune,
        });
        let planned = self
            .next(super::LOOK_DEADLINE, |event| match event {
                EngineEvent::Planned { app, plan } if *app == name => Some(plan.clone()),
                _ => None,
            })
            .await
            .ok_or_else(|| self.unknown("no plan".to_string()))?;
        let plan = match planned {
            Ok(plan) => plan,
            Err(refusal) => {
                eprintln!("{refusal}");
                return Ok(ExitCode::from(1));
            }
        };
        let table = self.args.output == OutputFormat::Table;
        if table {
            print_plan(&mut std::io::stdout().lock(), &plan)?;
        }
        if plan.is_empty() && !self.args.dry_run {
            if table {
                println!("app \"{name}\": nothing to do, the cluster matches Git");
            } else {
                print_json(&plan, None, Some(report.summary.health))?;
            }
            return Ok(ExitCode::SUCCESS);
        }
        if self.confirm && !confirmed(&name, &plan)? {
            eprintln!("app \"{name}\": not synced");
            return Ok(ExitCode::from(2));
        }

        let request = SyncCommand {
            prune: self.args.prune,
            force: self.args.force,
            dry_run: self.args.dry_run,
        };
        self.engine.send(EngineCommand::Sync {
            app: name.clone(),
            request,
        });
        let outcome = self.follow_sync().await;
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(refused) => {
                eprintln!("{}", refused.message);
                return Ok(ExitCode::from(if refused.could_not_run { 2 } else { 1 }));
            }
        };
        if let Some(error) = &outcome.error {
            eprintln!("app \"{name}\": {error}");
        }
        let synced = outcome.status == SyncStatus::Succeeded;
        let health = if synced && !self.args.dry_run && !self.args.no_wait {
            Some(self.wait_for_health(&plan.revision).await)
        } else {
            None
        };
        if table {
            summarize(&name, &outcome, health);
        } else {
            print_json(&plan, Some(&outcome), health)?;
        }
        let healthy = health.is_none_or(|h| h == Health::Healthy);
        Ok(if synced && healthy {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    }

    /// Prints the sync's progress until it ends; Ctrl-C stops it after the
    /// objects in flight.
    async fn follow_sync(&mut self) -> Result<SyncOutcome, SyncRefused> {
        let name = self.app.name.clone();
        let mut interrupted = false;
        loop {
            let event = tokio::select! {
                event = self.events.recv() => event,
                _ = tokio::signal::ctrl_c(), if !interrupted => {
                    interrupted = true;
                    eprintln!("stopping after the objects in flight…");
                    self.engine.send(EngineCommand::CancelSync { app: name.clone() });
                    continue;
                }
            };
            match event {
                Some(EngineEvent::Syncing { app, progress }) if app == name => {
                    print_progress(&progress);
                }
                Some(EngineEvent::SyncEnded { app, outcome }) if app == name => return outcome,
                Some(_) => {}
                None => {
                    return Err(SyncRefused {
                        message: format!("app \"{name}\": the engine stopped"),
                        could_not_run: true,
                    });
                }
            }
        }
    }

    /// Follows the app's verdicts until it is Synced at `revision` and
    /// Healthy, or Degraded, or the app's health timeout passes.
    async fn wait_for_health(&mut self, revision: &str) -> Health {
        let name = self.app.name.clone();
        let timeout = self.app.sync.health_timeout.0;
        let mut last = Health::Unknown;
        let wait = async {
            while let Some(event) = self.events.recv().await {
                let EngineEvent::Report { app, report, .. } = event else {
                    continue;
                };
                if app != name || report.desired_revision.as_deref() != Some(revision) {
                    continue;
                }
                last = report.summary.health;
                if report.summary.status == AppStatus::Synced
                    && matches!(last, Health::Healthy | Health::Degraded)
                {
                    return;
                }
            }
        };
        if tokio::time::timeout(timeout, wait).await.is_err() {
            eprintln!(
                "app \"{name}\": not healthy after {}s ({last})",
                timeout.as_secs()
            );
        }
        last
    }

    /// The first event `pick` accepts within `deadline`.
    async fn next<T>(
        &mut self,
        deadline: Duration,
        mut pick: impl FnMut(&EngineEvent) -> Option<T>,
    ) -> Option<T> {
        let wait = async {
            while let Some(event) = self.events.recv().await {
                if let Some(found) = pick(&event) {
                    return Some(found);
                }
            }
            None
        };
        tokio::time::timeout(deadline, wait).await.ok().flatten()
    }

    fn unknown(&self, reason: String) -> CommandError {
        CommandError::Unknown {
            app: self.app.name.clone(),
            reason,
        }
    }
}

/// The plan as lines: one per object, prunes last, then the counts.
fn print_plan(out: &mut impl Write, plan: &SyncPlan) -> std::io::Result<()> {
    writeln!(
        out,
        "app \"{}\" at {}:",
        plan.app,
        short_revision(&plan.revision)
    )?;
    for step in &plan.steps {
        let action = match step.action {
            SyncAction::Create => "create",
            SyncAction::Update => "update",
            SyncAction::Prune => "prune",
        };
        let mut line = format!("  {action:<6} {}", step.key);
        let fields: Vec<String> = step
            .changes
            .iter()
            .map(|c| match &c.by_hand {
                Some(manager) => format!("{} (by hand, {manager})", c.path),
                None => c.path.clone(),
            })
            .collect();
        if !fields.is_empty() {
            // Field names come from Git: no terminal control reaches the screen.
            let fields: String = fields
                .join(", ")
                .chars()
                .map(|c| if c.is_control() { '\u{fffd}' } else { c })
                .collect();
            line.push_str(&format!(": {fields}"));
        }
        if let Some(skipped) = &step.skipped {
            line.push_str(&format!(" (not done: {skipped})"));
        }
        writeln!(out, "{line}")?;
    }
    let c = &plan.counts;
    writeln!(
        out,
        "{} to create, {} to update, {} to prune{}",
        c.create,
        c.update,
        c.prune,
        if c.skipped > 0 {
            format!(", {} listed and not done", c.skipped)
        } else {
            String::new()
        }
    )
}

fn confirmed(app: &str, plan: &SyncPlan) -> Result<bool, CommandError> {
    eprint!(
        "sync app \"{app}\" to {}? [y/N] ",
        short_revision(&plan.revision)
    );
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

fn print_progress(progress: &SyncProgress) {
    match progress {
        SyncProgress::DryRun { objects } => eprintln!("server dry run of {objects} objects…"),
        SyncProgress::Wave { wave, objects } => {
            eprintln!("applying wave {wave} ({objects} objects)…");
        }
        SyncProgress::Pruning { objects } if *objects > 0 => {
            eprintln!("pruning {objects} objects…");
        }
        SyncProgress::Pruning { .. } => {}
        SyncProgress::Object(outcome) => {
            let result = match outcome.result {
                ObjectResult::DryRunPassed => "dry run passed",
                ObjectResult::Created => "created",
                ObjectResult::Updated => "updated",
                ObjectResult::Pruned => "pruned",
                ObjectResult::Skipped => "skipped",
                ObjectResult::NotStarted => "not started",
                ObjectResult::Failed => "FAILED",
            };
            match &outcome.message {
                Some(message) => eprintln!("  {result} {}: {message}", outcome.key),
                None => eprintln!("  {result} {}", outcome.key),
            }
        }
    }
}

fn summarize(app: &str, outcome: &SyncOutcome, health: Option<Health>) {
    let done = |result: ObjectResult| {
        outcome
            .objects
            .iter()
            .filter(|o| o.result == result)
            .count()
    };
    let what = if outcome.dry_run {
        format!(
            "server dry run passed for {} objects, nothing written",
            done(ObjectResult::DryRunPassed)
        )
    } else {
        format!(
            "{} created, {} updated, {} pruned",
            done(ObjectResult::Created),
            done(ObjectResult::Updated),
            done(ObjectResult::Pruned)
        )
    };
    let status = match outcome.status {
        SyncStatus::Succeeded => "synced",
        SyncStatus::Failed => "sync failed",
        SyncStatus::Cancelled => "sync cancelled",
        SyncStatus::Interrupted => "sync interrupted",
    };
    let health = health.map(|h| format!(", {h}")).unwrap_or_default();
    println!(
        "app \"{app}\": {status} at {} in {:.1}s: {what}{health}",
        short_revision(&outcome.revision),
        outcome.duration_ms as f64 / 1000.0
    );
}

fn print_json(
    plan: &SyncPlan,
    outcome: Option<&SyncOutcome>,
    health: Option<Health>,
) -> Result<(), CommandError> {
    let mut out = std::io::stdout().lock();
    let report = SyncReport {
        plan,
        outcome,
        health,
    };
    serde_json::to_writer_pretty(&mut out, &report)?;
    writeln!(out)?;
    Ok(())
}
