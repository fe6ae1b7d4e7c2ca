//! Every other kind: the `Ready` (or else `Available`) condition that most
//! controllers and operators report, with kstatus's `Stalled` and
//! `Reconciling`, and `observedGeneration` when the controller keeps it.

use serde_json::Value;

use super::{Health, HealthAssessment, at, condition, int, text};

pub(super) fn from_conditions(live: &Value) -> HealthAssessment {
    let holds = |kind: &str| condition(live, kind).filter(|c| text(c, "/status") == "True");
    if let Some(stalled) = holds("Stalled") {
        return HealthAssessment::new(Health::Degraded, text(stalled, "/message"));
    }
    if at(live, "/status/observedGeneration").is_some()
        && int(live, "/metadata/generation") > int(live, "/status/observedGeneration")
    {
        return HealthAssessment::new(
            Health::Progressing,
            "the controller has not observed the latest generation yet",
        );
    }
    if let Some(reconciling) = holds("Reconciling") {
        return HealthAssessment::new(Health::Progressing, text(reconciling, "/message"));
    }
    let Some(ready) = condition(live, "Ready").or_else(|| condition(live, "Available")) else {
        return HealthAssessment::new(Health::Healthy, "");
    };
    let message = text(ready, "/message");
    match text(ready, "/status") {
        "True" => HealthAssessment::new(Health::Healthy, message),
        "False" => HealthAssessment::new(Health::Degraded, message),
        _ => HealthAssessment::new(Health::Progressing, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with_conditions(conditions: Value) -> Value {
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "status": {"conditions": conditions}})
    }

    #[test]
    fn ready_condition_decides() {
        let ready = with_conditions(json!([{"type": "Ready", "status": "True", "message": "up"}]));
        assert_eq!(
            from_conditions(&ready),
            HealthAssessment::new(Health::Healthy, "up")
        );
        let failed =
            with_conditions(json!([{"type": "Ready", "status": "False", "message": "down"}]));
        assert_eq!(from_conditions(&failed).status, Health::Degraded);
        let unknown = with_conditions(json!([{"type": "Ready", "status": "Unknown"}]));
        assert_eq!(from_conditions(&unknown).status, Health::Progressing);
    }

    #[test]
    fn available_is_used_when_there_is_no_ready() {
        let live = with_conditions(json!([{"type": "Available", "status": "False"}]));
        assert_eq!(from_conditions(&live).status, Health::Degraded);
    }

    #[test]
    fn reconciling_and_stalled_override_ready() {
        let reconciling = with_conditions(json!([
            {"type": "Ready", "status": "False"}, {"type": "Reconciling", "status": "True"}]));
        assert_eq!(from_conditions(&reconciling).status, Health::Progressing);
        let stalled = with_conditions(json!([
            {"type": "Ready", "status": "True"}, {"type": "Stalled", "status": "True"}]));
        assert_eq!(from_conditions(&stalled).status, Health::Degraded);
    }

    #[test]
    fn unobserved_generation_is_progressing() {
        let live = json!({"metadata": {"generation": 2}, "status": {"observedGeneration": 1,
            "conditions": [{"type": "Ready", "status": "True"}]}});
        assert_eq!(from_conditions(&live).status, Health::Progressing);
    }
}
