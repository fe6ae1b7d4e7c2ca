//! One `[[app]]` of the config file: where an app's manifests live and
//! where they go, each field checked with errors at its line and column.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, HumanDuration, SyncPolicy, auto_sync, check_range, sync_policy};
use crate::source::SourceLocation;

/// Default interval between two polls of an app's Git source.
pub const DEFAULT_POLL: HumanDuration = HumanDuration(Duration::from_secs(60));
/// The range of `poll`: faster would hammer the remote, slower is not following.
pub const POLL_RANGE: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(86_400));

/// One unit of deployment: where its manifests live and where they go.
#[derive(Debug, Clone, PartialEq)]
pub struct AppConfig {
    pub name: String,
    /// A URL or a local path, as the config writes it.
    pub repo: String,
    /// `repo`, parsed once when the config is read.
    pub source: SourceLocation,
    /// The tracked branch; `None` means the repository's default (its HEAD).
    pub branch: Option<String>,
    /// The app's folder inside the repository, `"."` for the root.
    pub path: String,
    /// The kubeconfig context; `None` means the current one.
    pub context: Option<String>,
    /// The namespace for namespaced objects that name none.
    pub namespace: String,
    pub poll: HumanDuration,
    /// Helm values files, relative to the app's path.
    pub values: Vec<String>,
    /// Differences that are not drift.
    pub ignore: Vec<IgnoreRule>,
    /// How a sync of the app applies, prunes and waits; boxed, as apps
    /// travel in messages that should stay small.
    pub sync: Box<SyncPolicy>,
}

/// Fields to leave out of the comparison, for the objects the rule matches.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreRule {
    pub group: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    /// RFC 6901 JSON pointers, such as `/spec/replicas`.
    pub pointers: Vec<String>,
}

impl AppConfig {
    /// What a Git rollback needs to know of the app.
    pub fn rollback_app(&self, cache_dir: &Path) -> crate::source::RollbackApp {
        crate::source::RollbackApp {
            name: self.name.clone(),
            source: self.source.clone(),
            branch: self.branch.clone(),
            path: self.path.clone(),
            cache_dir: cache_dir.to_path_buf(),
        }
    }
}

/// An `[[app]]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApp {
    name: Spanned<String>,
    repo: Spanned<String>,
    branch: Option<String>,
    #[serde(default = "default_path")]
    path: String,
    context: Option<String>,
    #[serde(default = "default_namespace")]
    namespace: String,
    poll: Option<Spanned<HumanDuration>>,
    #[serde(default)]
    values: Vec<Spanned<String>>,
    #[serde(default)]
    ignore: Vec<IgnoreRule>,
    #[serde(default)]
    prune: bool,
    #[serde(default)]
    allow_empty: bool,
    #[serde(default)]
    prune_namespaces: bool,
    #[serde(default)]
    prune_crds: bool,
    #[serde(default)]
    force: bool,
    sync_concurrency: Option<Spanned<i64>>,
    health_timeout: Option<HumanDuration>,
    lease_namespace: Option<Spanned<String>>,
    rollback: Option<Spanned<String>>,
    #[serde(default)]
    auto_sync: bool,
    self_heal: Option<Spanned<bool>>,
    settle_delay: Option<Spanned<HumanDuration>>,
    self_heal_backoff: Option<Spanned<HumanDuration>>,
    require_signed: Option<Spanned<toml::Value>>,
}

fn default_path() -> String {
    ".".to_string()
}

fn default_namespace() -> String {
    "default".to_string()
}

impl RawApp {
    /// The app, checked; `names` holds the names of the apps before it.
    pub(super) fn check(
        self,
        file: &Path,
        text: &str,
        names: &mut BTreeSet<String>,
    ) -> Result<AppConfig, ConfigError> {
        let span = self.name.span();
        let invalid = |message: String| ConfigError::at(file, text, span.start, message);
        let name = self.name.into_inner();
        check_app_name(&name)
            .map_err(|why| invalid(format!("app \"{}\": {why}", crate::text::printable(&name))))?;
        if !names.insert(name.clone()) {
            return Err(invalid(format!("app \"{name}\" is defined twice")));
        }
        // A location Git cannot use (an unknown scheme, a remote helper
        // such as `ext::`) is a config error now, not a poll error later.
        let repo_at = self.repo.span().start;
        let repo = self.repo.into_inner();
        let source = SourceLocation::parse(&repo).map_err(|err| {
            ConfigError::at(file, text, repo_at, format!("app \"{name}\": {err}"))
        })?;
        let path = normalize_app_path(&self.path).map_err(|why| {
            invalid(format!(
                "app \"{name}\": path \"{}\" {why}",
                crate::text::printable(&self.path)
            ))
        })?;
        let poll = match self.poll {
            Some(poll) => {
                let at = poll.span().start;
                let poll = poll.into_inner();
                check_range(poll, POLL_RANGE).map_err(|why| {
                    ConfigError::at(file, text, at, format!("app \"{name}\": poll {why}"))
                })?;
                poll
            }
            None => DEFAULT_POLL,
        };
        let mut values = Vec::with_capacity(self.values.len());
        for value in self.values {
            let at = value.span().start;
            let value = value.into_inner();
            let normal = normalize_app_path(&value).map_err(|why| {
                let why = why.replace("the repository", "the app folder");
                ConfigError::at(
                    file,
                    text,
                    at,
                    format!(
                        "app \"{name}\": values file \"{}\" {why}",
                        crate::text::printable(&value)
                    ),
                )
            })?;
            values.push(normal);
        }
        for rule in &self.ignore {
            if let Some(bad) = rule.pointers.iter().find(|p| !p.starts_with('/')) {
                return Err(invalid(format!(
                    "app \"{name}\": ignore pointer \"{bad}\" must start with \"/\", as in \"/spec/replicas\""
                )));
            }
        }
        let sync = sync_policy::RawSyncPolicy {
            prune: self.prune,
            allow_empty: self.allow_empty,
            prune_namespaces: self.prune_namespaces,
            prune_crds: self.prune_crds,
            force: self.force,
            sync_concurrency: self.sync_concurrency,
            health_timeout: self.health_timeout,
            lease_namespace: self.lease_namespace,
            rollback: self.rollback,
            auto: auto_sync::RawAutoSync {
                auto_sync: self.auto_sync,
                self_heal: self.self_heal,
                settle_delay: self.settle_delay,
                self_heal_backoff: self.self_heal_backoff,
                require_signed: self.require_signed,
            },
        }
        .check()
        .map_err(|(offset, why)| {
            ConfigError::at(file, text, offset, format!("app \"{name}\": {why}"))
        })?;
        Ok(AppConfig {
            name,
            repo,
            source,
            branch: self.branch,
            path,
            context: self.context,
            namespace: self.namespace,
            poll,
            values,
            ignore: self.ignore,
            sync: Box::new(sync),
        })
    }
}

/// App names become label values and parts of file names: a DNS-1123 label.
fn check_app_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || name.len() > 63 {
        return Err("the name must have 1 to 63 characters");
    }
    if crate::names::is_dns1123_label(name) {
        Ok(())
    } else {
        Err(
            "the name may hold only lower-case letters, digits and '-', and must start and end with a letter or digit",
        )
    }
}

/// An app path (or a file in it) is relative to the repository root (or the
/// app's folder) and stays inside it.
fn normalize_app_path(path: &str) -> Result<String, &'static str> {
    if path.chars().any(char::is_control) {
        return Err("holds a control character");
    }
    if Path::new(path).is_absolute() {
        return Err("must be relative to the repository root");
    }
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.contains(&"..") {
        return Err("must stay inside the repository (no \"..\")");
    }
    if parts.is_empty() {
        Ok(".".to_string())
    } else {
        Ok(parts.join("/"))
    }
}

#[cfg(test)]
mod tests {
    use crate::config::test_support::parse;

    #[test]
    fn missing_required_field_is_an_error() {
        let err = parse("[[app]]\nname = \"a\"\n").unwrap_err();
        assert!(err.contains("missing field \"repo\""), "{err}");
    }

    #[test]
    fn duplicate_app_names_are_an_error() {
        let text = "[[app]]\nname = \"a\"\nrepo = \"r\"\n[[app]]\nname = \"a\"\nrepo = \"s\"\n";
        assert_eq!(
            parse(text).unwrap_err(),
            "config.toml:5:8: app \"a\" is defined twice"
        );
    }

    #[test]
    fn app_names_must_be_labels() {
        let err = parse("[[app]]\nname = \"Guest_Book\"\nrepo = \"r\"\n").unwrap_err();
        assert!(
            err.starts_with("config.toml:2:8: app \"Guest_Book\": the name may hold only"),
            "{err}"
        );
    }

    #[test]
    fn app_paths_stay_inside_the_repository() {
        let err = parse("[[app]]\nname = \"a\"\nrepo = \"r\"\npath = \"../x\"\n").unwrap_err();
        assert!(err.contains("must stay inside the repository"), "{err}");
        let err = parse("[[app]]\nname = \"a\"\nrepo = \"r\"\npath = \"/etc\"\n").unwrap_err();
        assert!(err.contains("must be relative"), "{err}");
    }

    #[test]
    fn a_repo_git_cannot_use_is_an_error_at_its_line() {
        for (repo, why) in [
            ("ftp://x/y", "only https://"),
            ("ext::sh -c evil", "only https://"),
            ("  ", "the location is empty"),
        ] {
            let text = format!("[[app]]\nname = \"a\"\n\nrepo = \"{repo}\"\n");
            let err = parse(&text).unwrap_err();
            let expected = format!("config.toml:4:8: app \"a\": repository \"{repo}\": ");
            assert!(err.starts_with(&expected), "{err}");
            assert!(err.contains(why), "{err}");
        }
        let err =
            parse("[[app]]\nname = \"a\"\nrepo = \"https://alice:s3cret@[::1/x\"\n").unwrap_err();
        assert!(err.starts_with("config.toml:3:8: app \"a\": "), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[test]
    fn a_poll_out_of_range_is_refused_at_its_line() {
        let text = "[[app]]\nname = \"a\"\nrepo = \"r\"\npoll = \"18446744073709551615s\"\n";
        assert_eq!(
            parse(text).unwrap_err(),
            "config.toml:4:8: app \"a\": poll must be at most 24h"
        );
        let text = "[[app]]\nname = \"a\"\nrepo = \"r\"\npoll = \"10ms\"\n";
        assert_eq!(
            parse(text).unwrap_err(),
            "config.toml:4:8: app \"a\": poll must be at least 1s"
        );
        let text = "[[app]]\nname = \"a\"\nrepo = \"r\"\npoll = \"24h\"\n";
        assert_eq!(parse(text).unwrap().apps[0].poll.0.as_secs(), 86_400);
    }

    #[test]
    fn values_files_stay_inside_the_app_folder() {
        let text = "[[app]]\nname = \"a\"\nrepo = \"r\"\nvalues = [\"ok.yaml\", \"../../../../etc/passwd\"]\n";
        let err = parse(text).unwrap_err();
        assert!(
            err.starts_with("config.toml:4:22: app \"a\": values file \"../../../../etc/passwd\" must stay inside the app folder"),
            "{err}"
        );
        let text = "[[app]]\nname = \"a\"\nrepo = \"r\"\nvalues = [\"/etc/passwd\"]\n";
        assert!(parse(text).unwrap_err().contains("must be relative"));
        let text = "[[app]]\nname = \"a\"\nrepo = \"r\"\nvalues = [\"./prod/values.yaml\"]\n";
        assert_eq!(
            parse(text).unwrap().apps[0].values,
            vec!["prod/values.yaml"]
        );
    }

    #[test]
    fn control_characters_are_refused_and_shown_escaped_on_one_line() {
        let text = "[[app]]\nname = \"a\"\nrepo = \"r\"\npath = \"apps/\\u0000x\"\n";
        let err = parse(text).unwrap_err();
        assert_eq!(
            err,
            "config.toml:2:8: app \"a\": path \"apps/\\u{0}x\" holds a control character"
        );
        let text = "[[app]]\nname = \"a\\nb\"\nrepo = \"r\"\n";
        let err = parse(text).unwrap_err();
        assert!(!err.contains('\n'), "{err}");
        assert!(err.starts_with("config.toml:2:8: app \"a\\nb\": "), "{err}");
    }

    #[test]
    fn ignore_pointers_must_be_json_pointers() {
        let text =
            "[[app]]\nname = \"a\"\nrepo = \"r\"\n[[app.ignore]]\npointers = [\"spec.replicas\"]\n";
        assert!(parse(text).unwrap_err().contains("must start with \"/\""));
    }
}
