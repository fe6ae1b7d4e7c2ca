//! What is wrong with a desired state and where: errors block a sync,
//! warnings do not. Unresolved references are kept as data so the engine can
//! look for them in the live state before it shows them.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use super::desired::DesiredObject;
use super::file::{Origin, Renderer};
use super::identity::ObjectId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The revision cannot be synced.
    Error,
    /// Worth a look; does not block a sync.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One thing wrong with the desired state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    pub severity: Severity,
    /// The file (or, for rendered output, the folder or template) it is about.
    pub file: PathBuf,
    /// 1-based; `None` when the problem is about a whole file or folder.
    pub line: Option<usize>,
    /// Set when `line` counts lines of a renderer's output, not of `file`.
    pub rendered_by: Option<Renderer>,
    /// The object it is about, when there is one.
    pub object: Option<ObjectId>,
    pub message: String,
    /// For a reference Git does not resolve: what is missing, so the engine
    /// can check the live state for it.
    pub unresolved: Option<UnresolvedReference>,
}

impl Problem {
    /// A problem about a whole file or folder.
    pub fn in_file(
        severity: Severity,
        file: impl Into<PathBuf>,
        message: impl Into<String>,
    ) -> Self {
        Problem {
            severity,
            file: file.into(),
            line: None,
            rendered_by: None,
            object: None,
            message: message.into(),
            unresolved: None,
        }
    }

    /// A problem at a place in a file, before any object is known.
    pub fn at(severity: Severity, origin: &Origin, message: impl Into<String>) -> Self {
        Problem {
            severity,
            file: origin.file.clone(),
            line: Some(origin.line),
            rendered_by: origin.rendered_by,
            object: None,
            message: message.into(),
            unresolved: None,
        }
    }

    /// A problem with an object; the message starts with the object's name.
    pub fn on_object(
        severity: Severity,
        origin: &Origin,
        object: &ObjectId,
        message: impl fmt::Display,
    ) -> Self {
        Problem {
            object: Some(object.clone()),
            ..Problem::at(severity, origin, format!("{object}: {message}"))
        }
    }

    /// A problem with a field of an object, at the field's line.
    pub fn on_field(
        severity: Severity,
        object: &DesiredObject,
        pointer: &str,
        message: impl fmt::Display,
    ) -> Self {
        let mut problem = Problem::on_object(severity, &object.origin, &object.id, message);
        if let Some(line) = object.source.line_of(object.origin.line, pointer) {
            problem.line = Some(line);
        }
        problem
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// `file:line: severity: message`, the form compilers use, so editors and CI
/// logs can jump to the place. Control characters from the manifests (in
/// names, labels or file names) are escaped: one problem stays one line, and
/// a terminal never receives escape sequences from a repository.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}",
            crate::text::printable(&self.file.display().to_string())
        )?;
        if let Some(renderer) = self.rendered_by {
            write!(f, " ({})", renderer.command())?;
        }
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(
            f,
            ": {}: {}",
            self.severity,
            crate::text::printable(&self.message)
        )
    }
}

/// Every problem found, in file and line order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Problems(Vec<Problem>);

impl Problems {
    pub fn push(&mut self, problem: Problem) {
        self.0.push(problem);
    }

    /// Any error means the revision cannot be synced.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Problem::is_error)
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.0.iter().filter(|p| p.severity == severity).count()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_slice(&self) -> &[Problem] {
        &self.0
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Problem> {
        self.0.iter()
    }

    /// The references Git does not resolve, with the problem that reports each.
    pub fn unresolved_references(&self) -> impl Iterator<Item = (&Problem, &UnresolvedReference)> {
        self.0
            .iter()
            .filter_map(|p| p.unresolved.as_ref().map(|r| (p, r)))
    }

    /// Drops the problems `keep` refuses, such as references the live state resolves.
    pub fn retain(&mut self, keep: impl FnMut(&Problem) -> bool) {
        self.0.retain(keep);
    }

    /// File order, then line; problems about a whole file come first. The sort
    /// is stable, so problems at one line keep the order they were found in.
    pub fn sort(&mut self) {
        self.0
            .sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    }
}

impl Extend<Problem> for Problems {
    fn extend<T: IntoIterator<Item = Problem>>(&mut self, iter: T) {
        self.0.extend(iter);
    }
}

impl IntoIterator for Problems {
    type Item = Problem;
    type IntoIter = std::vec::IntoIter<Problem>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Problems {
    type Item = &'a Problem;
    type IntoIter = std::slice::Iter<'a, Problem>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// A reference from one object to another that the desired state does not
/// define. The referring object is the problem's `object`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnresolvedReference {
    /// Where in the referring object, such as `spec.template.spec.volumes[config].configMap.name`.
    pub field: String,
    pub target: ReferenceTarget,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ReferenceTarget {
    /// An object by name, such as a ConfigMap or a Role.
    Object {
        group: String,
        kind: String,
        namespace: Option<String>,
        name: String,
    },
    /// A port of a Service that Git does define.
    ServicePort {
        namespace: String,
        service: String,
        port: PortRef,
    },
    /// Pods with these labels (a Service's selector).
    Pods {
        namespace: String,
        selector: BTreeMap<String, String>,
    },
}

/// A port named by number or by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum PortRef {
    Number(i64),
    Name(String),
}

impl fmt::Display for PortRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortRef::Number(n) => write!(f, "{n}"),
            PortRef::Name(name) => write!(f, "\"{name}\""),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_is_one_line_without_control_characters() {
        let problem = Problem {
            line: Some(3),
            ..Problem::in_file(
                Severity::Error,
                "bad\nname.yaml",
                "label \"\u{1b}[31mred\" is not valid",
            )
        };
        assert_eq!(
            problem.to_string(),
            "bad\\nname.yaml:3: error: label \"\\u{1b}[31mred\" is not valid"
        );
    }

    #[test]
    fn the_engine_can_drop_references_the_live_state_resolves() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/corpus/manifests/pod-references/app.yaml");
        let mut checked = crate::manifests::check_file(&path, "default").unwrap();
        let missing: Vec<_> = checked
            .problems
            .unresolved_references()
            .map(|(_, reference)| reference.target.clone())
            .collect();
        assert_eq!(missing.len(), 10);
        let live_secret = ReferenceTarget::Object {
            group: String::new(),
            kind: "Secret".into(),
            namespace: Some("shop".into()),
            name: "web-tls".into(),
        };
        assert!(missing.contains(&live_secret));
        checked
            .problems
            .retain(|p| p.unresolved.as_ref().map(|r| &r.target) != Some(&live_secret));
        assert_eq!(checked.problems.unresolved_references().count(), 9);
    }

    #[test]
    fn rendered_places_name_the_tool() {
        let problem = Problem {
            rendered_by: Some(Renderer::Kustomize),
            line: Some(40),
            ..Problem::in_file(Severity::Warning, "apps/web", "something")
        };
        assert_eq!(
            problem.to_string(),
            "apps/web (kustomize build):40: warning: something"
        );
    }
}
