//! driftdeck's own comparison of an engine app's source with live, as an
//! app's report carries it beside the engine's verdict
//! (`report::with_own_verdict` makes it; `report::AppReport` holds it).

use serde::Serialize;

use super::Engine;
use crate::drift::AppStatus;
use crate::resource::short_revision;

/// driftdeck's own comparison of an engine app's source with live
/// (`driftdeck` in a report's JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OwnComparison {
    /// driftdeck's verdict, by its drift rules; `None` when not compared.
    pub sync: Option<AppStatus>,
    /// The commit rendered and compared.
    pub revision: Option<String>,
    /// Where driftdeck read it: the repository and the folder.
    pub source: Option<String>,
    /// Why there is no comparison (or why its verdict is Unknown).
    pub reason: Option<String>,
    /// The engine says Synced and driftdeck sees drift, or the reverse.
    pub disagrees: bool,
}

impl OwnComparison {
    /// One line for the Diff pane and `diff`: why only the engine's verdict
    /// is shown, or that driftdeck disagrees with it; `None` otherwise.
    pub fn note(&self, engine: Engine, engine_sync: AppStatus) -> Option<String> {
        if let Some(reason) = &self.reason {
            return Some(format!("{reason}; showing {}'s verdict", engine.title()));
        }
        let sync = self.sync.filter(|_| self.disagrees)?;
        let at = self
            .revision
            .as_deref()
            .map(|r| format!(" at {}", short_revision(r)))
            .unwrap_or_default();
        Some(format!(
            "{} says {engine_sync}; driftdeck sees {sync}{at}",
            engine.title()
        ))
    }
}
