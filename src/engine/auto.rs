//! Auto-sync and self-heal, decided: from an app's last report, its
//! policy, what was synced automatically before, the self-heal backoff and
//! the time, whether to sync which revision now, wait until when, or do
//! nothing and why. Pure: the context task acts on the decision through
//! the sync path every sync takes (`context/sync.rs`), so the TUI and
//! `driftdeck watch` share it.

use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use crate::config::AutoSyncPolicy;
use crate::drift::AppStatus;
use crate::report::AppReport;
use crate::resource::short_revision;
use crate::sync::SyncTrigger;

/// The self-heal backoff stops doubling here.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// What holds automatic syncs back, besides the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Guards {
    /// `--readonly` or `[ui] readonly`: nothing is written.
    pub readonly: bool,
    /// The app is pinned to a revision (rollback): auto-sync is paused.
    pub pinned: bool,
    /// A sync of the app runs (automatic or not).
    pub sync_running: bool,
    /// Why the desired revision cannot be deployed (`require_signed`).
    pub undeployable: Option<String>,
}

/// What to do about an app now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AutoDecision {
    Sync {
        revision: String,
        trigger: SyncTrigger,
    },
    Wait {
        until: Instant,
        trigger: SyncTrigger,
        /// The self-heal backoff being waited; `None` for the settle delay.
        backoff: Option<Duration>,
    },
    Nothing(Hold),
}

/// Why nothing is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Hold {
    Off,
    InSync,
    /// No settled verdict, or the live state is Unknown: nothing to plan from.
    NoVerdict,
    SyncRunning,
    ReadOnly,
    Pinned,
    ManifestErrors(usize),
    Undeployable {
        commit: String,
        why: String,
    },
    /// Drift at the revision already synced, and `self_heal` is off.
    DriftNotHealed,
}

impl Hold {
    /// Why an app that differs from Git is not synced by itself; `None`
    /// when there is nothing to say (in sync, off, busy).
    pub(crate) fn reason(&self) -> Option<String> {
        match self {
            Hold::Off | Hold::InSync | Hold::NoVerdict | Hold::SyncRunning => None,
            Hold::ReadOnly => Some("read-only: no automatic sync".to_string()),
            Hold::Pinned => Some("pinned: auto-sync paused".to_string()),
            Hold::ManifestErrors(errors) => Some(format!(
                "the manifests have {errors} error(s): no automatic sync"
            )),
            Hold::Undeployable { commit, why } => {
                Some(format!("commit {commit} cannot be deployed: {why}"))
            }
            Hold::DriftNotHealed => Some("drift, and self_heal is off".to_string()),
        }
    }
}

/// What an app's automatic syncing remembers between reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AutoState {
    /// The revision of the last automatic sync: a new commit is synced
    /// automatically once, however often its report repeats.
    attempted: Option<String>,
    /// The desired revision of the last report observed.
    revision: Option<String>,
    out_of_sync_since: Option<Instant>,
    in_sync_since: Option<Instant>,
    /// No self-heal before this.
    next_heal: Option<Instant>,
    /// The backoff `next_heal` was set with; zero before any self-heal,
    /// and again once the app stayed in sync that long.
    backoff: Duration,
}

impl AutoState {
    /// Takes in the app's verdict: when its drift began, whether the
    /// self-heal backoff starts over (the app stayed in sync for a whole
    /// backoff: the drift did not keep coming back).
    pub(crate) fn observe(&mut self, report: &AppReport, now: Instant) {
        if report.desired_revision != self.revision {
            self.revision = report.desired_revision.clone();
            self.out_of_sync_since = None;
        }
        match report.summary.status {
            AppStatus::OutOfSync => {
                if self.out_of_sync_since.is_none() {
                    self.out_of_sync_since = Some(now);
                }
                let calm = self
                    .in_sync_since
                    .is_some_and(|since| now.duration_since(since) >= self.backoff);
                if calm {
                    self.backoff = Duration::ZERO;
                    self.next_heal = None;
                }
                self.in_sync_since = None;
            }
            AppStatus::Synced => {
                self.out_of_sync_since = None;
                self.in_sync_since.get_or_insert(now);
            }
            AppStatus::Unknown => {}
        }
    }

    /// Records an automatic sync started now.
    pub(crate) fn started(
        &mut self,
        revision: &str,
        trigger: SyncTrigger,
        policy: &AutoSyncPolicy,
        now: Instant,
    ) {
        self.attempted = Some(revision.to_string());
        // Drift is watched anew once the sync has written.
        self.out_of_sync_since = None;
        self.in_sync_since = None;
        if trigger == SyncTrigger::SelfHeal {
            // The first correction waits the policy's backoff before the
            // next one; each further one while the drift keeps coming
            // back waits twice as long as the one before.
            let backoff = if self.backoff.is_zero() {
                policy.self_heal_backoff
            } else {
                (self.backoff * 2).min(MAX_BACKOFF.max(policy.self_heal_backoff))
            };
            self.next_heal = Some(now + backoff);
            self.backoff = backoff;
        }
    }

    /// Whether and when to sync the app by itself.
    pub(crate) fn decide(
        &self,
        report: &AppReport,
        settled: bool,
        policy: &AutoSyncPolicy,
        guards: &Guards,
        now: Instant,
    ) -> AutoDecision {
        let hold = AutoDecision::Nothing;
        if !policy.auto_sync {
            return hold(Hold::Off);
        }
        // A pinned app is compared at its pin, so it is in sync there while
        // newer commits wait: paused is what the operator must see.
        if guards.pinned {
            return hold(Hold::Pinned);
        }
        if report.summary.status == AppStatus::Synced {
            return hold(Hold::InSync);
        }
        if guards.sync_running {
            return hold(Hold::SyncRunning);
        }
        let Some(revision) = report.desired_revision.as_deref() else {
            return hold(Hold::NoVerdict);
        };
        if !settled {
            return hold(Hold::NoVerdict);
        }
        if guards.readonly {
            return hold(Hold::ReadOnly);
        }
        let errors = report.problems.iter().filter(|p| p.is_error()).count();
        if errors > 0 {
            return hold(Hold::ManifestErrors(errors));
        }
        if let Some(why) = &guards.undeployable {
            return hold(Hold::Undeployable {
                commit: short_revision(revision).to_string(),
                why: why.clone(),
            });
        }
        // Manifest errors make the verdict Unknown too: they are said first.
        if report.summary.status == AppStatus::Unknown {
            return hold(Hold::NoVerdict);
        }
        let new_commit = self.attempted.as_deref() != Some(revision)
            && report.summary.revision.as_deref() != Some(revision);
        let trigger = if new_commit {
            SyncTrigger::Auto
        } else if policy.self_heal {
            SyncTrigger::SelfHeal
        } else {
            return hold(Hold::DriftNotHealed);
        };
        let settled_at = self.out_of_sync_since.unwrap_or(now) + policy.settle_delay;
        if now < settled_at {
            return AutoDecision::Wait {
                until: settled_at,
                trigger,
                backoff: None,
            };
        }
        if let Some(next_heal) = self.next_heal.filter(|at| now < *at)
            && trigger == SyncTrigger::SelfHeal
        {
            return AutoDecision::Wait {
                until: next_heal,
                trigger,
                backoff: Some(self.backoff),
            };
        }
        AutoDecision::Sync {
            revision: revision.to_string(),
            trigger,
        }
    }
}

/// What the engine tells the UI of an app's automatic syncing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "auto", rename_all = "snake_case")]
pub enum AutoStatus {
    /// Nothing to do or to say.
    Idle,
    /// An automatic sync is due at `at`: once the drift has stood the
    /// settle delay, or the self-heal backoff has passed.
    Waiting {
        trigger: SyncTrigger,
        at: jiff::Timestamp,
        /// The self-heal backoff being waited, in seconds.
        #[serde(skip_serializing_if = "Option::is_none")]
        backoff_seconds: Option<u64>,
    },
    /// An automatic sync started; `Syncing` and `SyncEnded` follow.
    Started {
        trigger: SyncTrigger,
        revision: String,
    },
    /// The app differs from Git and is not synced by itself, because…
    Held { reason: String },
}

impl AutoStatus {
    /// Equal, but for a due time moved by less than a second: each look
    /// turns the same instant into a time of day anew.
    pub(crate) fn same_as(&self, other: &AutoStatus) -> bool {
        match (self, other) {
            (
                AutoStatus::Waiting {
                    trigger,
                    at,
                    backoff_seconds,
                },
                AutoStatus::Waiting {
                    trigger: other_trigger,
                    at: other_at,
                    backoff_seconds: other_backoff,
                },
            ) => {
                let apart = (at.as_millisecond() - other_at.as_millisecond()).abs();
                trigger == other_trigger && backoff_seconds == other_backoff && apart < 1000
            }
            _ => self == other,
        }
    }

    /// The status a decision shows, with `now` on both clocks to turn an
    /// instant into a time of day.
    pub(crate) fn of(decision: &AutoDecision, now: Instant, wall: jiff::Timestamp) -> AutoStatus {
        match decision {
            AutoDecision::Sync { revision, trigger } => AutoStatus::Started {
                trigger: *trigger,
                revision: revision.clone(),
            },
            AutoDecision::Wait {
                until,
                trigger,
                backoff,
            } => {
                let ahead = until.saturating_duration_since(now);
                let at = jiff::SignedDuration::try_from(ahead)
                    .ok()
                    .and_then(|ahead| wall.checked_add(ahead).ok())
                    .unwrap_or(wall);
                AutoStatus::Waiting {
                    trigger: *trigger,
                    at,
                    backoff_seconds: backoff.map(|b| b.as_secs()),
                }
            }
            AutoDecision::Nothing(hold) => match hold.reason() {
                Some(reason) => AutoStatus::Held { reason },
                None => AutoStatus::Idle,
            },
        }
    }
}

#[cfg(test)]
#[path = "auto_tests.rs"]
mod tests;
