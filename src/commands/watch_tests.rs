use std::sync::Arc;

use super::*;
use crate::engine::SyncRefused;
use crate::report::AppReport;
use crate::sync::{ObjectOutcome, SyncAction, SyncOutcome};

const REV: &str = "3f2a91c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6";

fn time() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_700_000_000).unwrap()
}

fn report(status: AppStatus) -> EngineEvent {
    let mut report = AppReport::unknown("shop", Some(REV.to_string()), "cause");
    report.summary.status = status;
    report.summary.health = Health::Healthy;
    report.summary.reason = None;
    EngineEvent::Report {
        app: "shop".into(),
        generation: 0,
        report: Arc::new(report),
        settled: true,
    }
}

#[test]
fn a_verdict_is_printed_once_per_change() {
    let mut lines = Lines::default();
    let printed = lines.of(&report(AppStatus::OutOfSync), time());
    assert_eq!(printed.len(), 1);
    assert_eq!(
        printed[0].text(),
        "2023-11-14T22:13:20Z shop OutOfSync Healthy at 3f2a91c (deployed -)"
    );
    assert!(lines.of(&report(AppStatus::OutOfSync), time()).is_empty());
    assert_eq!(lines.of(&report(AppStatus::Synced), time()).len(), 1);
}

#[test]
fn an_automatic_sync_is_printed_started_and_ended_with_its_trigger() {
    let mut lines = Lines::default();
    let started = EngineEvent::Auto {
        app: "shop".into(),
        status: AutoStatus::Started {
            trigger: SyncTrigger::SelfHeal,
            revision: REV.into(),
        },
    };
    assert_eq!(
        lines.of(&started, time())[0].text(),
        "2023-11-14T22:13:20Z shop self-heal sync of 3f2a91c started"
    );
    let ended = EngineEvent::SyncEnded {
        app: "shop".into(),
        outcome: Ok(SyncOutcome {
            app: "shop".into(),
            revision: REV.into(),
            status: SyncStatus::Succeeded,
            dry_run: false,
            objects: vec![ObjectOutcome {
                key: crate::resource::ResourceKey::new(
                    "apps/v1",
                    "Deployment",
                    Some("shop"),
                    "web",
                ),
                action: SyncAction::Update,
                result: ObjectResult::Updated,
                message: None,
            }],
            duration_ms: 40,
            error: None,
        }),
    };
    let printed = lines.of(&ended, time());
    assert_eq!(
        printed[0].text(),
        "2023-11-14T22:13:20Z shop self-heal sync of 3f2a91c succeeded: 0 created, 1 updated, 0 pruned, 0 failed"
    );
    let json = serde_json::to_value(&printed[0]).unwrap();
    assert_eq!(json["event"], "sync_ended");
    assert_eq!(json["trigger"], "self-heal");
    assert_eq!(json["status"], "succeeded");
    assert_eq!(json["updated"], 1);

    let refused = EngineEvent::SyncEnded {
        app: "shop".into(),
        outcome: Err(SyncRefused {
            message: "app \"shop\": commit 3f2a91c cannot be deployed: unsigned".into(),
            could_not_run: false,
        }),
    };
    let json = serde_json::to_value(&lines.of(&refused, time())[0]).unwrap();
    assert_eq!(json["event"], "sync_refused");
    assert_eq!(json["trigger"], "manual");
}

#[test]
fn a_wait_says_when_and_the_backoff() {
    let mut lines = Lines::default();
    let waiting = EngineEvent::Auto {
        app: "shop".into(),
        status: AutoStatus::Waiting {
            trigger: SyncTrigger::SelfHeal,
            at: jiff::Timestamp::from_second(1_700_000_060).unwrap(),
            backoff_seconds: Some(60),
        },
    };
    let printed = lines.of(&waiting, time());
    assert_eq!(
        printed[0].text(),
        "2023-11-14T22:13:20Z shop self-heal due at 2023-11-14T22:14:20Z (backoff 60s)"
    );
    let json = serde_json::to_value(&printed[0]).unwrap();
    assert_eq!(json["event"], "auto");
    assert_eq!(json["auto"], "waiting");
    assert_eq!(json["backoff_seconds"], 60);
}
