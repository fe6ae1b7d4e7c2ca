//! `sync --all` with Argo CD and Flux apps: an OutOfSync Application is
//! asked of Argo CD (its `operation`, as `sync APP` writes it) and its end
//! followed; a Synced Kustomization is left alone.

use serde_json::{Value, json};

use super::support::{api_of, operation_written, read_back, world_with};
use crate::simcluster::support::within_timeout;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_all_asks_argocd_for_the_out_of_sync_app_and_leaves_the_synced_one() {
    within_timeout(async {
        let (world, objects) = world_with(&[
            "argocd/application-outofsync-progressing.yaml",
            "flux/kustomization-ready.yaml",
        ])
        .await;
        let (app, kustomization) = (&objects[0], &objects[1]);
        let compared = read_back(&world, app).await["status"]["sync"]["revision"].clone();
        let before = read_back(&world, kustomization).await;
        let controller = async {
            let asked = operation_written(&world, app, &compared, false).await;
            api_of(&world, app)
                .await
                .patch(
                    "podinfo",
                    &kube::api::PatchParams::default(),
                    &kube::api::Patch::Merge(json!({"operation": null, "status": {
                        "sync": {"status": "Synced", "revision": compared},
                        "operationState": {"phase": "Succeeded", "message": "successfully synced (all tasks run)",
                            "operation": asked["operation"], "startedAt": "2026-08-21T16:00:00Z"}
                    }})),
                )
                .await
                .unwrap();
        };
        let (run, ()) = tokio::join!(
            world.driftdeck(&["sync", "--all", "--yes", "-o", "json"]),
            controller
        );
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        let results: Value = serde_json::from_str(&run.stdout).unwrap();
        let of = |name: &str| {
            results
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["app"] == name)
                .unwrap_or_else(|| panic!("{name} missing: {results:#}"))
                .clone()
        };
        let argo = of("argocd/podinfo");
        assert_eq!(argo["result"], "synced", "{argo:#}");
        assert_eq!(argo["message"], "successfully synced (all tasks run)");
        assert!(
            argo["asked"]
                .as_str()
                .unwrap()
                .starts_with("sync Application argocd/podinfo at "),
            "{argo:#}"
        );
        assert_eq!(of("flux/flux-system/apps")["result"], "in_sync");
        let after = read_back(&world, kustomization).await;
        assert_eq!(
            before["metadata"]["resourceVersion"], after["metadata"]["resourceVersion"],
            "the Synced Kustomization is not written to"
        );
    })
    .await;
}
