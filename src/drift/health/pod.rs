//! Pods: waiting containers in an error state, the phase, and readiness.

use serde_json::Value;

use super::{Health, HealthAssessment, at, condition, condition_list, int, text};

pub(super) fn pod(live: &Value) -> HealthAssessment {
    let restart_policy = text(live, "/spec/restartPolicy");
    let message = text(live, "/status/message");
    let containers = condition_list(at(live, "/status/containerStatuses"));
    // Only for pods that restart forever: a hook pod (OnFailure, Never) that
    // waits on an image must not fail its sync early.
    if restart_policy == "Always" {
        let errors: Vec<&str> = containers
            .iter()
            .filter(|c| {
                let reason = text(c, "/state/waiting/reason");
                at(c, "/state/waiting").is_some_and(|w| w.is_object())
                    && (reason.starts_with("Err")
                        || reason.ends_with("Error")
                        || reason.ends_with("BackOff"))
            })
            .map(|c| text(c, "/state/waiting/message"))
            .collect();
        if !errors.is_empty() {
            return HealthAssessment::new(Health::Degraded, errors.join(", "));
        }
    }
    match text(live, "/status/phase") {
        "Pending" => HealthAssessment::new(Health::Progressing, message),
        "Succeeded" => HealthAssessment::new(Health::Healthy, message),
        "Failed" => HealthAssessment::new(Health::Degraded, failure_message(live)),
        "Running" => match restart_policy {
            "Always" => {
                let ready = condition(live, "Ready").is_some_and(|c| text(c, "/status") == "True");
                if ready {
                    HealthAssessment::new(Health::Healthy, message)
                } else if containers
                    .iter()
                    .any(|c| at(c, "/lastState/terminated").is_some_and(|t| t.is_object()))
                {
                    HealthAssessment::new(Health::Degraded, message)
                } else {
                    HealthAssessment::new(Health::Progressing, message)
                }
            }
            // Pods with a finite life are usually hooks: running is progress.
            "OnFailure" | "Never" => HealthAssessment::new(Health::Progressing, message),
            _ => HealthAssessment::new(Health::Unknown, message),
        },
        _ => HealthAssessment::new(Health::Unknown, message),
    }
}

/// The pod's own message, else the first container that says why it failed.
fn failure_message(live: &Value) -> String {
    let message = text(live, "/status/message");
    if !message.is_empty() {
        return message.to_string();
    }
    let init = condition_list(at(live, "/status/initContainerStatuses"));
    let main = condition_list(at(live, "/status/containerStatuses"));
    init.iter()
        .chain(main)
        .find_map(|container| {
            let terminated = at(container, "/state/terminated")?;
            let message = text(terminated, "/message");
            let reason = text(terminated, "/reason");
            let exit_code = int(terminated, "/exitCode");
            if !message.is_empty() {
                Some(message.to_string())
            } else if reason == "OOMKilled" {
                Some(reason.to_string())
            } else if exit_code != 0 {
                let name = text(container, "/name");
                Some(format!(
                    "container \"{name}\" failed with exit code {exit_code}"
                ))
            } else {
                None
            }
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn failed_pod_names_the_failed_container() {
        let live = json!({"spec": {"restartPolicy": "Never"}, "status": {"phase": "Failed",
            "containerStatuses": [{"name": "main", "state": {"terminated": {"exitCode": 3}}}]}});
        assert_eq!(
            pod(&live),
            HealthAssessment::new(
                Health::Degraded,
                "container \"main\" failed with exit code 3"
            )
        );
    }

    #[test]
    fn waiting_errors_matter_only_for_pods_that_restart_always() {
        let status = json!({"phase": "Pending", "containerStatuses": [
            {"name": "main", "state": {"waiting": {"reason": "ImagePullBackOff", "message": "no image"}}}]});
        let always = json!({"spec": {"restartPolicy": "Always"}, "status": status});
        assert_eq!(
            pod(&always),
            HealthAssessment::new(Health::Degraded, "no image")
        );
        let hook = json!({"spec": {"restartPolicy": "Never"}, "status": status});
        assert_eq!(pod(&hook).status, Health::Progressing);
    }

    #[test]
    fn running_pod_not_ready_after_a_crash_is_degraded() {
        let live = json!({"spec": {"restartPolicy": "Always"}, "status": {"phase": "Running",
            "conditions": [{"type": "Ready", "status": "False"}],
            "containerStatuses": [{"name": "main", "lastState": {"terminated": {"exitCode": 1}}}]}});
        assert_eq!(pod(&live).status, Health::Degraded);
    }

    #[test]
    fn unknown_phase_is_unknown() {
        let live = json!({"spec": {"restartPolicy": "Always"}, "status": {"phase": "Unknown"}});
        assert_eq!(pod(&live).status, Health::Unknown);
    }
}
