//! The watches behind the live cache, which ones and for what: one per
//! kind with the app label, one per kind and namespace holding objects Git
//! names that carry no label yet (or one across the cluster for a kind in
//! many namespaces), one per engine app kind. Each is a task
//! (`watch_task.rs`) that lists once, then watches from the last
//! resourceVersion.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use kube::api::{Api, DynamicObject};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::live_update::{LiveUpdate, WatchId};
use super::store::LiveStore;
use super::watch_task::{KeepManagers, Selection, WatchTask};
use super::{ClusterClient, ServedKind};
use crate::resource::{APP_LABEL, ResourceKey};

/// Above this many namespaces, a kind's unlabelled objects are watched
/// across the cluster: one watch instead of one per namespace.
const NAMESPACES_PER_KIND: usize = 3;

/// The watch tasks of one context. Dropping it stops them.
pub struct LiveCache {
    client: ClusterClient,
    updates: mpsc::UnboundedSender<LiveUpdate>,
    /// False for a one-shot look: each watch lists once and stops there.
    follow: bool,
    /// The field managers whose `managedFields` entries are kept.
    keep: KeepManagers,
    tasks: HashMap<WatchId, JoinHandle<()>>,
    /// For each watch of unlabelled objects, the objects Git names in it
    /// when it last listed.
    covered: HashMap<WatchId, BTreeSet<ResourceKey>>,
}

/// What `track` changed.
#[derive(Debug, Default)]
pub struct Tracked {
    /// Watches started, or listed again because they cover new objects.
    pub started: Vec<WatchId>,
    /// Watches stopped: nothing Git names is left in what they cover.
    pub stopped: Vec<WatchId>,
}

impl LiveCache {
    /// Starts one watch per kind, for objects that carry the app label
    /// (any app): together they see every object driftdeck applied. With
    /// `follow` false, each lists once and watches no further. Of each
    /// object's `managedFields`, only the entries of the managers `keep`
    /// accepts are kept: drift needs driftdeck's and the manual ones, and
    /// the rest is most of an object's size.
    pub fn start(
        client: ClusterClient,
        kinds: &[&ServedKind],
        updates: mpsc::UnboundedSender<LiveUpdate>,
        follow: bool,
        keep: KeepManagers,
        store: &mut LiveStore,
    ) -> LiveCache {
        let mut cache = LiveCache {
            client,
            updates,
            follow,
            keep,
            tasks: HashMap::new(),
            covered: HashMap::new(),
        };
        for kind in kinds {
            let id = WatchId::Kind {
                group: kind.resource.group.clone(),
                kind: kind.resource.kind.clone(),
            };
            store.expect(id.clone());
            let api = Api::all_with(cache.client.kube().clone(), &kind.resource);
            let selection = Selection {
                labels: Some(APP_LABEL.to_string()),
            };
            cache.spawn(id, api, (*kind).clone(), selection);
        }
        cache
    }

    /// Watches the objects Git names that carry no label yet: one watch per
    /// kind and namespace (per kind when cluster-scoped), whatever the
    /// number of objects and apps in it, never one per object. A watch that
    /// now covers objects it did not is listed again; watches left with
    /// nothing to cover stop.
    ///
    /// A namespaced kind whose objects are in more than
    /// `NAMESPACES_PER_KIND` namespaces gets one watch across the cluster
    /// instead, when its label watch (across the cluster too) shows the
    /// context may list it there. The store is told which watches to expect
    /// and which to forget.
    pub fn track(
        &mut self,
        objects: &[(ServedKind, ResourceKey)],
        store: &mut LiveStore,
    ) -> Tracked {
        let may_list_all =
            |kind: &ServedKind| store.lists_all(&kind.resource.group, &kind.resource.kind);
        let mut namespaces: HashMap<(&str, &str), BTreeSet<Option<&str>>> = HashMap::new();
        for (_, key) in objects {
            namespaces
                .entry((&key.group, &key.kind))
                .or_default()
                .insert(key.namespace.as_deref());
        }
        let mut wanted: BTreeMap<WatchId, (&ServedKind, BTreeSet<ResourceKey>)> = BTreeMap::new();
        for (kind, key) in objects {
            let spread = namespaces
                .get(&(key.group.as_str(), key.kind.as_str()))
                .map_or(0, BTreeSet::len);
            let across = kind.namespaced && spread > NAMESPACES_PER_KIND && may_list_all(kind);
            let id = WatchId::unlabelled_for(key, kind.namespaced && !across);
            wanted
                .entry(id)
                .or_insert_with(|| (kind, BTreeSet::new()))
                .1
                .insert(key.clone());
        }
        let mut tracked = Tracked::default();
        let stale: Vec<WatchId> = self
            .covered
            .keys()
            .filter(|id| !wanted.contains_key(*id))
            .cloned()
            .collect();
        for id in stale {
            self.covered.remove(&id);
            if let Some(task) = self.tasks.remove(&id) {
                task.abort();
            }
            tracked.stopped.push(id);
        }
        for (id, (kind, keys)) in wanted {
            let grew = match self.covered.get(&id) {
                Some(before) => !keys.is_subset(before),
                None => true,
            };
            if !grew {
                continue;
            }
            if let Some(task) = self.tasks.remove(&id) {
                task.abort();
            }
            let WatchId::Unlabelled { namespace, .. } = &id else {
                continue;
            };
            let api = match namespace {
                Some(ns) => Api::namespaced_with(self.client.kube().clone(), ns, &kind.resource),
                None => Api::all_with(self.client.kube().clone(), &kind.resource),
            };
            let selection = Selection { labels: None };
            self.covered.insert(id.clone(), keys);
            self.spawn(id.clone(), api, kind.clone(), selection);
            tracked.started.push(id);
        }
        for id in &tracked.started {
            store.expect(id.clone());
        }
        for id in &tracked.stopped {
            store.forget(id);
        }
        tracked
    }

    /// Watches every object of `kind` across the cluster, whatever its
    /// labels: one watch for all of an engine's apps of that kind.
    pub fn watch_every(&mut self, kind: &ServedKind, store: &mut LiveStore) -> WatchId {
        let id = WatchId::Every {
            group: kind.resource.group.clone(),
            kind: kind.resource.kind.clone(),
        };
        store.expect(id.clone());
        let api = Api::all_with(self.client.kube().clone(), &kind.resource);
        self.spawn(id.clone(), api, kind.clone(), Selection { labels: None });
        id
    }

    pub fn client(&self) -> &ClusterClient {
        &self.client
    }

    /// Watches running.
    pub fn watches(&self) -> usize {
        self.tasks.len()
    }

    fn spawn(
        &mut self,
        id: WatchId,
        api: Api<DynamicObject>,
        kind: ServedKind,
        selection: Selection,
    ) {
        let task = WatchTask {
            id: id.clone(),
            api,
            kind,
            selection,
            follow: self.follow,
            keep: self.keep.clone(),
            updates: self.updates.clone(),
        };
        self.tasks.insert(id, tokio::spawn(task.run()));
    }
}

impl Drop for LiveCache {
    fn drop(&mut self) {
        for task in self.tasks.values() {
            task.abort();
        }
    }
}
