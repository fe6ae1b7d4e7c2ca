//! The limits that keep loading bounded in time and memory whatever is in the
//! repository: alias bombs, huge files, deep nesting, folder loops. The
//! README lists them; each one that trips is reported as an error.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// Bytes in one manifest file. The API server stores at most 1.5 MiB per
/// object, so this leaves room for large CRD bundles.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// Bytes of all the manifest files of one app, or of a renderer's output.
pub const MAX_TOTAL_BYTES: u64 = 64 * 1024 * 1024;
/// Manifest files in one app folder.
pub const MAX_FILES: usize = 10_000;
/// Folder levels below the app folder.
pub const MAX_FOLDER_DEPTH: usize = 32;
/// YAML documents in one file.
pub const MAX_DOCUMENTS_PER_FILE: usize = 10_000;
/// Levels of nested mappings and lists in one document.
pub const MAX_NESTING: usize = 128;
/// Nodes (mappings, lists, scalars; aliases count each time they expand) in one document.
pub const MAX_NODES_PER_DOCUMENT: usize = 250_000;
/// Nodes in the whole desired state of one app, which bounds its memory.
pub const MAX_NODES_TOTAL: usize = 2_000_000;
/// Stack of the threads that parse: deep enough for documents nested
/// [`MAX_NESTING`] levels in an unoptimized build, with room to spare.
pub const PARSER_STACK_BYTES: usize = 32 * 1024 * 1024;
/// How long kustomize or helm may run.
pub const RENDER_TIMEOUT: Duration = Duration::from_secs(120);

/// How a file's YAML is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// Manifests: a repeated key, or a number JSON cannot hold (`.inf`,
    /// `.nan`), is an error.
    Manifests,
    /// Objects saved from a cluster or a tool, for the offline commands: the
    /// last of repeated keys wins (such files do carry repeats) and `.inf`
    /// and `.nan` stay text.
    Saved,
}

/// The nodes left for one load, shared by the threads that parse its files,
/// and how the load reads YAML.
#[derive(Debug)]
pub struct NodeBudget {
    left: AtomicUsize,
    /// Set by the first parse that finds nothing left, so that only it says so.
    ran_out: AtomicBool,
    reading: Reading,
}

impl NodeBudget {
    /// A budget for reading manifests.
    pub fn new(total: usize) -> Self {
        Self::for_reading(total, Reading::Manifests)
    }

    pub fn for_reading(total: usize, reading: Reading) -> Self {
        NodeBudget {
            left: AtomicUsize::new(total),
            ran_out: AtomicBool::new(false),
            reading,
        }
    }

    /// Parser options for the next document, capped by what is left; the
    /// returned counter holds the nodes the parse used once it is done.
    pub fn yaml_options(&self) -> (serde_saphyr::Options, Rc<Cell<usize>>) {
        let allowed = self.left().min(MAX_NODES_PER_DOCUMENT);
        let used = Rc::new(Cell::new(0));
        let report = Rc::clone(&used);
        let mut budget = serde_saphyr::Budget::default();
        budget.max_depth = MAX_NESTING;
        budget.flow_nesting_limit = MAX_NESTING;
        budget.max_nodes = allowed;
        budget.max_documents = 1;
        let mut options = serde_saphyr::options! { with_snippet: false };
        // kubectl reads YAML 1.1 (sigs.k8s.io/yaml): `defaultMode: 0644` is
        // octal there, and must be here too or it would read as drift.
        options.legacy_octal_numbers = true;
        if self.reading == Reading::Saved {
            options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
            options.non_finite_float_policy = serde_saphyr::NonFiniteFloatPolicy::AsString;
        }
        options.budget = Some(budget);
        options.budget_report_cb = Some(Rc::new(std::cell::RefCell::new(
            move |r: serde_saphyr::budget::BudgetReport| report.set(r.nodes),
        )));
        (options, used)
    }

    pub fn left(&self) -> usize {
        self.left.load(Ordering::Relaxed)
    }

    /// True for the first caller only, once the budget is spent.
    pub fn first_to_run_out(&self) -> bool {
        self.left() == 0 && !self.ran_out.swap(true, Ordering::Relaxed)
    }

    pub fn spend(&self, nodes: usize) {
        // Saturating: parallel parses may together overshoot by one document each.
        let _ = self
            .left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                Some(left.saturating_sub(nodes))
            });
    }
}

/// A thread builder for parsing, with [`PARSER_STACK_BYTES`] of stack.
pub fn parser_thread() -> std::thread::Builder {
    std::thread::Builder::new()
        .name("manifests-parser".to_string())
        .stack_size(PARSER_STACK_BYTES)
}

/// Runs `parse` on a parser thread and waits for it; `None` when no
/// thread could be started.
pub fn on_parser_stack<T: Send>(parse: impl FnOnce() -> T + Send) -> Option<T> {
    std::thread::scope(|scope| {
        let worker = parser_thread().spawn_scoped(scope, parse).ok()?;
        Some(
            worker
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        )
    })
}

/// `16 MiB` for limits in messages.
pub fn human_bytes(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_only_goes_down_and_stops_at_zero() {
        let budget = NodeBudget::new(10);
        budget.spend(4);
        assert_eq!(budget.left(), 6);
        assert!(!budget.first_to_run_out());
        budget.spend(40);
        assert_eq!(budget.left(), 0);
        assert!(budget.first_to_run_out());
        assert!(!budget.first_to_run_out());
    }

    #[test]
    fn sizes_read_as_mebibytes() {
        assert_eq!(human_bytes(MAX_FILE_BYTES), "16 MiB");
        assert_eq!(human_bytes(1000), "1000 bytes");
    }
}
