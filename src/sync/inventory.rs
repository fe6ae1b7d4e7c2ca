//! What an app deployed, kept in the cluster as Flux keeps its inventory:
//! the objects the last successful sync applied, in a ConfigMap
//! `driftdeck-inventory-APP` beside the app's Lease. An object listed there
//! and no longer in Git is the app's leftover even once its label is gone
//! (a backwards force-push, a label removed by hand), so it shows as Extra
//! and a prune may delete it. Reading and building the ConfigMap is pure;
//! `write` is the one request.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::cluster::{self, ApplyMode, ClusterClient, KindCatalog, Wanted};
use crate::config::AppConfig;
use crate::resource::{
    APP_LABEL, FIELD_MANAGER, MANAGED_BY_LABEL, ResourceKey, app_of, split_api_version,
};

/// Label naming the app whose inventory a ConfigMap is. It carries the
/// app's `APP_LABEL` too, so the label watch of ConfigMaps brings it (no
/// watch of its own), and this label keeps it out of the app's objects:
/// never Extra, never pruned.
pub const INVENTORY_LABEL: &str = "driftdeck.dev/inventory";

/// The objects of an app at the revision it was last synced to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    pub revision: String,
    /// Each object with the apiVersion it was applied in.
    pub objects: BTreeMap<ResourceKey, String>,
}

/// Where driftdeck keeps its records of an app, its Lease and its
/// inventory: `lease_namespace`, else the app's namespace. Together, so
/// that they sit wherever the operators chose to keep them.
pub fn namespace_of(app: &AppConfig) -> &str {
    app.sync
        .lease_namespace
        .as_deref()
        .unwrap_or(&app.namespace)
}

/// The ConfigMap holding the app's inventory.
pub fn key_of(app: &AppConfig) -> ResourceKey {
    key_in(&app.name, namespace_of(app))
}

/// The ConfigMap holding the inventory of `app` in `namespace`.
pub fn key_in(app: &str, namespace: &str) -> ResourceKey {
    ResourceKey {
        group: String::new(),
        kind: "ConfigMap".to_string(),
        namespace: Some(namespace.to_string()),
        name: format!("driftdeck-inventory-{app}"),
    }
}

/// The app's inventory as the live objects hold it; empty when there is
/// none (never synced, or by an older driftdeck).
pub fn recorded(app: &AppConfig, live: &BTreeMap<ResourceKey, Arc<Value>>) -> Inventory {
    live.get(&key_of(app))
        .map(|object| Inventory::from_object(object).0)
        .unwrap_or_default()
}

impl Inventory {
    /// The inventory a ConfigMap holds, and the lines it could not read
    /// (`line N: why`), which are left out.
    pub fn from_object(object: &Value) -> (Inventory, Vec<String>) {
        let data = object.get("data");
        let text = |field: &str| {
            data.and_then(|d| d.get(field))
                .and_then(Value::as_str)
                .unwrap_or_default()
        };
        let mut inventory = Inventory {
            revision: text("revision").to_string(),
            objects: BTreeMap::new(),
        };
        let mut unreadable = Vec::new();
        for (index, line) in text("objects").lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match parse_line(line) {
                Some((key, api_version)) => {
                    inventory.objects.insert(key, api_version);
                }
                None => unreadable.push(format!(
                    "line {}: not \"apiVersion Kind namespace/name\": {}",
                    index + 1,
                    crate::text::printable(line)
                )),
            }
        }
        (inventory, unreadable)
    }

    /// The ConfigMap to apply for the app.
    pub fn to_object(&self, app: &str, key: &ResourceKey) -> Value {
        let objects: String = self
            .objects
            .iter()
            .map(|(key, api_version)| {
                format!("{api_version} {} {}\n", key.kind, key.qualified_name())
            })
            .collect();
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": key.name,
                "namespace": key.namespace,
                "labels": {MANAGED_BY_LABEL: FIELD_MANAGER, APP_LABEL: app, INVENTORY_LABEL: app},
            },
            "data": {"revision": self.revision, "objects": objects},
        })
    }

    /// The objects to find live by name: they may carry no label any more.
    pub fn wanted(&self) -> impl Iterator<Item = Wanted> + '_ {
        self.objects.iter().map(|(key, api_version)| Wanted {
            key: key.clone(),
            version: Some(split_api_version(api_version).1.to_string()),
        })
    }

    pub fn contains(&self, key: &ResourceKey) -> bool {
        self.objects.contains_key(key)
    }

    /// Whether a live object is the app's: by its label, or, carrying no
    /// label, by this inventory (another app's label wins). An inventory is
    /// no app's object.
    pub fn holds(&self, app: &str, key: &ResourceKey, object: &Value) -> bool {
        if is_inventory(object) {
            return false;
        }
        match app_of(object) {
            Some(owner) => owner == app,
            None => self.contains(key),
        }
    }
}

/// True for an app's inventory ConfigMap.
pub fn is_inventory(object: &Value) -> bool {
    object
        .pointer("/metadata/labels")
        .and_then(|labels| labels.get(INVENTORY_LABEL))
        .is_some()
}

/// `apps/v1 Deployment shop/web`, `v1 Namespace shop`.
fn parse_line(line: &str) -> Option<(ResourceKey, String)> {
    let mut parts = line.split_whitespace();
    let (api_version, kind, name) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || api_version.is_empty() {
        return None;
    }
    let (namespace, name) = match name.split_once('/') {
        Some((namespace, name)) => (Some(namespace), name),
        None => (None, name),
    };
    if name.is_empty() || namespace == Some("") {
        return None;
    }
    Some((
        ResourceKey::new(api_version, kind, namespace, name),
        api_version.to_string(),
    ))
}

/// Applies the inventory (server-side apply as driftdeck).
pub async fn write(
    client: &ClusterClient,
    catalog: &mut KindCatalog,
    app: &str,
    key: &ResourceKey,
    inventory: &Inventory,
) -> Result<(), String> {
    let kind = catalog
        .resolve(client, "", Some("v1"), "ConfigMap")
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "the cluster serves no ConfigMaps".to_string())?;
    let mode = ApplyMode {
        dry_run: false,
        force: true,
    };
    cluster::apply(client, &kind, key, &inventory.to_object(app, key), mode)
        .await
        .map_err(|refusal| format!("{key}: {}", refusal.message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inventory() -> Inventory {
        let mut objects = BTreeMap::new();
        objects.insert(
            ResourceKey::new("apps/v1", "Deployment", Some("shop"), "web"),
            "apps/v1".to_string(),
        );
        objects.insert(
            ResourceKey::new("v1", "Namespace", None, "shop"),
            "v1".to_string(),
        );
        Inventory {
            revision: "0123456".to_string(),
            objects,
        }
    }

    #[test]
    fn an_inventory_reads_back_what_was_written() {
        let key = ResourceKey::new("v1", "ConfigMap", Some("shop"), "driftdeck-inventory-shop");
        let object = inventory().to_object("shop", &key);
        assert_eq!(object["metadata"]["labels"][INVENTORY_LABEL], "shop");
        assert!(is_inventory(&object));
        assert!(!inventory().holds("shop", &key, &object), "no app's object");
        assert_eq!(
            object["data"]["objects"],
            "v1 Namespace shop\napps/v1 Deployment shop/web\n"
        );
        assert_eq!(Inventory::from_object(&object), (inventory(), Vec::new()));
    }

    #[test]
    fn lines_edited_into_nonsense_are_named_and_left_out() {
        let object = json!({"data": {"revision": "r", "objects":
            "v1 Namespace shop\nDeployment\n\napps/v1 Deployment /web\nv1 ConfigMap a/b extra\n"}});
        let (read, unreadable) = Inventory::from_object(&object);
        assert_eq!(read.objects.len(), 1);
        assert_eq!(unreadable.len(), 3, "{unreadable:?}");
        assert!(unreadable[0].starts_with("line 2:"), "{unreadable:?}");
    }
}
