#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The Git side with real Git: temp repositories, a real `git daemon` and
//! `git http-backend` on 127.0.0.1, throwaway gpg and ssh signing keys, and
//! the built binary for `driftdeck log`.

#[path = "source/support.rs"]
pub(crate) mod support;

use crate::timed;

#[path = "source/fast_import.rs"]
mod fast_import;

#[path = "source/remote.rs"]
mod remote;

#[path = "source/poller.rs"]
mod poller;

#[path = "source/history.rs"]
mod history;

#[path = "source/signatures.rs"]
pub(crate) mod signatures;

#[path = "source/revert.rs"]
mod revert;

#[path = "source/cli.rs"]
mod cli;
