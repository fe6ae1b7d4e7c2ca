//! What the API server does to an object on every write: check its identity
//! against the request, give it a uid, timestamps and a generation, reset
//! its status, fill defaults, run the kind's strategy, record managed
//! fields, validate, admit, store. And deletion: preconditions, finalizers,
//! a Namespace's contents, a CRD's resources, dependents by owner.

use std::sync::Arc;

use axum::body::Bytes;
use serde_json::{Map, Value, json};

use super::apply::{ApplyRequest, apply};
use super::catalog::{ResourceKey, ResourceType};
use super::declared;
use super::defaults;
use super::managed_fields::{ManagedFields, Untracked, Writer, track_update};
use super::patch::{json_patch, merge_patch, strategic_merge};
use super::status::{ApiError, Cause, ErrorSubject};
use super::store::{State, StoredObject};
use super::strategy::{self, Allocations, StrategyError};
use super::validation::validate;
use crate::text::truncate;

/// Decides whether a write to a named object may go ahead, as an admission
/// webhook would (the fault injector's "deny writes").
pub type Admit<'a> = &'a (dyn Fn(&ResourceType, &str, &str) -> Result<(), ApiError> + Send + Sync);

/// Admission that lets every write through (the server's own writes,
/// loading objects).
pub fn admit_everything(_: &ResourceType, _: &str, _: &str) -> Result<(), ApiError> {
    Ok(())
}

/// Who writes and how.
pub struct WriteContext<'a> {
    pub manager: &'a str,
    pub dry_run: bool,
    pub field_validation: FieldValidation,
    pub admit: Admit<'a>,
}

/// What to do with fields a custom resource's schema does not declare
/// (`fieldValidation`): drop them, drop them with a warning (the default),
/// or refuse the write.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValidation {
    Ignore,
    Warn,
    Strict,
}

/// Which endpoint a write goes to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Endpoint {
    Main,
    Status,
    Scale,
}

impl Endpoint {
    fn subresource(self) -> &'static str {
        match self {
            Endpoint::Main => "",
            Endpoint::Status => "status",
            Endpoint::Scale => "scale",
        }
    }
}

/// The patch formats besides apply.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PatchFormat {
    Merge,
    Json,
    Strategic,
}

/// The object a write produced, as served, and whether it was created.
pub struct Written {
    pub json: Bytes,
    pub created: bool,
    /// Warnings for the client (`Warning` headers).
    pub warnings: Vec<String>,
}

/// The current time as the API server writes it.
pub fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

const NAMESPACES: &str = "namespaces";

fn namespaces_key() -> ResourceKey {
    ResourceKey {
        group: String::new(),
        plural: NAMESPACES.into(),
    }
}

fn text<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn metadata_mut(object: &mut Value) -> Option<&mut Map<String, Value>> {
    object.get_mut("metadata").and_then(Value::as_object_mut)
}

fn excerpt(body: &Value) -> String {
    truncate(&body.to_string(), 200).into_owned()
}

/// The body names the kind the URL addresses.
fn check_kind(rt: &ResourceType, body: &Value) -> Result<(), ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be a JSON or YAML object",
        ));
    }
    let kind = text(body, "/kind");
    if kind.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Object 'Kind' is missing in '{}'",
            excerpt(body)
        )));
    }
    let api_version = text(body, "/apiVersion");
    if api_version.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Object 'apiVersion' is missing in '{}'",
            excerpt(body)
        )));
    }
    if api_version != rt.api_version() {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({api_version}) does not match the expected API version ({})",
            rt.api_version()
        )));
    }
    if kind != rt.kind {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            rt.kind
        )));
    }
    Ok(())
}

/// Puts the object where the URL says: its namespace (defaulted from the
/// URL, refused when different) and, for writes to a name, its name.
fn place(
    rt: &ResourceType,
    body: &mut Value,
    namespace: &str,
    name: Option<&str>,
) -> Result<(), ApiError> {
    let Some(root) = body.as_object_mut() else {
        return Err(ApiError::bad_request(
            "the body of the request must be an object",
        ));
    };
    let metadata = root
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(metadata) = metadata.as_object_mut() else {
        return Err(ApiError::bad_request("metadata must be an object"));
    };
    if rt.namespaced {
        let given = metadata
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or("");
        if given.is_empty() {
            metadata.insert("namespace".into(), json!(namespace));
        } else if given != namespace {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
    } else {
        metadata.shift_remove("namespace");
    }
    if let Some(url_name) = name {
        let given = metadata.get("name").and_then(Value::as_str).unwrap_or("");
        if given.is_empty() {
            metadata.insert("name".into(), json!(url_name));
        } else if given != url_name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({given}) does not match the name on the URL ({url_name})"
            )));
        }
    }
    Ok(())
}

const GENERATED_NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// The name of a new object: given, or made from `generateName`.
fn resolve_name(rt: &ResourceType, body: &mut Value) -> Result<String, ApiError> {
    let name = text(body, "/metadata/name").to_string();
    if !name.is_empty() {
        return Ok(name);
    }
    let prefix = text(body, "/metadata/generateName").to_string();
    if prefix.is_empty() {
        return Err(ApiError::invalid(
            rt.subject(),
            "",
            vec![Cause::required(
                "metadata.name",
                "name or generateName is required",
            )],
        ));
    }
    let random = uuid::Uuid::new_v4();
    let suffix: String = random
        .as_bytes()
        .iter()
        .take(5)
        .map(|b| {
            char::from(GENERATED_NAME_ALPHABET[usize::from(*b) % GENERATED_NAME_ALPHABET.len()])
        })
        .collect();
    let generated = format!("{prefix}{suffix}");
    if let Some(metadata) = metadata_mut(body) {
        metadata.insert("name".into(), json!(generated));
    }
    Ok(generated)
}

fn ensure_namespace(state: &State, rt: &ResourceType, namespace: &str) -> Result<(), ApiError> {
    if !rt.namespaced {
        return Ok(());
    }
    if let Some(ns) = state.get(&namespaces_key(), "", namespace) {
        if ns.value().pointer("/metadata/deletionTimestamp").is_some() {
            return Err(ApiError::forbidden(
                rt.subject(),
                "",
                &format!(
                    "unable to create new content in namespace {namespace} because it is being terminated"
                ),
            ));
        }
        return Ok(());
    }
    Err(ApiError::not_found(
        ErrorSubject {
            group: "",
            plural: NAMESPACES,
            kind: "Namespace",
        },
        namespace,
    ))
}

fn strategy_error(error: StrategyError) -> ApiError {
    match error {
        StrategyError::BadRequest(message) => ApiError::bad_request(message),
        StrategyError::Exhausted(message) => ApiError::internal(message),
    }
}

fn fill_defaults(rt: &ResourceType, object: &mut Value) -> Result<(), ApiError> {
    match rt.crd.as_ref() {
        Some(custom) => {
            if let Some(schema) = &custom.schema {
                defaults::apply_schema(schema, object);
            }
            Ok(())
        }
        None => defaults::apply_builtin(&rt.group, &rt.kind, object).map_err(ApiError::bad_request),
    }
}

const SYSTEM_METADATA: &[&str] = &[
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
    "managedFields",
];

/// Checks an object for fields its kind does not declare: dropped with a
/// warning, dropped silently, or refused, as `fieldValidation` says.
fn check_unknown_fields(
    rt: &ResourceType,
    object: &mut Value,
    validation: FieldValidation,
) -> Result<Vec<String>, ApiError> {
    let unknown = declared::unknown_fields(rt, object);
    if unknown.is_empty() {
        return Ok(Vec::new());
    }
    let named: Vec<String> = unknown
        .iter()
        .map(|f| format!("unknown field \"{}\"", f.display()))
        .collect();
    if validation == FieldValidation::Strict {
        return Err(ApiError::bad_request(format!(
            "{kind} in version \"{version}\" cannot be handled as a {kind}: strict decoding error: {}",
            named.join(", "),
            kind = rt.kind,
            version = rt.version
        )));
    }
    declared::drop_fields(object, &unknown);
    Ok(match validation {
        FieldValidation::Warn => named,
        _ => Vec::new(),
    })
}

/// A new object as the server will store it (before managed fields).
fn new_object(
    rt: &ResourceType,
    mut object: Value,
    allocations: &mut Allocations,
) -> Result<Value, ApiError> {
    fill_defaults(rt, &mut object)?;
    if let Some(metadata) = metadata_mut(&mut object) {
        for key in SYSTEM_METADATA {
            metadata.shift_remove(*key);
        }
        metadata.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
        metadata.insert("creationTimestamp".into(), json!(now()));
        if rt.tracks_generation {
            metadata.insert("generation".into(), json!(1));
        }
    }
    if rt.status_subresource
        && let Some(root) = object.as_object_mut()
    {
        root.shift_remove("status");
        // The API server defaults a custom resource again as it reads it
        // back from storage: a schema default for `status` comes back.
        if rt.is_custom() {
            fill_defaults(rt, &mut object)?;
        }
    }
    if rt.status_subresource
        && let Some(status) = strategy::initial_status(rt, &object)
        && let Some(root) = object.as_object_mut()
    {
        root.insert("status".into(), status);
    }
    strategy::prepare_create(rt, &mut object, allocations).map_err(strategy_error)?;
    Ok(object)
}

/// A new version of a stored object written to the main resource.
fn updated_object(
    rt: &ResourceType,
    old: &Value,
    mut object: Value,
    allocations: &mut Allocations,
) -> Result<Value, ApiError> {
    fill_defaults(rt, &mut object)?;
    let old_metadata = old.get("metadata").and_then(Value::as_object);
    if let (Some(metadata), Some(old_metadata)) = (metadata_mut(&mut object), old_metadata) {
        for key in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "resourceVersion",
        ] {
            match old_metadata.get(key) {
                Some(value) => metadata.insert(key.into(), value.clone()),
                None => metadata.shift_remove(key),
            };
        }
        metadata.shift_remove("selfLink");
    }
    if rt.status_subresource
        && let Some(root) = object.as_object_mut()
    {
        match old.get("status") {
            Some(status) => root.insert("status".into(), status.clone()),
            None => root.shift_remove("status"),
        };
    }
    strategy::prepare_update(rt, old, &mut object, allocations).map_err(strategy_error)?;
    if rt.tracks_generation && strategy::generation_changes(rt, old, &object) {
        let generation = old
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if let Some(metadata) = metadata_mut(&mut object) {
            metadata.insert("generation".into(), json!(generation + 1));
        }
    }
    Ok(object)
}

/// A write to `/status`: the new status (and annotations), everything else
/// as stored.
fn status_object(old: &Value, body: &Value) -> Value {
    let mut object = old.clone();
    if let Some(root) = object.as_object_mut() {
        match body.get("status") {
            Some(status) => root.insert("status".into(), status.clone()),
            None => root.shift_remove("status"),
        };
    }
    if let (Some(metadata), Some(annotations)) = (
        metadata_mut(&mut object),
        body.pointer("/metadata/annotations"),
    ) {
        metadata.insert("annotations".into(), annotations.clone());
    }
    object
}

fn without_managed_fields(object: &Value) -> Value {
    let mut copy = object.clone();
    if let Some(metadata) = metadata_mut(&mut copy) {
        metadata.shift_remove("managedFields");
    }
    copy
}

const TOP_ORDER: &[&str] = &["apiVersion", "kind", "metadata"];
const METADATA_ORDER: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

fn ordered(map: Map<String, Value>, first: &[&str], last: &[&str]) -> Map<String, Value> {
    let mut rest = map;
    let mut out = Map::new();
    for key in first {
        if let Some(value) = rest.shift_remove(*key) {
            out.insert((*key).to_string(), value);
        }
    }
    let tail: Vec<(String, Value)> = last
        .iter()
        .filter_map(|k| rest.shift_remove(*k).map(|v| ((*k).to_string(), v)))
        .collect();
    out.extend(rest);
    out.extend(tail);
    out
}

/// Keys in the order the API server writes them, for readable responses.
fn canonical_order(object: Value) -> Value {
    let Value::Object(map) = object else {
        return object;
    };
    let mut map = ordered(map, TOP_ORDER, &["status"]);
    if let Some(Value::Object(metadata)) = map.get_mut("metadata") {
        *metadata = ordered(std::mem::take(metadata), METADATA_ORDER, &[]);
    }
    Value::Object(map)
}

fn same_ignoring_version(a: &Value, b: &Value) -> bool {
    let strip = |v: &Value| {
        let mut copy = v.clone();
        if let Some(metadata) = metadata_mut(&mut copy) {
            metadata.shift_remove("resourceVersion");
        }
        copy
    };
    strip(a) == strip(b)
}

/// Validation, admission and storage, common to every write.
fn finish(
    state: &mut State,
    rt: &Arc<ResourceType>,
    old: Option<&Value>,
    mut object: Value,
    managed: ManagedFields,
    ctx: &WriteContext<'_>,
) -> Result<Written, ApiError> {
    if let Some(metadata) = metadata_mut(&mut object) {
        if managed.entries.is_empty() {
            metadata.shift_remove("managedFields");
        } else {
            metadata.insert("managedFields".into(), managed.to_json());
        }
    }
    let object = canonical_order(object);
    let name = text(&object, "/metadata/name").to_string();
    let namespace = text(&object, "/metadata/namespace").to_string();
    let mut causes = validate(rt, &object, old);
    let crd_types = if rt.group == "apiextensions.k8s.io" && rt.kind == "CustomResourceDefinition" {
        match state.catalog.types_of_crd(&object) {
            Ok(types) => Some(types),
            Err(problems) => {
                causes.extend(problems.into_iter().map(|p| Cause {
                    reason: "FieldValueInvalid",
                    message: p.message,
                    field: p.field,
                }));
                None
            }
        }
    } else {
        None
    };
    if !causes.is_empty() {
        return Err(ApiError::invalid(rt.subject(), &name, causes));
    }
    (ctx.admit)(rt, &namespace, &name)?;
    if let Some(old) = old
        && same_ignoring_version(old, &object)
    {
        return Ok(Written {
            json: Bytes::from(serde_json::to_vec(old).unwrap_or_default()),
            created: false,
            warnings: Vec::new(),
        });
    }
    if ctx.dry_run {
        return Ok(Written {
            json: Bytes::from(serde_json::to_vec(&object).unwrap_or_default()),
            created: old.is_none(),
            warnings: Vec::new(),
        });
    }
    if let Some(types) = crd_types {
        state.catalog.install(&name, types);
    }
    let stored = state.put(&rt.key(), object);
    Ok(Written {
        json: stored.json.clone(),
        created: old.is_none(),
        warnings: Vec::new(),
    })
}

fn writer<'a>(
    api_version: &'a str,
    manager: &'a str,
    endpoint: Endpoint,
    now: &'a str,
) -> Writer<'a> {
    Writer {
        manager,
        api_version,
        subresource: endpoint.subresource(),
        now,
    }
}

fn untracked(rt: &ResourceType, endpoint: Endpoint) -> Untracked {
    match endpoint {
        Endpoint::Main | Endpoint::Scale => Untracked::main_resource(rt.status_subresource),
        Endpoint::Status => Untracked::status_subresource(),
    }
}

/// A scratch copy of the allocations for a dry run, so nothing it
/// allocates is kept.
fn allocations_for<'a>(
    state: &'a mut State,
    dry_run: bool,
    scratch: &'a mut Option<Allocations>,
) -> &'a mut Allocations {
    if dry_run {
        scratch.insert(state.allocations.clone())
    } else {
        &mut state.allocations
    }
}

/// POST: creates an object.
pub fn create(
    state: &mut State,
    rt: &Arc<ResourceType>,
    namespace: &str,
    mut body: Value,
    ctx: &WriteContext<'_>,
) -> Result<Written, ApiError> {
    check_kind(rt, &body)?;
    let warnings = check_unknown_fields(rt, &mut body, ctx.field_validation)?;
    place(rt, &mut body, namespace, None)?;
    let name = resolve_name(rt, &mut body)?;
    let namespace = text(&body, "/metadata/namespace").to_string();
    ensure_namespace(state, rt, &namespace)?;
    if state.get(&rt.key(), &namespace, &name).is_some() {
        return Err(ApiError::already_exists(rt.subject(), &name));
    }
    // The field manager sees the request as decoded, defaults and all, but
    // not what the strategy and the allocators add after it (a Namespace's
    // finalizer, a Service's IPs): nobody owns those.
    let mut requested = body.clone();
    fill_defaults(rt, &mut requested)?;
    strategy::decode(rt, &mut requested).map_err(strategy_error)?;
    let mut scratch = None;
    let object = new_object(rt, body, allocations_for(state, ctx.dry_run, &mut scratch))?;
    let mut managed = ManagedFields::default();
    let api_version = rt.api_version();
    let time = now();
    track_update(
        &mut managed,
        &strategy::zero_object(rt),
        &requested,
        &rt.shape,
        &writer(&api_version, ctx.manager, Endpoint::Main, &time),
        &untracked(rt, Endpoint::Main),
    );
    let mut written = finish(state, rt, None, object, managed, ctx)?;
    written.warnings = warnings;
    Ok(written)
}

fn stored_or_not_found(
    state: &State,
    rt: &ResourceType,
    namespace: &str,
    name: &str,
) -> Result<Arc<StoredObject>, ApiError> {
    state
        .get(&rt.key(), if rt.namespaced { namespace } else { "" }, name)
        .ok_or_else(|| ApiError::not_found(rt.subject(), name))
}

fn check_version_precondition(
    rt: &ResourceType,
    old: &StoredObject,
    body: &Value,
) -> Result<(), ApiError> {
    let given = text(body, "/metadata/resourceVersion");
    if !given.is_empty() && given != old.resource_version.to_string() {
        return Err(ApiError::conflict(
            rt.subject(),
            &old.name,
            "the object has been modified; please apply your changes to the latest version and try again",
        ));
    }
    Ok(())
}

/// PUT: replaces an object (or its status).
pub fn update(
    state: &mut State,
    rt: &Arc<ResourceType>,
    namespace: &str,
    name: &str,
    mut body: Value,
    endpoint: Endpoint,
    ctx: &WriteContext<'_>,
) -> Result<Written, ApiError> {
    check_kind(rt, &body)?;
    place(rt, &mut body, namespace, Some(name))?;
    let old = stored_or_not_found(state, rt, namespace, name)?;
    check_version_precondition(rt, &old, &body)?;
    replace(state, rt, &old, body, endpoint, ctx)
}

fn replace(
    state: &mut State,
    rt: &Arc<ResourceType>,
    old: &StoredObject,
    body: Value,
    endpoint: Endpoint,
    ctx: &WriteContext<'_>,
) -> Result<Written, ApiError> {
    let old_value = old.value();
    let mut body = body;
    let warnings = match endpoint {
        Endpoint::Main => check_unknown_fields(rt, &mut body, ctx.field_validation)?,
        Endpoint::Status | Endpoint::Scale => Vec::new(),
    };
    let incoming = body.pointer("/metadata/managedFields").cloned();
    let mut managed = match incoming {
        Some(given) if Some(&given) != old_value.pointer("/metadata/managedFields") => {
            ManagedFields::read(&body)
        }
        _ => ManagedFields::read(&old_value),
    };
    let mut scratch = None;
    let object = match endpoint {
        Endpoint::Main | Endpoint::Scale => updated_object(
            rt,
            &old_value,
            body,
            allocations_for(state, ctx.dry_run, &mut scratch),
        )?,
        Endpoint::Status => status_object(&old_value, &body),
    };
    let api_version = rt.api_version();
    let time = now();
    track_update(
        &mut managed,
        &without_managed_fields(&old_value),
        &without_managed_fields(&object),
        &rt.shape,
        &writer(&api_version, ctx.manager, endpoint, &time),
        &untracked(rt, endpoint),
    );
    let mut written = finish(state, rt, Some(&old_value), object, managed, ctx)?;
    written.warnings = warnings;
    Ok(written)
}

/// Parses a request body as JSON or YAML.
pub fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        return Ok(value);
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("the request body is not UTF-8 text"))?;
    serde_saphyr::from_str::<Value>(text)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))
}

/// PATCH with a merge, JSON or strategic patch of a stored object.
#[allow(clippy::too_many_arguments)]
pub fn patch(
    state: &mut State,
    rt: &Arc<ResourceType>,
    namespace: &str,
    name: &str,
    format: PatchFormat,
    body: &[u8],
    endpoint: Endpoint,
    ctx: &WriteContext<'_>,
) -> Result<Written, ApiError> {
    let old = stored_or_not_found(state, rt, namespace, name)?;
    // Patches see the object as stored, managedFields included: kubectl
    // migrates client-side apply ownership with a JSON patch of them.
    let old_value = old.value();
    let document: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    let patched = match format {
        PatchFormat::Merge => {
            if !document.is_object() {
                return Err(ApiError::bad_request("a merge patch must be a JSON object"));
            }
            merge_patch(&old_value, &document)
        }
        PatchFormat::Json => {
            json_patch(&old_value, &document).map_err(|_| ApiError::unprocessable())?
        }
        PatchFormat::Strategic => {
            if rt.is_custom() {
                return Err(ApiError::unsupported_media_type(
                    "application/strategic-merge-patch+json (not supported for custom resources)",
                ));
            }
            strategic_merge(&old_value, &document, &rt.shape)
                .map_err(|_| ApiError::unprocessable())?
        }
    };
    let mut patched = patched;
    check_kind(rt, &patched)?;
    place(rt, &mut patched, namespace, Some(name))?;
    check_version_precondition(rt, &old, &patched)?;
    replace(state, rt, &old, patched, endpoint, ctx)
}

/// PATCH with `application/apply-patch+yaml`: server-side apply, which
/// creates the object when it does not exist.
#[allow(clippy::too_many_arguments)]
pub fn server_side_apply(
    state: &mut State,
    rt: &Arc<ResourceType>,
    namespace: &str,
    name: &str,
    body: &[u8],
    force: bool,
    endpoint: Endpoint,
    ctx: &WriteContext<'_>,
) -> Result<Written, ApiError> {
    if ctx.manager.is_empty() {
        return Err(ApiError::invalid(
            ErrorSubject {
                group: "meta.k8s.io",
                kind: "PatchOptions",
                plural: "PatchOptions",
            },
            "",
            vec![Cause::required(
                "fieldManager",
                "is required for apply patch",
            )],
        ));
    }
    let mut config = parse_body(body)?;
    check_kind(rt, &config)?;
    if let Some(first) = declared::unknown_fields(rt, &config).first() {
        return Err(ApiError::bad_request(format!(
            "failed to create typed patch object ({}, Kind={}): .{}: field not declared in schema",
            rt.api_version(),
            rt.kind,
            first.display()
        )));
    }
    place(rt, &mut config, namespace, Some(name))?;
    let old = state.get(&rt.key(), if rt.namespaced { namespace } else { "" }, name);
    let api_version = rt.api_version();
    let time = now();
    let untracked = untracked(rt, endpoint);
    let reset: &[&str] = if rt.status_subresource && endpoint == Endpoint::Main {
        &["status"]
    } else {
        &[]
    };
    let request = ApplyRequest {
        config: &config,
        shape: &rt.shape,
        force,
        writer: writer(&api_version, ctx.manager, endpoint, &time),
        untracked: &untracked,
        reset_fields: reset,
    };
    let mut scratch = None;
    match old {
        None => {
            if endpoint == Endpoint::Status {
                return Err(ApiError::not_found(rt.subject(), name));
            }
            ensure_namespace(state, rt, namespace)?;
            let mut managed = ManagedFields::default();
            let live = json!({});
            let merged = apply(&live, &mut managed, &request)?;
            let object = new_object(
                rt,
                merged,
                allocations_for(state, ctx.dry_run, &mut scratch),
            )?;
            finish(state, rt, None, object, managed, ctx)
        }
        Some(old) => {
            let old_value = old.value();
            let mut managed = ManagedFields::read(&old_value);
            let live = without_managed_fields(&old_value);
            let merged = apply(&live, &mut managed, &request)?;
            let object = match endpoint {
                Endpoint::Main | Endpoint::Scale => updated_object(
                    rt,
                    &old_value,
                    merged,
                    allocations_for(state, ctx.dry_run, &mut scratch),
                )?,
                Endpoint::Status => status_object(&old_value, &merged),
            };
            finish(state, rt, Some(&old_value), object, managed, ctx)
        }
    }
}

/// The autoscaling/v1 Scale of an object with a scale subresource.
pub fn scale_of(object: &Value) -> Value {
    let mut selector: Vec<String> = object
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    selector.sort();
    let metadata = object.get("metadata").cloned().unwrap_or(json!({}));
    let keep = [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ];
    let metadata: Map<String, Value> = metadata
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| keep.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": metadata,
        "spec": {"replicas": object.pointer("/spec/replicas").cloned().unwrap_or(json!(0))},
        "status": {
            "replicas": object.pointer("/status/replicas").cloned().unwrap_or(json!(0)),
            "selector": selector.join(","),
        },
    })
}

/// The current Scale of a stored object.
pub fn read_scale(
    state: &State,
    rt: &ResourceType,
    namespace: &str,
    name: &str,
) -> Result<Value, ApiError> {
    Ok(scale_of(
        &stored_or_not_found(state, rt, namespace, name)?.value(),
    ))
}

/// Writes a Scale: the object's `spec.replicas` takes the Scale's.
pub fn write_scale(
    state: &mut State,
    rt: &Arc<ResourceType>,
    namespace: &str,
    name: &str,
    scale: &Value,
    ctx: &WriteContext<'_>,
) -> Result<Value, ApiError> {
    let old = stored_or_not_found(state, rt, namespace, name)?;
    check_version_precondition(rt, &old, scale)?;
    let replicas = scale
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .ok_or_else(|| {
            ApiError::invalid(
                rt.subject(),
                name,
                vec![Cause::required("spec.replicas", "")],
            )
        })?;
    if replicas < 0 {
        return Err(ApiError::invalid(
            rt.subject(),
            name,
            vec![Cause::invalid(
                "spec.replicas",
                &json!(replicas),
                "must be greater than or equal to 0",
            )],
        ));
    }
    let mut object = old.value();
    if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
        spec.insert("replicas".into(), json!(replicas));
    }
    let written = replace(state, rt, &old, object, Endpoint::Scale, ctx)?;
    let value: Value = serde_json::from_slice(&written.json).unwrap_or(Value::Null);
    Ok(scale_of(&value))
}

/// How dependents are treated when their owner is deleted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Propagation {
    Background,
    Foreground,
    Orphan,
}

/// What a DELETE asks for.
#[derive(Debug, Clone)]
pub struct DeleteRequest {
    pub propagation: Propagation,
    pub uid: Option<String>,
    pub resource_version: Option<String>,
    pub dry_run: bool,
}

/// What a deletion did.
pub enum Deleted {
    /// The object is gone; its last state.
    Gone(Value),
    /// Finalizers hold it; it now has a deletionTimestamp.
    Pending(Bytes),
}

/// DELETE: removes an object, or marks it for deletion while finalizers
/// remain.
pub fn delete(
    state: &mut State,
    rt: &Arc<ResourceType>,
    namespace: &str,
    name: &str,
    request: &DeleteRequest,
    admit: Admit<'_>,
) -> Result<Deleted, ApiError> {
    let old = stored_or_not_found(state, rt, namespace, name)?;
    if let Some(uid) = &request.uid
        && *uid != old.uid
    {
        return Err(ApiError::conflict(
            rt.subject(),
            name,
            &format!(
                "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                old.uid
            ),
        ));
    }
    if let Some(version) = &request.resource_version
        && *version != old.resource_version.to_string()
    {
        return Err(ApiError::conflict(
            rt.subject(),
            name,
            &format!(
                "Precondition failed: ResourceVersion in precondition: {version}, ResourceVersion in object meta: {}",
                old.resource_version
            ),
        ));
    }
    admit(rt, &old.namespace, name)?;
    let mut value = old.value();
    let has_finalizers = value
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty());
    // A Namespace, like an object with finalizers, first turns
    // Terminating; its contents go when it is finalized (`finalize_namespace`).
    let is_namespace = rt.group.is_empty() && rt.plural == NAMESPACES;
    if has_finalizers || is_namespace {
        if value.pointer("/metadata/deletionTimestamp").is_some() {
            return Ok(Deleted::Pending(old.json.clone()));
        }
        if let Some(metadata) = metadata_mut(&mut value) {
            metadata.insert("deletionTimestamp".into(), json!(now()));
            metadata.insert("deletionGracePeriodSeconds".into(), json!(0));
        }
        if is_namespace && let Some(status) = value.get_mut("status").and_then(Value::as_object_mut)
        {
            status.insert("phase".into(), json!("Terminating"));
        }
        if request.dry_run {
            return Ok(Deleted::Pending(Bytes::from(
                serde_json::to_vec(&value).unwrap_or_default(),
            )));
        }
        let stored = state.put(&rt.key(), canonical_order(value));
        return Ok(Deleted::Pending(stored.json.clone()));
    }
    if request.dry_run {
        return Ok(Deleted::Gone(value));
    }
    remove_with_effects(state, rt, &old.namespace, name, request.propagation);
    Ok(Deleted::Gone(value))
}

/// What the namespace controller does to a Terminating namespace: removes
/// everything in it, then the namespace.
pub fn finalize_namespace(state: &mut State, name: &str) {
    let terminating = state
        .get(&namespaces_key(), "", name)
        .is_some_and(|ns| ns.value().pointer("/metadata/deletionTimestamp").is_some());
    if !terminating {
        return;
    }
    if let Some(rt) = state.catalog.find("", "v1", NAMESPACES) {
        remove_with_effects(state, &rt, "", name, Propagation::Background);
    }
}

/// Namespaces left Terminating (in a loaded state file).
pub fn terminating_namespaces(state: &State) -> Vec<String> {
    state
        .list(&namespaces_key(), None, None)
        .filter(|ns| ns.value().pointer("/metadata/deletionTimestamp").is_some())
        .map(|ns| ns.name.clone())
        .collect()
}

/// Removes an object and what goes with it: a Namespace's contents, a
/// CRD's resources, a Service's addresses, dependents by owner reference.
pub fn remove_with_effects(
    state: &mut State,
    rt: &ResourceType,
    namespace: &str,
    name: &str,
    propagation: Propagation,
) {
    let Some(removed) = state.remove(&rt.key(), namespace, name) else {
        return;
    };
    if rt.group.is_empty() && rt.plural == NAMESPACES {
        let namespaced: Vec<Arc<ResourceType>> = state
            .catalog
            .types()
            .filter(|t| t.namespaced)
            .cloned()
            .collect();
        let mut seen = std::collections::HashSet::new();
        for t in namespaced {
            if !seen.insert(t.key()) {
                continue;
            }
            let names: Vec<String> = state
                .list(&t.key(), Some(name), None)
                .map(|o| o.name.clone())
                .collect();
            for member in names {
                remove_with_effects(state, &t, name, &member, Propagation::Orphan);
            }
        }
    }
    if rt.group == "apiextensions.k8s.io" && rt.kind == "CustomResourceDefinition" {
        let served: Vec<Arc<ResourceType>> = state
            .catalog
            .types()
            .filter(|t| t.crd.as_ref().is_some_and(|c| c.crd_name == name))
            .cloned()
            .collect();
        if let Some(t) = served.first() {
            let members: Vec<(String, String)> = state
                .list(&t.key(), None, None)
                .map(|o| (o.namespace.clone(), o.name.clone()))
                .collect();
            for (ns, member) in members {
                state.remove(&t.key(), &ns, &member);
            }
            state.drop_resource(&t.key());
        }
        state.catalog.remove_crd(name);
    }
    if rt.group.is_empty() && rt.plural == "services" {
        state.allocations.release(&removed.value());
    }
    if propagation != Propagation::Orphan {
        let uid = removed.uid.clone();
        let dependents: Vec<(ResourceKey, String, String)> = state
            .all_objects()
            .filter(|(_, o)| o.owners.contains(&uid))
            .map(|(k, o)| (k.clone(), o.namespace.clone(), o.name.clone()))
            .collect();
        for (key, ns, dependent) in dependents {
            if let Some(t) = state.catalog.storage_type(&key) {
                remove_with_effects(state, &t, &ns, &dependent, propagation);
            }
        }
    }
}

/// Removes an object whose last finalizer was just taken away by an update.
pub fn collect_if_finalized(state: &mut State, rt: &ResourceType, written: &Written) {
    let Ok(value) = serde_json::from_slice::<Value>(&written.json) else {
        return;
    };
    let terminating = value.pointer("/metadata/deletionTimestamp").is_some();
    let finalizers_left = value
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty());
    if terminating && !finalizers_left {
        let namespace = text(&value, "/metadata/namespace").to_string();
        let name = text(&value, "/metadata/name").to_string();
        remove_with_effects(state, rt, &namespace, &name, Propagation::Background);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simcluster::store::Store;

    fn ctx(manager: &str) -> WriteContext<'_> {
        WriteContext {
            manager,
            dry_run: false,
            field_validation: FieldValidation::Warn,
            admit: &admit_everything,
        }
    }

    fn setup() -> (Store, Arc<ResourceType>) {
        let store = Store::new(1000);
        let namespaces = store.read().catalog.find("", "v1", "namespaces").unwrap();
        store
            .write(|s| {
                create(s, &namespaces, "", json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}}), &ctx("test"))
            })
            .map_err(|e| e.to_string())
            .unwrap();
        let deployments = store
            .read()
            .catalog
            .find("apps", "v1", "deployments")
            .unwrap();
        (store, deployments)
    }

    fn deployment(replicas: i64) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}
        })
    }

    /// A merge patch of Deployment default/web by `manager`.
    fn merge_patch_web(
        store: &Store,
        rt: &Arc<ResourceType>,
        body: &[u8],
        manager: &str,
    ) -> Written {
        store
            .write(|s| {
                patch(
                    s,
                    rt,
                    "default",
                    "web",
                    PatchFormat::Merge,
                    body,
                    Endpoint::Main,
                    &ctx(manager),
                )
            })
            .unwrap()
    }

    fn parse(written: &Written) -> Value {
        serde_json::from_slice(&written.json).unwrap()
    }

    #[test]
    fn create_gives_identity_defaults_and_creator_ownership() {
        let (store, rt) = setup();
        let created = store
            .write(|s| create(s, &rt, "default", deployment(2), &ctx("kubectl-create")))
            .unwrap();
        let object = parse(&created);
        assert_eq!(object["metadata"]["generation"], 1);
        assert_eq!(object["metadata"]["namespace"], "default");
        assert_eq!(object["metadata"]["uid"].as_str().unwrap().len(), 36);
        assert_eq!(object["spec"]["revisionHistoryLimit"], 10);
        assert_eq!(object["status"], json!({}));
        let fields = &object["metadata"]["managedFields"][0];
        assert_eq!(fields["manager"], "kubectl-create");
        assert_eq!(fields["operation"], "Update");
        assert_eq!(
            fields["fieldsV1"]["f:spec"]["f:progressDeadlineSeconds"],
            json!({})
        );
        assert_eq!(
            fields["fieldsV1"]["f:spec"]["f:strategy"]["f:rollingUpdate"]["."],
            json!({})
        );
        assert!(
            fields["fieldsV1"]["f:spec"]["f:strategy"]
                .get(".")
                .is_none()
        );
    }

    #[test]
    fn what_the_server_allocates_at_creation_is_owned_by_no_manager() {
        let (store, _) = setup();
        let services = store.read().catalog.find("", "v1", "services").unwrap();
        let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                             "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}});
        let created = store
            .write(|s| create(s, &services, "default", service, &ctx("kubectl-create")))
            .unwrap();
        let object = parse(&created);
        assert!(object["spec"]["clusterIP"].is_string(), "{object:#}");
        let spec = &object["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"];
        assert_eq!(spec["f:sessionAffinity"], json!({}), "defaults are owned");
        for allocated in [
            "f:clusterIP",
            "f:clusterIPs",
            "f:ipFamilies",
            "f:ipFamilyPolicy",
        ] {
            assert!(spec.get(allocated).is_none(), "{allocated} in {spec:#}");
        }
        let namespaces = store.read().catalog.find("", "v1", "namespaces").unwrap();
        let namespace =
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}});
        let created = store
            .write(|s| create(s, &namespaces, "", namespace, &ctx("kubectl-create")))
            .unwrap();
        let object = parse(&created);
        assert_eq!(object["spec"]["finalizers"], json!(["kubernetes"]));
        let fields = &object["metadata"]["managedFields"][0]["fieldsV1"];
        assert!(fields.get("f:spec").is_none(), "{fields:#}");
        assert_eq!(
            fields["f:metadata"]["f:labels"]["f:kubernetes.io/metadata.name"],
            json!({})
        );
    }

    #[test]
    fn a_namespace_keeps_its_finalizers_through_an_update() {
        let (store, _) = setup();
        let namespaces = store.read().catalog.find("", "v1", "namespaces").unwrap();
        let put = json!({"apiVersion": "v1", "kind": "Namespace",
                         "metadata": {"name": "default", "labels": {"team": "a"}},
                         "spec": {"finalizers": []}});
        let updated = store
            .write(|s| {
                update(
                    s,
                    &namespaces,
                    "",
                    "default",
                    put,
                    Endpoint::Main,
                    &ctx("kubectl-edit"),
                )
            })
            .unwrap();
        let object = parse(&updated);
        assert_eq!(object["metadata"]["labels"]["team"], "a");
        assert_eq!(object["spec"]["finalizers"], json!(["kubernetes"]));
    }

    #[test]
    fn update_with_a_stale_resource_version_conflicts() {
        let (store, rt) = setup();
        store
            .write(|s| create(s, &rt, "default", deployment(2), &ctx("a")))
            .unwrap();
        let mut stale = deployment(3);
        stale["metadata"]["resourceVersion"] = json!("1");
        let error = store
            .write(|s| update(s, &rt, "default", "web", stale, Endpoint::Main, &ctx("b")))
            .err()
            .unwrap();
        assert_eq!((error.code, error.reason), (409, "Conflict"));
    }

    #[test]
    fn generation_moves_on_spec_change_but_not_on_labels() {
        let (store, rt) = setup();
        store
            .write(|s| create(s, &rt, "default", deployment(2), &ctx("a")))
            .unwrap();
        let labelled = merge_patch_web(&store, &rt, br#"{"metadata":{"labels":{"x":"y"}}}"#, "b");
        assert_eq!(parse(&labelled)["metadata"]["generation"], 1);
        let scaled = merge_patch_web(&store, &rt, br#"{"spec":{"replicas":4}}"#, "b");
        assert_eq!(parse(&scaled)["metadata"]["generation"], 2);
    }

    #[test]
    fn an_unchanged_write_keeps_the_resource_version() {
        let (store, rt) = setup();
        let first = store
            .write(|s| create(s, &rt, "default", deployment(2), &ctx("a")))
            .unwrap();
        let again = merge_patch_web(&store, &rt, br#"{"spec":{"replicas":2}}"#, "a");
        assert_eq!(
            parse(&first)["metadata"]["resourceVersion"],
            parse(&again)["metadata"]["resourceVersion"]
        );
    }

    #[test]
    fn creating_in_a_missing_namespace_is_not_found() {
        let (store, rt) = setup();
        let error = store
            .write(|s| create(s, &rt, "nowhere", deployment(1), &ctx("a")))
            .err()
            .unwrap();
        assert_eq!(error.message, "namespaces \"nowhere\" not found");
    }

    #[test]
    fn deleting_a_namespace_deletes_what_is_in_it() {
        let (store, rt) = setup();
        store
            .write(|s| create(s, &rt, "default", deployment(1), &ctx("a")))
            .unwrap();
        let namespaces = store.read().catalog.find("", "v1", "namespaces").unwrap();
        let request = DeleteRequest {
            propagation: Propagation::Background,
            uid: None,
            resource_version: None,
            dry_run: false,
        };
        let deleted = store
            .write(|s| delete(s, &namespaces, "", "default", &request, &admit_everything))
            .ok()
            .unwrap();
        assert!(matches!(deleted, Deleted::Pending(_)));
        assert!(store.read().get(&rt.key(), "default", "web").is_some());
        let refused = store
            .write(|s| create(s, &rt, "default", deployment(1), &ctx("a")))
            .err()
            .unwrap();
        assert_eq!(refused.code, 403);
        store.write(|s| finalize_namespace(s, "default"));
        assert!(store.read().get(&rt.key(), "default", "web").is_none());
        assert!(store.read().get(&namespaces.key(), "", "default").is_none());
    }
}
