//! The engine apps of one context (Argo CD Applications, Flux
//! Kustomizations and HelmReleases): one watch per served kind across the
//! cluster, whatever the number of apps; each object an app, reported as
//! its status says; the actions asked of them written to their objects and
//! followed on the same watch (`actions.rs`). Kinds the server does not
//! serve cost nothing: discovery already said so.

mod actions;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::cluster::{KindCatalog, LiveCache, LiveStore, ServedKind, WatchId};
use crate::config::EnginesConfig;
use crate::engine::{EngineEvent, Generation};
use crate::engines::{ControllerApp, ControllerKind, EngineSource, engine_source};
use crate::report::{AppReport, OwnVerdict, controller_report, with_own_verdict};
use crate::resource::ResourceKey;
use crate::sync::AuditLog;

use actions::Running;
pub(super) use actions::{ActionOrder, Written};

/// Flux's Git source kind (group, kind).
const GIT_REPOSITORY: (&str, &str) = ("source.toolkit.fluxcd.io", "GitRepository");

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
}
