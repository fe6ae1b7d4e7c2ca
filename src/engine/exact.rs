//! Exact mode: each resource present live is compared with what a
//! server-side dry-run apply of the desired object gives (defaults filled
//! in, other managers' fields merged) rather than with the object as
//! written. Dry runs are kept per object until its desired revision or its
//! live resourceVersion changes, so a watched app costs no request while
//! nothing moves.

use std::borrow::Cow;
use std::collections::HashMap;

use futures::{StreamExt, stream};
use serde_json::Value;

use crate::cluster::{ClusterClient, KindCatalog, LiveRead, dry_run_apply};
use crate::config::AppConfig;
use crate::drift::{ManualManagers, ResourceResult, ResourceStatus, summarize};
use crate::manifests::Checked;
use crate::report::AppReport;
use crate::resource::ResourceKey;

/// Dry runs in flight at once against one server.
const CONCURRENCY: usize = 8;

/// What a dry run was asked about: the desired revision and the live
/// object's resourceVersion.
type Asked = (String, Option<String>);

#[derive(Debug, Default)]
pub(super) struct ExactCache {
    results: HashMap<ResourceKey, (Asked, Result<Value, String>)>,
}

impl ExactCache {
    /// Replaces, in `report`, the verdict of every resource present live by
    /// the comparison with its dry run.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn apply(
        &mut self,
        report: &mut AppReport,
        app: &AppConfig,
        revision: &str,
        checked: &Checked,
        live: &LiveRead,
        client: &ClusterClient,
        catalog: &KindCatalog,
        manual: &ManualManagers,
    ) {
        let desired: HashMap<ResourceKey, (&str, Cow<'_, Value>)> = checked
            .desired
            .objects
            .iter()
            .map(|o| (o.id.resource_key(), (o.id.version.as_str(), o.value())))
            .collect();
        let mut to_ask = Vec::new();
        for resource in &report.resources {
            if !matches!(
                resource.status,
                ResourceStatus::Synced | ResourceStatus::OutOfSync
            ) {
                continue;
            }
            let (Some((version, object)), Some(live_object)) =
                (desired.get(&resource.key), live.objects.get(&resource.key))
            else {
                continue;
            };
            let asked = (revision.to_string(), resource_version(live_object));
            if self
                .results
                .get(&resource.key)
                .is_some_and(|(before, _)| *before == asked)
            {
                continue;
            }
            to_ask.push((resource.key.clone(), *version, &**object, asked));
        }
        let asks: Vec<_> = to_ask
            .into_iter()
            .map(|(key, version, object, asked)| {
                let kind = catalog
                    .lookup(&key.group, Some(version), &key.kind)
                    .cloned();
                let client = client.clone();
                let object = object.clone();
                Box::pin(async move {
                    let result = match kind {
                        Some(kind) => dry_run_apply(&client, &kind, &key, &object).await,
                        None => Err("the kind is not served".to_string()),
                    };
                    (key, asked, result)
                })
            })
            .collect();
        let answers = stream::iter(asks)
            .buffer_unordered(CONCURRENCY)
            .collect::<Vec<_>>()
            .await;
        for (key, asked, result) in answers {
            self.results.insert(key, (asked, result));
        }

        for resource in &mut report.resources {
            let (Some((asked, dry_run)), Some(live_object)) = (
                self.results.get(&resource.key),
                live.objects.get(&resource.key),
            ) else {
                continue;
            };
            let current = asked.0 == revision && asked.1 == resource_version(live_object);
            if !current || !desired.contains_key(&resource.key) {
                continue;
            }
            *resource = match dry_run {
                Ok(would_be) => ResourceResult::compared_with(
                    resource.key.clone(),
                    would_be,
                    live_object,
                    &app.ignore,
                    manual,
                ),
                Err(cause) => ResourceResult::unknown(
                    resource.key.clone(),
                    format!("server-side dry run refused: {cause}"),
                ),
            };
        }
        if checked.can_sync() {
            report.summary = summarize(&report.resources);
        }
    }
}

fn resource_version(object: &Value) -> Option<String> {
    object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .map(str::to_string)
}
