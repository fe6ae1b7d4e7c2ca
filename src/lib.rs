//! driftdeck: a terminal dashboard for GitOps. The library holds everything;
//! the binary in `main.rs` only parses the command line and hands over.

pub mod cli;
pub mod commands;
pub mod config;
pub mod logging;
pub mod simcluster;
pub mod source;
