//! What each kind's registry strategy does around a write, beyond defaults:
//! the status a new object starts with, when `generation` moves, Service
//! cluster IPs and node ports, the selector a Job gets, a Namespace's name
//! label, a Secret's `stringData` folded into `data`, a CRD's status.

use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value, json};

use super::catalog::ResourceType;

/// Cluster IPs and node ports in use.
#[derive(Debug, Default, Clone)]
pub struct Allocations {
    ips: HashSet<u32>,
    node_ports: HashSet<u16>,
    next_ip: u32,
    next_port: u16,
}

const SERVICE_RANGE_START: u32 = (10 << 24) | (96 << 16);
const SERVICE_RANGE_SIZE: u32 = 1 << 20;
const NODE_PORT_FIRST: u16 = 30000;
const NODE_PORT_LAST: u16 = 32767;

fn ip_text(ip: u32) -> String {
    format!(
        "{}.{}.{}.{}",
        ip >> 24,
        (ip >> 16) & 255,
        (ip >> 8) & 255,
        ip & 255
    )
}

fn parse_ip(text: &str) -> Option<u32> {
    let parts: Vec<u32> = text
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    if parts.len() != 4 || parts.iter().any(|p| *p > 255) {
        return None;
    }
    Some((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3])
}

impl Allocations {
    fn allocate_ip(&mut self) -> Option<String> {
        for _ in 0..SERVICE_RANGE_SIZE {
            self.next_ip = (self.next_ip % (SERVICE_RANGE_SIZE - 2)) + 1;
            let candidate = SERVICE_RANGE_START + self.next_ip;
            if self.ips.insert(candidate) {
                return Some(ip_text(candidate));
            }
        }
        None
    }

    fn allocate_port(&mut self) -> Option<u16> {
        let span = NODE_PORT_LAST - NODE_PORT_FIRST + 1;
        for _ in 0..span {
            self.next_port = (self.next_port + 1) % span;
            let candidate = NODE_PORT_FIRST + self.next_port;
            if self.node_ports.insert(candidate) {
                return Some(candidate);
            }
        }
        None
    }

    /// Marks what a stored Service holds as taken (on load and on create).
    pub fn claim(&mut self, service: &Value) {
        if let Some(ip) = service
            .pointer("/spec/clusterIP")
            .and_then(Value::as_str)
            .and_then(parse_ip)
        {
            self.ips.insert(ip);
        }
        for port in node_ports(service) {
            self.node_ports.insert(port);
        }
    }

    /// Frees what a deleted Service held.
    pub fn release(&mut self, service: &Value) {
        if let Some(ip) = service
            .pointer("/spec/clusterIP")
            .and_then(Value::as_str)
            .and_then(parse_ip)
        {
            self.ips.remove(&ip);
        }
        for port in node_ports(service) {
            self.node_ports.remove(&port);
        }
    }
}

fn node_ports(service: &Value) -> Vec<u16> {
    service
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("nodePort").and_then(Value::as_u64))
        .filter_map(|p| u16::try_from(p).ok())
        .collect()
}

/// Why a write cannot go ahead at this step.
#[derive(Debug, Clone, PartialEq)]
pub enum StrategyError {
    /// The request is malformed (400).
    BadRequest(String),
    /// No address or port is left (500, as the allocator reports).
    Exhausted(String),
}

fn map_mut<'a>(object: &'a mut Value, key: &str) -> Option<&'a mut Map<String, Value>> {
    object.get_mut(key).and_then(Value::as_object_mut)
}

/// The status a new object of a kind with a status subresource starts with.
pub fn initial_status(rt: &ResourceType, object: &Value) -> Option<Value> {
    if rt.is_custom() {
        return None;
    }
    Some(match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "Namespace") => json!({"phase": "Active"}),
        ("", "PersistentVolumeClaim") => json!({"phase": "Pending"}),
        ("", "Pod") => json!({"phase": "Pending", "qosClass": qos_class(object)}),
        ("", "Service") | ("networking.k8s.io", "Ingress") => json!({"loadBalancer": {}}),
        ("apps", "StatefulSet") => json!({"replicas": 0, "availableReplicas": 0}),
        ("apps", "ReplicaSet") => json!({"replicas": 0}),
        ("apps", "DaemonSet") => json!({
            "currentNumberScheduled": 0, "desiredNumberScheduled": 0,
            "numberMisscheduled": 0, "numberReady": 0
        }),
        ("policy", "PodDisruptionBudget") => json!({
            "currentHealthy": 0, "desiredHealthy": 0, "disruptionsAllowed": 0, "expectedPods": 0
        }),
        ("autoscaling", "HorizontalPodAutoscaler") => json!({"desiredReplicas": 0}),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => crd_status(object),
        _ => json!({}),
    })
}

fn qos_class(pod: &Value) -> &'static str {
    let containers: Vec<&Value> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    let has = |c: &Value, which: &str| {
        c.pointer(&format!("/resources/{which}"))
            .and_then(Value::as_object)
            .is_some_and(|m| !m.is_empty())
    };
    if containers
        .iter()
        .all(|c| !has(c, "limits") && !has(c, "requests"))
    {
        return "BestEffort";
    }
    let guaranteed = containers.iter().all(|c| {
        ["cpu", "memory"].iter().all(|r| {
            let limit = c.pointer(&format!("/resources/limits/{r}"));
            let request = c.pointer(&format!("/resources/requests/{r}")).or(limit);
            limit.is_some() && limit == request
        })
    });
    if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

fn crd_status(crd: &Value) -> Value {
    let names = crd.pointer("/spec/names").cloned().unwrap_or(json!({}));
    let mut accepted = names.clone();
    if let Some(map) = accepted.as_object_mut() {
        if !map.contains_key("singular") {
            let kind = map
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_lowercase();
            map.insert("singular".into(), json!(kind));
        }
        if !map.contains_key("listKind") {
            let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
            map.insert("listKind".into(), json!(format!("{kind}List")));
        }
    }
    let storage: Vec<Value> = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .filter_map(|v| v.get("name").cloned())
        .collect();
    let now = crd
        .pointer("/metadata/creationTimestamp")
        .cloned()
        .unwrap_or(Value::Null);
    json!({
        "acceptedNames": accepted,
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
             "message": "no conflicts found", "lastTransitionTime": now},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
             "message": "the initial names have been accepted", "lastTransitionTime": now}
        ],
        "storedVersions": storage,
    })
}

/// Kind-specific preparation of a new object, after its uid is set.
pub fn prepare_create(
    rt: &ResourceType,
    object: &mut Value,
    allocations: &mut Allocations,
) -> Result<(), StrategyError> {
    if rt.is_custom() {
        return Ok(());
    }
    match (rt.group.as_str(), rt.kind.as_str()) {
        // Not a default: the API server adds it on create only, and keeps
        // the old list on update (it changes through `/finalize`).
        ("", "Namespace") => {
            if let Some(root) = object.as_object_mut()
                && !root.get("spec").is_some_and(Value::is_object)
            {
                root.insert("spec".into(), Value::Object(Map::new()));
            }
            let finalizers = map_mut(object, "spec").map(|spec| {
                spec.entry("finalizers")
                    .or_insert_with(|| Value::Array(Vec::new()))
            });
            if let Some(Value::Array(finalizers)) = finalizers
                && !finalizers.iter().any(|f| f == "kubernetes")
            {
                finalizers.push(json!("kubernetes"));
            }
        }
        ("", "Secret") => fold_string_data(object)?,
        ("", "Service") => allocate_service(object, None, allocations)?,
        ("", "PersistentVolumeClaim") => {
            if let Some(spec) = map_mut(object, "spec")
                && spec.get("storageClassName").is_none_or(Value::is_null)
            {
                spec.insert("storageClassName".into(), json!("standard"));
            }
        }
        ("batch", "Job") => generate_job_selector(object),
        _ => {}
    }
    Ok(())
}

/// Kind-specific preparation of an update: what the user may omit and the
/// server keeps (a Service's allocated IPs and ports), `stringData`.
pub fn prepare_update(
    rt: &ResourceType,
    old: &Value,
    object: &mut Value,
    allocations: &mut Allocations,
) -> Result<(), StrategyError> {
    if rt.is_custom() {
        return Ok(());
    }
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "Secret") => fold_string_data(object)?,
        ("", "Service") => allocate_service(object, Some(old), allocations)?,
        ("", "Namespace") => {
            let finalizers = old.pointer("/spec/finalizers").cloned();
            if let Some(spec) = map_mut(object, "spec") {
                match finalizers {
                    Some(finalizers) => spec.insert("finalizers".into(), finalizers),
                    None => spec.shift_remove("finalizers"),
                };
            }
        }
        _ => {}
    }
    Ok(())
}

/// What decoding a request does before anything else sees it: a Secret's
/// `stringData` becomes `data` in the conversion to the internal version.
pub fn decode(rt: &ResourceType, object: &mut Value) -> Result<(), StrategyError> {
    if !rt.is_custom() && rt.group.is_empty() && rt.kind == "Secret" {
        fold_string_data(object)?;
    }
    Ok(())
}

fn fold_string_data(secret: &mut Value) -> Result<(), StrategyError> {
    if let Some(data) = secret.get("data").and_then(Value::as_object) {
        for (key, value) in data {
            let text = value.as_str().unwrap_or_default();
            if !value.is_string() || BASE64.decode(text).is_err() {
                return Err(StrategyError::BadRequest(format!(
                    "Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data in data[{key}]"
                )));
            }
        }
    }
    let Some(map) = secret.as_object_mut() else {
        return Ok(());
    };
    if let Some(Value::Object(string_data)) = map.shift_remove("stringData") {
        let data = map
            .entry("data")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(data) = data.as_object_mut() {
            for (key, value) in string_data {
                let text = value.as_str().unwrap_or_default();
                data.insert(key, json!(BASE64.encode(text)));
            }
        }
    }
    Ok(())
}

fn generate_job_selector(job: &mut Value) {
    let manual = job.pointer("/spec/manualSelector").and_then(Value::as_bool) == Some(true);
    if manual {
        return;
    }
    let uid = job
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let name = job
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let Some(spec) = map_mut(job, "spec") else {
        return;
    };
    if spec.get("selector").is_none_or(Value::is_null) {
        spec.insert(
            "selector".into(),
            json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}),
        );
    }
    let template = spec
        .entry("template")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(template) = template.as_object_mut() else {
        return;
    };
    let metadata = template
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(metadata) = metadata.as_object_mut() else {
        return;
    };
    let labels = metadata
        .entry("labels")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(labels) = labels.as_object_mut() {
        for (key, value) in [
            ("batch.kubernetes.io/controller-uid", &uid),
            ("batch.kubernetes.io/job-name", &name),
            ("controller-uid", &uid),
            ("job-name", &name),
        ] {
            labels.insert(key.into(), json!(value));
        }
    }
}

/// Gives a Service its cluster IP, IP families and node ports, keeping
/// those of the old version when the new one omits them.
fn allocate_service(
    service: &mut Value,
    old: Option<&Value>,
    allocations: &mut Allocations,
) -> Result<(), StrategyError> {
    let service_type = service
        .pointer("/spec/type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    let Some(spec) = map_mut(service, "spec") else {
        return Ok(());
    };
    if service_type == "ExternalName" {
        return Ok(());
    }
    if let Some(old_spec) = old.and_then(|o| o.get("spec")) {
        for key in [
            "clusterIP",
            "clusterIPs",
            "ipFamilies",
            "ipFamilyPolicy",
            "healthCheckNodePort",
        ] {
            if spec.get(key).is_none_or(Value::is_null)
                && let Some(value) = old_spec.get(key)
            {
                spec.insert(key.into(), value.clone());
            }
        }
        let old_ports = old_spec
            .get("ports")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if let Some(Value::Array(ports)) = spec.get_mut("ports") {
            for port in ports.iter_mut().filter_map(Value::as_object_mut) {
                if port.contains_key("nodePort") {
                    continue;
                }
                let same = old_ports.iter().find(|p| {
                    p.get("port") == port.get("port") && p.get("protocol") == port.get("protocol")
                });
                if let Some(node_port) = same.and_then(|p| p.get("nodePort")) {
                    port.insert("nodePort".into(), node_port.clone());
                }
            }
        }
    }
    let cluster_ip = spec
        .get("clusterIP")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let ip = if cluster_ip.is_empty() {
        allocations
            .allocate_ip()
            .ok_or_else(|| StrategyError::Exhausted("range is full".into()))?
    } else {
        if let Some(parsed) = parse_ip(&cluster_ip) {
            allocations.ips.insert(parsed);
        }
        cluster_ip
    };
    spec.insert("clusterIP".into(), json!(ip));
    if spec.get("clusterIPs").is_none_or(Value::is_null) {
        spec.insert("clusterIPs".into(), json!([ip]));
    }
    if spec.get("ipFamilies").is_none_or(Value::is_null) {
        spec.insert("ipFamilies".into(), json!(["IPv4"]));
    }
    if spec.get("ipFamilyPolicy").is_none_or(Value::is_null) {
        spec.insert("ipFamilyPolicy".into(), json!("SingleStack"));
    }
    let wants_node_ports = service_type == "NodePort"
        || (service_type == "LoadBalancer"
            && spec.get("allocateLoadBalancerNodePorts") != Some(&json!(false)));
    if wants_node_ports && let Some(Value::Array(ports)) = spec.get_mut("ports") {
        for port in ports.iter_mut().filter_map(Value::as_object_mut) {
            match port.get("nodePort").and_then(Value::as_u64) {
                Some(existing) => {
                    if let Ok(existing) = u16::try_from(existing) {
                        allocations.node_ports.insert(existing);
                    }
                }
                None => {
                    let allocated = allocations.allocate_port().ok_or_else(|| {
                        StrategyError::Exhausted("node ports are exhausted".into())
                    })?;
                    port.insert("nodePort".into(), json!(allocated));
                }
            }
        }
    }
    Ok(())
}

/// Whether the change from `old` to `new` moves `generation`: the spec for
/// most kinds, also annotations for a Deployment, everything but metadata
/// (and status when it is a subresource) for custom resources.
pub fn generation_changes(rt: &ResourceType, old: &Value, new: &Value) -> bool {
    let without = |object: &Value| -> Value {
        let mut copy = object.clone();
        if let Some(map) = copy.as_object_mut() {
            map.shift_remove("metadata");
            if rt.status_subresource {
                map.shift_remove("status");
            }
        }
        copy
    };
    let spec_changed = if rt.is_custom() {
        without(old) != without(new)
    } else {
        old.get("spec") != new.get("spec")
    };
    let annotations_changed = rt.kind == "Deployment"
        && rt.group == "apps"
        && old.pointer("/metadata/annotations") != new.pointer("/metadata/annotations");
    spec_changed || annotations_changed
}

/// The object a creation is compared against for managed fields: what the
/// Go zero value of the kind serializes to, so fields it already holds are
/// not counted as added containers.
pub fn zero_object(rt: &ResourceType) -> Value {
    let template = json!({"metadata": {"creationTimestamp": null}, "spec": {"containers": null}});
    let mut zero = match (rt.group.as_str(), rt.kind.as_str()) {
        ("apps", "Deployment") => {
            json!({"spec": {"selector": null, "template": template, "strategy": {}}, "status": {}})
        }
        ("apps", "StatefulSet") | ("apps", "DaemonSet") => {
            json!({"spec": {"selector": null, "template": template, "updateStrategy": {}}, "status": {}})
        }
        ("apps", "ReplicaSet") => {
            json!({"spec": {"selector": null, "template": template}, "status": {}})
        }
        ("batch", "Job") => json!({"spec": {"template": template}, "status": {}}),
        ("batch", "CronJob") => {
            json!({"spec": {"jobTemplate": {"metadata": {"creationTimestamp": null}, "spec": {"template": template}}}, "status": {}})
        }
        ("", "Pod") => json!({"spec": {"containers": null}, "status": {}}),
        ("", "Service") | ("networking.k8s.io", "Ingress") => {
            json!({"spec": {}, "status": {"loadBalancer": {}}})
        }
        ("", "PersistentVolumeClaim") => json!({"spec": {"resources": {}}, "status": {}}),
        ("coordination.k8s.io", "Lease") => json!({"spec": {}}),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            json!({"spec": {"names": {}}, "status": {"acceptedNames": {}}})
        }
        ("", "Namespace")
        | ("policy", "PodDisruptionBudget")
        | ("networking.k8s.io", "NetworkPolicy") => {
            json!({"spec": {}, "status": {}})
        }
        _ => json!({}),
    };
    if let Some(map) = zero.as_object_mut() {
        map.insert("metadata".into(), json!({"creationTimestamp": null}));
    }
    zero
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simcluster::catalog::Catalog;

    #[test]
    fn services_get_distinct_cluster_ips_and_keep_them_on_update() {
        let rt = Catalog::builtin().find("", "v1", "services").unwrap();
        let mut allocations = Allocations::default();
        let mut a = json!({"metadata": {"name": "a"}, "spec": {"type": "NodePort", "ports": [{"port": 80, "protocol": "TCP"}]}});
        let mut b = json!({"metadata": {"name": "b"}, "spec": {"ports": [{"port": 80}]}});
        prepare_create(&rt, &mut a, &mut allocations).unwrap();
        prepare_create(&rt, &mut b, &mut allocations).unwrap();
        assert_ne!(a["spec"]["clusterIP"], b["spec"]["clusterIP"]);
        assert_eq!(a["spec"]["clusterIPs"], json!([a["spec"]["clusterIP"]]));
        assert_eq!(a["spec"]["ipFamilyPolicy"], "SingleStack");
        let node_port = a["spec"]["ports"][0]["nodePort"].as_u64().unwrap();
        assert!((30000..=32767).contains(&node_port));
        let mut updated = json!({"metadata": {"name": "a"}, "spec": {"type": "NodePort", "ports": [{"port": 80, "protocol": "TCP"}]}});
        prepare_update(&rt, &a, &mut updated, &mut allocations).unwrap();
        assert_eq!(updated["spec"]["clusterIP"], a["spec"]["clusterIP"]);
        assert_eq!(updated["spec"]["ports"][0]["nodePort"], node_port);
    }

    #[test]
    fn secret_string_data_is_folded_into_data() {
        let rt = Catalog::builtin().find("", "v1", "secrets").unwrap();
        let mut s = json!({"metadata": {"name": "s"}, "stringData": {"password": "hunter2"}});
        prepare_create(&rt, &mut s, &mut Allocations::default()).unwrap();
        assert_eq!(s["data"]["password"], BASE64.encode("hunter2"));
        assert!(s.get("stringData").is_none());
        let mut bad = json!({"metadata": {"name": "s"}, "data": {"k": "not base64!"}});
        assert!(prepare_create(&rt, &mut bad, &mut Allocations::default()).is_err());
    }

    #[test]
    fn jobs_get_a_selector_on_their_uid() {
        let rt = Catalog::builtin().find("batch", "v1", "jobs").unwrap();
        let mut job =
            json!({"metadata": {"name": "once", "uid": "u-1"}, "spec": {"template": {"spec": {}}}});
        prepare_create(&rt, &mut job, &mut Allocations::default()).unwrap();
        assert_eq!(
            job["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"],
            "u-1"
        );
        assert_eq!(
            job["spec"]["template"]["metadata"]["labels"]["job-name"],
            "once"
        );
    }

    #[test]
    fn deployment_generation_moves_on_spec_or_annotations_only() {
        let rt = Catalog::builtin()
            .find("apps", "v1", "deployments")
            .unwrap();
        let old = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"replicas": 1}});
        let relabelled = json!({"metadata": {"labels": {"a": "2"}}, "spec": {"replicas": 1}});
        let annotated = json!({"metadata": {"annotations": {"x": "y"}}, "spec": {"replicas": 1}});
        let scaled = json!({"metadata": {}, "spec": {"replicas": 2}});
        assert!(!generation_changes(&rt, &old, &relabelled));
        assert!(generation_changes(&rt, &old, &annotated));
        assert!(generation_changes(&rt, &old, &scaled));
    }
}
