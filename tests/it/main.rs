#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The integration tests, one crate so that the dependency tree is linked
//! once: each module was a test crate of its own and keeps its folder.
//! Run one part with `cargo test --test it PART::`, for example
//! `cargo test --test it manifests::`.

#[path = "../../screenshots/ansi_svg.rs"]
mod ansi_svg;
#[path = "../common/git.rs"]
mod common_git;
#[path = "../common/timed.rs"]
mod timed;

mod cli;
mod demo;
mod engines;
mod faults;
mod live;
mod manifests;
mod real_cluster;
mod reconcile;
mod screenshots;
mod simcluster;
mod source;
mod sync;
mod tui;
