//! API extensions: APIServices by their Available condition, CRDs by whether
//! they are established with accepted names and a structural schema.

use serde_json::Value;

use super::{Health, HealthAssessment, at, condition, condition_list, text};

pub(super) fn api_service(live: &Value) -> HealthAssessment {
    match condition(live, "Available") {
        Some(available) => {
            let message = format!(
                "{}: {}",
                text(available, "/reason"),
                text(available, "/message")
            );
            if text(available, "/status") == "True" {
                HealthAssessment::new(Health::Healthy, message)
            } else {
                HealthAssessment::new(Health::Progressing, message)
            }
        }
        None => HealthAssessment::new(Health::Progressing, "waiting to be processed"),
    }
}

pub(super) fn custom_resource_definition(live: &Value) -> HealthAssessment {
    let conditions = condition_list(at(live, "/status/conditions"));
    if conditions.is_empty() {
        return HealthAssessment::new(Health::Progressing, "no status conditions yet");
    }
    let with = |kind: &str, status: &str| {
        conditions
            .iter()
            .find(|c| text(c, "/type") == kind && text(c, "/status") == status)
            .map(|c| text(c, "/message"))
    };
    if let Some(message) = with("Terminating", "True") {
        return HealthAssessment::new(Health::Progressing, format!("terminating: {message}"));
    }
    if let Some(message) = with("NamesAccepted", "False") {
        return HealthAssessment::new(Health::Degraded, format!("names not accepted: {message}"));
    }
    if with("Established", "True").is_none() {
        return HealthAssessment::new(Health::Degraded, "not established");
    }
    if let Some(message) = with("NonStructuralSchema", "True") {
        return HealthAssessment::new(Health::Degraded, format!("schema violations: {message}"));
    }
    HealthAssessment::new(Health::Healthy, "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crd(conditions: Value) -> Value {
        json!({"status": {"conditions": conditions}})
    }

    #[test]
    fn crd_health_follows_its_conditions() {
        let established = json!({"type": "Established", "status": "True"});
        assert_eq!(
            custom_resource_definition(&crd(json!([established]))).status,
            Health::Healthy
        );
        assert_eq!(
            custom_resource_definition(&crd(json!([]))).status,
            Health::Progressing
        );
        let not_established = json!([{"type": "Established", "status": "False"}]);
        assert_eq!(
            custom_resource_definition(&crd(not_established)).status,
            Health::Degraded
        );
        let names =
            json!([{"type": "NamesAccepted", "status": "False", "message": "taken"}, established]);
        assert_eq!(
            custom_resource_definition(&crd(names)),
            HealthAssessment::new(Health::Degraded, "names not accepted: taken")
        );
        let violations =
            json!([{"type": "NonStructuralSchema", "status": "True", "message": "x"}, established]);
        assert_eq!(
            custom_resource_definition(&crd(violations)).status,
            Health::Degraded
        );
        let terminating = json!([{"type": "Terminating", "status": "True", "message": "bye"}]);
        assert_eq!(
            custom_resource_definition(&crd(terminating)).status,
            Health::Progressing
        );
    }
}
