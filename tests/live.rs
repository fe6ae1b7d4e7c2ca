#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Live state, drift and health against the simulated cluster: the built
//! binary's `status` and `diff`, and the watch cache through the real kube
//! client.

#[path = "simcluster/support.rs"]
#[allow(dead_code)]
mod sim;

#[path = "live/support.rs"]
mod support;

#[path = "live/status.rs"]
mod status;

#[path = "live/cache.rs"]
mod cache;

#[path = "live/engine.rs"]
mod engine;
