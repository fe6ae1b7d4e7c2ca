//! The watches behind the live cache: one per kind with the app label, one
//! per kind and namespace holding objects Git names that carry no label yet. Each is a task that lists
//! once, then watches from the last resourceVersion; it lists again only when
//! the server says that version expired (410 Gone).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, DynamicObject, ListParams, WatchEvent, WatchParams};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::live::{REQUEST_TIMEOUT, to_value};
use super::store::{LiveUpdate, WatchId};
use super::{ClusterClient, ServedKind, describe_kube_error};
use crate::resource::{APP_LABEL, ResourceKey};

/// How long the server keeps one watch open before it is renewed.
const WATCH_SECONDS: u32 = 290;
/// Retry delays after errors: doubling from the first to the last.
const BACKOFF_FIRST: Duration = Duration::from_millis(500);
const BACKOFF_LAST: Duration = Duration::from_secs(30);
/// A watch that ends sooner than this after it was opened (or a list whose
/// watch is refused as expired this soon) counts as a failure: a server or
/// proxy that closes every watch at once must not get a tight loop.
const QUICK_END: Duration = Duration::from_secs(1);

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
    pub fn track(&mut self, objects: &[(ServedKind, ResourceKey)]) -> Tracked {
        let mut wanted: BTreeMap<WatchId, (&ServedKind, BTreeSet<ResourceKey>)> = BTreeMap::new();
        for (kind, key) in objects {
            let id = WatchId::unlabelled_for(key, kind.namespaced);
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
        tracked
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

#[derive(Clone)]
struct Selection {
    labels: Option<String>,
}

struct WatchTask {
    id: WatchId,
    api: Api<DynamicObject>,
    kind: ServedKind,
    selection: Selection,
    follow: bool,
    keep: KeepManagers,
    updates: mpsc::UnboundedSender<LiveUpdate>,
}

/// Which field managers' `managedFields` entries the live cache keeps.
pub type KeepManagers = std::sync::Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// Why a watch stopped.
enum WatchEnd {
    /// The server closed it (timeout) or the connection dropped: resume.
    Resume,
    /// The resourceVersion is too old: list again.
    Expired,
    /// The owner went away: stop.
    Closed,
}

impl WatchTask {
    async fn run(self) {
        let mut failures = 0u32;
        let mut quick_ends = QuickEnds::default();
        'list: loop {
            let listed_at = tokio::time::Instant::now();
            let version = match self.list().await {
                Ok(version) => version,
                Err(cause) => {
                    if !self.fail(cause) {
                        return;
                    }
                    tokio::time::sleep(backoff(failures)).await;
                    failures = failures.saturating_add(1);
                    continue 'list;
                }
            };
            let Some(version) = version else { return };
            if !self.follow {
                return;
            }
            failures = 0;
            let mut version = version;
            let mut stale = false;
            loop {
                let params = self.watch_params();
                match self.api.watch(&params, &version).await {
                    Ok(stream) => {
                        if stale {
                            stale = false;
                            if self
                                .updates
                                .send(LiveUpdate::Recovered {
                                    watch: self.id.clone(),
                                })
                                .is_err()
                            {
                                return;
                            }
                        }
                        failures = 0;
                        let opened = tokio::time::Instant::now();
                        let end = self.follow(stream, &mut version).await;
                        if let Some(wait) = quick_ends.wait_after(opened.elapsed()) {
                            tracing::debug!(watch = ?self.id, ?wait, "the watch ended at once; waiting");
                            tokio::time::sleep(wait).await;
                        }
                        match end {
                            WatchEnd::Resume => {}
                            WatchEnd::Expired => continue 'list,
                            WatchEnd::Closed => return,
                        }
                    }
                    Err(kube::Error::Api(status)) if status.code == 410 => {
                        if let Some(wait) = quick_ends.wait_after(listed_at.elapsed()) {
                            tokio::time::sleep(wait).await;
                        }
                        continue 'list;
                    }
                    Err(err) => {
                        stale = true;
                        if !self.fail(describe_kube_error(&err)) {
                            return;
                        }
                        tokio::time::sleep(backoff(failures)).await;
                        failures = failures.saturating_add(1);
                    }
                }
            }
        }
    }

    /// Lists everything the watch covers and reports it. `Ok(None)` when
    /// the owner is gone.
    async fn list(&self) -> Result<Option<String>, String> {
        let params = ListParams {
            label_selector: self.selection.labels.clone(),
            ..ListParams::default()
        };
        let list = tokio::time::timeout(REQUEST_TIMEOUT, self.api.list(&params))
            .await
            .map_err(|_| format!("no answer within {}s", REQUEST_TIMEOUT.as_secs()))?
            .map_err(|e| describe_kube_error(&e))?;
        let version = list.metadata.resource_version.clone().unwrap_or_default();
        let objects = list
            .items
            .into_iter()
            .filter_map(|o| self.value(o))
            .collect();
        let sent = self.updates.send(LiveUpdate::Listed {
            watch: self.id.clone(),
            objects,
        });
        Ok(sent.ok().map(|_| version))
    }

    fn watch_params(&self) -> WatchParams {
        let mut params = WatchParams::default().timeout(WATCH_SECONDS);
        params.label_selector = self.selection.labels.clone();
        params.bookmarks = true;
        params
    }

    /// Reports every event of one watch, keeping `version` current.
    async fn follow(
        &self,
        stream: impl futures::Stream<Item = kube::Result<WatchEvent<DynamicObject>>>,
        version: &mut String,
    ) -> WatchEnd {
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            let update = match event {
                Ok(WatchEvent::Added(object)) | Ok(WatchEvent::Modified(object)) => {
                    remember_version(version, &object);
                    self.value(object).map(|object| LiveUpdate::Applied {
                        watch: self.id.clone(),
                        object,
                    })
                }
                Ok(WatchEvent::Deleted(object)) => {
                    remember_version(version, &object);
                    to_value(object, &self.kind.resource)
                        .and_then(|object| ResourceKey::of(&object).ok())
                        .map(|key| LiveUpdate::Deleted {
                            watch: self.id.clone(),
                            key,
                        })
                }
                Ok(WatchEvent::Bookmark(bookmark)) => {
                    *version = bookmark.metadata.resource_version;
                    None
                }
                Ok(WatchEvent::Error(status)) if status.code == 410 => return WatchEnd::Expired,
                Ok(WatchEvent::Error(status)) => {
                    tracing::debug!(watch = ?self.id, code = status.code, message = %status.message, "watch error event");
                    return WatchEnd::Resume;
                }
                // A broken stream is resumed from the last version seen.
                Err(err) => {
                    tracing::debug!(watch = ?self.id, error = %err, "watch stream broke");
                    return WatchEnd::Resume;
                }
            };
            if let Some(update) = update
                && self.updates.send(update).is_err()
            {
                return WatchEnd::Closed;
            }
        }
        WatchEnd::Resume
    }

    /// The object as the cache keeps it.
    fn value(&self, object: DynamicObject) -> Option<serde_json::Value> {
        let mut value = to_value(object, &self.kind.resource)?;
        trim_managed_fields(&mut value, self.keep.as_ref());
        Some(value)
    }

    /// Reports a failure; false when the owner is gone.
    fn fail(&self, cause: String) -> bool {
        tracing::info!(watch = ?self.id, %cause, "watch failed, keeping the last state");
        self.updates
            .send(LiveUpdate::Failed {
                watch: self.id.clone(),
                cause,
                at: jiff::Timestamp::now(),
            })
            .is_ok()
    }
}

/// Drops the `managedFields` entries of managers `keep` does not accept.
fn trim_managed_fields(object: &mut serde_json::Value, keep: &dyn Fn(&str) -> bool) {
    if let Some(entries) = object
        .pointer_mut("/metadata/managedFields")
        .and_then(serde_json::Value::as_array_mut)
    {
        entries.retain(|entry| {
            entry
                .get("manager")
                .and_then(serde_json::Value::as_str)
                .is_some_and(keep)
        });
    }
}

fn remember_version(version: &mut String, object: &DynamicObject) {
    if let Some(v) = &object.metadata.resource_version {
        version.clone_from(v);
    }
}

/// Watches that ended soon after they began, in a row.
#[derive(Default)]
struct QuickEnds(u32);

impl QuickEnds {
    /// The wait before the next watch or list, given how long the last one
    /// lasted: none after a watch that lasted, growing waits after quick ends.
    fn wait_after(&mut self, lasted: Duration) -> Option<Duration> {
        if lasted >= QUICK_END {
            self.0 = 0;
            return None;
        }
        let wait = backoff(self.0);
        self.0 = self.0.saturating_add(1);
        Some(wait)
    }
}

/// The delay before retry number `failures` (0-based): doubling, capped.
fn backoff(failures: u32) -> Duration {
    BACKOFF_FIRST
        .saturating_mul(2u32.saturating_pow(failures.min(16)))
        .min(BACKOFF_LAST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_kept_managers_entries_stay() {
        let mut object = serde_json::json!({"metadata": {"managedFields": [
            {"manager": "driftdeck", "fieldsV1": {}},
            {"manager": "kube-controller-manager", "fieldsV1": {}},
            {"manager": "kubectl-edit", "fieldsV1": {}},
            {"fieldsV1": {}}
        ]}});
        trim_managed_fields(&mut object, &|m| m == "driftdeck" || m == "kubectl-edit");
        let managers: Vec<&str> = object["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["manager"].as_str().unwrap())
            .collect();
        assert_eq!(managers, vec!["driftdeck", "kubectl-edit"]);
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        assert_eq!(backoff(0), Duration::from_millis(500));
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(4));
        assert_eq!(backoff(10), BACKOFF_LAST);
        assert_eq!(backoff(u32::MAX), BACKOFF_LAST);
    }

    #[test]
    fn watches_that_end_at_once_wait_longer_each_time_until_one_lasts() {
        let mut quick = QuickEnds::default();
        let instant = Duration::from_millis(5);
        assert_eq!(quick.wait_after(instant), Some(backoff(0)));
        assert_eq!(quick.wait_after(instant), Some(backoff(1)));
        assert_eq!(quick.wait_after(instant), Some(backoff(2)));
        assert_eq!(quick.wait_after(Duration::from_secs(290)), None);
        assert_eq!(
            quick.wait_after(instant),
            Some(backoff(0)),
            "a lasting watch resets"
        );
    }
}
