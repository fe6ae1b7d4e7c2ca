//! PersistentVolumeClaims: healthy when bound.

use serde_json::Value;

use super::{Health, HealthAssessment, text};

pub(super) fn persistent_volume_claim(live: &Value) -> HealthAssessment {
    let phase = text(live, "/status/phase");
    let status = match phase {
        "Bound" => Health::Healthy,
        "Pending" => Health::Progressing,
        "Lost" => Health::Degraded,
        _ => Health::Unknown,
    };
    let message = if phase.is_empty() {
        "no phase reported".to_string()
    } else {
        format!("claim is {phase}")
    };
    HealthAssessment::new(status, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn claim_health_follows_its_phase() {
        let claim = |phase: &str| json!({"status": {"phase": phase}});
        assert_eq!(
            persistent_volume_claim(&claim("Bound")).status,
            Health::Healthy
        );
        assert_eq!(
            persistent_volume_claim(&claim("Pending")).status,
            Health::Progressing
        );
        assert_eq!(
            persistent_volume_claim(&claim("Lost")).status,
            Health::Degraded
        );
        assert_eq!(persistent_volume_claim(&json!({})).status, Health::Unknown);
    }
}
