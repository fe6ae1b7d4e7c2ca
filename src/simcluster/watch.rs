//! Watches: a stream of newline-separated events (ADDED, MODIFIED, DELETED,
//! BOOKMARK, ERROR) resumed from a resourceVersion or started from the
//! current objects. A version older than the kept history is answered, as
//! by the real watch cache, with one ERROR event carrying 410 Expired.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc, watch};

use super::catalog::ResourceType;
use super::selectors::Selection;
use super::status::ApiError;
use super::store::{Change, ChangeKind, Store, StoredObject};
use super::table::{IncludeObject, table};

/// Where a watch starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WatchStart {
    /// After this resourceVersion.
    Revision(u64),
    /// With an ADDED event for every current object.
    Current,
    /// As `Current`, then a BOOKMARK marking the end of the initial events
    /// (`sendInitialEvents=true`).
    InitialEvents,
}

pub struct WatchRequest {
    pub rt: Arc<ResourceType>,
    pub namespace: Option<String>,
    pub selection: Selection,
    pub start: WatchStart,
    pub bookmarks: bool,
    pub timeout: Duration,
    /// Events carry Tables (`kubectl get --watch`) instead of objects.
    pub table: Option<(&'static str, IncludeObject)>,
}

/// What ends a watch besides its timeout.
pub struct WatchEnds {
    pub shutdown: watch::Receiver<bool>,
    pub drops: watch::Receiver<u64>,
    pub bookmark_interval: Duration,
}

impl WatchRequest {
    fn matches(&self, object: &StoredObject) -> bool {
        if let Some(namespace) = &self.namespace
            && object.namespace != *namespace
        {
            return false;
        }
        self.selection.matches(object)
    }

    fn line(&self, kind: &str, object: &StoredObject) -> Bytes {
        let body = match self.table {
            None => self.rt.present(&object.json),
            Some((version, include)) => {
                let value = serde_json::from_slice::<Value>(&self.rt.present(&object.json))
                    .unwrap_or(Value::Null);
                let rv = object.resource_version.to_string();
                let t = table(
                    &self.rt,
                    &[value],
                    version,
                    json!({"resourceVersion": rv}),
                    include,
                );
                Bytes::from(t.to_string())
            }
        };
        event_line(kind, &body)
    }

    /// The event a change is for this watch, if any: a change of labels
    /// turns into ADDED or DELETED for a watch with a selector.
    fn event_for(&self, change: &Change) -> Option<Bytes> {
        if change.key != self.rt.key() {
            return None;
        }
        let now = self.matches(&change.object);
        let before = change.previous.as_ref().is_some_and(|p| self.matches(p));
        let kind = match (change.kind, before, now) {
            (ChangeKind::Added, _, true) => "ADDED",
            (ChangeKind::Modified, true, true) => "MODIFIED",
            (ChangeKind::Modified, false, true) => "ADDED",
            (ChangeKind::Modified, true, false) => "DELETED",
            (ChangeKind::Deleted, true, _) | (ChangeKind::Deleted, _, true) => "DELETED",
            _ => return None,
        };
        Some(self.line(kind, &change.object))
    }

    fn bookmark(&self, revision: u64, initial_events_end: bool) -> Bytes {
        let mut metadata =
            json!({"resourceVersion": revision.to_string(), "creationTimestamp": null});
        if initial_events_end && let Some(map) = metadata.as_object_mut() {
            map.insert(
                "annotations".into(),
                json!({"k8s.io/initial-events-end": "true"}),
            );
        }
        let object = json!({"kind": self.rt.kind, "apiVersion": self.rt.api_version(), "metadata": metadata});
        event_line("BOOKMARK", object.to_string().as_bytes())
    }
}

fn event_line(kind: &str, object: &[u8]) -> Bytes {
    let mut line = Vec::with_capacity(object.len() + 32);
    line.extend_from_slice(b"{\"type\":\"");
    line.extend_from_slice(kind.as_bytes());
    line.extend_from_slice(b"\",\"object\":");
    line.extend_from_slice(object);
    line.extend_from_slice(b"}\n");
    Bytes::from(line)
}

type Chunk = Result<Bytes, std::io::Error>;

/// Opens a watch and gives the response body that streams it.
pub fn open(store: &Arc<Store>, request: WatchRequest, ends: WatchEnds) -> Body {
    let (sender, receiver) = mpsc::channel::<Chunk>(256);
    let mut initial: Vec<Bytes> = Vec::new();
    let (changes, revision) = match request.start {
        WatchStart::Revision(revision) => match store.follow(revision) {
            Ok((past, changes)) => {
                initial.extend(past.iter().filter_map(|c| request.event_for(c)));
                let last = past.last().map_or(revision, |c| c.revision);
                (changes, last)
            }
            Err(expired) => {
                let error = ApiError::expired(format!(
                    "too old resource version: {} ({})",
                    expired.requested, expired.oldest
                ));
                let line = event_line("ERROR", error.to_status().to_string().as_bytes());
                return Body::from(line);
            }
        },
        WatchStart::Current | WatchStart::InitialEvents => {
            let (state, changes) = store.subscribe();
            let namespace = request.namespace.as_deref();
            for object in state.list(&request.rt.key(), namespace, None) {
                if request.matches(object) {
                    initial.push(request.line("ADDED", object));
                }
            }
            let revision = state.revision();
            drop(state);
            if request.start == WatchStart::InitialEvents && request.bookmarks {
                initial.push(request.bookmark(revision, true));
            }
            (changes, revision)
        }
    };
    tokio::spawn(follow(request, ends, changes, revision, initial, sender));
    let stream = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    Body::from_stream(stream)
}

async fn follow(
    request: WatchRequest,
    mut ends: WatchEnds,
    mut changes: broadcast::Receiver<Arc<Change>>,
    mut revision: u64,
    initial: Vec<Bytes>,
    sender: mpsc::Sender<Chunk>,
) {
    for line in initial {
        if sender.send(Ok(line)).await.is_err() {
            return;
        }
    }
    let deadline = tokio::time::sleep(request.timeout);
    tokio::pin!(deadline);
    let period = ends.bookmark_interval.max(Duration::from_millis(10));
    let mut bookmarks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    loop {
        let line: Chunk = tokio::select! {
            _ = &mut deadline => return,
            _ = ends.shutdown.changed() => return,
            _ = ends.drops.changed() => Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "watch dropped (injected fault)",
            )),
            _ = sender.closed() => return,
            _ = bookmarks.tick(), if request.bookmarks => Ok(request.bookmark(revision, false)),
            received = changes.recv() => match received {
                Ok(change) => {
                    revision = change.revision;
                    match request.event_for(&change) {
                        Some(line) => Ok(line),
                        None => continue,
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => Err(std::io::Error::other(
                    "the watch fell too far behind and was closed",
                )),
                Err(broadcast::error::RecvError::Closed) => return,
            },
        };
        let failed = line.is_err();
        if sender.send(line).await.is_err() || failed {
            return;
        }
    }
}
