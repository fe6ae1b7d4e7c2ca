//! `driftdeck history`: the audit log read back through the built binary,
//! newest first, an interrupted sync shown as such, and no Secret value.

use driftdeck::sync::{AuditRecord, SyncStarted, SyncTrigger};
use serde_json::Value;

use super::sim::within_timeout;
use super::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_prints_syncs_newest_first_with_interrupted_ones() {
    within_timeout(async {
        let mut world = World::new().await;
        let app = world.app("");
        world
            .sync(&app, &[namespace(NAMESPACE), secret("db", "s3cr3t-in-git")])
            .await
            .unwrap();
        // A sync killed after it started: a start record and nothing more.
        world
            .audit()
            .append(&AuditRecord::Start(SyncStarted {
                id: "killed".into(),
                time: jiff::Timestamp::now(),
                operator: operator("bob"),
                app: APP.into(),
                context: "sim".into(),
                revision: "fedcba9876543210".into(),
                automatic: true,
                operation: Default::default(),
                from_revision: None,
                trigger: SyncTrigger::Auto,
                plan: serde_json::json!({}),
            }))
            .unwrap();

        let out = world.driftdeck(&["history", APP, "-o", "json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let entries: Value = serde_json::from_str(&stdout).unwrap();
        let entries = entries.as_array().unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0]["id"], "killed");
        assert_eq!(entries[0]["status"], "interrupted");
        assert_eq!(entries[1]["status"], "succeeded");
        assert_eq!(entries[1]["operator"]["user"], "alice");
        assert_eq!(entries[1]["revision"], REVISION);
        assert_eq!(entries[1]["objects"].as_array().unwrap().len(), 2);
        assert_eq!(entries[1]["plan"]["steps"][1]["kind"], "Secret");
        assert!(!stdout.contains("s3cr3t-in-git"), "{stdout}");

        let out = world.driftdeck(&["history", APP]);
        let table = String::from_utf8_lossy(&out.stdout).into_owned();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3, "{table}");
        assert!(
            lines[1].contains("interrupted") && lines[1].contains("auto"),
            "{table}"
        );
        assert!(
            lines[2].contains("succeeded") && lines[2].contains("2 created"),
            "{table}"
        );

        let out = world.driftdeck(&["history", "nope"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("unknown app \"nope\""));
    })
    .await;
}
