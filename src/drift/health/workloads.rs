//! Deployments, StatefulSets, DaemonSets and ReplicaSets: healthy once the
//! controller has observed the latest spec and the rollout is complete
//! (the rules of `kubectl rollout status`).

use serde_json::Value;

use super::{Health, HealthAssessment, at, condition, int, optional_int, text};

/// The controller has not caught up with the latest spec yet.
fn generation_not_observed(object: &Value) -> bool {
    int(object, "/metadata/generation") > int(object, "/status/observedGeneration")
}

fn waiting(message: String) -> HealthAssessment {
    HealthAssessment::new(Health::Progressing, message)
}

pub(super) fn deployment(live: &Value) -> HealthAssessment {
    if at(live, "/spec/paused") == Some(&Value::Bool(true)) {
        return HealthAssessment::new(Health::Suspended, "the Deployment is paused");
    }
    if generation_not_observed(live) {
        return waiting(
            "rollout: the controller has not observed the latest generation yet".into(),
        );
    }
    let updated = int(live, "/status/updatedReplicas");
    let replicas = int(live, "/status/replicas");
    let available = int(live, "/status/availableReplicas");
    if condition(live, "Progressing")
        .is_some_and(|c| text(c, "/reason") == "ProgressDeadlineExceeded")
    {
        let name = text(live, "/metadata/name");
        return HealthAssessment::new(
            Health::Degraded,
            format!("Deployment \"{name}\" exceeded its progress deadline"),
        );
    }
    if let Some(wanted) = optional_int(live, "/spec/replicas")
        && updated < wanted
    {
        return waiting(format!("rollout: {updated} of {wanted} replicas updated"));
    }
    if replicas > updated {
        let old = replicas - updated;
        return waiting(format!("rollout: {old} old replicas waiting to terminate"));
    }
    if available < updated {
        return waiting(format!(
            "rollout: {available} of {updated} updated replicas available"
        ));
    }
    HealthAssessment::new(Health::Healthy, "")
}

pub(super) fn stateful_set(live: &Value) -> HealthAssessment {
    if int(live, "/status/observedGeneration") == 0 || generation_not_observed(live) {
        return waiting(
            "rollout: the controller has not observed the latest generation yet".into(),
        );
    }
    let ready = int(live, "/status/readyReplicas");
    let updated = int(live, "/status/updatedReplicas");
    let wanted = optional_int(live, "/spec/replicas");
    if let Some(wanted) = wanted
        && ready < wanted
    {
        return waiting(format!("{} pods not ready yet", wanted - ready));
    }
    let strategy = text(live, "/spec/updateStrategy/type");
    let rolling_update = at(live, "/spec/updateStrategy/rollingUpdate").filter(|r| !r.is_null());
    if strategy == "RollingUpdate"
        && let Some(rolling_update) = rolling_update
    {
        if let (Some(wanted), Some(partition)) = (
            wanted,
            rolling_update.get("partition").and_then(Value::as_i64),
        ) && updated < wanted - partition
        {
            return waiting(format!(
                "partitioned rollout: {updated} of {} pods updated",
                wanted - partition
            ));
        }
        return HealthAssessment::new(
            Health::Healthy,
            format!("partitioned rollout complete: {updated} pods updated"),
        );
    }
    if strategy == "OnDelete" {
        return HealthAssessment::new(Health::Healthy, format!("{ready} pods ready"));
    }
    let update_revision = text(live, "/status/updateRevision");
    let current_revision = text(live, "/status/currentRevision");
    if update_revision != current_revision {
        return waiting(format!(
            "rolling update: {updated} pods at revision {update_revision}"
        ));
    }
    HealthAssessment::new(
        Health::Healthy,
        format!(
            "rolling update complete: {} pods at revision {current_revision}",
            int(live, "/status/currentReplicas")
        ),
    )
}

pub(super) fn daemon_set(live: &Value) -> HealthAssessment {
    if generation_not_observed(live) {
        return waiting(
            "rollout: the controller has not observed the latest generation yet".into(),
        );
    }
    let scheduled = int(live, "/status/desiredNumberScheduled");
    let updated = int(live, "/status/updatedNumberScheduled");
    let available = int(live, "/status/numberAvailable");
    if text(live, "/spec/updateStrategy/type") == "OnDelete" {
        return HealthAssessment::new(
            Health::Healthy,
            format!("{updated} of {scheduled} pods updated"),
        );
    }
    if updated < scheduled {
        return waiting(format!("rollout: {updated} of {scheduled} pods updated"));
    }
    if available < scheduled {
        return waiting(format!(
            "rollout: {available} of {scheduled} updated pods available"
        ));
    }
    HealthAssessment::new(Health::Healthy, "")
}

pub(super) fn replica_set(live: &Value) -> HealthAssessment {
    if generation_not_observed(live) {
        return waiting(
            "rollout: the controller has not observed the latest generation yet".into(),
        );
    }
    if let Some(failure) = condition(live, "ReplicaFailure")
        && text(failure, "/status") == "True"
    {
        return HealthAssessment::new(Health::Degraded, text(failure, "/message"));
    }
    let available = int(live, "/status/availableReplicas");
    if let Some(wanted) = optional_int(live, "/spec/replicas")
        && available < wanted
    {
        return waiting(format!(
            "rollout: {available} of {wanted} replicas available"
        ));
    }
    HealthAssessment::new(Health::Healthy, "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deployment_past_its_deadline_is_degraded() {
        let live = json!({"metadata": {"name": "web", "generation": 2},
            "spec": {"replicas": 1},
            "status": {"observedGeneration": 2, "conditions": [
                {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]}});
        let health = deployment(&live);
        assert_eq!(health.status, Health::Degraded);
        assert!(health.message.contains("\"web\""), "{}", health.message);
    }

    #[test]
    fn deployment_with_unobserved_generation_is_progressing() {
        let live = json!({"metadata": {"generation": 3}, "status": {"observedGeneration": 2}});
        assert_eq!(deployment(&live).status, Health::Progressing);
    }

    #[test]
    fn deployment_waits_for_old_replicas_and_availability() {
        let old = json!({"spec": {"replicas": 2},
            "status": {"replicas": 3, "updatedReplicas": 2, "availableReplicas": 2}});
        assert_eq!(deployment(&old).status, Health::Progressing);
        let unavailable = json!({"spec": {"replicas": 2},
            "status": {"replicas": 2, "updatedReplicas": 2, "availableReplicas": 1}});
        assert_eq!(deployment(&unavailable).status, Health::Progressing);
        let done = json!({"spec": {"replicas": 2},
            "status": {"replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}});
        assert_eq!(deployment(&done).status, Health::Healthy);
    }

    #[test]
    fn stateful_set_partition_and_revisions() {
        let partitioned = json!({"metadata": {"generation": 1}, "spec": {"replicas": 3,
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}},
            "status": {"observedGeneration": 1, "readyReplicas": 3, "updatedReplicas": 1}});
        assert_eq!(stateful_set(&partitioned).status, Health::Progressing);
        let rolling = json!({"metadata": {"generation": 1}, "spec": {"replicas": 1},
            "status": {"observedGeneration": 1, "readyReplicas": 1,
                "updateRevision": "b", "currentRevision": "a"}});
        assert_eq!(stateful_set(&rolling).status, Health::Progressing);
        let never_observed = json!({"spec": {"replicas": 0}, "status": {}});
        assert_eq!(stateful_set(&never_observed).status, Health::Progressing);
    }

    #[test]
    fn daemon_set_waits_for_updated_and_available_pods() {
        let rolling = json!({"status": {"desiredNumberScheduled": 3, "updatedNumberScheduled": 2}});
        assert_eq!(daemon_set(&rolling).status, Health::Progressing);
        let done = json!({"status": {"desiredNumberScheduled": 3, "updatedNumberScheduled": 3,
            "numberAvailable": 3}});
        assert_eq!(daemon_set(&done).status, Health::Healthy);
    }

    #[test]
    fn replica_set_failure_is_degraded() {
        let failed = json!({"spec": {"replicas": 1}, "status": {"conditions": [
            {"type": "ReplicaFailure", "status": "True", "message": "quota exceeded"}]}});
        assert_eq!(
            replica_set(&failed),
            HealthAssessment::new(Health::Degraded, "quota exceeded")
        );
        let short = json!({"spec": {"replicas": 2}, "status": {"availableReplicas": 1}});
        assert_eq!(replica_set(&short).status, Health::Progressing);
    }
}
