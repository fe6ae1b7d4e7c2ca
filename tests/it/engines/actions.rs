//! Actions through the engine, never around it: `driftdeck sync` on an
//! Argo CD app writes the Application's `operation` and follows
//! `status.operationState`; on a Flux app it requests a reconcile of the
//! object and its source and waits for `lastHandledReconcileAt`; suspend
//! and resume toggle `spec.suspend`. The test plays the controller.

use serde_json::{Value, json};

use super::support::{operation_written, read_back, read_until, set_status, world_with};
use crate::live::support::World;
use crate::simcluster::support::within_timeout;

fn audit_lines(world: &World) -> Vec<Value> {
    super::support::audit_lines(&world.path("home/data/driftdeck/audit.jsonl"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn argocd_sync_writes_the_operation_and_reports_the_result_the_controller_sets() {
    within_timeout(async {
        let (world, objects) = world_with(&["argocd/application-sync-failed.yaml"]).await;
        let app = &objects[0];
        let controller = async {
            // Set as Argo CD's own CLI would set it through its API.
            let revision = json!("e7c9eda0aebf55e32220440a3b56c848ff02b93c");
            let asked = operation_written(&world, app, &revision, true).await;
            let operation = &asked["operation"];
            set_status(&world, app, json!({"operationState": {
                "phase": "Running", "message": "waiting for healthy state of apps/Deployment/web",
                "startedAt": "2026-08-21T16:00:00Z", "operation": operation
            }}))
            .await;
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            // The controller clears `operation` when the phase is complete.
            let api = super::support::api_of(&world, app).await;
            api.patch(
                "guestbook-staging",
                &kube::api::PatchParams::default(),
                &kube::api::Patch::Merge(json!({"operation": null, "status": {"operationState": {
                    "phase": "Succeeded", "message": "successfully synced (all tasks run)",
                    "finishedAt": "2026-08-21T16:00:09Z"
                }}})),
            )
            .await
            .unwrap();
        };
        let (run, ()) = tokio::join!(
            world.driftdeck(&["sync", "argocd/guestbook-staging", "--prune", "--yes"]),
            controller
        );
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains("sync done: successfully synced"),
            "{}",
            run.stdout
        );
        assert!(
            run.stderr.contains("Running: waiting for healthy state"),
            "{}",
            run.stderr
        );
        let audit = audit_lines(&world);
        assert_eq!(audit.len(), 2, "{audit:#?}");
        assert_eq!(audit[0]["app"], "argocd/guestbook-staging");
        assert_eq!(audit[1]["status"], "succeeded");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn argocd_sync_failed_by_the_controller_exits_1_with_its_message() {
    within_timeout(async {
        let (world, objects) =
            world_with(&["argocd/application-synced-healthy-history.yaml"]).await;
        let app = &objects[0];
        let controller = async {
            let asked = read_until(&world, app, "the operation is written", |o| {
                !o["operation"].is_null()
            })
            .await;
            set_status(
                &world,
                app,
                json!({"operationState": {
                    "phase": "Failed", "message": "one or more objects failed to apply",
                    "operation": asked["operation"], "startedAt": "2026-08-21T16:00:00Z"
                }}),
            )
            .await;
        };
        let (run, ()) = tokio::join!(
            world.driftdeck(&["sync", "argocd/guestbook", "--yes"]),
            controller
        );
        assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
        assert!(
            run.stdout
                .contains("FAILED: Failed: one or more objects failed to apply"),
            "{}",
            run.stdout
        );
        assert_eq!(
            read_back(&world, app).await["operation"]["sync"]["prune"],
            false
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn argocd_sync_is_refused_while_another_operation_runs_and_when_read_only() {
    within_timeout(async {
        let (world, objects) = world_with(&["argocd/application-sync-running.yaml"]).await;
        let run = world
            .driftdeck(&["sync", "argocd/guestbook-dev", "--yes"])
            .await;
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr
                .contains("another operation is already in progress"),
            "{}",
            run.stderr
        );
        let run = world
            .driftdeck(&["--readonly", "sync", "argocd/guestbook-dev", "--yes"])
            .await;
        assert_eq!(run.code, 2);
        assert!(run.stderr.contains("read-only"), "{}", run.stderr);
        // What was there is untouched: the running operation is Bob's.
        let app = read_back(&world, &objects[0]).await;
        assert_eq!(
            app["operation"]["initiatedBy"]["username"],
            "bob@example.com"
        );
        assert!(audit_lines(&world).is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn argocd_refresh_sets_the_annotation_and_ends_when_the_controller_removes_it() {
    within_timeout(async {
        let (world, objects) =
            world_with(&["argocd/application-synced-healthy-history.yaml"]).await;
        let app = &objects[0];
        let controller = async {
            read_until(&world, app, "the refresh is asked", |o| {
                o["metadata"]["annotations"]["argocd.argoproj.io/refresh"] == "hard"
            })
            .await;
            let api = super::support::api_of(&world, app).await;
            api.patch(
                "guestbook",
                &kube::api::PatchParams::default(),
                &kube::api::Patch::Merge(
                    json!({"metadata": {"annotations": {"argocd.argoproj.io/refresh": null}}}),
                ),
            )
            .await
            .unwrap();
        };
        let (run, ()) = tokio::join!(
            world.driftdeck(&["refresh", "argocd/guestbook", "--hard"]),
            controller
        );
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("refresh done"), "{}", run.stdout);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flux_reconcile_asks_the_object_and_its_source_and_completes_when_handled() {
    within_timeout(async {
        let (world, objects) = world_with(&[
            "flux/gitrepository-ready.yaml",
            "flux/kustomization-ready.yaml",
        ])
        .await;
        let (source, kustomization) = (&objects[0], &objects[1]);
        let before = "2026-08-21T09:41:27.318862913Z";
        let controller = async {
            let token_of = |o: &Value| {
                o["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            };
            let asked = read_until(&world, kustomization, "the reconcile is requested", |o| {
                token_of(o) != before
            })
            .await;
            let token = token_of(&asked);
            let source_now = read_back(&world, source).await;
            assert_eq!(
                source_now["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"],
                token.as_str(),
                "the source is asked too"
            );
            // A run in progress first: not the end.
            set_status(&world, kustomization, json!({"conditions": [{
                "type": "Ready", "status": "Unknown", "reason": "Progressing",
                "message": "Reconciliation in progress", "lastTransitionTime": "2026-08-21T12:00:00Z"
            }]}))
            .await;
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            set_status(&world, kustomization, json!({
                "lastHandledReconcileAt": token,
                "conditions": [{
                    "type": "Ready", "status": "True", "reason": "ReconciliationSucceeded",
                    "message": "Applied revision: main@sha1:e65e854ec212d74d726324779902e4533f7d9a79",
                    "lastTransitionTime": "2026-08-21T12:00:05Z"
                }]
            }))
            .await;
        };
        let (run, ()) = tokio::join!(world.driftdeck(&["sync", "flux/flux-system/apps", "--yes"]), controller);
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("sync done: Applied revision: main@sha1:e65e854"), "{}", run.stdout);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flux_suspend_and_resume_toggle_spec_suspend_and_a_suspended_app_is_not_reconciled() {
    within_timeout(async {
        let (world, objects) = world_with(&["flux/kustomization-ready.yaml"]).await;
        let kustomization = &objects[0];
        let run = world.driftdeck(&["suspend", "flux/flux-system/apps"]).await;
        assert_eq!(run.code, 2, "no terminal to confirm on: {}", run.stderr);
        assert!(read_back(&world, kustomization).await["spec"]["suspend"].is_null());

        let run = world
            .driftdeck(&["suspend", "flux/flux-system/apps", "--yes"])
            .await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(
            read_back(&world, kustomization).await["spec"]["suspend"],
            true
        );
        let status = super::support::reports(&world, &["flux/flux-system/apps"]).await;
        assert_eq!(status[0]["health"], "Suspended");

        let run = world
            .driftdeck(&["sync", "flux/flux-system/apps", "--yes"])
            .await;
        assert_eq!(run.code, 2);
        assert!(run.stderr.contains("suspended"), "{}", run.stderr);

        let run = world
            .driftdeck(&["resume", "flux/flux-system/apps", "--yes"])
            .await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(
            read_back(&world, kustomization).await["spec"]["suspend"],
            false
        );
    })
    .await;
}
