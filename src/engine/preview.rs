//! What deploying a commit would change: the app rendered at the deployed
//! revision and at the commit, by the rendering the engine compares with,
//! object by object (added, removed, fields changed, through the drift
//! rules and their Secret masking), then the files the commit changed.
//! `preview` is blocking (gix and the renderers); `compare_revisions` is pure.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::desired::render_app;
use crate::config::AppConfig;
use crate::drift::{LAST_APPLIED_ANNOTATION, ResourceResult, ResourceStatus};
use crate::manifests::Checked;
use crate::resource::{ResourceKey, short_revision};
use crate::source::{ChangedFile, changed_files};

/// The answer to "what would deploying this commit do".
#[derive(Debug, Clone, PartialEq)]
pub struct DeployPreview {
    /// The revision deployed now; `None` when nothing is.
    pub from: Option<String>,
    pub to: String,
    /// Only the objects that differ: Missing = added by deploying `to`,
    /// Extra = removed, OutOfSync = changed (`-` deployed, `+` the commit).
    pub objects: Vec<ResourceResult>,
    /// The files the commit itself changed.
    pub files: Vec<ChangedFile>,
    /// Why a side could not be rendered or the files read.
    pub problems: Vec<String>,
}

impl DeployPreview {
    /// Whether it answers for the commit `id`.
    pub fn is_for(&self, id: &gix::ObjectId) -> bool {
        gix::ObjectId::from_hex(self.to.as_bytes()).is_ok_and(|to| to == *id)
    }
}

/// Renders the app at `from` and `to` from the repository at `repo_dir`
/// and compares them. Blocking.
pub fn preview(app: &AppConfig, repo_dir: &Path, from: Option<&str>, to: &str) -> DeployPreview {
    let mut problems = Vec::new();
    let mut render = |revision: &str| match render_app(app, repo_dir, revision) {
        Ok(checked) => Some(checked),
        Err(cause) => {
            problems.push(format!("at {}: {cause}", short_revision(revision)));
            None
        }
    };
    let before = from.and_then(&mut render);
    let after = render(to);
    let mut objects = match (&after, from.is_none() || before.is_some()) {
        (Some(after), true) => compare_revisions(app, before.as_ref(), after),
        _ => Vec::new(),
    };
    for object in &mut objects {
        object.diff = relabelled(&object.diff, from.unwrap_or("nothing"), to);
    }
    let files = changed_files(repo_dir, to).unwrap_or_else(|err| {
        problems.push(err.to_string());
        Vec::new()
    });
    DeployPreview {
        from: from.map(str::to_string),
        to: to.to_string(),
        objects,
        files,
        problems,
    }
}

/// The diff's file headers name the revisions, not live and desired.
fn relabelled(diff: &str, from: &str, to: &str) -> String {
    let mut lines: Vec<String> = diff.lines().map(str::to_string).collect();
    for (line, side, revision) in [(0, "--- live/", from), (1, "+++ desired/", to)] {
        if let Some(rest) = lines.get(line).and_then(|l| l.strip_prefix(side)) {
            let marker = &side[..4];
            lines[line] = format!("{marker}{}/{rest}", short_revision(revision));
        }
    }
    let mut text = lines.join("\n");
    if diff.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// The objects that differ between two desired states, in key order.
pub fn compare_revisions(
    app: &AppConfig,
    before: Option<&Checked>,
    after: &Checked,
) -> Vec<ResourceResult> {
    fn keyed(checked: &Checked) -> BTreeMap<ResourceKey, Cow<'_, Value>> {
        checked
            .desired
            .objects
            .iter()
            .map(|o| (o.id.resource_key(), o.value()))
            .collect()
    }
    let old = before.map(keyed).unwrap_or_default();
    let new = keyed(after);
    let mut results = Vec::new();
    for (key, object) in &new {
        match old.get(key) {
            Some(deployed) => {
                let result =
                    ResourceResult::compared(key.clone(), object, &applied(deployed), &app.ignore);
                if result.status != ResourceStatus::Synced {
                    results.push(result);
                }
            }
            None => results.push(ResourceResult::missing(key.clone(), object)),
        }
    }
    for (key, object) in &old {
        if !new.contains_key(key) {
            results.push(ResourceResult::extra(key.clone(), object));
        }
    }
    results.sort_by(|a, b| a.key.cmp(&b.key));
    results
}

/// The deployed side as if applied from Git: the last-applied annotation
/// is the drift rules' evidence that its fields were set by Git, so a field
/// the commit drops counts as a change, not as a server default.
fn applied(object: &Value) -> Value {
    let mut applied = object.clone();
    if let Some(metadata) = applied
        .as_object_mut()
        .map(|o| {
            o.entry("metadata")
                .or_insert_with(|| Value::Object(Default::default()))
        })
        .and_then(Value::as_object_mut)
    {
        let annotations = metadata
            .entry("annotations")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Some(annotations) = annotations.as_object_mut() {
            annotations.insert(
                LAST_APPLIED_ANNOTATION.to_string(),
                Value::String(object.to_string()),
            );
        }
    }
    applied
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::sync::test_support::checked;

    fn app() -> AppConfig {
        crate::sync::test_support::app("")
    }

    fn config_map(name: &str, data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "shop"}, "data": data})
    }

    #[test]
    fn objects_added_removed_and_changed_fields_are_listed_and_the_same_are_not() {
        let before = checked(&[
            config_map("same", json!({"a": "1"})),
            config_map("gone", json!({"a": "1"})),
            config_map("edited", json!({"a": "1", "dropped": "x"})),
        ]);
        let after = checked(&[
            config_map("same", json!({"a": "1"})),
            config_map("new", json!({"a": "1"})),
            config_map("edited", json!({"a": "2"})),
        ]);
        let results = compare_revisions(&app(), Some(&before), &after);
        let listed: Vec<String> = results
            .iter()
            .map(|r| format!("{:?} {}", r.status, r.key.name))
            .collect();
        assert_eq!(
            listed,
            vec!["OutOfSync edited", "Extra gone", "Missing new"]
        );
        let edited = &results[0];
        assert!(
            edited.diff.contains("-  a: \"1\"") || edited.diff.contains("-  a: '1'"),
            "{}",
            edited.diff
        );
        assert!(
            edited.diff.contains("dropped"),
            "a field the commit drops is a change: {}",
            edited.diff
        );
        assert!(
            !edited.diff.contains(LAST_APPLIED_ANNOTATION),
            "{}",
            edited.diff
        );
    }

    #[test]
    fn secret_values_never_reach_the_preview() {
        let secret = |value: &str| {
            json!({"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "creds", "namespace": "shop"}, "stringData": {"password": value}})
        };
        let results = compare_revisions(
            &app(),
            Some(&checked(&[secret("hunter2")])),
            &checked(&[secret("swordfish")]),
        );
        assert_eq!(results.len(), 1);
        let shown = format!("{:?}", results[0]);
        assert!(
            !shown.contains("hunter2") && !shown.contains("swordfish"),
            "{shown}"
        );
    }

    #[test]
    fn with_nothing_deployed_every_object_is_added() {
        let results = compare_revisions(&app(), None, &checked(&[config_map("a", json!({}))]));
        assert_eq!(results[0].status, ResourceStatus::Missing);
    }
}
