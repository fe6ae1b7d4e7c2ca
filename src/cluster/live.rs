//! Reading an app's live objects once: what the headless commands use.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::{StreamExt, stream};
use kube::api::{Api, DynamicObject, ListParams};
use serde_json::Value;

use super::{ClusterClient, ClusterError, KindCatalog, ServedKind};
use crate::resource::{APP_LABEL, ResourceKey};

/// How long one list or get may take before it counts as unreadable.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
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
    pub objects: BTreeMap<ResourceKey, Value>,
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

/// Reads every object labelled as one of `apps`' (one list per watchable
/// kind, for all the apps at once); then gets by name the wanted objects no
/// list returned, and asks once per pod query whether any pod matches.
pub async fn read_live(
    client: &ClusterClient,
    catalog: &mut KindCatalog,
    apps: &[&str],
    wanted: &[Wanted],
    pod_queries: &[PodQuery],
) -> Result<LiveRead, ClusterError> {
    let mut read = LiveRead::default();
    let selector = format!("{APP_LABEL} in ({})", apps.join(","));
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
                    group: kind.resource.group.clone(),
                    kind: kind.resource.kind.clone(),
                    object: None,
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

    let mut by_name = Vec::new();
    for item in wanted {
        if read.objects.contains_key(&item.key) {
            continue;
        }
        match catalog
            .resolve(
                client,
                &item.key.group,
                item.version.as_deref(),
                &item.key.kind,
            )
            .await?
        {
            Some(kind) => by_name.push((item.key.clone(), kind)),
            None => read.unserved.push(item.key.clone()),
        }
    }
    let fetched = stream::iter(
        plan_fetches(by_name)
            .into_iter()
            .map(|fetch| fetch.run(client)),
    )
    .buffered(CONCURRENCY)
    .collect::<Vec<_>>()
    .await;
    for (key, kind, result) in fetched.into_iter().flatten() {
        match result {
            Ok(Some(object)) => {
                read.objects.insert(key, object);
            }
            Ok(None) => {}
            Err(cause) => read.unreadable.push(Unreadable {
                group: kind.resource.group.clone(),
                kind: kind.resource.kind.clone(),
                object: Some(key),
                cause,
            }),
        }
    }
    read.pods_found = probe_pods(client, catalog, pod_queries).await;
    Ok(read)
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

/// Above this many wanted objects of one kind in one namespace, one list of
/// the namespace costs less than a get per object.
const GETS_PER_LIST: usize = 3;

/// How to read some wanted objects: one by one, or one list for many.
enum Fetch {
    Get(ResourceKey, ServedKind),
    List {
        kind: ServedKind,
        namespace: Option<String>,
        keys: Vec<ResourceKey>,
    },
}

/// Group, version, kind and namespace.
type FetchGroup = (String, String, String, Option<String>);

/// Groups wanted objects by kind and namespace; a large group is listed.
fn plan_fetches(wanted: Vec<(ResourceKey, ServedKind)>) -> Vec<Fetch> {
    let mut groups: BTreeMap<FetchGroup, (ServedKind, Vec<ResourceKey>)> = BTreeMap::new();
    for (key, kind) in wanted {
        let group = (
            kind.resource.group.clone(),
            kind.resource.version.clone(),
            kind.resource.kind.clone(),
            key.namespace.clone(),
        );
        groups
            .entry(group)
            .or_insert_with(|| (kind, Vec::new()))
            .1
            .push(key);
    }
    let mut fetches = Vec::new();
    for ((_, _, _, namespace), (kind, keys)) in groups {
        if keys.len() > GETS_PER_LIST {
            fetches.push(Fetch::List {
                kind,
                namespace,
                keys,
            });
        } else {
            fetches.extend(keys.into_iter().map(|key| Fetch::Get(key, kind.clone())));
        }
    }
    fetches
}

impl Fetch {
    /// Each wanted object with what was found of it.
    async fn run(
        self,
        client: &ClusterClient,
    ) -> Vec<(ResourceKey, ServedKind, Result<Option<Value>, String>)> {
        match self {
            Fetch::Get(key, kind) => {
                let result = get_by_name(client, &kind, &key).await;
                vec![(key, kind, result)]
            }
            Fetch::List {
                kind,
                namespace,
                keys,
            } => {
                let api = kind.api_for(client, namespace.as_deref());
                let listed =
                    tokio::time::timeout(REQUEST_TIMEOUT, api.list(&ListParams::default()))
                        .await
                        .map_err(|_| format!("no answer within {}s", REQUEST_TIMEOUT.as_secs()))
                        .and_then(|r| r.map_err(|e| super::describe_kube_error(&e)));
                let found: BTreeMap<ResourceKey, Value> = match &listed {
                    Ok(list) => list
                        .items
                        .iter()
                        .filter_map(|o| to_value(o.clone(), &kind.resource))
                        .filter_map(|o| Some((ResourceKey::of(&o).ok()?, o)))
                        .collect(),
                    Err(_) => BTreeMap::new(),
                };
                keys.into_iter()
                    .map(|key| {
                        let result = match &listed {
                            Ok(_) => Ok(found.get(&key).cloned()),
                            Err(cause) => Err(cause.clone()),
                        };
                        (key, kind.clone(), result)
                    })
                    .collect()
            }
        }
    }
}

/// `Deployment` for the core group, `apps/Deployment` otherwise.
pub fn kind_label(group: &str, kind: &str) -> String {
    if group.is_empty() {
        kind.to_string()
    } else {
        format!("{group}/{kind}")
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
    key: &ResourceKey,
) -> Result<Option<Value>, String> {
    let api = kind.api_for(client, key.namespace.as_deref());
    let object = tokio::time::timeout(REQUEST_TIMEOUT, api.get_opt(&key.name))
        .await
        .map_err(|_| format!("no answer within {}s", REQUEST_TIMEOUT.as_secs()))?
        .map_err(|e| super::describe_kube_error(&e))?;
    Ok(object.and_then(|o| to_value(o, &kind.resource)))
}

/// A read object as JSON, with the apiVersion and kind a list leaves out.
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

#[cfg(test)]
mod tests {
    use super::*;
    use kube::discovery::ApiResource;

    fn configmaps() -> ServedKind {
        ServedKind {
            resource: ApiResource {
                group: String::new(),
                version: "v1".into(),
                api_version: "v1".into(),
                kind: "ConfigMap".into(),
                plural: "configmaps".into(),
            },
            namespaced: true,
            watchable: true,
            preferred: true,
        }
    }

    #[test]
    fn many_wanted_objects_in_one_namespace_are_listed_few_are_got() {
        fn wanted(ns: &'static str, n: usize) -> impl Iterator<Item = (ResourceKey, ServedKind)> {
            (0..n).map(move |i| {
                (
                    ResourceKey::new("v1", "ConfigMap", Some(ns), &format!("c{i}")),
                    configmaps(),
                )
            })
        }
        let fetches = plan_fetches(
            wanted("big", GETS_PER_LIST + 1)
                .chain(wanted("small", 2))
                .collect(),
        );
        let lists: Vec<_> = fetches
            .iter()
            .filter_map(|f| match f {
                Fetch::List {
                    namespace, keys, ..
                } => Some((namespace.as_deref(), keys.len())),
                Fetch::Get(..) => None,
            })
            .collect();
        assert_eq!(lists, vec![(Some("big"), GETS_PER_LIST + 1)]);
        let gets = fetches
            .iter()
            .filter(|f| matches!(f, Fetch::Get(..)))
            .count();
        assert_eq!(gets, 2);
    }
}
