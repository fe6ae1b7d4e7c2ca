//! What a sync will do, decided before anything is sent: create what is
//! missing, update what is OutOfSync, prune what the app no longer has in
//! Git, in wave, kind and name order, with prunes last and reversed. A value
//! that `sync --dry-run` prints, the TUI's confirm dialog shows and the audit
//! log records; the objects to apply travel with it but are never serialized
//! (Secrets). Pure.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::inventory::{self, Inventory};
use super::order::{kind_rank, wave_of};
use super::signed::signature_refusal;
use crate::config::AppConfig;
use crate::drift::{
    ChangeKind, ManualManagers, ResourceResult, ResourceStatus, pin_of, revision_of,
};
use crate::manifests::Checked;
use crate::resource::{
    APP_LABEL, MANAGED_BY_LABEL, PINNED_ANNOTATION, REVISION_ANNOTATION, ResourceKey, app_of,
    short_revision,
};
use crate::source::SignatureStatus;

/// What a step does to its object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncAction {
    Create,
    Update,
    Prune,
}

/// One changed field of an update, by path only: values stay out of plans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedChange {
    pub path: String,
    pub change: ChangeKind,
    /// The manual-change manager that set it, for a field Git does not have.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_hand: Option<String>,
}

/// `data.k`, or `spec.replicas (by hand, kubectl-scale)`.
impl fmt::Display for PlannedChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.by_hand {
            Some(manager) => write!(f, "{} (by hand, {manager})", self.path),
            None => write!(f, "{}", self.path),
        }
    }
}

/// One object of the plan.
#[derive(Clone, PartialEq, Serialize)]
pub struct SyncStep {
    #[serde(flatten)]
    pub key: ResourceKey,
    pub api_version: String,
    pub action: SyncAction,
    pub wave: i64,
    /// For updates: the fields that differ (for Secrets, the keys).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<PlannedChange>,
    /// Manual-change managers whose fields the sync takes over and removes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub takes_over: Vec<String>,
    /// Why the step is listed but will not be done (a prune with prune off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// The object to apply, stamped; `Null` for prunes. Never serialized.
    #[serde(skip)]
    object: Value,
}

impl SyncStep {
    /// The stamped object to apply; `None` for a prune.
    pub fn object(&self) -> Option<&Value> {
        (!self.object.is_null()).then_some(&self.object)
    }

    /// Whether the sync carries it out.
    pub fn is_done(&self) -> bool {
        self.skipped.is_none()
    }
}

/// Without the object: a Secret's values must not reach a log through `{:?}`.
impl fmt::Debug for SyncStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncStep")
            .field("key", &self.key)
            .field("action", &self.action)
            .field("wave", &self.wave)
            .field("changes", &self.changes)
            .field("takes_over", &self.takes_over)
            .field("skipped", &self.skipped)
            .finish_non_exhaustive()
    }
}

/// How many steps of each action the sync will do, and how many it will not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PlanCounts {
    pub create: usize,
    pub update: usize,
    pub prune: usize,
    pub skipped: usize,
}

impl PlanCounts {
    fn of(steps: &[SyncStep]) -> PlanCounts {
        let mut counts = PlanCounts::default();
        for step in steps {
            match (step.is_done(), step.action) {
                (false, _) => counts.skipped += 1,
                (true, SyncAction::Create) => counts.create += 1,
                (true, SyncAction::Update) => counts.update += 1,
                (true, SyncAction::Prune) => counts.prune += 1,
            }
        }
        counts
    }
}

/// A sync of one app at one revision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncPlan {
    pub app: String,
    pub revision: String,
    /// The namespace for namespaced objects that name none.
    pub namespace: String,
    /// Whether prunes are done (`prune = true` or `--prune`).
    pub prune: bool,
    pub counts: PlanCounts,
    /// Applies in order, then prunes in reverse order.
    pub steps: Vec<SyncStep>,
    /// Every object of the desired state: the inventory a successful sync
    /// records (with the prunes it did not do). Not in the JSON: the steps
    /// say what changes.
    #[serde(skip)]
    pub desired: Inventory,
    /// The one object this sync is narrowed to (`s` on a resource in the
    /// TUI); such a sync leaves the app's inventory as it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub only: Option<ResourceKey>,
}

impl SyncPlan {
    /// Nothing to write: the app is Synced.
    pub fn is_empty(&self) -> bool {
        self.steps.iter().all(|s| !s.is_done())
    }

    /// The plan narrowed to one object (a sync of that object only): its
    /// step if it has one, else nothing to do.
    pub fn only(mut self, key: &ResourceKey) -> SyncPlan {
        self.steps
            .retain(|s| same_object(&s.key, key, &self.namespace));
        self.counts = PlanCounts::of(&self.steps);
        self.only = Some(key.clone());
        self
    }

    /// The applies (creates and updates) to do, wave by wave in order.
    pub fn apply_waves(&self) -> Vec<&[SyncStep]> {
        let applies = self
            .steps
            .iter()
            .take_while(|s| s.action != SyncAction::Prune)
            .count();
        self.steps[..applies]
            .chunk_by(|a, b| a.wave == b.wave)
            .collect()
    }

    /// The prunes to do, in order.
    pub fn prunes(&self) -> impl Iterator<Item = &SyncStep> {
        self.steps
            .iter()
            .filter(|s| s.action == SyncAction::Prune && s.is_done())
    }
}

/// Why a sync is refused before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(
        "app \"{app}\": the manifests at {revision} have {errors} error(s); fix them (see `driftdeck check`) before syncing"
    )]
    ManifestErrors {
        app: String,
        revision: String,
        errors: usize,
    },
    #[error(
        "app \"{app}\": Git renders no object at {revision}; a sync would prune all {prunable} of the app's objects, so it is refused (set allow_empty = true for the app to allow it)"
    )]
    EmptyDesiredState {
        app: String,
        revision: String,
        prunable: usize,
    },
    #[error("app \"{app}\": commit {commit} cannot be deployed: {why}; nothing was written")]
    Unsigned {
        app: String,
        /// The short id.
        commit: String,
        /// `unsigned`, `bad: …`, `cannot_check: …`.
        why: String,
    },
    #[error("app \"{app}\": {object}: the live object could not be read: {reason}")]
    LiveUnknown {
        app: String,
        /// `Kind namespace/name`.
        object: String,
        reason: String,
    },
    #[error("app \"{app}\": {object}: sync wave \"{wave}\" is not a whole number")]
    BadWave {
        app: String,
        object: String,
        wave: String,
    },
}

/// Everything a plan is made from.
#[derive(Debug, Clone, Copy)]
pub struct PlanRequest<'a> {
    pub app: &'a AppConfig,
    pub revision: &'a str,
    pub checked: &'a Checked,
    /// The comparison of every desired object with live (Synced, OutOfSync,
    /// Missing, Unknown); Extra results are not needed.
    pub results: &'a [ResourceResult],
    /// The live objects: those the desired state names, those labelled as
    /// the app's, and its inventory with the objects it lists.
    pub live: &'a BTreeMap<ResourceKey, Arc<Value>>,
    /// Prune on this sync (`prune = true` or `--prune`).
    pub prune: bool,
    pub manual: &'a ManualManagers,
    /// The revision the app is pinned to (a rollback): every object is
    /// stamped with it, Synced ones too. `None`: objects that still carry a
    /// pin are applied again without it.
    pub pin: Option<&'a str>,
    /// Stamp every object with the revision, Synced ones too (a sync at a
    /// chosen revision, a rollback), so that each says where it is from.
    pub restamp: bool,
    /// The signature of `revision`, as checked; `None`: not checked (the
    /// app requires none).
    pub signature: Option<&'a SignatureStatus>,
}

/// The plan for a sync, or why there must be none.
pub fn plan(request: &PlanRequest<'_>) -> Result<SyncPlan, PlanError> {
    let app = request.app;
    if let Some(why) = signature_refusal(app.sync.require_signed, request.signature) {
        return Err(PlanError::Unsigned {
            app: app.name.clone(),
            commit: short_revision(request.revision).to_string(),
            why,
        });
    }
    let empty = request.checked.desired.objects.is_empty();
    // An empty desired state is a manifest error of its own; `allow_empty`
    // is the app's word that it is meant.
    let errors = request
        .checked
        .problems
        .iter()
        .filter(|p| p.is_error() && !(empty && says_empty(&p.message)))
        .count();
    if errors > 0 {
        return Err(PlanError::ManifestErrors {
            app: app.name.clone(),
            revision: request.revision.to_string(),
            errors,
        });
    }
    let results: HashMap<&ResourceKey, &ResourceResult> =
        request.results.iter().map(|r| (&r.key, r)).collect();
    let mut applies = Vec::new();
    let mut desired = Inventory {
        revision: request.revision.to_string(),
        objects: BTreeMap::new(),
    };
    for object in &request.checked.desired.objects {
        let key = object.id.resource_key();
        if desired.contains(&key) {
            continue;
        }
        let api_version = api_version(&object.id.group, &object.id.version);
        desired.objects.insert(key.clone(), api_version.clone());
        let live = request.live.get(&key);
        let result = results.get(&key);
        let labelled = live.and_then(|o| app_of(o)) == Some(app.name.as_str());
        let restamp = live
            .map(|l| stamp_changes(l, request.revision, request.pin, request.restamp))
            .unwrap_or_default();
        let action = match result.map(|r| r.status) {
            Some(ResourceStatus::Unknown) => {
                return Err(PlanError::LiveUnknown {
                    app: app.name.clone(),
                    object: key.to_string(),
                    reason: result
                        .and_then(|r| r.reason.clone())
                        .unwrap_or_else(|| "unknown".to_string()),
                });
            }
            Some(ResourceStatus::OutOfSync) => SyncAction::Update,
            // Synced objects are not sent, unless they do not carry the
            // app's label yet (then the sync adopts them, so that a later
            // removal from Git can prune them) or their pin stamps are not
            // those of this sync.
            Some(ResourceStatus::Synced) if labelled && restamp.is_empty() => continue,
            Some(ResourceStatus::Synced) => SyncAction::Update,
            _ if live.is_some() => SyncAction::Update,
            _ => SyncAction::Create,
        };
        let value = object.value();
        let wave = wave_of(&value).map_err(|wave| PlanError::BadWave {
            app: app.name.clone(),
            object: key.to_string(),
            wave,
        })?;
        let mut changes: Vec<PlannedChange> = result
            .map(|r| {
                r.changes
                    .iter()
                    .map(|c| PlannedChange {
                        path: c.path.clone(),
                        change: c.change,
                        by_hand: c.by_hand.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        if action == SyncAction::Update && changes.is_empty() {
            if !labelled || restamp.is_empty() {
                changes.push(PlannedChange {
                    path: format!("metadata.labels.{APP_LABEL}"),
                    change: ChangeKind::Added,
                    by_hand: None,
                });
            }
            changes.extend(restamp);
        }
        let mut takes_over: Vec<String> = live
            .map(|l| request.manual.entries_in(l))
            .unwrap_or_default()
            .iter()
            .filter_map(|e| e.get("manager").and_then(Value::as_str))
            .map(str::to_string)
            .collect();
        takes_over.sort();
        takes_over.dedup();
        applies.push(SyncStep {
            api_version,
            object: stamped(&value, &key, &app.name, request.revision, request.pin),
            key,
            action,
            wave,
            changes,
            takes_over,
            skipped: None,
        });
    }

    // The app's objects no longer in Git: those with its label, and those
    // its last sync applied that carry no label now.
    let deployed = inventory::recorded(app, request.live);
    let mut prunes = Vec::new();
    for (key, live) in request.live {
        if desired.contains(key) || !deployed.holds(&app.name, key, live) {
            continue;
        }
        let skipped = if !request.prune {
            Some("prune is off (use --prune or prune = true)".to_string())
        } else if key.group.is_empty() && key.kind == "Namespace" && !app.sync.prune_namespaces {
            Some("a Namespace is pruned only with prune_namespaces = true".to_string())
        } else if key.group == "apiextensions.k8s.io"
            && key.kind == "CustomResourceDefinition"
            && !app.sync.prune_crds
        {
            Some("a CustomResourceDefinition is pruned only with prune_crds = true".to_string())
        } else {
            None
        };
        prunes.push(SyncStep {
            key: key.clone(),
            api_version: live
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            action: SyncAction::Prune,
            wave: wave_of(live).unwrap_or(0),
            changes: Vec::new(),
            takes_over: Vec::new(),
            skipped,
            object: Value::Null,
        });
    }
    if empty && !app.sync.allow_empty {
        return Err(PlanError::EmptyDesiredState {
            app: app.name.clone(),
            revision: request.revision.to_string(),
            prunable: prunes.len(),
        });
    }

    let order = |s: &SyncStep| {
        (
            s.wave,
            kind_rank(&s.key.kind),
            s.key.kind.clone(),
            s.key.name.clone(),
            s.key.namespace.clone(),
        )
    };
    applies.sort_by_cached_key(order);
    prunes.sort_by_cached_key(order);
    prunes.reverse();
    let mut steps = applies;
    steps.extend(prunes);
    let counts = PlanCounts::of(&steps);
    Ok(SyncPlan {
        app: app.name.clone(),
        revision: request.revision.to_string(),
        namespace: app.namespace.clone(),
        prune: request.prune,
        counts,
        steps,
        desired,
        only: None,
    })
}

/// Whether two keys name one object, a namespace left out meaning the app's.
fn same_object(a: &ResourceKey, b: &ResourceKey, namespace: &str) -> bool {
    let namespace_of = |k: &ResourceKey| k.namespace.clone().unwrap_or_default();
    a.group == b.group
        && a.kind == b.kind
        && a.name == b.name
        && (a.namespace == b.namespace
            || namespace_of(a).is_empty() && namespace_of(b) == namespace
            || namespace_of(b).is_empty() && namespace_of(a) == namespace)
}

/// The manifests' problem for a folder that renders no object.
fn says_empty(message: &str) -> bool {
    message.ends_with("the desired state is empty") || message.ends_with("gave no objects")
}

/// `apps/v1`, or `v1` for the core group.
fn api_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

/// The stamps a live object lacks or carries wrongly for a sync at
/// `revision` pinned to `pin`: the revision when `restamp`, the pin at a
/// pin, and without one, no pin left behind.
fn stamp_changes(
    live: &Value,
    revision: &str,
    pin: Option<&str>,
    restamp: bool,
) -> Vec<PlannedChange> {
    let change = |name: &str, now: Option<&str>, wanted: Option<&str>| {
        let change = match (now, wanted) {
            (now, wanted) if now == wanted => return None,
            (None, Some(_)) => ChangeKind::Added,
            (Some(_), None) => ChangeKind::Removed,
            _ => ChangeKind::Changed,
        };
        Some(PlannedChange {
            path: format!("metadata.annotations.{name}"),
            change,
            by_hand: None,
        })
    };
    let revision_change = restamp
        .then(|| change(REVISION_ANNOTATION, revision_of(live), Some(revision)))
        .flatten();
    revision_change
        .into_iter()
        .chain(change(PINNED_ANNOTATION, pin_of(live), pin))
        .collect()
}

/// The object as a sync applies it: in its namespace, with driftdeck's
/// labels, the revision annotation and the pin if there is one.
fn stamped(
    object: &Value,
    key: &ResourceKey,
    app: &str,
    revision: &str,
    pin: Option<&str>,
) -> Value {
    let mut object = object.clone();
    let Some(map) = object.as_object_mut() else {
        return object;
    };
    let metadata = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !metadata.is_object() {
        *metadata = Value::Object(Map::new());
    }
    if let Some(metadata) = metadata.as_object_mut() {
        if let Some(namespace) = &key.namespace {
            metadata.insert("namespace".into(), Value::String(namespace.clone()));
        }
        let mut put = |field: &str, name: &str, value: &str| {
            let entry = metadata
                .entry(field)
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Some(entry) = entry.as_object_mut() {
                entry.insert(name.into(), Value::String(value.to_string()));
            }
        };
        put("labels", MANAGED_BY_LABEL, crate::resource::FIELD_MANAGER);
        put("labels", APP_LABEL, app);
        put("annotations", REVISION_ANNOTATION, revision);
        if let Some(pin) = pin {
            put("annotations", PINNED_ANNOTATION, pin);
        }
    }
    object
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
