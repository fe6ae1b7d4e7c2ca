//! Engine apps' sources, followed for driftdeck's own comparison: a
//! context found an Argo CD or Flux app whose repository driftdeck can
//! read and asks for it as a native app's config. Its repository is polled
//! by the one poller of that repository (native apps' included, a branch
//! added to it when needed), and the app is rendered at the engine's
//! revision — the head only while the engine names none — then handed to
//! the context as any desired state is. Decided here as values
//! (`SourceEffect`s), run by the sources task.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::effects::{Branch, RenderKey, SourceEffect};
use crate::config::AppConfig;
use crate::engine::context::{FromContext, ToContext};
use crate::manifests::Checked;
use crate::resource::short_revision;
use crate::source::{SourceEvent, SourceLocation};

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
    /// `tracked`: the branches the native apps' pollers follow.
    pub(super) fn new(tracked: HashMap<SourceLocation, Vec<Option<String>>>) -> EngineApps {
        EngineApps {
            apps: HashMap::new(),
            renders: HashMap::new(),
            tracked,
            heads: HashMap::new(),
            errors: HashMap::new(),
        }
    }

    /// The repository of the engine app, if driftdeck reads it.
    pub(super) fn source_of(&self, app: &str) -> Option<&SourceLocation> {
        self.apps.get(app).map(|followed| &followed.config.source)
    }

    /// Makes the repository's poller follow `branch`: a new poller, or one
    /// more branch for the existing one. None when it followed it already.
    fn follow_branch(&mut self, (source, name): &Branch) -> Option<SourceEffect> {
        let tracked = self.tracked.entry(source.clone()).or_default();
        if tracked.contains(name) {
            return None;
        }
        tracked.push(name.clone());
        Some(SourceEffect::Follow {
            source: source.clone(),
            branches: tracked.clone(),
        })
    }

    /// A context asks to follow an engine app's source, or no more.
    pub(super) fn on_context_request(&mut self, asked: FromContext) -> Vec<SourceEffect> {
        let (config, revision, release) = match asked {
            FromContext::ForgetSource { app } => {
                self.apps.remove(&app);
                return Vec::new();
            }
            FromContext::FollowSource {
                app,
                revision,
                release,
            } => (*app, revision, release),
        };
        let name = config.name.clone();
        let branch: Branch = (config.source.clone(), config.branch.clone());
        let moved = match self.apps.get_mut(&name) {
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
                self.apps.insert(name.clone(), followed);
                false
            }
        };
        let mut effects: Vec<SourceEffect> = self.follow_branch(&branch).into_iter().collect();
        // The engine went to another revision: it may be newer than the
        // clone, so the repository is asked (cheaply) at once.
        if moved && effects.is_empty() {
            effects.push(SourceEffect::PollNow(branch.0.clone()));
        }
        if let Some(head) = self.heads.get(&branch).cloned() {
            effects.extend(self.render(&name, &head));
        } else if let Some(cause) = self.errors.get(&branch.0) {
            effects.extend(self.source_failed(&name, cause));
        }
        effects
    }

    /// A poller's news, for the engine apps that read its repository.
    pub(super) fn on_source_event(&mut self, event: &SourceEvent) -> Vec<SourceEffect> {
        let on = |source: &SourceLocation, apps: &HashMap<String, EngineApp>| -> Vec<String> {
            apps.iter()
                .filter(|(_, a)| a.config.source == *source)
                .map(|(name, _)| name.clone())
                .collect()
        };
        let mut effects = Vec::new();
        match event {
            SourceEvent::Head {
                source,
                tracked,
                commit,
                ..
            } => {
                let head = commit.to_string();
                self.heads
                    .insert((source.clone(), tracked.clone()), head.clone());
                self.errors.remove(source);
                for app in on(source, &self.apps) {
                    if self.apps[&app].config.branch == *tracked {
                        effects.extend(self.render(&app, &head));
                    }
                }
            }
            SourceEvent::Error {
                source,
                missing,
                cause,
                ..
            } => {
                match missing {
                    None => {
                        self.errors.insert(source.clone(), cause.clone());
                    }
                    Some(branch) => {
                        self.heads.remove(&(source.clone(), branch.clone()));
                    }
                }
                for app in on(source, &self.apps) {
                    let followed = &self.apps[&app];
                    let concerned = missing
                        .as_ref()
                        .is_none_or(|b| *b == followed.config.branch);
                    // A failed poll after a render leaves that render standing.
                    if concerned && (missing.is_some() || followed.rendering.is_none()) {
                        effects.extend(self.source_failed(&app, cause));
                    }
                }
            }
            SourceEvent::NextPoll {
                source,
                in_backoff: false,
                ..
            } => {
                self.errors.remove(source);
            }
            SourceEvent::NextPoll { .. } => {}
        }
        effects
    }

    /// Renders the engine app at its engine's revision (`head` while the
    /// engine names none), unless that is done or under way; apps alike
    /// share one render.
    fn render(&mut self, app: &str, head: &str) -> Option<SourceEffect> {
        let followed = self.apps.get_mut(app)?;
        let target = followed
            .revision
            .clone()
            .unwrap_or_else(|| head.to_string());
        if followed.rendering.as_deref() == Some(target.as_str()) && !followed.failed {
            return None;
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
        match self.renders.get_mut(&key) {
            Some(Render::Done(checked)) => {
                let checked = checked.clone();
                return self.deliver(app, &key.revision, Ok(checked));
            }
            Some(Render::Running { waiting }) => {
                waiting.push(app.to_string());
                return None;
            }
            None => {}
        }
        self.forget_unwanted_renders();
        let waiting = vec![app.to_string()];
        self.renders
            .insert(key.clone(), Render::Running { waiting });
        Some(SourceEffect::RenderEngineApp {
            key: Box::new(key),
            config: Box::new(config),
            release,
        })
    }

    /// Drops the finished renders no app compares with any more.
    fn forget_unwanted_renders(&mut self) {
        let wanted: HashSet<(&SourceLocation, &str, &str)> = self
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
        self.renders.retain(|key, render| {
            matches!(render, Render::Running { .. })
                || wanted.contains(&(&key.source, key.path.as_str(), key.revision.as_str()))
        });
    }

    /// A render finished: handed to every app that waited for it.
    pub(super) fn on_rendered(
        &mut self,
        key: RenderKey,
        result: Result<Arc<Checked>, String>,
    ) -> Vec<SourceEffect> {
        let Some(Render::Running { waiting }) = self.renders.remove(&key) else {
            return Vec::new();
        };
        // A failure is not kept: the next poll may bring what was missing.
        if let Ok(checked) = &result {
            self.renders
                .insert(key.clone(), Render::Done(checked.clone()));
        }
        waiting
            .iter()
            .filter_map(|app| self.deliver(app, &key.revision, result.clone()))
            .collect()
    }

    /// Hands the app's render to its context, unless the app moved on.
    fn deliver(
        &mut self,
        app: &str,
        revision: &str,
        result: Result<Arc<Checked>, String>,
    ) -> Option<SourceEffect> {
        let followed = self.apps.get_mut(app)?;
        if followed.rendering.as_deref() != Some(revision) {
            return None; // another revision is being rendered
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
        Some(SourceEffect::ToContext {
            context: followed.config.context.clone(),
            message,
        })
    }

    /// Tells the app's context that its source cannot be read, and why.
    fn source_failed(&self, app: &str, cause: &str) -> Option<SourceEffect> {
        let followed = self.apps.get(app)?;
        let source = followed.config.source.to_string();
        // Most causes begin with the repository already.
        let cause = cause
            .strip_prefix(source.as_str())
            .and_then(|rest| rest.strip_prefix(": "))
            .unwrap_or(cause);
        Some(SourceEffect::ToContext {
            context: followed.config.context.clone(),
            message: ToContext::DesiredFailed {
                app: app.to_string(),
                cause: format!("cannot read the source {source}: {cause}"),
            },
        })
    }
}
