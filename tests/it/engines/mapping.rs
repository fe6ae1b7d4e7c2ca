//! Every example object of ../shared/conformance/engines/objects, created
//! in the cluster with its status, as `driftdeck status -o json` reports it:
//! one row per file.

use serde_json::Value;

use super::support::{config_without_apps, create, example, install_engines, reports};
use crate::live::support::World;
use crate::simcluster::support::within_timeout;

/// A file, the app it becomes (`None`: not an app kind), its sync, health,
/// deployed revision and a part of its message (`""`: no message).
type Row = (
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
);

const ROWS: &[Row] = &[
    (
        "argocd/application-multisource-synced.yaml",
        Some("argocd/prometheus"),
        "Synced",
        "Healthy",
        Some("27.28.0, d7c6bc7aa14cb8fc7d21521a24dfcbb87fdb515f"),
        "",
    ),
    (
        "argocd/application-outofsync-progressing.yaml",
        Some("argocd/podinfo"),
        "OutOfSync",
        "Progressing",
        Some("6.7.0"),
        "PodDisruptionBudget podinfo/podinfo Missing",
    ),
    (
        "argocd/application-sync-failed.yaml",
        Some("argocd/guestbook-staging"),
        "OutOfSync",
        "Healthy",
        Some("7a93ff972bec9cf3211ffc6c44b397d5c3d61848"),
        "sync Failed: one or more objects failed to apply",
    ),
    (
        "argocd/application-sync-requested.yaml",
        Some("argocd/guestbook-prod"),
        "OutOfSync",
        "Healthy",
        Some("29d0e778698648ac642cb7d3b015a2265da66937"),
        "Deployment guestbook-prod/guestbook-ui OutOfSync",
    ),
    (
        "argocd/application-sync-running.yaml",
        Some("argocd/guestbook-dev"),
        "OutOfSync",
        "Healthy",
        Some("dcb3c0034811ce3660119d4aaec3b91ad4334522"),
        "Deployment guestbook-dev/guestbook-ui OutOfSync",
    ),
    (
        "argocd/application-synced-healthy-history.yaml",
        Some("argocd/guestbook"),
        "Synced",
        "Healthy",
        Some("a3aeeb98f035116ebe88124283c2e03959e9dc34"),
        "",
    ),
    // Outside the Argo CD namespace: the namespace is part of the name.
    (
        "argocd/application-velero-synced-healthy.yaml",
        Some("argocd/argo-cd/velero-test"),
        "Synced",
        "Healthy",
        Some("ea8759964626a583667a2bfd08f334ec2070040a"),
        "",
    ),
    ("argocd/applicationset-healthy.yaml", None, "", "", None, ""),
    (
        "flux/gitrepository-auth-failed.yaml",
        None,
        "",
        "",
        None,
        "",
    ),
    ("flux/gitrepository-ready.yaml", None, "", "", None, ""),
    (
        "flux/helmrelease-ready-history.yaml",
        Some("helm/podinfo/podinfo"),
        "Synced",
        "Healthy",
        Some("6.6.1+0cc9a8446c95"),
        "",
    ),
    (
        "flux/helmrelease-upgrade-failed.yaml",
        Some("helm/default/podinfo"),
        "OutOfSync",
        "Degraded",
        None,
        "Helm rollback to previous release default/podinfo.v24",
    ),
    ("flux/helmrepository-ready.yaml", None, "", "", None, ""),
    (
        "flux/kustomization-build-failed.yaml",
        Some("flux/flux-system/infrastructure"),
        "OutOfSync",
        "Degraded",
        Some("main@sha1:93f6e2253918df04df2e4ccc197414fa2f36992a"),
        "kustomize build failed",
    ),
    (
        "flux/kustomization-ready.yaml",
        Some("flux/flux-system/apps"),
        "Synced",
        "Healthy",
        Some("main@sha1:e65e854ec212d74d726324779902e4533f7d9a79"),
        "",
    ),
    (
        "flux/kustomization-reconcile-requested.yaml",
        Some("flux/flux-system/monitoring"),
        "Synced",
        "Progressing",
        Some("main@sha1:e65e854ec212d74d726324779902e4533f7d9a79"),
        "Detecting drift for revision",
    ),
    (
        "flux/kustomization-source-not-found.yaml",
        Some("flux/default/podinfo"),
        "OutOfSync",
        "Degraded",
        None,
        "GitRepository.source.toolkit.fluxcd.io \"podinfo\" not found",
    ),
    (
        "flux/kustomization-suspended.yaml",
        Some("flux/flux-system/tenants"),
        "Synced",
        "Suspended",
        Some("main@sha1:9e5727ee15c362bbde2123a59f16c12e93c604f1"),
        "suspended",
    ),
    ("flux/ocirepository-ready.yaml", None, "", "", None, ""),
];

#[test]
fn every_example_object_has_a_row() {
    let dir = super::support::engines_dir().join("objects");
    let mut files: Vec<String> = ["argocd", "flux"]
        .iter()
        .flat_map(|engine| {
            std::fs::read_dir(dir.join(engine))
                .unwrap()
                .map(move |e| format!("{engine}/{}", e.unwrap().file_name().to_string_lossy()))
        })
        .collect();
    files.sort();
    let rows: Vec<String> = ROWS.iter().map(|row| row.0.to_string()).collect();
    assert_eq!(rows, files);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_object_maps_to_the_engines_verdict() {
    within_timeout(async {
        let world = World::new().await;
        install_engines(&world).await;
        config_without_apps(&world, "");
        for row in ROWS {
            let object = example(row.0);
            // The ApplicationSet's CRD is not installed: no app is one.
            if object["kind"] != "ApplicationSet" {
                create(&world, object).await;
            }
        }
        let reports = reports(&world, &[]).await;
        let names: Vec<&str> = reports.iter().filter_map(|r| r["app"].as_str()).collect();
        let expected: Vec<&str> = ROWS.iter().filter_map(|row| row.1).collect();
        let mut sorted = expected.clone();
        sorted.sort();
        assert_eq!(names, sorted, "the apps found, by name");
        for (file, app, sync, health, revision, message) in ROWS {
            let Some(app) = app else { continue };
            let report = reports.iter().find(|r| r["app"] == *app).unwrap();
            let row = format!("{file}: {report:#}");
            assert_eq!(report["status"], *sync, "{row}");
            assert_eq!(report["health"], *health, "{row}");
            assert_eq!(report["revision"].as_str(), *revision, "{row}");
            let said = report["reason"].as_str().unwrap_or("");
            if message.is_empty() {
                assert_eq!(said, "", "{row}");
            } else {
                assert!(said.contains(message), "{row}");
            }
            let engine = if file.starts_with("argocd") {
                "argocd"
            } else {
                "flux"
            };
            assert_eq!(report["engine"], engine, "{row}");
            assert_eq!(report["controller"]["engine"], engine, "{row}");
        }
        let history = |app: &str| -> Vec<Value> {
            let report = reports.iter().find(|r| r["app"] == app).unwrap();
            report["controller"]["history"].as_array().unwrap().clone()
        };
        // Argo CD keeps its history oldest first, Flux newest first: both
        // are shown newest first.
        let argo = history("argocd/guestbook");
        assert_eq!(
            argo[0]["revision"],
            "a3aeeb98f035116ebe88124283c2e03959e9dc34"
        );
        assert_eq!(argo[2]["note"], "admin");
        let helm = history("helm/podinfo/podinfo");
        assert_eq!(helm[0]["revision"], "6.6.1+0cc9a8446c95");
        assert_eq!(helm[1]["note"], "superseded");
        // The drifted resources as Argo CD lists them.
        let podinfo = reports
            .iter()
            .find(|r| r["app"] == "argocd/podinfo")
            .unwrap();
        let status_of = |kind: &str| {
            podinfo["resources"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["kind"] == kind)
                .map(|r| r["status"].clone())
                .unwrap()
        };
        assert_eq!(status_of("ConfigMap"), "Extra");
        assert_eq!(status_of("Deployment"), "OutOfSync");
        assert_eq!(status_of("PodDisruptionBudget"), "Missing");
        assert_eq!(status_of("Service"), "Synced");
        // The failed operation, with its message and time.
        let failed = reports
            .iter()
            .find(|r| r["app"] == "argocd/guestbook-staging")
            .unwrap();
        assert_eq!(failed["controller"]["operation"]["phase"], "Failed");
        assert_eq!(
            failed["controller"]["operation"]["finished_at"],
            "2026-08-21T15:02:36Z"
        );
        // The Flux inventory, as resources.
        let apps = reports
            .iter()
            .find(|r| r["app"] == "flux/flux-system/apps")
            .unwrap();
        assert_eq!(apps["resources"].as_array().unwrap().len(), 5);
    })
    .await;
}
