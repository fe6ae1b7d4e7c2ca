//! The engine apps of one context (Argo CD Applications, Flux
//! Kustomizations and HelmReleases): one watch per served kind across the
//! cluster, whatever the number of apps; each object an app, reported as
//! its status says; the actions asked of them written to their objects and
//! followed on the same watch. Kinds the server does not serve cost nothing:
//! discovery already said so.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::cluster::{
    ClusterClient, KindCatalog, LEASE_DURATION, LeaseRequest, LiveCache, LiveStore, ServedKind,
    SyncLease, WatchId, merge_patch,
};
use crate::config::EnginesConfig;
use crate::engine::{EngineEvent, Generation};
use crate::engines::{
    ActionKind, ActionProgress, ActionRequest, ControllerApp, ControllerKind, EngineSource,
    engine_source, follow_action, request_action,
};
use crate::report::{AppReport, OwnVerdict, controller_report, with_own_verdict};
use crate::resource::ResourceKey;
use crate::sync::{AuditLog, AuditRecord, Operator, SyncCompleted, SyncStarted, SyncStatus};

/// Flux's Git source kind (group, kind).
const GIT_REPOSITORY: (&str, &str) = ("source.toolkit.fluxcd.io", "GitRepository");

/// What the task writing an action's patches sends back.
pub(super) struct Written {
    app: String,
    result: Result<(Option<Value>, SyncLease), String>,
}

pub(super) struct Controllers {
    config: EnginesConfig,
    context: Option<String>,
    events: mpsc::UnboundedSender<EngineEvent>,
    /// The watch of each served kind.
    watches: Vec<WatchId>,
    apps: BTreeMap<String, Followed>,
    by_key: HashMap<ResourceKey, String>,
    /// The apps whose inventory lists an object: its changes change their health.
    by_inventory: HashMap<ResourceKey, BTreeSet<String>>,
    /// The names and the unreadable kinds last announced
    /// (`EngineEvent::ControllerApps`).
    announced: Option<(Vec<String>, Vec<String>)>,
    written: (
        mpsc::UnboundedSender<Written>,
        mpsc::UnboundedReceiver<Written>,
    ),
}

struct Followed {
    app: ControllerApp,
    generation: Generation,
    last: Option<Arc<AppReport>>,
    last_settled: bool,
    action: Option<Running>,
}

/// An action written (or being written) and not yet answered.
struct Running {
    request: ActionRequest,
    audit_id: String,
    started: Instant,
    /// The object's resourceVersion once the patches are written: older
    /// states are not the engine's answer.
    written_version: Option<String>,
    lease: Option<SyncLease>,
    last: Option<ActionProgress>,
}

impl Controllers {
    pub(super) fn new(
        config: EnginesConfig,
        context: Option<String>,
        events: mpsc::UnboundedSender<EngineEvent>,
    ) -> Controllers {
        Controllers {
            config,
            context,
            events,
            watches: Vec::new(),
            apps: BTreeMap::new(),
            by_key: HashMap::new(),
            by_inventory: HashMap::new(),
            announced: None,
            written: mpsc::unbounded_channel(),
        }
    }

    /// Watches each engine kind the server serves and the config enables.
    pub(super) fn start(
        &mut self,
        catalog: &KindCatalog,
        cache: &mut LiveCache,
        store: &mut LiveStore,
    ) {
        for kind in ControllerKind::ALL {
            if !kind.enabled(&self.config) {
                continue;
            }
            if let Some(served) = catalog.preferred(kind.group(), kind.kind())
                && served.watchable
            {
                self.watches.push(cache.watch_every(served, store));
            }
        }
        // Kustomizations name their repository in a GitRepository: read
        // for driftdeck's own comparison, one watch too.
        if self.reads_git_repositories()
            && let Some(served) = catalog.preferred(GIT_REPOSITORY.0, GIT_REPOSITORY.1)
            && served.watchable
        {
            self.watches.push(cache.watch_every(served, store));
        }
        self.announce(store, false);
    }

    fn reads_git_repositories(&self) -> bool {
        self.config.read_sources && ControllerKind::FluxKustomization.enabled(&self.config)
    }

    /// Whether `start` watches every object of this kind.
    pub(super) fn watches_whole(&self, kind: &ServedKind) -> bool {
        let (group, name) = (kind.resource.group.as_str(), kind.resource.kind.as_str());
        ControllerKind::of(group, name).is_some_and(|k| k.enabled(&self.config))
            || ((group, name) == GIT_REPOSITORY && self.reads_git_repositories())
    }

    /// Where the app's manifests come from, or why driftdeck does not
    /// render them; `None` for no such engine app.
    pub(super) fn source_of(
        &self,
        app: &str,
        store: &LiveStore,
    ) -> Option<Result<EngineSource, String>> {
        let followed = self.apps.get(app)?;
        let key = ResourceKey {
            group: followed.app.kind.group().to_string(),
            kind: followed.app.kind.kind().to_string(),
            namespace: Some(followed.app.namespace.clone()),
            name: followed.app.object_name.clone(),
        };
        let object = store.object(&key)?;
        Some(engine_source(&followed.app, &object, |k| store.object(k)))
    }

    pub(super) fn has(&self, app: &str) -> bool {
        self.apps.contains_key(app)
    }

    pub(super) fn names(&self) -> Vec<String> {
        self.apps.keys().cloned().collect()
    }

    /// Takes in changed objects; gives the engine apps to report again.
    pub(super) fn on_change(
        &mut self,
        changed: &[ResourceKey],
        store: &LiveStore,
        audit: &AuditLog,
    ) -> Vec<String> {
        let mut dirty = BTreeSet::new();
        for key in changed {
            if let Some(apps) = self.by_inventory.get(key) {
                dirty.extend(apps.iter().cloned());
            }
            if (key.group.as_str(), key.kind.as_str()) == GIT_REPOSITORY {
                // The Kustomizations that read it: their source changed.
                let named = format!(
                    "GitRepository {}/{}",
                    key.namespace.as_deref().unwrap_or_default(),
                    key.name
                );
                dirty.extend(
                    self.apps
                        .iter()
                        .filter(|(_, f)| f.app.state.source.as_deref() == Some(named.as_str()))
                        .map(|(name, _)| name.clone()),
                );
            }
            let Some(kind) = ControllerKind::of(&key.group, &key.kind) else {
                continue;
            };
            if !kind.enabled(&self.config) {
                continue;
            }
            let object = store.object(key);
            match object
                .as_ref()
                .and_then(|o| ControllerApp::of(o, &self.config))
            {
                Some(app) => {
                    let name = app.name.clone();
                    self.index(&name, &app, true);
                    self.by_key.insert(key.clone(), name.clone());
                    match self.apps.get_mut(&name) {
                        Some(followed) => followed.app = app,
                        None => {
                            self.apps.insert(
                                name.clone(),
                                Followed {
                                    app,
                                    generation: 0,
                                    last: None,
                                    last_settled: false,
                                    action: None,
                                },
                            );
                        }
                    }
                    if let Some(object) = &object {
                        self.follow_with(&name, object, audit);
                    }
                    dirty.insert(name);
                }
                None => {
                    if let Some(name) = self.by_key.remove(key)
                        && let Some(gone) = self.apps.remove(&name)
                    {
                        self.index(&name, &gone.app, false);
                    }
                }
            }
        }
        self.announce(store, false);
        dirty.into_iter().collect()
    }

    /// Adds or removes the app's inventory from the index.
    fn index(&mut self, name: &str, app: &ControllerApp, add: bool) {
        if let Some(old) = self.apps.get(name) {
            for resource in &old.app.state.resources {
                if let Some(apps) = self.by_inventory.get_mut(&resource.key) {
                    apps.remove(name);
                    if apps.is_empty() {
                        self.by_inventory.remove(&resource.key);
                    }
                }
            }
        }
        if add {
            for resource in &app.state.resources {
                self.by_inventory
                    .entry(resource.key.clone())
                    .or_default()
                    .insert(name.to_string());
            }
        }
    }

    /// Says which engine apps the context has, once every engine watch has
    /// listed, or been refused (403: no retry will list it soon), or, with
    /// `patience_spent`, at least answered (failed, or not answering yet);
    /// and again whenever the set, or the kinds it cannot list, change.
    pub(super) fn announce(&mut self, store: &LiveStore, patience_spent: bool) {
        let refused = |w: &WatchId| store.failure(w).is_some_and(|(_, c)| c.starts_with("403"));
        let known = |w: &WatchId| {
            store.has_listed(w) || refused(w) || (patience_spent && store.has_answered(w))
        };
        if !self.watches.iter().all(known) {
            return;
        }
        let context = self.context.as_deref().unwrap_or("the current context");
        let unreadable: Vec<String> = self
            .watches
            .iter()
            .filter(|w| !store.has_listed(w))
            .filter_map(|w| {
                let (_, cause) = store.failure(w)?;
                let WatchId::Every { group, kind } = w else {
                    return None;
                };
                Some(format!(
                    "cannot list {kind} ({group}) in {context}: {cause}"
                ))
            })
            .collect();
        let said = (self.names(), unreadable);
        if self.announced.as_ref() == Some(&said) {
            return;
        }
        self.announced = Some(said.clone());
        let (apps, unreadable) = said;
        let _ = self.events.send(EngineEvent::ControllerApps {
            context: self.context.clone(),
            apps,
            unreadable,
        });
    }

    /// A refresh from the UI: the next report answers `generation`.
    pub(super) fn set_generation(&mut self, app: &str, generation: Generation) {
        if let Some(followed) = self.apps.get_mut(app) {
            followed.generation = generation;
            followed.last = None;
        }
    }

    /// Reports the app if its report changed; `own` is driftdeck's own
    /// comparison of its source, when there is one to show.
    pub(super) fn report(
        &mut self,
        app: &str,
        store: &LiveStore,
        settled: bool,
        own: Option<OwnVerdict>,
    ) {
        let Some(followed) = self.apps.get_mut(app) else {
            return;
        };
        let mut report = controller_report(&followed.app, |key| store.object(key));
        if let Some(own) = own {
            report = with_own_verdict(report, own);
        }
        let watch = WatchId::Every {
            group: followed.app.kind.group().to_string(),
            kind: followed.app.kind.kind().to_string(),
        };
        if let Some((since, cause)) = store.failure(&watch) {
            report.stale_since = Some(*since);
            report.stale_cause = Some(format!(
                "the watch of {}s: {cause}",
                followed.app.kind.kind()
            ));
        }
        if followed.last.as_deref() == Some(&report) && followed.last_settled == settled {
            return;
        }
        let report = Arc::new(report);
        followed.last = Some(report.clone());
        followed.last_settled = settled;
        let _ = self.events.send(EngineEvent::Report {
            app: app.to_string(),
            generation: followed.generation,
            report,
            settled,
        });
    }

    /// The channel the writing tasks answer on.
    pub(super) async fn next_written(&mut self) -> Option<Written> {
        self.written.1.recv().await
    }

    /// Asks the app's engine to act: checks as the engine would, takes the
    /// app's Lease, records the action in the audit log and writes its
    /// patches in a task; the engine's answer is followed on the watch.
    pub(super) fn act(&mut self, request: ActionOrder<'_>) {
        let ActionOrder {
            app,
            action,
            client,
            catalog,
            operator,
            audit,
        } = request;
        let Some(followed) = self.apps.get_mut(app) else {
            return; // another context's app, or none
        };
        let refuse = |why: String| {
            let _ = self.events.send(EngineEvent::ControllerActed {
                app: app.to_string(),
                progress: Err(why),
            });
        };
        if followed.action.is_some() {
            return refuse(format!(
                "app \"{app}\": an action driftdeck asked is still running"
            ));
        }
        let token = jiff::Timestamp::now().to_string();
        let request = match request_action(&followed.app, &action, &operator.identity(), &token) {
            Ok(request) => request,
            Err(why) => return refuse(why),
        };
        let mut targets = Vec::new();
        for (key, patch) in &request.patches {
            match catalog.preferred(&key.group, &key.kind) {
                Some(kind) => targets.push((kind.clone(), key.clone(), patch.clone())),
                None => {
                    return refuse(format!(
                        "app \"{app}\": the cluster does not serve {} ({})",
                        key.kind, key.group
                    ));
                }
            }
        }
        let audit_id = uuid::Uuid::new_v4().to_string();
        let start = AuditRecord::Start(SyncStarted {
            id: audit_id.clone(),
            time: jiff::Timestamp::now(),
            operator: operator.clone(),
            app: app.to_string(),
            context: client.context().to_string(),
            revision: request.revision.clone().unwrap_or_default(),
            automatic: false,
            trigger: crate::sync::SyncTrigger::Manual,
            operation: match action {
                ActionKind::Rollback { .. } => crate::sync::SyncOperation::Rollback,
                _ => crate::sync::SyncOperation::Sync,
            },
            from_revision: None,
            plan: json!({
                "engine": followed.app.kind.engine(),
                "object": followed.app.object_label(),
                "request": &request,
            }),
        });
        if let Err(err) = audit.append(&start) {
            return refuse(format!("app \"{app}\": {err}"));
        }
        followed.action = Some(Running {
            request,
            audit_id,
            started: Instant::now(),
            written_version: None,
            lease: None,
            last: None,
        });
        let (client, answer, holder) =
            (client.clone(), self.written.0.clone(), operator.identity());
        let (name, namespace) = (app.to_string(), followed.app.namespace.clone());
        // A Lease name holds no '/': `argocd.web` in the app's namespace.
        let lease_app = format!(
            "{}.{}",
            followed.app.kind.engine().name(),
            followed.app.object_name
        );
        tokio::spawn(async move {
            let result = write(&client, &lease_app, &namespace, &holder, targets).await;
            let _ = answer.send(Written { app: name, result });
        });
    }

    /// The patches are written (or not): follow the engine's answer from
    /// the object as it now is.
    pub(super) fn on_written(&mut self, written: Written, store: &LiveStore, audit: &AuditLog) {
        let Some(followed) = self.apps.get_mut(&written.app) else {
            return;
        };
        let Some(running) = followed.action.as_mut() else {
            return;
        };
        match written.result {
            Err(why) => {
                let why = format!("app \"{}\": {why}", written.app);
                finish(&written.app, followed, audit, false, Some(why.clone()));
                let _ = self.events.send(EngineEvent::ControllerActed {
                    app: written.app,
                    progress: Err(why),
                });
            }
            Ok((object, lease)) => {
                running.lease = Some(lease);
                running.written_version = Some(
                    object
                        .as_ref()
                        .and_then(|o| o.pointer("/metadata/resourceVersion"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                );
                let key = self
                    .by_key
                    .iter()
                    .find(|(_, name)| **name == written.app)
                    .map(|(key, _)| key.clone());
                let seen = key.and_then(|k| store.object(&k));
                let newest = match (seen, object) {
                    (Some(seen), Some(patched)) => Some(newer(seen, patched)),
                    (seen, patched) => seen.or(patched),
                };
                if let Some(object) = newest {
                    self.follow_with(&written.app, &object, audit);
                }
            }
        }
    }

    /// Follows the app's running action on its object as now seen.
    fn follow_with(&mut self, app: &str, object: &Value, audit: &AuditLog) {
        let Some(followed) = self.apps.get_mut(app) else {
            return;
        };
        let kind = followed.app.kind;
        let Some(running) = followed.action.as_mut() else {
            return;
        };
        let Some(written) = &running.written_version else {
            return;
        };
        if !at_or_after(object, written) {
            return;
        }
        let progress = follow_action(kind, &running.request, object);
        if running.last.as_ref() == Some(&progress) {
            return;
        }
        running.last = Some(progress.clone());
        let lease = match &progress {
            ActionProgress::Done { succeeded, message } => {
                let error = (!succeeded).then(|| message.clone());
                finish(app, followed, audit, *succeeded, error)
            }
            ActionProgress::Waiting { .. } => None,
        };
        let done = EngineEvent::ControllerActed {
            app: app.to_string(),
            progress: Ok(progress),
        };
        match lease {
            // The end is told once the Lease is given back, so that a
            // process that stops then leaves none behind.
            Some(lease) => {
                let events = self.events.clone();
                tokio::spawn(async move {
                    let _ = lease.release().await;
                    let _ = events.send(done);
                });
            }
            None => {
                let _ = self.events.send(done);
            }
        }
    }
}

/// What `Controllers::act` needs from the context.
pub(super) struct ActionOrder<'a> {
    pub app: &'a str,
    pub action: ActionKind,
    pub client: &'a ClusterClient,
    pub catalog: &'a KindCatalog,
    pub operator: &'a Operator,
    pub audit: &'a AuditLog,
}

/// Takes the Lease and writes the patches, in order.
async fn write(
    client: &ClusterClient,
    lease_app: &str,
    namespace: &str,
    holder: &str,
    targets: Vec<(ServedKind, ResourceKey, Value)>,
) -> Result<(Option<Value>, SyncLease), String> {
    let lease = SyncLease::acquire(
        client,
        &LeaseRequest {
            app: lease_app,
            namespace,
            holder,
            duration: LEASE_DURATION,
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    let mut first = None;
    for (index, (kind, key, patch)) in targets.iter().enumerate() {
        match merge_patch(client, kind, key, patch).await {
            Ok(written) if index == 0 => first = written,
            Ok(_) => {}
            Err(refused) => {
                let _ = lease.release().await;
                return Err(format!("{key}: {refused}"));
            }
        }
    }
    Ok((first, lease))
}

/// Ends the app's action with the audit log's completion record; gives
/// the Lease to release.
fn finish(
    app: &str,
    followed: &mut Followed,
    audit: &AuditLog,
    succeeded: bool,
    error: Option<String>,
) -> Option<SyncLease> {
    let running = followed.action.take()?;
    let record = AuditRecord::Completion(SyncCompleted {
        id: running.audit_id,
        time: jiff::Timestamp::now(),
        app: app.to_string(),
        status: if succeeded {
            SyncStatus::Succeeded
        } else {
            SyncStatus::Failed
        },
        duration_ms: u64::try_from(running.started.elapsed().as_millis()).unwrap_or(u64::MAX),
        objects: Vec::new(),
        error,
    });
    if let Err(err) = audit.append(&record) {
        tracing::warn!(app, %err, "the end of an engine action is not in the audit log");
    }
    running.lease
}

fn version(object: &Value) -> Option<u64> {
    object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .and_then(|v| v.parse().ok())
}

/// Whether `object` is the written version or a later one. API servers'
/// resourceVersions are opaque but, from etcd, increasing integers; any
/// other form is taken as later.
fn at_or_after(object: &Value, written: &str) -> bool {
    match (version(object), written.parse::<u64>().ok()) {
        (Some(seen), Some(written)) => seen >= written,
        _ => true,
    }
}

fn newer(a: Value, b: Value) -> Value {
    if version(&a) >= version(&b) { a } else { b }
}
