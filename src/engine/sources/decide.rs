//! What the sources task decides, as values: each poller event, finished
//! render or walk, refresh and pin change goes in with the state and comes
//! out as `SourceEffect`s (render this, walk that, tell this context, send
//! this event), which the task in `sources.rs` runs. Nothing here spawns,
//! sends or reads a file, so the decisions are unit-tested
//! (`decide_tests.rs`) as the TUI's `update` is.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use super::effects::{Branch, Finished, SourceEffect};
use super::engine_apps::EngineApps;
use crate::config::{AppConfig, DEFAULT_POLL};
use crate::engine::context::ToContext;
use crate::engine::desired::tracked_branches;
use crate::engine::{EngineEvent, Generation, SourceStatus};
use crate::manifests::Checked;
use crate::source::{LogEntry, SignatureStatus, SourceEvent, SourceLocation};
use crate::sync::Pins;

/// One app, as the sources task follows it.
pub(super) struct Followed {
    pub config: AppConfig,
    pub source: SourceLocation,
    pub context: Option<String>,
    /// The revision last rendered (or being rendered): the pin, else the head.
    pub revision: Option<String>,
    /// The branch's head, as last polled.
    pub head: Option<String>,
    /// The revision the app is pinned to (a rollback): rendered and
    /// compared instead of the head, until unpinned.
    pub pinned: Option<String>,
    pub generation: Generation,
    pub status: SourceStatus,
    /// The tracked branch does not exist: an error no successful poll ends,
    /// only the branch's return.
    branch_missing: bool,
    /// The commits that change the app's path, at the head walked last.
    touching: Option<(String, Arc<HashSet<gix::ObjectId>>)>,
}

impl Followed {
    /// `context`: the engine's (`--context`), else the app's own.
    pub(super) fn new(config: AppConfig, context: Option<String>, pinned: Option<String>) -> Self {
        Followed {
            source: config.source.clone(),
            context,
            revision: None,
            head: None,
            pinned,
            generation: 0,
            status: SourceStatus {
                next_poll: None,
                in_backoff: false,
                error: None,
            },
            branch_missing: false,
            touching: None,
            config,
        }
    }

    fn tracks(&self, branch: &Branch) -> bool {
        self.source == branch.0 && self.config.branch == branch.1
    }
}

/// A branch's history as walked so far.
struct History {
    revision: String,
    commits: Vec<LogEntry>,
    /// Why the walk stopped before its end.
    failure: Option<String>,
}

/// The sources task's state: the apps followed, the histories walked, the
/// engine apps whose sources are read.
pub(super) struct Decisions {
    pub followed: Vec<Followed>,
    /// The followed apps of each repository.
    pub by_source: HashMap<SourceLocation, Vec<usize>>,
    histories: HashMap<Branch, History>,
    /// False for a one-shot look, which shows no history.
    walk_histories: bool,
    /// Why the pins file could not be read, if it could not: every app is
    /// then Unknown, as comparing with the head would hide a rollback.
    pins_error: Option<String>,
    pub engine_apps: EngineApps,
}

impl Decisions {
    pub(super) fn new(
        followed: Vec<Followed>,
        walk_histories: bool,
        pins_error: Option<String>,
    ) -> Decisions {
        let mut by_source: HashMap<SourceLocation, Vec<usize>> = HashMap::new();
        for (index, app) in followed.iter().enumerate() {
            by_source.entry(app.source.clone()).or_default().push(index);
        }
        let mut decisions = Decisions {
            followed,
            by_source,
            histories: HashMap::new(),
            walk_histories,
            pins_error,
            engine_apps: EngineApps::new(HashMap::new()),
        };
        let tracked = decisions
            .pollers()
            .into_iter()
            .map(|(source, _, branches)| (source, branches))
            .collect();
        decisions.engine_apps = EngineApps::new(tracked);
        decisions
    }

    /// One poller per repository: how often it polls (its most eager app's
    /// interval) and the branches its apps track.
    pub(super) fn pollers(&self) -> Vec<(SourceLocation, Duration, Vec<Option<String>>)> {
        self.by_source
            .iter()
            .map(|(source, indexes)| {
                let apps = indexes.iter().map(|&i| &self.followed[i].config);
                let interval = apps
                    .clone()
                    .map(|app| app.poll.0)
                    .min()
                    .unwrap_or(DEFAULT_POLL.0);
                (source.clone(), interval, tracked_branches(apps))
            })
            .collect()
    }

    pub(super) fn index_of(&self, app: &str) -> Option<usize> {
        self.followed.iter().position(|f| f.config.name == app)
    }

    /// A poller's news: the head of a tracked branch (render the apps that
    /// track it, unless pinned or already at it; walk its history), a
    /// failed poll or missing branch (the apps with nothing to show are
    /// Unknown), or when the next poll is.
    pub(super) fn on_source_event(&mut self, event: &SourceEvent) -> Vec<SourceEffect> {
        let source = match event {
            SourceEvent::Head { source, .. }
            | SourceEvent::Error { source, .. }
            | SourceEvent::NextPoll { source, .. } => source.clone(),
        };
        let mut effects = self.engine_apps.on_source_event(event);
        // Only native apps show a history (engine apps' is the engine's).
        if let SourceEvent::Head {
            tracked, commit, ..
        } = event
            && self.walk_histories
            && self.by_source.contains_key(&source)
        {
            let branch = (source.clone(), tracked.clone());
            effects.extend(self.walk(branch.clone(), &commit.to_string()));
            effects.extend(self.walk_paths(&branch, &commit.to_string()));
        }
        let indexes = self.by_source.get(&source).cloned().unwrap_or_default();
        let mut to_render = Vec::new();
        for index in indexes {
            let app = &mut self.followed[index];
            match event {
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
                        effects.push(SourceEffect::ToContext {
                            context: app.context.clone(),
                            message: ToContext::DesiredFailed {
                                app: app.config.name.clone(),
                                cause: cause.clone(),
                            },
                        });
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
            effects.push(SourceEffect::Emit(EngineEvent::Source {
                app: app.config.name.clone(),
                source: app.status.clone(),
            }));
        }
        for (index, revision) in to_render {
            effects.push(self.render(index, revision));
        }
        effects
    }

    /// A render or walk finished: handed on, unless something newer was
    /// asked for meanwhile.
    pub(super) fn on_finished(&mut self, finished: Finished) -> Vec<SourceEffect> {
        match finished {
            Finished::Rendered {
                app,
                revision,
                result,
                signature,
            } => {
                let followed = &self.followed[app];
                if followed.revision.as_deref() != Some(revision.as_str()) {
                    return Vec::new(); // a newer revision is being rendered
                }
                let name = followed.config.name.clone();
                let message = match result {
                    Ok(checked) => ToContext::Desired {
                        app: name,
                        revision,
                        checked,
                        pinned: followed.pinned.clone(),
                        signature,
                    },
                    Err(cause) => ToContext::DesiredFailed { app: name, cause },
                };
                vec![SourceEffect::ToContext {
                    context: followed.context.clone(),
                    message,
                }]
            }
            Finished::Touching {
                app,
                revision,
                touching,
            } => {
                self.followed[app].touching = Some((revision, Arc::new(touching)));
                self.publish_touching(app).into_iter().collect()
            }
            Finished::Walked {
                branch,
                revision,
                batch,
            } => {
                let Some(history) = self
                    .histories
                    .get_mut(&branch)
                    .filter(|h| h.revision == revision)
                else {
                    return Vec::new(); // the branch moved since; a newer walk runs
                };
                match batch {
                    Ok(batch) => history.commits.extend(batch),
                    Err(cause) => history.failure = Some(cause),
                }
                self.publish_history(&branch)
            }
            Finished::EngineRendered { key, result } => self.engine_apps.on_rendered(*key, result),
        }
    }

    /// The app is asked about anew: replies carry `generation`; its
    /// repository is polled now, and its history (the same unless the
    /// branch moves) is sent again.
    pub(super) fn refresh(&mut self, index: usize, generation: Generation) -> Vec<SourceEffect> {
        let followed = &mut self.followed[index];
        followed.generation = generation;
        let mut effects = vec![
            SourceEffect::PollNow(followed.source.clone()),
            SourceEffect::ToContext {
                context: followed.context.clone(),
                message: ToContext::Generation {
                    app: followed.config.name.clone(),
                    generation,
                },
            },
        ];
        let branch = (followed.source.clone(), followed.config.branch.clone());
        effects.extend(self.publish_history(&branch));
        effects.extend(self.publish_touching(index));
        effects
    }

    /// Renders the app at `revision`; Unknown instead while the pins file
    /// cannot be read.
    fn render(&self, index: usize, revision: String) -> SourceEffect {
        match &self.pins_error {
            Some(cause) => {
                let followed = &self.followed[index];
                SourceEffect::ToContext {
                    context: followed.context.clone(),
                    message: ToContext::DesiredFailed {
                        app: followed.config.name.clone(),
                        cause: cause.clone(),
                    },
                }
            }
            None => SourceEffect::Render {
                app: index,
                revision,
            },
        }
    }

    /// Walks a branch's history once per head for every app that tracks it.
    fn walk(&mut self, branch: Branch, revision: &str) -> Option<SourceEffect> {
        if self
            .histories
            .get(&branch)
            .is_some_and(|h| h.revision == revision)
        {
            return None;
        }
        let history = History {
            revision: revision.to_string(),
            commits: Vec::new(),
            failure: None,
        };
        self.histories.insert(branch.clone(), history);
        Some(SourceEffect::WalkHistory {
            branch,
            revision: revision.to_string(),
        })
    }

    /// Walks the branch's history once per app that tracks it, for the
    /// commits that change the app's path.
    fn walk_paths(&self, branch: &Branch, revision: &str) -> Vec<SourceEffect> {
        self.followed
            .iter()
            .enumerate()
            .filter(|(_, app)| app.tracks(branch))
            .filter(|(_, app)| app.touching.as_ref().is_none_or(|(r, _)| r != revision))
            .map(|(index, _)| SourceEffect::WalkPaths {
                app: index,
                revision: revision.to_string(),
            })
            .collect()
    }

    /// A branch's history so far, for every app that tracks it.
    fn publish_history(&self, branch: &Branch) -> Vec<SourceEffect> {
        let Some(history) = self.histories.get(branch) else {
            return Vec::new();
        };
        let commits = (!history.commits.is_empty()).then(|| Arc::new(history.commits.clone()));
        let mut effects = Vec::new();
        for app in self.followed.iter().filter(|app| app.tracks(branch)) {
            if let Some(commits) = &commits {
                effects.push(SourceEffect::Emit(EngineEvent::Commits {
                    app: app.config.name.clone(),
                    generation: app.generation,
                    commits: commits.clone(),
                }));
            }
            if let Some(cause) = &history.failure {
                effects.push(SourceEffect::Emit(EngineEvent::HistoryFailed {
                    app: app.config.name.clone(),
                    generation: app.generation,
                    cause: cause.clone(),
                }));
            }
        }
        effects
    }

    /// The app's path commits, if they are known.
    fn publish_touching(&self, index: usize) -> Option<SourceEffect> {
        let app = &self.followed[index];
        let (_, touching) = app.touching.as_ref()?;
        Some(SourceEffect::Emit(EngineEvent::PathCommits {
            app: app.config.name.clone(),
            generation: app.generation,
            touching: touching.clone(),
        }))
    }

    /// A rollback applied everything and the pin is written: the app is
    /// compared at `revision` from now on, with the render the rollback
    /// made.
    pub(super) fn pinned(
        &mut self,
        index: usize,
        revision: String,
        checked: Arc<Checked>,
        signature: Option<SignatureStatus>,
    ) -> Vec<SourceEffect> {
        let followed = &mut self.followed[index];
        followed.pinned = Some(revision.clone());
        followed.revision = Some(revision.clone());
        let app = followed.config.name.clone();
        vec![
            SourceEffect::ToContext {
                context: followed.context.clone(),
                message: ToContext::Desired {
                    app: app.clone(),
                    revision: revision.clone(),
                    checked,
                    pinned: Some(revision.clone()),
                    signature,
                },
            },
            SourceEffect::Emit(EngineEvent::Pinned {
                app,
                pinned: Ok(Some(revision)),
            }),
        ]
    }

    /// The app's pin is gone: it is rendered at its branch's head again.
    pub(super) fn unpinned(&mut self, index: usize) -> Option<SourceEffect> {
        let followed = &mut self.followed[index];
        followed.pinned = None;
        let head = followed.head.clone()?;
        followed.revision = Some(head.clone());
        Some(self.render(index, head))
    }

    /// The pins file as read again (another process pinned or unpinned):
    /// an app pinned there is rendered at its pin, an unpinned one at its
    /// branch's head; every app is, when the file was unreadable before.
    pub(super) fn pins_reloaded(&mut self, pins: &Pins) -> Vec<SourceEffect> {
        let was_unreadable = self.pins_error.take().is_some();
        let mut effects = Vec::new();
        for index in 0..self.followed.len() {
            let followed = &mut self.followed[index];
            let pinned = pins
                .get(&followed.config.name)
                .map(|pin| pin.revision.clone());
            if pinned == followed.pinned && !was_unreadable {
                continue;
            }
            followed.pinned = pinned.clone();
            let app = followed.config.name.clone();
            if let Some(revision) = pinned.clone().or_else(|| followed.head.clone()) {
                followed.revision = Some(revision.clone());
                effects.push(self.render(index, revision));
            }
            effects.push(SourceEffect::Emit(EngineEvent::Pinned {
                app,
                pinned: Ok(pinned),
            }));
        }
        effects
    }
}
