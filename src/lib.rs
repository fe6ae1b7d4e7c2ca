//! driftdeck: a terminal dashboard for GitOps. The library holds everything;
//! the binary in `main.rs` only parses the command line and hands over.

pub mod causes;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod demo;
pub mod drift;
pub mod engine;
pub mod engines;
pub mod logging;
pub mod manifests;
pub mod memory;
pub mod names;
pub mod quantity;
pub mod report;
pub mod resource;
pub mod simcluster;
pub mod source;
pub mod sync;
pub mod text;
pub mod tui;
