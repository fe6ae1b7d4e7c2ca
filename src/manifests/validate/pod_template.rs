//! Where the pod template of each workload kind lives.

use serde_json::Value;

use super::lookup;

use crate::manifests::DesiredObject;

/// The pod template of a workload, or the pod itself.
pub(super) struct PodTemplate<'a> {
    /// The path to the template, such as `spec.template.`; empty for a Pod.
    pub prefix: &'static str,
    pub labels: Option<&'a Value>,
    pub spec: Option<&'a Value>,
}

pub(super) fn pod_template(object: &DesiredObject) -> Option<PodTemplate<'_>> {
    let (prefix, pointer) = match (object.id.group.as_str(), object.id.kind.as_str()) {
        ("", "Pod") => ("", ""),
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") | ("batch", "Job") => {
            ("spec.template.", "/spec/template")
        }
        ("batch", "CronJob") => (
            "spec.jobTemplate.spec.template.",
            "/spec/jobTemplate/spec/template",
        ),
        _ => return None,
    };
    let template = lookup(&object.value, pointer)?;
    Some(PodTemplate {
        prefix,
        labels: lookup(template, "/metadata/labels"),
        spec: template.get("spec"),
    })
}
