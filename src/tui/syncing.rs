//! A sync as the UI follows it: the objects it writes and what became of
//! each so far (for the app's row and the Resources pane), and the last
//! sync's result (for the status bar). Pure; fed by the engine's `Syncing`
//! and `SyncEnded` events.

use std::collections::BTreeMap;

use crate::engine::SyncRefused;
use crate::resource::ResourceKey;
use crate::sync::{ObjectResult, SyncOutcome, SyncPlan, SyncProgress, SyncStatus};

/// What a running sync has done so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncRun {
    /// The objects it writes, with what became of each; `None` while not yet.
    pub objects: BTreeMap<ResourceKey, Option<ObjectResult>>,
    /// Quitting or cancelling asked it to stop after the objects in flight.
    pub cancelling: bool,
}

impl SyncRun {
    /// A sync of the plan the operator confirmed. The engine plans afresh
    /// when it starts; objects its plan adds show up as they are done.
    pub fn of(plan: &SyncPlan) -> SyncRun {
        SyncRun {
            objects: plan
                .steps
                .iter()
                .filter(|s| s.is_done())
                .map(|s| (s.key.clone(), None))
                .collect(),
            cancelling: false,
        }
    }

    /// Takes in one progress report; true if something shown changed.
    pub fn record(&mut self, progress: &SyncProgress) -> bool {
        let SyncProgress::Object(outcome) = progress else {
            return false;
        };
        // Skipped steps (prunes with prune off) were never counted in.
        if outcome.result == ObjectResult::Skipped {
            return false;
        }
        let slot = self.objects.entry(outcome.key.clone()).or_default();
        let changed = *slot != Some(outcome.result);
        *slot = Some(outcome.result);
        changed
    }

    /// Objects done (or that will not be), and objects in all.
    pub fn done_of_total(&self) -> (usize, usize) {
        let done = self.objects.values().filter(|r| r.is_some()).count();
        (done, self.objects.len())
    }

    /// What became of an object of the sync, `Some(None)` while not yet;
    /// `None` for an object the sync does not write.
    pub fn object(&self, key: &ResourceKey) -> Option<Option<ObjectResult>> {
        self.objects.get(key).copied()
    }
}

/// How the last sync ended, for the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncResult {
    /// `shop: synced: 1 created, 1 updated, 1 pruned at 3f2a91c in 0.4s`.
    pub text: String,
    /// It failed, was refused or was cancelled.
    pub failed: bool,
}

impl SyncResult {
    pub fn of(app: &str, outcome: &Result<SyncOutcome, SyncRefused>) -> SyncResult {
        match outcome {
            Ok(outcome) => SyncResult {
                text: format!("{app}: {}", outcome.summary()),
                failed: outcome.status != SyncStatus::Succeeded,
            },
            Err(refused) => SyncResult {
                text: format!("sync refused: {}", refused.message),
                failed: true,
            },
        }
    }
}

/// An action asked of an engine app's engine (Argo CD, Flux), from the
/// operator's yes to the engine's last word on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineRun {
    /// `sync`, `refresh`, `suspend`, `resume`.
    pub verb: &'static str,
    /// What the engine says meanwhile (`Running: waiting for healthy
    /// state of apps/Deployment/web`), once it has said something.
    pub message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_support::shop_plan;
    use crate::sync::{ObjectOutcome, SyncAction};

    fn done(plan: &SyncPlan, index: usize, result: ObjectResult) -> SyncProgress {
        let step = &plan.steps[index];
        SyncProgress::Object(ObjectOutcome {
            key: step.key.clone(),
            action: step.action,
            result,
            message: None,
        })
    }

    #[test]
    fn a_run_counts_the_objects_done_of_those_the_plan_writes() {
        let plan = shop_plan();
        let mut run = SyncRun::of(&plan);
        assert_eq!(run.done_of_total(), (0, 3));
        assert!(!run.record(&SyncProgress::DryRun { objects: 3 }));
        assert!(run.record(&done(&plan, 0, ObjectResult::Created)));
        assert!(!run.record(&done(&plan, 0, ObjectResult::Created)));
        assert_eq!(run.done_of_total(), (1, 3));
        assert_eq!(
            run.object(&plan.steps[0].key),
            Some(Some(ObjectResult::Created))
        );
        assert_eq!(run.object(&plan.steps[1].key), Some(None));
        assert_eq!(plan.steps[2].action, SyncAction::Prune);
        run.record(&done(&plan, 2, ObjectResult::Failed));
        assert_eq!(run.done_of_total(), (2, 3));
    }
}
