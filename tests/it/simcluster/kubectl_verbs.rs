//! The kubectl verbs a demo user types, each through the real kubectl 1.33
//! against the simulated cluster, checked by the object they leave:
//! `create` and `autoscale` (whose generators send protobuf), `run`,
//! `expose`, `scale`, `set image|env`, `edit`, `patch`, `label`,
//! `annotate`, `delete` and `rollout restart|status|history|undo`. `get -w`, `diff` and `apply` are
//! in `kubectl.rs`. Each test is skipped, saying so, where kubectl is not
//! installed.

use std::os::unix::fs::PermissionsExt;

use driftdeck::simcluster::{SimCluster, SimOptions};
use serde_json::{Value, json};

use super::support::{Kubectl, quiet, start, within_timeout};

/// A cluster with kubectl pointed at it and the namespace `demo`; `None`,
/// with the cluster shut down, where kubectl is missing.
async fn demo(test: &str, options: SimOptions) -> Option<(SimCluster, Kubectl)> {
    let cluster = start(options).await;
    let Some(kubectl) = Kubectl::for_cluster(&cluster, test) else {
        cluster.shutdown().await.unwrap();
        return None;
    };
    kubectl.ok(&["create", "namespace", "demo"]).await;
    Some((cluster, kubectl))
}

/// Controllers on, rollouts quick: for `rollout status` and `undo`.
fn rolling() -> SimOptions {
    SimOptions {
        controllers: true,
        ..quiet()
    }
}

async fn get(kubectl: &Kubectl, what: &str) -> Value {
    serde_json::from_str(&kubectl.ok(&["get", "-n", "demo", what, "-o", "json"]).await).unwrap()
}

/// The field managers of an object, as `managedFields` lists them.
async fn managers(kubectl: &Kubectl, what: &str) -> Vec<String> {
    let object: Value = serde_json::from_str(
        &kubectl
            .ok(&[
                "get",
                "-n",
                "demo",
                what,
                "-o",
                "json",
                "--show-managed-fields",
            ])
            .await,
    )
    .unwrap();
    object["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["manager"].as_str().unwrap().to_string())
        .collect()
}

async fn create_web(kubectl: &Kubectl) {
    kubectl
        .ok(&[
            "create",
            "deployment",
            "web",
            "-n",
            "demo",
            "--image=nginx:1.27",
            "--replicas=2",
            "--port=80",
        ])
        .await;
}

#[tokio::test]
async fn kubectl_create_generators_make_their_objects_from_protobuf() {
    within_timeout(async {
        let Some((cluster, kubectl)) = demo(
            "kubectl_create_generators_make_their_objects_from_protobuf",
            quiet(),
        )
        .await
        else {
            return;
        };
        let namespace = get(&kubectl, "namespace/demo").await;
        assert_eq!(namespace["status"]["phase"], "Active");
        kubectl
            .ok(&[
                "create",
                "configmap",
                "settings",
                "-n",
                "demo",
                "--from-literal=mode=fast",
            ])
            .await;
        kubectl
            .ok(&[
                "create",
                "secret",
                "generic",
                "db",
                "-n",
                "demo",
                "--from-literal=password=s3cret",
            ])
            .await;
        create_web(&kubectl).await;
        kubectl
            .ok(&[
                "create",
                "service",
                "clusterip",
                "web",
                "-n",
                "demo",
                "--tcp=80:8080",
            ])
            .await;

        assert_eq!(
            get(&kubectl, "configmap/settings").await["data"],
            json!({"mode": "fast"})
        );
        let secret = get(&kubectl, "secret/db").await;
        assert_eq!(secret["data"], json!({"password": "czNjcmV0"}));
        assert_eq!(secret["type"], "Opaque");
        let deployment = get(&kubectl, "deployment/web").await;
        assert_eq!(deployment["spec"]["replicas"], 2);
        assert_eq!(
            deployment["spec"]["selector"],
            json!({"matchLabels": {"app": "web"}})
        );
        let container = &deployment["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["image"], "nginx:1.27");
        assert_eq!(
            container["ports"],
            json!([{"containerPort": 80, "protocol": "TCP"}])
        );
        assert_eq!(
            managers(&kubectl, "deployment/web").await,
            ["kubectl-create"]
        );
        let service = get(&kubectl, "service/web").await;
        assert_eq!(
            service["spec"]["ports"],
            json!([{"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080}])
        );
        assert_eq!(service["spec"]["selector"], json!({"app": "web"}));
        assert_eq!(service["spec"]["type"], "ClusterIP");
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn kubectl_create_generators_of_the_other_served_kinds_work() {
    within_timeout(async {
        let Some((cluster, kubectl)) = demo(
            "kubectl_create_generators_of_the_other_served_kinds_work",
            quiet(),
        )
        .await
        else {
            return;
        };
        create_web(&kubectl).await;
        for command in [
            &["create", "serviceaccount", "bot"][..],
            &["create", "job", "once", "--image=busybox:1.36"],
            &[
                "create",
                "cronjob",
                "nightly",
                "--image=busybox:1.36",
                "--schedule=0 3 * * *",
            ],
            &["create", "ingress", "web", "--rule=shop.example/=web:80"],
            &[
                "create",
                "poddisruptionbudget",
                "web",
                "--selector=app=web",
                "--min-available=1",
            ],
            &[
                "autoscale",
                "deployment",
                "web",
                "--min=2",
                "--max=5",
                "--cpu-percent=80",
            ],
            &[
                "create",
                "role",
                "reader",
                "--verb=get,list",
                "--resource=pods",
            ],
            &[
                "create",
                "rolebinding",
                "reader",
                "--role=reader",
                "--serviceaccount=demo:bot",
            ],
            &[
                "create",
                "clusterrole",
                "viewer",
                "--verb=get",
                "--resource=namespaces",
            ],
            &[
                "create",
                "clusterrolebinding",
                "viewer",
                "--clusterrole=viewer",
                "--user=ada",
            ],
        ] {
            kubectl.ok(&[command, &["-n", "demo"]].concat()).await;
        }
        let role = get(&kubectl, "role/reader").await;
        assert_eq!(
            role["rules"],
            json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}])
        );
        let binding = get(&kubectl, "rolebinding/reader").await;
        assert_eq!(
            binding["subjects"],
            json!([{"kind": "ServiceAccount", "name": "bot", "namespace": "demo"}])
        );
        assert_eq!(binding["roleRef"]["name"], "reader");
        let cluster_binding = get(&kubectl, "clusterrolebinding/viewer").await;
        assert_eq!(cluster_binding["subjects"][0]["name"], "ada");
        assert_eq!(cluster_binding["roleRef"]["kind"], "ClusterRole");
        assert_eq!(
            get(&kubectl, "serviceaccount/bot").await["metadata"]["name"],
            "bot"
        );
        let job = get(&kubectl, "job/once").await;
        assert_eq!(
            job["spec"]["template"]["spec"]["containers"][0]["image"],
            "busybox:1.36"
        );
        assert_eq!(job["spec"]["template"]["spec"]["restartPolicy"], "Never");
        assert_eq!(
            get(&kubectl, "cronjob/nightly").await["spec"]["schedule"],
            "0 3 * * *"
        );
        let ingress = get(&kubectl, "ingress/web").await;
        assert_eq!(
            ingress["spec"]["rules"][0],
            json!({"host": "shop.example", "http": {"paths": [{"path": "/", "pathType": "Exact",
                "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}})
        );
        let budget = get(&kubectl, "poddisruptionbudget/web").await;
        assert_eq!(budget["spec"]["minAvailable"], 1);
        let autoscaler = get(&kubectl, "horizontalpodautoscaler/web").await;
        assert_eq!(autoscaler["spec"]["maxReplicas"], 5);
        assert_eq!(autoscaler["spec"]["scaleTargetRef"]["name"], "web");
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn kubectl_run_and_expose_make_a_pod_and_its_service() {
    within_timeout(async {
        let Some((cluster, kubectl)) =
            demo("kubectl_run_and_expose_make_a_pod_and_its_service", quiet()).await
        else {
            return;
        };
        kubectl
            .ok(&[
                "run",
                "probe",
                "-n",
                "demo",
                "--image=busybox:1.36",
                "--port=8080",
                "--env=MODE=fast",
                "--labels=app=probe",
            ])
            .await;
        let pod = get(&kubectl, "pod/probe").await;
        let container = &pod["spec"]["containers"][0];
        assert_eq!(container["image"], "busybox:1.36");
        assert_eq!(container["env"], json!([{"name": "MODE", "value": "fast"}]));
        assert_eq!(pod["metadata"]["labels"], json!({"app": "probe"}));
        kubectl
            .ok(&[
                "expose",
                "pod",
                "probe",
                "-n",
                "demo",
                "--port=80",
                "--target-port=8080",
            ])
            .await;
        let service = get(&kubectl, "service/probe").await;
        assert_eq!(service["spec"]["selector"], json!({"app": "probe"}));
        assert_eq!(service["spec"]["ports"][0]["port"], 80);
        assert_eq!(service["spec"]["ports"][0]["targetPort"], 8080);
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn kubectl_scale_set_patch_label_and_annotate_change_a_deployment() {
    within_timeout(async {
        let Some((cluster, kubectl)) = demo(
            "kubectl_scale_set_patch_label_and_annotate_change_a_deployment",
            quiet(),
        )
        .await
        else {
            return;
        };
        create_web(&kubectl).await;
        let web = ["-n", "demo", "deployment/web"];
        kubectl
            .ok(&[&["scale", "--replicas=3"], &web[..]].concat())
            .await;
        kubectl
            .ok(&[&["set", "image"], &web[..], &["nginx=nginx:1.28"]].concat())
            .await;
        kubectl
            .ok(&[&["set", "env"], &web[..], &["MODE=fast"]].concat())
            .await;
        // kubectl's default patch for built-in kinds is strategic.
        kubectl
            .ok(&[
                &["patch"],
                &web[..],
                &["-p", r#"{"spec":{"minReadySeconds":5}}"#],
            ]
            .concat())
            .await;
        kubectl
            .ok(&[
                &["patch"],
                &web[..],
                &[
                    "--type=merge",
                    "-p",
                    r#"{"spec":{"progressDeadlineSeconds":300}}"#,
                ],
            ]
            .concat())
            .await;
        kubectl
            .ok(&[
                &["patch"],
                &web[..],
                &[
                    "--type=json",
                    "-p",
                    r#"[{"op":"replace","path":"/spec/revisionHistoryLimit","value":3}]"#,
                ],
            ]
            .concat())
            .await;
        kubectl
            .ok(&[&["label"], &web[..], &["tier=front"]].concat())
            .await;
        kubectl
            .ok(&[&["annotate"], &web[..], &["owner=team-a"]].concat())
            .await;

        let deployment = get(&kubectl, "deployment/web").await;
        let spec = &deployment["spec"];
        assert_eq!(spec["replicas"], 3);
        assert_eq!(spec["minReadySeconds"], 5);
        assert_eq!(spec["progressDeadlineSeconds"], 300);
        assert_eq!(spec["revisionHistoryLimit"], 3);
        let container = &spec["template"]["spec"]["containers"][0];
        assert_eq!(container["image"], "nginx:1.28");
        assert_eq!(container["env"], json!([{"name": "MODE", "value": "fast"}]));
        assert_eq!(deployment["metadata"]["labels"]["tier"], "front");
        assert_eq!(deployment["metadata"]["annotations"]["owner"], "team-a");
        let managers = managers(&kubectl, "deployment/web").await;
        // `scale` names no field manager; the server takes the user
        // agent's name, `kubectl`, as a real one does.
        for manager in [
            "kubectl-create",
            "kubectl",
            "kubectl-set",
            "kubectl-patch",
            "kubectl-label",
            "kubectl-annotate",
        ] {
            assert!(
                managers.iter().any(|m| m == manager),
                "{manager} in {managers:?}"
            );
        }
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn kubectl_edit_saves_what_the_editor_changed() {
    within_timeout(async {
        let Some((cluster, kubectl)) =
            demo("kubectl_edit_saves_what_the_editor_changed", quiet()).await
        else {
            return;
        };
        create_web(&kubectl).await;
        let editor = kubectl.path("editor.sh");
        std::fs::write(
            &editor,
            "#!/bin/sh\nsed -i -e 's/replicas: 2/replicas: 4/' -e 's/image: nginx:1.27/image: nginx:1.29/' \"$1\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
        let output = kubectl
            .command(&["edit", "-n", "demo", "deployment/web"])
            .env("KUBE_EDITOR", &editor)
            .output()
            .await
            .unwrap();
        let said = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{said}{}", String::from_utf8_lossy(&output.stderr));
        assert!(said.contains("deployment.apps/web edited"), "{said}");
        let deployment = get(&kubectl, "deployment/web").await;
        assert_eq!(deployment["spec"]["replicas"], 4);
        assert_eq!(
            deployment["spec"]["template"]["spec"]["containers"][0]["image"],
            "nginx:1.29"
        );
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn kubectl_delete_removes_created_objects() {
    within_timeout(async {
        let Some((cluster, kubectl)) =
            demo("kubectl_delete_removes_created_objects", quiet()).await
        else {
            return;
        };
        create_web(&kubectl).await;
        kubectl
            .ok(&[
                "create",
                "configmap",
                "settings",
                "-n",
                "demo",
                "--from-literal=mode=fast",
            ])
            .await;
        let deleted = kubectl
            .ok(&[
                "delete",
                "-n",
                "demo",
                "deployment/web",
                "configmap/settings",
            ])
            .await;
        assert_eq!(deleted.matches("deleted").count(), 2, "{deleted}");
        let left = kubectl
            .ok(&["get", "-n", "demo", "deployments,configmaps", "-o", "name"])
            .await;
        assert!(!left.contains("deployment.apps/web"), "{left}");
        assert!(!left.contains("configmap/settings"), "{left}");
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn kubectl_rollout_restart_waits_with_status_and_undo_goes_back() {
    within_timeout(async {
        let Some((cluster, kubectl)) = demo(
            "kubectl_rollout_restart_waits_with_status_and_undo_goes_back",
            rolling(),
        )
        .await
        else {
            return;
        };
        create_web(&kubectl).await;
        let web = ["-n", "demo", "deployment/web"];
        let status = [&["rollout", "status"], &web[..], &["--timeout=60s"]].concat();
        kubectl.ok(&status).await;
        kubectl
            .ok(&[&["set", "image"], &web[..], &["nginx=nginx:1.28"]].concat())
            .await;
        kubectl.ok(&status).await;
        let restarted = kubectl
            .ok(&[&["rollout", "restart"], &web[..]].concat())
            .await;
        assert!(restarted.contains("restarted"), "{restarted}");
        let said = kubectl.ok(&status).await;
        assert!(said.contains("successfully rolled out"), "{said}");
        let deployment = get(&kubectl, "deployment/web").await;
        assert!(
            deployment["spec"]["template"]["metadata"]["annotations"]
                ["kubectl.kubernetes.io/restartedAt"]
                .is_string()
        );

        let history = kubectl
            .ok(&[&["rollout", "history"], &web[..]].concat())
            .await;
        let revisions: Vec<&str> = history
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|w| w.chars().all(|c| c.is_ascii_digit()))
            .collect();
        assert_eq!(revisions, ["1", "2", "3"], "{history}");
        let undone = kubectl
            .ok(&[&["rollout", "undo"], &web[..], &["--to-revision=1"]].concat())
            .await;
        assert!(undone.contains("rolled back"), "{undone}");
        kubectl.ok(&status).await;
        let deployment = get(&kubectl, "deployment/web").await;
        let template = &deployment["spec"]["template"];
        assert_eq!(template["spec"]["containers"][0]["image"], "nginx:1.27");
        assert!(template["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"].is_null());
        assert_eq!(
            deployment["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
            "4"
        );
        let replica_sets = kubectl
            .ok(&["get", "replicasets", "-n", "demo", "-o", "name"])
            .await;
        assert_eq!(replica_sets.lines().count(), 3, "{replica_sets}");
        cluster.shutdown().await.unwrap();
    })
    .await;
}
