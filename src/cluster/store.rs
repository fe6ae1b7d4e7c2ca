//! The live cache's contents: what the watches have reported, kept by the
//! engine task that owns it. Pure: updates in, app views out.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use super::live::{LiveRead, Unreadable, Wanted};
use super::live_object::LiveObject;
use super::live_update::{LiveUpdate, WatchId};
use crate::resource::ResourceKey;

#[derive(Debug, Clone, Default)]
struct WatchState {
    keys: BTreeSet<ResourceKey>,
    listed: bool,
    /// Started again to cover more objects: what it shows stays, but the
    /// new objects are known only once it has listed again.
    relisting: bool,
    failure: Option<(jiff::Timestamp, String)>,
}

impl WatchState {
    /// The watch's (latest) first answer is in: a list, or a failure to list.
    fn answered(&self) -> bool {
        (self.listed && !self.relisting) || self.failure.is_some()
    }
}

/// Everything the watches of one context have seen, each object as its
/// JSON text (`LiveObject`); a view decodes the objects it hands out.
#[derive(Debug, Default)]
pub struct LiveStore {
    objects: HashMap<ResourceKey, LiveObject>,
    /// The keys of the objects that carry each app's label.
    by_app: HashMap<String, BTreeSet<ResourceKey>>,
    watches: BTreeMap<WatchId, WatchState>,
    /// The objects Git names: of what a watch of unlabelled objects reports,
    /// only these are kept (a namespace holds much that is no app's).
    interest: HashSet<ResourceKey>,
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
                    let key = object.key().clone();
                    if !self.keeps(&watch, &key) {
                        continue;
                    }
                    if self.insert(key.clone(), object) {
                        changed.push(key.clone());
                    }
                    fresh.insert(key);
                }
                let state = self.watches.entry(watch.clone()).or_default();
                let gone: Vec<ResourceKey> = state.keys.difference(&fresh).cloned().collect();
                if !state.listed || state.failure.is_some() {
                    self.watch_epoch += 1;
                }
                state.keys = fresh;
                state.listed = true;
                state.relisting = false;
                state.failure = None;
                for key in gone {
                    if self.release(&watch, &key) {
                        changed.push(key);
                    }
                }
                changed
            }
            LiveUpdate::Applied { watch, object } => {
                let key = object.key().clone();
                let state = self.watches.entry(watch.clone()).or_default();
                if state.failure.take().is_some() {
                    self.watch_epoch += 1;
                }
                if !self.keeps(&watch, &key) {
                    return Vec::new();
                }
                if let Some(state) = self.watches.get_mut(&watch) {
                    state.keys.insert(key.clone());
                }
                if self.insert(key.clone(), object) {
                    vec![key]
                } else {
                    Vec::new()
                }
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

    /// Whether an object a watch reports is kept: every labelled one, and of
    /// the unlabelled watches' objects those that Git names.
    fn keeps(&self, watch: &WatchId, key: &ResourceKey) -> bool {
        matches!(watch, WatchId::Kind { .. } | WatchId::Every { .. }) || self.interest.contains(key)
    }

    /// Stores an object; true when it changed.
    fn insert(&mut self, key: ResourceKey, object: LiveObject) -> bool {
        if self.objects.get(&key).is_some_and(|o| *o == object) {
            return false;
        }
        let app = object.app().map(str::to_string);
        if let Some(old) = self.objects.insert(key.clone(), object) {
            self.unindex(&key, &old);
        }
        if let Some(app) = app {
            self.by_app.entry(app).or_default().insert(key);
        }
        true
    }

    fn unindex(&mut self, key: &ResourceKey, object: &LiveObject) {
        if let Some(app) = object.app()
            && let Some(keys) = self.by_app.get_mut(app)
        {
            keys.remove(key);
            if keys.is_empty() {
                self.by_app.remove(app);
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
        !still_held && self.remove(key)
    }

    fn remove(&mut self, key: &ResourceKey) -> bool {
        match self.objects.remove(key) {
            Some(old) => {
                self.unindex(key, &old);
                true
            }
            None => false,
        }
    }

    /// Forgets a watch that was stopped (no object Git names is left in
    /// what it covers).
    pub fn forget(&mut self, watch: &WatchId) {
        if let Some(state) = self.watches.remove(watch) {
            for key in state.keys {
                let held = self.watches.values().any(|s| s.keys.contains(&key));
                if !held {
                    self.remove(&key);
                }
            }
        }
    }

    /// Sets the objects Git names, in every app of the context: the only
    /// ones kept of what the watches of unlabelled objects report. Objects
    /// kept before and no longer named nor labelled are dropped.
    pub fn set_interest(&mut self, interest: HashSet<ResourceKey>) {
        let dropped: Vec<(WatchId, ResourceKey)> = self
            .watches
            .iter()
            .filter(|(id, _)| matches!(id, WatchId::Unlabelled { .. }))
            .flat_map(|(id, state)| {
                state
                    .keys
                    .iter()
                    .filter(|key| !interest.contains(*key))
                    .map(move |key| (id.clone(), key.clone()))
            })
            .collect();
        self.interest = interest;
        for (watch, key) in dropped {
            if let Some(state) = self.watches.get_mut(&watch) {
                state.keys.remove(&key);
            }
            self.release(&watch, &key);
        }
    }

    /// The app's live state as the watches know it: its labelled objects,
    /// the wanted ones found by name, and which parts are unknown or stale.
    pub fn app_view(&self, app: &str, wanted: &[Wanted]) -> LiveRead {
        let mut read = LiveRead::default();
        for key in self.by_app.get(app).into_iter().flatten() {
            if let Some(object) = self.objects.get(key) {
                read.objects.insert(key.clone(), Arc::new(object.value()));
            }
        }
        for item in wanted {
            if read.objects.contains_key(&item.key) {
                continue;
            }
            if let Some(object) = self.objects.get(&item.key) {
                read.objects
                    .insert(item.key.clone(), Arc::new(object.value()));
            }
        }
        for (id, state) in &self.watches {
            // A kind's label watch concerns every app; a watch of unlabelled
            // objects, each wanted object it covers.
            let objects: Vec<Option<&ResourceKey>> = match id {
                WatchId::Kind { .. } => vec![None],
                WatchId::Unlabelled { .. } => wanted
                    .iter()
                    .filter(|w| id.covers(&w.key))
                    .map(|w| Some(&w.key))
                    .collect(),
                // Engine objects are apps of their own, not part of one.
                WatchId::Every { .. } => Vec::new(),
            };
            let (WatchId::Kind { group, kind }
            | WatchId::Unlabelled { group, kind, .. }
            | WatchId::Every { group, kind }) = id;
            for object in objects {
                let unreadable = |cause: &str| Unreadable {
                    group: group.clone(),
                    kind: kind.clone(),
                    object: object.cloned(),
                    cause: cause.to_string(),
                };
                match (&state.failure, state.listed) {
                    (Some((since, cause)), true) => {
                        read.stale_since = Some(read.stale_since.map_or(*since, |s| s.min(*since)));
                        read.stale_cause.get_or_insert_with(|| {
                            format!("{}: {cause}", unreadable(cause).what())
                        });
                    }
                    (Some((_, cause)), false) => read.unreadable.push(unreadable(cause)),
                    (None, false) => read.unreadable.push(unreadable("not read yet")),
                    (None, true) => {}
                }
            }
        }
        read
    }

    /// The live object with this key, if a watch reports it (decoded).
    pub fn object(&self, key: &ResourceKey) -> Option<Value> {
        self.objects.get(key).map(LiveObject::value)
    }

    /// The app label of the live object with this key.
    pub fn app_of(&self, key: &ResourceKey) -> Option<&str> {
        self.objects.get(key).and_then(LiveObject::app)
    }

    /// How many objects are kept.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
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

    /// True when every watch has given its first answer, a list or a
    /// failure: what can be known at start is known.
    pub fn is_settled(&self) -> bool {
        self.watches.values().all(WatchState::answered)
    }

    /// True when the label watch of this kind, which spans the cluster, has
    /// listed and is not failing: the context may list the kind everywhere.
    pub fn lists_all(&self, group: &str, kind: &str) -> bool {
        let id = WatchId::Kind {
            group: group.to_string(),
            kind: kind.to_string(),
        };
        self.watches
            .get(&id)
            .is_some_and(|state| state.listed && state.failure.is_none())
    }

    /// True when every label watch (one per kind) has given its first
    /// answer: which objects carry a label is known.
    pub fn labels_known(&self) -> bool {
        self.watches
            .iter()
            .filter(|(id, _)| matches!(id, WatchId::Kind { .. }))
            .all(|(_, state)| state.answered())
    }

    /// True when the watch has given its first answer, a list or a failure.
    pub fn has_answered(&self, watch: &WatchId) -> bool {
        self.watches.get(watch).is_some_and(WatchState::answered)
    }

    /// True when the watch has listed at least once.
    pub fn has_listed(&self, watch: &WatchId) -> bool {
        self.watches.get(watch).is_some_and(|s| s.listed)
    }

    /// Since when and why the watch fails, while it does.
    pub fn failure(&self, watch: &WatchId) -> Option<&(jiff::Timestamp, String)> {
        self.watches.get(watch).and_then(|s| s.failure.as_ref())
    }

    /// Registers a watch before its first report, so that it counts as
    /// unread; a watch started again counts as unanswered until it lists.
    pub fn expect(&mut self, watch: WatchId) {
        let state = self.watches.entry(watch).or_default();
        state.relisting = state.listed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::APP_LABEL;
    use serde_json::json;

    fn deployment(name: &str, app: &str, image: &str) -> LiveObject {
        LiveObject::from_value(&deployment_value(name, app, image)).unwrap()
    }

    fn deployment_value(name: &str, app: &str, image: &str) -> Value {
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
        let key = deployment("a", "shop", "x:3").key().clone();
        assert_eq!(store.app_of(&key), Some("shop"));
        assert_eq!(
            store.object(&key).unwrap()["spec"]["template"]["spec"]["containers"][0]["image"],
            "x:3"
        );
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
        let mut unlabelled = deployment_value("c", "shop", "x:1");
        unlabelled["metadata"]["labels"] = json!({});
        let unlabelled = LiveObject::from_value(&unlabelled).unwrap();
        let key = unlabelled.key().clone();
        store.set_interest([key.clone()].into());
        let in_namespace = WatchId::unlabelled_for(&key, true);
        store.apply(LiveUpdate::Listed {
            watch: in_namespace,
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
    fn a_watch_started_again_is_unsettled_until_it_lists_and_keeps_what_it_showed() {
        let mut store = LiveStore::default();
        let watch = WatchId::unlabelled_for(&wanted("a").key, true);
        store.set_interest([wanted("a").key].into());
        store.expect(watch.clone());
        store.apply(LiveUpdate::Listed {
            watch: watch.clone(),
            objects: vec![deployment("a", "", "x:1")],
        });
        assert!(store.is_settled());
        store.expect(watch.clone());
        assert!(!store.is_settled(), "a relist to come");
        let view = store.app_view("shop", &[wanted("a")]);
        assert!(view.unreadable.is_empty() && view.objects.len() == 1);
        store.apply(LiveUpdate::Listed {
            watch,
            objects: vec![deployment("a", "", "x:1")],
        });
        assert!(store.is_settled());
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
        let key = object.key().clone();
        store.set_interest([key.clone()].into());
        let by_name = WatchId::unlabelled_for(&key, true);
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
        let key = object.key().clone();
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
