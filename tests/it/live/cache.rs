//! The live cache: watches keep it current without listing again, and a
//! failed watch leaves the last state in place, marked stale, until it
//! recovers.

use std::time::Duration;

use driftdeck::cluster::{ClusterClient, KindCatalog, LiveCache, LiveStore, LiveUpdate};
use kube::config::Kubeconfig;
use serde_json::json;
use tokio::sync::mpsc;

use super::sim::within_timeout;
use super::support::{APP, NAMESPACE, World};

/// A cache over every watchable kind of the world's cluster.
struct Watched {
    cache: LiveCache,
    store: LiveStore,
    updates: mpsc::UnboundedReceiver<LiveUpdate>,
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
        let cache = LiveCache::start(
            client,
            &kinds,
            sender,
            true,
            std::sync::Arc::new(|_: &str| true),
            &mut store,
        );
        Watched {
            cache,
            store,
            updates,
        }
    }

    /// Applies updates until `done` holds for the store.
    async fn until(&mut self, what: &str, done: impl Fn(&LiveStore) -> bool) {
        let wait = async {
            while !done(&self.store) {
                let update = self.updates.recv().await.expect("the watches are running");
                self.store.apply(update);
            }
        };
        tokio::time::timeout(Duration::from_secs(20), wait)
            .await
            .unwrap_or_else(|_| panic!("{what} did not happen in time"));
    }

    fn color(&self) -> Option<String> {
        let view = self.store.app_view(APP, &[]);
        view.objects
            .values()
            .find(|o| o["kind"] == "ConfigMap")
            .and_then(|o| o["data"]["color"].as_str().map(str::to_string))
    }
}

fn settings(color: &str) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": NAMESPACE,
                     "labels": {"driftdeck.dev/app": APP}},
        "data": {"color": color}})
}

#[tokio::test]
async fn watches_keep_the_cache_current_without_listing_again() {
    within_timeout(async {
        let world = World::new().await;
        world.apply_as_driftdeck().await;
        let mut watched = Watched::start(&world).await;
        watched.until("the first lists", LiveStore::is_primed).await;
        assert_eq!(watched.store.app_view(APP, &[]).objects.len(), 5);
        let lists = || world.sim.metrics().snapshot().count_verb("list");
        let lists_before = lists();
        world.apply(&settings("green"), "someone").await;
        watched
            .until("the change", |s| {
                s.app_view(APP, &[])
                    .objects
                    .values()
                    .any(|o| o["data"]["color"] == "green")
            })
            .await;
        assert_eq!(watched.color().as_deref(), Some("green"));
        assert_eq!(
            lists(),
            lists_before,
            "the change came through the watch, not a list"
        );
        assert!(watched.cache.client().requests().watches > 0);
    })
    .await;
}

#[tokio::test]
async fn dropped_watches_leave_the_state_stale_then_current_again() {
    within_timeout(async {
        let world = World::new().await;
        world.apply_as_driftdeck().await;
        let mut watched = Watched::start(&world).await;
        watched.until("the first lists", LiveStore::is_primed).await;

        // Away until told otherwise: no step depends on the machine's speed.
        world.sim.faults().go_offline(Duration::from_secs(3600));
        world.sim.faults().drop_watches();
        watched
            .until("a failed watch", |s| {
                s.app_view(APP, &[]).stale_since.is_some()
            })
            .await;
        let stale = watched.store.app_view(APP, &[]);
        assert_eq!(stale.objects.len(), 5, "the last state is kept while stale");
        assert!(stale.stale_cause.is_some());
        world.sim.faults().go_offline(Duration::ZERO);

        watched
            .until("recovery", |s| s.app_view(APP, &[]).stale_since.is_none())
            .await;
        world.apply(&settings("purple"), "someone").await;
        watched
            .until("a change after recovery", |s| {
                s.app_view(APP, &[])
                    .objects
                    .values()
                    .any(|o| o["data"]["color"] == "purple")
            })
            .await;
    })
    .await;
}

#[tokio::test]
async fn an_expired_watch_lists_again_and_misses_nothing() {
    within_timeout(async {
        let world = World::new().await;
        world.apply_as_driftdeck().await;
        let mut watched = Watched::start(&world).await;
        watched.until("the first lists", LiveStore::is_primed).await;
        let lists = || world.sim.metrics().snapshot().count("list", "configmaps");
        let before = lists();
        // The watches are cut and cannot come back while a new object is
        // created and the history they would resume from is dropped.
        world.sim.faults().go_offline(Duration::from_secs(3600));
        world.sim.faults().drop_watches();
        let mut extra = settings("orange");
        extra["metadata"]["name"] = json!("made-while-away");
        world.sim.load_objects([extra], "someone").unwrap();
        world.sim.faults().expire_watch_history();
        world.sim.faults().go_offline(Duration::ZERO);
        watched
            .until("the object made while the watch was down", |s| {
                s.app_view(APP, &[])
                    .objects
                    .keys()
                    .any(|k| k.name == "made-while-away")
            })
            .await;
        assert!(lists() > before, "the expired watch was replaced by a list");
    })
    .await;
}
