//! What `/` narrows a list to: words that must all match, each a substring
//! without regard to case, either anywhere (kind, namespace, name) or in
//! one field when prefixed `kind:`, `ns:`, `name:`, `status:` or `health:`;
//! apps also by `engine:` (`argocd`, `flux`, `native`).

use crate::drift::ResourceResult;
use crate::tui::app_state::AppState;

/// A parsed filter. Empty matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    terms: Vec<Term>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Any(String),
    Kind(String),
    Namespace(String),
    Name(String),
    Status(String),
    Health(String),
    Engine(String),
}

impl Query {
    pub fn parse(text: &str) -> Query {
        let terms = text
            .split_whitespace()
            .map(|word| {
                let lower = word.to_lowercase();
                match lower.split_once(':') {
                    Some(("kind", v)) => Term::Kind(v.to_string()),
                    Some(("ns" | "namespace", v)) => Term::Namespace(v.to_string()),
                    Some(("name", v)) => Term::Name(v.to_string()),
                    Some(("status", v)) => Term::Status(v.to_string()),
                    Some(("health", v)) => Term::Health(v.to_string()),
                    Some(("engine", v)) => Term::Engine(v.to_string()),
                    _ => Term::Any(lower),
                }
            })
            .collect();
        Query { terms }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    pub fn matches_resource(&self, resource: &ResourceResult) -> bool {
        let key = &resource.key;
        let namespace = key.namespace.as_deref().unwrap_or_default();
        self.terms.iter().all(|term| match term {
            Term::Any(v) => {
                contains(&key.name, v) || contains(&key.kind, v) || contains(namespace, v)
            }
            Term::Kind(v) => contains(&key.kind, v),
            Term::Namespace(v) => contains(namespace, v),
            Term::Name(v) => contains(&key.name, v),
            Term::Status(v) => contains(resource.status.word(), v),
            Term::Health(v) => contains(resource.health.status.word(), v),
            Term::Engine(_) => false,
        })
    }

    /// Apps have a name, a status, a health and an engine; a `kind:` or
    /// `ns:` word matches none.
    pub fn matches_app(&self, app: &AppState) -> bool {
        let summary = app.report.as_ref().map(|r| &r.summary);
        self.terms.iter().all(|term| match term {
            Term::Any(v) | Term::Name(v) => contains(&app.name, v),
            Term::Status(v) => summary.is_some_and(|s| contains(s.status.word(), v)),
            Term::Health(v) => summary.is_some_and(|s| contains(s.health.word(), v)),
            Term::Engine(v) => contains(crate::engines::engine_word(&app.name), v),
            Term::Kind(_) | Term::Namespace(_) => false,
        })
    }
}

/// Whether `needle` (lower case already) is in `haystack`, ignoring case;
/// without allocating for ASCII text, so a keystroke over thousands of
/// resources stays cheap.
pub fn contains(haystack: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    if haystack.is_ascii() && needle.is_ascii() {
        let (h, n) = (haystack.as_bytes(), needle.as_bytes());
        return h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n));
    }
    haystack.to_lowercase().contains(needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::test_support::guestbook_resources;

    fn names(query: &str) -> Vec<String> {
        let query = Query::parse(query);
        let mut names: Vec<String> = guestbook_resources()
            .iter()
            .filter(|r| query.matches_resource(r))
            .map(|r| format!("{}/{}", r.key.kind, r.key.name))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn plain_words_match_kind_namespace_or_name_ignoring_case() {
        assert_eq!(names("FRONT"), ["Deployment/frontend", "Service/frontend"]);
        assert_eq!(names("secret"), ["Secret/db"]);
        assert_eq!(names("guestbook").len(), 6);
        assert_eq!(names("").len(), 6);
        assert!(names("nothing-like-it").is_empty());
    }

    #[test]
    fn prefixes_narrow_to_one_field_and_words_all_apply() {
        assert_eq!(names("kind:deployment"), ["Deployment/frontend"]);
        assert_eq!(
            names("status:outofsync"),
            ["Deployment/frontend", "Secret/db"]
        );
        assert_eq!(names("status:OutOfSync front"), ["Deployment/frontend"]);
        assert_eq!(names("ns:guestbook kind:Namespace"), Vec::<String>::new());
        assert_eq!(names("kind:namespace"), ["Namespace/guestbook"]);
        assert_eq!(names("health:missing"), ["PersistentVolumeClaim/data"]);
    }

    #[test]
    fn case_is_ignored_beyond_ascii_too() {
        assert!(contains("Überweisung", "über"));
        assert!(!contains("abc", "abcd"));
    }

    #[test]
    fn engine_words_narrow_apps_to_argocd_flux_or_native() {
        let apps = [
            "guestbook",
            "argocd/web",
            "flux/flux-system/apps",
            "helm/podinfo/podinfo",
        ]
        .map(AppState::new);
        let matching = |query: &str| -> Vec<&str> {
            let query = Query::parse(query);
            apps.iter()
                .filter(|a| query.matches_app(a))
                .map(|a| a.name.as_str())
                .collect()
        };
        assert_eq!(matching("engine:argocd"), ["argocd/web"]);
        assert_eq!(
            matching("engine:FLUX"),
            ["flux/flux-system/apps", "helm/podinfo/podinfo"]
        );
        assert_eq!(matching("engine:native"), ["guestbook"]);
        assert_eq!(matching("engine:flux podinfo"), ["helm/podinfo/podinfo"]);
        assert!(
            names("engine:argocd").is_empty(),
            "resources have no engine"
        );
    }
}
