//! Server defaults: the fields the API server fills in when an object omits
//! them (Kubernetes' `SetDefaults_*` functions for v1.33), quantities in
//! canonical form, and custom resources defaulted and pruned by their CRD
//! schema. Live objects carry all of this while Git does not, which is what
//! makes drift detection hard; the simulated cluster has to reproduce it.

use serde_json::{Map, Value, json};

use super::quantity::{QUANTITY_PATTERN, canonical};

/// Fills the defaults of a built-in kind in place. An invalid quantity is an
/// error naming its path.
pub fn apply_builtin(group: &str, kind: &str, object: &mut Value) -> Result<(), String> {
    let Some(root) = object.as_object_mut() else {
        return Ok(());
    };
    match (group, kind) {
        ("", "Pod") => {
            if let Some(spec) = map_at(root, &["spec"]) {
                pod_spec(spec, "spec", true)?;
            }
        }
        ("", "Service") => {
            if let Some(spec) = map_at(root, &["spec"]) {
                service_spec(spec);
            }
        }
        ("", "Secret") => {
            set_default(root, "type", json!("Opaque"));
        }
        ("", "Namespace") => {
            let name = root
                .get("metadata")
                .and_then(|m| m.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if !name.is_empty() {
                let metadata = ensure_map(root, "metadata");
                let labels = ensure_map(metadata, "labels");
                labels.insert("kubernetes.io/metadata.name".into(), json!(name));
            }
        }
        ("", "PersistentVolumeClaim") => {
            if let Some(spec) = map_at(root, &["spec"]) {
                pvc_spec(spec, "spec")?;
            }
        }
        ("", "Endpoints") => {
            if let Some(Value::Array(subsets)) = root.get_mut("subsets") {
                for subset in subsets.iter_mut().filter_map(Value::as_object_mut) {
                    default_protocols(subset.get_mut("ports"));
                }
            }
        }
        ("apps", "Deployment") => {
            if let Some(spec) = map_at(root, &["spec"]) {
                deployment_spec(spec)?;
            }
        }
        ("apps", "StatefulSet") => {
            if let Some(spec) = map_at(root, &["spec"]) {
                stateful_set_spec(spec)?;
            }
        }
        ("apps", "DaemonSet") => {
            if let Some(spec) = map_at(root, &["spec"]) {
                set_default(spec, "revisionHistoryLimit", json!(10));
                let strategy = ensure_map(spec, "updateStrategy");
                set_default(strategy, "type", json!("RollingUpdate"));
                if strategy.get("type") == Some(&json!("RollingUpdate")) {
                    let rolling = ensure_map(strategy, "rollingUpdate");
                    set_default(rolling, "maxUnavailable", json!(1));
                    set_default(rolling, "maxSurge", json!(0));
                }
                template(spec, "spec.template")?;
            }
        }
        ("apps", "ReplicaSet") => {
            if let Some(spec) = map_at(root, &["spec"]) {
                set_default(spec, "replicas", json!(1));
                template(spec, "spec.template")?;
            }
        }
        ("batch", "Job") => {
            if let Some(spec) = map_at(root, &["spec"]) {
                job_spec(spec)?;
            }
        }
        ("batch", "CronJob") => {
            if let Some(spec) = map_at(root, &["spec"]) {
                set_default(spec, "concurrencyPolicy", json!("Allow"));
                set_default(spec, "suspend", json!(false));
                set_default(spec, "successfulJobsHistoryLimit", json!(3));
                set_default(spec, "failedJobsHistoryLimit", json!(1));
                if let Some(job) = map_at(spec, &["jobTemplate", "spec"]) {
                    template(job, "spec.jobTemplate.spec.template")?;
                }
            }
        }
        ("networking.k8s.io", "NetworkPolicy") => {
            if let Some(spec) = map_at(root, &["spec"]) {
                network_policy_spec(spec);
            }
        }
        ("rbac.authorization.k8s.io", "RoleBinding")
        | ("rbac.authorization.k8s.io", "ClusterRoleBinding") => {
            if let Some(Value::Array(subjects)) = root.get_mut("subjects") {
                for subject in subjects.iter_mut().filter_map(Value::as_object_mut) {
                    let kind = subject.get("kind").and_then(Value::as_str).unwrap_or("");
                    if matches!(kind, "User" | "Group") {
                        set_default(subject, "apiGroup", json!("rbac.authorization.k8s.io"));
                    }
                }
            }
        }
        ("autoscaling", "HorizontalPodAutoscaler") => {
            if let Some(spec) = map_at(root, &["spec"]) {
                hpa_spec(spec);
            }
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            if let Some(spec) = map_at(root, &["spec"]) {
                let conversion = ensure_map(spec, "conversion");
                set_default(conversion, "strategy", json!("None"));
            }
        }
        _ => {}
    }
    Ok(())
}

fn map_at<'a>(
    map: &'a mut Map<String, Value>,
    path: &[&str],
) -> Option<&'a mut Map<String, Value>> {
    let (first, rest) = path.split_first()?;
    let child = map.get_mut(*first)?.as_object_mut()?;
    if rest.is_empty() {
        Some(child)
    } else {
        map_at(child, rest)
    }
}

fn ensure_map<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let slot = map
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(child) => child,
        _ => unreachable!("the slot was just made an object"),
    }
}

/// Sets `key` when it is absent or null.
fn set_default(map: &mut Map<String, Value>, key: &str, value: Value) {
    if map.get(key).is_none_or(Value::is_null) {
        map.insert(key.to_string(), value);
    }
}

fn deployment_spec(spec: &mut Map<String, Value>) -> Result<(), String> {
    set_default(spec, "replicas", json!(1));
    set_default(spec, "revisionHistoryLimit", json!(10));
    set_default(spec, "progressDeadlineSeconds", json!(600));
    let strategy = ensure_map(spec, "strategy");
    set_default(strategy, "type", json!("RollingUpdate"));
    if strategy.get("type") == Some(&json!("RollingUpdate")) {
        let rolling = ensure_map(strategy, "rollingUpdate");
        set_default(rolling, "maxUnavailable", json!("25%"));
        set_default(rolling, "maxSurge", json!("25%"));
    }
    template(spec, "spec.template")
}

fn stateful_set_spec(spec: &mut Map<String, Value>) -> Result<(), String> {
    set_default(spec, "replicas", json!(1));
    set_default(spec, "podManagementPolicy", json!("OrderedReady"));
    set_default(spec, "revisionHistoryLimit", json!(10));
    let strategy = ensure_map(spec, "updateStrategy");
    set_default(strategy, "type", json!("RollingUpdate"));
    if strategy.get("type") == Some(&json!("RollingUpdate")) {
        let rolling = ensure_map(strategy, "rollingUpdate");
        set_default(rolling, "partition", json!(0));
    }
    let retention = ensure_map(spec, "persistentVolumeClaimRetentionPolicy");
    set_default(retention, "whenDeleted", json!("Retain"));
    set_default(retention, "whenScaled", json!("Retain"));
    if let Some(Value::Array(claims)) = spec.get_mut("volumeClaimTemplates") {
        for (index, claim) in claims.iter_mut().enumerate() {
            if let Some(claim) = claim.as_object_mut() {
                set_default(claim, "apiVersion", json!("v1"));
                set_default(claim, "kind", json!("PersistentVolumeClaim"));
                if let Some(claim_spec) = map_at(claim, &["spec"]) {
                    pvc_spec(
                        claim_spec,
                        &format!("spec.volumeClaimTemplates[{index}].spec"),
                    )?;
                }
                let status = ensure_map(claim, "status");
                set_default(status, "phase", json!("Pending"));
            }
        }
    }
    template(spec, "spec.template")
}

fn job_spec(spec: &mut Map<String, Value>) -> Result<(), String> {
    if spec.get("completions").is_none_or(Value::is_null)
        && spec.get("parallelism").is_none_or(Value::is_null)
    {
        spec.insert("completions".into(), json!(1));
    }
    set_default(spec, "parallelism", json!(1));
    if spec.get("backoffLimitPerIndex").is_none_or(Value::is_null) {
        set_default(spec, "backoffLimit", json!(6));
    } else {
        set_default(spec, "backoffLimit", json!(i32::MAX));
    }
    set_default(spec, "completionMode", json!("NonIndexed"));
    set_default(spec, "suspend", json!(false));
    let replacement = if spec.get("podFailurePolicy").is_some_and(|p| !p.is_null()) {
        "Failed"
    } else {
        "TerminatingOrFailed"
    };
    set_default(spec, "podReplacementPolicy", json!(replacement));
    template(spec, "spec.template")
}

fn template(spec: &mut Map<String, Value>, path: &str) -> Result<(), String> {
    // A template's metadata is a Go ObjectMeta: its creationTimestamp is
    // never set, and serializes as null.
    if let Some(template) = map_at(spec, &["template"]) {
        let metadata = ensure_map(template, "metadata");
        if !metadata.contains_key("creationTimestamp") {
            metadata.insert("creationTimestamp".into(), Value::Null);
        }
    }
    if let Some(pod) = map_at(spec, &["template", "spec"]) {
        pod_spec(pod, &format!("{path}.spec"), false)?;
    }
    Ok(())
}

/// PodSpec defaults; `is_pod` adds what only a Pod gets (from defaulting and
/// from the admission plugins every cluster runs).
fn pod_spec(spec: &mut Map<String, Value>, path: &str, is_pod: bool) -> Result<(), String> {
    set_default(spec, "dnsPolicy", json!("ClusterFirst"));
    set_default(spec, "restartPolicy", json!("Always"));
    set_default(spec, "terminationGracePeriodSeconds", json!(30));
    set_default(spec, "securityContext", json!({}));
    set_default(spec, "schedulerName", json!("default-scheduler"));
    for list in ["initContainers", "containers"] {
        if let Some(Value::Array(containers)) = spec.get_mut(list) {
            for (index, container) in containers.iter_mut().enumerate() {
                if let Some(container) = container.as_object_mut() {
                    container_defaults(container, &format!("{path}.{list}[{index}]"))?;
                }
            }
        }
    }
    if let Some(Value::Array(volumes)) = spec.get_mut("volumes") {
        for (index, volume) in volumes.iter_mut().enumerate() {
            if let Some(volume) = volume.as_object_mut() {
                volume_defaults(volume, &format!("{path}.volumes[{index}]"))?;
            }
        }
    }
    canonical_quantities(spec.get_mut("overhead"), &format!("{path}.overhead"))?;
    if is_pod {
        set_default(spec, "enableServiceLinks", json!(true));
        set_default(spec, "serviceAccountName", json!("default"));
        let account = spec
            .get("serviceAccountName")
            .cloned()
            .unwrap_or(json!("default"));
        set_default(spec, "serviceAccount", account);
        set_default(spec, "priority", json!(0));
        set_default(spec, "preemptionPolicy", json!("PreemptLowerPriority"));
        let tolerations = spec
            .entry("tolerations")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = tolerations {
            for key in [
                "node.kubernetes.io/not-ready",
                "node.kubernetes.io/unreachable",
            ] {
                let present = list.iter().any(|t| t.get("key") == Some(&json!(key)));
                if !present {
                    list.push(json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}));
                }
            }
        }
    }
    Ok(())
}

/// `Always` for `:latest` or no tag, `IfNotPresent` for any other tag or a
/// digest, as Kubernetes decides it.
pub fn image_pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last_segment = image.rsplit('/').next().unwrap_or(image);
    match last_segment.split_once(':') {
        Some((_, tag)) if tag != "latest" => "IfNotPresent",
        _ => "Always",
    }
}

fn container_defaults(container: &mut Map<String, Value>, path: &str) -> Result<(), String> {
    set_default(
        container,
        "terminationMessagePath",
        json!("/dev/termination-log"),
    );
    set_default(container, "terminationMessagePolicy", json!("File"));
    let image = container
        .get("image")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    set_default(
        container,
        "imagePullPolicy",
        json!(image_pull_policy(&image)),
    );
    set_default(container, "resources", json!({}));
    if let Some(Value::Object(resources)) = container.get_mut("resources") {
        for which in ["limits", "requests"] {
            canonical_quantities(
                resources.get_mut(which),
                &format!("{path}.resources.{which}"),
            )?;
        }
    }
    default_protocols(container.get_mut("ports"));
    if let Some(Value::Array(env)) = container.get_mut("env") {
        for variable in env.iter_mut().filter_map(Value::as_object_mut) {
            if let Some(field_ref) = variable
                .get_mut("valueFrom")
                .and_then(Value::as_object_mut)
                .and_then(|from| from.get_mut("fieldRef"))
                .and_then(Value::as_object_mut)
            {
                set_default(field_ref, "apiVersion", json!("v1"));
            }
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(Value::Object(probe)) = container.get_mut(probe) {
            set_default(probe, "timeoutSeconds", json!(1));
            set_default(probe, "periodSeconds", json!(10));
            set_default(probe, "successThreshold", json!(1));
            set_default(probe, "failureThreshold", json!(3));
            http_get_defaults(probe);
        }
    }
    if let Some(Value::Object(lifecycle)) = container.get_mut("lifecycle") {
        for hook in ["postStart", "preStop"] {
            if let Some(Value::Object(handler)) = lifecycle.get_mut(hook) {
                http_get_defaults(handler);
            }
        }
    }
    Ok(())
}

fn http_get_defaults(handler: &mut Map<String, Value>) {
    if let Some(Value::Object(http)) = handler.get_mut("httpGet") {
        set_default(http, "path", json!("/"));
        set_default(http, "scheme", json!("HTTP"));
    }
}

fn default_protocols(ports: Option<&mut Value>) {
    if let Some(Value::Array(ports)) = ports {
        for port in ports.iter_mut().filter_map(Value::as_object_mut) {
            set_default(port, "protocol", json!("TCP"));
        }
    }
}

const VOLUME_SOURCES: &[&str] = &[
    "hostPath",
    "emptyDir",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "persistentVolumeClaim",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "downwardAPI",
    "fc",
    "azureFile",
    "configMap",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "projected",
    "portworxVolume",
    "scaleIO",
    "storageos",
    "csi",
    "ephemeral",
    "image",
];

fn volume_defaults(volume: &mut Map<String, Value>, path: &str) -> Result<(), String> {
    if !VOLUME_SOURCES
        .iter()
        .any(|source| volume.contains_key(*source))
    {
        volume.insert("emptyDir".into(), json!({}));
    }
    for source in ["secret", "configMap", "downwardAPI", "projected"] {
        if let Some(Value::Object(source)) = volume.get_mut(source) {
            set_default(source, "defaultMode", json!(420));
        }
    }
    if let Some(Value::Object(host_path)) = volume.get_mut("hostPath") {
        set_default(host_path, "type", json!(""));
    }
    if let Some(Value::Object(empty_dir)) = volume.get_mut("emptyDir")
        && let Some(limit) = empty_dir.get_mut("sizeLimit")
    {
        canonical_quantity(limit, &format!("{path}.emptyDir.sizeLimit"))?;
    }
    Ok(())
}

fn pvc_spec(spec: &mut Map<String, Value>, path: &str) -> Result<(), String> {
    set_default(spec, "volumeMode", json!("Filesystem"));
    if let Some(Value::Object(resources)) = spec.get_mut("resources") {
        for which in ["limits", "requests"] {
            canonical_quantities(
                resources.get_mut(which),
                &format!("{path}.resources.{which}"),
            )?;
        }
    }
    Ok(())
}

fn service_spec(spec: &mut Map<String, Value>) {
    set_default(spec, "type", json!("ClusterIP"));
    set_default(spec, "sessionAffinity", json!("None"));
    let service_type = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    if let Some(Value::Array(ports)) = spec.get_mut("ports") {
        for port in ports.iter_mut().filter_map(Value::as_object_mut) {
            set_default(port, "protocol", json!("TCP"));
            let unset = match port.get("targetPort") {
                None | Some(Value::Null) => true,
                Some(Value::Number(n)) => n.as_i64() == Some(0),
                Some(Value::String(s)) => s.is_empty(),
                Some(_) => false,
            };
            if unset && let Some(number) = port.get("port").cloned() {
                port.insert("targetPort".into(), number);
            }
        }
    }
    if matches!(service_type.as_str(), "NodePort" | "LoadBalancer") {
        set_default(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if service_type != "ExternalName" {
        set_default(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if service_type == "LoadBalancer" {
        set_default(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    if spec.get("sessionAffinity") == Some(&json!("ClientIP")) {
        let config = ensure_map(spec, "sessionAffinityConfig");
        let client_ip = ensure_map(config, "clientIP");
        set_default(client_ip, "timeoutSeconds", json!(10800));
    }
}

fn network_policy_spec(spec: &mut Map<String, Value>) {
    for direction in ["ingress", "egress"] {
        if let Some(Value::Array(rules)) = spec.get_mut(direction) {
            for rule in rules.iter_mut().filter_map(Value::as_object_mut) {
                default_protocols(rule.get_mut("ports"));
            }
        }
    }
    if spec
        .get("policyTypes")
        .is_none_or(|p| p.as_array().is_none_or(Vec::is_empty))
    {
        let mut types = vec![json!("Ingress")];
        if spec
            .get("egress")
            .and_then(Value::as_array)
            .is_some_and(|e| !e.is_empty())
        {
            types.push(json!("Egress"));
        }
        spec.insert("policyTypes".into(), Value::Array(types));
    }
}

fn hpa_spec(spec: &mut Map<String, Value>) {
    set_default(spec, "minReplicas", json!(1));
    if spec
        .get("metrics")
        .is_none_or(|m| m.as_array().is_none_or(Vec::is_empty))
    {
        spec.insert(
            "metrics".into(),
            json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]),
        );
    }
    if let Some(Value::Object(behavior)) = spec.get_mut("behavior") {
        let up = ensure_map(behavior, "scaleUp");
        set_default(up, "stabilizationWindowSeconds", json!(0));
        set_default(up, "selectPolicy", json!("Max"));
        set_default(
            up,
            "policies",
            json!([{"type": "Pods", "value": 4, "periodSeconds": 15}, {"type": "Percent", "value": 100, "periodSeconds": 15}]),
        );
        let down = ensure_map(behavior, "scaleDown");
        set_default(down, "stabilizationWindowSeconds", json!(300));
        set_default(down, "selectPolicy", json!("Max"));
        set_default(
            down,
            "policies",
            json!([{"type": "Percent", "value": 100, "periodSeconds": 15}]),
        );
    }
}

fn canonical_quantities(map: Option<&mut Value>, path: &str) -> Result<(), String> {
    if let Some(Value::Object(map)) = map {
        for (name, value) in map.iter_mut() {
            canonical_quantity(value, &format!("{path}[{name}]"))?;
        }
    }
    Ok(())
}

fn canonical_quantity(value: &mut Value, path: &str) -> Result<(), String> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err(format!("{path}: quantities must be strings or numbers")),
    };
    match canonical(&text) {
        Some(canonical) => {
            *value = Value::String(canonical);
            Ok(())
        }
        None => Err(format!(
            "{path}: quantities must match the regular expression '{QUANTITY_PATTERN}'"
        )),
    }
}

/// Defaults a custom resource from its schema's `default` keywords and drops
/// fields the schema does not declare (unless it preserves unknown fields),
/// as the API server does for structural schemas.
pub fn apply_schema(schema: &Value, object: &mut Value) {
    if let Some(root) = object.as_object_mut() {
        for (key, value) in root.iter_mut() {
            if matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
                continue;
            }
            if let Some(property) = schema.pointer(&format!("/properties/{key}")) {
                schema_node(property, value);
            }
        }
        let declared = schema.get("properties").and_then(Value::as_object);
        let preserves = schema
            .get("x-kubernetes-preserve-unknown-fields")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if let (Some(declared), false) = (declared, preserves) {
            root.retain(|key, _| {
                matches!(key.as_str(), "apiVersion" | "kind" | "metadata")
                    || declared.contains_key(key)
            });
        }
        fill_defaults(schema, root);
    }
}

/// Fields of a custom resource its schema does not declare, as paths
/// (`spec.bogus`), in document order.
pub fn unknown_fields(schema: &Value, object: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(map) = object.as_object() {
        for (key, value) in map {
            if matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
                continue;
            }
            match schema.pointer(&format!("/properties/{key}")) {
                Some(property) => collect_unknown(property, value, key, &mut out),
                None if declares_fields(schema) => out.push(key.clone()),
                None => {}
            }
        }
    }
    out
}

fn declares_fields(schema: &Value) -> bool {
    schema.get("properties").is_some()
        && schema.get("x-kubernetes-preserve-unknown-fields") != Some(&Value::Bool(true))
}

fn collect_unknown(schema: &Value, value: &Value, path: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let elements = schema.get("additionalProperties").filter(|a| a.is_object());
            for (key, child) in map {
                let child_path = format!("{path}.{key}");
                match (properties.and_then(|p| p.get(key)), elements) {
                    (Some(property), _) => collect_unknown(property, child, &child_path, out),
                    (None, Some(element)) => collect_unknown(element, child, &child_path, out),
                    (None, None) if declares_fields(schema) => out.push(child_path),
                    (None, None) => {}
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (index, item) in items.iter().enumerate() {
                    collect_unknown(item_schema, item, &format!("{path}[{index}]"), out);
                }
            }
        }
        _ => {}
    }
}

fn fill_defaults(schema: &Value, map: &mut Map<String, Value>) {
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            if map.contains_key(name) {
                continue;
            }
            if let Some(default) = property.get("default") {
                let mut value = default.clone();
                schema_node(property, &mut value);
                map.insert(name.clone(), value);
            }
        }
    }
}

fn schema_node(schema: &Value, value: &mut Value) {
    match value {
        Value::Object(map) => {
            let preserves = schema
                .get("x-kubernetes-preserve-unknown-fields")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                if !preserves {
                    map.retain(|key, _| properties.contains_key(key));
                }
                for (key, child) in map.iter_mut() {
                    if let Some(property) = properties.get(key) {
                        schema_node(property, child);
                    }
                }
                fill_defaults(schema, map);
            } else if let Some(element @ Value::Object(_)) = schema.get("additionalProperties") {
                for child in map.values_mut() {
                    schema_node(element, child);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for item in items {
                    schema_node(item_schema, item);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_gets_strategy_limits_and_pod_template_defaults() {
        let mut d = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}],
             "resources": {"limits": {"cpu": "1000m", "memory": "1024Mi"}}}
        ]}}}});
        apply_builtin("apps", "Deployment", &mut d).unwrap();
        let spec = &d["spec"];
        assert_eq!(spec["replicas"], 1);
        assert_eq!(spec["revisionHistoryLimit"], 10);
        assert_eq!(spec["progressDeadlineSeconds"], 600);
        assert_eq!(
            spec["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
        );
        let pod = &spec["template"]["spec"];
        assert_eq!(pod["dnsPolicy"], "ClusterFirst");
        assert_eq!(pod["schedulerName"], "default-scheduler");
        assert_eq!(pod["securityContext"], json!({}));
        let container = &pod["containers"][0];
        assert_eq!(container["imagePullPolicy"], "IfNotPresent");
        assert_eq!(container["terminationMessagePolicy"], "File");
        assert_eq!(container["ports"][0]["protocol"], "TCP");
        assert_eq!(
            container["resources"]["limits"],
            json!({"cpu": "1", "memory": "1Gi"})
        );
    }

    #[test]
    fn image_pull_policy_follows_the_tag() {
        assert_eq!(image_pull_policy("nginx"), "Always");
        assert_eq!(image_pull_policy("nginx:latest"), "Always");
        assert_eq!(image_pull_policy("localhost:5000/nginx"), "Always");
        assert_eq!(image_pull_policy("nginx:1.27"), "IfNotPresent");
        assert_eq!(image_pull_policy("nginx@sha256:abc"), "IfNotPresent");
    }

    #[test]
    fn service_target_port_defaults_to_the_port() {
        let mut s =
            json!({"spec": {"ports": [{"port": 80}, {"port": 443, "targetPort": "https"}]}});
        apply_builtin("", "Service", &mut s).unwrap();
        assert_eq!(
            s["spec"]["ports"][0],
            json!({"port": 80, "protocol": "TCP", "targetPort": 80})
        );
        assert_eq!(s["spec"]["ports"][1]["targetPort"], "https");
        assert_eq!(s["spec"]["type"], "ClusterIP");
        assert_eq!(s["spec"]["internalTrafficPolicy"], "Cluster");
        assert!(s["spec"].get("externalTrafficPolicy").is_none());
    }

    #[test]
    fn invalid_quantity_is_an_error_naming_its_path() {
        let mut p = json!({"spec": {"containers": [{"name": "a", "image": "x", "resources": {"requests": {"cpu": "lots"}}}]}});
        let error = apply_builtin("", "Pod", &mut p).unwrap_err();
        assert!(
            error.starts_with("spec.containers[0].resources.requests[cpu]: quantities must match"),
            "{error}"
        );
    }

    #[test]
    fn schema_defaults_fill_and_unknown_fields_are_pruned() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "size": {"type": "integer", "default": 3}, "name": {"type": "string"}
        }}}});
        let mut object = json!({"apiVersion": "x/v1", "kind": "Thing", "metadata": {}, "spec": {"name": "a", "bogus": 1}, "extra": true});
        assert_eq!(
            unknown_fields(&schema, &object),
            vec!["spec.bogus", "extra"]
        );
        apply_schema(&schema, &mut object);
        assert_eq!(object["spec"], json!({"name": "a", "size": 3}));
        assert!(object.get("extra").is_none());
    }
}
