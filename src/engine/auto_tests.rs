use std::time::Duration;

use tokio::time::Instant;

use super::*;
use crate::drift::AppStatus;
use crate::manifests::{Problem, Severity};

const OLD: &str = "1111111111111111111111111111111111111111";
const NEW: &str = "2222222222222222222222222222222222222222";

fn policy(self_heal: bool) -> AutoSyncPolicy {
    AutoSyncPolicy {
        auto_sync: true,
        self_heal,
        settle_delay: Duration::from_secs(5),
        self_heal_backoff: Duration::from_secs(60),
    }
}

/// An app at `desired` whose live objects were applied from `deployed`.
fn report(status: AppStatus, desired: &str, deployed: Option<&str>) -> AppReport {
    let mut report = AppReport::unknown("shop", Some(desired.to_string()), "");
    report.summary.status = status;
    report.summary.revision = deployed.map(str::to_string);
    report.summary.reason = None;
    report
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Observes the report at `now` and decides, as the engine does.
fn step(
    state: &mut AutoState,
    report: &AppReport,
    policy: &AutoSyncPolicy,
    now: Instant,
) -> AutoDecision {
    state.observe(report, now);
    state.decide(report, true, policy, &Guards::default(), now)
}

#[test]
fn a_new_commit_waits_the_settle_delay_then_syncs_once() {
    let t0 = Instant::now();
    let policy = policy(false);
    let mut state = AutoState::default();
    let behind = report(AppStatus::OutOfSync, NEW, Some(OLD));
    assert_eq!(
        step(&mut state, &behind, &policy, t0),
        AutoDecision::Wait {
            until: t0 + secs(5),
            trigger: SyncTrigger::Auto,
            backoff: None
        }
    );
    let due = step(&mut state, &behind, &policy, t0 + secs(5));
    assert_eq!(
        due,
        AutoDecision::Sync {
            revision: NEW.to_string(),
            trigger: SyncTrigger::Auto
        }
    );
    state.started(NEW, SyncTrigger::Auto, &policy, t0 + secs(5));
    // The same report again (the sync failed, or its report lags): the
    // revision is not synced a second time, and without self-heal drift stays.
    assert_eq!(
        step(&mut state, &behind, &policy, t0 + secs(60)),
        AutoDecision::Nothing(Hold::DriftNotHealed)
    );
    let synced = report(AppStatus::Synced, NEW, Some(NEW));
    assert_eq!(
        step(&mut state, &synced, &policy, t0 + secs(61)),
        AutoDecision::Nothing(Hold::InSync)
    );
}

#[test]
fn drift_at_the_deployed_revision_is_not_a_new_commit() {
    let t0 = Instant::now();
    let mut state = AutoState::default();
    let drifted = report(AppStatus::OutOfSync, OLD, Some(OLD));
    assert_eq!(
        step(&mut state, &drifted, &policy(false), t0 + secs(10)),
        AutoDecision::Nothing(Hold::DriftNotHealed)
    );
    // An app never deployed is a new commit to sync.
    let mut state = AutoState::default();
    let fresh = report(AppStatus::OutOfSync, OLD, None);
    state.observe(&fresh, t0);
    assert!(matches!(
        state.decide(
            &fresh,
            true,
            &policy(false),
            &Guards::default(),
            t0 + secs(5)
        ),
        AutoDecision::Sync {
            trigger: SyncTrigger::Auto,
            ..
        }
    ));
}

#[test]
fn self_heal_corrects_after_the_settle_delay_and_backs_off_doubling() {
    let t0 = Instant::now();
    let policy = policy(true);
    let mut state = AutoState::default();
    let drifted = report(AppStatus::OutOfSync, OLD, Some(OLD));
    let synced = report(AppStatus::Synced, OLD, Some(OLD));
    assert!(matches!(
        step(&mut state, &drifted, &policy, t0),
        AutoDecision::Wait { backoff: None, .. }
    ));
    let heal = AutoDecision::Sync {
        revision: OLD.to_string(),
        trigger: SyncTrigger::SelfHeal,
    };
    assert_eq!(step(&mut state, &drifted, &policy, t0 + secs(5)), heal);
    state.started(OLD, SyncTrigger::SelfHeal, &policy, t0 + secs(5));
    step(&mut state, &synced, &policy, t0 + secs(6));

    // The drift comes back at once: corrected no sooner than a backoff
    // after the first correction.
    assert_eq!(
        step(&mut state, &drifted, &policy, t0 + secs(10)),
        AutoDecision::Wait {
            until: t0 + secs(15),
            trigger: SyncTrigger::SelfHeal,
            backoff: None
        }
    );
    assert_eq!(
        step(&mut state, &drifted, &policy, t0 + secs(15)),
        AutoDecision::Wait {
            until: t0 + secs(65),
            trigger: SyncTrigger::SelfHeal,
            backoff: Some(secs(60))
        }
    );
    assert_eq!(step(&mut state, &drifted, &policy, t0 + secs(65)), heal);
    state.started(OLD, SyncTrigger::SelfHeal, &policy, t0 + secs(65));
    step(&mut state, &synced, &policy, t0 + secs(66));

    // Back again: the backoff has doubled.
    state.observe(&drifted, t0 + secs(70));
    assert_eq!(
        state.decide(&drifted, true, &policy, &Guards::default(), t0 + secs(75)),
        AutoDecision::Wait {
            until: t0 + secs(185),
            trigger: SyncTrigger::SelfHeal,
            backoff: Some(secs(120))
        }
    );
    assert_eq!(step(&mut state, &drifted, &policy, t0 + secs(185)), heal);
    state.started(OLD, SyncTrigger::SelfHeal, &policy, t0 + secs(185));

    // In sync for longer than the backoff: the next drift is healed after
    // the settle delay only, and the backoff starts over.
    step(&mut state, &synced, &policy, t0 + secs(186));
    step(&mut state, &drifted, &policy, t0 + secs(1000));
    assert_eq!(step(&mut state, &drifted, &policy, t0 + secs(1005)), heal);
    state.started(OLD, SyncTrigger::SelfHeal, &policy, t0 + secs(1005));
    step(&mut state, &drifted, &policy, t0 + secs(1006));
    assert!(matches!(
        step(&mut state, &drifted, &policy, t0 + secs(1011)),
        AutoDecision::Wait { backoff: Some(b), .. } if b == secs(60)
    ));
}

#[test]
fn guards_hold_every_automatic_sync() {
    let t0 = Instant::now();
    let policy = policy(true);
    let mut state = AutoState::default();
    let behind = report(AppStatus::OutOfSync, NEW, Some(OLD));
    state.observe(&behind, t0);
    let later = t0 + secs(600);
    let decide = |guards: &Guards, report: &AppReport, settled: bool| {
        state.decide(report, settled, &policy, guards, later)
    };
    let guarded = |guards: Guards| decide(&guards, &behind, true);
    assert_eq!(
        guarded(Guards {
            pinned: true,
            ..Guards::default()
        }),
        AutoDecision::Nothing(Hold::Pinned)
    );
    assert_eq!(
        guarded(Guards {
            readonly: true,
            ..Guards::default()
        }),
        AutoDecision::Nothing(Hold::ReadOnly)
    );
    assert_eq!(
        guarded(Guards {
            sync_running: true,
            ..Guards::default()
        }),
        AutoDecision::Nothing(Hold::SyncRunning)
    );
    assert_eq!(
        guarded(Guards {
            undeployable: Some("unsigned".into()),
            ..Guards::default()
        }),
        AutoDecision::Nothing(Hold::Undeployable {
            commit: "2222222".into(),
            why: "unsigned".into()
        })
    );
    let mut broken = behind.clone();
    broken.problems.push(Problem::in_file(
        Severity::Error,
        "apps/shop/deployment.yaml",
        "mapping values are not allowed here",
    ));
    broken.problems.push(Problem::in_file(
        Severity::Warning,
        "apps/shop/x.yaml",
        "warning only",
    ));
    assert_eq!(
        decide(&Guards::default(), &broken, true),
        AutoDecision::Nothing(Hold::ManifestErrors(1))
    );
    assert_eq!(
        decide(&Guards::default(), &behind, false),
        AutoDecision::Nothing(Hold::NoVerdict)
    );
    let off = AutoSyncPolicy::default();
    assert_eq!(
        state.decide(&behind, true, &off, &Guards::default(), later),
        AutoDecision::Nothing(Hold::Off)
    );
    assert!(matches!(
        decide(&Guards::default(), &behind, true),
        AutoDecision::Sync { .. }
    ));
}

#[test]
fn a_pinned_app_in_sync_at_its_pin_says_auto_sync_is_paused() {
    let t0 = Instant::now();
    let policy = policy(true);
    let mut state = AutoState::default();
    // Compared at the pin, it is Synced there while a newer commit waits.
    let at_pin = report(AppStatus::Synced, OLD, Some(OLD));
    state.observe(&at_pin, t0);
    let pinned = Guards {
        pinned: true,
        ..Guards::default()
    };
    let decision = state.decide(&at_pin, true, &policy, &pinned, t0 + secs(60));
    assert_eq!(decision, AutoDecision::Nothing(Hold::Pinned));
    let unpinned = state.decide(&at_pin, true, &policy, &Guards::default(), t0 + secs(60));
    assert_eq!(unpinned, AutoDecision::Nothing(Hold::InSync));
}

#[test]
fn statuses_say_when_and_why() {
    let now = Instant::now();
    let wall = jiff::Timestamp::from_second(1_700_000_000).unwrap();
    let waiting = AutoStatus::of(
        &AutoDecision::Wait {
            until: now + secs(120),
            trigger: SyncTrigger::SelfHeal,
            backoff: Some(secs(120)),
        },
        now,
        wall,
    );
    assert_eq!(
        serde_json::to_value(&waiting).unwrap(),
        serde_json::json!({"auto": "waiting", "trigger": "self-heal",
            "at": "2023-11-14T22:15:20Z", "backoff_seconds": 120})
    );
    let held = AutoStatus::of(&AutoDecision::Nothing(Hold::Pinned), now, wall);
    assert_eq!(
        held,
        AutoStatus::Held {
            reason: "pinned: auto-sync paused".into()
        }
    );
    assert_eq!(
        AutoStatus::of(&AutoDecision::Nothing(Hold::InSync), now, wall),
        AutoStatus::Idle
    );
}

#[test]
fn manifest_errors_hold_even_when_they_leave_the_verdict_unknown() {
    let t0 = Instant::now();
    let mut broken = report(AppStatus::Unknown, NEW, Some(OLD));
    broken.problems.push(Problem::in_file(
        Severity::Error,
        "apps/shop/x.yaml",
        "invalid YAML",
    ));
    let state = AutoState::default();
    assert_eq!(
        state.decide(&broken, true, &policy(true), &Guards::default(), t0),
        AutoDecision::Nothing(Hold::ManifestErrors(1))
    );
    let unknown = report(AppStatus::Unknown, NEW, Some(OLD));
    assert_eq!(
        state.decide(&unknown, true, &policy(true), &Guards::default(), t0),
        AutoDecision::Nothing(Hold::NoVerdict)
    );
}

#[test]
fn a_due_time_that_moved_by_less_than_a_second_is_the_same_status() {
    let waiting = |millis: i64| AutoStatus::Waiting {
        trigger: SyncTrigger::SelfHeal,
        at: jiff::Timestamp::from_millisecond(1_700_000_000_000 + millis).unwrap(),
        backoff_seconds: Some(60),
    };
    assert!(waiting(0).same_as(&waiting(3)));
    assert!(!waiting(0).same_as(&waiting(60_000)));
    assert!(!waiting(0).same_as(&AutoStatus::Idle));
}
