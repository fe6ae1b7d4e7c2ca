//! Server-side apply as driftdeck's field manager.

use kube::api::{Patch, PatchParams};
use serde_json::Value;

use super::live::{REQUEST_TIMEOUT, to_value};
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
