//! An app's sync policy (prune, force, concurrency, the Lease's namespace,
//! how long to wait for health) and the `[drift]` table, checked with the
//! place of every mistake.

use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::HumanDuration;
use super::auto_sync::{AutoSyncPolicy, RawAutoSync, SignatureRequirement};
use crate::source::RollbackMode;

/// Objects applied at once within a sync wave, unless the app says otherwise.
pub const DEFAULT_SYNC_CONCURRENCY: usize = 8;
/// How long a sync waits for the app to become healthy, unless the app says otherwise.
pub const DEFAULT_HEALTH_TIMEOUT: HumanDuration = HumanDuration(Duration::from_secs(300));
/// More objects in flight than this only queue up at the API server.
const MAX_SYNC_CONCURRENCY: i64 = 64;

/// How a sync of one app goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncPolicy {
    /// Delete the app's objects that are gone from Git.
    pub prune: bool,
    /// Allow a sync (and its prunes) when Git renders no object at all.
    pub allow_empty: bool,
    /// Prune Namespaces too: deleting one deletes everything in it.
    pub prune_namespaces: bool,
    /// Prune CustomResourceDefinitions too: deleting one deletes every object of its kind.
    pub prune_crds: bool,
    /// Take over fields other field managers own instead of refusing.
    pub force: bool,
    /// Objects applied at once within a sync wave.
    pub concurrency: usize,
    pub health_timeout: HumanDuration,
    /// Where the sync Lease lives; `None`: the app's namespace.
    pub lease_namespace: Option<String>,
    /// Where `rollback --git` puts its commit: the branch, or a new branch
    /// for a merge request (`rollback = "merge-request"`).
    pub rollback: RollbackMode,
    /// Whether and when driftdeck syncs the app by itself.
    pub auto: AutoSyncPolicy,
    /// Which signature a commit needs to be deployed.
    pub require_signed: SignatureRequirement,
}

impl Default for SyncPolicy {
    fn default() -> Self {
        SyncPolicy {
            prune: false,
            allow_empty: false,
            prune_namespaces: false,
            prune_crds: false,
            force: false,
            concurrency: DEFAULT_SYNC_CONCURRENCY,
            health_timeout: DEFAULT_HEALTH_TIMEOUT,
            lease_namespace: None,
            rollback: RollbackMode::OnBranch,
            auto: AutoSyncPolicy::default(),
            require_signed: SignatureRequirement::None,
        }
    }
}

/// The `[drift]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriftConfig {
    /// Field managers whose fields are changes by hand, beyond the built-in ones.
    pub manual_managers: Vec<String>,
}

/// The sync fields of an `[[app]]` as written.
pub(super) struct RawSyncPolicy {
    pub prune: bool,
    pub allow_empty: bool,
    pub prune_namespaces: bool,
    pub prune_crds: bool,
    pub force: bool,
    pub sync_concurrency: Option<Spanned<i64>>,
    pub health_timeout: Option<HumanDuration>,
    pub lease_namespace: Option<Spanned<String>>,
    pub rollback: Option<Spanned<String>>,
    pub auto: RawAutoSync,
}

impl RawSyncPolicy {
    /// The policy, or the byte offset of the mistake and what it is.
    pub(super) fn check(self) -> Result<SyncPolicy, (usize, String)> {
        let concurrency = match self.sync_concurrency {
            None => DEFAULT_SYNC_CONCURRENCY,
            Some(value) => {
                let at = value.span().start;
                let n = value.into_inner();
                usize::try_from(n)
                    .ok()
                    .filter(|n| (1..=MAX_SYNC_CONCURRENCY as usize).contains(n))
                    .ok_or_else(|| {
                        (
                            at,
                            format!(
                                "sync_concurrency must be between 1 and {MAX_SYNC_CONCURRENCY}, got {n}"
                            ),
                        )
                    })?
            }
        };
        let health_timeout = self.health_timeout.unwrap_or(DEFAULT_HEALTH_TIMEOUT);
        let lease_namespace = match self.lease_namespace {
            None => None,
            Some(value) => {
                let at = value.span().start;
                let namespace = value.into_inner();
                if !crate::names::is_dns1123_label(&namespace) {
                    return Err((
                        at,
                        format!(
                            "lease_namespace \"{namespace}\" is not a namespace name (lower-case letters, digits and '-')"
                        ),
                    ));
                }
                Some(namespace)
            }
        };
        let rollback = match self.rollback {
            None => RollbackMode::OnBranch,
            Some(value) => match value.get_ref().as_str() {
                "branch" => RollbackMode::OnBranch,
                "merge-request" => RollbackMode::MergeRequest,
                other => {
                    return Err((
                        value.span().start,
                        format!(
                            "rollback \"{}\" is not \"branch\" or \"merge-request\"",
                            crate::text::printable(other)
                        ),
                    ));
                }
            },
        };
        let (auto, require_signed) = self.auto.check()?;
        Ok(SyncPolicy {
            prune: self.prune,
            allow_empty: self.allow_empty,
            prune_namespaces: self.prune_namespaces,
            prune_crds: self.prune_crds,
            force: self.force,
            concurrency,
            health_timeout,
            lease_namespace,
            rollback,
            auto,
            require_signed,
        })
    }
}

/// `[drift]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDrift {
    #[serde(default)]
    manual_managers: Vec<Spanned<String>>,
}

impl RawDrift {
    pub(super) fn check(self) -> Result<DriftConfig, (usize, String)> {
        let mut manual_managers = Vec::with_capacity(self.manual_managers.len());
        for manager in self.manual_managers {
            let span: Range<usize> = manager.span();
            let name = manager.into_inner();
            if name.trim().is_empty() {
                return Err((
                    span.start,
                    "drift.manual_managers: a field manager name cannot be empty".to_string(),
                ));
            }
            manual_managers.push(name);
        }
        Ok(DriftConfig { manual_managers })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::test_support::{APP, parse};
    use crate::config::{DEFAULT_HEALTH_TIMEOUT, DEFAULT_SYNC_CONCURRENCY};

    #[test]
    fn sync_policy_defaults_to_no_prune_and_eight_at_once() {
        let config = parse(APP).unwrap();
        let sync = &config.apps[0].sync;
        assert!(!sync.prune && !sync.allow_empty && !sync.force);
        assert!(!sync.prune_namespaces && !sync.prune_crds);
        assert_eq!(sync.concurrency, DEFAULT_SYNC_CONCURRENCY);
        assert_eq!(sync.health_timeout, DEFAULT_HEALTH_TIMEOUT);
        assert_eq!(sync.lease_namespace, None);
        assert!(config.drift.manual_managers.is_empty());
    }

    #[test]
    fn sync_policy_reads_every_field() {
        let text = format!(
            "{APP}prune = true\nallow_empty = true\nprune_namespaces = true\nprune_crds = true\nforce = true\nsync_concurrency = 3\nhealth_timeout = \"90s\"\nlease_namespace = \"locks\"\n[drift]\nmanual_managers = [\"lens\"]\n"
        );
        let config = parse(&text).unwrap();
        let sync = &config.apps[0].sync;
        assert!(sync.prune && sync.allow_empty && sync.force);
        assert!(sync.prune_namespaces && sync.prune_crds);
        assert_eq!(sync.concurrency, 3);
        assert_eq!(sync.health_timeout.0.as_secs(), 90);
        assert_eq!(sync.lease_namespace.as_deref(), Some("locks"));
        assert_eq!(config.drift.manual_managers, vec!["lens"]);
    }

    #[test]
    fn sync_concurrency_out_of_range_points_at_its_line() {
        let err = parse(&format!("{APP}sync_concurrency = 0\n")).unwrap_err();
        assert_eq!(
            err,
            "config.toml:4:20: app \"a\": sync_concurrency must be between 1 and 64, got 0"
        );
        assert!(parse(&format!("{APP}sync_concurrency = 500\n")).is_err());
    }

    #[test]
    fn rollback_goes_on_the_branch_unless_the_app_asks_for_merge_requests() {
        assert_eq!(
            parse(APP).unwrap().apps[0].sync.rollback,
            crate::source::RollbackMode::OnBranch
        );
        let config = parse(&format!("{APP}rollback = \"merge-request\"\n")).unwrap();
        assert_eq!(
            config.apps[0].sync.rollback,
            crate::source::RollbackMode::MergeRequest
        );
        let err = parse(&format!("{APP}rollback = \"pr\"\n")).unwrap_err();
        assert_eq!(
            err,
            "config.toml:4:12: app \"a\": rollback \"pr\" is not \"branch\" or \"merge-request\""
        );
    }

    #[test]
    fn lease_namespace_must_be_a_namespace_name() {
        let err = parse(&format!("{APP}lease_namespace = \"Locks!\"\n")).unwrap_err();
        assert!(
            err.starts_with("config.toml:4:19: app \"a\": lease_namespace \"Locks!\""),
            "{err}"
        );
    }

    #[test]
    fn bad_health_timeout_and_empty_manager_are_errors_at_their_line() {
        let err = parse(&format!("{APP}health_timeout = \"later\"\n")).unwrap_err();
        assert!(
            err.starts_with("config.toml:4:18: invalid duration"),
            "{err}"
        );
        let err = parse("[drift]\nmanual_managers = [\"k9s\", \"\"]\n").unwrap_err();
        assert_eq!(
            err,
            "config.toml:2:27: drift.manual_managers: a field manager name cannot be empty"
        );
        let err = parse("[drift]\nmanagers = []\n").unwrap_err();
        assert!(
            err.starts_with("config.toml:2:1: unknown field \"managers\""),
            "{err}"
        );
    }
}
