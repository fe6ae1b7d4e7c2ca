#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Comparing 5,000 desired/live pairs (goal: at least 50,000 pairs per
//! second). The pairs are what an app of that size looks like: Deployments
//! whose live copies carry server defaults, status, managedFields and the
//! last-applied annotation, Services, ConfigMaps and Secrets; one pair in
//! ten has drifted. Criterion reports the throughput in pairs per second:
//!
//!     cargo bench --bench compare

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use driftdeck::drift::{KeyedObject, ResourceStatus, assess_objects, compare};
use serde_json::{Value, json};

const PAIRS: usize = 5_000;
/// One pair in this many has drifted.
const DRIFT_EVERY: usize = 10;

fn deployment(name: &str, image: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "shop", "labels": {"app": name}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{
                "name": "web", "image": image,
                "ports": [{"containerPort": 8080, "name": "http"}],
                "env": [{"name": "MODE", "value": "fast"}, {"name": "LEVEL", "value": "info"}],
                "resources": {"limits": {"cpu": "1", "memory": "512Mi"},
                    "requests": {"cpu": "0.25", "memory": "256Mi"}},
                "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}}}]}}}})
}

/// What the API server returns for `desired` once applied: defaults,
/// bookkeeping, status, managedFields and the last-applied annotation.
fn live_deployment(desired: &Value, image: &str) -> Value {
    let mut live = desired.clone();
    let applied = desired.to_string();
    let metadata = &mut live["metadata"];
    metadata["uid"] = json!("6a850cf9-b86c-11e8-bbd2-42010a8a00bb");
    metadata["resourceVersion"] = json!("10689842");
    metadata["generation"] = json!(3);
    metadata["creationTimestamp"] = json!("2024-05-01T10:00:00Z");
    metadata["annotations"] = json!({
        "deployment.kubernetes.io/revision": "3",
        "kubectl.kubernetes.io/last-applied-configuration": applied,
    });
    metadata["managedFields"] = json!([
        {"manager": "driftdeck", "operation": "Apply", "apiVersion": "apps/v1",
            "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
                "k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}}},
        {"manager": "kube-controller-manager", "operation": "Update", "subresource": "status",
            "fieldsV1": {"f:status": {"f:replicas": {}}}}
    ]);
    let spec = &mut live["spec"];
    spec["progressDeadlineSeconds"] = json!(600);
    spec["revisionHistoryLimit"] = json!(10);
    spec["strategy"] = json!({"type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}});
    spec["template"]["metadata"]["creationTimestamp"] = Value::Null;
    let pod = &mut spec["template"]["spec"];
    pod["dnsPolicy"] = json!("ClusterFirst");
    pod["restartPolicy"] = json!("Always");
    pod["schedulerName"] = json!("default-scheduler");
    pod["securityContext"] = json!({});
    pod["terminationGracePeriodSeconds"] = json!(30);
    let container = &mut pod["containers"][0];
    container["image"] = json!(image);
    container["imagePullPolicy"] = json!("IfNotPresent");
    container["terminationMessagePath"] = json!("/dev/termination-log");
    container["terminationMessagePolicy"] = json!("File");
    container["ports"][0]["protocol"] = json!("TCP");
    container["resources"] = json!({"limits": {"cpu": "1", "memory": "512Mi"},
        "requests": {"cpu": "250m", "memory": "256Mi"}});
    container["readinessProbe"] = json!({"httpGet": {"path": "/ready", "port": 8080, "scheme": "HTTP"},
        "failureThreshold": 3, "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 1});
    live["status"] = json!({"observedGeneration": 3, "replicas": 2, "updatedReplicas": 2,
        "readyReplicas": 2, "availableReplicas": 2, "conditions": [
            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]});
    live
}

fn service(name: &str, target_port: u16) -> Value {
    json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"selector": {"app": name}, "ports": [
            {"name": "http", "port": 80, "targetPort": target_port},
            {"name": "metrics", "port": 9090, "targetPort": 9090}]}})
}

fn live_service(desired: &Value, target_port: u16) -> Value {
    let mut live = desired.clone();
    live["metadata"]["uid"] = json!("af42e800-bd33-4412-bc77-d204d298613d");
    live["metadata"]["resourceVersion"] = json!("1825080");
    let spec = &mut live["spec"];
    spec["clusterIP"] = json!("10.111.193.74");
    spec["clusterIPs"] = json!(["10.111.193.74"]);
    spec["type"] = json!("ClusterIP");
    spec["sessionAffinity"] = json!("None");
    spec["ipFamilies"] = json!(["IPv4"]);
    spec["ports"] = json!([
        {"name": "metrics", "port": 9090, "protocol": "TCP", "targetPort": 9090},
        {"name": "http", "port": 80, "protocol": "TCP", "targetPort": target_port}]);
    live["status"] = json!({"loadBalancer": {}});
    live
}

fn config_map(name: &str, level: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "shop"},
        "data": {"level": level, "mode": "fast", "config.yaml": "a: 1\nb: 2\n"}})
}

fn secret(name: &str, password: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": name, "namespace": "shop"},
        "data": {"user": "YWRtaW4=", "password": password}})
}

/// The desired/live pairs, one drifted pair in `DRIFT_EVERY`.
fn pairs() -> Vec<(Value, Value)> {
    (0..PAIRS)
        .map(|i| {
            let name = format!("app-{i}");
            // Every kind drifts one time in DRIFT_EVERY.
            let drifted = (i / 4) % DRIFT_EVERY == 0;
            match i % 4 {
                0 => {
                    let desired = deployment(&name, "nginx:1.27");
                    let image = if drifted { "nginx:1.25" } else { "nginx:1.27" };
                    let live = live_deployment(&desired, image);
                    (desired, live)
                }
                1 => {
                    let desired = service(&name, 8080);
                    let live = live_service(&desired, if drifted { 8081 } else { 8080 });
                    (desired, live)
                }
                2 => {
                    let desired = config_map(&name, "info");
                    let mut live = config_map(&name, if drifted { "debug" } else { "info" });
                    live["metadata"]["resourceVersion"] = json!("77");
                    (desired, live)
                }
                _ => {
                    let desired = secret(&name, "c2VjcmV0");
                    let mut live = secret(&name, if drifted { "b3RoZXI=" } else { "c2VjcmV0" });
                    live["metadata"]["uid"] = json!("cb3c8363");
                    (desired, live)
                }
            }
        })
        .collect()
}

fn bench_compare(c: &mut Criterion) {
    let pairs = pairs();
    let drifted = pairs
        .iter()
        .filter(|(d, l)| compare(d, l, &[]).is_drift())
        .count();
    assert_eq!(
        drifted,
        PAIRS / DRIFT_EVERY,
        "the fixture drifts as intended"
    );

    let mut group = c.benchmark_group("compare");
    group.throughput(Throughput::Elements(PAIRS as u64));
    group.sample_size(20);
    group.bench_function("5000 pairs, compare", |b| {
        b.iter(|| {
            for (desired, live) in &pairs {
                black_box(compare(black_box(desired), black_box(live), &[]));
            }
        })
    });

    let desired: Vec<KeyedObject> = pairs
        .iter()
        .map(|(d, _)| KeyedObject::new(d.clone()).unwrap())
        .collect();
    let live: Vec<KeyedObject> = pairs
        .iter()
        .map(|(_, l)| KeyedObject::new(l.clone()).unwrap())
        .collect();
    let results = assess_objects(&desired, &live, &[]);
    let out_of_sync = results
        .iter()
        .filter(|r| r.status == ResourceStatus::OutOfSync)
        .count();
    assert_eq!(out_of_sync, PAIRS / DRIFT_EVERY);
    group.bench_function("5000 pairs, pair + compare + health", |b| {
        b.iter(|| black_box(assess_objects(black_box(&desired), black_box(&live), &[])))
    });
    group.finish();
}

criterion_group!(benches, bench_compare);
criterion_main!(benches);
