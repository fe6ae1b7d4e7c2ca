//! driftdeck's own diff for engine apps: the source an Application or a
//! Kustomization names is fetched (a `git daemon` on 127.0.0.1, or a local
//! clone the config maps the URL to), rendered at the engine's revision
//! and compared with live by driftdeck's rules. The engine's verdict stays
//! the app's; driftdeck's shows in the resources, the diff and the
//! `driftdeck` entry of the JSON. The test plays the controller: it writes
//! the status and deploys the objects under the engine's field manager.

use serde_json::{Value, json};

use super::support::{
    commit_a_green_config_map, config_mapping_flux_source_to_the_repo, config_reading_sources,
    create, install_engines, reports,
};
use crate::live::support::{NAMESPACE, World, resource, shop_objects};
use crate::simcluster::support::within_timeout;
use crate::source::support::{GitDaemon, free_port, have};

/// The shop's objects deployed as `manager` would, with `labels` added.
async fn deploy_as(world: &World, manager: &str, labels: Value) {
    let mut objects = shop_objects();
    // The namespace first.
    objects.sort_by_key(|(file, _)| *file != "namespace.json");
    for (_, mut object) in objects {
        let metadata = object["metadata"].as_object_mut().unwrap();
        let present = metadata.entry("labels").or_insert_with(|| json!({}));
        for (key, value) in labels.as_object().unwrap() {
            present[key] = value.clone();
        }
        world.apply(&object, manager).await;
    }
}

/// A change by hand: the ConfigMap's colour, as `kubectl edit` writes it.
async fn edit_by_hand(world: &World) {
    world
        .apply(
            &json!({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "settings", "namespace": NAMESPACE},
                    "data": {"color": "red"}}),
            "kubectl-edit",
        )
        .await;
}

/// An Application of the shop's folder at `repo_url`, Synced and Healthy at
/// `revision` as Argo CD would say.
fn application(name: &str, repo_url: &str, revision: &str) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {
            "project": "default",
            "source": {"repoURL": repo_url, "targetRevision": "main", "path": "apps/shop"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": NAMESPACE}
        },
        "status": {
            "sync": {"status": "Synced", "revision": revision},
            "health": {"status": "Healthy"}
        }
    })
}

fn report_of<'a>(reports: &'a [Value], app: &str) -> &'a Value {
    reports
        .iter()
        .find(|r| r["app"] == app)
        .unwrap_or_else(|| panic!("no report on {app}: {reports:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn argocd_app_over_git_daemon_shows_driftdeck_s_diff_while_argocd_says_synced() {
    within_timeout(async {
        let world = World::new().await;
        install_engines(&world).await;
        config_reading_sources(&world, "");
        let head = world.git(&["rev-parse", "HEAD"]);
        world.bare_copy("shop.git");
        let daemon = GitDaemon::start(&world.path("served"), &world.path("trace"));
        // Two apps of one repository: one poller between them.
        create(&world, application("shop", &daemon.url("shop.git"), &head)).await;
        create(
            &world,
            application("shop-copy", &daemon.url("shop.git"), &head),
        )
        .await;
        deploy_as(
            &world,
            "argocd-controller",
            json!({"app.kubernetes.io/instance": "shop"}),
        )
        .await;
        edit_by_hand(&world).await;

        let all = reports(&world, &[]).await;
        // One poll for both apps: a listing, and the fetch's own listing
        // and fetch (as `source::remote` counts a first poll).
        assert_eq!(
            (daemon.commands("ls-refs"), daemon.commands("fetch")),
            (2, 1),
            "one poll of the repository for both apps"
        );
        let report = report_of(&all, "argocd/shop");
        assert_eq!(report["status"], "Synced", "the verdict is Argo CD's");
        let own = &report["driftdeck"];
        assert_eq!(own["sync"], "OutOfSync", "{report:#}");
        assert_eq!(own["disagrees"], true);
        assert_eq!(own["revision"], head.as_str());
        assert_eq!(
            resource(report, "ConfigMap", "settings")["status"],
            "OutOfSync"
        );
        assert_eq!(resource(report, "Deployment", "web")["status"], "Synced");

        let run = world.driftdeck(&["diff", "argocd/shop"]).await;
        assert_eq!(run.code, 1, "drift seen by driftdeck: {}", run.stderr);
        assert!(
            run.stdout.contains("ConfigMap shop/settings: OutOfSync"),
            "{}",
            run.stdout
        );
        assert!(run.stdout.contains("data.color"), "{}", run.stdout);
        assert!(run.stdout.contains("+  color: blue"), "{}", run.stdout);
        assert!(
            run.stdout.contains(&format!(
                "Argo CD says Synced; driftdeck sees OutOfSync at {}",
                &head[..7]
            )),
            "{}",
            run.stdout
        );
        // Secrets stay masked in driftdeck's diff of an engine app too.
        assert!(!run.stdout.contains("hunter2"), "{}", run.stdout);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flux_kustomization_mapped_to_a_local_clone_shows_a_deleted_object_as_missing() {
    within_timeout(async {
        let world = World::new().await;
        install_engines(&world).await;
        let url = config_mapping_flux_source_to_the_repo(&world);
        let head = world.git(&["rev-parse", "HEAD"]);
        create(
            &world,
            json!({
                "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
                "metadata": {"name": "fleet", "namespace": "flux-system"},
                "spec": {"interval": "1m0s", "url": url, "ref": {"branch": "main"}},
                "status": {"artifact": {"revision": format!("main@sha1:{head}"), "path": "x",
                           "url": "http://source-controller/x.tar.gz", "lastUpdateTime": "2026-08-20T14:05:02Z",
                           "digest": "sha256:12b0d1fb93fb7948feca991eb989d94b7c5f4dd02ef34030fbeff8831b620f2a"}}
            }),
        )
        .await;
        let ready = json!([{"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded",
                            "message": format!("Applied revision: main@sha1:{head}"),
                            "lastTransitionTime": "2026-08-21T09:41:33Z"}]);
        create(
            &world,
            json!({
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                "metadata": {"name": "shop", "namespace": "flux-system"},
                "spec": {"interval": "10m0s", "path": "./apps/shop", "prune": true,
                         "sourceRef": {"kind": "GitRepository", "name": "fleet"}},
                "status": {"conditions": ready,
                           "lastAppliedRevision": format!("main@sha1:{head}"),
                           "lastAttemptedRevision": format!("main@sha1:{head}")}
            }),
        )
        .await;
        deploy_as(
            &world,
            "kustomize-controller",
            json!({"kustomize.toolkit.fluxcd.io/name": "shop",
                   "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}),
        )
        .await;
        let service = json!({"apiVersion": "v1", "kind": "Service",
                             "metadata": {"name": "web", "namespace": NAMESPACE}});
        world.delete(&service).await;

        let all = reports(&world, &["flux/flux-system/shop"]).await;
        let report = report_of(&all, "flux/flux-system/shop");
        assert_eq!(report["status"], "Synced", "the verdict is Flux's");
        assert_eq!(report["driftdeck"]["sync"], "OutOfSync", "{report:#}");
        assert_eq!(report["driftdeck"]["disagrees"], true);
        assert_eq!(resource(report, "Service", "web")["status"], "Missing");
        assert_eq!(resource(report, "ConfigMap", "settings")["status"], "Synced");

        let run = world.driftdeck(&["diff", "flux/flux-system/shop"]).await;
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(run.stdout.contains("Service shop/web: Missing"), "{}", run.stdout);
        assert!(
            run.stdout.contains("Flux says Synced; driftdeck sees OutOfSync"),
            "{}",
            run.stdout
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_source_is_said_and_the_engine_s_verdict_and_exit_code_stand() {
    within_timeout(async {
        let world = World::new().await;
        install_engines(&world).await;
        let head = world.git(&["rev-parse", "HEAD"]);
        // Nothing listens there.
        let nowhere = format!("git://127.0.0.1:{}/shop.git", free_port());
        let mut app = application("shop", &nowhere, &head);
        app["status"]["sync"]["status"] = json!("OutOfSync");
        app["status"]["resources"] = json!([
            {"version": "v1", "kind": "ConfigMap", "namespace": NAMESPACE, "name": "settings", "status": "OutOfSync"}
        ]);
        create(&world, app).await;
        deploy_as(&world, "argocd-controller", json!({})).await;

        // The engine's verdict alone, as driftdeck gave it before reading sources.
        config_reading_sources(&world, "[engines]\nread_sources = false\n");
        let before = world.driftdeck(&["diff", "argocd/shop"]).await;
        config_reading_sources(&world, "");
        let run = world.driftdeck(&["diff", "argocd/shop"]).await;
        assert_eq!(run.code, before.code, "{}\n{}", run.stdout, run.stderr);
        assert_eq!(run.code, 1, "Argo CD says OutOfSync");
        assert!(
            run.stdout.contains(&format!(
                "cannot read the source {nowhere}: "
            )),
            "{}",
            run.stdout
        );
        assert!(run.stdout.contains("showing Argo CD's verdict"), "{}", run.stdout);
        assert!(
            run.stdout.contains("ConfigMap shop/settings: OutOfSync: argocd says OutOfSync"),
            "{}",
            run.stdout
        );

        let all = reports(&world, &["argocd/shop"]).await;
        let report = report_of(&all, "argocd/shop");
        assert_eq!(report["status"], "OutOfSync");
        assert_eq!(report["driftdeck"]["sync"], Value::Null);
        assert!(
            report["driftdeck"]["reason"]
                .as_str()
                .unwrap()
                .starts_with(&format!("cannot read the source {nowhere}")),
            "{report:#}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_argocd_helm_app_is_rendered_with_its_values_file_and_release_name() {
    if !have("helm", "version") {
        return;
    }
    within_timeout(async {
        let world = World::new().await;
        install_engines(&world).await;
        config_reading_sources(&world, "");
        let chart = world.repo().join("apps/chart");
        std::fs::create_dir_all(chart.join("templates")).unwrap();
        for (file, text) in [
            ("Chart.yaml", "apiVersion: v2\nname: settings\nversion: 0.1.0\n"),
            ("values.yaml", "color: blue\n"),
            ("values-prod.yaml", "color: green\n"),
            (
                "templates/configmap.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\ndata:\n  color: {{ .Values.color }}\n",
            ),
        ] {
            std::fs::write(chart.join(file), text).unwrap();
        }
        let head = world.commit("a chart");
        // The local repository's path as the repoURL: read in place.
        let mut app = application("web", world.repo().to_str().unwrap(), &head);
        app["spec"]["source"]["path"] = json!("apps/chart");
        app["spec"]["source"]["helm"] = json!({"valueFiles": ["values-prod.yaml"]});
        create(&world, app).await;
        let deployed = json!({"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": "web-settings", "namespace": NAMESPACE},
                              "data": {"color": "green"}});
        world
            .apply(
                &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}),
                "argocd-controller",
            )
            .await;
        world.apply(&deployed, "argocd-controller").await;

        let all = reports(&world, &["argocd/web"]).await;
        let report = report_of(&all, "argocd/web");
        // Rendered as Argo CD would: release `web`, the prod values.
        assert_eq!(report["driftdeck"]["sync"], "Synced", "{report:#}");
        assert_eq!(report["driftdeck"]["disagrees"], false);
        assert_eq!(resource(report, "ConfigMap", "web-settings")["status"], "Synced");
    })
    .await;
}

/// Waits (bounded) for a settled report on `app` that `check` accepts.
async fn report_until(
    events: &mut tokio::sync::mpsc::UnboundedReceiver<driftdeck::engine::EngineEvent>,
    app: &str,
    what: &str,
    check: impl Fn(&driftdeck::report::AppReport) -> bool,
) -> driftdeck::report::AppReport {
    let wait = async {
        loop {
            match events.recv().await {
                Some(driftdeck::engine::EngineEvent::Report {
                    app: of,
                    report,
                    settled: true,
                    ..
                }) if of == app && check(&report) => return (*report).clone(),
                Some(_) => continue,
                None => panic!("the engine stopped while waiting for {what}"),
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), wait)
        .await
        .unwrap_or_else(|_| panic!("{what} did not happen within 30 s"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_the_tui_s_engine_driftdeck_follows_argocd_to_a_new_revision() {
    use driftdeck::drift::AppStatus;
    use driftdeck::engine::{Engine, EngineOptions};

    within_timeout(async {
        let world = World::new().await;
        install_engines(&world).await;
        let first = world.git(&["rev-parse", "HEAD"]);
        deploy_as(&world, "argocd-controller", json!({})).await;
        // A new commit: the ConfigMap turns green in Git.
        let second = commit_a_green_config_map(&world);
        let app = application("shop", world.repo().to_str().unwrap(), &first);
        create(&world, app.clone()).await;

        let paths = world.paths();
        let options = EngineOptions {
            kubeconfig: Some(world.path("kubeconfig")),
            contexts: vec![None],
            ..EngineOptions::default()
        };
        let (sender, mut events) = tokio::sync::mpsc::unbounded_channel();
        let _engine = Engine::start(Vec::new(), paths, options, sender);
        let own_sync = |report: &driftdeck::report::AppReport| {
            report.driftdeck.as_deref().and_then(|own| own.sync)
        };
        let at_first = report_until(&mut events, "argocd/shop", "the first comparison", |r| {
            own_sync(r).is_some()
        })
        .await;
        assert_eq!(
            own_sync(&at_first),
            Some(AppStatus::Synced),
            "{at_first:#?}"
        );

        // Argo CD moves to the new commit and says Synced there; the
        // cluster still has the blue ConfigMap.
        super::support::set_status(
            &world,
            &app,
            json!({"sync": {"status": "Synced", "revision": second}}),
        )
        .await;
        let at_second = report_until(
            &mut events,
            "argocd/shop",
            "the comparison at the new revision",
            |r| {
                r.driftdeck
                    .as_deref()
                    .and_then(|own| own.revision.as_deref())
                    == Some(second.as_str())
            },
        )
        .await;
        let own = at_second.driftdeck.as_deref().unwrap();
        assert_eq!(own.sync, Some(AppStatus::OutOfSync), "{at_second:#?}");
        assert!(own.disagrees);
        let settings = at_second
            .resources
            .iter()
            .find(|r| r.key.name == "settings")
            .unwrap();
        assert!(settings.diff.contains("green"), "{}", settings.diff);
    })
    .await;
}
