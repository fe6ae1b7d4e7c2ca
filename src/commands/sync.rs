//! `driftdeck sync APP`: the engine the TUI runs, asked to plan a sync of
//! the app (at its compared revision, at `--rev`, or for `rollback` at the
//! revision it pins), then (confirmed) to run it; then the app's health is
//! followed until it is Healthy, Degraded or out of time. `sync --all` is in
//! `sync_all.rs`, on the same `Session`.

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;

use super::{CommandError, load_config};
use crate::cli::{GlobalArgs, OutputFormat, SyncArgs, SyncFlags};
use crate::config::{AppConfig, Paths};
use crate::drift::{AppStatus, Health};
use crate::engine::{
    AppReport, Engine, EngineCommand, EngineEvent, EngineOptions, SyncCommand, SyncRefused,
    SyncTarget,
};
use crate::resource::short_revision;
use crate::source::resolve_commit;
use crate::sync::{ObjectResult, SyncAction, SyncOutcome, SyncPlan, SyncProgress, SyncStatus};
use crate::text::printable;

/// The JSON output: the plan, how the sync went, the health at the end.
#[derive(Serialize)]
pub(super) struct SyncReport<'a> {
    pub plan: &'a SyncPlan,
    pub outcome: Option<&'a SyncOutcome>,
    pub health: Option<Health>,
}

pub fn run(global: &GlobalArgs, args: &SyncArgs) -> Result<ExitCode, CommandError> {
    let target = match &args.rev {
        Some(rev) => SyncTarget::Revision(rev.clone()),
        None => SyncTarget::Compared,
    };
    run_at(global, args.app.as_deref(), &args.flags, target)
}

/// `sync APP` at `target` (a `Pin` for `rollback`), or `sync --all` with no app.
pub(super) fn run_at(
    global: &GlobalArgs,
    app: Option<&str>,
    flags: &SyncFlags,
    target: SyncTarget,
) -> Result<ExitCode, CommandError> {
    let (paths, config) = load_config(global)?;
    let who = match app {
        Some(app) => format!("app \"{app}\""),
        None => "every app".to_string(),
    };
    let what = match target {
        SyncTarget::Pin(_) => "rollback",
        _ => "sync",
    };
    if global.readonly || config.ui.readonly {
        return Err(CommandError::Usage(format!(
            "{who}: {what} refused: driftdeck is read-only (--readonly or [ui] readonly = true)"
        )));
    }
    if let Some(name) = app
        && crate::engines::is_controller_app_name(name)
    {
        if !matches!(target, SyncTarget::Compared) {
            return Err(CommandError::Usage(format!(
                "app \"{name}\": {what} at a chosen revision is for native apps; an engine app syncs to the revision its engine targets"
            )));
        }
        return super::controller::sync(global, flags, name, paths, config);
    }
    let apps: Vec<AppConfig> = match app {
        Some(name) => vec![super::configured_app(&config, name)?.clone()],
        None => config.apps.clone(),
    };
    let confirm = !flags.yes && !flags.dry_run;
    if confirm && !std::io::stdin().is_terminal() {
        return Err(CommandError::Usage(format!(
            "{who}: no terminal to confirm the {what} on; give --yes to {what} without asking"
        )));
    }
    let _log = crate::logging::init(&paths, global.verbose).ok();
    let options = super::engine_options(global, &config, false, false);
    let contexts = options.contexts.len();
    let repo_dir = apps.first().map(|a| a.source.git_dir(&paths.cache_dir));
    super::runtime()?.block_on(async {
        let mut session = Session::start(apps.clone(), paths, options);
        match repo_dir.filter(|_| app.is_some()) {
            Some(repo_dir) => {
                let one = One {
                    app: &apps[0],
                    flags,
                    target,
                    repo_dir,
                    confirm,
                };
                sync_one(&mut session, one).await
            }
            None => super::sync_all::run(&mut session, &apps, contexts, flags, confirm).await,
        }
    })
}

/// A sync of one app.
struct One<'a> {
    app: &'a AppConfig,
    flags: &'a SyncFlags,
    target: SyncTarget,
    /// The repository the engine reads the app from, to resolve revisions in.
    repo_dir: PathBuf,
    confirm: bool,
}

/// `sync APP` (or `rollback`): the plan, asked about, run, then for a
/// rollback the pin, then the app's health followed.
async fn sync_one(session: &mut Session, one: One<'_>) -> Result<ExitCode, CommandError> {
    let One {
        app,
        flags,
        mut target,
        repo_dir,
        confirm,
    } = one;
    let name = app.name.clone();
    let report = session.settled(&name).await?;
    resolve_target(&name, &repo_dir, &mut target)?;
    let rollback = matches!(target, SyncTarget::Pin(_));
    let plan = match session.plan(&name, flags.prune, &target).await? {
        Ok(plan) => plan,
        Err(refusal) => {
            eprintln!("{refusal}");
            return Ok(ExitCode::from(1));
        }
    };
    let table = flags.output == OutputFormat::Table;
    if table {
        print_plan(&mut std::io::stdout().lock(), &plan)?;
    }
    // A rollback with nothing to apply still pins.
    if plan.is_empty() && !flags.dry_run && !rollback {
        if table {
            println!("app \"{name}\": nothing to do, the cluster matches Git");
        } else {
            print_json(&plan, None, Some(report.summary.health))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let revision = short_revision(&plan.revision);
    let question = if rollback {
        format!("roll app \"{name}\" back to {revision} and pin it there?")
    } else {
        format!("sync app \"{name}\" to {revision}?")
    };
    if confirm && !confirmed(&question)? {
        let not = if rollback { "rolled back" } else { "synced" };
        eprintln!("app \"{name}\": not {not}");
        return Ok(ExitCode::from(2));
    }
    let outcome = match session.sync(&name, flags, &target, false).await {
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
    if synced && rollback && !flags.dry_run && !session.wait_for_pin(&name).await {
        return Ok(ExitCode::from(1));
    }
    let health = if synced && !flags.dry_run && !flags.no_wait {
        Some(session.wait_for_health(app, &plan.revision, &target).await)
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

/// The target's revision resolved to a full commit id in the repository
/// the engine fetched; an unknown revision is an error naming it.
fn resolve_target(
    app: &str,
    repo_dir: &std::path::Path,
    target: &mut SyncTarget,
) -> Result<(), CommandError> {
    let (SyncTarget::Revision(rev) | SyncTarget::Pin(rev)) = target else {
        return Ok(());
    };
    let full = resolve_commit(repo_dir, rev).map_err(|err| {
        CommandError::Usage(format!(
            "app \"{app}\": unknown revision \"{}\": {err}",
            printable(rev)
        ))
    })?;
    *rev = full;
    Ok(())
}

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
    fn start(apps: Vec<AppConfig>, paths: Paths, options: EngineOptions) -> Session {
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

    /// The app's first settled verdict; an error when none comes in time or
    /// it is Unknown with nothing known of its objects.
    pub(super) fn send(&self, command: EngineCommand) {
        self.engine.send(command);
    }

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
    async fn wait_for_pin(&mut self, app: &str) -> bool {
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
