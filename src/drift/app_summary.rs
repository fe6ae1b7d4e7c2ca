//! An app's verdict from its resources': status, worst health, deployed
//! revision, counts by status and, when it is not Synced, why.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::health::Health;
use super::resource_result::{ResourceResult, ResourceStatus};

/// Whether an app matches Git.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AppStatus {
    /// Every resource is Synced.
    Synced,
    /// At least one resource is OutOfSync, Missing or Extra.
    OutOfSync,
    /// Nothing differs that is known, but some live state could not be read.
    Unknown,
}

impl AppStatus {
    /// The state's word, as the screen shows it and the filter matches it.
    pub fn word(self) -> &'static str {
        match self {
            AppStatus::Synced => "Synced",
            AppStatus::OutOfSync => "OutOfSync",
            AppStatus::Unknown => "Unknown",
        }
    }
}

impl fmt::Display for AppStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// How many resources are in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCounts {
    #[serde(rename = "Synced")]
    pub synced: usize,
    #[serde(rename = "OutOfSync")]
    pub out_of_sync: usize,
    #[serde(rename = "Missing")]
    pub missing: usize,
    #[serde(rename = "Extra")]
    pub extra: usize,
    #[serde(rename = "Unknown")]
    pub unknown: usize,
}

/// The verdict on one app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppSummary {
    pub status: AppStatus,
    /// The worst health of its resources; Healthy for an app with none.
    pub health: Health,
    /// The revision most live objects were applied from.
    pub revision: Option<String>,
    pub counts: StatusCounts,
    /// One line on why the app is not Synced; `None` when it is.
    pub reason: Option<String>,
}

/// How many resources a reason names before it says "and N more".
const RESOURCES_IN_REASON: usize = 3;

/// Sums up an app's resources.
pub fn summarize(resources: &[ResourceResult]) -> AppSummary {
    let mut counts = StatusCounts::default();
    for resource in resources {
        let slot = match resource.status {
            ResourceStatus::Synced => &mut counts.synced,
            ResourceStatus::OutOfSync => &mut counts.out_of_sync,
            ResourceStatus::Missing => &mut counts.missing,
            ResourceStatus::Extra => &mut counts.extra,
            ResourceStatus::Unknown => &mut counts.unknown,
        };
        *slot += 1;
    }
    let differing = counts.out_of_sync + counts.missing + counts.extra;
    let status = if differing > 0 {
        AppStatus::OutOfSync
    } else if counts.unknown > 0 {
        AppStatus::Unknown
    } else {
        AppStatus::Synced
    };
    let health = resources
        .iter()
        .map(|r| r.health.status)
        .max()
        .unwrap_or(Health::Healthy);
    let reason = match status {
        AppStatus::Synced => None,
        AppStatus::OutOfSync => Some(reason_line(
            resources,
            |s| s != ResourceStatus::Synced && s != ResourceStatus::Unknown,
            differing,
            "differ",
        )),
        AppStatus::Unknown => Some(reason_line(
            resources,
            |s| s == ResourceStatus::Unknown,
            counts.unknown,
            "could not be read",
        )),
    };
    AppSummary {
        status,
        health,
        revision: deployed_revision(resources),
        counts,
        reason,
    }
}

/// `2 of 5 resources differ: Deployment shop/web: spec.replicas changed; ConfigMap shop/a: missing`.
fn reason_line(
    resources: &[ResourceResult],
    counts: impl Fn(ResourceStatus) -> bool,
    how_many: usize,
    what: &str,
) -> String {
    let named: Vec<String> = resources
        .iter()
        .filter(|r| counts(r.status))
        .take(RESOURCES_IN_REASON)
        .map(|r| {
            let why = match r.status {
                ResourceStatus::OutOfSync | ResourceStatus::Unknown => {
                    r.reason.clone().unwrap_or_default()
                }
                other => other.to_string().to_lowercase(),
            };
            format!("{}: {why}", r.key)
        })
        .collect();
    let more = match how_many.saturating_sub(RESOURCES_IN_REASON) {
        0 => String::new(),
        more => format!("; and {more} more"),
    };
    format!(
        "{how_many} of {} resources {what}: {}{more}",
        resources.len(),
        named.join("; ")
    )
}

/// The revision carried by the most live objects; the first seen wins a tie.
fn deployed_revision(resources: &[ResourceResult]) -> Option<String> {
    let mut tally: Vec<(&str, usize)> = Vec::new();
    for revision in resources.iter().filter_map(|r| r.revision.as_deref()) {
        match tally.iter_mut().find(|(r, _)| *r == revision) {
            Some((_, count)) => *count += 1,
            None => tally.push((revision, 1)),
        }
    }
    let best = tally.iter().map(|(_, count)| *count).max()?;
    tally
        .into_iter()
        .find(|(_, count)| *count == best)
        .map(|(revision, _)| revision.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::{HealthAssessment, ResourceKey};

    fn resource(
        name: &str,
        status: ResourceStatus,
        health: Health,
        revision: Option<&str>,
    ) -> ResourceResult {
        ResourceResult {
            key: ResourceKey {
                group: String::new(),
                kind: "ConfigMap".to_string(),
                namespace: Some("shop".to_string()),
                name: name.to_string(),
            },
            status,
            health: HealthAssessment::new(health, ""),
            revision: revision.map(str::to_string),
            reason: (status == ResourceStatus::OutOfSync).then(|| "data.a changed".to_string()),
            changes: Vec::new(),
            diff: String::new(),
        }
    }

    #[test]
    fn app_is_synced_and_healthy_when_every_resource_is() {
        let summary = summarize(&[
            resource("a", ResourceStatus::Synced, Health::Healthy, Some("c1")),
            resource("b", ResourceStatus::Synced, Health::Healthy, Some("c1")),
        ]);
        assert_eq!(summary.status, AppStatus::Synced);
        assert_eq!(summary.health, Health::Healthy);
        assert_eq!(summary.revision.as_deref(), Some("c1"));
        assert_eq!(summary.reason, None);
        assert_eq!(summary.counts.synced, 2);
        assert_eq!(summarize(&[]).status, AppStatus::Synced);
    }

    #[test]
    fn app_out_of_sync_says_why_and_takes_the_worst_health() {
        let summary = summarize(&[
            resource("a", ResourceStatus::Synced, Health::Suspended, Some("c1")),
            resource(
                "b",
                ResourceStatus::OutOfSync,
                Health::Progressing,
                Some("c2"),
            ),
            resource("c", ResourceStatus::Missing, Health::Missing, None),
            resource("d", ResourceStatus::Extra, Health::Healthy, Some("c2")),
            resource("e", ResourceStatus::Unknown, Health::Unknown, None),
            resource("f", ResourceStatus::Missing, Health::Missing, None),
        ]);
        assert_eq!(summary.status, AppStatus::OutOfSync);
        assert_eq!(summary.health, Health::Unknown);
        assert_eq!(summary.revision.as_deref(), Some("c2"));
        assert_eq!(
            summary.counts,
            StatusCounts {
                synced: 1,
                out_of_sync: 1,
                missing: 2,
                extra: 1,
                unknown: 1
            }
        );
        assert_eq!(
            summary.reason.as_deref(),
            Some(
                "4 of 6 resources differ: ConfigMap shop/b: data.a changed; ConfigMap shop/c: missing; ConfigMap shop/d: extra; and 1 more"
            )
        );
    }

    #[test]
    fn app_is_unknown_when_nothing_differs_but_something_could_not_be_read() {
        let mut unreadable = resource("b", ResourceStatus::Unknown, Health::Unknown, None);
        unreadable.reason = Some("connection refused".to_string());
        let summary = summarize(&[
            resource("a", ResourceStatus::Synced, Health::Healthy, None),
            unreadable,
        ]);
        assert_eq!(summary.status, AppStatus::Unknown);
        assert_eq!(
            summary.reason.as_deref(),
            Some("1 of 2 resources could not be read: ConfigMap shop/b: connection refused")
        );
    }
}
