//! Services and Ingresses: a load balancer counts once it has an address.

use serde_json::Value;

use super::{Health, HealthAssessment, at, text};

fn has_load_balancer_address(live: &Value) -> bool {
    at(live, "/status/loadBalancer/ingress")
        .and_then(Value::as_array)
        .is_some_and(|addresses| !addresses.is_empty())
}

pub(super) fn service(live: &Value) -> HealthAssessment {
    if text(live, "/spec/type") == "LoadBalancer" && !has_load_balancer_address(live) {
        return HealthAssessment::new(Health::Progressing, "waiting for a load balancer address");
    }
    HealthAssessment::new(Health::Healthy, "")
}

pub(super) fn ingress(live: &Value) -> HealthAssessment {
    if has_load_balancer_address(live) {
        HealthAssessment::new(Health::Healthy, "")
    } else {
        HealthAssessment::new(Health::Progressing, "waiting for a load balancer address")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn load_balancer_without_address_is_progressing() {
        let waiting = json!({"spec": {"type": "LoadBalancer"}, "status": {"loadBalancer": {}}});
        assert_eq!(service(&waiting).status, Health::Progressing);
        let ready = json!({"spec": {"type": "LoadBalancer"},
            "status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}]}}});
        assert_eq!(service(&ready).status, Health::Healthy);
        assert_eq!(
            service(&json!({"spec": {"type": "ClusterIP"}})).status,
            Health::Healthy
        );
        assert_eq!(ingress(&waiting).status, Health::Progressing);
        assert_eq!(ingress(&ready).status, Health::Healthy);
    }
}
