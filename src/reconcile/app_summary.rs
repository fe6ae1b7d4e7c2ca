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

impl fmt::Display for AppStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
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

/// `2 of 5 resources differ: Deployment shop/web (spec.replicas differs), ConfigMap shop/a (missing)`.
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
            format!("{} ({why})", r.key)
        })
        .collect();
    let more = how_many.saturating_sub(RESOURCES_IN_REASON);
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!(
        "{how_many} of {} resources {what}: {}{tail}",
        resources.len(),
        named.join(", ")
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
