#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Honest under faults and hostile input (issue 16): watches that say they
//! are stale within seconds of a fault, one-shot commands that give up at
//! their timeout, no request uncounted, no terminal escape or file outside
//! the repository reaching the output, and a panic that ends the process
//! with the terminal restored.

use crate::live::support as world;
use crate::simcluster::support as sim;

#[path = "faults/watches.rs"]
mod watches;

#[path = "faults/commands.rs"]
mod commands;

#[path = "faults/hostile.rs"]
mod hostile;

#[path = "faults/terminal.rs"]
mod terminal;
