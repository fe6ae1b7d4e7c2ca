#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! driftdeck against a real kube-apiserver and etcd (built from their Go
//! modules by `tools/real-cluster/up`) as well as against the simulated
//! cluster, and the simulated cluster's answers checked against the real
//! server's. A test that cannot start the real server fails with the reason.

#[path = "real_cluster/support.rs"]
pub(crate) mod support;

#[path = "real_cluster/drift.rs"]
mod drift;

#[path = "real_cluster/conformance.rs"]
mod conformance;
