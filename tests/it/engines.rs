#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Argo CD and Flux apps beside native ones, against the simulated cluster
//! with the engines' real CRDs: what their status says, the actions written
//! to their objects, discovery and its cost.

#[path = "engines/support.rs"]
pub(crate) mod support;

#[path = "engines/mapping.rs"]
mod mapping;

#[path = "engines/actions.rs"]
mod actions;

#[path = "engines/discovery.rs"]
mod discovery;

#[path = "engines/contexts.rs"]
mod contexts;

#[path = "engines/forbidden.rs"]
pub(crate) mod forbidden;

#[path = "engines/sync_all.rs"]
mod sync_all;

#[path = "engines/own_diff.rs"]
mod own_diff;
mod rollback_git;
