//! The `[engines]` table: which in-cluster engines' apps are shown, and
//! where driftdeck reads their sources (`[engines.sources]`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::ConfigError;
use crate::source::SourceLocation;

/// The config's `[engines]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnginesConfig {
    pub argocd: bool,
    pub flux: bool,
    /// Applications here are named `argocd/NAME`; elsewhere
    /// `argocd/NAMESPACE/NAME`.
    pub argocd_namespace: String,
    /// Whether driftdeck reads engine apps' sources to compare them itself
    /// (`[engines] read_sources`).
    pub read_sources: bool,
    /// `[engines.sources]`: repository URL as the engines write it → where
    /// driftdeck reads it (a local clone, or another URL).
    pub sources: BTreeMap<String, String>,
}

impl Default for EnginesConfig {
    fn default() -> Self {
        EnginesConfig {
            argocd: true,
            flux: true,
            argocd_namespace: "argocd".to_string(),
            read_sources: true,
            sources: Default::default(),
        }
    }
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEngines {
    argocd: Option<bool>,
    flux: Option<bool>,
    argocd_namespace: Option<Spanned<String>>,
    read_sources: Option<bool>,
    #[serde(default)]
    sources: BTreeMap<String, Spanned<String>>,
}

impl RawEngines {
    pub(super) fn check(self, file: &Path, text: &str) -> Result<EnginesConfig, ConfigError> {
        let mut engines = EnginesConfig::default();
        engines.argocd = self.argocd.unwrap_or(engines.argocd);
        engines.flux = self.flux.unwrap_or(engines.flux);
        engines.read_sources = self.read_sources.unwrap_or(engines.read_sources);
        if let Some(namespace) = self.argocd_namespace {
            let at = namespace.span().start;
            let namespace = namespace.into_inner();
            if !crate::names::is_dns1123_label(&namespace) {
                return Err(ConfigError::at(
                    file,
                    text,
                    at,
                    "engines.argocd_namespace must be a namespace name (lower-case letters, digits and '-')",
                ));
            }
            engines.argocd_namespace = namespace;
        }
        for (url, location) in self.sources {
            let at = location.span().start;
            let location = location.into_inner();
            // A location Git cannot use is an error now, as an app's `repo` is.
            SourceLocation::parse(&location).map_err(|err| {
                ConfigError::at(
                    file,
                    text,
                    at,
                    format!(
                        "engines.sources \"{}\": {err}",
                        crate::text::printable(&url)
                    ),
                )
            })?;
            engines.sources.insert(url, location);
        }
        Ok(engines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<EnginesConfig, ConfigError> {
        #[derive(Deserialize)]
        struct Top {
            engines: RawEngines,
        }
        let top: Top = toml::from_str(text).unwrap();
        top.engines.check(Path::new("config.toml"), text)
    }

    #[test]
    fn sources_map_engine_urls_to_locations_driftdeck_reads() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "[engines]\nread_sources = true\n[engines.sources]\n\"https://github.com/argoproj/argocd-example-apps.git\" = \"{}\"\n\"ssh://git@example.com/fleet\" = \"git://127.0.0.1:9418/fleet.git\"\n",
            dir.path().display()
        );
        let engines = check(&text).unwrap();
        assert!(engines.read_sources);
        assert_eq!(
            engines.sources["https://github.com/argoproj/argocd-example-apps.git"],
            dir.path().display().to_string()
        );
        assert_eq!(engines.sources.len(), 2);
        assert!(
            !check("[engines]\nread_sources = false\n")
                .unwrap()
                .read_sources
        );
    }

    #[test]
    fn a_mapping_git_cannot_use_is_an_error_at_its_line() {
        let text = "[engines]\nflux = true\n[engines.sources]\n\"https://example.com/a.git\" = \"ext::sh -c evil\"\n";
        let err = check(text).unwrap_err().to_string();
        assert!(err.starts_with("config.toml:4:"), "{err}");
        assert!(err.contains("https://example.com/a.git"), "{err}");
    }
}
