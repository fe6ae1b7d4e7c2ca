//! The engine's main task: one poller per repository; each app rendered at
//! its branch's head when it moves; each tracked branch's history walked
//! once and published batch by batch; the results handed to the task of
//! each app's cluster context, or to the UI. What to do is decided in
//! `decide.rs` (pure, returning `SourceEffect`s); this task runs it.

mod decide;
#[cfg(test)]
mod decide_tests;
mod effects;
mod engine_apps;
mod git_rollback;
mod gitops_log;
mod targets;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use tokio::sync::mpsc;

use self::decide::{Decisions, Followed};
use self::effects::{Branch, Finished, SourceEffect};
use self::targets::{Purpose, Rendered};
use super::context::{ContextTask, FromContext, ToContext};
use super::desired::{render_app, render_as};
use super::{EngineCommand, EngineEvent, EngineOptions, Generation, HISTORY_LIMIT};
use crate::config::{AppConfig, DEFAULT_POLL, Paths, SignatureRequirement};
use crate::source::{
    HistoryQuery, NetworkLimits, PollPacing, PollerConfig, PollerHandle, RollbackOutcome,
    SignatureStatus, SourceEvent, SourceLocation, signature_at, spawn_poller, walk_history,
};
use crate::sync::PinFile;

/// What the blocking pool reports back.
enum Done {
    /// A render or walk, decided on by `Decisions::on_finished`.
    Finished(Finished),
    /// A revision resolved and rendered to plan or sync at.
    Targeted {
        app: usize,
        purpose: Purpose,
        /// The revision rendered, and whether to pin after.
        result: Result<(Rendered, bool), String>,
    },
    /// A rollback applied everything: the app is to be pinned.
    RolledBack { app: usize, rendered: Rendered },
    /// A Git rollback was published, or why not.
    GitRolledBack {
        app: usize,
        outcome: Result<RollbackOutcome, String>,
    },
}

pub(super) async fn run(
    apps: Vec<AppConfig>,
    paths: Paths,
    options: EngineOptions,
    events: mpsc::UnboundedSender<EngineEvent>,
    commands: mpsc::UnboundedReceiver<EngineCommand>,
) {
    let pin_file = PinFile::in_data_dir(&paths);
    let pins_changed = pin_file.changed();
    // A pins file that cannot be read makes every app Unknown, saying why:
    // comparing with the head would hide a rollback.
    let (pins, pins_error) = match pin_file.load() {
        Ok(pins) => (pins, None),
        Err(err) => (Default::default(), Some(err.to_string())),
    };
    let followed: Vec<Followed> = apps
        .into_iter()
        .map(|config| {
            let context = options.context.clone().or_else(|| config.context.clone());
            let pinned = pins.get(&config.name).map(|pin| pin.revision.clone());
            Followed::new(config, context, pinned)
        })
        .collect();

    // One task per cluster context, for all of its apps. They ring when
    // they made requests, so counts are sent without a timer.
    let requests_made = Arc::new(tokio::sync::Notify::new());
    let (to_sources, from_contexts) = mpsc::unbounded_channel();
    let mut contexts: BTreeMap<Option<String>, ContextTask> = BTreeMap::new();
    for app in &followed {
        contexts
            .entry(app.context.clone())
            .or_insert_with(|| {
                ContextTask::spawn(
                    &options,
                    &paths,
                    app.context.clone(),
                    true,
                    events.clone(),
                    to_sources.clone(),
                    requests_made.clone(),
                )
            })
            .send(ToContext::Follow {
                app: Box::new(app.config.clone()),
            });
    }

    // Contexts read for their engine apps alone.
    for context in &options.contexts {
        if !contexts.contains_key(context) {
            let task = ContextTask::spawn(
                &options,
                &paths,
                context.clone(),
                false,
                events.clone(),
                to_sources.clone(),
                requests_made.clone(),
            );
            contexts.insert(context.clone(), task);
        }
    }

    let state = Decisions::new(followed, !options.one_shot, pins_error);
    // One poller per repository, for all the branches its apps track.
    let (source_events, source_rx) = mpsc::channel(64);
    let pollers: HashMap<SourceLocation, PollerHandle> = state
        .pollers()
        .into_iter()
        .map(|(source, interval, branches)| {
            let config = poller_config(interval, &paths);
            let handle = spawn_poller(source.clone(), branches, config, source_events.clone());
            (source, handle)
        })
        .collect();

    let (done_tx, done) = mpsc::unbounded_channel();
    let mut sources = Sources {
        state,
        contexts,
        pollers,
        source_events,
        pin_file,
        pins_changed,
        operator: crate::sync::Operator::current(
            options.kubeconfig.as_deref(),
            options.context.as_deref(),
        )
        .identity(),
        paths,
        events,
        done: done_tx,
    };
    let channels = Channels {
        sources: source_rx,
        done,
        commands,
        contexts: from_contexts,
    };
    sources.serve(channels, requests_made).await;
}

fn poller_config(interval: std::time::Duration, paths: &Paths) -> PollerConfig {
    PollerConfig {
        pacing: PollPacing::every(interval),
        limits: NetworkLimits::default(),
        cache_dir: paths.cache_dir.clone(),
    }
}

/// The sources task: the decisions' state, and what runs their effects.
struct Sources {
    state: Decisions,
    contexts: BTreeMap<Option<String>, ContextTask>,
    pollers: HashMap<SourceLocation, PollerHandle>,
    /// Where pollers report (those started later for engine apps too).
    source_events: mpsc::Sender<SourceEvent>,
    pin_file: PinFile,
    /// When the pins file last changed, as last read.
    pins_changed: Option<std::time::SystemTime>,
    /// Who pins (user@host).
    operator: String,
    paths: Paths,
    events: mpsc::UnboundedSender<EngineEvent>,
    done: mpsc::UnboundedSender<Done>,
}

/// What the main task listens to.
struct Channels {
    sources: mpsc::Receiver<SourceEvent>,
    done: mpsc::UnboundedReceiver<Done>,
    commands: mpsc::UnboundedReceiver<EngineCommand>,
    contexts: mpsc::UnboundedReceiver<FromContext>,
}

impl Sources {
    async fn serve(&mut self, channels: Channels, requests_made: Arc<tokio::sync::Notify>) {
        let Channels {
            sources: mut source_rx,
            mut done,
            mut commands,
            contexts: mut from_contexts,
        } = channels;
        let mut last_counts = None;
        loop {
            tokio::select! {
                Some(event) = source_rx.recv() => {
                    let mut effects = self.reload_pins();
                    effects.extend(self.state.on_source_event(&event));
                    self.execute(effects);
                    self.report_counts(&mut last_counts);
                }
                Some(finished) = done.recv() => self.on_done(finished),
                Some(asked) = from_contexts.recv() => {
                    let effects = self.state.engine_apps.on_context_request(asked);
                    self.execute(effects);
                }
                command = commands.recv() => match command {
                    Some(EngineCommand::Refresh { app, generation }) => {
                        self.refresh(&app, generation);
                    }
                    Some(EngineCommand::SetExact { exact }) => {
                        for context in self.contexts.values() {
                            context.send(ToContext::Exact(exact));
                        }
                    }
                    Some(EngineCommand::Plan { app, prune, target, only }) => {
                        self.targeted(&app, target, Purpose::Plan { prune, only });
                    }
                    Some(EngineCommand::Sync { app, request, target }) => {
                        self.targeted(&app, target, Purpose::Sync { request });
                    }
                    Some(EngineCommand::CancelSync { app }) => {
                        self.to_context_of(&app, ToContext::CancelSync { app: app.clone() });
                    }
                    Some(EngineCommand::Unpin { app }) => self.unpin(&app),
                    Some(EngineCommand::PrepareGitRollback { app, revision }) => {
                        self.prepare_git_rollback(&app, revision);
                    }
                    Some(EngineCommand::GitRollback { app, revision, message, mode }) => {
                        self.git_rollback(&app, revision, message, mode);
                    }
                    Some(EngineCommand::Preview { app, from, to }) => self.preview(&app, from, to),
                    // Only the context that found the engine app acts on it.
                    Some(EngineCommand::ControllerAction { app, action }) => {
                        for context in self.contexts.values() {
                            context.send(ToContext::ControllerAction {
                                app: app.clone(),
                                action: action.clone(),
                            });
                        }
                    }
                    None => return,
                },
                _ = requests_made.notified() => self.report_counts(&mut last_counts),
            }
        }
    }

    fn on_done(&mut self, finished: Done) {
        match finished {
            Done::Finished(finished) => {
                let effects = self.state.on_finished(finished);
                self.execute(effects);
            }
            Done::Targeted {
                app,
                purpose,
                result,
            } => self.on_targeted(app, purpose, result),
            Done::RolledBack { app, rendered } => self.pin(app, rendered),
            Done::GitRolledBack { app, outcome } => self.on_git_rolled_back(app, outcome),
        }
    }

    /// Does what was decided.
    fn execute(&mut self, effects: Vec<SourceEffect>) {
        for effect in effects {
            match effect {
                SourceEffect::Render { app, revision } => self.render(app, revision),
                SourceEffect::RenderEngineApp {
                    key,
                    config,
                    release,
                } => {
                    let done = self.done.clone();
                    let repo_dir = config.source.git_dir(&self.paths.cache_dir);
                    tokio::task::spawn_blocking(move || {
                        let result = render_as(&config, &release, &repo_dir, &key.revision);
                        let result = result.map(Arc::new);
                        let _ = done.send(Done::Finished(Finished::EngineRendered { key, result }));
                    });
                }
                SourceEffect::WalkHistory { branch, revision } => self.walk(branch, revision),
                SourceEffect::WalkPaths { app, revision } => self.walk_paths(app, revision),
                SourceEffect::Follow { source, branches } => match self.pollers.get(&source) {
                    Some(poller) => poller.track(branches),
                    None => {
                        let config = poller_config(DEFAULT_POLL.0, &self.paths);
                        let events = self.source_events.clone();
                        let poller = spawn_poller(source.clone(), branches, config, events);
                        self.pollers.insert(source, poller);
                    }
                },
                SourceEffect::PollNow(source) => {
                    if let Some(poller) = self.pollers.get(&source) {
                        poller.refresh();
                    }
                }
                SourceEffect::ToContext { context, message } => {
                    if let Some(context) = self.contexts.get(&context) {
                        context.send(message);
                    }
                }
                SourceEffect::Emit(event) => {
                    let _ = self.events.send(event);
                }
            }
        }
    }

    /// Hands a message to the task of the app's context.
    fn to_context_of(&self, app: &str, message: ToContext) {
        let context = self
            .state
            .index_of(app)
            .and_then(|index| self.contexts.get(&self.state.followed[index].context));
        if let Some(context) = context {
            context.send(message);
        }
    }

    /// Polls the app's repository now; later replies carry `generation`.
    fn refresh(&mut self, app: &str, generation: Generation) {
        if let Some(index) = self.state.index_of(app) {
            let effects = self.state.refresh(index, generation);
            return self.execute(effects);
        }
        // An engine app: its source is polled now (when driftdeck reads
        // it); the context that found it asks its engine.
        if let Some(poller) =
            (self.state.engine_apps.source_of(app)).and_then(|s| self.pollers.get(s))
        {
            poller.refresh();
        }
        for context in self.contexts.values() {
            context.send(ToContext::Generation {
                app: app.to_string(),
                generation,
            });
        }
    }

    /// Renders an app at a revision on the blocking pool.
    fn render(&self, index: usize, revision: String) {
        let followed = &self.state.followed[index];
        let (repo_dir, app, done) = (
            followed.source.git_dir(&self.paths.cache_dir),
            followed.config.clone(),
            self.done.clone(),
        );
        tokio::task::spawn_blocking(move || {
            let result = render_app(&app, &repo_dir, &revision).map(Arc::new);
            let signature = signature_if_required(&app, &repo_dir, &revision);
            let _ = done.send(Done::Finished(Finished::Rendered {
                app: index,
                revision,
                result,
                signature,
            }));
        });
    }

    /// Walks a branch's history on the blocking pool; batches come back as
    /// they are read.
    fn walk(&self, branch: Branch, revision: String) {
        let repo_dir = branch.0.git_dir(&self.paths.cache_dir);
        let query = HistoryQuery {
            rev: revision.clone(),
            path: None,
            limit: Some(HISTORY_LIMIT),
            signatures: true,
        };
        let done = self.done.clone();
        tokio::task::spawn_blocking(move || {
            let walked = walk_history(&repo_dir, &query, |batch| {
                let sent = done.send(Done::Finished(Finished::Walked {
                    branch: Box::new(branch.clone()),
                    revision: revision.clone(),
                    batch: Ok(batch),
                }));
                if sent.is_ok() {
                    std::ops::ControlFlow::Continue(())
                } else {
                    std::ops::ControlFlow::Break(())
                }
            });
            if let Err(err) = walked {
                tracing::warn!(repo = %branch.0, error = %err, "cannot walk the history");
                let batch = Err(err.to_string());
                let _ = done.send(Done::Finished(Finished::Walked {
                    branch: Box::new(branch),
                    revision,
                    batch,
                }));
            }
        });
    }

    /// Sends the request counts when they changed since the last time.
    fn report_counts(&self, last: &mut Option<(u64, u64)>) {
        let git: u64 = self.pollers.values().map(PollerHandle::requests).sum();
        let cluster: u64 = self.contexts.values().map(ContextTask::requests).sum();
        if *last != Some((git, cluster)) {
            *last = Some((git, cluster));
            let _ = self.events.send(EngineEvent::Requests { git, cluster });
        }
    }
}

/// The revision's signature where it decides whether the revision may be
/// deployed (`require_signed`); not checked otherwise.
fn signature_if_required(
    app: &AppConfig,
    repo_dir: &std::path::Path,
    revision: &str,
) -> Option<SignatureStatus> {
    (app.sync.require_signed != SignatureRequirement::None)
        .then(|| signature_at(repo_dir, revision))
}
