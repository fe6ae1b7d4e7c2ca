//! Sync: make the cluster equal Git (DESIGN.md §10). A plan decided up
//! front (pure), then under the app's Lease a server dry run of all of it,
//! server-side apply wave by wave, prune, and a record in the audit log.

mod audit;
mod execute;
pub mod inventory;
mod operator;
mod order;
mod ownership;
mod pins;
mod plan;
mod signed;
#[cfg(test)]
pub(crate) mod test_support;

use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{mpsc, watch};

pub use audit::{
    AUDIT_FILE, AuditError, AuditLog, AuditRecord, SyncCompleted, SyncHistoryEntry, SyncOperation,
    SyncStarted, SyncStatus, SyncTrigger, history,
};
pub use execute::{
    DryRunFailure, ExecuteOptions, ObjectOutcome, ObjectResult, SyncProgress, execute,
};
pub use inventory::{INVENTORY_LABEL, Inventory};
pub use operator::Operator;
pub use order::{ARGOCD_SYNC_WAVE_ANNOTATION, SYNC_WAVE_ANNOTATION, kind_rank, wave_of};
pub use ownership::taken_over;
pub use pins::{
    PINS_FILE, Pin, PinError, PinFile, Pins, pin_kept_for_review, unpinned_by_git_rollback,
};
pub use plan::{
    PlanCounts, PlanError, PlanRequest, PlannedChange, SyncAction, SyncPlan, SyncStep, plan,
};
pub use signed::{signature_refusal, unsignable_rollback};

use crate::cluster::{
    ClusterClient, KindCatalog, LEASE_DURATION, LeaseError, LeaseRequest, SyncLease,
};
use crate::config::{AppConfig, DriftConfig};
use crate::drift::ManualManagers;

/// How many refused objects an error names before it says "and N more".
const FAILURES_NAMED: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Lease(#[from] LeaseError),
    #[error("app \"{app}\": the server's dry run refused {}; nothing was written: {}", count(failures.len()), name_failures(failures))]
    DryRun {
        app: String,
        failures: Vec<DryRunFailure>,
    },
    #[error(
        "app \"{app}\": {object}: the cluster does not serve {api_version} (is its CustomResourceDefinition installed?)"
    )]
    Unserved {
        app: String,
        /// `Kind namespace/name`.
        object: String,
        api_version: String,
    },
    #[error("app \"{app}\": {cause}")]
    Cluster { app: String, cause: String },
    #[error(transparent)]
    Audit(#[from] AuditError),
}

fn count(objects: usize) -> String {
    if objects == 1 {
        "1 object".to_string()
    } else {
        format!("{objects} objects")
    }
}

fn name_failures(failures: &[DryRunFailure]) -> String {
    let mut named: Vec<String> = failures
        .iter()
        .take(FAILURES_NAMED)
        .map(|f| format!("{}: {}", f.key, f.message))
        .collect();
    if failures.len() > FAILURES_NAMED {
        named.push(format!("and {} more", failures.len() - FAILURES_NAMED));
    }
    named.join("; ")
}

/// How a sync runs.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    pub execute: ExecuteOptions,
    /// Where the app's Lease lives.
    pub lease_namespace: String,
    pub lease_duration: Duration,
    /// A person, auto-sync or self-heal.
    pub trigger: SyncTrigger,
    /// A sync, or a rollback (recorded as such in the audit log).
    pub operation: SyncOperation,
    /// For a rollback: the revision the cluster was at before.
    pub from_revision: Option<String>,
}

impl SyncOptions {
    /// The app's policy; `force` and `dry_run` as `--force` and `--dry-run` say.
    pub fn for_app(
        app: &AppConfig,
        drift: &DriftConfig,
        force: bool,
        dry_run: bool,
    ) -> SyncOptions {
        SyncOptions {
            execute: ExecuteOptions {
                concurrency: app.sync.concurrency,
                force: force || app.sync.force,
                dry_run_only: dry_run,
                manual: ManualManagers::of(drift),
            },
            lease_namespace: inventory::namespace_of(app).to_string(),
            lease_duration: LEASE_DURATION,
            trigger: SyncTrigger::Manual,
            operation: SyncOperation::Sync,
            from_revision: None,
        }
    }
}

/// How a sync went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncOutcome {
    pub app: String,
    pub revision: String,
    pub status: SyncStatus,
    /// Only the server dry run was run.
    pub dry_run: bool,
    pub objects: Vec<ObjectOutcome>,
    pub duration_ms: u64,
    /// The first object that failed and why.
    pub error: Option<String>,
}

impl SyncOutcome {
    /// `synced: 1 created, 2 updated, 0 pruned at 3f2a91c in 0.4s`, or what
    /// the server's dry run passed; what was done first, for a short line.
    pub fn summary(&self) -> String {
        let done =
            |result: ObjectResult| self.objects.iter().filter(|o| o.result == result).count();
        let what = if self.dry_run {
            format!(
                "server dry run passed for {} objects, nothing written",
                done(ObjectResult::DryRunPassed)
            )
        } else {
            format!(
                "{} created, {} updated, {} pruned",
                done(ObjectResult::Created),
                done(ObjectResult::Updated),
                done(ObjectResult::Pruned)
            )
        };
        let status = match self.status {
            SyncStatus::Succeeded => "synced",
            SyncStatus::Failed => "sync failed",
            SyncStatus::Cancelled => "sync cancelled",
            SyncStatus::Interrupted => "sync interrupted",
        };
        format!(
            "{status}: {what} at {} in {:.1}s",
            crate::resource::short_revision(&self.revision),
            self.duration_ms as f64 / 1000.0
        )
    }
}

/// What a sync needs besides the catalog and its channels.
#[derive(Debug, Clone, Copy)]
pub struct SyncRequest<'a> {
    pub client: &'a ClusterClient,
    pub plan: &'a SyncPlan,
    pub options: &'a SyncOptions,
    pub operator: &'a Operator,
    /// `None`: not recorded (tests, benches).
    pub audit: Option<&'a AuditLog>,
}

/// Runs a sync: Lease, audit start, dry run, apply, prune, Lease released,
/// audit completion. A plan with nothing to do writes nothing at all, and a
/// dry-run-only sync takes no Lease and records nothing. `Err` means nothing
/// was written (the Lease is held by another, the dry run refused an
/// object); a sync that failed after writing is an `Ok` outcome with status
/// `Failed`, its objects saying what was done.
pub async fn run(
    request: SyncRequest<'_>,
    catalog: &mut KindCatalog,
    progress: &mpsc::UnboundedSender<SyncProgress>,
    cancel: watch::Receiver<bool>,
) -> Result<SyncOutcome, SyncError> {
    let started = Instant::now();
    let SyncRequest {
        client,
        plan,
        options,
        operator,
        audit,
    } = request;
    let outcome = |objects: Vec<ObjectOutcome>, status, error| SyncOutcome {
        app: plan.app.clone(),
        revision: plan.revision.clone(),
        status,
        dry_run: options.execute.dry_run_only,
        objects,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        error,
    };
    if plan.is_empty() && !options.execute.dry_run_only {
        return Ok(outcome(Vec::new(), SyncStatus::Succeeded, None));
    }
    if options.execute.dry_run_only {
        let objects = execute(client, catalog, plan, &options.execute, progress, &cancel).await?;
        return Ok(outcome(objects, SyncStatus::Succeeded, None));
    }

    let holder = operator.identity();
    let lease = SyncLease::acquire(
        client,
        &LeaseRequest {
            app: &plan.app,
            namespace: &options.lease_namespace,
            holder: &holder,
            duration: options.lease_duration,
        },
    )
    .await?;
    let id = uuid::Uuid::new_v4().to_string();
    if let Some(audit) = audit {
        let start = AuditRecord::Start(SyncStarted {
            id: id.clone(),
            time: jiff::Timestamp::now(),
            operator: operator.clone(),
            app: plan.app.clone(),
            context: client.context().to_string(),
            revision: plan.revision.clone(),
            automatic: options.trigger.is_automatic(),
            trigger: options.trigger,
            operation: options.operation,
            from_revision: options.from_revision.clone(),
            plan: serde_json::to_value(plan).map_err(AuditError::from)?,
        });
        if let Err(err) = audit.append(&start) {
            let _ = lease.release().await;
            return Err(err.into());
        }
    }

    let executed = execute(client, catalog, plan, &options.execute, progress, &cancel).await;
    // Recorded under the Lease, and only once everything applied: a failed
    // sync's objects carry the label, which is enough to find them. A sync
    // of one object says nothing of the others: the inventory stays.
    let recorded = match &executed {
        Ok(objects)
            if plan.only.is_none()
                && objects.iter().all(|o| {
                    o.result != ObjectResult::Failed && o.result != ObjectResult::NotStarted
                }) =>
        {
            record_inventory(client, catalog, plan, options, objects).await
        }
        _ => Ok(()),
    };
    let released = lease.release().await;
    let (result, objects, status, mut error) = match executed {
        Ok(objects) => {
            let failed = objects.iter().find(|o| o.result == ObjectResult::Failed);
            let status = if failed.is_some() {
                SyncStatus::Failed
            } else if objects.iter().any(|o| o.result == ObjectResult::NotStarted) {
                SyncStatus::Cancelled
            } else {
                SyncStatus::Succeeded
            };
            let error =
                failed.map(|o| format!("{}: {}", o.key, o.message.as_deref().unwrap_or("failed")));
            (Ok(()), objects, status, error)
        }
        Err(err) => {
            let error = Some(err.to_string());
            (Err(err), Vec::new(), SyncStatus::Failed, error)
        }
    };
    if let Err(err) = recorded {
        tracing::warn!(app = %plan.app, %err, "the inventory was not written");
        error.get_or_insert_with(|| format!("the inventory was not written: {err}"));
    }
    if let Err(err) = released {
        tracing::warn!(app = %plan.app, %err, "the sync Lease was not released; it expires by itself");
        error.get_or_insert_with(|| err.to_string());
    }
    let done = outcome(objects, status, error);
    if let Some(audit) = audit {
        audit.append(&AuditRecord::Completion(SyncCompleted {
            id,
            time: jiff::Timestamp::now(),
            app: plan.app.clone(),
            status: done.status,
            duration_ms: done.duration_ms,
            objects: done.objects.clone(),
            error: done.error.clone(),
        }))?;
    }
    result.map(|()| done)
}

/// Writes what the app now has in the cluster: every desired object, and the
/// objects a prune left (prune off, or a guard): they are still the app's.
async fn record_inventory(
    client: &ClusterClient,
    catalog: &mut KindCatalog,
    plan: &SyncPlan,
    options: &SyncOptions,
    objects: &[ObjectOutcome],
) -> Result<(), String> {
    let mut deployed = plan.desired.clone();
    for step in &plan.steps {
        let left = step.action == SyncAction::Prune
            && objects
                .iter()
                .any(|o| o.key == step.key && o.result != ObjectResult::Pruned);
        if left {
            deployed
                .objects
                .insert(step.key.clone(), step.api_version.clone());
        }
    }
    let key = inventory::key_in(&plan.app, &options.lease_namespace);
    inventory::write(client, catalog, &plan.app, &key, &deployed).await
}
