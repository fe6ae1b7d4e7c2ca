//! Simulated controllers: Deployments, StatefulSets, DaemonSets, ReplicaSets
//! and Pods become ready over the rollout time; an image tagged `broken`
//! never does, and a Deployment with one ends with ProgressDeadlineExceeded;
//! LoadBalancer Services get an address, claims are bound, Jobs complete,
//! and every namespace gets its `default` ServiceAccount and
//! `kube-root-ca.crt`. They write through the status subresource as
//! `kube-controller-manager`, so their fields show in managedFields the way
//! a real cluster's do.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

use super::catalog::{ResourceKey, ResourceType};
use super::lifecycle::{self, Endpoint, FieldValidation, WriteContext, now};
use super::replica_sets;
use super::store::{ChangeKind, State, Store};

const MANAGER: &str = "kube-controller-manager";
/// The address of the one node of the simulated cluster.
const NODE_IP: &str = "172.18.0.2";

/// How the controllers behave.
#[derive(Debug, Clone, Copy)]
pub struct ControllerOptions {
    /// How long a rollout takes from start to all replicas ready.
    pub rollout_time: Duration,
}

impl ControllerOptions {
    /// When a rollout that cannot finish gives up: the Deployment's
    /// `progressDeadlineSeconds` or three rollout times, whichever is less.
    fn deadline(&self, progress_deadline_seconds: i64) -> Duration {
        let declared = Duration::from_secs(u64::try_from(progress_deadline_seconds).unwrap_or(600));
        declared.min(self.rollout_time * 3)
    }

    fn tick(&self) -> Duration {
        (self.rollout_time / 10).clamp(Duration::from_millis(20), Duration::from_millis(500))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    Job,
    Pod,
    Service,
    Claim,
    Namespace,
}

impl Kind {
    fn of(key: &ResourceKey) -> Option<Kind> {
        Some(match (key.group.as_str(), key.plural.as_str()) {
            ("apps", "deployments") => Kind::Deployment,
            ("apps", "statefulsets") => Kind::StatefulSet,
            ("apps", "daemonsets") => Kind::DaemonSet,
            ("apps", "replicasets") => Kind::ReplicaSet,
            ("batch", "jobs") => Kind::Job,
            ("", "pods") => Kind::Pod,
            ("", "services") => Kind::Service,
            ("", "persistentvolumeclaims") => Kind::Claim,
            ("", "namespaces") => Kind::Namespace,
            _ => return None,
        })
    }
}

type ObjectId = (ResourceKey, String, String);

/// A rollout in progress: since when, at which generation, and how many
/// replicas were available when it began.
#[derive(Debug, Clone)]
struct Rollout {
    generation: i64,
    started: Instant,
    available_before: i64,
}

struct Controllers {
    store: Arc<Store>,
    options: ControllerOptions,
    pending: HashMap<ObjectId, Rollout>,
    next_address: u32,
}

/// Runs the controllers until `shutdown` turns true.
pub async fn run(
    store: Arc<Store>,
    options: ControllerOptions,
    mut shutdown: watch::Receiver<bool>,
) {
    let (mut changes, existing) = {
        let (state, receiver) = store.subscribe();
        let existing: Vec<ObjectId> = state
            .all_objects()
            .filter(|(key, _)| Kind::of(key).is_some())
            .map(|(key, o)| (key.clone(), o.namespace.clone(), o.name.clone()))
            .collect();
        (receiver, existing)
    };
    let mut controllers = Controllers {
        store,
        options,
        pending: HashMap::new(),
        next_address: 0,
    };
    for id in existing {
        controllers.track(id);
    }
    let mut ticker = tokio::time::interval(options.tick());
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = ticker.tick() => controllers.step(),
            received = changes.recv() => match received {
                Ok(change) => {
                    if change.kind != ChangeKind::Deleted && Kind::of(&change.key).is_some() {
                        controllers.track((change.key.clone(), change.object.namespace.clone(), change.object.name.clone()));
                    } else if change.kind == ChangeKind::Deleted {
                        let id = (change.key.clone(), change.object.namespace.clone(), change.object.name.clone());
                        controllers.pending.remove(&id);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => controllers.track_everything(),
                Err(broadcast::error::RecvError::Closed) => return,
            },
        }
    }
}

fn generation(object: &Value) -> i64 {
    object
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

fn int(object: &Value, pointer: &str) -> i64 {
    object.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn has_broken_image(object: &Value, pod_spec: &str) -> bool {
    object
        .pointer(&format!("{pod_spec}/containers"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("image").and_then(Value::as_str))
        .any(|image| {
            image
                .rsplit('/')
                .next()
                .is_some_and(|last| last.ends_with(":broken"))
        })
}

/// A hash of a value that ignores the order of object keys and null
/// fields: a template written back by `kubectl rollout undo` (keys in Go's
/// order, `creationTimestamp: null`) hashes as it did before.
fn hash_of(value: &Value) -> u64 {
    use std::hash::{Hash, Hasher};
    fn feed(value: &Value, hasher: &mut impl Hasher) {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> =
                    map.keys().filter(|key| !map[*key].is_null()).collect();
                keys.sort();
                for key in keys {
                    key.hash(hasher);
                    feed(&map[key], hasher);
                }
                '}'.hash(hasher);
            }
            Value::Array(items) => {
                items.iter().for_each(|item| feed(item, hasher));
                ']'.hash(hasher);
            }
            other => other.to_string().hash(hasher),
        }
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    feed(value, &mut hasher);
    hasher.finish()
}

/// A pod-template-hash as Kubernetes spells it (safe characters only).
fn template_hash_text(hash: u64) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut n = hash;
    (0..10)
        .map(|_| {
            let c = ALPHABET[usize::try_from(n % 27).unwrap_or(0)];
            n /= 27;
            char::from(c)
        })
        .collect()
}

/// Puts `count` in `status` only when it is not zero, as Go's omitempty does.
fn set_count(status: &mut Map<String, Value>, key: &str, count: i64) {
    if count > 0 {
        status.insert(key.into(), json!(count));
    } else {
        status.shift_remove(key);
    }
}

/// A condition, keeping its transition time when its status is unchanged.
fn condition(previous: &Value, kind: &str, status: &str, reason: &str, message: &str) -> Value {
    let old = previous
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|list| list.iter().find(|c| c.get("type") == Some(&json!(kind))));
    let unchanged = old.is_some_and(|c| {
        c.get("status") == Some(&json!(status)) && c.get("reason") == Some(&json!(reason))
    });
    let (transition, update) = match old {
        Some(c) if unchanged => (
            c.get("lastTransitionTime").cloned().unwrap_or(json!(now())),
            c.get("lastUpdateTime").cloned().unwrap_or(json!(now())),
        ),
        Some(c) if c.get("status") == Some(&json!(status)) => (
            c.get("lastTransitionTime").cloned().unwrap_or(json!(now())),
            json!(now()),
        ),
        _ => (json!(now()), json!(now())),
    };
    json!({
        "type": kind, "status": status, "lastUpdateTime": update,
        "lastTransitionTime": transition, "reason": reason, "message": message
    })
}

fn max_unavailable(deployment: &Value, desired: i64) -> i64 {
    if deployment.pointer("/spec/strategy/type") == Some(&json!("Recreate")) {
        return desired;
    }
    match deployment.pointer("/spec/strategy/rollingUpdate/maxUnavailable") {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => s
            .strip_suffix('%')
            .and_then(|p| p.parse::<i64>().ok())
            .map_or(0, |percent| desired * percent / 100),
        _ => desired / 4,
    }
}

impl Controllers {
    fn track(&mut self, id: ObjectId) {
        let Some(object) = self
            .store
            .read()
            .get(&id.0, &id.1, &id.2)
            .map(|o| o.value())
        else {
            return;
        };
        let current = generation(&object);
        let fresh = match self.pending.get(&id) {
            Some(rollout) => rollout.generation != current,
            None => self.needs_work(&id, &object),
        };
        if fresh {
            let available_before = int(&object, "/status/availableReplicas")
                .max(int(&object, "/status/numberAvailable"));
            self.pending.insert(
                id,
                Rollout {
                    generation: current,
                    started: Instant::now(),
                    available_before,
                },
            );
        }
    }

    fn track_everything(&mut self) {
        let ids: Vec<ObjectId> = self
            .store
            .read()
            .all_objects()
            .filter(|(key, _)| Kind::of(key).is_some())
            .map(|(key, o)| (key.clone(), o.namespace.clone(), o.name.clone()))
            .collect();
        for id in ids {
            self.track(id);
        }
    }

    /// Whether an object not yet tracked has anything left to converge.
    fn needs_work(&self, id: &ObjectId, object: &Value) -> bool {
        let observed = int(object, "/status/observedGeneration");
        match Kind::of(&id.0) {
            Some(Kind::Deployment | Kind::StatefulSet | Kind::DaemonSet | Kind::ReplicaSet) => {
                // A broken rollout, once seen, stays as it ended.
                let seen = observed == generation(object);
                if seen && has_broken_image(object, "/spec/template/spec") {
                    return false;
                }
                !seen || {
                    let desired = int(object, "/spec/replicas");
                    let ready = int(object, "/status/readyReplicas")
                        .max(int(object, "/status/numberReady"));
                    ready < desired || (id.0.plural == "daemonsets" && ready < 1)
                }
            }
            Some(Kind::Job) => {
                object.pointer("/status/completionTime").is_none()
                    && object.pointer("/status/failed").is_none()
            }
            Some(Kind::Pod) => object.pointer("/status/containerStatuses").is_none(),
            Some(Kind::Service) => {
                object.pointer("/spec/type") == Some(&json!("LoadBalancer"))
                    && object.pointer("/status/loadBalancer/ingress").is_none()
            }
            Some(Kind::Claim) => object.pointer("/status/phase") != Some(&json!("Bound")),
            Some(Kind::Namespace) => !self.namespace_is_furnished(&id.2),
            None => false,
        }
    }

    fn namespace_is_furnished(&self, namespace: &str) -> bool {
        let state = self.store.read();
        let sa = ResourceKey {
            group: String::new(),
            plural: "serviceaccounts".into(),
        };
        let cm = ResourceKey {
            group: String::new(),
            plural: "configmaps".into(),
        };
        state.get(&sa, namespace, "default").is_some()
            && state.get(&cm, namespace, "kube-root-ca.crt").is_some()
    }

    /// Moves every pending object one step; those that are done leave.
    fn step(&mut self) {
        let ids: Vec<ObjectId> = self.pending.keys().cloned().collect();
        for id in ids {
            let Some(rollout) = self.pending.get(&id).cloned() else {
                continue;
            };
            let done = self.advance(&id, &rollout);
            if done {
                self.pending.remove(&id);
            }
        }
    }

    /// Advances one object; whether it has converged.
    fn advance(&mut self, id: &ObjectId, rollout: &Rollout) -> bool {
        let Some(kind) = Kind::of(&id.0) else {
            return true;
        };
        let elapsed = rollout.started.elapsed();
        let options = self.options;
        let store = self.store.clone();
        store.write(|state| {
            let Some(rt) = state.catalog.storage_type(&id.0) else {
                return true;
            };
            let Some(object) = state.get(&id.0, &id.1, &id.2).map(|o| o.value()) else {
                return true;
            };
            if object.pointer("/metadata/deletionTimestamp").is_some() {
                return true;
            }
            match kind {
                Kind::Deployment => self.deployment(state, &rt, id, object, rollout, elapsed),
                Kind::StatefulSet | Kind::DaemonSet | Kind::ReplicaSet => {
                    workload(state, &rt, object, kind, rollout, elapsed, options)
                }
                Kind::Job => job(state, &rt, object, elapsed, options),
                Kind::Pod => pod(state, &rt, object, elapsed, options),
                Kind::Service => self.load_balancer(state, &rt, object, elapsed, options),
                Kind::Claim => claim(state, &rt, object, elapsed, options),
                Kind::Namespace => furnish_namespace(state, &id.2),
            }
        })
    }

    fn deployment(
        &mut self,
        state: &mut State,
        rt: &Arc<ResourceType>,
        id: &ObjectId,
        object: Value,
        rollout: &Rollout,
        elapsed: Duration,
    ) -> bool {
        let desired = int(&object, "/spec/replicas");
        let template = object
            .pointer("/spec/template")
            .cloned()
            .unwrap_or(Value::Null);
        let template_hash = template_hash_text(hash_of(&template));
        let revision =
            match replica_sets::reconcile(state, &object, &template_hash, &write_context()) {
                Ok(revision) => revision,
                Err(error) => {
                    tracing::debug!(
                        "simulated controller: replica sets of {}/{}: {error}",
                        id.1,
                        id.2
                    );
                    return true;
                }
            };
        let replica_set = format!("{}-{template_hash}", id.2);
        let broken = has_broken_image(&object, "/spec/template/spec");
        let deadline = self.options.deadline(
            object
                .pointer("/spec/progressDeadlineSeconds")
                .and_then(Value::as_i64)
                .unwrap_or(600),
        );
        let progress =
            (elapsed.as_secs_f64() / self.options.rollout_time.as_secs_f64().max(0.001)).min(1.0);
        let before = rollout.available_before.min(desired);
        let (updated, available, finished) = if broken {
            (desired.min(1), before, false)
        } else {
            let stepped = (desired as f64 * progress).floor() as i64;
            let updated = if progress >= 1.0 { desired } else { stepped };
            (updated, before.max(updated).min(desired), progress >= 1.0)
        };
        let unavailable = (desired - available).max(0);
        let minimum = desired - max_unavailable(&object, desired);
        let available_condition = if available >= minimum {
            condition(
                &object,
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
            )
        } else {
            condition(
                &object,
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
            )
        };
        let progressing = if finished {
            condition(
                &object,
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                &format!("ReplicaSet \"{replica_set}\" has successfully progressed."),
            )
        } else if broken && elapsed >= deadline {
            condition(
                &object,
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                &format!("ReplicaSet \"{replica_set}\" has timed out progressing."),
            )
        } else if updated == 0 {
            condition(
                &object,
                "Progressing",
                "True",
                "NewReplicaSetCreated",
                &format!("Created new replica set \"{replica_set}\""),
            )
        } else {
            condition(
                &object,
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                &format!("ReplicaSet \"{replica_set}\" is progressing."),
            )
        };
        let mut status = Map::new();
        status.insert("observedGeneration".into(), json!(generation(&object)));
        set_count(&mut status, "replicas", desired.max(updated));
        set_count(&mut status, "updatedReplicas", updated);
        set_count(&mut status, "readyReplicas", available);
        set_count(&mut status, "availableReplicas", available);
        set_count(&mut status, "unavailableReplicas", unavailable);
        status.insert(
            "conditions".into(),
            json!([available_condition, progressing]),
        );
        let mut next = object.clone();
        if let Some(metadata) = next.get_mut("metadata").and_then(Value::as_object_mut) {
            let annotations = metadata.entry("annotations").or_insert_with(|| json!({}));
            if let Some(annotations) = annotations.as_object_mut() {
                annotations.insert(replica_sets::REVISION.into(), json!(revision.to_string()));
            }
        }
        write_status(state, rt, &object, next, Value::Object(status));
        finished || (broken && elapsed >= deadline)
    }

    fn load_balancer(
        &mut self,
        state: &mut State,
        rt: &Arc<ResourceType>,
        object: Value,
        elapsed: Duration,
        options: ControllerOptions,
    ) -> bool {
        if object.pointer("/spec/type") != Some(&json!("LoadBalancer")) {
            return true;
        }
        if elapsed < options.rollout_time / 5 {
            return false;
        }
        self.next_address += 1;
        let ip = format!("172.18.255.{}", 200 + self.next_address % 55);
        let status = json!({"loadBalancer": {"ingress": [{"ip": ip, "ipMode": "VIP"}]}});
        write_status(state, rt, &object, object.clone(), status);
        true
    }
}

/// How the controllers write: as `kube-controller-manager`, unchecked.
fn write_context() -> WriteContext<'static> {
    WriteContext {
        manager: MANAGER,
        dry_run: false,
        field_validation: FieldValidation::Ignore,
        admit: &lifecycle::admit_everything,
    }
}

/// Writes a new status (and the annotations of `next`) through `/status`.
fn write_status(
    state: &mut State,
    rt: &Arc<ResourceType>,
    current: &Value,
    mut next: Value,
    status: Value,
) {
    if current.get("status") == Some(&status)
        && current.pointer("/metadata/annotations") == next.pointer("/metadata/annotations")
    {
        return;
    }
    if let Some(map) = next.as_object_mut() {
        map.insert("status".into(), status);
    }
    let ctx = write_context();
    let namespace = current
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("");
    let name = current
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    if let Err(error) = lifecycle::update(state, rt, namespace, name, next, Endpoint::Status, &ctx)
    {
        tracing::debug!(
            "simulated controller: status of {} {namespace}/{name}: {error}",
            rt.kind
        );
    }
}

fn workload(
    state: &mut State,
    rt: &Arc<ResourceType>,
    object: Value,
    kind: Kind,
    rollout: &Rollout,
    elapsed: Duration,
    options: ControllerOptions,
) -> bool {
    let desired = if kind == Kind::DaemonSet {
        1
    } else {
        int(&object, "/spec/replicas")
    };
    let broken = has_broken_image(&object, "/spec/template/spec");
    let progress = (elapsed.as_secs_f64() / options.rollout_time.as_secs_f64().max(0.001)).min(1.0);
    let stepped = if progress >= 1.0 {
        desired
    } else {
        (desired as f64 * progress).floor() as i64
    };
    let before = rollout.available_before.min(desired);
    let ready = if broken { before } else { before.max(stepped) };
    let finished = !broken && progress >= 1.0;
    let revision = format!(
        "{}-{}",
        object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or(""),
        template_hash_text(hash_of(
            object.pointer("/spec/template").unwrap_or(&Value::Null)
        ))
    );
    let mut status = Map::new();
    status.insert("observedGeneration".into(), json!(generation(&object)));
    match kind {
        Kind::StatefulSet => {
            status.insert("replicas".into(), json!(desired));
            set_count(&mut status, "readyReplicas", ready);
            set_count(&mut status, "currentReplicas", ready);
            set_count(
                &mut status,
                "updatedReplicas",
                if broken { 1.min(desired) } else { stepped },
            );
            status.insert("availableReplicas".into(), json!(ready));
            status.insert("currentRevision".into(), json!(revision));
            status.insert("updateRevision".into(), json!(revision));
            status.insert("collisionCount".into(), json!(0));
        }
        Kind::DaemonSet => {
            status.insert("currentNumberScheduled".into(), json!(1));
            status.insert("desiredNumberScheduled".into(), json!(1));
            status.insert("numberMisscheduled".into(), json!(0));
            status.insert("numberReady".into(), json!(ready));
            set_count(&mut status, "numberAvailable", ready);
            set_count(&mut status, "numberUnavailable", 1 - ready);
            status.insert("updatedNumberScheduled".into(), json!(1));
        }
        _ => {
            status.insert("replicas".into(), json!(desired));
            set_count(&mut status, "fullyLabeledReplicas", desired);
            set_count(&mut status, "readyReplicas", ready);
            set_count(&mut status, "availableReplicas", ready);
        }
    }
    write_status(state, rt, &object, object.clone(), Value::Object(status));
    finished || (broken && elapsed >= options.rollout_time * 3)
}

fn job(
    state: &mut State,
    rt: &Arc<ResourceType>,
    object: Value,
    elapsed: Duration,
    options: ControllerOptions,
) -> bool {
    if object.pointer("/spec/suspend") == Some(&json!(true)) {
        return true;
    }
    let started = object
        .pointer("/status/startTime")
        .cloned()
        .unwrap_or_else(|| json!(now()));
    let broken = has_broken_image(&object, "/spec/template/spec");
    let parallelism = int(&object, "/spec/parallelism").max(1);
    let base =
        json!({"startTime": started, "ready": 0, "terminating": 0, "uncountedTerminatedPods": {}});
    let mut status = base.as_object().cloned().unwrap_or_default();
    let finished = if broken && elapsed >= options.rollout_time * 3 {
        status.insert("failed".into(), json!(1));
        status.insert(
            "conditions".into(),
            job_conditions(
                ["FailureTarget", "Failed"],
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
                &json!(now()),
            ),
        );
        true
    } else if !broken && elapsed >= options.rollout_time {
        let time = json!(now());
        status.insert(
            "succeeded".into(),
            json!(int(&object, "/spec/completions").max(1)),
        );
        status.insert("completionTime".into(), time.clone());
        status.insert(
            "conditions".into(),
            job_conditions(
                ["SuccessCriteriaMet", "Complete"],
                "CompletionsReached",
                "Reached expected number of succeeded pods",
                &time,
            ),
        );
        true
    } else {
        status.insert("active".into(), json!(parallelism));
        false
    };
    write_status(state, rt, &object, object.clone(), Value::Object(status));
    finished
}

fn pod(
    state: &mut State,
    rt: &Arc<ResourceType>,
    object: Value,
    elapsed: Duration,
    options: ControllerOptions,
) -> bool {
    if elapsed < options.rollout_time && !has_broken_image(&object, "/spec") {
        return false;
    }
    let started = json!(now());
    let containers: Vec<Value> = object
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let broken = has_broken_image(&object, "/spec");
    let statuses: Vec<Value> = containers
        .iter()
        .map(|c| {
            let image = c.get("image").and_then(Value::as_str).unwrap_or("");
            let state_value = if broken {
                json!({"waiting": {"reason": "ImagePullBackOff", "message": format!("Back-off pulling image \"{image}\"")}})
            } else {
                json!({"running": {"startedAt": started}})
            };
            json!({"name": c.get("name"), "image": image, "imageID": "", "ready": !broken,
                   "restartCount": 0, "started": !broken, "state": state_value})
        })
        .collect();
    let ready = if broken { "False" } else { "True" };
    let mut status = object.get("status").cloned().unwrap_or(json!({}));
    if let Some(map) = status.as_object_mut() {
        map.insert(
            "phase".into(),
            json!(if broken { "Pending" } else { "Running" }),
        );
        map.insert("hostIP".into(), json!(NODE_IP));
        map.insert("startTime".into(), started.clone());
        map.insert("containerStatuses".into(), Value::Array(statuses));
        map.insert("conditions".into(), json!([
            {"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": started},
            {"type": "Initialized", "status": "True", "lastProbeTime": null, "lastTransitionTime": started},
            {"type": "ContainersReady", "status": ready, "lastProbeTime": null, "lastTransitionTime": started},
            {"type": "Ready", "status": ready, "lastProbeTime": null, "lastTransitionTime": started}
        ]));
        if !broken {
            map.insert("podIP".into(), json!("10.244.0.10"));
            map.insert("podIPs".into(), json!([{"ip": "10.244.0.10"}]));
        }
    }
    write_status(state, rt, &object, object.clone(), status);
    true
}

fn claim(
    state: &mut State,
    rt: &Arc<ResourceType>,
    object: Value,
    elapsed: Duration,
    options: ControllerOptions,
) -> bool {
    if elapsed < options.rollout_time / 5 {
        return false;
    }
    let uid = object
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let namespace = object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut bound = object.clone();
    if let Some(spec) = bound.get_mut("spec").and_then(Value::as_object_mut) {
        spec.insert("volumeName".into(), json!(format!("pvc-{uid}")));
    }
    if let Some(metadata) = bound.get_mut("metadata").and_then(Value::as_object_mut) {
        let annotations = metadata.entry("annotations").or_insert_with(|| json!({}));
        if let Some(annotations) = annotations.as_object_mut() {
            annotations.insert("pv.kubernetes.io/bind-completed".into(), json!("yes"));
            annotations.insert("pv.kubernetes.io/bound-by-controller".into(), json!("yes"));
        }
    }
    let ctx = write_context();
    let Ok(_) = lifecycle::update(state, rt, &namespace, &name, bound, Endpoint::Main, &ctx) else {
        return true;
    };
    let Some(current) = state.get(&rt.key(), &namespace, &name).map(|o| o.value()) else {
        return true;
    };
    let status = json!({
        "phase": "Bound",
        "accessModes": current.pointer("/spec/accessModes").cloned().unwrap_or(json!([])),
        "capacity": {"storage": current.pointer("/spec/resources/requests/storage").cloned().unwrap_or(json!("1Gi"))},
    });
    write_status(state, rt, &current, current.clone(), status);
    true
}

const ROOT_CA: &str = "-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIBADAKBggqhkjOPQQDAjAjMSEwHwYDVQQDDBhkcmlmdGRl\nY2stc2ltdWxhdGVkLWNsdXN0ZXIwHhcNMjUwMTAxMDAwMDAwWhcNMzUwMTAxMDAw\nMDAwWjAjMSEwHwYDVQQDDBhkcmlmdGRlY2stc2ltdWxhdGVkLWNsdXN0ZXI=\n-----END CERTIFICATE-----\n";

/// What the ServiceAccount and root-CA publisher controllers put in every
/// namespace.
fn furnish_namespace(state: &mut State, namespace: &str) -> bool {
    let ctx = write_context();
    let objects = [
        (
            "serviceaccounts",
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}}),
        ),
        (
            "configmaps",
            json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "kube-root-ca.crt", "annotations": {
                    "kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."
                }},
                "data": {"ca.crt": ROOT_CA}
            }),
        ),
    ];
    for (plural, object) in objects {
        let Some(rt) = state.catalog.find("", "v1", plural) else {
            continue;
        };
        let name = object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if state.get(&rt.key(), namespace, &name).is_none()
            && let Err(error) = lifecycle::create(state, &rt, namespace, object, &ctx)
        {
            tracing::debug!("simulated controller: {plural} in {namespace}: {error}");
        }
    }
    true
}

/// The pair of True conditions a finished Job carries (the target one,
/// then the final one), with one reason, message and time.
fn job_conditions(types: [&str; 2], reason: &str, message: &str, time: &Value) -> Value {
    let condition = |kind: &str| {
        json!({"type": kind, "status": "True", "reason": reason, "message": message,
               "lastProbeTime": time, "lastTransitionTime": time})
    };
    Value::Array(types.into_iter().map(condition).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_hashes_ignore_key_order_and_null_fields() {
        let stored = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "a", "image": "x"}]}});
        let undone = json!({"spec": {"containers": [{"image": "x", "name": "a"}]}, "metadata": {"creationTimestamp": null, "labels": {"app": "web"}}});
        assert_eq!(hash_of(&stored), hash_of(&undone));
        let changed = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "a", "image": "y"}]}});
        assert_ne!(hash_of(&stored), hash_of(&changed));
    }

    #[test]
    fn broken_images_are_recognised_by_tag() {
        let spec = json!({"spec": {"containers": [{"image": "registry:5000/app:broken"}]}});
        assert!(has_broken_image(&spec, "/spec"));
        let fine = json!({"spec": {"containers": [{"image": "broken/app:1.0"}]}});
        assert!(!has_broken_image(&fine, "/spec"));
    }

    #[test]
    fn max_unavailable_reads_percentages_and_numbers() {
        let percent = json!({"spec": {"strategy": {"rollingUpdate": {"maxUnavailable": "25%"}}}});
        assert_eq!(max_unavailable(&percent, 8), 2);
        let number = json!({"spec": {"strategy": {"rollingUpdate": {"maxUnavailable": 3}}}});
        assert_eq!(max_unavailable(&number, 8), 3);
    }
}
