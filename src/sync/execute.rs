//! Carrying a plan out against a cluster: a server dry run of every step
//! first (nothing is written if any fails), then server-side apply wave by
//! wave with several objects in flight, then prune. Progress per object
//! goes over a channel; a cancel flag stops new writes while those in
//! flight finish.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};

use super::SyncError;
use super::ownership::taken_over;
use super::plan::{SyncAction, SyncPlan, SyncStep};
use crate::cluster::{self, ApplyMode, ClusterClient, KindCatalog, ServedKind, WriteRefusal};
use crate::drift::ManualManagers;
use crate::resource::{ResourceKey, split_api_version};

/// How a plan is carried out.
#[derive(Debug, Clone)]
pub struct ExecuteOptions {
    /// Objects in flight at once within a wave.
    pub concurrency: usize,
    /// Take over fields that other (not manual) managers own.
    pub force: bool,
    /// Stop after the server dry run.
    pub dry_run_only: bool,
    pub manual: ManualManagers,
}

/// What became of one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectResult {
    /// The server's dry run accepted it (a dry-run-only sync).
    DryRunPassed,
    Created,
    Updated,
    Pruned,
    /// Listed in the plan, not to be done (a prune with prune off).
    Skipped,
    /// Not sent: the sync was cancelled or failed before it came to it.
    NotStarted,
    Failed,
}

/// One object's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectOutcome {
    #[serde(flatten)]
    pub key: ResourceKey,
    pub action: SyncAction,
    pub result: ObjectResult,
    /// Why it failed or was not done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What a running sync reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncProgress {
    /// The server dry run of `objects` steps began.
    DryRun {
        objects: usize,
    },
    /// Applying one wave.
    Wave {
        wave: i64,
        objects: usize,
    },
    Pruning {
        objects: usize,
    },
    /// One object is done (or will not be).
    Object(ObjectOutcome),
}

/// One object the server refused in the dry run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DryRunFailure {
    pub key: ResourceKey,
    pub message: String,
}

/// Where the cluster reaches a step's kind.
struct Target<'p> {
    step: &'p SyncStep,
    /// `None` when the kind is not served yet (a CRD the plan creates).
    kind: Option<ServedKind>,
}

/// Runs the dry run and, unless told to stop there, the plan. Objects the
/// server refused in the dry run are an error: nothing was written.
pub async fn execute(
    client: &ClusterClient,
    catalog: &mut KindCatalog,
    plan: &SyncPlan,
    options: &ExecuteOptions,
    progress: &mpsc::UnboundedSender<SyncProgress>,
    cancel: &watch::Receiver<bool>,
) -> Result<Vec<ObjectOutcome>, SyncError> {
    let targets = targets(client, catalog, plan).await?;
    dry_run(client, plan, &targets, options, progress).await?;
    let mut outcomes: Vec<ObjectOutcome> = Vec::with_capacity(plan.steps.len());
    if options.dry_run_only {
        for step in &plan.steps {
            let result = if step.is_done() {
                ObjectResult::DryRunPassed
            } else {
                ObjectResult::Skipped
            };
            outcomes.push(report(progress, step, result, step.skipped.clone()));
        }
        return Ok(outcomes);
    }

    let halted = AtomicBool::new(false);
    let stopped = || *cancel.borrow() || halted.load(Ordering::SeqCst);
    let applies: Vec<&Target<'_>> = targets
        .iter()
        .filter(|t| t.step.action != SyncAction::Prune)
        .collect();
    for wave in applies.chunk_by(|a, b| a.step.wave == b.step.wave) {
        let _ = progress.send(SyncProgress::Wave {
            wave: wave[0].step.wave,
            objects: wave.len(),
        });
        // The futures are gathered first: a stream over a closure makes the
        // sync's future unprovably Send, and the engine runs it in a task.
        let applies: Vec<_> = wave
            .iter()
            .map(|target| async {
                if stopped() {
                    return report(progress, target.step, ObjectResult::NotStarted, None);
                }
                let outcome = apply_one(client, target, options).await;
                if outcome.result == ObjectResult::Failed {
                    halted.store(true, Ordering::SeqCst);
                }
                let _ = progress.send(SyncProgress::Object(outcome.clone()));
                outcome
            })
            .collect();
        let done: Vec<ObjectOutcome> = futures::stream::iter(applies)
            .buffered(options.concurrency.max(1))
            .collect()
            .await;
        outcomes.extend(done);
    }

    let prunes: Vec<&Target<'_>> = targets
        .iter()
        .filter(|t| t.step.action == SyncAction::Prune)
        .collect();
    let _ = progress.send(SyncProgress::Pruning {
        objects: prunes.iter().filter(|t| t.step.is_done()).count(),
    });
    for wave in prunes.chunk_by(|a, b| a.step.wave == b.step.wave) {
        let deletes: Vec<_> = wave
            .iter()
            .map(|target| async {
                let step = target.step;
                if !step.is_done() {
                    return report(progress, step, ObjectResult::Skipped, step.skipped.clone());
                }
                if stopped() {
                    return report(progress, step, ObjectResult::NotStarted, None);
                }
                let result = match &target.kind {
                    Some(kind) => cluster::delete(client, kind, &step.key, false).await,
                    None => Ok(()),
                };
                match result {
                    Ok(()) => report(progress, step, ObjectResult::Pruned, None),
                    Err(refusal) => {
                        halted.store(true, Ordering::SeqCst);
                        report(progress, step, ObjectResult::Failed, Some(refusal.message))
                    }
                }
            })
            .collect();
        let done: Vec<ObjectOutcome> = futures::stream::iter(deletes)
            .buffered(options.concurrency.max(1))
            .collect()
            .await;
        outcomes.extend(done);
    }
    Ok(outcomes)
}

fn report(
    progress: &mpsc::UnboundedSender<SyncProgress>,
    step: &SyncStep,
    result: ObjectResult,
    message: Option<String>,
) -> ObjectOutcome {
    let outcome = ObjectOutcome {
        key: step.key.clone(),
        action: step.action,
        result,
        message,
    };
    let _ = progress.send(SyncProgress::Object(outcome.clone()));
    outcome
}

/// The served kind of every step. A kind the cluster does not serve is an
/// error, unless the plan creates its CustomResourceDefinition.
async fn targets<'p>(
    client: &ClusterClient,
    catalog: &mut KindCatalog,
    plan: &'p SyncPlan,
) -> Result<Vec<Target<'p>>, SyncError> {
    let defined: BTreeSet<(String, String)> = plan
        .steps
        .iter()
        .filter(|s| s.key.kind == "CustomResourceDefinition" && s.action != SyncAction::Prune)
        .filter_map(|s| {
            let spec = s.object()?.get("spec")?;
            Some((
                spec.get("group")?.as_str()?.to_string(),
                spec.pointer("/names/kind")?.as_str()?.to_string(),
            ))
        })
        .collect();
    let mut targets = Vec::with_capacity(plan.steps.len());
    for step in &plan.steps {
        let (group, version) = split_api_version(&step.api_version);
        let kind = catalog
            .resolve(client, group, Some(version), &step.key.kind)
            .await
            .map_err(|e| SyncError::Cluster {
                app: plan.app.clone(),
                cause: e.to_string(),
            })?;
        if kind.is_none()
            && step.is_done()
            && !defined.contains(&(group.to_string(), step.key.kind.clone()))
        {
            return Err(SyncError::Unserved {
                app: plan.app.clone(),
                object: step.key.to_string(),
                api_version: step.api_version.clone(),
            });
        }
        targets.push(Target { step, kind });
    }
    Ok(targets)
}

/// Every step sent with `dryRun=All`. Objects in a namespace the plan
/// creates, and of kinds the plan defines, cannot be checked before those
/// exist, and are left to the apply.
async fn dry_run(
    client: &ClusterClient,
    plan: &SyncPlan,
    targets: &[Target<'_>],
    options: &ExecuteOptions,
    progress: &mpsc::UnboundedSender<SyncProgress>,
) -> Result<(), SyncError> {
    // Namespaces the plan creates that do not exist yet (the Lease's may
    // have been made already).
    let mut created_namespaces: BTreeSet<&str> = BTreeSet::new();
    for target in targets {
        let step = target.step;
        if step.action != SyncAction::Create || step.key.kind != "Namespace" {
            continue;
        }
        let exists = match &target.kind {
            Some(kind) => cluster::get(client, kind, &step.key)
                .await
                .map_err(|refusal| SyncError::Cluster {
                    app: plan.app.clone(),
                    cause: format!("{}: {}", step.key, refusal.message),
                })?
                .is_some(),
            None => false,
        };
        if !exists {
            created_namespaces.insert(step.key.name.as_str());
        }
    }
    let checked: Vec<(&Target<'_>, &ServedKind)> = targets
        .iter()
        .filter(|t| t.step.is_done())
        .filter(|t| {
            t.step
                .key
                .namespace
                .as_deref()
                .is_none_or(|ns| !created_namespaces.contains(ns))
        })
        .filter_map(|t| Some((t, t.kind.as_ref()?)))
        .collect();
    let _ = progress.send(SyncProgress::DryRun {
        objects: checked.len(),
    });
    let dry_runs: Vec<_> = checked
        .into_iter()
        .map(|(target, kind)| async move {
            let step = target.step;
            let result = match step.object() {
                Some(object) => {
                    let mode = ApplyMode {
                        dry_run: true,
                        force: options.force,
                    };
                    cluster::apply(client, kind, &step.key, object, mode)
                        .await
                        .or_else(|refusal| taken_over_later(step, refusal))
                }
                None => cluster::delete(client, kind, &step.key, true).await,
            };
            result.err().map(|refusal| DryRunFailure {
                key: step.key.clone(),
                message: explain(&refusal),
            })
        })
        .collect();
    let failures: Vec<DryRunFailure> = futures::stream::iter(dry_runs)
        .buffered(options.concurrency.max(1))
        .collect::<Vec<Option<DryRunFailure>>>()
        .await
        .into_iter()
        .flatten()
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(SyncError::DryRun {
            app: plan.app.clone(),
            failures,
        })
    }
}

/// A conflict only with manual-change managers is no failure: the sync
/// takes their fields over before it applies.
fn taken_over_later(step: &SyncStep, refusal: WriteRefusal) -> Result<(), WriteRefusal> {
    let only_manual = refusal.code == 409
        && !refusal.conflicting_managers.is_empty()
        && refusal
            .conflicting_managers
            .iter()
            .all(|m| step.takes_over.contains(m));
    if only_manual { Ok(()) } else { Err(refusal) }
}

/// The server's message, with what to do about a conflict.
fn explain(refusal: &WriteRefusal) -> String {
    if refusal.code == 409 && !refusal.conflicting_managers.is_empty() {
        format!(
            "{} (fields owned by {}; set force = true for the app or use --force to take them over)",
            refusal.message,
            refusal.conflicting_managers.join(", ")
        )
    } else {
        refusal.message.clone()
    }
}

/// Applies one object, taking over fields set by hand first.
async fn apply_one(
    client: &ClusterClient,
    target: &Target<'_>,
    options: &ExecuteOptions,
) -> ObjectOutcome {
    let step = target.step;
    let result = match &target.kind {
        Some(kind) => apply_with(client, kind, step, options).await,
        // A kind its CRD in this plan now defines.
        None => {
            let (group, version) = split_api_version(&step.api_version);
            match KindCatalog::discover(client).await {
                Ok(fresh) => match fresh.lookup(group, Some(version), &step.key.kind) {
                    Some(kind) => apply_with(client, kind, step, options).await,
                    None => Err(format!(
                        "the cluster does not serve {} (its CustomResourceDefinition is not established)",
                        step.api_version
                    )),
                },
                Err(err) => Err(err.to_string()),
            }
        }
    };
    let (result, message) = match result {
        Ok(()) if step.action == SyncAction::Create => (ObjectResult::Created, None),
        Ok(()) => (ObjectResult::Updated, None),
        Err(message) => (ObjectResult::Failed, Some(message)),
    };
    ObjectOutcome {
        key: step.key.clone(),
        action: step.action,
        result,
        message,
    }
}

async fn apply_with(
    client: &ClusterClient,
    kind: &ServedKind,
    step: &SyncStep,
    options: &ExecuteOptions,
) -> Result<(), String> {
    let Some(object) = step.object() else {
        return Ok(());
    };
    if !step.takes_over.is_empty() {
        take_over(client, kind, step, &options.manual)
            .await
            .map_err(|r| format!("taking over fields set by hand: {}", explain(&r)))?;
    }
    let mode = ApplyMode {
        dry_run: false,
        force: options.force,
    };
    cluster::apply(client, kind, &step.key, object, mode)
        .await
        .map_err(|r| explain(&r))
}

/// Moves the manual managers' fields to driftdeck, so that the apply removes them.
async fn take_over(
    client: &ClusterClient,
    kind: &ServedKind,
    step: &SyncStep,
    manual: &ManualManagers,
) -> Result<(), WriteRefusal> {
    let Some(live) = cluster::get(client, kind, &step.key).await? else {
        return Ok(());
    };
    let Some(entries) = taken_over(&live, manual) else {
        return Ok(());
    };
    let version = live
        .pointer("/metadata/resourceVersion")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    cluster::replace_managed_fields(client, kind, &step.key, version, &entries).await
}
