//! The watch cache against a throttling, failing or hung API server: the
//! state is marked stale with the server's answer as the cause, each watch
//! asks again no sooner than the server said, and every request is counted
//! where it leaves the process.

use std::collections::BTreeSet;
use std::time::Duration;

use driftdeck::cluster::{ClusterClient, KindCatalog, LiveCache, LiveStore, LiveUpdate, WatchId};
use kube::config::Kubeconfig;
use tokio::sync::mpsc;

use super::sim::{eventually, within_timeout};
use super::world::{APP, World};

/// A cache over every watchable kind, and what its watches reported.
struct Watched {
    cache: LiveCache,
    store: LiveStore,
    updates: mpsc::UnboundedReceiver<LiveUpdate>,
    watches: usize,
    /// The watches that reported a failure since `forget_failures`.
    failed: BTreeSet<WatchId>,
}

impl Watched {
    async fn start(world: &World) -> Watched {
        let kubeconfig = Kubeconfig::from_yaml(&world.sim.kubeconfig_yaml()).unwrap();
        let client = ClusterClient::from_kubeconfig(kubeconfig, None)
            .await
            .unwrap();
        let catalog = KindCatalog::discover(&client).await.unwrap();
        let (sender, updates) = mpsc::unbounded_channel();
        let mut store = LiveStore::default();
        let kinds = catalog.watchable();
        let watches = kinds.len();
        let cache = LiveCache::start(
            client,
            &kinds,
            sender,
            true,
            std::sync::Arc::new(|_: &str| true),
            &mut store,
        );
        let mut watched = Watched {
            cache,
            store,
            updates,
            watches,
            failed: BTreeSet::new(),
        };
        watched.until("the first lists", LiveStore::is_primed).await;
        watched
    }

    /// Applies updates until `done` holds.
    async fn until(&mut self, what: &str, done: impl Fn(&LiveStore) -> bool) {
        let wait = async {
            while !done(&self.store) {
                let update = self.updates.recv().await.expect("the watches are running");
                if let LiveUpdate::Failed { watch, .. } = &update {
                    self.failed.insert(watch.clone());
                }
                self.store.apply(update);
            }
        };
        tokio::time::timeout(Duration::from_secs(20), wait)
            .await
            .unwrap_or_else(|_| panic!("{what} did not happen in time"));
    }

    /// Applies updates until every watch has reported a failure.
    async fn until_every_watch_failed(&mut self) {
        let wait = async {
            while self.failed.len() < self.watches {
                let update = self.updates.recv().await.expect("the watches are running");
                if let LiveUpdate::Failed { watch, .. } = &update {
                    self.failed.insert(watch.clone());
                }
                self.store.apply(update);
            }
        };
        tokio::time::timeout(Duration::from_secs(20), wait)
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "only {} of {} watches reported a failure",
                    self.failed.len(),
                    self.watches
                )
            });
    }

    fn stale_cause(&self) -> Option<String> {
        let view = self.store.app_view(APP, &[]);
        view.stale_since.and(view.stale_cause)
    }
}

#[tokio::test]
async fn a_throttled_watch_is_stale_at_once_and_asks_again_no_sooner_than_told() {
    within_timeout(async {
        let world = World::new().await;
        world.apply_as_driftdeck().await;
        world.sim.metrics().reset();
        let mut watched = Watched::start(&world).await;
        let served = || world.sim.metrics().snapshot().count_verb("watch");
        let watches = watched.watches as u64;
        eventually("every watch open", || async { served() == watches }).await;
        world
            .sim
            .faults()
            .throttle_requests(1.0, Duration::from_secs(3600))
            .unwrap();
        world.sim.faults().drop_watches();
        watched.until_every_watch_failed().await;
        let cause = watched.stale_cause().expect("the state is marked stale");
        assert!(cause.contains("429"), "{cause}");
        let after_the_fault = served();
        assert_eq!(after_the_fault, 2 * watches, "one request per watch");

        // Longer than the first backoff step: a watch that ignored the
        // server's Retry-After would have asked again by now.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(served(), after_the_fault, "no watch asked again");
        let requests = watched.cache.client().requests();
        let all_served = world.sim.metrics().snapshot().total;
        assert_eq!(
            requests.total(),
            all_served,
            "every request is counted as it leaves: {requests:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn an_unavailable_server_marks_the_watches_stale_with_its_answer() {
    within_timeout(async {
        let world = World::new().await;
        world.apply_as_driftdeck().await;
        let mut watched = Watched::start(&world).await;
        world.sim.faults().fail_requests(1.0, 503).unwrap();
        world.sim.faults().drop_watches();
        watched
            .until("a stale mark", |s| {
                s.app_view(APP, &[]).stale_since.is_some()
            })
            .await;
        let cause = watched.stale_cause().unwrap();
        assert!(cause.contains("503"), "{cause}");
        world.sim.faults().clear();
        watched
            .until("recovery", |s| s.app_view(APP, &[]).stale_since.is_none())
            .await;
    })
    .await;
}

#[tokio::test]
async fn a_hung_server_marks_the_watches_stale_long_before_a_request_times_out() {
    within_timeout(async {
        let world = World::new().await;
        world.apply_as_driftdeck().await;
        let mut watched = Watched::start(&world).await;
        assert!(watched.cache.client().request_timeout() >= Duration::from_secs(30));
        world.sim.faults().set_latency(Duration::from_secs(600));
        world.sim.faults().drop_watches();
        // `until` gives up after 20 s, before any request's 30 s timeout:
        // the mark comes from the watch's patience, not from a timeout.
        watched
            .until("a stale mark", |s| {
                s.app_view(APP, &[]).stale_since.is_some()
            })
            .await;
        let cause = watched.stale_cause().unwrap();
        assert!(cause.contains("no answer"), "{cause}");
        assert_eq!(
            watched.store.app_view(APP, &[]).objects.len(),
            5,
            "the last state is kept while stale"
        );
    })
    .await;
}
