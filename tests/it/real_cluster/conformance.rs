//! The simulated cluster checked against the real API server: the same
//! requests, in the same order, to both; the answers compared after
//! normalizing what legitimately differs between two servers (uids,
//! timestamps, resourceVersions, continue tokens, allocated IPs). Every other
//! difference is either fixed in `src/simcluster/` or listed in `KNOWN` with
//! its reason, and README.md ("Real API server in the tests") lists the same.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use kube::Client;
use serde_json::{Value, json};

use super::support::{Server, Which, unique_namespace};
use crate::simcluster::support::within_timeout;

/// The steps whose answers differ on purpose, and why.
const KNOWN: &[(&str, &str)] = &[
    (
        "discovery core resources",
        "no storageVersionHash: a hash the storage-version migrator reads, no client driftdeck serves",
    ),
    (
        "discovery apps resources",
        "no storageVersionHash (as above)",
    ),
    (
        "discovery coordination resources",
        "no storageVersionHash (as above)",
    ),
    (
        "discovery argoproj.io resources",
        "no storageVersionHash (as above)",
    ),
    (
        "create Argo CD Application CRD",
        "the simulation accepts a CRD's names in the create; the API server's controller does it just after, so its answer has an empty status",
    ),
    (
        "create Flux Kustomization CRD",
        "names accepted at once (as above)",
    ),
    (
        "invalid kustomization: 422",
        "no CEL: the simulation does not evaluate x-kubernetes-validations, so it lacks the cause saying some rules were not checked",
    ),
    (
        "delete Argo CD Application CRD",
        "the simulation deletes a CRD and its objects at once; the API server answers with the CRD marked Terminating and a controller removes its objects, then it",
    ),
    (
        "delete Flux Kustomization CRD",
        "CRD deleted at once (as above)",
    ),
];

/// One request of the sequence. `{NAME.rv}` and `{NAME.continue}` in the
/// path or body stand for what the step `NAME` got back from the same server.
struct Step {
    name: &'static str,
    method: &'static str,
    path: String,
    body: Option<Value>,
    content_type: &'static str,
    accept: &'static str,
    /// Only these entries of a discovery resource list are compared: the real
    /// server serves many kinds the simulation does not.
    only_resources: &'static [&'static str],
}

fn step(name: &'static str, method: &'static str, path: impl Into<String>) -> Step {
    Step {
        name,
        method,
        path: path.into(),
        body: None,
        content_type: "application/json",
        accept: "application/json",
        only_resources: &[],
    }
}

impl Step {
    fn body(mut self, body: Value) -> Step {
        self.body = Some(body);
        self
    }

    fn content(mut self, content_type: &'static str) -> Step {
        self.content_type = content_type;
        self
    }

    fn only(mut self, resources: &'static [&'static str]) -> Step {
        self.only_resources = resources;
        self
    }

    /// Aggregated discovery, as kubectl 1.33 and kube-rs ask for it.
    fn aggregated(mut self) -> Step {
        self.accept = AGGREGATED;
        self
    }
}

const MERGE: &str = "application/merge-patch+json";
const JSON_PATCH: &str = "application/json-patch+json";
const STRATEGIC: &str = "application/strategic-merge-patch+json";
const APPLY: &str = "application/apply-patch+yaml";
const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

fn engine_yaml(path: &str) -> Value {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/conformance/engines")
        .join(path);
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    serde_saphyr::from_str(&text).unwrap()
}

/// A captured engine object made new: in our namespace, without the status,
/// bookkeeping and finalizers that no controller here would remove.
fn engine_object(path: &str, namespace: &str) -> Value {
    let mut object = engine_yaml(path);
    let metadata = object["metadata"].as_object_mut().unwrap();
    metadata.insert("namespace".into(), json!(namespace));
    metadata.remove("finalizers");
    object.as_object_mut().unwrap().remove("status");
    object
}

fn configmap(ns: &str, name: &str, tier: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": name, "namespace": ns, "labels": {"tier": tier}},
           "data": {"color": "blue"}})
}

fn lease(ns: &str, holder: &str, renew: &str) -> Value {
    json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
           "metadata": {"name": "sync-shop", "namespace": ns},
           "spec": {"holderIdentity": holder, "leaseDurationSeconds": 30,
                    "acquireTime": "2026-01-01T00:00:00.000000Z", "renewTime": renew}})
}

/// The sequence: discovery, then writes and reads of every kind of request
/// driftdeck and kubectl make, with the errors they must tell apart.
fn steps(ns: &str) -> Vec<Step> {
    let cms = format!("/api/v1/namespaces/{ns}/configmaps");
    let deployments = format!("/apis/apps/v1/namespaces/{ns}/deployments");
    let leases = format!("/apis/coordination.k8s.io/v1/namespaces/{ns}/leases");
    let crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    let applications = format!("/apis/argoproj.io/v1alpha1/namespaces/{ns}/applications");
    let kustomizations =
        format!("/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/{ns}/kustomizations");
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": ns, "labels": {"app": "web"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx:1.25",
                                        "ports": [{"containerPort": 8080}],
                                        "livenessProbe": {"httpGet": {"path": "/", "port": 8080}}}]}}}
    });
    let service = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": ns},
        "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
    });
    let mut application =
        engine_object("objects/argocd/application-synced-healthy-history.yaml", ns);
    let kustomization = engine_object("objects/flux/kustomization-ready.yaml", ns);
    let mut unknown_field = configmap(ns, "strict", "web");
    unknown_field["spec"] = json!({"color": "red"});
    let mut application_status = application.clone();
    application_status["metadata"]["resourceVersion"] = json!("{app.rv}");
    application_status["status"] = json!({"sync": {"status": "Synced", "revision": "abc"},
                                          "health": {"status": "Healthy"}});
    application["spec"]["unknownSetting"] = json!(true);
    let bad_application = application.clone();
    if let Some(spec) = application["spec"].as_object_mut() {
        spec.remove("unknownSetting");
    }

    vec![
        // Discovery.
        step("discovery core versions", "GET", "/api"),
        step("discovery core resources", "GET", "/api/v1").only(&[
            "configmaps",
            "namespaces",
            "namespaces/status",
            "secrets",
            "services",
            "services/status",
            "serviceaccounts",
        ]),
        step("discovery apps resources", "GET", "/apis/apps/v1").only(&[
            "deployments",
            "deployments/scale",
            "deployments/status",
            "statefulsets",
            "daemonsets",
            "replicasets",
        ]),
        step("aggregated discovery of the core group", "GET", "/api")
            .aggregated()
            .only(&["configmaps", "secrets"]),
        step("aggregated discovery of the other groups", "GET", "/apis")
            .aggregated()
            .only(&["deployments", "statefulsets", "jobs", "leases"]),
        step(
            "discovery coordination resources",
            "GET",
            "/apis/coordination.k8s.io/v1",
        )
        .only(&["leases"]),
        // A namespace of our own.
        step("create namespace", "POST", "/api/v1/namespaces")
            .body(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})),
        // Create, conflicts, dry run.
        step("create configmap", "POST", &cms).body(configmap(ns, "a", "web")),
        step("create configmap again: 409", "POST", &cms).body(configmap(ns, "a", "web")),
        step("create second configmap", "POST", &cms).body(configmap(ns, "b", "db")),
        step("create third configmap", "POST", &cms).body(configmap(ns, "c", "db")),
        step("create dry run", "POST", format!("{cms}?dryRun=All")).body(configmap(ns, "dry", "web")),
        step("dry run wrote nothing: 404", "GET", format!("{cms}/dry")),
        step("create invalid name: 422", "POST", &cms).body(configmap(ns, "Bad_Name", "web")),
        step(
            "create unknown field, strict: 400",
            "POST",
            format!("{cms}?fieldValidation=Strict"),
        )
        .body(unknown_field.clone()),
        step(
            "create unknown field, warn",
            "POST",
            format!("{cms}?fieldValidation=Warn&dryRun=All"),
        )
        .body(unknown_field),
        step("get missing: 404", "GET", format!("{cms}/missing")),
        // Lists.
        step("list by label", "GET", format!("{cms}?labelSelector=tier%3Dweb")),
        step("list by label set", "GET", format!("{cms}?labelSelector=tier+in+%28db%29")),
        step("list by label inequality", "GET", format!("{cms}?labelSelector=tier%21%3Dweb")),
        step("list by field", "GET", format!("{cms}?fieldSelector=metadata.name%3Db")),
        step("list first page", "GET", format!("{cms}?limit=2")),
        step("list next page", "GET", format!("{cms}?limit=2&continue={{list first page.continue}}")),
        step("list across namespaces by label", "GET", "/api/v1/configmaps?labelSelector=tier%3Dweb"),
        // Updates and patches.
        step("get configmap", "GET", format!("{cms}/a")),
        step("update configmap", "PUT", format!("{cms}/a")).body({
            let mut cm = configmap(ns, "a", "web");
            cm["metadata"]["resourceVersion"] = json!("{get configmap.rv}");
            cm["data"]["color"] = json!("green");
            cm
        }),
        step("update with a stale resourceVersion: 409", "PUT", format!("{cms}/a")).body({
            let mut cm = configmap(ns, "a", "web");
            cm["metadata"]["resourceVersion"] = json!("{get configmap.rv}");
            cm
        }),
        step("update with a name that differs: 400", "PUT", format!("{cms}/a"))
            .body(configmap(ns, "other", "web")),
        step("merge patch", "PATCH", format!("{cms}/a"))
            .body(json!({"data": {"size": "xl"}, "metadata": {"annotations": {"note": "x"}}}))
            .content(MERGE),
        step("json patch", "PATCH", format!("{cms}/a"))
            .body(json!([{"op": "replace", "path": "/data/color", "value": "red"},
                         {"op": "remove", "path": "/data/size"}]))
            .content(JSON_PATCH),
        step("json patch failing test: 422", "PATCH", format!("{cms}/a"))
            .body(json!([{"op": "test", "path": "/data/color", "value": "blue"}]))
            .content(JSON_PATCH),
        step("strategic merge patch", "PATCH", format!("{cms}/a"))
            .body(json!({"data": {"shape": "round"}}))
            .content(STRATEGIC),
        step("merge patch of a missing object: 404", "PATCH", format!("{cms}/missing"))
            .body(json!({"data": {"x": "y"}}))
            .content(MERGE),
        // Server-side apply.
        step("apply creates", "PATCH", format!("{cms}/applied?fieldManager=driftdeck"))
            .body(configmap(ns, "applied", "web"))
            .content(APPLY),
        step("apply dry run", "PATCH", format!("{cms}/applied?fieldManager=driftdeck&dryRun=All"))
            .body({
                let mut cm = configmap(ns, "applied", "web");
                cm["data"]["color"] = json!("pink");
                cm
            })
            .content(APPLY),
        step(
            "apply conflict with another manager: 409",
            "PATCH",
            format!("{cms}/applied?fieldManager=intruder"),
        )
        .body({
            let mut cm = configmap(ns, "applied", "web");
            cm["data"]["color"] = json!("black");
            cm
        })
        .content(APPLY),
        step(
            "apply forced by another manager",
            "PATCH",
            format!("{cms}/applied?fieldManager=intruder&force=true"),
        )
        .body({
            let mut cm = configmap(ns, "applied", "web");
            cm["data"]["color"] = json!("black");
            cm
        })
        .content(APPLY),
        step("apply drops a field it owned", "PATCH", format!("{cms}/applied?fieldManager=driftdeck"))
            .body(json!({"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": {"name": "applied", "namespace": ns}, "data": {}}))
            .content(APPLY),
        step("apply without a field manager: 400", "PATCH", format!("{cms}/applied"))
            .body(configmap(ns, "applied", "web"))
            .content(APPLY),
        // Delete, and a watch that replays everything since the first get.
        step("delete dry run", "DELETE", format!("{cms}/b?dryRun=All")),
        step("delete", "DELETE", format!("{cms}/b")),
        step("delete again: 404", "DELETE", format!("{cms}/b")),
        step(
            "watch from a resourceVersion",
            "GET",
            format!("{cms}?watch=true&resourceVersion={{get configmap.rv}}&timeoutSeconds=1"),
        ),
        // Defaults, status and scale subresources.
        step("create deployment", "POST", &deployments).body(deployment.clone()),
        step("create service", "POST", format!("/api/v1/namespaces/{ns}/services")).body(service),
        step("get deployment status", "GET", format!("{deployments}/web/status")),
        step("merge patch deployment status", "PATCH", format!("{deployments}/web/status"))
            .body(json!({"status": {"observedGeneration": 1, "replicas": 2, "readyReplicas": 1}}))
            .content(MERGE),
        step("status patch leaves spec alone", "PATCH", format!("{deployments}/web/status"))
            .body(json!({"spec": {"replicas": 9}}))
            .content(MERGE),
        step("get scale", "GET", format!("{deployments}/web/scale")),
        step("merge patch spec bumps generation", "PATCH", format!("{deployments}/web"))
            .body(json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}}))
            .content(STRATEGIC),
        step("invalid deployment: 422", "POST", &deployments).body({
            let mut bad = deployment;
            bad["metadata"]["name"] = json!("bad");
            bad["spec"]["selector"]["matchLabels"] = json!({"app": "other"});
            bad
        }),
        // A Lease, as a sync holds one.
        step("create lease", "POST", &leases).body(lease(ns, "driftdeck-a", "2026-01-01T00:00:00.000000Z")),
        step("renew lease", "PUT", format!("{leases}/sync-shop")).body({
            let mut renewed = lease(ns, "driftdeck-a", "2026-01-01T00:00:10.000000Z");
            renewed["metadata"]["resourceVersion"] = json!("{create lease.rv}");
            renewed
        }),
        step("take lease with a stale resourceVersion: 409", "PUT", format!("{leases}/sync-shop")).body({
            let mut taken = lease(ns, "driftdeck-b", "2026-01-01T00:00:11.000000Z");
            taken["metadata"]["resourceVersion"] = json!("{create lease.rv}");
            taken
        }),
        // CRDs of Argo CD and Flux, and their objects.
        step("create Argo CD Application CRD", "POST", crds)
            .body(engine_yaml("crds/argocd/application-crd.yaml")),
        step("create Flux Kustomization CRD", "POST", crds)
            .body(engine_yaml("crds/flux/kustomize.toolkit.fluxcd.io_kustomizations.yaml")),
        step("create Argo CD Application CRD again: 409", "POST", crds)
            .body(engine_yaml("crds/argocd/application-crd.yaml")),
        step("wait: applications are served", "WAIT", applications.clone()),
        step("wait: kustomizations are served", "WAIT", kustomizations.clone()),
        step("discovery argoproj.io resources", "GET", "/apis/argoproj.io/v1alpha1")
            .only(&["applications", "applications/status"]),
        step("create application", "POST", &applications).body(application.clone()),
        step(
            "create application with an unknown field, strict: 400",
            "POST",
            format!("{applications}?fieldValidation=Strict"),
        )
        .body({
            let mut bad = bad_application;
            bad["metadata"]["name"] = json!("strict");
            bad
        }),
        step("get application", "GET", format!("{applications}/guestbook")),
        step("update application status", "PUT", format!("{applications}/guestbook/status"))
            .body({
                application_status["metadata"]["resourceVersion"] = json!("{get application.rv}");
                application_status
            }),
        step("list applications", "GET", &applications),
        step("create kustomization", "POST", &kustomizations).body(kustomization),
        step("suspend kustomization", "PATCH", format!("{kustomizations}/apps"))
            .body(json!({"spec": {"suspend": true}}))
            .content(MERGE),
        step("apply kustomization", "PATCH", format!("{kustomizations}/apps?fieldManager=driftdeck&force=true"))
            .body(json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                         "metadata": {"name": "apps", "namespace": ns,
                                      "annotations": {"reconcile.fluxcd.io/requestedAt": "now"}}}))
            .content(APPLY),
        step("invalid kustomization: 422", "POST", &kustomizations).body(json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "broken", "namespace": ns},
            "spec": {"interval": "10m", "prune": "yes"}})),
        step("delete application", "DELETE", format!("{applications}/guestbook")),
        step("delete kustomization", "DELETE", format!("{kustomizations}/apps")),
        step(
            "delete Argo CD Application CRD",
            "DELETE",
            format!("{crds}/applications.argoproj.io"),
        ),
        step(
            "delete Flux Kustomization CRD",
            "DELETE",
            format!("{crds}/kustomizations.kustomize.toolkit.fluxcd.io"),
        ),
    ]
}

/// What one server answered, after normalizing.
#[derive(Debug, Clone, PartialEq)]
struct Answer {
    status: u16,
    body: Value,
}

/// Sends the steps to one server, in order.
async fn run(client: &Client, steps: &[Step]) -> Vec<Answer> {
    let mut saved: BTreeMap<String, String> = BTreeMap::new();
    let mut answers = Vec::new();
    for step in steps {
        let fill = |text: &str| {
            let mut text = text.to_string();
            for (key, value) in &saved {
                text = text.replace(&format!("{{{key}}}"), value);
            }
            text
        };
        let path = fill(&step.path);
        if step.method == "WAIT" {
            wait_until_served(client, &path).await;
            answers.push(Answer {
                status: 200,
                body: Value::Null,
            });
            continue;
        }
        let body = step
            .body
            .as_ref()
            .map(|b| fill(&serde_json::to_string(b).unwrap()))
            .unwrap_or_default();
        let (status, text) = send(client, step, &path, body).await;
        let parsed: Value = if path.contains("watch=true") {
            Value::Array(
                text.lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect(),
            )
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if let Some(rv) = parsed["metadata"]["resourceVersion"].as_str() {
            saved.insert(format!("{}.rv", step.name), rv.to_string());
        }
        if let Some(token) = parsed["metadata"]["continue"].as_str() {
            saved.insert(format!("{}.continue", step.name), token.to_string());
        }
        answers.push(Answer {
            status,
            body: normalize(parsed, step.only_resources),
        });
    }
    answers
}

async fn send(client: &Client, step: &Step, path: &str, body: String) -> (u16, String) {
    let method = step.method;
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("Accept", step.accept)
        .header("Content-Type", step.content_type)
        .body(kube::client::Body::from(body.into_bytes()))
        .unwrap();
    let response = client
        .send(request)
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = response.status().as_u16();
    let bytes = response.into_body().collect_bytes().await.unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// A new CRD is served after its names are accepted: the real server takes a
/// moment, and no request of the sequence may race it.
async fn wait_until_served(client: &Client, path: &str) {
    for _ in 0..300 {
        let (status, _) = send(client, &step("wait", "GET", path), path, String::new()).await;
        if status == 200 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} was not served within 30 s");
}

/// Replaces what two servers legitimately answer differently.
fn normalize(mut value: Value, only_resources: &[&str]) -> Value {
    let wanted = |entry: &Value, key: &str| {
        entry[key]
            .as_str()
            .is_some_and(|name| only_resources.contains(&name))
    };
    if !only_resources.is_empty()
        && let Some(resources) = value.get_mut("resources").and_then(Value::as_array_mut)
    {
        resources.retain(|r| wanted(r, "name"));
    }
    // Aggregated discovery: groups, their versions, their resources.
    if !only_resources.is_empty()
        && let Some(groups) = value.get_mut("items").and_then(Value::as_array_mut)
    {
        for group in groups.iter_mut() {
            for version in group["versions"].as_array_mut().into_iter().flatten() {
                if let Some(resources) = version["resources"].as_array_mut() {
                    resources.retain(|r| wanted(r, "resource"));
                }
            }
            if let Some(versions) = group["versions"].as_array_mut() {
                versions.retain(|v| v["resources"].as_array().is_some_and(|r| !r.is_empty()));
            }
        }
        groups.retain(|g| g["versions"].as_array().is_some_and(|v| !v.is_empty()));
    }
    scrub(&mut value, "");
    value
}

fn scrub(value: &mut Value, key: &str) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                let placeholder = match k.as_str() {
                    "uid" => Some("<uid>"),
                    "resourceVersion" if v.as_str().is_some_and(|s| !s.is_empty()) => Some("<rv>"),
                    "creationTimestamp" | "deletionTimestamp" | "time" if v.is_string() => {
                        Some("<time>")
                    }
                    "continue" if v.as_str().is_some_and(|s| !s.is_empty()) => Some("<continue>"),
                    "clusterIP" if v.as_str().is_some_and(|s| s != "None") => Some("<ip>"),
                    "serverAddress" => Some("<address>"),
                    _ => None,
                };
                match placeholder {
                    Some(p) => *v = json!(p),
                    None => scrub(v, k),
                }
            }
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                if key == "clusterIPs" {
                    *item = json!("<ip>");
                } else {
                    scrub(item, key);
                }
            }
            // The API server orders the entries by their time, to the
            // second: two writes in one second or in two may come either
            // way round (a loaded machine made this test flaky).
            if key == "managedFields" {
                items.sort_by_key(|entry| {
                    ["manager", "operation", "subresource"]
                        .map(|field| entry[field].as_str().unwrap_or_default().to_string())
                });
            }
        }
        _ => {}
    }
}

/// The differences between two answers, one line per JSON path.
fn differences(sim: &Value, real: &Value, path: &str, out: &mut Vec<String>) {
    match (sim, real) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let child = format!("{path}/{key}");
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => differences(x, y, &child, out),
                    (x, y) => out.push(format!("{child}: sim {} real {}", show(x), show(y))),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                differences(x, y, &format!("{path}/{i}"), out);
            }
        }
        (a, b) if a != b => out.push(format!(
            "{path}: sim {} real {}",
            show(Some(a)),
            show(Some(b))
        )),
        _ => {}
    }
}

fn show(value: Option<&Value>) -> String {
    match value {
        None => "(absent)".into(),
        Some(v) => {
            let text = v.to_string();
            if text.chars().count() > 1200 {
                format!("{}…", text.chars().take(1200).collect::<String>())
            } else {
                text
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulated_cluster_answers_as_the_real_api_server_does() {
    within_timeout(async {
        let sim = Server::start(Which::Sim).await;
        // Its own real server: the CRDs it creates and deletes would pull
        // groups out from under the other tests' discovery.
        let real = Server::start_own(Which::Real).await;
        let ns = unique_namespace("conformance");
        let steps = steps(&ns);
        let sim_answers = run(&sim.client().await, &steps).await;
        let real_answers = run(&real.client().await, &steps).await;

        let mut differing = BTreeMap::new();
        let mut report = String::new();
        let compared = steps.iter().filter(|s| s.method != "WAIT").count();
        for ((step, a), b) in steps.iter().zip(&sim_answers).zip(&real_answers) {
            let mut lines = Vec::new();
            if a.status != b.status {
                lines.push(format!("status: sim {} real {}", a.status, b.status));
            }
            differences(&a.body, &b.body, "", &mut lines);
            if !lines.is_empty() {
                report.push_str(&format!("\n## {} ({} {})\n", step.name, step.method, step.path));
                for line in &lines {
                    report.push_str(&format!("  {line}\n"));
                }
                differing.insert(step.name, lines);
            }
        }
        let known: BTreeSet<&str> = KNOWN.iter().map(|(name, _)| *name).collect();
        let differing_names: BTreeSet<&str> = differing.keys().copied().collect();
        eprintln!(
            "conformance: {compared} requests compared, {} identical after normalization, {} known differences{report}",
            compared - differing.len(),
            differing_names.intersection(&known).count(),
        );
        let unexplained: Vec<&&str> = differing_names.difference(&known).collect();
        assert!(
            unexplained.is_empty(),
            "answers differ with no known reason: {unexplained:?}{report}"
        );
        let gone: Vec<&&str> = known.difference(&differing_names).collect();
        assert!(
            gone.is_empty(),
            "known differences that no longer differ (remove them from KNOWN and the README): {gone:?}"
        );
    })
    .await;
}
