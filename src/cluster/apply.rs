//! Server-side apply as driftdeck's field manager.

use kube::api::{DynamicObject, Patch, PatchParams};
use serde_json::Value;

use super::client::REQUEST_TIMEOUT;
use super::{ClusterClient, ServedKind, describe_kube_error};
use crate::resource::{FIELD_MANAGER, ResourceKey};

/// The object the API server would make of `object` if driftdeck applied it
/// now: defaults filled in, merged with the other managers' fields. Nothing
/// is written (`dryRun=All`). `key` gives the namespace the object goes to.
pub async fn dry_run_apply(
    client: &ClusterClient,
    kind: &ServedKind,
    key: &ResourceKey,
    object: &Value,
) -> Result<Value, String> {
    let mut body = object.clone();
    if let (Some(namespace), Some(metadata)) = (
        &key.namespace,
        body.get_mut("metadata").and_then(Value::as_object_mut),
    ) {
        metadata.insert("namespace".into(), Value::String(namespace.clone()));
    }
    let api = kind.api_for(client, key.namespace.as_deref());
    let params = PatchParams::apply(FIELD_MANAGER).force().dry_run();
    let applied = tokio::time::timeout(
        REQUEST_TIMEOUT,
        api.patch(&key.name, &params, &Patch::Apply(&body)),
    )
    .await
    .map_err(|_| format!("no answer within {}s", REQUEST_TIMEOUT.as_secs()))?
    .map_err(|e| describe_kube_error(&e))?;
    to_value(applied, &kind.resource)
        .ok_or_else(|| "the server's answer is not an object".to_string())
}

/// How an object is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApplyMode {
    /// `dryRun=All`: the server checks everything and writes nothing.
    pub dry_run: bool,
    /// Take over fields other managers own instead of failing with a conflict.
    pub force: bool,
}

/// Why the server refused a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteRefusal {
    /// The HTTP status (409 conflict, 422 invalid, 403 forbidden…); 0 when
    /// there was no answer.
    pub code: u16,
    /// The server's message, or why there was no answer.
    pub message: String,
    /// For a conflict: the other field managers, as the server names them.
    pub conflicting_managers: Vec<String>,
}

impl std::fmt::Display for WriteRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl WriteRefusal {
    fn from_kube(err: &kube::Error) -> WriteRefusal {
        let (code, conflicting_managers) = match err {
            kube::Error::Api(status) => {
                let mut managers: Vec<String> = status
                    .details
                    .iter()
                    .flat_map(|d| &d.causes)
                    .filter(|c| c.reason == "FieldManagerConflict")
                    .filter_map(|c| quoted(&c.message))
                    .collect();
                if status.code == 409 && managers.is_empty() {
                    managers = status
                        .message
                        .split("conflict")
                        .skip(1)
                        .filter_map(quoted)
                        .collect();
                }
                managers.sort();
                managers.dedup();
                (status.code, managers)
            }
            _ => (0, Vec::new()),
        };
        WriteRefusal {
            code,
            message: describe_kube_error(err),
            conflicting_managers,
        }
    }

    fn timeout() -> WriteRefusal {
        WriteRefusal {
            code: 0,
            message: format!("no answer within {}s", REQUEST_TIMEOUT.as_secs()),
            conflicting_managers: Vec::new(),
        }
    }
}

/// The first `"quoted"` word of a text.
fn quoted(text: &str) -> Option<String> {
    let start = text.find('"')? + 1;
    let end = text[start..].find('"')? + start;
    Some(text[start..end].to_string())
}

/// Server-side apply of `object` (already stamped, its namespace set) as
/// field manager `driftdeck`.
pub async fn apply(
    client: &ClusterClient,
    kind: &ServedKind,
    key: &ResourceKey,
    object: &Value,
    mode: ApplyMode,
) -> Result<(), WriteRefusal> {
    let api = kind.api_for(client, key.namespace.as_deref());
    let mut params = PatchParams::apply(FIELD_MANAGER);
    params.force = mode.force;
    params.dry_run = mode.dry_run;
    match tokio::time::timeout(
        REQUEST_TIMEOUT,
        api.patch(&key.name, &params, &Patch::Apply(object)),
    )
    .await
    {
        Err(_) => Err(WriteRefusal::timeout()),
        Ok(Err(err)) => Err(WriteRefusal::from_kube(&err)),
        Ok(Ok(_)) => Ok(()),
    }
}

/// Deletes an object; dependents go by the garbage collector in the
/// background, so the object is gone when the call returns and a dependent
/// held by a finalizer cannot keep it (and the sync) waiting. A 404 counts
/// as deleted.
pub async fn delete(
    client: &ClusterClient,
    kind: &ServedKind,
    key: &ResourceKey,
    dry_run: bool,
) -> Result<(), WriteRefusal> {
    let api = kind.api_for(client, key.namespace.as_deref());
    let params = kube::api::DeleteParams {
        dry_run,
        propagation_policy: Some(kube::api::PropagationPolicy::Background),
        ..kube::api::DeleteParams::default()
    };
    match tokio::time::timeout(REQUEST_TIMEOUT, api.delete(&key.name, &params)).await {
        Err(_) => Err(WriteRefusal::timeout()),
        Ok(Err(kube::Error::Api(status))) if status.code == 404 => Ok(()),
        Ok(Err(err)) => Err(WriteRefusal::from_kube(&err)),
        Ok(Ok(_)) => Ok(()),
    }
}

/// A JSON merge patch (RFC 7386) as field manager `driftdeck`: how an
/// engine's own object is told to act. Gives the object as written.
pub async fn merge_patch(
    client: &ClusterClient,
    kind: &ServedKind,
    key: &ResourceKey,
    patch: &Value,
) -> Result<Option<Value>, WriteRefusal> {
    let api = kind.api_for(client, key.namespace.as_deref());
    let params = PatchParams {
        field_manager: Some(FIELD_MANAGER.to_string()),
        ..PatchParams::default()
    };
    match tokio::time::timeout(
        REQUEST_TIMEOUT,
        api.patch(&key.name, &params, &Patch::Merge(patch)),
    )
    .await
    {
        Err(_) => Err(WriteRefusal::timeout()),
        Ok(Err(err)) => Err(WriteRefusal::from_kube(&err)),
        Ok(Ok(written)) => Ok(to_value(written, &kind.resource)),
    }
}

/// The live object, `None` when it does not exist.
pub async fn get(
    client: &ClusterClient,
    kind: &ServedKind,
    key: &ResourceKey,
) -> Result<Option<Value>, WriteRefusal> {
    let api = kind.api_for(client, key.namespace.as_deref());
    match tokio::time::timeout(REQUEST_TIMEOUT, api.get_opt(&key.name)).await {
        Err(_) => Err(WriteRefusal::timeout()),
        Ok(Err(err)) => Err(WriteRefusal::from_kube(&err)),
        Ok(Ok(found)) => Ok(found.and_then(|o| to_value(o, &kind.resource))),
    }
}

/// Replaces the object's `managedFields`, if its resourceVersion is still
/// `resource_version`: how ownership of fields moves between managers.
pub async fn replace_managed_fields(
    client: &ClusterClient,
    kind: &ServedKind,
    key: &ResourceKey,
    resource_version: &str,
    managed_fields: &[Value],
) -> Result<(), WriteRefusal> {
    let api = kind.api_for(client, key.namespace.as_deref());
    let patch = serde_json::json!({"metadata": {
        "resourceVersion": resource_version,
        "managedFields": managed_fields,
    }});
    let params = PatchParams {
        field_manager: Some(FIELD_MANAGER.to_string()),
        ..PatchParams::default()
    };
    match tokio::time::timeout(
        REQUEST_TIMEOUT,
        api.patch(&key.name, &params, &Patch::Merge(&patch)),
    )
    .await
    {
        Err(_) => Err(WriteRefusal::timeout()),
        Ok(Err(err)) => Err(WriteRefusal::from_kube(&err)),
        Ok(Ok(_)) => Ok(()),
    }
}

/// A read object as JSON, with the apiVersion and kind a list leaves out.
fn to_value(object: DynamicObject, resource: &kube::discovery::ApiResource) -> Option<Value> {
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

    #[test]
    fn conflict_messages_name_the_managers() {
        let status = kube::core::Status {
            code: 409,
            reason: "Conflict".into(),
            message: "Apply failed with 2 conflicts: conflicts with \"kubectl-set\" using apps/v1:\n- .spec.x\nconflicts with \"hpa\":\n- .spec.replicas".into(),
            ..kube::core::Status::default()
        };
        let refusal = WriteRefusal::from_kube(&kube::Error::Api(Box::new(status)));
        assert_eq!(refusal.code, 409);
        assert_eq!(refusal.conflicting_managers, vec!["hpa", "kubectl-set"]);
    }
}
