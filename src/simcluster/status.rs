//! API errors as the Kubernetes API server reports them: a `Status` body with
//! a reason, a code and details, so that clients map them to their own error
//! types (kube's `Error::Api`, kubectl's messages).

use serde_json::{Map, Value, json};

/// One field-level problem, as in the `causes` of an Invalid or Conflict
/// status.
#[derive(Debug, Clone, PartialEq)]
pub struct Cause {
    pub reason: &'static str,
    pub message: String,
    pub field: String,
}

impl Cause {
    /// `field: Required value`.
    pub fn required(field: impl Into<String>, detail: &str) -> Self {
        let message = if detail.is_empty() {
            "Required value".to_string()
        } else {
            format!("Required value: {detail}")
        };
        Self {
            reason: "FieldValueRequired",
            message,
            field: field.into(),
        }
    }

    /// `field: Invalid value: "value": detail`.
    pub fn invalid(field: impl Into<String>, value: &Value, detail: &str) -> Self {
        Self {
            reason: "FieldValueInvalid",
            message: format!("Invalid value: {}: {detail}", show_value(value)),
            field: field.into(),
        }
    }

    /// `field: Invalid value: "string": detail`: a value of the wrong JSON
    /// type, named by its type.
    pub fn type_invalid(field: impl Into<String>, found: &str, detail: &str) -> Self {
        Self {
            reason: "FieldValueTypeInvalid",
            message: format!("Invalid value: \"{found}\": {detail}"),
            field: field.into(),
        }
    }

    /// `field: Unsupported value: "value": supported values: "a", "b"`.
    pub fn unsupported(field: impl Into<String>, value: &Value, supported: &[&str]) -> Self {
        let list: Vec<String> = supported.iter().map(|s| format!("\"{s}\"")).collect();
        Self {
            reason: "FieldValueNotSupported",
            message: format!(
                "Unsupported value: {}: supported values: {}",
                show_value(value),
                list.join(", ")
            ),
            field: field.into(),
        }
    }

    /// `field: Forbidden: detail`.
    pub fn forbidden(field: impl Into<String>, detail: &str) -> Self {
        Self {
            reason: "FieldValueForbidden",
            message: format!("Forbidden: {detail}"),
            field: field.into(),
        }
    }

    /// `field: Duplicate value: value`.
    pub fn duplicate(field: impl Into<String>, value: &Value) -> Self {
        Self {
            reason: "FieldValueDuplicate",
            message: format!("Duplicate value: {}", show_value(value)),
            field: field.into(),
        }
    }

    fn summary(&self) -> String {
        format!("{}: {}", self.field, self.message)
    }
}

/// A value as the API server's field errors print it: strings quoted, and a
/// map of strings in Go syntax (`map[string]string{"app":"web"}`, keys
/// sorted), as Go's `%#v` prints a label map.
fn show_value(value: &Value) -> String {
    match value {
        Value::String(s) => format!("\"{s}\""),
        Value::Object(map) if map.values().all(Value::is_string) => {
            let mut pairs: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{:?}:{:?}", k, v.as_str().unwrap_or("")))
                .collect();
            pairs.sort();
            format!("map[string]string{{{}}}", pairs.join(", "))
        }
        other => other.to_string(),
    }
}

/// What a request failed with: the HTTP code, the Status reason and message,
/// and the details clients read (name, group, kind, causes).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Box<Details>,
}

/// The `details` of a Status: what the error is about.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Details {
    pub name: String,
    pub group: String,
    pub kind: String,
    pub causes: Vec<Cause>,
    pub retry_after_seconds: Option<u64>,
}

/// The names an error message uses for a resource: `deployments.apps` and
/// `Deployment`.
#[derive(Debug, Clone, Copy)]
pub struct ErrorSubject<'a> {
    pub group: &'a str,
    pub plural: &'a str,
    pub kind: &'a str,
}

impl ErrorSubject<'_> {
    fn qualified_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }
}

impl ApiError {
    fn plain(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            details: Box::default(),
        }
    }

    fn about(mut self, subject: ErrorSubject<'_>, name: &str) -> Self {
        self.details.name = name.to_string();
        self.details.group = subject.group.to_string();
        self.details.kind = subject.plural.to_string();
        self
    }

    pub fn not_found(subject: ErrorSubject<'_>, name: &str) -> Self {
        let message = format!("{} \"{name}\" not found", subject.qualified_resource());
        Self::plain(404, "NotFound", message).about(subject, name)
    }

    /// A path the server does not serve (unknown group, version or resource).
    pub fn no_such_resource() -> Self {
        Self::plain(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
    }

    pub fn already_exists(subject: ErrorSubject<'_>, name: &str) -> Self {
        let message = format!("{} \"{name}\" already exists", subject.qualified_resource());
        Self::plain(409, "AlreadyExists", message).about(subject, name)
    }

    /// An optimistic-concurrency failure (stale resourceVersion or uid).
    pub fn conflict(subject: ErrorSubject<'_>, name: &str, why: &str) -> Self {
        let message = format!(
            "Operation cannot be fulfilled on {} \"{name}\": {why}",
            subject.qualified_resource()
        );
        Self::plain(409, "Conflict", message).about(subject, name)
    }

    /// A server-side apply conflict: the message and causes name each field
    /// and the manager that owns it.
    pub fn apply_conflict(message: String, causes: Vec<Cause>) -> Self {
        let mut error = Self::plain(409, "Conflict", message);
        error.details.causes = causes;
        error
    }

    /// 422: the object is invalid; details name the kind (not the resource).
    pub fn invalid(subject: ErrorSubject<'_>, name: &str, causes: Vec<Cause>) -> Self {
        let summaries: Vec<String> = causes.iter().map(Cause::summary).collect();
        let listed = if summaries.len() == 1 {
            summaries[0].clone()
        } else {
            format!("[{}]", summaries.join(", "))
        };
        let message = format!(
            "{} \"{name}\" is invalid: {listed}",
            subject.qualified_kind()
        );
        let mut error = Self::plain(422, "Invalid", message);
        error.details.name = name.to_string();
        error.details.group = subject.group.to_string();
        error.details.kind = subject.kind.to_string();
        error.details.causes = causes;
        error
    }

    /// 422 without field causes (a JSON patch that does not apply). The API
    /// server keeps the cause to itself and says only this.
    pub fn unprocessable() -> Self {
        Self::plain(
            422,
            "Invalid",
            "the server rejected our request due to an error in our request",
        )
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::plain(400, "BadRequest", message)
    }

    /// 410: a resourceVersion or continue token older than the server keeps.
    pub fn expired(message: impl Into<String>) -> Self {
        Self::plain(410, "Expired", message)
    }

    pub fn method_not_allowed() -> Self {
        Self::plain(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
    }

    pub fn not_acceptable() -> Self {
        Self::plain(
            406,
            "NotAcceptable",
            "only the following media types are accepted: application/json, application/yaml (answers in application/vnd.kubernetes.protobuf are not served)",
        )
    }

    /// 415 with the reason in words.
    pub fn unsupported_media_type_for(message: String) -> Self {
        Self::plain(415, "UnsupportedMediaType", message)
    }

    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::plain(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf, application/apply-patch+yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got \"{content_type}\")"
            ),
        )
    }

    pub fn request_too_large(limit: usize) -> Self {
        Self::plain(
            413,
            "RequestEntityTooLarge",
            format!("the request body is larger than the {limit} bytes the server accepts"),
        )
    }

    /// 403: `deployments.apps "web" is forbidden: why`.
    pub fn forbidden(subject: ErrorSubject<'_>, name: &str, why: &str) -> Self {
        let message = format!(
            "{} \"{name}\" is forbidden: {why}",
            subject.qualified_resource()
        );
        Self::plain(403, "Forbidden", message).about(subject, name)
    }

    /// 403 as RBAC words it: `applications.argoproj.io is forbidden: User
    /// "driftdeck-sim" cannot list resource "applications" in API group
    /// "argoproj.io" at the cluster scope`.
    pub fn cannot_list(verb: &str, resource: &str) -> Self {
        let (plural, group) = resource.split_once('.').unwrap_or((resource, ""));
        let message = format!(
            "{resource} is forbidden: User \"driftdeck-sim\" cannot {verb} resource \"{plural}\" in API group \"{group}\" at the cluster scope"
        );
        Self::plain(403, "Forbidden", message)
    }

    /// An admission webhook's denial (403 or 422 with the webhook's message).
    pub fn denied_by_webhook(
        code: u16,
        webhook: &str,
        message: &str,
        subject: ErrorSubject<'_>,
        name: &str,
    ) -> Self {
        let reason = if code == 422 { "Invalid" } else { "Forbidden" };
        let message = format!("admission webhook \"{webhook}\" denied the request: {message}");
        Self::plain(code, reason, message).about(subject, name)
    }

    pub fn too_many_requests(retry_after_seconds: u64) -> Self {
        let mut error = Self::plain(
            429,
            "TooManyRequests",
            "the server has received too many requests and has asked us to try again later",
        );
        error.details.retry_after_seconds = Some(retry_after_seconds);
        error
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::plain(
            500,
            "InternalError",
            format!("Internal error occurred: {}", message.into()),
        )
    }

    pub fn service_unavailable(message: impl Into<String>) -> Self {
        Self::plain(503, "ServiceUnavailable", message)
    }

    /// The `Status` object, as the body of an error response or the object
    /// of a watch `ERROR` event.
    pub fn to_status(&self) -> Value {
        let about = &self.details;
        let mut details = Map::new();
        if !about.name.is_empty() {
            details.insert("name".into(), json!(about.name));
        }
        if !about.group.is_empty() {
            details.insert("group".into(), json!(about.group));
        }
        if !about.kind.is_empty() {
            details.insert("kind".into(), json!(about.kind));
        }
        if !about.causes.is_empty() {
            let causes: Vec<Value> = about
                .causes
                .iter()
                .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
                .collect();
            details.insert("causes".into(), Value::Array(causes));
        }
        if let Some(seconds) = about.retry_after_seconds {
            details.insert("retryAfterSeconds".into(), json!(seconds));
        }
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        });
        if let Value::Object(map) = &mut status {
            // A plain BadRequest carries no details at all on the API server.
            if !(details.is_empty() && self.code == 400) {
                map.insert("details".into(), Value::Object(details));
            }
            map.insert("code".into(), json!(self.code));
        }
        status
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.reason, self.message)
    }
}

/// A successful `Status`, as a delete answers for most resources.
pub fn success_status(subject: ErrorSubject<'_>, name: &str, uid: &str) -> Value {
    let mut details =
        json!({"name": name, "group": subject.group, "kind": subject.plural, "uid": uid});
    if let Some(map) = details.as_object_mut()
        && subject.group.is_empty()
    {
        map.shift_remove("group");
    }
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPLOYMENTS: ErrorSubject<'static> = ErrorSubject {
        group: "apps",
        plural: "deployments",
        kind: "Deployment",
    };

    #[test]
    fn label_maps_print_as_go_prints_them() {
        let cause = Cause::invalid(
            "spec.template.metadata.labels",
            &json!({"b": "2", "a": "1"}),
            "x",
        );
        assert_eq!(
            cause.message,
            r#"Invalid value: map[string]string{"a":"1", "b":"2"}: x"#
        );
    }

    #[test]
    fn a_plain_bad_request_has_no_details() {
        let status = ApiError::bad_request("nope").to_status();
        assert!(status.get("details").is_none(), "{status:#}");
        let status = ApiError::unprocessable().to_status();
        assert_eq!(status["details"], json!({}));
    }

    #[test]
    fn not_found_names_the_qualified_resource() {
        let status = ApiError::not_found(DEPLOYMENTS, "web").to_status();
        assert_eq!(status["message"], "deployments.apps \"web\" not found");
        assert_eq!(status["details"]["kind"], "deployments");
        assert_eq!(status["code"], 404);
    }

    #[test]
    fn invalid_lists_several_causes_in_brackets() {
        let error = ApiError::invalid(
            DEPLOYMENTS,
            "web",
            vec![
                Cause::required("spec.selector", ""),
                Cause::invalid("metadata.name", &json!("Web"), "bad"),
            ],
        );
        assert_eq!(
            error.message,
            "Deployment.apps \"web\" is invalid: [spec.selector: Required value, metadata.name: Invalid value: \"Web\": bad]"
        );
        assert_eq!(error.to_status()["details"]["kind"], "Deployment");
    }
}
