//! Sync: make the cluster equal Git (DESIGN.md §10). A plan decided up
//! front, a server dry run of all of it, server-side apply wave by wave,
//! prune, under a Lease, recorded in the audit log.

mod order;
mod plan;

pub use order::{ARGOCD_SYNC_WAVE_ANNOTATION, SYNC_WAVE_ANNOTATION, kind_rank, wave_of};
pub use plan::{PlanCounts, PlanError, PlanRequest, PlannedChange, SyncAction, SyncPlan, SyncStep, plan};
