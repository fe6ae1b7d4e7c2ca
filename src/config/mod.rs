//! The config file: UI settings, app definitions and key bindings, typed and
//! checked before anything starts, with errors that point at file, line and column.

mod app;
mod auto_sync;
mod duration;
mod engines;
mod paths;
mod sync_policy;
mod work_tree;

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use app::RawApp;

pub use app::{AppConfig, DEFAULT_POLL, IgnoreRule, POLL_RANGE};
pub use auto_sync::{
    AutoSyncPolicy, DEFAULT_SELF_HEAL_BACKOFF, DEFAULT_SETTLE_DELAY, SignatureRequirement,
};
pub use duration::HumanDuration;
pub use engines::EnginesConfig;
pub use paths::{LOG_PREFIX, LOG_SUFFIX, PathError, Paths};
pub use sync_policy::{DEFAULT_HEALTH_TIMEOUT, DEFAULT_SYNC_CONCURRENCY, DriftConfig, SyncPolicy};
pub use work_tree::offer_work_tree_app;

/// The range of `[cluster] request_timeout`.
pub const REQUEST_TIMEOUT_RANGE: (Duration, Duration) =
    (Duration::from_secs(1), Duration::from_secs(600));

/// Everything the config file says, checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    /// The file it was read from; `None` when no file exists and defaults apply.
    pub file: Option<PathBuf>,
    pub ui: UiConfig,
    pub cluster: ClusterConfig,
    pub apps: Vec<AppConfig>,
    /// Key bindings that replace the defaults, sorted by action name (each keeps its line).
    pub keys: Vec<KeyBinding>,
    /// `[drift]`: what counts as drift beyond the built-in rules.
    pub drift: DriftConfig,
    /// `[engines]`: which in-cluster engines' apps are shown.
    pub engines: EnginesConfig,
}

/// Why an action that writes (sync, rollback, unpin, an engine's action)
/// is refused while `readonly` is on: the words the TUI and the commands show.
pub const READ_ONLY: &str = "driftdeck is read-only (--readonly or [ui] readonly = true)";

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiConfig {
    /// A built-in theme or a file in the config folder's `themes/`.
    pub theme: Option<String>,
    /// Hide every action that writes to a cluster or a repository.
    #[serde(default)]
    pub readonly: bool,
    /// The external diff viewer's command line (`DRIFTDECK_EXTERNAL_DIFF`
    /// wins over it), run with the live file and the desired file after it.
    pub diff_viewer: Option<String>,
}

/// How driftdeck talks to API servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterConfig {
    /// How long one request may wait for its answer.
    pub request_timeout: Duration,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            request_timeout: crate::cluster::DEFAULT_REQUEST_TIMEOUT,
        }
    }
}

/// `action = "key"` or `action = ["key", "key"]` in the `[keys]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyBinding {
    pub action: String,
    pub keys: Vec<String>,
    /// Where the binding is written, for error messages.
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: cannot read the config file: {source}", file.display())]
    Read { file: PathBuf, source: io::Error },
    #[error("{}:{line}:{column}: {message}", file.display())]
    Invalid {
        file: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}

impl ConfigError {
    /// An error at a byte offset of the file's text.
    fn at(file: &Path, text: &str, offset: usize, message: impl Into<String>) -> Self {
        let (line, column) = line_column(text, offset);
        ConfigError::Invalid {
            file: file.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

impl Config {
    /// Reads the config file. A missing file is an error only when `required`
    /// (the user named it with `--config` or `DRIFTDECK_CONFIG`).
    pub fn load(file: &Path, required: bool) -> Result<Config, ConfigError> {
        match std::fs::read_to_string(file) {
            Ok(text) => Config::parse(file, &text),
            Err(err) if err.kind() == io::ErrorKind::NotFound && !required => Ok(Config::default()),
            Err(source) => Err(ConfigError::Read {
                file: file.to_path_buf(),
                source,
            }),
        }
    }

    /// Parses and checks config text; `file` is only used in messages.
    pub fn parse(file: &Path, text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|err| {
            let offset = err.span().map_or(0, |span| span.start);
            ConfigError::at(file, text, offset, err.message().trim().replace('`', "\""))
        })?;
        let mut cluster = ClusterConfig::default();
        if let Some(timeout) = raw.cluster.request_timeout {
            let at = timeout.span().start;
            let timeout = timeout.into_inner();
            check_range(timeout, REQUEST_TIMEOUT_RANGE)
                .map_err(|why| ConfigError::at(file, text, at, format!("request_timeout {why}")))?;
            cluster.request_timeout = timeout.0;
        }
        let mut names = BTreeSet::new();
        let apps = raw
            .app
            .into_iter()
            .map(|app| app.check(file, text, &mut names))
            .collect::<Result<Vec<AppConfig>, ConfigError>>()?;
        let keys = raw
            .keys
            .into_iter()
            .map(|(action, keys)| {
                let (line, column) = line_column(text, keys.span().start);
                KeyBinding {
                    action,
                    keys: keys.into_inner().0,
                    line,
                    column,
                }
            })
            .collect();
        let drift = raw
            .drift
            .check()
            .map_err(|(offset, why)| ConfigError::at(file, text, offset, why))?;
        let engines = raw.engines.check(file, text)?;
        Ok(Config {
            file: Some(file.to_path_buf()),
            ui: raw.ui,
            cluster,
            apps,
            keys,
            drift,
            engines,
        })
    }

    pub fn app(&self, name: &str) -> Option<&AppConfig> {
        self.apps.iter().find(|app| app.name == name)
    }
}

/// `duration` within `(least, most)`, or why not: every bounded duration
/// of the config is checked here.
fn check_range(duration: HumanDuration, (least, most): (Duration, Duration)) -> Result<(), String> {
    if duration.0 < least {
        Err(format!("must be at least {}", HumanDuration(least)))
    } else if duration.0 > most {
        Err(format!("must be at most {}", HumanDuration(most)))
    } else {
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    ui: UiConfig,
    #[serde(default)]
    cluster: RawCluster,
    #[serde(default)]
    app: Vec<RawApp>,
    #[serde(default)]
    keys: std::collections::BTreeMap<String, Spanned<KeyList>>,
    #[serde(default)]
    drift: sync_policy::RawDrift,
    #[serde(default)]
    engines: engines::RawEngines,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCluster {
    request_timeout: Option<Spanned<HumanDuration>>,
}

/// One key or a list of keys.
struct KeyList(Vec<String>);

impl<'de> Deserialize<'de> for KeyList {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        match OneOrMany::deserialize(deserializer) {
            Ok(OneOrMany::One(key)) => Ok(KeyList(vec![key])),
            Ok(OneOrMany::Many(keys)) => Ok(KeyList(keys)),
            Err(_) => Err(serde::de::Error::custom(
                "a key binding is a key such as \"s\" or \"ctrl-r\", or a list of them",
            )),
        }
    }
}

/// What the config modules' tests share: a config parsed from text, and
/// the smallest app to add fields to.
#[cfg(test)]
pub(crate) mod test_support {
    use super::Config;
    use std::path::Path;

    /// The config in `text`, as `config.toml`; its error as text.
    pub fn parse(text: &str) -> Result<Config, String> {
        Config::parse(Path::new("config.toml"), text).map_err(|e| e.to_string())
    }

    pub const APP: &str = "[[app]]\nname = \"a\"\nrepo = \"r\"\n";
}

#[cfg(test)]
mod tests {
    use super::test_support::parse;
    use super::*;

    const FULL: &str = r#"
[ui]
theme = "light"
readonly = true

[[app]]
name = "guestbook"
repo = "https://example.com/org/deploy.git"
branch = "main"
path = "./apps/guestbook/"
context = "prod-eu"
namespace = "guestbook"
poll = "5m"
values = ["values-prod.yaml"]

[[app.ignore]]
kind = "Deployment"
pointers = ["/spec/replicas"]

[[app]]
name = "podinfo"
repo = "/srv/git/deploy"

[keys]
sync = "S"
quit = ["q", "ctrl-c"]
"#;

    #[test]
    fn the_external_diff_viewer_is_a_ui_setting() {
        let config = parse("[ui]\ndiff_viewer = \"delta --side-by-side\"\n").unwrap();
        assert_eq!(
            config.ui.diff_viewer.as_deref(),
            Some("delta --side-by-side")
        );
        assert_eq!(parse("").unwrap().ui.diff_viewer, None);
    }

    #[test]
    fn reads_a_full_config() {
        let config = parse(FULL).unwrap();
        assert_eq!(config.ui.theme.as_deref(), Some("light"));
        assert!(config.ui.readonly);
        assert_eq!(config.apps.len(), 2);
        let guestbook = &config.apps[0];
        assert_eq!(guestbook.path, "apps/guestbook");
        assert_eq!(guestbook.poll.0.as_secs(), 300);
        assert_eq!(guestbook.context.as_deref(), Some("prod-eu"));
        assert_eq!(guestbook.ignore[0].pointers, vec!["/spec/replicas"]);
        assert_eq!(guestbook.values, vec!["values-prod.yaml"]);
    }

    #[test]
    fn fills_in_defaults() {
        let config = parse(FULL).unwrap();
        let podinfo = config.app("podinfo").unwrap();
        assert_eq!(podinfo.path, ".");
        assert_eq!(podinfo.namespace, "default");
        assert_eq!(podinfo.branch, None);
        assert_eq!(podinfo.poll, DEFAULT_POLL);
        assert!(!parse("").unwrap().ui.readonly);
    }

    #[test]
    fn key_bindings_keep_their_line() {
        let config = parse(FULL).unwrap();
        let quit = config.keys.iter().find(|k| k.action == "quit").unwrap();
        assert_eq!(quit.keys, vec!["q", "ctrl-c"]);
        assert_eq!((quit.line, quit.column), (26, 8));
        let sync = config.keys.iter().find(|k| k.action == "sync").unwrap();
        assert_eq!(sync.keys, vec!["S"]);
    }

    #[test]
    fn unknown_field_names_line_column_and_choices() {
        let err = parse("[[app]]\nname = \"a\"\nrepo = \"r\"\nprun = true\n").unwrap_err();
        assert!(
            err.starts_with("config.toml:4:1: unknown field \"prun\", expected one of"),
            "{err}"
        );
        assert!(err.contains("\"poll\""), "{err}");
    }

    #[test]
    fn unknown_section_is_an_error() {
        let err = parse("[uii]\ntheme = \"x\"\n").unwrap_err();
        assert!(
            err.starts_with("config.toml:1:2: unknown field \"uii\""),
            "{err}"
        );
    }

    #[test]
    fn syntax_error_points_at_the_line() {
        let err = parse("[ui]\ntheme = \"dark\n").unwrap_err();
        assert!(err.starts_with("config.toml:2:"), "{err}");
    }

    #[test]
    fn wrong_type_is_an_error() {
        let err = parse("[ui]\nreadonly = \"yes\"\n").unwrap_err();
        assert!(err.starts_with("config.toml:2:12:"), "{err}");
        assert!(err.contains("bool"), "{err}");
    }

    #[test]
    fn bad_duration_is_an_error() {
        let err = parse("[[app]]\nname = \"a\"\nrepo = \"r\"\npoll = \"soon\"\n").unwrap_err();
        assert!(
            err.starts_with("config.toml:4:8: invalid duration \"soon\""),
            "{err}"
        );
    }

    #[test]
    fn the_request_timeout_is_read_and_kept_in_range() {
        assert_eq!(
            parse("").unwrap().cluster.request_timeout,
            Duration::from_secs(30)
        );
        let config = parse("[cluster]\nrequest_timeout = \"5s\"\n").unwrap();
        assert_eq!(config.cluster.request_timeout, Duration::from_secs(5));
        assert_eq!(
            parse("[cluster]\nrequest_timeout = \"1h\"\n").unwrap_err(),
            "config.toml:2:19: request_timeout must be at most 10m"
        );
    }

    #[test]
    fn key_binding_of_wrong_type_is_an_error() {
        let err = parse("[keys]\nsync = 5\n").unwrap_err();
        assert!(
            err.starts_with("config.toml:2:8: a key binding is"),
            "{err}"
        );
    }

    #[test]
    fn missing_optional_file_gives_defaults_and_required_one_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("none.toml");
        assert_eq!(Config::load(&file, false).unwrap(), Config::default());
        let err = Config::load(&file, true).unwrap_err().to_string();
        assert!(
            err.contains("none.toml: cannot read the config file"),
            "{err}"
        );
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("é\nx", 3), (2, 1));
        assert_eq!(line_column("", 10), (1, 1));
    }
}
