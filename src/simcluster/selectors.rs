//! Label selectors (`app=web,tier in (a,b),!legacy`) and field selectors
//! (`metadata.name=web`), parsed from the query string and matched against
//! stored objects.

use std::collections::BTreeMap;

use serde_json::Value;

use super::store::StoredObject;

#[derive(Debug, Clone, PartialEq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
    GreaterThan(String, i64),
    LessThan(String, i64),
}

/// A parsed label selector; empty matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

impl LabelSelector {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut requirements = Vec::new();
        for part in split_outside_parens(text) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            requirements.push(parse_requirement(part)?);
        }
        Ok(Self { requirements })
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| match r {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|l| vs.contains(l)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|l| !vs.contains(l)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::DoesNotExist(k) => !labels.contains_key(k),
            Requirement::GreaterThan(k, n) => labels
                .get(k)
                .and_then(|l| l.parse::<i64>().ok())
                .is_some_and(|l| l > *n),
            Requirement::LessThan(k, n) => labels
                .get(k)
                .and_then(|l| l.parse::<i64>().ok())
                .is_some_and(|l| l < *n),
        })
    }
}

fn split_outside_parens(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn checked_key(key: &str, whole: &str) -> Result<String, String> {
    let key = key.trim();
    let valid = !key.is_empty()
        && key.len() <= 317
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if valid {
        Ok(key.to_string())
    } else {
        Err(format!("invalid label key {key:?} in selector {whole:?}"))
    }
}

fn checked_value(value: &str, whole: &str) -> Result<String, String> {
    let value = value.trim();
    let valid = value.len() <= 63
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(value.to_string())
    } else {
        Err(format!(
            "invalid label value {value:?} in selector {whole:?}"
        ))
    }
}

fn parse_set(rest: &str, whole: &str) -> Result<Vec<String>, String> {
    let inner = rest
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| format!("expected a parenthesised set of values in {whole:?}"))?;
    inner.split(',').map(|v| checked_value(v, whole)).collect()
}

fn parse_requirement(part: &str) -> Result<Requirement, String> {
    if let Some(key) = part.strip_prefix('!') {
        return Ok(Requirement::DoesNotExist(checked_key(key, part)?));
    }
    if let Some((key, value)) = part.split_once("!=") {
        return Ok(Requirement::NotEquals(
            checked_key(key, part)?,
            checked_value(value, part)?,
        ));
    }
    if let Some((key, value)) = part.split_once("==").or_else(|| part.split_once('=')) {
        return Ok(Requirement::Equals(
            checked_key(key, part)?,
            checked_value(value, part)?,
        ));
    }
    let number = |v: &str| {
        v.trim()
            .parse::<i64>()
            .map_err(|_| format!("expected a number in {part:?}"))
    };
    if let Some((key, value)) = part.split_once('>') {
        return Ok(Requirement::GreaterThan(
            checked_key(key, part)?,
            number(value)?,
        ));
    }
    if let Some((key, value)) = part.split_once('<') {
        return Ok(Requirement::LessThan(
            checked_key(key, part)?,
            number(value)?,
        ));
    }
    let mut words = part.splitn(2, char::is_whitespace);
    let key = words.next().unwrap_or_default();
    match words.next().map(str::trim_start) {
        None => Ok(Requirement::Exists(checked_key(key, part)?)),
        Some(rest) => {
            if let Some(values) = rest.strip_prefix("notin") {
                Ok(Requirement::NotIn(
                    checked_key(key, part)?,
                    parse_set(values, part)?,
                ))
            } else if let Some(values) = rest.strip_prefix("in") {
                Ok(Requirement::In(
                    checked_key(key, part)?,
                    parse_set(values, part)?,
                ))
            } else {
                Err(format!("unable to parse requirement {part:?}"))
            }
        }
    }
}

/// A field selector: `field=value`, `field==value`, `field!=value`, joined
/// by commas.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSelector {
    terms: Vec<(String, bool, String)>,
}

impl FieldSelector {
    /// Parses and checks the fields against those the kind supports, as the
    /// API server does (`field label not supported: spec.foo`).
    pub fn parse(text: &str, supported: &[&str]) -> Result<Self, String> {
        let mut terms = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, equal, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                (f, true, v)
            } else {
                return Err(format!(
                    "invalid selector: '{part}'; can't understand '{part}'"
                ));
            };
            let field = field.trim();
            if !matches!(field, "metadata.name" | "metadata.namespace")
                && !supported.contains(&field)
            {
                return Err(format!("field label not supported: {field}"));
            }
            terms.push((field.to_string(), equal, value.trim().to_string()));
        }
        Ok(Self { terms })
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Whether only `metadata.*` is selected on, so the object need not be read.
    pub fn needs_object(&self) -> bool {
        self.terms
            .iter()
            .any(|(f, _, _)| !f.starts_with("metadata."))
    }

    /// Matches against a name, a namespace and (when `needs_object`) the
    /// object itself.
    pub fn matches(&self, name: &str, namespace: &str, object: Option<&Value>) -> bool {
        self.terms.iter().all(|(field, equal, value)| {
            let actual = match field.as_str() {
                "metadata.name" => name.to_string(),
                "metadata.namespace" => namespace.to_string(),
                other => object
                    .and_then(|o| o.pointer(&format!("/{}", other.replace('.', "/"))))
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    })
                    .unwrap_or_default(),
            };
            (actual == *value) == *equal
        })
    }
}

/// A list's or a watch's label and field selectors together.
pub struct Selection {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Selection {
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }

    /// Whether the object is selected; the object's JSON is read only when
    /// a field selector needs more than its name and namespace.
    pub fn matches(&self, object: &StoredObject) -> bool {
        if !self.labels.matches(&object.labels) {
            return false;
        }
        if self.fields.is_empty() {
            return true;
        }
        let parsed = self.fields.needs_object().then(|| object.value());
        self.fields
            .matches(&object.name, &object.namespace, parsed.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_label_operator_matches_as_the_api_server_does() {
        let l = labels(&[("app", "web"), ("tier", "front")]);
        let cases = [
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("app!=db", true),
            ("tier in (front, back)", true),
            ("tier notin (front)", false),
            ("missing notin (x)", true),
            ("app", true),
            ("!app", false),
            ("!legacy", true),
            ("app=web,tier in (back)", false),
        ];
        for (text, expected) in cases {
            let selector = LabelSelector::parse(text).unwrap();
            assert_eq!(selector.matches(&l), expected, "{text}");
        }
    }

    #[test]
    fn malformed_selectors_are_errors_naming_the_part() {
        assert!(
            LabelSelector::parse("app in front")
                .unwrap_err()
                .contains("app in front")
        );
        assert!(LabelSelector::parse("a b c").is_err());
    }

    #[test]
    fn field_selector_rejects_unsupported_fields() {
        assert_eq!(
            FieldSelector::parse("spec.replicas=1", &[]).unwrap_err(),
            "field label not supported: spec.replicas"
        );
        let selector =
            FieldSelector::parse("metadata.name=web,metadata.namespace!=kube-system", &[]).unwrap();
        assert!(selector.matches("web", "default", None));
        assert!(!selector.matches("web", "kube-system", None));
    }
}
