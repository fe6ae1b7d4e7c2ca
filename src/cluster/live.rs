//! What is read of an app's live objects: the wanted ones, the view the
//! live cache gives of them, and the pod probes for Service selectors.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::{StreamExt, stream};
use kube::api::{Api, DynamicObject, ListParams};
use serde_json::Value;

use super::client::REQUEST_TIMEOUT;
use super::{ClusterClient, KindCatalog};
use crate::resource::ResourceKey;

/// Lists and gets in flight at once against one server.
const CONCURRENCY: usize = 8;

/// An object to find live by name: one the desired state names (it may carry
/// no app label yet), or one it refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub key: ResourceKey,
    /// The version Git writes it in; `None` for the server's preferred one.
    pub version: Option<String>,
}

/// Pods in a namespace with these labels: does any exist? (A Service whose
/// selector matches no pod template in Git may still select pods live.)
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PodQuery {
    pub namespace: String,
    pub selector: BTreeMap<String, String>,
}

impl PodQuery {
    fn label_selector(&self) -> String {
        self.selector
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// What could be read of one app's objects.
#[derive(Debug, Clone, Default)]
pub struct LiveRead {
    /// Objects labelled as the app's, and the wanted objects found by name.
    pub objects: BTreeMap<ResourceKey, Arc<Value>>,
    /// Kinds or objects that could not be read: their resources are Unknown.
    pub unreadable: Vec<Unreadable>,
    /// Wanted objects whose kind the server does not serve (a CRD not installed).
    pub unserved: Vec<ResourceKey>,
    /// For each pod query: whether pods match it; absent when it could not be asked.
    pub pods_found: BTreeMap<PodQuery, bool>,
    /// Set when a watch failed and what it reported is the last known state.
    pub stale_since: Option<jiff::Timestamp>,
    pub stale_cause: Option<String>,
}

/// A part of the live state that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub group: String,
    pub kind: String,
    /// One object, or `None` for every object of the kind.
    pub object: Option<ResourceKey>,
    pub cause: String,
}

impl Unreadable {
    /// True when this covers the object with `key`.
    pub fn covers(&self, key: &ResourceKey) -> bool {
        match &self.object {
            Some(object) => object == key,
            None => self.group == key.group && self.kind == key.kind,
        }
    }

    /// `apps/Deployment`, or the object.
    pub fn what(&self) -> String {
        match &self.object {
            Some(object) => format!(
                "{} {}",
                kind_label(&object.group, &object.kind),
                object.qualified_name()
            ),
            None => kind_label(&self.group, &self.kind),
        }
    }
}

/// Asks, for each query, whether any pod matches (one list with limit 1 each).
pub async fn probe_pods(
    client: &ClusterClient,
    catalog: &KindCatalog,
    queries: &[PodQuery],
) -> BTreeMap<PodQuery, bool> {
    let Some(pods) = catalog.preferred("", "Pod") else {
        return BTreeMap::new();
    };
    let answers = stream::iter(queries.iter().cloned().map(|query| {
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.kube().clone(), &query.namespace, &pods.resource);
        async move {
            let params = ListParams::default()
                .labels(&query.label_selector())
                .limit(1);
            let found = tokio::time::timeout(REQUEST_TIMEOUT, api.list_metadata(&params))
                .await
                .ok()
                .and_then(Result::ok)
                .map(|list| !list.items.is_empty());
            (query, found)
        }
    }))
    .buffered(CONCURRENCY)
    .collect::<Vec<_>>()
    .await;
    answers
        .into_iter()
        .filter_map(|(query, found)| found.map(|found| (query, found)))
        .collect()
}

/// `Deployment` for the core group, `apps/Deployment` otherwise.
pub fn kind_label(group: &str, kind: &str) -> String {
    if group.is_empty() {
        kind.to_string()
    } else {
        format!("{group}/{kind}")
    }
}
