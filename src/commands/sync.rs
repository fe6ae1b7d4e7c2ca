//! `driftdeck sync APP`: the engine the TUI runs, asked to plan a sync of
//! the app, then (confirmed) to run it; then the app's health is followed
//! until it is Healthy, Degraded or out of time. `sync --all` is in
//! `sync_all.rs`, on the same `Session`.

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;

use super::{CommandError, load_config};
use crate::cli::{GlobalArgs, OutputFormat, SyncArgs};
use crate::config::{AppConfig, Paths};
use crate::drift::{AppStatus, Health};
use crate::engine::{
    AppReport, Engine, EngineCommand, EngineEvent, EngineOptions, SyncCommand, SyncRefused,
};
use crate::resource::short_revision;
use crate::sync::{ObjectResult, SyncAction, SyncOutcome, SyncPlan, SyncProgress, SyncStatus};

/// The JSON output: the plan, how the sync went, the health at the end.
#[derive(Serialize)]
pub(super) struct SyncReport<'a> {
    pub plan: &'a SyncPlan,
    pub outcome: Option<&'a SyncOutcome>,
    pub health: Option<Health>,
}

pub fn run(global: &GlobalArgs, args: &SyncArgs) -> Result<ExitCode, CommandError> {
    let (paths, config) = load_config(global)?;
    let what = match &args.app {
        Some(app) => format!("app \"{app}\""),
        None => "every app".to_string(),
    };
    if global.readonly || config.ui.readonly {
        return Err(CommandError::Usage(format!(
            "{what}: sync refused: driftdeck is read-only (--readonly or [ui] readonly = true)"
        )));
    }
    let apps: Vec<AppConfig> = match &args.app {
        Some(name) => vec![
            config
                .app(name)
                .cloned()
                .ok_or_else(|| CommandError::UnknownApp {
                    app: name.clone(),
                    file: config.file.clone(),
                })?,
        ],
        None => config.apps.clone(),
    };
    let confirm = !args.yes && !args.dry_run;
    if confirm && !std::io::stdin().is_terminal() {
        return Err(CommandError::Usage(format!(
            "{what}: no terminal to confirm the sync on; give --yes to sync without asking"
        )));
    }
    let _log = crate::logging::init(&paths, global.verbose).ok();
    let options = super::engine_options(global, &config, false, false);
    super::runtime()?.block_on(async {
        let mut session = Session::start(apps.clone(), paths, options);
        match &args.app {
            Some(_) => sync_one(&mut session, &apps[0], args, confirm).await,
            None => super::sync_all::run(&mut session, &apps, args, confirm).await,
        }
    })
}

/// `sync APP`: the plan, asked about, run, then the app's health followed.
async fn sync_one(
    session: &mut Session,
    app: &AppConfig,
    args: &SyncArgs,
    confirm: bool,
) -> Result<ExitCode, CommandError> {
    let name = app.name.clone();
    let report = session.settled(&name).await?;
    let plan = match session.plan(&name, args.prune).await? {
        Ok(plan) => plan,
        Err(refusal) => {
            eprintln!("{refusal}");
            return Ok(ExitCode::from(1));
        }
    };
    let table = args.output == OutputFormat::Table;
    if table {
        print_plan(&mut std::io::stdout().lock(), &plan)?;
    }
    if plan.is_empty() && !args.dry_run {
        if table {
            println!("app \"{name}\": nothing to do, the cluster matches Git");
        } else {
            print_json(&plan, None, Some(report.summary.health))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    if confirm
        && !confirmed(&format!(
            "sync app \"{name}\" to {}?",
            short_revision(&plan.revision)
        ))?
    {
        eprintln!("app \"{name}\": not synced");
        return Ok(ExitCode::from(2));
    }
    let outcome = match session.sync(&name, args, false).await {
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
    let health = if synced && !args.dry_run && !args.no_wait {
        Some(session.wait_for_health(app, &plan.revision).await)
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

/// The engine, and what it has said: every event read goes through
/// `recv`, which keeps each app's last verdict, so waiting for one app
/// loses nothing about another.
pub(super) struct Session {
    engine: Engine,
    events: mpsc::UnboundedReceiver<EngineEvent>,
    /// Each app's last verdict and whether it was settled.
    latest: HashMap<String, (Arc<AppReport>, bool)>,
}

impl Session {
    fn start(apps: Vec<AppConfig>, paths: Paths, options: EngineOptions) -> Session {
        let (sender, events) = mpsc::unbounded_channel();
        Session {
            engine: Engine::start(apps, paths, options, sender),
            events,
            latest: HashMap::new(),
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
        Some(event)
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

    /// The engine's plan for the app, or why there is none.
    pub(super) async fn plan(
        &mut self,
        app: &str,
        prune: bool,
    ) -> Result<Result<Arc<SyncPlan>, String>, CommandError> {
        self.engine.send(EngineCommand::Plan {
            app: app.to_string(),
            prune,
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
        args: &SyncArgs,
        named: bool,
    ) -> Result<SyncOutcome, SyncRefused> {
        self.engine.send(EngineCommand::Sync {
            app: app.to_string(),
            request: SyncCommand {
                prune: args.prune,
                force: args.force,
                dry_run: args.dry_run,
                only: None,
            },
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

    /// Follows the app's verdicts until it is Synced at `revision` and
    /// Healthy, or Degraded, or the app's health timeout passes.
    pub(super) async fn wait_for_health(&mut self, app: &AppConfig, revision: &str) -> Health {
        let name = app.name.clone();
        let timeout = app.sync.health_timeout.0;
        let done = |report: &AppReport| {
            report.desired_revision.as_deref() == Some(revision)
                && report.summary.status == AppStatus::Synced
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
                if app != name || report.desired_revision.as_deref() != Some(revision) {
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
    async fn next<T>(
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
