//! `driftdeck watch [APP…]`: the engine, headless, until Ctrl-C or TERM,
//! syncing the apps whose config says `auto_sync` (and healing those that
//! say `self_heal`); one line per event on stdout: verdict changes,
//! automatic syncs due, held, started and ended. `-o json`: one JSON object
//! per line.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;

use serde::Serialize;
use tokio::sync::mpsc;

use super::{CommandError, load_config};
use crate::cli::{GlobalArgs, OutputFormat, WatchArgs};
use crate::drift::{AppStatus, Health};
use crate::engine::{AutoStatus, Engine, EngineEvent, EngineOptions};
use crate::resource::short_revision;
use crate::sync::{ObjectResult, SyncStatus, SyncTrigger};

pub fn run(global: &GlobalArgs, args: &WatchArgs) -> Result<ExitCode, CommandError> {
    let (paths, config) = load_config(global)?;
    let mut apps = Vec::new();
    for name in &args.apps {
        let app = super::configured_app(&config, name)?;
        apps.push(app.clone());
    }
    if args.apps.is_empty() {
        apps = config.apps.clone();
    }
    if apps.is_empty() {
        return Err(CommandError::Usage(
            "no app to watch: the config defines none".to_string(),
        ));
    }
    let _log = crate::logging::init(&paths, global.verbose).ok();
    let options = EngineOptions {
        auto_sync: true,
        ..super::engine_options(global, &config, false, false)
    };
    let json = args.output == OutputFormat::Json;
    super::runtime()?.block_on(async {
        let (sender, mut events) = mpsc::unbounded_channel();
        let _engine = Engine::start(apps, paths, options, sender);
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .map_err(CommandError::Output)?;
        let mut lines = Lines::default();
        loop {
            let event = tokio::select! {
                event = events.recv() => event,
                _ = tokio::signal::ctrl_c() => break,
                _ = terminate.recv() => break,
            };
            let Some(event) = event else { break };
            let mut out = std::io::stdout().lock();
            for line in lines.of(&event, jiff::Timestamp::now()) {
                if json {
                    serde_json::to_writer(&mut out, &line)?;
                    writeln!(out)?;
                } else {
                    writeln!(out, "{}", line.text())?;
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// One line of output.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct Line {
    time: jiff::Timestamp,
    app: String,
    #[serde(flatten)]
    event: Event,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Event {
    /// The app's verdict changed.
    Verdict {
        status: AppStatus,
        health: Health,
        /// The commit compared with (the branch's head).
        revision: Option<String>,
        /// The commit most live objects were applied from.
        deployed: Option<String>,
        reason: Option<String>,
    },
    /// Its automatic syncing changed: due, started, held, idle again.
    Auto(AutoStatus),
    /// A sync ended.
    SyncEnded {
        trigger: SyncTrigger,
        revision: String,
        status: SyncStatus,
        created: usize,
        updated: usize,
        pruned: usize,
        failed: usize,
        error: Option<String>,
    },
    /// A sync could not run or was refused before writing.
    SyncRefused {
        trigger: SyncTrigger,
        message: String,
    },
    /// Git cannot be read, or can again.
    Source { error: Option<String> },
}

/// Turns engine events into lines, leaving out what did not change.
#[derive(Default)]
struct Lines {
    verdicts: HashMap<String, Event>,
    sources: HashMap<String, Option<String>>,
    /// The trigger of each app's last sync started.
    triggers: HashMap<String, SyncTrigger>,
}

impl Lines {
    fn of(&mut self, event: &EngineEvent, time: jiff::Timestamp) -> Vec<Line> {
        let line = |app: &str, event: Event| Line {
            time,
            app: app.to_string(),
            event,
        };
        match event {
            EngineEvent::Report { app, report, .. } => {
                let summary = &report.summary;
                let verdict = Event::Verdict {
                    status: summary.status,
                    health: summary.health,
                    revision: report.desired_revision.clone(),
                    deployed: summary.revision.clone(),
                    reason: summary.reason.clone(),
                };
                if self.verdicts.get(app) == Some(&verdict) {
                    return Vec::new();
                }
                self.verdicts.insert(app.clone(), verdict.clone());
                vec![line(app, verdict)]
            }
            EngineEvent::Auto { app, status } => {
                if let AutoStatus::Started { trigger, .. } = status {
                    self.triggers.insert(app.clone(), *trigger);
                }
                vec![line(app, Event::Auto(status.clone()))]
            }
            EngineEvent::SyncEnded { app, outcome } => {
                let trigger = self.triggers.remove(app).unwrap_or_default();
                let event = match outcome {
                    Ok(outcome) => {
                        let count = |r| outcome.objects.iter().filter(|o| o.result == r).count();
                        Event::SyncEnded {
                            trigger,
                            revision: outcome.revision.clone(),
                            status: outcome.status,
                            created: count(ObjectResult::Created),
                            updated: count(ObjectResult::Updated),
                            pruned: count(ObjectResult::Pruned),
                            failed: count(ObjectResult::Failed),
                            error: outcome.error.clone(),
                        }
                    }
                    Err(refused) => Event::SyncRefused {
                        trigger,
                        message: refused.message.clone(),
                    },
                };
                vec![line(app, event)]
            }
            EngineEvent::Source { app, source } => {
                let known = self.sources.get(app);
                if known == Some(&source.error) || (known.is_none() && source.error.is_none()) {
                    self.sources.insert(app.clone(), source.error.clone());
                    return Vec::new();
                }
                self.sources.insert(app.clone(), source.error.clone());
                vec![line(
                    app,
                    Event::Source {
                        error: source.error.clone(),
                    },
                )]
            }
            EngineEvent::Commits { .. }
            | EngineEvent::HistoryFailed { .. }
            | EngineEvent::Requests { .. }
            | EngineEvent::Planned { .. }
            | EngineEvent::Syncing { .. }
            | EngineEvent::Pinned { .. }
            | EngineEvent::PathCommits { .. }
            | EngineEvent::Previewed { .. }
            | EngineEvent::ControllerApps { .. }
            | EngineEvent::ControllerActed { .. }
            | EngineEvent::GitRollbackPrepared { .. }
            | EngineEvent::GitRolledBack { .. } => Vec::new(),
        }
    }
}

impl Line {
    /// `2026-12-06T06:00:00Z shop OutOfSync Healthy at 1a2b3c4 (deployed 0f0f0f0): …`
    fn text(&self) -> String {
        let short = |revision: &Option<String>| {
            revision
                .as_deref()
                .map_or("-".to_string(), |r| short_revision(r).to_string())
        };
        let what = match &self.event {
            Event::Verdict {
                status,
                health,
                revision,
                deployed,
                reason,
            } => {
                let reason = reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default();
                format!(
                    "{status} {health} at {} (deployed {}){reason}",
                    short(revision),
                    short(deployed)
                )
            }
            Event::Auto(AutoStatus::Idle) => "automatic sync: nothing to do".to_string(),
            Event::Auto(AutoStatus::Waiting {
                trigger,
                at,
                backoff_seconds,
            }) => {
                let backoff = backoff_seconds
                    .map(|b| format!(" (backoff {b}s)"))
                    .unwrap_or_default();
                format!("{} due at {at}{backoff}", trigger.word())
            }
            Event::Auto(AutoStatus::Started { trigger, revision }) => {
                format!(
                    "{} sync of {} started",
                    trigger.word(),
                    short_revision(revision)
                )
            }
            Event::Auto(AutoStatus::Held { reason }) => format!("automatic sync held: {reason}"),
            Event::SyncEnded {
                trigger,
                revision,
                status,
                created,
                updated,
                pruned,
                failed,
                error,
            } => {
                let status = format!("{status:?}").to_lowercase();
                let error = error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default();
                format!(
                    "{} sync of {} {status}: {created} created, {updated} updated, {pruned} pruned, {failed} failed{error}",
                    trigger.word(),
                    short_revision(revision)
                )
            }
            Event::SyncRefused { trigger, message } => {
                format!("{} sync refused: {message}", trigger.word())
            }
            Event::Source { error: Some(error) } => format!("git: {error}"),
            Event::Source { error: None } => "git: readable again".to_string(),
        };
        let time = self.time.round(jiff::Unit::Second).unwrap_or(self.time);
        format!("{time} {} {what}", self.app)
    }
}

#[cfg(test)]
#[path = "watch_tests.rs"]
mod tests;
