//! The real kubectl 1.33 against the simulated cluster: server-side apply
//! of a directory, `get -o json` with server defaults, `diff` before and
//! after an out-of-band change, `delete`, `get --watch`, `scale`. Each test
//! is skipped, saying so, where kubectl is not installed.

use std::time::Duration;

use driftdeck::simcluster::SimCluster;
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use super::support::{Kubectl, api_code, client, namespaced, quiet, start, within_timeout};

const MANIFESTS: &str = r#"apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
        resources:
          limits: {cpu: 500m, memory: 256Mi}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector: {app: web}
  ports:
  - port: 80
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data:
  mode: fast
"#;

fn write_manifests(kubectl: &Kubectl) -> String {
    let dir = kubectl.path("manifests");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("shop.yaml"), MANIFESTS).unwrap();
    dir.to_string_lossy().into_owned()
}

/// Where most tests here start: a quiet cluster, kubectl pointed at it and
/// the shop manifests in a directory. `None`, with the cluster shut down,
/// where kubectl is missing (`Kubectl::for_cluster` has said why).
async fn shop(test: &str) -> Option<(SimCluster, Kubectl, String)> {
    let cluster = start(quiet()).await;
    let Some(kubectl) = Kubectl::for_cluster(&cluster, test) else {
        cluster.shutdown().await.unwrap();
        return None;
    };
    let dir = write_manifests(&kubectl);
    Some((cluster, kubectl, dir))
}

/// `shop` with the manifests already server-side applied by kubectl.
async fn applied_shop(test: &str) -> Option<(SimCluster, Kubectl, String)> {
    let (cluster, kubectl, dir) = shop(test).await?;
    kubectl.ok(&["apply", "--server-side", "-f", &dir]).await;
    Some((cluster, kubectl, dir))
}

#[tokio::test]
async fn kubectl_server_side_apply_of_a_directory_creates_everything() {
    within_timeout(async {
        let Some((cluster, kubectl, dir)) =
            shop("kubectl_server_side_apply_of_a_directory_creates_everything").await
        else {
            return;
        };
        let out = kubectl.ok(&["apply", "--server-side", "-f", &dir]).await;
        assert_eq!(out.matches("serverside-applied").count(), 4, "{out}");
        let client = client(&cluster).await;
        let deployment = namespaced(&client, "Deployment", "shop")
            .await
            .get("web")
            .await
            .unwrap();
        let managers: Vec<(String, String)> = deployment
            .metadata
            .managed_fields
            .unwrap()
            .into_iter()
            .map(|m| (m.manager.unwrap(), m.operation.unwrap()))
            .collect();
        assert_eq!(managers, vec![("kubectl".to_string(), "Apply".to_string())]);
        let again = kubectl.ok(&["apply", "--server-side", "-f", &dir]).await;
        assert_eq!(again.matches("serverside-applied").count(), 4);
        let same = namespaced(&client, "Deployment", "shop")
            .await
            .get("web")
            .await
            .unwrap();
        assert_eq!(
            same.metadata.resource_version,
            deployment.metadata.resource_version
        );
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn kubectl_get_json_shows_the_server_defaults() {
    within_timeout(async {
        let Some((cluster, kubectl, _)) =
            applied_shop("kubectl_get_json_shows_the_server_defaults").await
        else {
            return;
        };
        let deployment: Value = serde_json::from_str(
            &kubectl
                .ok(&["get", "deployment", "web", "-n", "shop", "-o", "json"])
                .await,
        )
        .unwrap();
        let spec = &deployment["spec"];
        assert_eq!(spec["revisionHistoryLimit"], 10);
        assert_eq!(spec["progressDeadlineSeconds"], 600);
        assert_eq!(spec["strategy"]["type"], "RollingUpdate");
        let pod = &spec["template"]["spec"];
        assert_eq!(pod["restartPolicy"], "Always");
        assert_eq!(pod["dnsPolicy"], "ClusterFirst");
        assert_eq!(pod["terminationGracePeriodSeconds"], 30);
        let container = &pod["containers"][0];
        assert_eq!(container["imagePullPolicy"], "IfNotPresent");
        assert_eq!(container["ports"][0]["protocol"], "TCP");
        assert_eq!(container["resources"]["limits"]["memory"], "256Mi");
        let service: Value = serde_json::from_str(
            &kubectl
                .ok(&["get", "service", "web", "-n", "shop", "-o", "json"])
                .await,
        )
        .unwrap();
        assert!(
            service["spec"]["clusterIP"]
                .as_str()
                .unwrap()
                .starts_with("10.96.")
        );
        assert_eq!(service["spec"]["ports"][0]["targetPort"], 80);
        assert_eq!(service["spec"]["type"], "ClusterIP");
        let list: Value = serde_json::from_str(
            &kubectl
                .ok(&["get", "all", "-n", "shop", "-o", "json"])
                .await,
        )
        .unwrap();
        let kinds: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["kind"].as_str().unwrap())
            .collect();
        assert!(
            kinds.contains(&"Deployment") && kinds.contains(&"Service"),
            "{kinds:?}"
        );
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn kubectl_diff_exits_one_after_an_out_of_band_change() {
    within_timeout(async {
        let Some((cluster, kubectl, dir)) =
            applied_shop("kubectl_diff_exits_one_after_an_out_of_band_change").await
        else {
            return;
        };
        let clean = kubectl.run(&["diff", "--server-side", "-f", &dir]).await;
        assert_eq!(
            clean.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&clean.stdout)
        );
        let client = client(&cluster).await;
        let oob = PatchParams {
            field_manager: Some("someone".into()),
            ..PatchParams::default()
        };
        namespaced(&client, "Deployment", "shop")
            .await
            .patch("web", &oob, &Patch::Merge(json!({"spec": {"replicas": 5}})))
            .await
            .unwrap();
        let drifted = kubectl
            .run(&["diff", "--server-side", "--force-conflicts", "-f", &dir])
            .await;
        let shown = String::from_utf8_lossy(&drifted.stdout);
        assert_eq!(
            drifted.status.code(),
            Some(1),
            "{shown}{}",
            String::from_utf8_lossy(&drifted.stderr)
        );
        assert!(
            shown.contains("-  replicas: 5") && shown.contains("+  replicas: 2"),
            "{shown}"
        );
        let conflict = kubectl.run(&["diff", "--server-side", "-f", &dir]).await;
        assert_eq!(
            conflict.status.code(),
            Some(2),
            "a conflict is an error, not a difference"
        );
        assert!(String::from_utf8_lossy(&conflict.stderr).contains("conflict with \"someone\""));
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn kubectl_client_side_apply_and_diff_use_strategic_merge_patches() {
    within_timeout(async {
        let Some((cluster, kubectl, dir)) =
            shop("kubectl_client_side_apply_and_diff_use_strategic_merge_patches").await
        else {
            return;
        };
        let created = kubectl.ok(&["apply", "-f", &dir]).await;
        assert_eq!(created.matches(" created").count(), 4, "{created}");
        assert_eq!(
            kubectl.run(&["diff", "-f", &dir]).await.status.code(),
            Some(0)
        );
        kubectl
            .ok(&["scale", "deployment", "web", "-n", "shop", "--replicas=4"])
            .await;
        let snapshot = cluster.metrics().snapshot();
        assert!(
            snapshot.count("patch", "deployments.apps/scale")
                + snapshot.count("update", "deployments.apps/scale")
                > 0
        );
        let drifted = kubectl.run(&["diff", "-f", &dir]).await;
        assert_eq!(drifted.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&drifted.stdout).contains("+  replicas: 2"));
        let configured = kubectl.ok(&["apply", "-f", &dir]).await;
        assert!(
            configured.contains("deployment.apps/web configured"),
            "{configured}"
        );
        let replicas = kubectl
            .ok(&[
                "get",
                "deployment",
                "web",
                "-n",
                "shop",
                "-o",
                "jsonpath={.spec.replicas}",
            ])
            .await;
        assert_eq!(replicas, "2");
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn kubectl_delete_removes_a_directory_of_objects() {
    within_timeout(async {
        let Some((cluster, kubectl, dir)) =
            applied_shop("kubectl_delete_removes_a_directory_of_objects").await
        else {
            return;
        };
        let deleted = kubectl.ok(&["delete", "-f", &dir]).await;
        assert_eq!(deleted.matches("deleted").count(), 4, "{deleted}");
        let client = client(&cluster).await;
        let gone = namespaced(&client, "ConfigMap", "shop")
            .await
            .get("settings")
            .await
            .unwrap_err();
        assert_eq!(api_code(&gone).0, 404);
        let namespaces = kubectl.ok(&["get", "namespaces", "-o", "name"]).await;
        assert!(!namespaces.contains("namespace/shop"), "{namespaces}");
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn kubectl_get_watch_sees_a_change() {
    within_timeout(async {
        let Some((cluster, kubectl, _)) = applied_shop("kubectl_get_watch_sees_a_change").await
        else {
            return;
        };
        // The default output: kubectl asks the server for Tables.
        let mut watching = kubectl
            .command(&["get", "configmaps", "settings", "-n", "shop", "--watch"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(watching.stdout.take().unwrap()).lines();
        let header = lines.next_line().await.unwrap().unwrap();
        assert_eq!(
            header.split_whitespace().collect::<Vec<_>>(),
            vec!["NAME", "DATA", "AGE"]
        );
        let first = lines.next_line().await.unwrap().unwrap();
        assert_eq!(
            first.split_whitespace().take(2).collect::<Vec<_>>(),
            vec!["settings", "1"]
        );
        let client = client(&cluster).await;
        namespaced(&client, "ConfigMap", "shop")
            .await
            .patch(
                "settings",
                &PatchParams::default(),
                &Patch::Merge(json!({"data": {"speed": "slow"}})),
            )
            .await
            .unwrap();
        let changed = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("kubectl printed the change")
            .unwrap()
            .unwrap();
        assert_eq!(
            changed.split_whitespace().take(2).collect::<Vec<_>>(),
            vec!["settings", "2"]
        );
        watching.kill().await.unwrap();
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn kubectl_serves_custom_resources_after_their_crd() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let Some(kubectl) = Kubectl::for_cluster(&cluster, "kubectl_serves_custom_resources_after_their_crd") else {
            return cluster.shutdown().await.unwrap();
        };
        let crd = kubectl.path("crd.yaml");
        std::fs::write(
            &crd,
            r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, default: 3}
"#,
        )
        .unwrap();
        let widget = kubectl.path("widget.yaml");
        std::fs::write(&widget, "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1, namespace: default}\nspec: {}\n").unwrap();
        kubectl.ok(&["apply", "--server-side", "-f", &crd.to_string_lossy()]).await;
        kubectl.ok(&["apply", "--server-side", "-f", &widget.to_string_lossy()]).await;
        let table = kubectl.ok(&["get", "wd"]).await;
        let row = table.lines().find(|l| l.starts_with("w1")).unwrap();
        assert_eq!(row.split_whitespace().collect::<Vec<_>>(), vec!["w1", "3"]);
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn kubectl_server_side_apply_takes_over_client_side_apply_ownership() {
    within_timeout(async {
        let Some((cluster, kubectl, dir)) =
            shop("kubectl_server_side_apply_takes_over_client_side_apply_ownership").await
        else {
            return;
        };
        kubectl.ok(&["apply", "-f", &dir]).await;
        let output = kubectl.run(&["apply", "--server-side", "-f", &dir]).await;
        assert!(output.status.success());
        let warnings = String::from_utf8_lossy(&output.stderr);
        assert!(
            !warnings.contains("rejected managed fields migration"),
            "{warnings}"
        );
        let client = client(&cluster).await;
        let deployment = namespaced(&client, "Deployment", "shop")
            .await
            .get("web")
            .await
            .unwrap();
        let managers: Vec<String> = deployment
            .metadata
            .managed_fields
            .unwrap()
            .into_iter()
            .map(|m| format!("{} {}", m.manager.unwrap(), m.operation.unwrap()))
            .collect();
        assert!(
            managers.contains(&"kubectl Apply".to_string()),
            "{managers:?}"
        );
        assert!(
            !managers.contains(&"kubectl-client-side-apply Update".to_string()),
            "{managers:?}"
        );
        cluster.shutdown().await.unwrap();
    })
    .await;
}
