//! Plans made as the engine makes them (manifests checked, compared with
//! live objects, planned), for the tests of the sync and of the TUI.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};

use super::{PlanError, PlanRequest, SyncPlan, plan};
use crate::config::{AppConfig, Config};
use crate::drift::{KeyedObject, ManualManagers, assess_objects};
use crate::manifests::{Checked, ManifestFile, check_files};
use crate::resource::{APP_LABEL, MANAGED_BY_LABEL, ResourceKey};

pub const REV: &str = "3f2a91c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6";

pub fn app(extra: &str) -> AppConfig {
    let text = format!("[[app]]\nname = \"shop\"\nrepo = \"r\"\nnamespace = \"shop\"\n{extra}");
    Config::parse(Path::new("config.toml"), &text)
        .unwrap()
        .apps
        .remove(0)
}

pub fn checked(objects: &[Value]) -> Checked {
    let files: Vec<ManifestFile> = objects
        .iter()
        .enumerate()
        .map(|(i, o)| ManifestFile {
            path: PathBuf::from(format!("{i}.json")),
            bytes: o.to_string().into_bytes(),
            rendered_by: None,
        })
        .collect();
    check_files(&files, Path::new("apps/shop"), "shop")
}

pub fn config_map(name: &str, value: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "shop"}, "data": {"k": value}})
}

pub fn ours(mut object: Value) -> Value {
    object["metadata"]["labels"] = json!({APP_LABEL: "shop", MANAGED_BY_LABEL: "driftdeck"});
    object
}

/// Plans `desired` against `live` the way the engine would: compare, then plan.
pub fn plan_for(
    app: &AppConfig,
    desired: &[Value],
    live: &[Value],
    prune: bool,
) -> Result<SyncPlan, PlanError> {
    plan_pinned(app, desired, live, prune, None)
}

/// `plan_for`, with the app pinned to `pin`.
pub fn plan_pinned(
    app: &AppConfig,
    desired: &[Value],
    live: &[Value],
    prune: bool,
    pin: Option<&str>,
) -> Result<SyncPlan, PlanError> {
    let checked = checked(desired);
    let keyed = |objects: &[Value]| -> Vec<KeyedObject> {
        objects
            .iter()
            .filter_map(|o| KeyedObject::new(o.clone()).ok())
            .collect()
    };
    let results = assess_objects(&keyed(desired), &keyed(live), &[]);
    let live: BTreeMap<ResourceKey, Arc<Value>> = live
        .iter()
        .map(|o| (ResourceKey::of(o).unwrap(), Arc::new(o.clone())))
        .collect();
    plan(&PlanRequest {
        app,
        revision: REV,
        checked: &checked,
        results: &results,
        live: &live,
        prune,
        manual: &ManualManagers::default(),
        pin,
        restamp: pin.is_some(),
        signature: None,
    })
}

/// A plan with one step of each kind for app "shop", pruning on: the
/// Deployment web to create, the ConfigMap settings to update, the Service
/// old to prune.
pub fn shop_plan() -> SyncPlan {
    let web = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"}, "spec": {"replicas": 2}});
    let old = ours(json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "old", "namespace": "shop"}}));
    let desired = [web, config_map("settings", "blue")];
    let live = [ours(config_map("settings", "red")), old];
    plan_for(&app(""), &desired, &live, true).unwrap()
}
