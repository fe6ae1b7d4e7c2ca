//! Jobs by their terminal conditions; CronJobs by their last runs.

use serde_json::Value;

use super::{Health, HealthAssessment, at, condition, int, text};

pub(super) fn job(live: &Value) -> HealthAssessment {
    // A condition counts while it holds; a resumed Job keeps a `Suspended`
    // condition with status False and is running again.
    let holds = |kind: &str| condition(live, kind).filter(|c| text(c, "/status") == "True");
    if let Some(failed) = holds("Failed") {
        return HealthAssessment::new(Health::Degraded, text(failed, "/message"));
    }
    if let Some(suspended) = holds("Suspended") {
        return HealthAssessment::new(Health::Suspended, text(suspended, "/message"));
    }
    if let Some(complete) = holds("Complete") {
        return HealthAssessment::new(Health::Healthy, text(complete, "/message"));
    }
    let active = int(live, "/status/active");
    HealthAssessment::new(Health::Progressing, format!("{active} pods active"))
}

pub(super) fn cron_job(live: &Value) -> HealthAssessment {
    if at(live, "/spec/suspend") == Some(&Value::Bool(true)) {
        return HealthAssessment::new(Health::Suspended, "the CronJob is suspended");
    }
    let Some(status) = live.get("status").filter(|s| s.is_object()) else {
        return HealthAssessment::new(Health::Progressing, "waiting for the CronJob controller");
    };
    let last_schedule = text(status, "/lastScheduleTime");
    if last_schedule.is_empty() {
        // Nothing in the status tells a missed run from one not due yet.
        return HealthAssessment::new(Health::Healthy, "not scheduled yet");
    }
    let last_success = text(status, "/lastSuccessfulTime");
    if last_success.is_empty() {
        return HealthAssessment::new(Health::Healthy, "no run has succeeded yet");
    }
    let running = status
        .get("active")
        .and_then(Value::as_array)
        .is_some_and(|jobs| !jobs.is_empty());
    if running {
        return HealthAssessment::new(Health::Healthy, "a job is running");
    }
    if is_before(last_success, last_schedule) {
        return HealthAssessment::new(Health::Degraded, "the last run did not succeed");
    }
    HealthAssessment::new(Health::Healthy, "the last run succeeded")
}

/// Compares two RFC 3339 times; text that does not parse compares as text.
fn is_before(a: &str, b: &str) -> bool {
    match (a.parse::<jiff::Timestamp>(), b.parse::<jiff::Timestamp>()) {
        (Ok(a), Ok(b)) => a < b,
        _ => a < b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resumed_job_is_running_again() {
        let live = json!({"status": {"active": 1, "conditions": [
            {"type": "Suspended", "status": "False"}]}});
        assert_eq!(job(&live).status, Health::Progressing);
    }

    #[test]
    fn cron_job_follows_its_last_runs() {
        let cron = |status: Value| json!({"spec": {"suspend": false}, "status": status});
        assert_eq!(cron_job(&json!({"spec": {}})).status, Health::Progressing);
        assert_eq!(cron_job(&cron(json!({}))).status, Health::Healthy);
        let failed = cron(json!({"lastScheduleTime": "2024-01-02T00:00:00Z",
            "lastSuccessfulTime": "2024-01-01T00:00:00Z"}));
        assert_eq!(cron_job(&failed).status, Health::Degraded);
        let succeeded = cron(json!({"lastScheduleTime": "2024-01-02T00:00:00Z",
            "lastSuccessfulTime": "2024-01-02T00:00:05Z"}));
        assert_eq!(cron_job(&succeeded).status, Health::Healthy);
        let running = cron(json!({"lastScheduleTime": "2024-01-02T00:00:00Z",
            "lastSuccessfulTime": "2024-01-01T00:00:00Z", "active": [{"name": "j"}]}));
        assert_eq!(cron_job(&running).status, Health::Healthy);
        let suspended = json!({"spec": {"suspend": true}});
        assert_eq!(cron_job(&suspended).status, Health::Suspended);
    }

    #[test]
    fn times_compare_as_instants() {
        assert!(is_before(
            "2024-01-01T23:00:00-02:00",
            "2024-01-02T02:00:00Z"
        ));
        assert!(!is_before(
            "2024-01-02T02:00:00+01:00",
            "2024-01-02T00:30:00Z"
        ));
    }
}
