//! The engine's main task: one poller per repository, each app rendered at
//! its branch's head when it moves, its history walked, and the result
//! handed to the task of the app's cluster context.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::context::{ContextTask, ToContext};
use super::{EngineCommand, EngineEvent, EngineOptions, Generation, HISTORY_LIMIT, SourceStatus};
use crate::config::{AppConfig, Paths};
use crate::manifests::{AppSettings, Checked};
use crate::reconcile::desired::desired_at;
use crate::source::{
    HistoryQuery, NetworkLimits, PollPacing, PollerConfig, PollerHandle, SourceEvent,
    SourceLocation, spawn_poller, walk_history,
};

/// One app, as the main task follows it.
struct Followed {
    config: AppConfig,
    source: Option<SourceLocation>,
    context: Option<String>,
    /// The revision last rendered (or being rendered).
    revision: Option<String>,
    generation: Generation,
    status: SourceStatus,
}

/// A finished render.
struct Rendered {
    app: usize,
    revision: String,
    result: Result<Checked, String>,
}

pub(super) async fn run(
    apps: Vec<AppConfig>,
    paths: Paths,
    options: EngineOptions,
    events: mpsc::UnboundedSender<EngineEvent>,
    mut commands: mpsc::UnboundedReceiver<EngineCommand>,
) {
    let mut followed: Vec<Followed> = apps
        .into_iter()
        .map(|config| Followed {
            source: SourceLocation::parse(&config.repo).ok(),
            context: options.context.clone().or_else(|| config.context.clone()),
            revision: None,
            generation: 0,
            status: SourceStatus {
                next_poll: None,
                in_backoff: false,
                error: None,
            },
            config,
        })
        .collect();

    // One task per cluster context, for all of its apps. They ring when
    // they made requests, so counts are sent without a timer.
    let requests_made = Arc::new(tokio::sync::Notify::new());
    let mut contexts: BTreeMap<Option<String>, ContextTask> = BTreeMap::new();
    for app in &followed {
        contexts
            .entry(app.context.clone())
            .or_insert_with(|| {
                ContextTask::spawn(
                    options.kubeconfig.clone(),
                    app.context.clone(),
                    events.clone(),
                    requests_made.clone(),
                )
            })
            .send(ToContext::Follow {
                app: app.config.clone(),
            });
    }

    // One poller per repository, for all the branches its apps track.
    let (source_events, mut source_rx) = mpsc::channel(64);
    let mut pollers: HashMap<SourceLocation, PollerHandle> = HashMap::new();
    let mut by_source: HashMap<SourceLocation, Vec<usize>> = HashMap::new();
    for (index, app) in followed.iter().enumerate() {
        match &app.source {
            Some(source) => by_source.entry(source.clone()).or_default().push(index),
            None => {
                let cause = SourceLocation::parse(&app.config.repo)
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_default();
                if let Some(context) = contexts.get(&app.context) {
                    context.send(ToContext::DesiredFailed {
                        app: app.config.name.clone(),
                        cause,
                    });
                }
            }
        }
    }
    for (source, indexes) in &by_source {
        let mut tracked: Vec<Option<String>> = indexes
            .iter()
            .map(|&i| followed[i].config.branch.clone())
            .collect();
        tracked.sort();
        tracked.dedup();
        let interval = indexes
            .iter()
            .map(|&i| followed[i].config.poll.0)
            .min()
            .unwrap_or(crate::config::DEFAULT_POLL.0);
        let config = PollerConfig {
            pacing: PollPacing::every(interval),
            limits: NetworkLimits::default(),
            cache_dir: paths.cache_dir.clone(),
        };
        let handle = spawn_poller(source.clone(), tracked, config, source_events.clone());
        pollers.insert(source.clone(), handle);
    }
    drop(source_events);

    let (rendered_tx, mut rendered_rx) = mpsc::unbounded_channel::<Rendered>();
    let mut last_counts = None;

    loop {
        tokio::select! {
            Some(event) = source_rx.recv() => {
                on_source_event(event, &mut followed, &by_source, &paths, &rendered_tx, &events);
                report_counts(&pollers, &contexts, &mut last_counts, &events);
            }
            Some(rendered) = rendered_rx.recv() => {
                let app = &followed[rendered.app];
                if app.revision.as_deref() != Some(rendered.revision.as_str()) {
                    continue; // a newer revision is being rendered
                }
                if let Some(context) = contexts.get(&app.context) {
                    let name = app.config.name.clone();
                    let message = match rendered.result {
                        Ok(checked) => ToContext::Desired { app: name, revision: rendered.revision, checked: Arc::new(checked) },
                        Err(cause) => ToContext::DesiredFailed { app: name, cause },
                    };
                    context.send(message);
                }
            }
            command = commands.recv() => {
                let Some(EngineCommand::Refresh { app, generation }) = command else { return };
                if let Some(index) = followed.iter().position(|f| f.config.name == app) {
                    followed[index].generation = generation;
                    if let Some(poller) = followed[index].source.as_ref().and_then(|s| pollers.get(s)) {
                        poller.refresh();
                    }
                    if let Some(context) = contexts.get(&followed[index].context) {
                        context.send(ToContext::Generation { app, generation });
                    }
                }
            }
            _ = requests_made.notified() => {
                report_counts(&pollers, &contexts, &mut last_counts, &events);
            }
        }
    }
}

/// Sends the request counts when they changed since the last time.
fn report_counts(
    pollers: &HashMap<SourceLocation, PollerHandle>,
    contexts: &BTreeMap<Option<String>, ContextTask>,
    last: &mut Option<(u64, u64)>,
    events: &mpsc::UnboundedSender<EngineEvent>,
) {
    let git: u64 = pollers.values().map(PollerHandle::requests).sum();
    let cluster: u64 = contexts.values().map(ContextTask::requests).sum();
    if *last != Some((git, cluster)) {
        *last = Some((git, cluster));
        let _ = events.send(EngineEvent::Requests { git, cluster });
    }
}

fn on_source_event(
    event: SourceEvent,
    followed: &mut [Followed],
    by_source: &HashMap<SourceLocation, Vec<usize>>,
    paths: &Paths,
    rendered: &mpsc::UnboundedSender<Rendered>,
    events: &mpsc::UnboundedSender<EngineEvent>,
) {
    let source = match &event {
        SourceEvent::Head { source, .. }
        | SourceEvent::Error { source, .. }
        | SourceEvent::NextPoll { source, .. } => source.clone(),
    };
    for &index in by_source.get(&source).into_iter().flatten() {
        let app = &mut followed[index];
        match &event {
            SourceEvent::Head {
                tracked, commit, ..
            } if *tracked == app.config.branch => {
                app.status.error = None;
                let revision = commit.to_string();
                if app.revision.as_deref() == Some(revision.as_str()) {
                    continue;
                }
                app.revision = Some(revision.clone());
                render(index, &app.config, &source, &revision, paths, rendered);
                walk(
                    &app.config.name,
                    app.generation,
                    &source,
                    &revision,
                    paths,
                    events,
                );
            }
            SourceEvent::Head { .. } => continue,
            SourceEvent::Error {
                cause, retry_at, ..
            } => {
                app.status.error = Some(cause.clone());
                app.status.next_poll = Some(*retry_at);
                app.status.in_backoff = true;
            }
            SourceEvent::NextPoll { at, in_backoff, .. } => {
                app.status.next_poll = Some(*at);
                app.status.in_backoff = *in_backoff;
                // A poll that succeeded after errors: the branch need not
                // have moved for the error to be over.
                if !*in_backoff {
                    app.status.error = None;
                }
            }
        }
        let _ = events.send(EngineEvent::Source {
            app: app.config.name.clone(),
            source: app.status.clone(),
        });
    }
}

/// Renders an app at a revision on the blocking pool.
fn render(
    index: usize,
    app: &AppConfig,
    source: &SourceLocation,
    revision: &str,
    paths: &Paths,
    rendered: &mpsc::UnboundedSender<Rendered>,
) {
    let (repo_dir, app, revision, rendered) = (
        source.git_dir(&paths.cache_dir),
        app.clone(),
        revision.to_string(),
        rendered.clone(),
    );
    tokio::task::spawn_blocking(move || {
        let settings = AppSettings {
            name: &app.name,
            namespace: &app.namespace,
            values: &app.values,
        };
        let result = desired_at(
            &repo_dir,
            &revision,
            &app.path,
            Path::new(&app.path),
            &settings,
        )
        .map_err(|e| e.to_string());
        let _ = rendered.send(Rendered {
            app: index,
            revision,
            result,
        });
    });
}

/// Walks the branch history on the blocking pool and reports it.
fn walk(
    app: &str,
    generation: Generation,
    source: &SourceLocation,
    revision: &str,
    paths: &Paths,
    events: &mpsc::UnboundedSender<EngineEvent>,
) {
    let (repo_dir, app, events) = (
        source.git_dir(&paths.cache_dir),
        app.to_string(),
        events.clone(),
    );
    let query = HistoryQuery {
        rev: revision.to_string(),
        path: None,
        limit: Some(HISTORY_LIMIT),
    };
    tokio::task::spawn_blocking(move || {
        let mut commits = Vec::new();
        let walked = walk_history(&repo_dir, &query, |batch| {
            commits.extend(batch);
            std::ops::ControlFlow::Continue(())
        });
        if let Err(err) = walked {
            tracing::warn!(app, error = %err, "cannot walk the history");
            return;
        }
        let _ = events.send(EngineEvent::Commits {
            app,
            generation,
            commits: Arc::new(commits),
        });
    });
}
