//! The simulated controllers: rollouts that finish or, with a `broken`
//! image, exceed their deadline; load balancers, claims, jobs, namespaces.

use std::time::Duration;

use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use super::support::{client, deployment, namespaced, object, quiet, start, within_timeout};

fn with_controllers() -> driftdeck::simcluster::SimOptions {
    driftdeck::simcluster::SimOptions {
        controllers: true,
        ..quiet()
    }
}

/// Polls until `done` holds for the object (the test timeout bounds it).
async fn until(api: &Api<DynamicObject>, name: &str, done: impl Fn(&Value) -> bool) -> Value {
    loop {
        if let Ok(found) = api.get(name).await {
            let value = serde_json::to_value(&found).unwrap();
            if done(&value) {
                return value;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn condition<'a>(object: &'a Value, kind: &str) -> &'a Value {
    object["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == kind))
        .unwrap_or(&Value::Null)
}

#[tokio::test]
async fn deployment_rolls_out_and_its_status_is_the_controllers() {
    within_timeout(async {
        let cluster = start(with_controllers()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "Deployment", "default").await;
        api.patch(
            "web",
            &PatchParams::apply("gitops"),
            &Patch::Apply(&deployment("web", "nginx:1", 3)),
        )
        .await
        .unwrap();
        let ready = until(&api, "web", |d| d["status"]["readyReplicas"] == 3).await;
        assert_eq!(ready["status"]["observedGeneration"], 1);
        assert_eq!(ready["status"]["updatedReplicas"], 3);
        assert_eq!(ready["status"]["availableReplicas"], 3);
        assert_eq!(condition(&ready, "Available")["status"], "True");
        assert_eq!(
            condition(&ready, "Progressing")["reason"],
            "NewReplicaSetAvailable"
        );
        assert_eq!(
            ready["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
            "1"
        );
        let controller = ready["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["manager"] == "kube-controller-manager")
            .unwrap();
        assert_eq!(controller["subresource"], "status");
        assert!(controller["fieldsV1"]["f:status"]["f:readyReplicas"].is_object());
        api.patch(
            "web",
            &PatchParams::apply("gitops"),
            &Patch::Apply(&deployment("web", "nginx:2", 3)),
        )
        .await
        .unwrap();
        let rolled = until(&api, "web", |d| {
            d["status"]["observedGeneration"] == 2
                && condition(d, "Progressing")["reason"] == "NewReplicaSetAvailable"
        })
        .await;
        assert_eq!(
            rolled["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
            "2"
        );
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn broken_image_never_becomes_ready_and_exceeds_its_deadline() {
    within_timeout(async {
        let cluster = start(with_controllers()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "Deployment", "default").await;
        api.create(
            &PostParams::default(),
            &object(deployment("bad", "app:broken", 2)),
        )
        .await
        .unwrap();
        let failed = until(&api, "bad", |d| {
            condition(d, "Progressing")["reason"] == "ProgressDeadlineExceeded"
        })
        .await;
        assert_eq!(condition(&failed, "Progressing")["status"], "False");
        assert!(failed["status"].get("readyReplicas").is_none());
        assert_eq!(condition(&failed, "Available")["status"], "False");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let later = serde_json::to_value(api.get("bad").await.unwrap()).unwrap();
        assert_eq!(
            later["metadata"]["resourceVersion"], failed["metadata"]["resourceVersion"],
            "a failed rollout stays as it ended"
        );
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn stateful_and_daemon_sets_become_ready() {
    within_timeout(async {
        let cluster = start(with_controllers()).await;
        let client = client(&cluster).await;
        let mut sts = deployment("db", "postgres:16", 2);
        sts["kind"] = json!("StatefulSet");
        sts["spec"]["serviceName"] = json!("db");
        let stateful = namespaced(&client, "StatefulSet", "default").await;
        stateful
            .create(&PostParams::default(), &object(sts))
            .await
            .unwrap();
        let mut ds = deployment("agent", "agent:1", 1);
        ds["kind"] = json!("DaemonSet");
        ds["spec"].as_object_mut().unwrap().remove("replicas");
        let daemons = namespaced(&client, "DaemonSet", "default").await;
        daemons
            .create(&PostParams::default(), &object(ds))
            .await
            .unwrap();
        let ready = until(&stateful, "db", |s| s["status"]["readyReplicas"] == 2).await;
        assert_eq!(ready["spec"]["podManagementPolicy"], "OrderedReady");
        until(&daemons, "agent", |d| d["status"]["numberReady"] == 1).await;
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn load_balancers_get_an_address_claims_bind_and_jobs_complete() {
    within_timeout(async {
        let cluster = start(with_controllers()).await;
        let client = client(&cluster).await;
        let services = namespaced(&client, "Service", "default").await;
        services
            .create(
                &PostParams::default(),
                &object(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "edge"},
                               "spec": {"type": "LoadBalancer", "ports": [{"port": 443}]}})),
            )
            .await
            .unwrap();
        let claims = namespaced(&client, "PersistentVolumeClaim", "default").await;
        claims
            .create(
                &PostParams::default(),
                &object(json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
                               "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1024Mi"}}}})),
            )
            .await
            .unwrap();
        let jobs = namespaced(&client, "Job", "default").await;
        jobs.create(
            &PostParams::default(),
            &object(json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once"},
                           "spec": {"template": {"spec": {"restartPolicy": "Never",
                                    "containers": [{"name": "main", "image": "busybox:1"}]}}}})),
        )
        .await
        .unwrap();
        let edge = until(&services, "edge", |s| s["status"]["loadBalancer"]["ingress"].is_array()).await;
        assert!(edge["status"]["loadBalancer"]["ingress"][0]["ip"].as_str().unwrap().starts_with("172.18.255."));
        assert_eq!(edge["spec"]["allocateLoadBalancerNodePorts"], true);
        let bound = until(&claims, "data", |c| c["status"]["phase"] == "Bound").await;
        assert_eq!(bound["status"]["capacity"]["storage"], "1Gi");
        assert!(bound["spec"]["volumeName"].as_str().unwrap().starts_with("pvc-"));
        assert_eq!(bound["spec"]["storageClassName"], "standard");
        let done = until(&jobs, "once", |j| j["status"]["succeeded"] == 1).await;
        assert_eq!(condition(&done, "Complete")["status"], "True");
        assert_eq!(done["spec"]["backoffLimit"], 6);
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn every_namespace_gets_its_default_service_account_and_root_ca() {
    within_timeout(async {
        let cluster = start(with_controllers()).await;
        cluster
            .load_objects([super::support::namespace("team")], "test")
            .unwrap();
        let client = client(&cluster).await;
        let accounts = namespaced(&client, "ServiceAccount", "team").await;
        until(&accounts, "default", |_| true).await;
        let maps = namespaced(&client, "ConfigMap", "team").await;
        let ca = until(&maps, "kube-root-ca.crt", |_| true).await;
        assert!(
            ca["data"]["ca.crt"]
                .as_str()
                .unwrap()
                .starts_with("-----BEGIN CERTIFICATE-----")
        );
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn pods_start_running_unless_their_image_is_broken() {
    within_timeout(async {
        let cluster = start(with_controllers()).await;
        let client = client(&cluster).await;
        let pods = namespaced(&client, "Pod", "default").await;
        for (name, image) in [("good", "nginx:1"), ("bad", "nginx:broken")] {
            pods.create(
                &PostParams::default(),
                &object(
                    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                               "spec": {"containers": [{"name": "main", "image": image}]}}),
                ),
            )
            .await
            .unwrap();
        }
        let running = until(&pods, "good", |p| p["status"]["phase"] == "Running").await;
        assert_eq!(condition(&running, "Ready")["status"], "True");
        assert_eq!(running["spec"]["serviceAccountName"], "default");
        assert_eq!(running["spec"]["enableServiceLinks"], true);
        let stuck = until(&pods, "bad", |p| {
            p["status"]["containerStatuses"].is_array()
        })
        .await;
        assert_eq!(stuck["status"]["phase"], "Pending");
        assert_eq!(
            stuck["status"]["containerStatuses"][0]["state"]["waiting"]["reason"],
            "ImagePullBackOff"
        );
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let later = serde_json::to_value(pods.get("bad").await.unwrap()).unwrap();
        assert_eq!(
            later["metadata"]["resourceVersion"],
            stuck["metadata"]["resourceVersion"]
        );
        cluster.shutdown().await.unwrap();
    })
    .await;
}
