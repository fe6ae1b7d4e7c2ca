//! `driftdeck status` and `driftdeck diff APP` against the simulated cluster.

use serde_json::{Value, json};

use super::sim::{Kubectl, within_timeout};
use super::support::{APP, NAMESPACE, SECRET_VALUE, World, eventually, resource, shop_objects};

fn object(file: &str) -> Value {
    shop_objects()
        .into_iter()
        .find(|(f, _)| *f == file)
        .unwrap()
        .1
}

#[tokio::test]
async fn objects_applied_by_driftdeck_show_no_drift_despite_server_defaults() {
    within_timeout(async {
        let world = World::new().await;
        world.apply_as_driftdeck().await;
        let revision = world.git(&["rev-parse", "HEAD"]);
        let report = world.status().await;
        assert_eq!(report["status"], "Synced", "{report:#}");
        assert_eq!(report["counts"]["Synced"], 5, "{report:#}");
        assert_eq!(report["revision"], json!(revision), "the deployed revision");
        assert_eq!(report["desired_revision"], json!(revision));
        let diff = world.driftdeck(&["diff", APP]).await;
        assert_eq!(diff.code, 0, "{}{}", diff.stdout, diff.stderr);
        // The simulated controller finishes the rollout: health follows.
        eventually("the Deployment becomes Healthy", || async {
            resource(&world.status().await, "Deployment", "web")["health"]["status"] == "Healthy"
        })
        .await;
    })
    .await;
}

#[tokio::test]
async fn objects_applied_by_kubectl_server_side_show_no_drift() {
    within_timeout(async {
        let world = World::new().await;
        let Some(kubectl) = Kubectl::for_cluster(
            &world.sim,
            "objects_applied_by_kubectl_server_side_show_no_drift",
        ) else {
            return;
        };
        let namespace = world.app_dir().join("namespace.json").display().to_string();
        let dir = world.app_dir().display().to_string();
        kubectl
            .ok(&["apply", "--server-side", "-f", &namespace])
            .await;
        kubectl.ok(&["apply", "--server-side", "-f", &dir]).await;
        let report = world.status().await;
        assert_eq!(report["status"], "Synced", "{report:#}");
        assert_eq!(
            report["counts"]["Synced"], 5,
            "found by name although unlabelled: {report:#}"
        );
        assert_eq!(
            report["revision"],
            Value::Null,
            "kubectl records no revision"
        );
    })
    .await;
}

#[tokio::test]
async fn out_of_band_changes_are_named_field_by_field() {
    within_timeout(async {
        let world = World::new().await;
        world.apply_as_driftdeck().await;
        let change = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": NAMESPACE, "labels": {"tier": "backend"}},
            "spec": {"replicas": 5, "template": {"spec": {"containers": [{
                "name": "web", "image": "nginx:1.27",
                "env": [{"name": "LOG_LEVEL", "value": "debug"}]
            }]}}}
        });
        world.apply(&change, "kubectl-edit").await;
        let diff = world.driftdeck(&["diff", APP]).await;
        assert_eq!(diff.code, 1, "{}{}", diff.stdout, diff.stderr);
        for field in [
            "spec.replicas",
            "spec.template.spec.containers[web].image",
            "spec.template.spec.containers[web].env[LOG_LEVEL].value",
            "metadata.labels.tier",
        ] {
            assert!(
                diff.stdout.contains(field),
                "{field} is named in:\n{}",
                diff.stdout
            );
        }
        assert!(
            diff.stdout.contains("-  replicas: 5") || diff.stdout.contains("- replicas: 5"),
            "{}",
            diff.stdout
        );
        let report = world.status().await;
        let web = resource(&report, "Deployment", "web");
        assert_eq!(web["status"], "OutOfSync");
        let changes: Vec<&str> = web["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["path"].as_str().unwrap())
            .collect();
        assert_eq!(changes.len(), 4, "exactly the four fields: {changes:?}");
        assert_eq!(report["status"], "OutOfSync");
        assert!(
            report["reason"]
                .as_str()
                .unwrap()
                .contains("Deployment shop/web"),
            "{report:#}"
        );
        assert_eq!(resource(&report, "Service", "web")["status"], "Synced");
    })
    .await;
}

#[tokio::test]
async fn a_deleted_object_is_missing() {
    within_timeout(async {
        let world = World::new().await;
        world.apply_as_driftdeck().await;
        world.delete(&object("configmap.json")).await;
        let report = world.status().await;
        assert_eq!(
            resource(&report, "ConfigMap", "settings")["status"],
            "Missing"
        );
        assert_eq!(report["status"], "OutOfSync");
        assert_eq!(report["counts"]["Missing"], 1);
    })
    .await;
}

#[tokio::test]
async fn an_object_removed_from_git_is_extra() {
    within_timeout(async {
        let world = World::new().await;
        world.apply_as_driftdeck().await;
        world.remove("configmap.json");
        world.commit("settings move elsewhere");
        let report = world.status().await;
        assert_eq!(
            resource(&report, "ConfigMap", "settings")["status"],
            "Extra",
            "{report:#}"
        );
        assert_eq!(report["counts"]["Extra"], 1);
        assert_eq!(report["status"], "OutOfSync");
    })
    .await;
}

#[tokio::test]
async fn a_changed_secret_is_named_by_key_and_no_value_is_shown() {
    within_timeout(async {
        let world = World::new().await;
        world.apply_as_driftdeck().await;
        let new_value = "swordfish";
        let change = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "creds", "namespace": NAMESPACE},
            "stringData": {"password": new_value, "token": "t0ps3cret"}});
        world.apply(&change, "intruder").await;
        let text = world.driftdeck(&["diff", APP, "-v"]).await;
        assert_eq!(text.code, 1, "{}{}", text.stdout, text.stderr);
        assert!(text.stdout.contains("data.password"), "{}", text.stdout);
        let json = world.driftdeck(&["diff", APP, "-o", "json"]).await;
        let status = world.driftdeck(&["status", "-o", "json"]).await;
        let everything = format!(
            "{}{}{}{}{}{}{}",
            text.stdout,
            text.stderr,
            json.stdout,
            json.stderr,
            status.stdout,
            status.stderr,
            world.logs()
        );
        for secret in [SECRET_VALUE, new_value, "t0ps3cret"] {
            for form in [secret.to_string(), base64(secret)] {
                assert!(!everything.contains(&form), "{form} leaked:\n{everything}");
            }
        }
    })
    .await;
}

#[tokio::test]
async fn an_api_server_that_is_down_gives_unknown_with_the_cause_then_recovers() {
    within_timeout(async {
        let world = World::new().await;
        world.apply_as_driftdeck().await;
        world
            .sim
            .faults()
            .go_offline(std::time::Duration::from_secs(3600));
        let run = world.driftdeck(&["status", "-o", "json"]).await;
        assert_eq!(run.code, 2, "an unknown state is an error: {}", run.stderr);
        let reports: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let report = &reports[0];
        assert_eq!(report["status"], "Unknown", "{report:#}");
        let reason = report["reason"].as_str().unwrap();
        assert!(
            reason.contains("cannot be reached") || reason.contains("connect"),
            "{reason}"
        );
        let diff = world.driftdeck(&["diff", APP]).await;
        assert_eq!(
            diff.code, 2,
            "an unknown state is an error for diff: {}",
            diff.stderr
        );
        assert!(
            diff.stderr.starts_with("app \"shop\": state unknown:"),
            "{}",
            diff.stderr
        );
        world.sim.faults().go_offline(std::time::Duration::ZERO);
        eventually("the app is Synced again", || async {
            world.driftdeck(&["status"]).await.code == 0
                && world.status().await["status"] == "Synced"
        })
        .await;
    })
    .await;
}

#[tokio::test]
async fn exact_mode_compares_with_a_server_side_dry_run() {
    within_timeout(async {
        let world = World::new().await;
        world.apply_as_driftdeck().await;
        let exact = world.driftdeck(&["diff", APP, "--exact"]).await;
        assert_eq!(exact.code, 0, "{}{}", exact.stdout, exact.stderr);
        let change = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": NAMESPACE}, "data": {"color": "red"}});
        world.apply(&change, "intruder").await;
        let patches = || world.sim.metrics().snapshot().count_verb("patch");
        let before = patches();
        let exact = world.driftdeck(&["diff", APP, "--exact"]).await;
        assert_eq!(exact.code, 1, "{}{}", exact.stdout, exact.stderr);
        assert!(exact.stdout.contains("data.color"), "{}", exact.stdout);
        assert_eq!(patches() - before, 5, "one dry-run apply per live object");
        let plain = world.driftdeck(&["diff", APP]).await;
        assert_eq!(
            plain.code, 1,
            "the dry runs wrote nothing: {}",
            plain.stdout
        );
    })
    .await;
}

#[tokio::test]
async fn a_reference_git_cannot_resolve_is_looked_for_in_the_cluster() {
    within_timeout(async {
        let world = World::new().await;
        let mut deployment = object("deployment.json");
        deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"] =
            json!([{"configMapRef": {"name": "settings"}}, {"secretRef": {"name": "external"}}]);
        world.write("deployment.json", &deployment);
        world.commit("read the external secret");
        world.apply_as_driftdeck().await;
        let warning = |report: &Value| {
            report["problems"].as_array().unwrap().iter().any(|p| {
                p["message"]
                    .as_str()
                    .unwrap()
                    .contains("Secret \"shop/external\"")
            })
        };
        let report = world.status().await;
        assert!(
            warning(&report),
            "the missing secret is reported: {report:#}"
        );
        let external = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "external", "namespace": NAMESPACE}, "data": {}});
        world.apply(&external, "someone-else").await;
        let report = world.status().await;
        assert!(!warning(&report), "the cluster has it now: {report:#}");
    })
    .await;
}

fn base64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}
