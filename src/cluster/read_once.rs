//! One look at an app's live objects through the live cache, each watch
//! listing once: for code that acts on one app outside the engine (tests,
//! benchmarks).

use std::sync::Arc;

use super::live::{LiveRead, Wanted};
use super::store::LiveStore;
use super::watch::LiveCache;
use super::watch_task::KeepManagers;
use super::{ClusterClient, ClusterError, KindCatalog};

/// One look at an app's live objects, the way the engine's one-shot mode
/// takes it: a label list of every watchable kind, and a list per kind and
/// namespace of the wanted objects, gathered in a live store. For code that
/// acts on one app outside the engine (tests, benchmarks).
pub async fn read_once(
    client: &ClusterClient,
    catalog: &mut KindCatalog,
    app: &str,
    wanted: &[Wanted],
) -> Result<LiveRead, ClusterError> {
    let (updates, mut reports) = tokio::sync::mpsc::unbounded_channel();
    let kinds = catalog.watchable();
    let mut store = LiveStore::default();
    let keep_all: KeepManagers = Arc::new(|_: &str| true);
    let mut cache = LiveCache::start(client.clone(), &kinds, updates, false, keep_all, &mut store);
    let mut needed = Vec::new();
    for item in wanted {
        let (group, version) = (&item.key.group, item.version.as_deref());
        if let Some(kind) = catalog
            .resolve(client, group, version, &item.key.kind)
            .await?
        {
            needed.push((kind, item.key.clone()));
        }
    }
    store.set_interest(wanted.iter().map(|w| w.key.clone()).collect());
    cache.track(&needed, &mut store);
    while !store.is_settled() {
        match reports.recv().await {
            Some(update) => {
                store.apply(update);
            }
            None => break,
        }
    }
    Ok(store.app_view(app, wanted))
}
