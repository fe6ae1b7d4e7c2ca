//! Reading an app's live objects once: what the headless commands use.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::{StreamExt, stream};
use kube::api::{Api, DynamicObject, ListParams};
use serde_json::Value;

use super::{ClusterClient, ClusterError, KindCatalog, ServedKind};
use crate::resource::{APP_LABEL, ResourceKey};

/// How long one list or get may take before the kind counts as unreadable.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// Lists and gets in flight at once against one server.
const CONCURRENCY: usize = 8;

/// An object the desired state names, to be found live by name when it
/// carries no app label yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

/// What could be read of one app's objects.
#[derive(Debug, Clone, Default)]
pub struct LiveRead {
    /// Objects labelled as the app's, and the wanted objects found by name.
    pub objects: BTreeMap<ResourceKey, Value>,
    /// Kinds or objects that could not be read: their resources are Unknown.
    pub unreadable: Vec<Unreadable>,
    /// Wanted objects whose kind the server does not serve (a CRD not installed).
    pub unserved: Vec<Wanted>,
    /// Set when a watch failed and what it reported is the last known state.
    pub stale_since: Option<jiff::Timestamp>,
    pub stale_cause: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// The kind (`apps/Deployment`) or the object (`apps/Deployment ns/name`).
    pub what: String,
    pub group: String,
    pub kind: String,
    pub cause: String,
}

/// Reads every object labelled `driftdeck.dev/app=<app>`, one list per
/// watchable kind, then gets by name the wanted objects that no list returned.
pub async fn read_app(
    client: &ClusterClient,
    catalog: &mut KindCatalog,
    app: &str,
    wanted: &[Wanted],
) -> Result<LiveRead, ClusterError> {
    let mut read = LiveRead::default();
    let selector = format!("{APP_LABEL}={app}");
    let kinds: Vec<ServedKind> = catalog.watchable().into_iter().cloned().collect();
    let lists = stream::iter(kinds.iter().map(|kind| list_kind(client, kind, &selector)))
        .buffered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    let mut all_failed = !lists.is_empty();
    let mut first_cause = None;
    for (kind, result) in kinds.iter().zip(lists) {
        match result {
            Ok(objects) => {
                all_failed = false;
                for object in objects {
                    if let Ok(key) = ResourceKey::of(&object) {
                        read.objects.insert(key, object);
                    }
                }
            }
            Err(cause) => {
                first_cause.get_or_insert_with(|| cause.clone());
                read.unreadable.push(Unreadable {
                    what: kind_label(&kind.resource.group, &kind.resource.kind),
                    group: kind.resource.group.clone(),
                    kind: kind.resource.kind.clone(),
                    cause,
                });
            }
        }
    }
    if all_failed {
        return Err(ClusterError::Unreachable {
            context: client.context().to_string(),
            cause: first_cause.unwrap_or_default(),
        });
    }

    let mut missing_by_name = Vec::new();
    for item in wanted {
        let key = ResourceKey::new(
            &item.api_version,
            &item.kind,
            item.namespace.as_deref(),
            &item.name,
        );
        if read.objects.contains_key(&key) {
            continue;
        }
        match catalog
            .find_or_rediscover(client, &item.api_version, &item.kind)
            .await?
        {
            Some(kind) => missing_by_name.push((key, kind, item)),
            None => read.unserved.push(item.clone()),
        }
    }
    let gets =
        stream::iter(missing_by_name.iter().map(|(_, kind, item)| {
            get_by_name(client, kind, item.namespace.as_deref(), &item.name)
        }))
        .buffered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    for ((key, kind, item), result) in missing_by_name.into_iter().zip(gets) {
        match result {
            Ok(Some(object)) => {
                read.objects.insert(key, object);
            }
            Ok(None) => {}
            Err(cause) => read.unreadable.push(Unreadable {
                what: format!(
                    "{} {}",
                    kind_label(&kind.resource.group, &kind.resource.kind),
                    qualified_name(item.namespace.as_deref(), &item.name)
                ),
                group: kind.resource.group.clone(),
                kind: kind.resource.kind.clone(),
                cause,
            }),
        }
    }
    Ok(read)
}

/// `Deployment` for the core group, `apps/Deployment` otherwise.
pub fn kind_label(group: &str, kind: &str) -> String {
    if group.is_empty() {
        kind.to_string()
    } else {
        format!("{group}/{kind}")
    }
}

fn qualified_name(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

async fn list_kind(
    client: &ClusterClient,
    kind: &ServedKind,
    selector: &str,
) -> Result<Vec<Value>, String> {
    let api: Api<DynamicObject> = Api::all_with(client.kube().clone(), &kind.resource);
    let params = ListParams::default().labels(selector);
    let list = tokio::time::timeout(REQUEST_TIMEOUT, api.list(&params))
        .await
        .map_err(|_| format!("no answer within {}s", REQUEST_TIMEOUT.as_secs()))?
        .map_err(|e| super::describe_kube_error(&e))?;
    Ok(list
        .items
        .into_iter()
        .filter_map(|o| to_value(o, &kind.resource))
        .collect())
}

async fn get_by_name(
    client: &ClusterClient,
    kind: &ServedKind,
    namespace: Option<&str>,
    name: &str,
) -> Result<Option<Value>, String> {
    let api: Api<DynamicObject> = match (kind.namespaced, namespace) {
        (true, Some(ns)) => Api::namespaced_with(client.kube().clone(), ns, &kind.resource),
        (true, None) => Api::default_namespaced_with(client.kube().clone(), &kind.resource),
        (false, _) => Api::all_with(client.kube().clone(), &kind.resource),
    };
    let object = tokio::time::timeout(REQUEST_TIMEOUT, api.get_opt(name))
        .await
        .map_err(|_| format!("no answer within {}s", REQUEST_TIMEOUT.as_secs()))?
        .map_err(|e| super::describe_kube_error(&e))?;
    Ok(object.and_then(|o| to_value(o, &kind.resource)))
}

/// A listed object as JSON, with the apiVersion and kind a list leaves out.
pub(super) fn to_value(
    object: DynamicObject,
    resource: &kube::discovery::ApiResource,
) -> Option<Value> {
    let mut value = serde_json::to_value(object).ok()?;
    if let Some(map) = value.as_object_mut() {
        map.insert(
            "apiVersion".into(),
            Value::String(resource.api_version.clone()),
        );
        map.insert("kind".into(), Value::String(resource.kind.clone()));
    }
    Some(value)
}
