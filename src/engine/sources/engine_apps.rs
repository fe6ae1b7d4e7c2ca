//! Engine apps' sources, followed for driftdeck's own comparison: a
//! context found an Argo CD or Flux app whose repository driftdeck can
//! read and asks for it as a native app's config. Its repository is polled
//! by the one poller of that repository (native apps' included, a branch
//! added to it when needed), and the app is rendered at the engine's
//! revision — the head only while the engine names none — then handed to
//! the context as any desired state is.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::{Branch, Done, Sources};
use crate::config::{AppConfig, DEFAULT_POLL};
use crate::engine::context::{FromContext, ToContext};
use crate::engine::desired::render_as;
use crate::manifests::Checked;
use crate::resource::short_revision;
use crate::source::{
    NetworkLimits, PollPacing, PollerConfig, PollerHandle, SourceEvent, SourceLocation,
    spawn_poller,
};

pub(super) struct EngineApps {
    apps: HashMap<String, EngineApp>,
    /// Renders under way, with the apps waiting for each, and the last
    /// good render of each key still wanted: a thousand Applications of one
    /// folder at one revision are rendered once.
    renders: HashMap<RenderKey, Render>,
    /// The branches each repository's poller follows, native apps' too.
    tracked: HashMap<SourceLocation, Vec<Option<String>>>,
    /// Each followed branch's head, as last polled.
    heads: HashMap<Branch, String>,
    /// A repository's last poll error, until a poll succeeds.
    errors: HashMap<SourceLocation, String>,
    /// Where new pollers report.
    source_events: mpsc::Sender<SourceEvent>,
}

/// What a render depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(in crate::engine) struct RenderKey {
    source: SourceLocation,
    path: String,
    namespace: String,
    values: Vec<String>,
    release: String,
    revision: String,
}

enum Render {
    Running { waiting: Vec<String> },
    Done(Arc<Checked>),
}

struct EngineApp {
    config: AppConfig,
    /// A chart's release name.
    release: String,
    /// The engine's revision; `None`: the branch's head.
    revision: Option<String>,
    /// The revision being rendered or last rendered, and whether that failed.
    rendering: Option<String>,
    failed: bool,
}

impl EngineApps {
    pub(super) fn new(
        tracked: HashMap<SourceLocation, Vec<Option<String>>>,
        source_events: mpsc::Sender<SourceEvent>,
    ) -> EngineApps {
        EngineApps {
            apps: HashMap::new(),
            renders: HashMap::new(),
            tracked,
            heads: HashMap::new(),
            errors: HashMap::new(),
            source_events,
        }
    }

    /// Polls the app's repository now, if driftdeck reads it.
    pub(super) fn refresh(&self, app: &str, pollers: &HashMap<SourceLocation, PollerHandle>) {
        if let Some(poller) = self
            .apps
            .get(app)
            .and_then(|followed| pollers.get(&followed.config.source))
        {
            poller.refresh();
        }
    }

    /// Makes the repository's poller follow `branch`: a new poller, or one
    /// more branch for the existing one. True when it followed it already.
    fn follow_branch(
        &mut self,
        branch: &Branch,
        pollers: &mut HashMap<SourceLocation, PollerHandle>,
        cache_dir: &std::path::Path,
    ) -> bool {
        let (source, name) = branch;
        let tracked = self.tracked.entry(source.clone()).or_default();
        if tracked.contains(name) && pollers.contains_key(source) {
            return true;
        }
        if !tracked.contains(name) {
            tracked.push(name.clone());
        }
        match pollers.get(source) {
            Some(poller) => poller.track(tracked.clone()),
            None => {
                let config = PollerConfig {
                    pacing: PollPacing::every(DEFAULT_POLL.0),
                    limits: NetworkLimits::default(),
                    cache_dir: cache_dir.to_path_buf(),
                };
                let poller = spawn_poller(
                    source.clone(),
                    tracked.clone(),
                    config,
                    self.source_events.clone(),
                );
                pollers.insert(source.clone(), poller);
            }
        }
        false
    }
}

impl Sources {
    /// A context asks to follow an engine app's source, or no more.
    pub(super) fn on_context_request(
        &mut self,
        asked: FromContext,
        pollers: &mut HashMap<SourceLocation, PollerHandle>,
    ) {
        let (config, revision, release) = match asked {
            FromContext::ForgetSource { app } => {
                self.engine_apps.apps.remove(&app);
                return;
            }
            FromContext::FollowSource {
                app,
                revision,
                release,
            } => (*app, revision, release),
        };
        let name = config.name.clone();
        let branch: Branch = (config.source.clone(), config.branch.clone());
        let engine_apps = &mut self.engine_apps;
        let moved = match engine_apps.apps.get_mut(&name) {
            Some(followed) if followed.config == config && followed.release == release => {
                let moved = followed.revision != revision;
                followed.revision = revision;
                moved
            }
            _ => {
                let followed = EngineApp {
                    config,
                    release,
                    revision,
                    rendering: None,
                    failed: false,
                };
                engine_apps.apps.insert(name.clone(), followed);
                false
            }
        };
        let followed_already = engine_apps.follow_branch(&branch, pollers, &self.paths.cache_dir);
        // The engine went to another revision: it may be newer than the
        // clone, so the repository is asked (cheaply) at once.
        if moved
            && followed_already
            && let Some(poller) = pollers.get(&branch.0)
        {
            poller.refresh();
        }
        if let Some(head) = self.engine_apps.heads.get(&branch).cloned() {
            self.render_engine_app(&name, &head);
        } else if let Some(cause) = self.engine_apps.errors.get(&branch.0).cloned() {
            self.engine_source_failed(&name, &cause);
        }
    }

    /// A poller's news, for the engine apps that read its repository.
    pub(super) fn on_engine_source_event(&mut self, event: &SourceEvent) {
        let on = |source: &SourceLocation, apps: &HashMap<String, EngineApp>| -> Vec<String> {
            apps.iter()
                .filter(|(_, a)| a.config.source == *source)
                .map(|(name, _)| name.clone())
                .collect()
        };
        match event {
            SourceEvent::Head {
                source,
                tracked,
                commit,
                ..
            } => {
                let head = commit.to_string();
                let engine_apps = &mut self.engine_apps;
                engine_apps
                    .heads
                    .insert((source.clone(), tracked.clone()), head.clone());
                engine_apps.errors.remove(source);
                for app in on(source, &engine_apps.apps) {
                    if self.engine_apps.apps[&app].config.branch == *tracked {
                        self.render_engine_app(&app, &head);
                    }
                }
            }
            SourceEvent::Error {
                source,
                missing,
                cause,
                ..
            } => {
                let engine_apps = &mut self.engine_apps;
                match missing {
                    None => {
                        engine_apps.errors.insert(source.clone(), cause.clone());
                    }
                    Some(branch) => {
                        engine_apps.heads.remove(&(source.clone(), branch.clone()));
                    }
                }
                for app in on(source, &engine_apps.apps) {
                    let followed = &self.engine_apps.apps[&app];
                    let concerned = missing
                        .as_ref()
                        .is_none_or(|b| *b == followed.config.branch);
                    // A failed poll after a render leaves that render standing.
                    if concerned && (missing.is_some() || followed.rendering.is_none()) {
                        self.engine_source_failed(&app, cause);
                    }
                }
            }
            SourceEvent::NextPoll {
                source,
                in_backoff: false,
                ..
            } => {
                self.engine_apps.errors.remove(source);
            }
            SourceEvent::NextPoll { .. } => {}
        }
    }

    /// Renders the engine app at its engine's revision (`head` while the
    /// engine names none), unless that is done or under way; apps alike
    /// share one render.
    fn render_engine_app(&mut self, app: &str, head: &str) {
        let Some(followed) = self.engine_apps.apps.get_mut(app) else {
            return;
        };
        let target = followed
            .revision
            .clone()
            .unwrap_or_else(|| head.to_string());
        if followed.rendering.as_deref() == Some(target.as_str()) && !followed.failed {
            return;
        }
        followed.rendering = Some(target.clone());
        followed.failed = false;
        let config = &followed.config;
        let key = RenderKey {
            source: config.source.clone(),
            path: config.path.clone(),
            namespace: config.namespace.clone(),
            values: config.values.clone(),
            release: followed.release.clone(),
            revision: target,
        };
        let (config, release) = (config.clone(), followed.release.clone());
        match self.engine_apps.renders.get_mut(&key) {
            Some(Render::Done(checked)) => {
                let checked = checked.clone();
                self.deliver(app, &key.revision, Ok(checked));
                return;
            }
            Some(Render::Running { waiting }) => {
                waiting.push(app.to_string());
                return;
            }
            None => {}
        }
        self.forget_unwanted_renders();
        self.engine_apps.renders.insert(
            key.clone(),
            Render::Running {
                waiting: vec![app.to_string()],
            },
        );
        let done = self.done.clone();
        let repo_dir = config.source.git_dir(&self.paths.cache_dir);
        tokio::task::spawn_blocking(move || {
            let result = render_as(&config, &release, &repo_dir, &key.revision).map(Arc::new);
            let _ = done.send(Done::EngineRendered {
                key: Box::new(key),
                result,
            });
        });
    }

    /// Drops the finished renders no app compares with any more.
    fn forget_unwanted_renders(&mut self) {
        let engine_apps = &mut self.engine_apps;
        let wanted: std::collections::HashSet<(&SourceLocation, &str, &str)> = engine_apps
            .apps
            .values()
            .filter_map(|a| {
                Some((
                    &a.config.source,
                    a.config.path.as_str(),
                    a.rendering.as_deref()?,
                ))
            })
            .collect();
        engine_apps.renders.retain(|key, render| {
            matches!(render, Render::Running { .. })
                || wanted.contains(&(&key.source, key.path.as_str(), key.revision.as_str()))
        });
    }

    pub(super) fn on_engine_rendered(
        &mut self,
        key: RenderKey,
        result: Result<Arc<Checked>, String>,
    ) {
        let Some(Render::Running { waiting }) = self.engine_apps.renders.remove(&key) else {
            return;
        };
        // A failure is not kept: the next poll may bring what was missing.
        if let Ok(checked) = &result {
            self.engine_apps
                .renders
                .insert(key.clone(), Render::Done(checked.clone()));
        }
        for app in waiting {
            self.deliver(&app, &key.revision, result.clone());
        }
    }

    /// Hands the app's render to its context, unless the app moved on.
    fn deliver(&mut self, app: &str, revision: &str, result: Result<Arc<Checked>, String>) {
        let Some(followed) = self.engine_apps.apps.get_mut(app) else {
            return;
        };
        if followed.rendering.as_deref() != Some(revision) {
            return; // another revision is being rendered
        }
        followed.failed = result.is_err();
        let message = match result {
            Ok(checked) => ToContext::Desired {
                app: app.to_string(),
                revision: revision.to_string(),
                checked,
                pinned: None,
                signature: None,
            },
            Err(cause) => ToContext::DesiredFailed {
                app: app.to_string(),
                cause: format!(
                    "cannot render the source {} at {}: {cause}",
                    followed.config.source,
                    short_revision(revision)
                ),
            },
        };
        if let Some(context) = self.contexts.get(&followed.config.context) {
            context.send(message);
        }
    }

    /// Tells the app's context that its source cannot be read, and why.
    fn engine_source_failed(&self, app: &str, cause: &str) {
        let Some(followed) = self.engine_apps.apps.get(app) else {
            return;
        };
        let source = followed.config.source.to_string();
        // Most causes begin with the repository already.
        let cause = cause
            .strip_prefix(source.as_str())
            .and_then(|rest| rest.strip_prefix(": "))
            .unwrap_or(cause);
        if let Some(context) = self.contexts.get(&followed.config.context) {
            context.send(ToContext::DesiredFailed {
                app: app.to_string(),
                cause: format!("cannot read the source {source}: {cause}"),
            });
        }
    }
}
