//! One watch of the live cache, as a task: list (in pages), then follow
//! from the last resourceVersion, resuming when the server closes the
//! watch, listing again only when that version expired (410 Gone), telling
//! a quiet watch from a dead connection by the server's bookmarks, and
//! backing off when the server refuses or every watch ends at once.

use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, DynamicObject, ListParams, WatchEvent, WatchParams};
use tokio::sync::mpsc;

use super::client::REQUEST_TIMEOUT;
use super::live_object::LiveObject;
use super::live_update::{LiveUpdate, WatchId};
use super::retry::{backoff, wait_before_retry};
use super::{ServedKind, describe_kube_error};

/// Objects per list request.
const LIST_PAGE: u32 = 500;
/// How long the server keeps one watch open before it is renewed.
const WATCH_SECONDS: u32 = 290;
/// How long a list or a watch request waits for its answer before the
/// watch says the server is not answering (its state stale) and goes on
/// waiting, up to the request timeout: a hung server shows in seconds, a
/// slow one clears the mark when its answer comes.
const PATIENCE: Duration = Duration::from_secs(2);
/// How long an open watch may stay silent (no event, no bookmark) before it
/// is taken for cut, until the server's bookmark interval is known; then
/// twice that interval and `SILENCE_MARGIN`. API servers send a bookmark
/// about every minute to watches that ask for them, as these do.
const SILENCE_UNLEARNED: Duration = Duration::from_secs(90);
const SILENCE_MARGIN: Duration = Duration::from_secs(2);
/// A watch that ends sooner than this after it was opened (or a list whose
/// watch is refused as expired this soon) counts as a failure: a server or
/// proxy that closes every watch at once must not get a tight loop.
const QUICK_END: Duration = Duration::from_secs(1);

/// Which field managers' `managedFields` entries the live cache keeps.
pub type KeepManagers = std::sync::Arc<dyn Fn(&str) -> bool + Send + Sync>;

#[derive(Clone)]
pub(super) struct Selection {
    pub labels: Option<String>,
}

/// One watch: what it reads and where its updates go.
pub(super) struct WatchTask {
    pub id: WatchId,
    pub api: Api<DynamicObject>,
    pub kind: ServedKind,
    pub selection: Selection,
    /// False for a one-shot look: list once and stop there.
    pub follow: bool,
    pub keep: KeepManagers,
    pub updates: mpsc::UnboundedSender<LiveUpdate>,
}

/// Why a watch stopped.
enum WatchEnd {
    /// The server closed it (timeout) or the connection dropped: resume.
    Resume,
    /// The resourceVersion is too old: list again.
    Expired,
    /// Nothing came for this long: the connection may be dead; resume.
    Silent(Duration),
    /// The owner went away: stop.
    Closed,
}

/// Why a list failed, and how long the server asked to be left alone.
struct ListFailure {
    cause: String,
    retry_after: Option<Duration>,
}

/// The wait a refusal asks for: `details.retryAfterSeconds` of the Status,
/// which API servers set with the `Retry-After` header.
fn retry_after(err: &kube::Error) -> Option<Duration> {
    match err {
        kube::Error::Api(status) => status
            .details
            .as_ref()
            .map(|d| d.retry_after_seconds)
            .filter(|s| *s > 0)
            .map(|s| Duration::from_secs(u64::from(s))),
        _ => None,
    }
}

/// What a watch knows of its server's bookmark interval, to tell a quiet
/// watch from a dead connection.
#[derive(Default)]
struct Silence {
    /// The longest time seen between two bookmarks (or the opening and the
    /// first one).
    interval: Option<Duration>,
}

impl Silence {
    /// How long to wait for the next event or bookmark.
    fn limit(&self) -> Duration {
        match self.interval {
            Some(interval) => interval.saturating_mul(2).saturating_add(SILENCE_MARGIN),
            None => SILENCE_UNLEARNED,
        }
    }

    fn bookmark_after(&mut self, gap: Duration) {
        self.interval = Some(self.interval.map_or(gap, |known| known.max(gap)));
    }
}

impl WatchTask {
    pub(super) async fn run(self) {
        let mut failures = 0u32;
        let mut quick_ends = QuickEnds::default();
        let mut silence = Silence::default();
        'list: loop {
            let listed_at = tokio::time::Instant::now();
            let Some((listed, _)) = self.patiently("list", self.list()).await else {
                return;
            };
            let version = match listed {
                Ok(version) => version,
                Err(failure) => {
                    if !self.fail(failure.cause) {
                        return;
                    }
                    tokio::time::sleep(wait_before_retry(failures, failure.retry_after)).await;
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
                let Some((opened, waited)) = self
                    .patiently("watch request", self.api.watch(&params, &version))
                    .await
                else {
                    return;
                };
                stale |= waited;
                match opened {
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
                        let end = self.follow(stream, &mut version, &mut silence).await;
                        if let Some(wait) = quick_ends.wait_after(opened.elapsed()) {
                            tracing::debug!(watch = ?self.id, ?wait, "the watch ended at once; waiting");
                            // Nothing is watched meanwhile: a long wait is stale time.
                            if wait >= PATIENCE {
                                stale = true;
                                let cause = format!(
                                    "the watch ended at once {} times in a row; opening it again in {}",
                                    quick_ends.0,
                                    super::seconds(wait)
                                );
                                if !self.fail(cause) {
                                    return;
                                }
                            }
                            tokio::time::sleep(wait).await;
                        }
                        match end {
                            WatchEnd::Resume => {}
                            WatchEnd::Silent(after) => {
                                stale = true;
                                let cause =
                                    format!("no event nor bookmark for {}", super::seconds(after));
                                if !self.fail(cause) {
                                    return;
                                }
                            }
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
                        tokio::time::sleep(wait_before_retry(failures, retry_after(&err))).await;
                        failures = failures.saturating_add(1);
                    }
                }
            }
        }
    }

    /// Waits for `request`; if it takes longer than `PATIENCE`, reports that
    /// the server is not answering and goes on waiting. Gives the answer
    /// and whether a failure was reported, or `None` when the owner is gone.
    async fn patiently<T>(
        &self,
        what: &str,
        request: impl Future<Output = T>,
    ) -> Option<(T, bool)> {
        let mut request = std::pin::pin!(request);
        tokio::select! {
            answer = &mut request => return Some((answer, false)),
            _ = tokio::time::sleep(PATIENCE) => {}
        }
        let cause = format!(
            "no answer to the {what} after {}; still waiting",
            super::seconds(PATIENCE)
        );
        if !self.fail(cause) {
            return None;
        }
        Some((request.await, true))
    }

    /// Lists everything the watch covers and reports it. `Ok(None)` when
    /// the owner is gone. In pages of `LIST_PAGE`, as client-go's reflector
    /// does: a page's objects are made compact before the next is read, so
    /// a kind with thousands of objects never sits whole in memory as
    /// parsed JSON (the peak that glibc's heap then kept).
    async fn list(&self) -> Result<Option<String>, ListFailure> {
        let mut params = ListParams {
            label_selector: self.selection.labels.clone(),
            limit: Some(LIST_PAGE),
            ..ListParams::default()
        };
        let mut objects = Vec::new();
        let version = loop {
            let page = tokio::time::timeout(REQUEST_TIMEOUT, self.api.list(&params))
                .await
                .map_err(|_| ListFailure {
                    cause: super::NoAnswer(REQUEST_TIMEOUT).to_string(),
                    retry_after: None,
                })?
                .map_err(|e| ListFailure {
                    cause: describe_kube_error(&e),
                    retry_after: retry_after(&e),
                })?;
            objects.extend(page.items.into_iter().filter_map(|o| self.value(o)));
            match page.metadata.continue_.filter(|token| !token.is_empty()) {
                Some(token) => params.continue_token = Some(token),
                None => break page.metadata.resource_version.unwrap_or_default(),
            }
        };
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

    /// Reports every event of one watch, keeping `version` current, until
    /// it ends or stays silent longer than `silence` allows.
    async fn follow(
        &self,
        stream: impl futures::Stream<Item = kube::Result<WatchEvent<DynamicObject>>>,
        version: &mut String,
        silence: &mut Silence,
    ) -> WatchEnd {
        let mut stream = std::pin::pin!(stream);
        let mut last_bookmark = tokio::time::Instant::now();
        loop {
            let limit = silence.limit();
            let Ok(next) = tokio::time::timeout(limit, stream.next()).await else {
                return WatchEnd::Silent(limit);
            };
            let Some(event) = next else { break };
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
                    self.value(object).map(|object| LiveUpdate::Deleted {
                        watch: self.id.clone(),
                        key: object.key().clone(),
                    })
                }
                Ok(WatchEvent::Bookmark(bookmark)) => {
                    *version = bookmark.metadata.resource_version;
                    silence.bookmark_after(last_bookmark.elapsed());
                    last_bookmark = tokio::time::Instant::now();
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
    fn value(&self, object: DynamicObject) -> Option<LiveObject> {
        LiveObject::read(object, &self.kind.resource, self.keep.as_ref())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quiet_watch_may_stay_silent_twice_its_bookmark_interval() {
        let mut silence = Silence::default();
        assert_eq!(silence.limit(), SILENCE_UNLEARNED);
        silence.bookmark_after(Duration::from_millis(500));
        assert_eq!(silence.limit(), Duration::from_secs(3));
        silence.bookmark_after(Duration::from_millis(100));
        assert_eq!(
            silence.limit(),
            Duration::from_secs(3),
            "the longest gap counts"
        );
        silence.bookmark_after(Duration::from_secs(60));
        assert_eq!(silence.limit(), Duration::from_secs(122));
    }

    #[test]
    fn a_refusal_asks_for_the_wait_its_status_names() {
        let status = |json: serde_json::Value| {
            kube::Error::Api(Box::new(serde_json::from_value(json).unwrap()))
        };
        let throttled = status(serde_json::json!({
            "status": "Failure", "code": 429, "reason": "TooManyRequests", "message": "slow down",
            "details": {"retryAfterSeconds": 7}
        }));
        assert_eq!(retry_after(&throttled), Some(Duration::from_secs(7)));
        let unavailable = status(serde_json::json!({
            "status": "Failure", "code": 503, "reason": "ServiceUnavailable", "message": "busy"
        }));
        assert_eq!(retry_after(&unavailable), None);
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
