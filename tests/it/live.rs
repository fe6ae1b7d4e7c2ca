#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Live state, drift and health against the simulated cluster: the built
//! binary's `status` and `diff`, and the watch cache through the real kube
//! client.

use crate::simcluster::support as sim;

#[path = "live/support.rs"]
pub(crate) mod support;

#[path = "live/status.rs"]
mod status;

#[path = "live/cache.rs"]
mod cache;

#[path = "live/engine.rs"]
mod engine;

#[path = "live/scale.rs"]
mod scale;

#[path = "live/sync_command.rs"]
mod sync_command;

#[path = "live/rollback.rs"]
pub(crate) mod rollback;

#[path = "live/watch.rs"]
pub(crate) mod watch;

#[path = "live/auto_sync.rs"]
mod auto_sync;

#[path = "live/signed.rs"]
mod signed;

#[path = "live/sync_all.rs"]
mod sync_all;

#[path = "live/inventory.rs"]
mod inventory;

#[path = "live/rollback_git.rs"]
pub(crate) mod rollback_git;

#[path = "live/overlays.rs"]
mod overlays;
