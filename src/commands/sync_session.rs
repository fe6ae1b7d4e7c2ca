//! The engine a sync command drives, and what it prints on the way: the
//! plan, the confirmation asked, the progress and the summary. `sync APP`
//! and `rollback` (`sync.rs`) and `sync --all` (`sync_all.rs`) share it.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::CommandError;
use crate::cli::SyncFlags;
use crate::config::{AppConfig, Paths};
use crate::drift::{AppStatus, Health};
use crate::engine::{
    Engine, EngineCommand, EngineEvent, EngineOptions, SyncCommand, SyncRefused, SyncTarget,
};
use crate::report::AppReport;
use crate::resource::short_revision;
use crate::sync::{ObjectResult, SyncAction, SyncOutcome, SyncPlan, SyncProgress};

/// The engine, and what it has said: every event read goes through
/// `recv`, which keeps each app's last verdict, so waiting for one app
/// loses nothing about another.
pub(super) struct Session {
    engine: Engine,
    events: mpsc::UnboundedReceiver<EngineEvent>,
    /// Each app's last verdict and whether it was settled.
    latest: HashMap<String, (Arc<AppReport>, bool)>,
    /// Each app's last word on its pin, from the engine.
    pins: HashMap<String, Result<Option<String>, String>>,
    /// The engine apps each context has said it has.
    pub(super) controller_apps: HashMap<Option<String>, Vec<String>>,
}

impl Session {
    pub(super) fn start(apps: Vec<AppConfig>, paths: Paths, options: EngineOptions) -> Session {
        let (sender, events) = mpsc::unbounded_channel();
        Session {
            engine: Engine::start(apps, paths, options, sender),
            events,
            latest: HashMap::new(),
            pins: HashMap::new(),
            controller_apps: HashMap::new(),
        }
    }

    async fn recv(&mut self) -> Option<EngineEvent> {
        let event = self.events.recv().await?;
        if let EngineEvent::Report {
            app,
            report,
            settled,
            ..
        } = &event
        {
            self.latest.insert(app.clone(), (report.clone(), *settled));
        }
        if let EngineEvent::Pinned { app, pinned } = &event {
            self.pins.insert(app.clone(), pinned.clone());
        }
        if let EngineEvent::ControllerApps { context, apps, .. } = &event {
            self.controller_apps.insert(context.clone(), apps.clone());
        }
        Some(event)
    }

    /// Sends a command to the engine without waiting for its answer.
    pub(super) fn send(&self, command: EngineCommand) {
        self.engine.send(command);
    }

    /// The app's first settled verdict; an error when none comes in time or
    /// it is Unknown with nothing known of its objects.
    pub(super) async fn settled(&mut self, app: &str) -> Result<Arc<AppReport>, CommandError> {
        let report = match self.latest.get(app) {
            Some((report, true)) => Some(report.clone()),
            _ => {
                self.next(super::LOOK_DEADLINE, |event| match event {
                    EngineEvent::Report {
                        app: of,
                        report,
                        settled: true,
                        ..
                    } if of == app => Some(report.clone()),
                    _ => None,
                })
                .await
            }
        };
        let unknown = |reason: String| CommandError::Unknown {
            app: app.to_string(),
            reason,
        };
        let report = report.ok_or_else(|| {
            unknown(format!(
                "no verdict within {}s",
                super::LOOK_DEADLINE.as_secs()
            ))
        })?;
        if report.summary.status == AppStatus::Unknown && report.resources.is_empty() {
            return Err(unknown(report.summary.reason.clone().unwrap_or_default()));
        }
        Ok(report)
    }

    /// The engine's plan for the app at `target`, or why there is none.
    pub(super) async fn plan(
        &mut self,
        app: &str,
        prune: bool,
        target: &SyncTarget,
    ) -> Result<Result<Arc<SyncPlan>, String>, CommandError> {
        self.engine.send(EngineCommand::Plan {
            app: app.to_string(),
            prune,
            target: target.clone(),
            only: None,
        });
        self.next(super::LOOK_DEADLINE, |event| match event {
            EngineEvent::Planned { app: of, plan } if of == app => Some(plan.clone()),
            _ => None,
        })
        .await
        .ok_or_else(|| CommandError::Unknown {
            app: app.to_string(),
            reason: "no plan".to_string(),
        })
    }

    /// Runs the sync, printing its progress (each line led by the app's
    /// name with `named`) until it ends; Ctrl-C stops it after the objects
    /// in flight.
    pub(super) async fn sync(
        &mut self,
        app: &str,
        flags: &SyncFlags,
        target: &SyncTarget,
        named: bool,
    ) -> Result<SyncOutcome, SyncRefused> {
        self.engine.send(EngineCommand::Sync {
            app: app.to_string(),
            request: SyncCommand {
                prune: flags.prune,
                force: flags.force,
                dry_run: flags.dry_run,
                only: None,
            },
            target: target.clone(),
        });
        let lead = if named {
            format!("{app}: ")
        } else {
            String::new()
        };
        let mut interrupted = false;
        loop {
            let event = tokio::select! {
                event = self.recv() => event,
                _ = tokio::signal::ctrl_c(), if !interrupted => {
                    interrupted = true;
                    eprintln!("stopping after the objects in flight…");
                    self.engine.send(EngineCommand::CancelSync { app: app.to_string() });
                    continue;
                }
            };
            match event {
                Some(EngineEvent::Syncing { app: of, progress }) if of == app => {
                    print_progress(&lead, &progress);
                }
                Some(EngineEvent::SyncEnded { app: of, outcome }) if of == app => return outcome,
                Some(_) => {}
                None => {
                    return Err(SyncRefused {
                        message: format!("app \"{app}\": the engine stopped"),
                        could_not_run: true,
                    });
                }
            }
        }
    }

    /// Waits for the engine to keep a rollback's pin; says where the app
    /// is pinned. False when the pin could not be written.
    pub(super) async fn wait_for_pin(&mut self, app: &str) -> bool {
        if !self.pins.contains_key(app) {
            self.next(super::LOOK_DEADLINE, |event| match event {
                EngineEvent::Pinned { app: of, .. } if of == app => Some(()),
                _ => None,
            })
            .await;
        }
        match self.pins.remove(app) {
            Some(Ok(Some(revision))) => {
                eprintln!(
                    "app \"{app}\": pinned to {}; `driftdeck unpin {app}` follows the branch again",
                    short_revision(&revision)
                );
                true
            }
            Some(Err(cause)) => {
                eprintln!("app \"{app}\": rolled back, but not pinned: {cause}");
                false
            }
            Some(Ok(None)) | None => {
                eprintln!("app \"{app}\": rolled back, but the pin was not confirmed");
                false
            }
        }
    }

    /// Follows the app's verdicts until it is Synced at `revision` (for a
    /// sync at another revision than the one compared: deployed at it) and
    /// Healthy, or Degraded, or the app's health timeout passes.
    pub(super) async fn wait_for_health(
        &mut self,
        app: &AppConfig,
        revision: &str,
        target: &SyncTarget,
    ) -> Health {
        let name = app.name.clone();
        let timeout = app.sync.health_timeout.0;
        let once = matches!(target, SyncTarget::Revision(_));
        let at_revision = |report: &AppReport| {
            if once {
                report.summary.revision.as_deref() == Some(revision)
            } else {
                report.desired_revision.as_deref() == Some(revision)
                    && report.summary.status == AppStatus::Synced
            }
        };
        let done = |report: &AppReport| {
            at_revision(report)
                && matches!(report.summary.health, Health::Healthy | Health::Degraded)
        };
        if let Some((report, _)) = self.latest.get(&name)
            && done(report)
        {
            return report.summary.health;
        }
        let mut last = Health::Unknown;
        let wait = async {
            while let Some(event) = self.recv().await {
                let EngineEvent::Report { app, report, .. } = event else {
                    continue;
                };
                if app != name {
                    continue;
                }
                last = report.summary.health;
                if done(&report) {
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
    pub(super) async fn next<T>(
        &mut self,
        deadline: Duration,
        mut pick: impl FnMut(&EngineEvent) -> Option<T>,
    ) -> Option<T> {
        let wait = async {
            while let Some(event) = self.recv().await {
                if let Some(found) = pick(&event) {
                    return Some(found);
                }
            }
            None
        };
        tokio::time::timeout(deadline, wait).await.ok().flatten()
    }
}

/// The plan as lines: one per object, prunes last, then the counts.
pub(super) fn print_plan(out: &mut impl Write, plan: &SyncPlan) -> std::io::Result<()> {
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
        let fields: Vec<String> = step.changes.iter().map(ToString::to_string).collect();
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

/// Asks `question` on the terminal; yes only when the answer says so.
pub(super) fn confirmed(question: &str) -> Result<bool, CommandError> {
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// One line of progress on stderr, led by `lead` (the app's name, or nothing).
fn print_progress(lead: &str, progress: &SyncProgress) {
    match progress {
        SyncProgress::DryRun { objects } => {
            eprintln!("{lead}server dry run of {objects} objects…");
        }
        SyncProgress::Wave { wave, objects } => {
            eprintln!("{lead}applying wave {wave} ({objects} objects)…");
        }
        SyncProgress::Pruning { objects } if *objects > 0 => {
            eprintln!("{lead}pruning {objects} objects…");
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
                Some(message) => eprintln!("  {lead}{result} {}: {message}", outcome.key),
                None => eprintln!("  {lead}{result} {}", outcome.key),
            }
        }
    }
}

pub(super) fn summarize(app: &str, outcome: &SyncOutcome, health: Option<Health>) {
    let health = health.map(|h| format!(", {h}")).unwrap_or_default();
    println!("app \"{app}\": {}{health}", outcome.summary());
}
