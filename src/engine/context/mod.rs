//! The task of one cluster context: a watched cache of the live objects of
//! every app in the context, compared with their desired states whenever
//! either changes. Reports are sent only when they changed.

mod auto;
mod controllers;
mod engine_sources;
mod inventory;
mod messages;
mod settle_loop;
mod slot;
mod sync;

pub(super) use messages::{FromContext, ToContext};
pub(super) use sync::At;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use self::settle_loop::{Action, SettleLoop, StoreFacts, Taken};
use self::slot::Slot;
use super::assess::assess;
use super::exact::ExactCache;
use super::{EngineEvent, EngineOptions, SyncRefused};
use crate::cluster::{
    ClusterClient, KeepManagers, KindCatalog, LiveCache, LiveStore, PodQuery, ServedKind,
    probe_pods,
};
use crate::config::{DriftConfig, Paths};
use crate::drift::ManualManagers;
use crate::report::AppReport;
use crate::resource::{FIELD_MANAGER, ResourceKey};
use crate::sync::{AuditLog, Operator};

/// Waits between attempts to reach a cluster that could not be reached.
const RECONNECT_FIRST: Duration = Duration::from_secs(2);
const RECONNECT_LAST: Duration = Duration::from_secs(60);

pub(super) struct ContextTask {
    sender: mpsc::UnboundedSender<ToContext>,
    requests: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl ContextTask {
    pub(super) fn spawn(
        options: &EngineOptions,
        paths: &Paths,
        context: Option<String>,
        native_apps: bool,
        events: mpsc::UnboundedSender<EngineEvent>,
        to_sources: mpsc::UnboundedSender<FromContext>,
        requests_made: Arc<tokio::sync::Notify>,
    ) -> ContextTask {
        let (sender, inbox) = mpsc::unbounded_channel();
        let requests = Arc::new(AtomicU64::new(0));
        let controllers =
            controllers::Controllers::new(options.engines.clone(), context.clone(), events.clone());
        let task = tokio::spawn(
            Context {
                controllers,
                to_sources,
                engine_sources: Default::default(),
                read_sources: options.engines.read_sources,
                source_mapping: options.engines.sources.clone(),
                native_apps,
                kubeconfig: options.kubeconfig.clone(),
                follow: !options.one_shot,
                exact: options.exact,
                exact_cache: ExactCache::default(),
                manual: ManualManagers::of(&options.drift),
                drift: options.drift.clone(),
                auto_sync: options.auto_sync,
                readonly: options.readonly,
                audit: AuditLog::in_data_dir(paths),
                operator: Operator::current(options.kubeconfig.as_deref(), context.as_deref()),
                name: context,
                apps: BTreeMap::new(),
                events,
                requests: requests.clone(),
                requests_made,
                probes: mpsc::unbounded_channel(),
            }
            .run(inbox),
        );
        ContextTask {
            sender,
            requests,
            task,
        }
    }

    pub(super) fn send(&self, message: ToContext) {
        let _ = self.sender.send(message);
    }

    /// Requests made to this context's API server so far.
    pub(super) fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

impl Drop for ContextTask {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Context {
    kubeconfig: Option<std::path::PathBuf>,
    /// False for a one-shot look: no watch after the first lists.
    follow: bool,
    exact: bool,
    exact_cache: ExactCache,
    /// Derived from `drift`, once.
    manual: ManualManagers,
    drift: DriftConfig,
    /// Whether apps with `auto_sync` are synced by this engine.
    auto_sync: bool,
    readonly: bool,
    audit: AuditLog,
    operator: Operator,
    name: Option<String>,
    apps: BTreeMap<String, Slot>,
    /// The engine apps (Argo CD, Flux) found in the context.
    controllers: controllers::Controllers,
    /// False for a context read for its engine apps alone: no label watch.
    native_apps: bool,
    /// Asks the main task to follow engine apps' sources.
    to_sources: mpsc::UnboundedSender<FromContext>,
    engine_sources: engine_sources::EngineSources,
    /// `[engines] read_sources` and `[engines.sources]`.
    read_sources: bool,
    source_mapping: BTreeMap<String, String>,
    events: mpsc::UnboundedSender<EngineEvent>,
    requests: Arc<AtomicU64>,
    /// Rung when `requests` changed.
    requests_made: Arc<tokio::sync::Notify>,
    /// Answers of pod probes, per app.
    probes: (
        mpsc::UnboundedSender<PodAnswers>,
        mpsc::UnboundedReceiver<PodAnswers>,
    ),
}

/// Whether pods match each of an app's Service selectors.
type PodAnswers = (String, BTreeMap<PodQuery, bool>);

impl Context {
    async fn run(mut self, mut inbox: mpsc::UnboundedReceiver<ToContext>) {
        let (client, mut catalog) = match self.connect(&mut inbox).await {
            Some(connected) => connected,
            None => return,
        };
        let (updates, mut live) = mpsc::unbounded_channel();
        // The engines' kinds are watched whole (labelled objects included).
        let kinds: Vec<&ServedKind> = catalog
            .watchable()
            .into_iter()
            .filter(|k| self.native_apps && !self.controllers.watches_whole(k))
            .collect();
        let mut store = LiveStore::default();
        let manual = self.manual.clone();
        let keep: KeepManagers =
            Arc::new(move |manager: &str| manager == FIELD_MANAGER || manual.contains(manager));
        let mut cache = LiveCache::start(
            client.clone(),
            &kinds,
            updates,
            self.follow,
            keep,
            &mut store,
        );
        self.controllers.start(&catalog, &mut cache, &mut store);
        for app in self.apps.keys().cloned().collect::<Vec<_>>() {
            self.probe(&app, &client, &catalog);
        }
        let mut settle = SettleLoop::new(self.apps.keys().cloned(), Instant::now());
        loop {
            let wake = settle.wake_at(store.is_settled(), Instant::now());
            tokio::select! {
                message = inbox.recv() => {
                    let Some(message) = message else { return };
                    let Some(message) = self.act(message, &store, &client, &catalog) else {
                        continue;
                    };
                    let desired = matches!(message, ToContext::Desired { .. });
                    let exact_switch = matches!(message, ToContext::Exact(_));
                    let taken = match self.take(message) {
                        Some(app) => {
                            if desired {
                                self.probe(&app, &client, &catalog);
                            }
                            Taken::App { app, desired }
                        }
                        None if exact_switch => Taken::ExactSwitched,
                        None => Taken::Nothing,
                    };
                    settle.taken(taken, self.apps.keys().cloned(), Instant::now());
                }
                Some(update) = live.recv() => {
                    let now = Instant::now();
                    let epoch = store.watch_epoch();
                    let changed = store.apply(update);
                    let touched = self.controllers.on_change(&changed, &store, &self.audit);
                    if self.follow_engine_sources(&touched, &store) {
                        settle.retrack(now);
                    }
                    settle.compare(touched, now);
                    if self.take_inventories(&changed, &store) {
                        settle.retrack(now);
                    }
                    if store.watch_epoch() != epoch {
                        let every_app = self.apps.keys().cloned().chain(self.controllers.names());
                        settle.watches_changed(every_app, now);
                    } else {
                        settle.compare(self.apps_touched(&changed, &store), now);
                    }
                }
                Some(written) = self.controllers.next_written() => {
                    self.controllers.on_written(written, &store, &self.audit);
                }
                Some((app, found)) = self.probes.1.recv() => {
                    if let Some(slot) = self.apps.get_mut(&app) {
                        slot.pods_found = found;
                        slot.probing = false;
                        settle.compare([app], Instant::now());
                    }
                }
                _ = tokio::time::sleep_until(wake.unwrap_or_else(Instant::now)), if wake.is_some() => {
                    let facts = StoreFacts {
                        settled: store.is_settled(),
                        labels_known: store.labels_known(),
                    };
                    for action in settle.fired(facts, Instant::now()) {
                        match action {
                            Action::Track => {
                                self.track(&mut cache, &mut store, &client, &mut catalog).await;
                            }
                            Action::Report { apps, settled, prime_passed } => {
                                self.controllers.announce(&store, prime_passed);
                                for app in apps {
                                    self.report(&app, &store, &catalog, &client, settled).await;
                                }
                                if settled {
                                    crate::memory::release_free_heap();
                                }
                            }
                            Action::RunAuto => {
                                settle.auto_due(self.run_auto(&store, &client, &catalog));
                            }
                        }
                    }
                }
            }
            let total = client.requests().total();
            if self.requests.swap(total, Ordering::Relaxed) != total {
                self.requests_made.notify_one();
            }
        }
    }

    /// Connects and discovers, retrying with growing waits; apps are told
    /// they are Unknown meanwhile. `None` when the engine stopped.
    async fn connect(
        &mut self,
        inbox: &mut mpsc::UnboundedReceiver<ToContext>,
    ) -> Option<(ClusterClient, KindCatalog)> {
        let mut wait = RECONNECT_FIRST;
        loop {
            let attempt = async {
                let client =
                    ClusterClient::connect(self.kubeconfig.as_deref(), self.name.as_deref())
                        .await
                        .map_err(|e| e.to_string())?;
                let catalog = KindCatalog::discover(&client)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok::<_, String>((client, catalog))
            };
            let cause = match attempt.await {
                Ok(connected) => return Some(connected),
                Err(cause) => cause,
            };
            tracing::info!(context = ?self.name, %cause, "cannot reach the cluster");
            // Which engine apps it has cannot be known: none, for a look
            // waiting to hear it (the context has found none yet anyway).
            if wait == RECONNECT_FIRST {
                let _ = self.events.send(EngineEvent::ControllerApps {
                    context: self.name.clone(),
                    apps: Vec::new(),
                    unreadable: Vec::new(),
                });
            }
            let retry = Instant::now() + wait;
            loop {
                for app in self.apps.keys().cloned().collect::<Vec<_>>() {
                    self.report_unreachable(&app, &cause);
                }
                tokio::select! {
                    message = inbox.recv() => {
                        let message = message?;
                        self.take_offline(message);
                    }
                    _ = tokio::time::sleep_until(retry) => break,
                }
            }
            wait = (wait * 2).min(RECONNECT_LAST);
        }
    }

    /// Takes in a message while the cluster cannot be reached.
    fn take_offline(&mut self, message: ToContext) {
        match message {
            ToContext::Follow { app } => {
                self.apps.insert(app.name.clone(), Slot::new(*app));
            }
            ToContext::Desired {
                app,
                revision,
                checked,
                pinned,
                signature,
            } => {
                if let Some(slot) = self.apps.get_mut(&app) {
                    slot.desired = Some((revision, checked));
                    slot.pinned = pinned;
                    slot.signature = signature;
                    slot.failure = None;
                    slot.set_wanted();
                }
            }
            ToContext::DesiredFailed { app, cause } => {
                if let Some(slot) = self.apps.get_mut(&app) {
                    slot.failure = Some(cause);
                }
            }
            ToContext::Generation { app, generation } => {
                if let Some(slot) = self.apps.get_mut(&app) {
                    slot.generation = generation;
                    slot.last = None;
                }
                self.controllers.set_generation(&app, generation);
            }
            ToContext::Exact(exact) => self.exact = exact,
            ToContext::Plan { app, .. } => {
                let _ = self.events.send(EngineEvent::Planned {
                    app,
                    plan: Err("the cluster cannot be reached yet".to_string()),
                });
            }
            ToContext::Sync { app, .. } => {
                let _ = self.events.send(EngineEvent::SyncEnded {
                    app,
                    outcome: Err(SyncRefused {
                        message: "the cluster cannot be reached yet".to_string(),
                        could_not_run: true,
                    }),
                });
            }
            // Only a context that is connected has engine apps.
            ToContext::CancelSync { .. } | ToContext::ControllerAction { .. } => {}
        }
    }

    /// Takes in a message while connected; gives the app to compare again
    /// (none for a message about every app).
    fn take(&mut self, message: ToContext) -> Option<String> {
        let app = match &message {
            ToContext::Follow { app } => Some(app.name.clone()),
            ToContext::Desired { app, .. }
            | ToContext::DesiredFailed { app, .. }
            | ToContext::Generation { app, .. } => Some(app.clone()),
            ToContext::Exact(_)
            | ToContext::Plan { .. }
            | ToContext::Sync { .. }
            | ToContext::CancelSync { .. }
            | ToContext::ControllerAction { .. } => None,
        };
        self.take_offline(message);
        app.filter(|app| self.apps.contains_key(app) || self.controllers.has(app))
    }

    /// Asks whether pods match the app's Service selectors that Git leaves
    /// unresolved; the answer comes back as a message.
    fn probe(&mut self, app: &str, client: &ClusterClient, catalog: &KindCatalog) {
        let Some(slot) = self.apps.get_mut(app) else {
            return;
        };
        if slot.pod_queries.is_empty() {
            return;
        }
        slot.probing = true;
        let (client, catalog, queries, probes, name) = (
            client.clone(),
            catalog.clone(),
            slot.pod_queries.clone(),
            self.probes.0.clone(),
            app.to_string(),
        );
        tokio::spawn(async move {
            let found = probe_pods(&client, &catalog, &queries).await;
            let _ = probes.send((name, found));
        });
    }

    /// Compares one app and sends the report if it changed. `settled`:
    /// every watch has given its first answer, so the verdict is not one
    /// of a cache still filling.
    async fn report(
        &mut self,
        app: &str,
        store: &LiveStore,
        catalog: &KindCatalog,
        client: &ClusterClient,
        settled: bool,
    ) {
        let compared = self.compare(app, store, catalog, client).await;
        if self.controllers.has(app) {
            let (own, own_settled) = self.own_verdict(app, compared);
            self.controllers
                .report(app, store, settled && own_settled, own);
            return;
        }
        let Some(slot) = self.apps.get_mut(app) else {
            return;
        };
        let settled = settled && !slot.probing;
        let report = match (compared, &slot.failure) {
            (_, Some(cause)) => AppReport::unknown(
                app,
                slot.desired.as_ref().map(|(r, _)| r.clone()),
                cause.clone(),
            ),
            (Some(report), None) => report,
            (None, None) => return,
        };
        slot.send_if_changed(report, settled, &self.events);
    }

    /// The app's desired state compared with live, when it has one that
    /// could be read.
    async fn compare(
        &mut self,
        app: &str,
        store: &LiveStore,
        catalog: &KindCatalog,
        client: &ClusterClient,
    ) -> Option<AppReport> {
        let exact = self.exact;
        let slot = self.apps.get_mut(app)?;
        let (revision, checked) = match (&slot.desired, &slot.failure) {
            (Some(desired), None) => desired,
            _ => return None,
        };
        let mut view = store.app_view(app, &slot.wanted);
        view.unserved = slot
            .wanted
            .iter()
            .filter(|w| {
                let served = catalog.lookup(&w.key.group, w.version.as_deref(), &w.key.kind);
                served.is_none()
            })
            .map(|w| w.key.clone())
            .collect();
        view.pods_found = slot.pods_found.clone();
        slot.seen = view.objects.keys().cloned().collect();
        let mut report = assess(&slot.config, revision, checked, &view, &self.manual);
        if exact {
            self.exact_cache
                .apply(
                    &mut report,
                    &slot.config,
                    revision,
                    checked,
                    &view,
                    client,
                    catalog,
                    &self.manual,
                )
                .await;
        }
        Some(report)
    }

    /// The apps a change to these objects concerns: those that want them,
    /// saw them last time, or whose label they now carry.
    fn apps_touched(&self, changed: &[ResourceKey], store: &LiveStore) -> Vec<String> {
        self.apps
            .iter()
            .filter(|(name, slot)| {
                changed.iter().any(|key| {
                    slot.seen.contains(key)
                        || slot.wanted_keys.contains(key)
                        || store.app_of(key) == Some(name.as_str())
                })
            })
            .map(|(name, _)| name.clone())
            .collect()
    }

    fn report_unreachable(&mut self, app: &str, cause: &str) {
        let Some(slot) = self.apps.get_mut(app) else {
            return;
        };
        let report = match &slot.failure {
            // Git could not be read either: that comes first.
            Some(failure) => AppReport::unknown(app, None, failure.clone()),
            None => AppReport::unknown(app, slot.desired.as_ref().map(|(r, _)| r.clone()), cause),
        };
        // What can be known is known: the cluster's answer is that it
        // cannot be reached.
        slot.send_if_changed(report, true, &self.events);
    }

    /// Watches the wanted objects that carry no label: one watch per kind
    /// and namespace for all of them, in every app of the context.
    async fn track(
        &self,
        cache: &mut LiveCache,
        store: &mut LiveStore,
        client: &ClusterClient,
        catalog: &mut KindCatalog,
    ) {
        let mut needed: Vec<(ServedKind, ResourceKey)> = Vec::new();
        let mut interest = HashSet::new();
        for slot in self.apps.values() {
            for wanted in &slot.wanted {
                if !interest.insert(wanted.key.clone()) {
                    continue;
                }
                let labelled = store.app_of(&wanted.key).is_some();
                if labelled {
                    continue;
                }
                let group = &wanted.key.group;
                if let Ok(Some(kind)) = catalog
                    .resolve(client, group, wanted.version.as_deref(), &wanted.key.kind)
                    .await
                {
                    needed.push((kind, wanted.key.clone()));
                }
            }
        }
        store.set_interest(interest);
        cache.track(&needed, store);
    }
}
