//! Storage: every object as serialized JSON under one global
//! resourceVersion counter, a bounded history of changes for watches to
//! resume from, and the fan-out of new changes to open watches. One lock
//! guards it all, so each write is atomic and watches never miss a change
//! between catching up and following.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use axum::body::Bytes;
use serde_json::Value;
use tokio::sync::broadcast;

use super::catalog::{Catalog, ResourceKey};
use super::strategy::Allocations;

/// One stored object: its identity, labels (for selectors without parsing)
/// and its JSON as served.
#[derive(Debug)]
pub struct StoredObject {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub resource_version: u64,
    pub labels: BTreeMap<String, String>,
    /// The uids in `metadata.ownerReferences`, for garbage collection.
    pub owners: Vec<String>,
    pub json: Bytes,
}

impl StoredObject {
    /// The object as a value (a stored object is always valid JSON).
    pub fn value(&self) -> Value {
        serde_json::from_slice(&self.json).unwrap_or(Value::Null)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

/// One change, as watches see it; `previous` lets a watch with a label
/// selector turn a change of labels into ADDED or DELETED.
#[derive(Debug)]
pub struct Change {
    pub revision: u64,
    pub key: ResourceKey,
    pub kind: ChangeKind,
    pub object: Arc<StoredObject>,
    pub previous: Option<Arc<StoredObject>>,
}

type Collection = BTreeMap<(String, String), Arc<StoredObject>>;

/// Everything the lock guards.
pub struct State {
    revision: u64,
    pub catalog: Catalog,
    pub allocations: Allocations,
    collections: HashMap<ResourceKey, Collection>,
    history: VecDeque<Arc<Change>>,
    history_limit: usize,
    /// Watches from at or after this revision can resume; older ones are
    /// told their version expired.
    compacted_through: u64,
    pending: Vec<Arc<Change>>,
}

/// Why a watch cannot resume from a revision.
#[derive(Debug, Clone, PartialEq)]
pub struct Expired {
    pub requested: u64,
    pub oldest: u64,
}

impl State {
    pub fn revision(&self) -> u64 {
        self.revision
    }

    pub fn get(&self, key: &ResourceKey, namespace: &str, name: &str) -> Option<Arc<StoredObject>> {
        self.collections
            .get(key)?
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
    }

    /// Objects of a resource in key order (namespace, then name), in one
    /// namespace or all, starting after `after`.
    pub fn list<'a>(
        &'a self,
        key: &ResourceKey,
        namespace: Option<&'a str>,
        after: Option<(String, String)>,
    ) -> impl Iterator<Item = &'a Arc<StoredObject>> + 'a {
        let collection = self.collections.get(key);
        let start = match (&after, namespace) {
            (Some(after), _) => std::ops::Bound::Excluded(after.clone()),
            (None, Some(ns)) => std::ops::Bound::Included((ns.to_string(), String::new())),
            (None, None) => std::ops::Bound::Unbounded,
        };
        collection
            .into_iter()
            .flat_map(move |c| c.range((start.clone(), std::ops::Bound::Unbounded)))
            .take_while(move |((ns, _), _)| namespace.is_none_or(|wanted| wanted == ns))
            .map(|(_, object)| object)
    }

    /// Stores a new version of an object, giving it the next
    /// resourceVersion.
    pub fn put(&mut self, key: &ResourceKey, mut object: Value) -> Arc<StoredObject> {
        self.revision += 1;
        let revision = self.revision;
        set_resource_version(&mut object, revision);
        let stored = Arc::new(to_stored(&object, revision));
        let id = (stored.namespace.clone(), stored.name.clone());
        let previous = self
            .collections
            .entry(key.clone())
            .or_default()
            .insert(id, stored.clone());
        let kind = if previous.is_some() {
            ChangeKind::Modified
        } else {
            ChangeKind::Added
        };
        self.record(key, kind, stored.clone(), previous);
        stored
    }

    /// Removes an object; the DELETED event carries its last state at a new
    /// resourceVersion.
    pub fn remove(
        &mut self,
        key: &ResourceKey,
        namespace: &str,
        name: &str,
    ) -> Option<Arc<StoredObject>> {
        let collection = self.collections.get_mut(key)?;
        let previous = collection.remove(&(namespace.to_string(), name.to_string()))?;
        self.revision += 1;
        let mut last = previous.value();
        set_resource_version(&mut last, self.revision);
        let stored = Arc::new(to_stored(&last, self.revision));
        self.record(key, ChangeKind::Deleted, stored.clone(), Some(previous));
        Some(stored)
    }

    /// Drops a whole resource (its CRD was deleted) without events, as the
    /// API server stops serving it at once.
    pub fn drop_resource(&mut self, key: &ResourceKey) {
        self.collections.remove(key);
    }

    /// Loads an object as it was saved, keeping its resourceVersion.
    pub fn restore(&mut self, key: &ResourceKey, object: &Value) {
        let revision = object
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .and_then(|rv| rv.parse().ok())
            .unwrap_or(self.revision + 1);
        let stored = Arc::new(to_stored(object, revision));
        self.revision = self.revision.max(revision);
        self.compacted_through = self.revision;
        self.collections
            .entry(key.clone())
            .or_default()
            .insert((stored.namespace.clone(), stored.name.clone()), stored);
    }

    /// Moves the counter to at least `revision` (a loaded state's), with no
    /// history before it.
    pub fn advance_revision(&mut self, revision: u64) {
        self.revision = self.revision.max(revision);
        self.compacted_through = self.revision;
    }

    fn record(
        &mut self,
        key: &ResourceKey,
        kind: ChangeKind,
        object: Arc<StoredObject>,
        previous: Option<Arc<StoredObject>>,
    ) {
        let change = Arc::new(Change {
            revision: self.revision,
            key: key.clone(),
            kind,
            object,
            previous,
        });
        self.history.push_back(change.clone());
        while self.history.len() > self.history_limit {
            if let Some(dropped) = self.history.pop_front() {
                self.compacted_through = dropped.revision;
            }
        }
        self.pending.push(change);
    }

    /// Forgets the whole history, as an etcd compaction does: every watch
    /// must start again from a fresh list.
    pub fn compact(&mut self) {
        self.history.clear();
        self.compacted_through = self.revision;
    }

    /// Changes after `revision`, or why they are gone.
    pub fn changes_since(&self, revision: u64) -> Result<Vec<Arc<Change>>, Expired> {
        if revision < self.compacted_through {
            return Err(Expired {
                requested: revision,
                oldest: self.compacted_through,
            });
        }
        Ok(self
            .history
            .iter()
            .filter(|c| c.revision > revision)
            .cloned()
            .collect())
    }

    /// Every object of every resource, for the state file.
    pub fn all_objects(&self) -> impl Iterator<Item = (&ResourceKey, &Arc<StoredObject>)> {
        self.collections
            .iter()
            .flat_map(|(key, c)| c.values().map(move |o| (key, o)))
    }
}

fn set_resource_version(object: &mut Value, revision: u64) {
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.insert(
            "resourceVersion".into(),
            Value::String(revision.to_string()),
        );
    }
}

fn to_stored(object: &Value, revision: u64) -> StoredObject {
    let text = |pointer: &str| {
        object
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let labels = object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let owners = object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|refs| {
            refs.iter()
                .filter_map(|r| r.get("uid").and_then(Value::as_str).map(String::from))
                .collect()
        })
        .unwrap_or_default();
    StoredObject {
        namespace: text("/metadata/namespace"),
        name: text("/metadata/name"),
        uid: text("/metadata/uid"),
        resource_version: revision,
        labels,
        owners,
        json: Bytes::from(serde_json::to_vec(object).unwrap_or_default()),
    }
}

/// The changes a watch has to catch up on, and the receiver of those to come.
pub type Following = (Vec<Arc<Change>>, broadcast::Receiver<Arc<Change>>);

/// The store, shared by the HTTP handlers, the controllers and the
/// handle tests hold.
pub struct Store {
    state: RwLock<State>,
    changes: broadcast::Sender<Arc<Change>>,
}

impl Store {
    pub fn new(history_limit: usize) -> Self {
        let (changes, _) = broadcast::channel(4096);
        Self {
            state: RwLock::new(State {
                revision: 0,
                catalog: Catalog::builtin(),
                allocations: Allocations::default(),
                collections: HashMap::new(),
                history: VecDeque::new(),
                history_limit: history_limit.max(1),
                compacted_through: 0,
                pending: Vec::new(),
            }),
            changes,
        }
    }

    pub fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs one atomic write; its changes reach watches when it ends, while
    /// the lock is still held.
    pub fn write<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut state: RwLockWriteGuard<'_, State> = self
            .state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let result = f(&mut state);
        for change in state.pending.drain(..) {
            // No receiver is fine: nobody is watching.
            let _ = self.changes.send(change);
        }
        result
    }

    /// Follows changes from `revision`: the ones already past, and a
    /// receiver for those to come, taken under one lock so none is missed.
    pub fn follow(&self, revision: u64) -> Result<Following, Expired> {
        let state = self.read();
        let past = state.changes_since(revision)?;
        Ok((past, self.changes.subscribe()))
    }

    /// A receiver of changes from now on, with the current state to start
    /// from (for watches that begin with the current objects).
    pub fn subscribe(&self) -> (RwLockReadGuard<'_, State>, broadcast::Receiver<Arc<Change>>) {
        let state = self.read();
        let receiver = self.changes.subscribe();
        (state, receiver)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key() -> ResourceKey {
        ResourceKey {
            group: String::new(),
            plural: "configmaps".into(),
        }
    }

    fn cm(ns: &str, name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}})
    }

    #[test]
    fn every_write_takes_the_next_global_resource_version() {
        let store = Store::new(100);
        let a = store.write(|s| s.put(&key(), cm("a", "one")));
        let b = store.write(|s| s.put(&key(), cm("b", "two")));
        assert_eq!((a.resource_version, b.resource_version), (1, 2));
        assert!(String::from_utf8_lossy(&b.json).contains("\"resourceVersion\":\"2\""));
    }

    #[test]
    fn listing_one_namespace_stops_at_its_end() {
        let store = Store::new(100);
        store.write(|s| {
            for (ns, name) in [("a", "x"), ("b", "y"), ("b", "z"), ("c", "w")] {
                s.put(&key(), cm(ns, name));
            }
        });
        let state = store.read();
        let names: Vec<&str> = state
            .list(&key(), Some("b"), None)
            .map(|o| o.name.as_str())
            .collect();
        assert_eq!(names, vec!["y", "z"]);
        let after: Vec<&str> = state
            .list(&key(), None, Some(("b".into(), "y".into())))
            .map(|o| o.name.as_str())
            .collect();
        assert_eq!(after, vec!["z", "w"]);
    }

    #[test]
    fn history_beyond_its_limit_expires() {
        let store = Store::new(2);
        store.write(|s| {
            for name in ["a", "b", "c", "d"] {
                s.put(&key(), cm("ns", name));
            }
        });
        let state = store.read();
        assert_eq!(
            state.changes_since(1).unwrap_err(),
            Expired {
                requested: 1,
                oldest: 2
            }
        );
        assert_eq!(state.changes_since(2).unwrap().len(), 2);
    }
}
