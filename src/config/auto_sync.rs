//! An app's automatic syncing (`auto_sync`, `self_heal`, their delays) and
//! which commits may be deployed at all (`require_signed`), checked with
//! the place of every mistake.

use std::time::Duration;

use toml::Spanned;

use super::{HumanDuration, check_range};

/// How long drift (or a new commit) must stand before an automatic sync,
/// unless the app says otherwise: a burst of changes is corrected once.
pub const DEFAULT_SETTLE_DELAY: HumanDuration = HumanDuration(Duration::from_secs(5));
/// The least time between two self-heal syncs, unless the app says otherwise.
pub const DEFAULT_SELF_HEAL_BACKOFF: HumanDuration = HumanDuration(Duration::from_secs(60));
const SETTLE_DELAY_RANGE: (Duration, Duration) = (Duration::ZERO, Duration::from_secs(3600));
const SELF_HEAL_BACKOFF_RANGE: (Duration, Duration) =
    (Duration::from_secs(1), Duration::from_secs(86_400));

/// When driftdeck syncs an app by itself while it runs (the TUI, `watch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoSyncPolicy {
    /// Sync each new commit of the branch, once.
    pub auto_sync: bool,
    /// Also correct drift at an already synced revision.
    pub self_heal: bool,
    /// How long an app must stay OutOfSync before an automatic sync.
    pub settle_delay: Duration,
    /// The least time between two self-heal syncs; doubles while the drift
    /// keeps coming back.
    pub self_heal_backoff: Duration,
}

impl Default for AutoSyncPolicy {
    fn default() -> Self {
        AutoSyncPolicy {
            auto_sync: false,
            self_heal: false,
            settle_delay: DEFAULT_SETTLE_DELAY.0,
            self_heal_backoff: DEFAULT_SELF_HEAL_BACKOFF.0,
        }
    }
}

/// Which signatures a commit needs to be deployed (`require_signed`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SignatureRequirement {
    /// Any commit may be deployed.
    #[default]
    None,
    /// A good signature of any kind (`true`).
    Any,
    /// A good OpenPGP signature (`"gpg"`).
    Gpg,
    /// A good SSH signature (`"ssh"`).
    Ssh,
}

/// The fields of an `[[app]]` this module checks, as written.
pub(super) struct RawAutoSync {
    pub auto_sync: bool,
    pub self_heal: Option<Spanned<bool>>,
    pub settle_delay: Option<Spanned<HumanDuration>>,
    pub self_heal_backoff: Option<Spanned<HumanDuration>>,
    pub require_signed: Option<Spanned<toml::Value>>,
}

impl RawAutoSync {
    /// The policy and the requirement, or the byte offset of the mistake and what it is.
    pub(super) fn check(self) -> Result<(AutoSyncPolicy, SignatureRequirement), (usize, String)> {
        let self_heal = match self.self_heal {
            Some(flag) if *flag.get_ref() && !self.auto_sync => {
                return Err((
                    flag.span().start,
                    "self_heal = true needs auto_sync = true".to_string(),
                ));
            }
            Some(flag) => flag.into_inner(),
            None => false,
        };
        let duration = |value: Option<Spanned<HumanDuration>>,
                        name: &str,
                        default: HumanDuration,
                        (least, most): (Duration, Duration)| {
            let Some(value) = value else {
                return Ok(default.0);
            };
            let at = value.span().start;
            let duration = value.into_inner();
            check_range(duration, (least, most))
                .map(|()| duration.0)
                .map_err(|why| (at, format!("{name} {why}")))
        };
        let settle_delay = duration(
            self.settle_delay,
            "settle_delay",
            DEFAULT_SETTLE_DELAY,
            SETTLE_DELAY_RANGE,
        )?;
        let self_heal_backoff = duration(
            self.self_heal_backoff,
            "self_heal_backoff",
            DEFAULT_SELF_HEAL_BACKOFF,
            SELF_HEAL_BACKOFF_RANGE,
        )?;
        let require_signed = match self.require_signed {
            None => SignatureRequirement::None,
            Some(value) => {
                let at = value.span().start;
                match value.into_inner() {
                    toml::Value::Boolean(false) => SignatureRequirement::None,
                    toml::Value::Boolean(true) => SignatureRequirement::Any,
                    toml::Value::String(kind) if kind == "gpg" => SignatureRequirement::Gpg,
                    toml::Value::String(kind) if kind == "ssh" => SignatureRequirement::Ssh,
                    other => {
                        return Err((
                            at,
                            format!(
                                "require_signed must be true, false, \"gpg\" or \"ssh\", got {other}"
                            ),
                        ));
                    }
                }
            }
        };
        let policy = AutoSyncPolicy {
            auto_sync: self.auto_sync,
            self_heal,
            settle_delay,
            self_heal_backoff,
        };
        Ok((policy, require_signed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_support::{APP, parse};

    #[test]
    fn automatic_syncing_is_off_and_any_commit_deploys_by_default() {
        let config = parse(APP).unwrap();
        let sync = &config.apps[0].sync;
        assert_eq!(sync.auto, AutoSyncPolicy::default());
        assert_eq!(sync.auto.settle_delay, Duration::from_secs(5));
        assert_eq!(sync.auto.self_heal_backoff, Duration::from_secs(60));
        assert_eq!(sync.require_signed, SignatureRequirement::None);
    }

    #[test]
    fn every_field_is_read() {
        let text = format!(
            "{APP}auto_sync = true\nself_heal = true\nsettle_delay = \"2s\"\nself_heal_backoff = \"30s\"\nrequire_signed = \"ssh\"\n"
        );
        let config = parse(&text).unwrap();
        let sync = &config.apps[0].sync;
        assert!(sync.auto.auto_sync && sync.auto.self_heal);
        assert_eq!(sync.auto.settle_delay, Duration::from_secs(2));
        assert_eq!(sync.auto.self_heal_backoff, Duration::from_secs(30));
        assert_eq!(sync.require_signed, SignatureRequirement::Ssh);
        let gpg = parse(&format!("{APP}require_signed = \"gpg\"\n")).unwrap();
        assert_eq!(gpg.apps[0].sync.require_signed, SignatureRequirement::Gpg);
        let any = parse(&format!("{APP}require_signed = true\n")).unwrap();
        assert_eq!(any.apps[0].sync.require_signed, SignatureRequirement::Any);
    }

    #[test]
    fn mistakes_point_at_their_line() {
        let err = parse(&format!("{APP}self_heal = true\n")).unwrap_err();
        assert_eq!(
            err,
            "config.toml:4:13: app \"a\": self_heal = true needs auto_sync = true"
        );
        let err = parse(&format!("{APP}require_signed = \"x509\"\n")).unwrap_err();
        assert!(
            err.starts_with("config.toml:4:18: app \"a\": require_signed must be true, false, \"gpg\" or \"ssh\""),
            "{err}"
        );
        let err = parse(&format!(
            "{APP}auto_sync = true\nself_heal_backoff = \"10ms\"\n"
        ))
        .unwrap_err();
        assert_eq!(
            err,
            "config.toml:5:21: app \"a\": self_heal_backoff must be at least 1s"
        );
        let err = parse(&format!("{APP}settle_delay = \"2h\"\n")).unwrap_err();
        assert!(err.contains("settle_delay must be at most 1h"), "{err}");
    }
}
