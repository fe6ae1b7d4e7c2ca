//! The engine's main task: one poller per repository; each app rendered at
//! its branch's head when it moves; each tracked branch's history walked
//! once and published batch by batch; the results handed to the task of
//! each app's cluster context, or to the UI.

mod engine_apps;
mod git_rollback;
mod gitops_log;
mod targets;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use tokio::sync::mpsc;

use self::targets::{Purpose, Rendered};
use super::context::{ContextTask, FromContext, ToContext};
use super::desired::{render_app, tracked_branches};
use super::{EngineCommand, EngineEvent, EngineOptions, Generation, HISTORY_LIMIT, SourceStatus};
use crate::config::{AppConfig, Paths, SignatureRequirement};
use crate::manifests::Checked;
use crate::source::{
    HistoryQuery, LogEntry, NetworkLimits, PollPacing, PollerConfig, PollerHandle, RollbackOutcome,
    SignatureStatus, SourceEvent, SourceLocation, signature_at, spawn_poller, walk_history,
};
use crate::sync::PinFile;

/// One app, as the main task follows it.
struct Followed {
    config: AppConfig,
    source: SourceLocation,
    context: Option<String>,
    /// The revision last rendered (or being rendered): the pin, else the head.
    revision: Option<String>,
    /// The branch's head, as last polled.
    head: Option<String>,
    /// The revision the app is pinned to (a rollback): rendered and
    /// compared instead of the head, until unpinned.
    pinned: Option<String>,
    generation: Generation,
    status: SourceStatus,
    /// The tracked branch does not exist: an error no successful poll ends,
    /// only the branch's return.
    branch_missing: bool,
    /// The commits that change the app's path, at the head walked last.
    touching: Option<(String, Arc<HashSet<gix::ObjectId>>)>,
}

/// A branch of a repository, as apps track it (`None`: the default branch).
type Branch = (SourceLocation, Option<String>);

/// A branch's history as walked so far.
struct History {
    revision: String,
    commits: Vec<LogEntry>,
    /// Why the walk stopped before its end.
    failure: Option<String>,
}

/// What the blocking pool reports back.
enum Done {
    Rendered {
        app: usize,
        revision: String,
        result: Result<Arc<Checked>, String>,
        signature: Option<SignatureStatus>,
    },
    Walked {
        branch: Box<Branch>,
        revision: String,
        batch: Result<Vec<LogEntry>, String>,
    },
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
    /// An engine app's source rendered (driftdeck's own comparison).
    /// Shared by the engine apps alike (same repository, folder,
    /// revision, namespace, values and release).
    EngineRendered {
        key: Box<engine_apps::RenderKey>,
        result: Result<Arc<Checked>, String>,
    },
    /// The commits that change an app's path.
    Touching {
        app: usize,
        revision: String,
        touching: HashSet<gix::ObjectId>,
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
        .map(|config| Followed {
            source: config.source.clone(),
            context: options.context.clone().or_else(|| config.context.clone()),
            revision: None,
            head: None,
            pinned: pins.get(&config.name).map(|pin| pin.revision.clone()),
            generation: 0,
            status: SourceStatus {
                next_poll: None,
                in_backoff: false,
                error: None,
            },
            branch_missing: false,
            touching: None,
            config,
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

    // One poller per repository, for all the branches its apps track.
    let (source_events, source_rx) = mpsc::channel(64);
    let mut by_source: HashMap<SourceLocation, Vec<usize>> = HashMap::new();
    for (index, app) in followed.iter().enumerate() {
        by_source.entry(app.source.clone()).or_default().push(index);
    }
    let mut pollers: HashMap<SourceLocation, PollerHandle> = HashMap::new();
    let mut tracked = HashMap::new();
    for (source, indexes) in &by_source {
        let apps = indexes.iter().map(|&i| &followed[i].config);
        let interval = apps
            .clone()
            .map(|app| app.poll.0)
            .min()
            .unwrap_or(crate::config::DEFAULT_POLL.0);
        let config = PollerConfig {
            pacing: PollPacing::every(interval),
            limits: NetworkLimits::default(),
            cache_dir: paths.cache_dir.clone(),
        };
        let branches = tracked_branches(apps);
        tracked.insert(source.clone(), branches.clone());
        let handle = spawn_poller(source.clone(), branches, config, source_events.clone());
        pollers.insert(source.clone(), handle);
    }

    let (done_tx, done) = mpsc::unbounded_channel();
    let mut sources = Sources {
        followed,
        by_source,
        contexts,
        histories: HashMap::new(),
        walk_histories: !options.one_shot,
        pin_file,
        pins_error,
        pins_changed,
        operator: crate::sync::Operator::current(
            options.kubeconfig.as_deref(),
            options.context.as_deref(),
        )
        .identity(),
        paths,
        events,
        done: done_tx,
        engine_apps: engine_apps::EngineApps::new(tracked, source_events),
    };
    let channels = Channels {
        sources: source_rx,
        done,
        commands,
        contexts: from_contexts,
    };
    sources.serve(pollers, channels, requests_made).await;
}

struct Sources {
    followed: Vec<Followed>,
    by_source: HashMap<SourceLocation, Vec<usize>>,
    contexts: BTreeMap<Option<String>, ContextTask>,
    histories: HashMap<Branch, History>,
    /// False for a one-shot look, which shows no history.
    walk_histories: bool,
    pin_file: PinFile,
    /// Why the pins file could not be read, if it could not.
    pins_error: Option<String>,
    /// When the pins file last changed, as last read.
    pins_changed: Option<std::time::SystemTime>,
    /// Who pins (user@host).
    operator: String,
    paths: Paths,
    events: mpsc::UnboundedSender<EngineEvent>,
    done: mpsc::UnboundedSender<Done>,
    /// The engine apps whose sources driftdeck reads (its own comparison).
    engine_apps: engine_apps::EngineApps,
}

/// What the main task listens to.
struct Channels {
    sources: mpsc::Receiver<SourceEvent>,
    done: mpsc::UnboundedReceiver<Done>,
    commands: mpsc::UnboundedReceiver<EngineCommand>,
    contexts: mpsc::UnboundedReceiver<FromContext>,
}

impl Sources {
    async fn serve(
        &mut self,
        mut pollers: HashMap<SourceLocation, PollerHandle>,
        channels: Channels,
        requests_made: Arc<tokio::sync::Notify>,
    ) {
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
                    self.on_source_event(event);
                    self.report_counts(&pollers, &mut last_counts);
                }
                Some(finished) = done.recv() => self.on_done(finished),
                Some(asked) = from_contexts.recv() => self.on_context_request(asked, &mut pollers),
                command = commands.recv() => match command {
                    Some(EngineCommand::Refresh { app, generation }) => {
                        self.refresh(&app, generation, &pollers);
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
                _ = requests_made.notified() => self.report_counts(&pollers, &mut last_counts),
            }
        }
    }

    fn on_source_event(&mut self, event: SourceEvent) {
        let source = match &event {
            SourceEvent::Head { source, .. }
            | SourceEvent::Error { source, .. }
            | SourceEvent::NextPoll { source, .. } => source.clone(),
        };
        self.reload_pins();
        self.on_engine_source_event(&event);
        // Only native apps show a history (engine apps' is the engine's).
        if let SourceEvent::Head {
            tracked, commit, ..
        } = &event
            && self.walk_histories
            && self.by_source.contains_key(&source)
        {
            self.walk((source.clone(), tracked.clone()), &commit.to_string());
            self.walk_paths(&source, tracked, &commit.to_string());
        }
        let indexes = self.by_source.get(&source).cloned().unwrap_or_default();
        let mut to_render = Vec::new();
        for index in indexes {
            let app = &mut self.followed[index];
            match &event {
                SourceEvent::Head {
                    tracked, commit, ..
                } if *tracked == app.config.branch => {
                    app.status.error = None;
                    app.branch_missing = false;
                    app.head = Some(commit.to_string());
                    // A pinned app stays at its pin: newer commits are pending.
                    let revision = app.pinned.clone().unwrap_or_else(|| commit.to_string());
                    if app.revision.as_deref() != Some(revision.as_str()) {
                        app.revision = Some(revision.clone());
                        to_render.push((index, revision));
                    }
                }
                SourceEvent::Head { .. } => continue,
                SourceEvent::Error {
                    missing: Some(branch),
                    ..
                } if *branch != app.config.branch => continue,
                SourceEvent::Error {
                    missing,
                    cause,
                    retry_at,
                    ..
                } => {
                    app.status.error = Some(cause.clone());
                    app.status.next_poll = Some(*retry_at);
                    app.status.in_backoff = missing.is_none();
                    app.branch_missing = missing.is_some();
                    // No desired state to show: the app is Unknown, and says why.
                    if missing.is_some() || app.revision.is_none() {
                        app.revision = None;
                        if let Some(context) = self.contexts.get(&app.context) {
                            context.send(ToContext::DesiredFailed {
                                app: app.config.name.clone(),
                                cause: cause.clone(),
                            });
                        }
                    }
                }
                SourceEvent::NextPoll { at, in_backoff, .. } => {
                    app.status.next_poll = Some(*at);
                    app.status.in_backoff = *in_backoff;
                    // A poll that succeeded after errors: the branch need not
                    // have moved for the error to be over.
                    if !*in_backoff && !app.branch_missing {
                        app.status.error = None;
                    }
                }
            }
            let _ = self.events.send(EngineEvent::Source {
                app: app.config.name.clone(),
                source: app.status.clone(),
            });
        }
        for (index, revision) in to_render {
            self.render(index, &source, &revision);
        }
    }

    fn on_done(&mut self, finished: Done) {
        match finished {
            Done::Rendered {
                app,
                revision,
                result,
                signature,
            } => {
                let followed = &self.followed[app];
                if followed.revision.as_deref() != Some(revision.as_str()) {
                    return; // a newer revision is being rendered
                }
                if let Some(context) = self.contexts.get(&followed.context) {
                    let name = followed.config.name.clone();
                    context.send(match result {
                        Ok(checked) => ToContext::Desired {
                            app: name,
                            revision,
                            checked,
                            pinned: followed.pinned.clone(),
                            signature,
                        },
                        Err(cause) => ToContext::DesiredFailed { app: name, cause },
                    });
                }
            }
            Done::Touching {
                app,
                revision,
                touching,
            } => {
                let followed = &mut self.followed[app];
                followed.touching = Some((revision, Arc::new(touching)));
                self.publish_touching(app);
            }
            Done::Walked {
                branch,
                revision,
                batch,
            } => {
                let Some(history) = self
                    .histories
                    .get_mut(&branch)
                    .filter(|h| h.revision == revision)
                else {
                    return; // the branch moved since; a newer walk runs
                };
                match batch {
                    Ok(batch) => history.commits.extend(batch),
                    Err(cause) => history.failure = Some(cause),
                }
                self.publish_history(&branch);
            }
            Done::Targeted {
                app,
                purpose,
                result,
            } => self.on_targeted(app, purpose, result),
            Done::RolledBack { app, rendered } => self.pin(app, rendered),
            Done::GitRolledBack { app, outcome } => self.on_git_rolled_back(app, outcome),
            Done::EngineRendered { key, result } => self.on_engine_rendered(*key, result),
        }
    }

    /// Hands a message to the task of the app's context.
    fn to_context_of(&self, app: &str, message: ToContext) {
        let context = self
            .followed
            .iter()
            .find(|f| f.config.name == app)
            .and_then(|f| self.contexts.get(&f.context));
        if let Some(context) = context {
            context.send(message);
        }
    }

    /// Polls the app's repository now; later replies carry `generation`.
    fn refresh(
        &mut self,
        app: &str,
        generation: Generation,
        pollers: &HashMap<SourceLocation, PollerHandle>,
    ) {
        let Some(index) = self.followed.iter().position(|f| f.config.name == app) else {
            // An engine app: its source is polled now (when driftdeck reads
            // it); the context that found it asks its engine.
            self.engine_apps.refresh(app, pollers);
            for context in self.contexts.values() {
                context.send(ToContext::Generation {
                    app: app.to_string(),
                    generation,
                });
            }
            return;
        };
        let followed = &mut self.followed[index];
        followed.generation = generation;
        if let Some(poller) = pollers.get(&followed.source) {
            poller.refresh();
        }
        if let Some(context) = self.contexts.get(&followed.context) {
            context.send(ToContext::Generation {
                app: app.to_string(),
                generation,
            });
        }
        // The history is the same unless the branch moves: answer again.
        let branch = (followed.source.clone(), followed.config.branch.clone());
        self.publish_history(&branch);
        self.publish_touching(index);
    }

    /// Renders an app at a revision on the blocking pool.
    fn render(&self, index: usize, source: &SourceLocation, revision: &str) {
        if let Some(cause) = &self.pins_error {
            let followed = &self.followed[index];
            if let Some(context) = self.contexts.get(&followed.context) {
                context.send(ToContext::DesiredFailed {
                    app: followed.config.name.clone(),
                    cause: cause.clone(),
                });
            }
            return;
        }
        let (repo_dir, app, revision, done) = (
            source.git_dir(&self.paths.cache_dir),
            self.followed[index].config.clone(),
            revision.to_string(),
            self.done.clone(),
        );
        tokio::task::spawn_blocking(move || {
            let result = render_app(&app, &repo_dir, &revision).map(Arc::new);
            let signature = signature_if_required(&app, &repo_dir, &revision);
            let _ = done.send(Done::Rendered {
                app: index,
                revision,
                result,
                signature,
            });
        });
    }

    /// Walks a branch's history on the blocking pool, once per head for
    /// every app that tracks it; batches come back as they are read.
    fn walk(&mut self, branch: Branch, revision: &str) {
        if self
            .histories
            .get(&branch)
            .is_some_and(|h| h.revision == revision)
        {
            return;
        }
        self.histories.insert(
            branch.clone(),
            History {
                revision: revision.to_string(),
                commits: Vec::new(),
                failure: None,
            },
        );
        let repo_dir = branch.0.git_dir(&self.paths.cache_dir);
        let query = HistoryQuery {
            rev: revision.to_string(),
            path: None,
            limit: Some(HISTORY_LIMIT),
            signatures: true,
        };
        let (done, revision) = (self.done.clone(), revision.to_string());
        tokio::task::spawn_blocking(move || {
            let walked = walk_history(&repo_dir, &query, |batch| {
                let sent = done.send(Done::Walked {
                    branch: Box::new(branch.clone()),
                    revision: revision.clone(),
                    batch: Ok(batch),
                });
                if sent.is_ok() {
                    std::ops::ControlFlow::Continue(())
                } else {
                    std::ops::ControlFlow::Break(())
                }
            });
            if let Err(err) = walked {
                tracing::warn!(repo = %branch.0, error = %err, "cannot walk the history");
                let batch = Err(err.to_string());
                let _ = done.send(Done::Walked {
                    branch: Box::new(branch),
                    revision,
                    batch,
                });
            }
        });
    }

    /// Sends a branch's history so far to every app that tracks it.
    fn publish_history(&self, branch: &Branch) {
        let Some(history) = self.histories.get(branch) else {
            return;
        };
        let commits = (!history.commits.is_empty()).then(|| Arc::new(history.commits.clone()));
        for app in &self.followed {
            if app.source != branch.0 || app.config.branch != branch.1 {
                continue;
            }
            if let Some(commits) = &commits {
                let _ = self.events.send(EngineEvent::Commits {
                    app: app.config.name.clone(),
                    generation: app.generation,
                    commits: commits.clone(),
                });
            }
            if let Some(cause) = &history.failure {
                let _ = self.events.send(EngineEvent::HistoryFailed {
                    app: app.config.name.clone(),
                    generation: app.generation,
                    cause: cause.clone(),
                });
            }
        }
    }

    /// Sends the request counts when they changed since the last time.
    fn report_counts(
        &self,
        pollers: &HashMap<SourceLocation, PollerHandle>,
        last: &mut Option<(u64, u64)>,
    ) {
        let git: u64 = pollers.values().map(PollerHandle::requests).sum();
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
