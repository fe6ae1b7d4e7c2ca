//! The live cache's contents: what the watches have reported, kept by the
//! engine task that owns it. Pure: updates in, app views out.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use super::live::{LiveRead, Unreadable, Wanted};
use crate::resource::{ResourceKey, app_of};

/// What a watch covers: every labelled object of a kind, or one object by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WatchId {
    Kind { group: String, kind: String },
    Object(ResourceKey),
}

/// What a watch task reports.
#[derive(Debug, Clone)]
pub enum LiveUpdate {
    /// The full set of objects the watch covers, after a (re-)list.
    Listed {
        watch: WatchId,
        objects: Vec<Value>,
    },
    Applied {
        watch: WatchId,
        object: Value,
    },
    Deleted {
        watch: WatchId,
        key: ResourceKey,
    },
    /// The watch failed; what it reported before stays, marked stale.
    Failed {
        watch: WatchId,
        cause: String,
        at: jiff::Timestamp,
    },
    /// The watch is connected again after a failure, with nothing missed.
    Recovered {
        watch: WatchId,
    },
}

#[derive(Debug, Clone, Default)]
struct WatchState {
    keys: BTreeSet<ResourceKey>,
    listed: bool,
    failure: Option<(jiff::Timestamp, String)>,
}

/// Everything the watches of one context have seen.
#[derive(Debug, Default)]
pub struct LiveStore {
    objects: HashMap<ResourceKey, Value>,
    watches: BTreeMap<WatchId, WatchState>,
    /// Raised whenever a watch is first listed, fails or recovers: what
    /// every app's view says about staleness may have changed.
    watch_epoch: u64,
}

impl LiveStore {
    /// Applies one update; returns the keys whose object changed.
    pub fn apply(&mut self, update: LiveUpdate) -> Vec<ResourceKey> {
        match update {
            LiveUpdate::Listed { watch, objects } => {
                let mut fresh = BTreeSet::new();
                let mut changed = Vec::new();
                for object in objects {
                    if let Ok(key) = ResourceKey::of(&object) {
                        if self.objects.get(&key) != Some(&object) {
                            changed.push(key.clone());
                        }
                        self.objects.insert(key.clone(), object);
                        fresh.insert(key);
                    }
                }
                let state = self.watches.entry(watch.clone()).or_default();
                let gone: Vec<ResourceKey> = state.keys.difference(&fresh).cloned().collect();
                if !state.listed || state.failure.is_some() {
                    self.watch_epoch += 1;
                }
                state.keys = fresh;
                state.listed = true;
                state.failure = None;
                for key in gone {
                    if self.release(&watch, &key) {
                        changed.push(key);
                    }
                }
                changed
            }
            LiveUpdate::Applied { watch, object } => {
                let Ok(key) = ResourceKey::of(&object) else {
                    return Vec::new();
                };
                let state = self.watches.entry(watch).or_default();
                state.keys.insert(key.clone());
                if state.failure.take().is_some() {
                    self.watch_epoch += 1;
                }
                if self.objects.get(&key) == Some(&object) {
                    return Vec::new();
                }
                self.objects.insert(key.clone(), object);
                vec![key]
            }
            LiveUpdate::Deleted { watch, key } => {
                if let Some(state) = self.watches.get_mut(&watch) {
                    state.keys.remove(&key);
                }
                if self.release(&watch, &key) {
                    vec![key]
                } else {
                    Vec::new()
                }
            }
            LiveUpdate::Failed { watch, cause, at } => {
                let state = self.watches.entry(watch).or_default();
                // Keep the time the trouble started, with the latest cause.
                let since = state.failure.as_ref().map_or(at, |(since, _)| *since);
                state.failure = Some((since, cause));
                self.watch_epoch += 1;
                Vec::new()
            }
            LiveUpdate::Recovered { watch } => {
                if let Some(state) = self.watches.get_mut(&watch)
                    && state.failure.take().is_some()
                {
                    self.watch_epoch += 1;
                }
                Vec::new()
            }
        }
    }

    /// Drops an object a watch no longer reports, unless another watch still
    /// reports it. True when the object is gone.
    fn release(&mut self, from: &WatchId, key: &ResourceKey) -> bool {
        let still_held = self
            .watches
            .iter()
            .any(|(id, state)| id != from && state.keys.contains(key));
        !still_held && self.objects.remove(key).is_some()
    }

    /// Forgets a watch that was stopped (an object no longer wanted by name).
    pub fn forget(&mut self, watch: &WatchId) {
        if let Some(state) = self.watches.remove(watch) {
            for key in state.keys {
                let held = self.watches.values().any(|s| s.keys.contains(&key));
                if !held {
                    self.objects.remove(&key);
                }
            }
        }
    }

    /// The app's live state as the watches know it: its labelled objects,
    /// the wanted ones found by name, and which parts are unknown or stale.
    pub fn app_view(&self, app: &str, wanted: &[Wanted]) -> LiveRead {
        let mut read = LiveRead::default();
        for (key, object) in &self.objects {
            if app_of(object) == Some(app) {
                read.objects.insert(key.clone(), object.clone());
            }
        }
        for item in wanted {
            if let Some(object) = self.objects.get(&item.key) {
                read.objects.insert(item.key.clone(), object.clone());
            }
        }
        for (id, state) in &self.watches {
            let (group, kind, object) = match id {
                WatchId::Kind { group, kind } => (group, kind, None),
                WatchId::Object(key) if wanted.iter().any(|w| w.key == *key) => {
                    (&key.group, &key.kind, Some(key.clone()))
                }
                WatchId::Object(_) => continue,
            };
            let unreadable = |cause: &str| Unreadable {
                group: group.clone(),
                kind: kind.clone(),
                object: object.clone(),
                cause: cause.to_string(),
            };
            match (&state.failure, state.listed) {
                (Some((since, cause)), true) => {
                    read.stale_since = Some(read.stale_since.map_or(*since, |s| s.min(*since)));
                    read.stale_cause
                        .get_or_insert_with(|| format!("{}: {cause}", unreadable(cause).what()));
                }
                (Some((_, cause)), false) => read.unreadable.push(unreadable(cause)),
                (None, false) => read.unreadable.push(unreadable("not read yet")),
                (None, true) => {}
            }
        }
        read
    }

    /// The live object with this key, if a watch reports it.
    pub fn object(&self, key: &ResourceKey) -> Option<&Value> {
        self.objects.get(key)
    }

    /// A number that changes whenever a watch is first listed, fails or
    /// recovers (and not when only objects change).
    pub fn watch_epoch(&self) -> u64 {
        self.watch_epoch
    }

    /// True when every watch has listed once: the cache has a first picture.
    pub fn is_primed(&self) -> bool {
        self.watches.values().all(|w| w.listed)
    }

    /// Registers a watch before its first report, so that it counts as unread.
    pub fn expect(&mut self, watch: WatchId) {
        self.watches.entry(watch).or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::APP_LABEL;
    use serde_json::json;

    fn deployment(name: &str, app: &str, image: &str) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "web", "labels": {APP_LABEL: app}},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": image}]}}}
        })
    }

    fn deployments() -> WatchId {
        WatchId::Kind {
            group: "apps".into(),
            kind: "Deployment".into(),
        }
    }

    fn wanted(name: &str) -> Wanted {
        Wanted {
            key: ResourceKey::new("apps/v1", "Deployment", Some("web"), name),
            version: Some("v1".into()),
        }
    }

    #[test]
    fn a_relist_replaces_what_the_watch_reported() {
        let mut store = LiveStore::default();
        store.apply(LiveUpdate::Listed {
            watch: deployments(),
            objects: vec![
                deployment("a", "shop", "x:1"),
                deployment("b", "shop", "x:1"),
            ],
        });
        let changed = store.apply(LiveUpdate::Listed {
            watch: deployments(),
            objects: vec![deployment("a", "shop", "x:2")],
        });
        assert_eq!(changed.len(), 2, "a changed, b went away: {changed:?}");
        let view = store.app_view("shop", &[]);
        assert_eq!(view.objects.len(), 1);
        assert!(view.unreadable.is_empty() && view.stale_since.is_none());
    }

    #[test]
    fn the_watch_epoch_moves_with_watch_health_not_with_objects() {
        let mut store = LiveStore::default();
        let failed = || LiveUpdate::Failed {
            watch: deployments(),
            cause: "connection reset".into(),
            at: jiff::Timestamp::UNIX_EPOCH,
        };
        let start = store.watch_epoch();
        store.apply(LiveUpdate::Listed {
            watch: deployments(),
            objects: vec![deployment("a", "shop", "x:1")],
        });
        let listed = store.watch_epoch();
        assert_ne!(listed, start, "a first list");
        store.apply(LiveUpdate::Applied {
            watch: deployments(),
            object: deployment("a", "shop", "x:2"),
        });
        assert_eq!(
            store.watch_epoch(),
            listed,
            "an object changed, not a watch"
        );
        store.apply(failed());
        let failing = store.watch_epoch();
        assert_ne!(failing, listed);
        store.apply(LiveUpdate::Applied {
            watch: deployments(),
            object: deployment("a", "shop", "x:3"),
        });
        assert_ne!(store.watch_epoch(), failing, "an event ends the failure");
        let key = ResourceKey::of(&deployment("a", "shop", "x:3")).unwrap();
        assert_eq!(store.object(&key).and_then(app_of), Some("shop"));
    }

    #[test]
    fn app_view_holds_only_the_apps_objects_and_wanted_ones() {
        let mut store = LiveStore::default();
        store.apply(LiveUpdate::Listed {
            watch: deployments(),
            objects: vec![
                deployment("a", "shop", "x:1"),
                deployment("b", "blog", "x:1"),
            ],
        });
        let mut unlabelled = deployment("c", "shop", "x:1");
        unlabelled["metadata"]["labels"] = json!({});
        let by_name = WatchId::Object(ResourceKey::of(&unlabelled).unwrap());
        store.apply(LiveUpdate::Listed {
            watch: by_name,
            objects: vec![unlabelled],
        });
        let view = store.app_view("shop", &[wanted("c")]);
        let names: Vec<&str> = view.objects.keys().map(|k| k.name.as_str()).collect();
        assert_eq!(names, vec!["a", "c"]);
    }

    #[test]
    fn a_failed_watch_keeps_its_objects_marked_stale_until_it_recovers() {
        let mut store = LiveStore::default();
        store.apply(LiveUpdate::Listed {
            watch: deployments(),
            objects: vec![deployment("a", "shop", "x:1")],
        });
        let first = jiff::Timestamp::from_second(1_000).unwrap();
        let later = jiff::Timestamp::from_second(2_000).unwrap();
        store.apply(LiveUpdate::Failed {
            watch: deployments(),
            cause: "connection refused".into(),
            at: first,
        });
        store.apply(LiveUpdate::Failed {
            watch: deployments(),
            cause: "timed out".into(),
            at: later,
        });
        let view = store.app_view("shop", &[]);
        assert_eq!(view.objects.len(), 1, "the last state is kept");
        assert_eq!(
            view.stale_since,
            Some(first),
            "stale since the first failure"
        );
        assert_eq!(
            view.stale_cause.as_deref(),
            Some("apps/Deployment: timed out")
        );
        store.apply(LiveUpdate::Recovered {
            watch: deployments(),
        });
        assert_eq!(store.app_view("shop", &[]).stale_since, None);
    }

    #[test]
    fn a_watch_that_never_listed_is_unreadable() {
        let mut store = LiveStore::default();
        store.expect(deployments());
        assert_eq!(
            store.app_view("shop", &[]).unreadable[0].cause,
            "not read yet"
        );
        assert!(!store.is_primed());
        let at = jiff::Timestamp::from_second(1).unwrap();
        store.apply(LiveUpdate::Failed {
            watch: deployments(),
            cause: "403 forbidden".into(),
            at,
        });
        let view = store.app_view("shop", &[]);
        assert_eq!(view.unreadable[0].what(), "apps/Deployment");
        assert_eq!(view.unreadable[0].cause, "403 forbidden");
    }

    #[test]
    fn an_object_held_by_two_watches_stays_until_both_let_go() {
        let mut store = LiveStore::default();
        let object = deployment("a", "shop", "x:1");
        let by_name = WatchId::Object(ResourceKey::of(&object).unwrap());
        store.apply(LiveUpdate::Listed {
            watch: deployments(),
            objects: vec![object.clone()],
        });
        store.apply(LiveUpdate::Listed {
            watch: by_name.clone(),
            objects: vec![object.clone()],
        });
        store.apply(LiveUpdate::Listed {
            watch: deployments(),
            objects: vec![],
        });
        assert_eq!(store.app_view("x", &[wanted("a")]).objects.len(), 1);
        store.forget(&by_name);
        assert!(store.app_view("x", &[wanted("a")]).objects.is_empty());
    }

    #[test]
    fn deleted_objects_leave_the_view() {
        let mut store = LiveStore::default();
        let object = deployment("a", "shop", "x:1");
        store.apply(LiveUpdate::Applied {
            watch: deployments(),
            object: object.clone(),
        });
        let key = ResourceKey::of(&object).unwrap();
        assert_eq!(
            store
                .apply(LiveUpdate::Deleted {
                    watch: deployments(),
                    key
                })
                .len(),
            1
        );
        assert!(store.app_view("shop", &[]).objects.is_empty());
    }
}
