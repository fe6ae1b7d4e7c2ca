#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Sync against the simulated cluster through the real kube client: plan,
//! dry run, apply, prune, the Lease, the audit log, and manual changes made
//! with the real kubectl.

use crate::simcluster::support as sim;

#[path = "sync/support.rs"]
pub(crate) mod support;

#[path = "sync/apply.rs"]
mod apply;

#[path = "sync/refusals.rs"]
mod refusals;

#[path = "sync/lease.rs"]
mod lease;

#[path = "sync/manual.rs"]
mod manual;

#[path = "sync/history.rs"]
mod history;
