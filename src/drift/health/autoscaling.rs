//! HorizontalPodAutoscalers: conditions in `status.conditions` (v2, v2beta1,
//! v2beta2) or, for autoscaling/v1, in an annotation.

use serde_json::Value;

use super::{Health, HealthAssessment, at, condition_list, text};

const V1_CONDITIONS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/conditions";
const WAITING: &str = "waiting to autoscale";

/// (type, reason) pairs that mean the autoscaler cannot work.
const FAILURES: &[(&str, &str)] = &[
    ("AbleToScale", "FailedGetScale"),
    ("AbleToScale", "FailedUpdateScale"),
    ("ScalingActive", "FailedGetResourceMetric"),
    ("ScalingActive", "InvalidSelector"),
];

/// Types that mean the autoscaler works when they hold.
const WORKING: &[&str] = &["AbleToScale", "ScalingLimited"];

pub(super) fn horizontal_pod_autoscaler(live: &Value) -> HealthAssessment {
    if live.get("apiVersion").and_then(Value::as_str) == Some("autoscaling/v1") {
        let Some(annotation) = live
            .get("metadata")
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get(V1_CONDITIONS_ANNOTATION))
            .and_then(Value::as_str)
        else {
            return HealthAssessment::new(Health::Progressing, WAITING);
        };
        return match serde_json::from_str::<Value>(annotation) {
            Ok(conditions) => from_conditions(condition_list(Some(&conditions))),
            Err(err) => HealthAssessment::new(
                Health::Unknown,
                format!("annotation {V1_CONDITIONS_ANNOTATION} is not valid JSON: {err}"),
            ),
        };
    }
    from_conditions(condition_list(at(live, "/status/conditions")))
}

/// The first condition that says failure or health decides, in list order.
fn from_conditions(conditions: &[Value]) -> HealthAssessment {
    for condition in conditions {
        let kind = text(condition, "/type");
        let reason = text(condition, "/reason");
        let message = text(condition, "/message");
        if FAILURES.contains(&(kind, reason)) {
            return HealthAssessment::new(Health::Degraded, message);
        }
        if WORKING.contains(&kind) && text(condition, "/status") == "True" {
            return HealthAssessment::new(Health::Healthy, message);
        }
    }
    HealthAssessment::new(Health::Progressing, WAITING)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn first_deciding_condition_wins() {
        let conditions = json!([
            {"type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric", "message": "no metrics"},
            {"type": "AbleToScale", "status": "True", "message": "ok"}]);
        let live = json!({"apiVersion": "autoscaling/v2", "status": {"conditions": conditions}});
        assert_eq!(
            horizontal_pod_autoscaler(&live),
            HealthAssessment::new(Health::Degraded, "no metrics")
        );
    }

    #[test]
    fn v1_reads_the_annotation_and_reports_bad_json() {
        let live = json!({"apiVersion": "autoscaling/v1", "metadata": {"annotations": {
            V1_CONDITIONS_ANNOTATION: "[{\"type\":\"AbleToScale\",\"status\":\"True\"}]"}}});
        assert_eq!(horizontal_pod_autoscaler(&live).status, Health::Healthy);
        let broken = json!({"apiVersion": "autoscaling/v1", "metadata": {"annotations": {
            V1_CONDITIONS_ANNOTATION: "[{"}}});
        assert_eq!(horizontal_pod_autoscaler(&broken).status, Health::Unknown);
        let empty = json!({"apiVersion": "autoscaling/v1", "metadata": {"annotations": {
            V1_CONDITIONS_ANNOTATION: "[]"}}});
        assert_eq!(
            horizontal_pod_autoscaler(&empty).status,
            Health::Progressing
        );
    }
}
