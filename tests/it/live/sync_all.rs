//! `driftdeck sync --all` through the built binary: every OutOfSync app
//! synced one after the other, an app in sync left alone, and one whose
//! Lease another operator holds reported with the holder (exit 2) while
//! the others are still synced.

use kube::api::{Api, DynamicObject};
use serde_json::{Value, json};

use super::sim::within_timeout;
use super::support::{APP, World};

/// Adds the apps blog (OutOfSync: nothing of it is live) and wiki to the
/// world's repository and config, each a Namespace and a ConfigMap.
fn add_apps(world: &World, names: &[&str]) {
    let mut config = std::fs::read_to_string(world.path("config.toml")).unwrap();
    for name in names {
        let dir = world.repo().join("apps").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let objects = [
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "settings", "namespace": name}, "data": {"title": name}}),
        ];
        for (i, object) in objects.iter().enumerate() {
            std::fs::write(dir.join(format!("{i}.json")), object.to_string()).unwrap();
        }
        config.push_str(&format!(
            "\n[[app]]\nname = \"{name}\"\nrepo = \"{}\"\nbranch = \"main\"\npath = \"apps/{name}\"\nnamespace = \"{name}\"\n",
            world.repo().display()
        ));
    }
    std::fs::write(world.path("config.toml"), config).unwrap();
    world.commit("more apps");
}

fn statuses(report: &str) -> Vec<(String, String)> {
    let reports: Vec<Value> = serde_json::from_str(report).unwrap();
    reports
        .iter()
        .map(|r| {
            (
                r["app"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_all_syncs_the_out_of_sync_apps_and_leaves_a_synced_one_alone() {
    within_timeout(async {
        let world = World::new().await;
        add_apps(&world, &["blog", "wiki"]);
        let wiki = world.driftdeck(&["sync", "wiki", "--yes"]).await;
        assert_eq!(wiki.code, 0, "{}\n{}", wiki.stdout, wiki.stderr);

        let wiki_version = || async {
            let resource = super::sim::resource(&world.client, "ConfigMap").await;
            let api: Api<DynamicObject> =
                Api::namespaced_with(world.client.clone(), "wiki", &resource);
            api.get("settings").await.unwrap().metadata.resource_version
        };
        let before = wiki_version().await;
        let run = world.driftdeck(&["sync", "--all", "--yes"]).await;
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        for app in [APP, "blog"] {
            assert!(
                run.stdout.contains(&format!("app \"{app}\": synced: ")),
                "{app} synced:\n{}",
                run.stdout
            );
        }
        assert!(
            run.stdout
                .contains("app \"wiki\": nothing to do, the cluster matches Git"),
            "{}",
            run.stdout
        );
        // Progress lines say which app they are about.
        assert!(
            run.stderr.contains("blog: server dry run"),
            "{}",
            run.stderr
        );
        // Not one write touched wiki's objects.
        assert_eq!(wiki_version().await, before);

        let status = world.driftdeck(&["status", "-o", "json"]).await;
        assert_eq!(status.code, 0, "{}", status.stdout);
        for (app, state) in statuses(&status.stdout) {
            assert_eq!(state, "Synced", "{app}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_all_names_the_holder_of_a_lease_and_exits_2_having_synced_the_rest() {
    within_timeout(async {
        let world = World::new().await;
        add_apps(&world, &["blog"]);
        world
            .apply(
                &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "blog"}}),
                "kubectl",
            )
            .await;
        let now = jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string();
        let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "driftdeck-blog", "namespace": "blog"},
            "spec": {"holderIdentity": "alice@elsewhere", "leaseDurationSeconds": 3600,
                "acquireTime": now, "renewTime": now}});
        world.apply(&lease, "driftdeck").await;

        let run = world
            .driftdeck(&["sync", "--all", "--yes", "--no-wait", "-o", "json"])
            .await;
        assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
        assert!(run.stderr.contains("alice@elsewhere"), "{}", run.stderr);
        let results: Vec<Value> = serde_json::from_str(&run.stdout).unwrap();
        let result = |app: &str| {
            results
                .iter()
                .find(|r| r["app"] == app)
                .unwrap_or_else(|| panic!("{app} in {results:?}"))
                .clone()
        };
        assert_eq!(result(APP)["result"], "synced");
        assert_eq!(result("blog")["result"], "could_not_run");
        assert!(
            result("blog")["error"]
                .as_str()
                .unwrap()
                .contains("held by alice@elsewhere"),
            "{}",
            result("blog")
        );
    })
    .await;
}

#[tokio::test]
async fn sync_takes_an_app_or_all_but_not_both() {
    within_timeout(async {
        let world = World::new().await;
        let both = world.driftdeck(&["sync", APP, "--all", "--yes"]).await;
        assert_eq!(both.code, 2, "{}", both.stderr);
        assert!(both.stderr.contains("--all"), "{}", both.stderr);
        let neither = world.driftdeck(&["sync", "--yes"]).await;
        assert_eq!(neither.code, 2, "{}", neither.stderr);
    })
    .await;
}
