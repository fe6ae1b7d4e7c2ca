//! A live object as the cache keeps it: its JSON text, decoded when an app
//! is compared. A `serde_json::Value` tree costs about six times the text
//! (a map, a string and an entry per field, the `fieldsV1` sets most of
//! all): for 10,000 objects the difference is most of the process's memory
//! (issue 10). Decoding an app's objects costs less than comparing them.

use kube::api::{DynamicObject, TypeMeta};
use kube::discovery::ApiResource;
use serde_json::Value;

use crate::resource::{APP_LABEL, ResourceKey};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveObject {
    key: ResourceKey,
    /// The app label, read once: the store indexes objects by it.
    app: Option<Box<str>>,
    json: Box<str>,
}

impl LiveObject {
    /// The object as a watch or list reads it, with the apiVersion and kind
    /// a list leaves out, and of its `managedFields` only the entries of
    /// the managers `keep` accepts (drift reads driftdeck's and the manual
    /// ones; the rest is most of an object's size). `None` for an object
    /// without a name.
    pub fn read(
        mut object: DynamicObject,
        resource: &ApiResource,
        keep: &dyn Fn(&str) -> bool,
    ) -> Option<LiveObject> {
        let name = object.metadata.name.clone().filter(|n| !n.is_empty())?;
        if let Some(entries) = &mut object.metadata.managed_fields {
            entries.retain(|entry| entry.manager.as_deref().is_some_and(keep));
        }
        object.types = Some(TypeMeta {
            api_version: resource.api_version.clone(),
            kind: resource.kind.clone(),
        });
        let key = ResourceKey::new(
            &resource.api_version,
            &resource.kind,
            object
                .metadata
                .namespace
                .as_deref()
                .filter(|n| !n.is_empty()),
            &name,
        );
        let app = object
            .metadata
            .labels
            .as_ref()
            .and_then(|labels| labels.get(APP_LABEL))
            .map(|app| Box::from(app.as_str()));
        let json = serde_json::to_string(&object).ok()?.into_boxed_str();
        Some(LiveObject { key, app, json })
    }

    /// An object given as JSON, for the store's tests.
    #[cfg(test)]
    pub(crate) fn from_value(object: &Value) -> Option<LiveObject> {
        let key = ResourceKey::of(object).ok()?;
        let app = crate::resource::app_of(object).map(Box::from);
        let json = serde_json::to_string(object).ok()?.into_boxed_str();
        Some(LiveObject { key, app, json })
    }

    pub fn key(&self) -> &ResourceKey {
        &self.key
    }

    /// The value of the app label, if the object carries it.
    pub fn app(&self) -> Option<&str> {
        self.app.as_deref()
    }

    /// The object as JSON. The text was written from a value, so it reads
    /// back; `Null` would only mean memory was corrupted.
    pub fn value(&self) -> Value {
        serde_json::from_str(&self.json).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> DynamicObject {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "shop",
                "labels": {"driftdeck.dev/app": "shop"},
                "managedFields": [
                    {"manager": "driftdeck", "operation": "Apply", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
                    {"manager": "kube-controller-manager", "operation": "Update", "fieldsV1": {"f:status": {}}},
                    {"manager": "kubectl-edit", "operation": "Update", "fieldsV1": {"f:spec": {"f:paused": {}}}}
                ]},
            "spec": {"replicas": 2}
        }))
        .unwrap()
    }

    fn resource() -> ApiResource {
        ApiResource {
            group: "apps".into(),
            version: "v1".into(),
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            plural: "deployments".into(),
        }
    }

    #[test]
    fn a_read_object_keeps_its_type_its_fields_and_the_kept_managers_only() {
        let object = LiveObject::read(deployment(), &resource(), &|m: &str| {
            m == "driftdeck" || m == "kubectl-edit"
        })
        .unwrap();
        assert_eq!(
            object.key(),
            &ResourceKey::new("apps/v1", "Deployment", Some("shop"), "web")
        );
        assert_eq!(object.app(), Some("shop"));
        let value = object.value();
        assert_eq!(value["apiVersion"], "apps/v1");
        assert_eq!(value["kind"], "Deployment");
        assert_eq!(value["spec"]["replicas"], 2);
        let managers: Vec<&str> = value["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["manager"].as_str().unwrap())
            .collect();
        assert_eq!(managers, vec!["driftdeck", "kubectl-edit"]);
        assert_eq!(
            value["metadata"]["managedFields"][0]["fieldsV1"],
            json!({"f:spec": {"f:replicas": {}}})
        );
    }

    #[test]
    fn an_object_without_a_name_is_not_kept() {
        let mut object = deployment();
        object.metadata.name = None;
        assert!(LiveObject::read(object, &resource(), &|_: &str| true).is_none());
    }

    #[test]
    fn the_same_object_read_twice_is_equal_and_a_change_is_not() {
        let keep = |_: &str| true;
        let a = LiveObject::read(deployment(), &resource(), &keep).unwrap();
        let b = LiveObject::read(deployment(), &resource(), &keep).unwrap();
        assert_eq!(a, b);
        let mut changed = deployment();
        changed.data["spec"]["replicas"] = json!(3);
        let c = LiveObject::read(changed, &resource(), &keep).unwrap();
        assert_ne!(a, c);
    }
}
