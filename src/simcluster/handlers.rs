//! The HTTP face of the simulated cluster: discovery and OpenAPI documents,
//! the verbs on resources (get, list, watch, create, update, patch, delete,
//! deletecollection), Tables for kubectl, and the `/_sim/...` endpoints for
//! faults and metrics. Every request is counted and passes the injected
//! faults first.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tokio::sync::watch as signal;

use super::catalog::ResourceType;
use super::discovery;
use super::faults::{FaultSettings, Faults};
use super::lifecycle::{
    self, DeleteRequest, Deleted, Endpoint, FieldValidation, PatchFormat, Propagation,
    WriteContext, Written,
};
use super::metrics::Metrics;
use super::openapi;
use super::protobuf;
use super::routing::{Query, Route, Target, route};
use super::selectors::{FieldSelector, LabelSelector, Selection};
use super::status::{ApiError, success_status};
use super::store::{Store, StoredObject};
use super::table::{IncludeObject, table, table_version};
use super::watch::{self, WatchEnds, WatchRequest, WatchStart};

/// What every handler shares.
pub struct App {
    pub store: Arc<Store>,
    pub faults: Faults,
    pub metrics: Metrics,
    pub shutdown: signal::Receiver<bool>,
    pub server_address: String,
    pub bookmark_interval: Duration,
}

/// The API server's request size limit.
const BODY_LIMIT: usize = 3 * 1024 * 1024;
/// A watch without `timeoutSeconds` ends after this, as the API server's
/// default request timeout.
const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(1800);

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/_sim/metrics", get(metrics_get).delete(metrics_reset))
        .route(
            "/_sim/faults",
            get(faults_get).put(faults_put).delete(faults_clear),
        )
        .route("/_sim/faults/drop-watches", post(drop_watches))
        .route("/_sim/faults/offline", post(go_offline))
        .route("/_sim/faults/expire-watch-history", post(expire_history))
        .fallback(api)
        .with_state(app)
}

async fn metrics_get(State(app): State<Arc<App>>) -> Response {
    Json(app.metrics.snapshot()).into_response()
}

async fn metrics_reset(State(app): State<Arc<App>>) -> StatusCode {
    app.metrics.reset();
    StatusCode::NO_CONTENT
}

async fn faults_get(State(app): State<Arc<App>>) -> Response {
    Json(app.faults.settings()).into_response()
}

async fn faults_put(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let settings: FaultSettings = match serde_json::from_slice(&body) {
        Ok(settings) => settings,
        Err(e) => return sim_error(format!("unreadable fault settings: {e}")),
    };
    match app.faults.set(settings) {
        Ok(()) => Json(app.faults.settings()).into_response(),
        Err(e) => sim_error(e.to_string()),
    }
}

async fn faults_clear(State(app): State<Arc<App>>) -> StatusCode {
    app.faults.clear();
    StatusCode::NO_CONTENT
}

async fn drop_watches(State(app): State<Arc<App>>) -> StatusCode {
    app.faults.drop_watches();
    StatusCode::NO_CONTENT
}

async fn go_offline(State(app): State<Arc<App>>, request: Request) -> Response {
    let query = Query::parse(request.uri().query());
    let Some(seconds) = query.get("seconds").and_then(|s| s.parse::<f64>().ok()) else {
        return sim_error("give the time to stay offline as ?seconds=N".into());
    };
    if !(0.0..=3600.0).contains(&seconds) {
        return sim_error(format!("seconds must be between 0 and 3600, got {seconds}"));
    }
    let faults = app.faults.clone();
    // Answer first: going offline cuts this connection too.
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        faults.go_offline(Duration::from_secs_f64(seconds));
    });
    StatusCode::ACCEPTED.into_response()
}

async fn expire_history(State(app): State<Arc<App>>) -> StatusCode {
    app.faults.expire_watch_history();
    StatusCode::NO_CONTENT
}

fn sim_error(message: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": message}))).into_response()
}

fn json_response(status: StatusCode, body: impl Into<Body>, content_type: &str) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

fn value_response(status: StatusCode, value: &Value) -> Response {
    json_response(status, value.to_string(), "application/json")
}

pub fn error_response(error: &ApiError) -> Response {
    let status = StatusCode::from_u16(error.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = value_response(status, &error.to_status());
    if let Some(seconds) = error.details.retry_after_seconds
        && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// The verb and resource a request is counted under.
fn classify(method: &Method, route: &Route, query: &Query) -> (&'static str, String) {
    match route {
        Route::Resource(target) => {
            let verb = match (method.as_str(), target.name.is_some()) {
                ("GET", true) => "get",
                ("GET", false) if query.flag("watch") => "watch",
                ("GET", false) => "list",
                ("POST", _) => "create",
                ("PUT", _) => "update",
                ("PATCH", _) => "patch",
                ("DELETE", true) => "delete",
                ("DELETE", false) => "deletecollection",
                _ => "unknown",
            };
            let mut resource = target.plural.clone();
            if !target.group.is_empty() {
                resource = format!("{resource}.{}", target.group);
            }
            if let Some(sub) = &target.subresource {
                resource = format!("{resource}/{sub}");
            }
            (verb, resource)
        }
        Route::Version => ("get", "version".into()),
        Route::Health => ("get", "health".into()),
        Route::OpenApiV2 | Route::OpenApiV3Index | Route::OpenApiV3 { .. } => {
            ("get", "openapi".into())
        }
        Route::CoreVersions | Route::Groups | Route::Group(_) | Route::Resources { .. } => {
            ("get", "discovery".into())
        }
        Route::Unknown => ("get", "unknown".into()),
    }
}

async fn api(State(app): State<Arc<App>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let query = Query::parse(parts.uri.query());
    let route = route(parts.uri.path(), &app.store.read().catalog);
    let (verb, resource) = classify(&parts.method, &route, &query);
    app.metrics.record(verb, &resource);
    let (latency, fault) = app.faults.before_request();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(error) = fault.or_else(|| app.faults.list_denied(verb, &resource)) {
        return error_response(&error);
    }
    let request = ApiRequest {
        method: parts.method,
        headers: parts.headers,
        query,
    };
    match serve(&app, request, body, route).await {
        Ok(response) => response,
        Err(error) => error_response(&error),
    }
}

struct ApiRequest {
    method: Method,
    headers: HeaderMap,
    query: Query,
}

impl ApiRequest {
    fn accept(&self) -> String {
        header_text(&self.headers, header::ACCEPT)
    }
}

async fn serve(
    app: &Arc<App>,
    request: ApiRequest,
    body: Body,
    route: Route,
) -> Result<Response, ApiError> {
    if !matches!(route, Route::Resource(_)) && request.method != Method::GET {
        return Err(ApiError::method_not_allowed());
    }
    let accept = request.accept();
    let catalog = || app.store.read().catalog.clone();
    match route {
        Route::Version => Ok(value_response(StatusCode::OK, &discovery::version())),
        Route::Health => Ok(json_response(StatusCode::OK, "ok", "text/plain")),
        Route::CoreVersions | Route::Groups => {
            let core = route == Route::CoreVersions;
            let catalog = catalog();
            Ok(match discovery::aggregated_version(&accept) {
                Some(version) => {
                    let media = if version == "v2" {
                        discovery::AGGREGATED_V2
                    } else {
                        discovery::AGGREGATED_V2BETA1
                    };
                    json_response(
                        StatusCode::OK,
                        discovery::aggregated(&catalog, core, version).to_string(),
                        media,
                    )
                }
                None if core => value_response(
                    StatusCode::OK,
                    &discovery::core_versions(&app.server_address),
                ),
                None => value_response(StatusCode::OK, &discovery::groups(&catalog)),
            })
        }
        Route::Group(group) => discovery::group(&catalog(), &group)
            .map(|v| value_response(StatusCode::OK, &v))
            .ok_or_else(ApiError::no_such_resource),
        Route::Resources { group, version } => discovery::resources(&catalog(), &group, &version)
            .map(|v| value_response(StatusCode::OK, &v))
            .ok_or_else(ApiError::no_such_resource),
        Route::OpenApiV3Index => Ok(value_response(StatusCode::OK, &openapi::index(&catalog()))),
        Route::OpenApiV3 { group, version } => {
            openapi::group_version_document(&catalog(), &group, &version)
                .map(|v| value_response(StatusCode::OK, &v))
                .ok_or_else(ApiError::no_such_resource)
        }
        Route::OpenApiV2 | Route::Unknown => Err(ApiError::no_such_resource()),
        Route::Resource(target) => {
            if !protobuf::json_is_acceptable(&accept) {
                return Err(ApiError::not_acceptable());
            }
            resource(app, request, body, target).await
        }
    }
}

async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| ApiError::request_too_large(BODY_LIMIT))
}

fn find_type(app: &App, target: &Target) -> Result<Arc<ResourceType>, ApiError> {
    app.store
        .read()
        .catalog
        .find(&target.group, &target.version, &target.plural)
        .ok_or_else(ApiError::no_such_resource)
}

async fn resource(
    app: &Arc<App>,
    request: ApiRequest,
    body: Body,
    target: Target,
) -> Result<Response, ApiError> {
    let rt = find_type(app, &target)?;
    if (!rt.namespaced && target.namespace.is_some())
        || (rt.namespaced && target.namespace.is_none() && target.name.is_some())
    {
        return Err(ApiError::no_such_resource());
    }
    let endpoint = match target.subresource.as_deref() {
        None => Endpoint::Main,
        Some("status") if rt.status_subresource => Endpoint::Status,
        Some("scale") if rt.scale_subresource => Endpoint::Scale,
        // A custom resource's subresource that its CRD does not enable is,
        // to the API server, an object it cannot find.
        Some(_) => {
            return Err(match &target.name {
                Some(name) if rt.is_custom() => ApiError::not_found(rt.subject(), name),
                _ => ApiError::no_such_resource(),
            });
        }
    };
    let method = request.method.clone();
    if endpoint != Endpoint::Main && !matches!(method, Method::GET | Method::PUT | Method::PATCH) {
        return Err(ApiError::method_not_allowed());
    }
    let namespace = target.namespace.clone().unwrap_or_default();
    if let (Endpoint::Scale, Some(name)) = (endpoint, target.name.clone()) {
        return scale(app, &request, body, &target, &namespace, &name).await;
    }
    match (method, target.name.clone()) {
        (Method::GET, None) if request.query.flag("watch") => {
            start_watch(app, &rt, &target, &request)
        }
        (Method::GET, None) => list(app, &rt, target.namespace.as_deref(), &request),
        (Method::GET, Some(name)) => get_one(app, &rt, &namespace, &name, &request),
        (Method::POST, None) => {
            let body = read_body(body).await?;
            let object = request_object(&request, &body)?;
            write(app, &request, |state, ctx| {
                let rt = current_type(state, &target)?;
                lifecycle::create(state, &rt, &namespace, object, ctx)
            })
        }
        (Method::PUT, Some(name)) => {
            let body = read_body(body).await?;
            let object = request_object(&request, &body)?;
            write(app, &request, |state, ctx| {
                let rt = current_type(state, &target)?;
                let written =
                    lifecycle::update(state, &rt, &namespace, &name, object, endpoint, ctx)?;
                if !ctx.dry_run {
                    lifecycle::collect_if_finalized(state, &rt, &written);
                }
                Ok(written)
            })
        }
        (Method::PATCH, Some(name)) => {
            let body = read_body(body).await?;
            let content_type = header_text(&request.headers, header::CONTENT_TYPE);
            let media = content_type
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_string();
            let force = request.query.flag("force");
            write(app, &request, |state, ctx| {
                let rt = current_type(state, &target)?;
                let format = match media.as_str() {
                    "application/merge-patch+json" => PatchFormat::Merge,
                    "application/json-patch+json" => PatchFormat::Json,
                    "application/strategic-merge-patch+json" => PatchFormat::Strategic,
                    "application/apply-patch+yaml" => {
                        return lifecycle::server_side_apply(
                            state, &rt, &namespace, &name, &body, force, endpoint, ctx,
                        );
                    }
                    _ => return Err(ApiError::unsupported_media_type(&content_type)),
                };
                let written =
                    lifecycle::patch(state, &rt, &namespace, &name, format, &body, endpoint, ctx)?;
                if !ctx.dry_run {
                    lifecycle::collect_if_finalized(state, &rt, &written);
                }
                Ok(written)
            })
        }
        (Method::DELETE, Some(name)) => {
            let body = read_body(body).await?;
            let delete = delete_request(&request.query, &body)?;
            delete_one(app, &target, &namespace, &name, &delete)
        }
        (Method::DELETE, None) => {
            let body = read_body(body).await?;
            let delete = delete_request(&request.query, &body)?;
            delete_collection(app, &rt, &target, &request, &delete)
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// `/scale`: read, replace or patch the Scale of an object.
async fn scale(
    app: &Arc<App>,
    request: &ApiRequest,
    body: Body,
    target: &Target,
    namespace: &str,
    name: &str,
) -> Result<Response, ApiError> {
    if request.method == Method::GET {
        let scale = {
            let state = app.store.read();
            let rt = current_type(&state, target)?;
            lifecycle::read_scale(&state, &rt, namespace, name)?
        };
        return Ok(value_response(StatusCode::OK, &scale));
    }
    let body = read_body(body).await?;
    let content_type = header_text(&request.headers, header::CONTENT_TYPE);
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    let patching = request.method == Method::PATCH;
    write(app, request, |state, ctx| {
        let rt = current_type(state, target)?;
        let wanted = if patching {
            let current = lifecycle::read_scale(state, &rt, namespace, name)?;
            let document: Value = serde_json::from_slice(&body)
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            match media.as_str() {
                "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
                    super::patch::merge_patch(&current, &document)
                }
                "application/json-patch+json" => super::patch::json_patch(&current, &document)
                    .map_err(|_| ApiError::unprocessable())?,
                _ => return Err(ApiError::unsupported_media_type(&content_type)),
            }
        } else {
            request_object(request, &body)?
        };
        let scale = lifecycle::write_scale(state, &rt, namespace, name, &wanted, ctx)?;
        Ok(Written {
            json: Bytes::from(scale.to_string()),
            created: false,
            warnings: Vec::new(),
        })
    })
}

fn current_type(
    state: &super::store::State,
    target: &Target,
) -> Result<Arc<ResourceType>, ApiError> {
    state
        .catalog
        .find(&target.group, &target.version, &target.plural)
        .ok_or_else(ApiError::no_such_resource)
}

/// The object a create or replace sends: JSON, YAML, or protobuf for the
/// built-in kinds.
fn request_object(request: &ApiRequest, body: &[u8]) -> Result<Value, ApiError> {
    let content_type = header_text(&request.headers, header::CONTENT_TYPE);
    let media = content_type.split(';').next().unwrap_or("").trim();
    match media {
        "" | "application/json" | "application/yaml" | "*/*" => lifecycle::parse_body(body),
        protobuf::MEDIA_TYPE => protobuf::decode_object(body).map_err(|e| match e {
            // As on a real cluster: custom resources take no protobuf.
            protobuf::ProtobufError::UnknownKind { .. } => {
                ApiError::unsupported_media_type_for(e.to_string())
            }
            _ => ApiError::bad_request(format!("error decoding protobuf: {e}")),
        }),
        _ => Err(ApiError::unsupported_media_type(&content_type)),
    }
}

fn dry_run(query: &Query) -> Result<bool, ApiError> {
    let values = query.all("dryRun");
    if let Some(other) = values.iter().find(|v| v.as_str() != "All") {
        return Err(ApiError::bad_request(format!(
            "dryRun: Unsupported value: \"{other}\": supported values: \"All\""
        )));
    }
    Ok(!values.is_empty())
}

/// The field manager: the `fieldManager` parameter, or the start of the
/// User-Agent as the API server derives it (`kubectl/v1.33.0 …` → `kubectl`).
fn field_manager(request: &ApiRequest) -> Result<String, ApiError> {
    if let Some(manager) = request.query.get("fieldManager") {
        if manager.len() > 128 {
            return Err(ApiError::bad_request(
                "fieldManager: Too long: may not be longer than 128",
            ));
        }
        return Ok(manager.to_string());
    }
    let agent = header_text(&request.headers, header::USER_AGENT);
    let prefix = agent.split('/').next().unwrap_or("").trim();
    Ok(if prefix.is_empty() {
        "unknown".into()
    } else {
        prefix.chars().take(128).collect()
    })
}

fn write(
    app: &Arc<App>,
    request: &ApiRequest,
    operation: impl FnOnce(&mut super::store::State, &WriteContext<'_>) -> Result<Written, ApiError>,
) -> Result<Response, ApiError> {
    let dry_run = dry_run(&request.query)?;
    let is_apply = header_text(&request.headers, header::CONTENT_TYPE)
        .starts_with("application/apply-patch+yaml");
    let manager = if is_apply {
        request.query.get("fieldManager").unwrap_or("").to_string()
    } else {
        field_manager(request)?
    };
    let faults = app.faults.clone();
    let admit =
        move |rt: &ResourceType, namespace: &str, name: &str| faults.admit(rt, namespace, name);
    let ctx = WriteContext {
        manager: &manager,
        dry_run,
        field_validation: field_validation(&request.query)?,
        admit: &admit,
    };
    let written = app.store.write(|state| operation(state, &ctx))?;
    let status = if written.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut response = json_response(status, written.json, "application/json");
    for warning in written.warnings {
        let text = format!("299 - \"{}\"", warning.replace('"', "\\\""));
        if let Ok(value) = HeaderValue::from_str(&text) {
            response.headers_mut().append(header::WARNING, value);
        }
    }
    Ok(response)
}

fn field_validation(query: &Query) -> Result<FieldValidation, ApiError> {
    match query.get("fieldValidation") {
        None | Some("") | Some("Warn") => Ok(FieldValidation::Warn),
        Some("Ignore") => Ok(FieldValidation::Ignore),
        Some("Strict") => Ok(FieldValidation::Strict),
        Some(other) => Err(ApiError::bad_request(format!(
            "fieldValidation: Unsupported value: \"{other}\": supported values: \"Ignore\", \"Strict\", \"Warn\""
        ))),
    }
}

fn table_response(
    rt: &ResourceType,
    objects: &[Value],
    version: &str,
    metadata: Value,
    query: &Query,
) -> Response {
    let include = IncludeObject::parse(query.get("includeObject"));
    let body = table(rt, objects, version, metadata, include);
    json_response(
        StatusCode::OK,
        body.to_string(),
        &format!("application/json;as=Table;v={version};g=meta.k8s.io"),
    )
}

fn get_one(
    app: &App,
    rt: &Arc<ResourceType>,
    namespace: &str,
    name: &str,
    request: &ApiRequest,
) -> Result<Response, ApiError> {
    let stored = app
        .store
        .read()
        .get(&rt.key(), namespace, name)
        .ok_or_else(|| ApiError::not_found(rt.subject(), name))?;
    let json = rt.present(&stored.json);
    match table_version(&request.accept()) {
        Some(version) => {
            let value: Value = serde_json::from_slice(&json).unwrap_or(Value::Null);
            let metadata = json!({"resourceVersion": stored.resource_version.to_string()});
            Ok(table_response(
                rt,
                &[value],
                version,
                metadata,
                &request.query,
            ))
        }
        None => Ok(json_response(StatusCode::OK, json, "application/json")),
    }
}

/// Where a paged list continues: the list's resourceVersion and the last
/// object returned.
#[derive(Debug, Clone, PartialEq)]
struct ContinueToken {
    revision: u64,
    namespace: String,
    name: String,
}

impl ContinueToken {
    fn encode(&self) -> String {
        let json = json!({"v": "meta.k8s.io/v1", "rv": self.revision, "ns": self.namespace, "name": self.name});
        URL_SAFE_NO_PAD.encode(json.to_string())
    }

    fn decode(text: &str) -> Result<Self, ApiError> {
        let invalid = || ApiError::bad_request(format!("continue key is not valid: {text}"));
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        Ok(Self {
            revision: value
                .get("rv")
                .and_then(Value::as_u64)
                .ok_or_else(invalid)?,
            namespace: value
                .get("ns")
                .and_then(Value::as_str)
                .ok_or_else(invalid)?
                .into(),
            name: value
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(invalid)?
                .into(),
        })
    }
}

/// The selectors of a list or watch request, refused as the API server
/// refuses them.
fn selection_from_query(rt: &ResourceType, query: &Query) -> Result<Selection, ApiError> {
    let labels = LabelSelector::parse(query.get("labelSelector").unwrap_or(""))
        .map_err(|e| ApiError::bad_request(format!("unable to parse requirement: {e}")))?;
    let supported: Vec<&str> = rt.field_selectors.iter().map(String::as_str).collect();
    let fields = FieldSelector::parse(query.get("fieldSelector").unwrap_or(""), &supported)
        .map_err(ApiError::bad_request)?;
    Ok(Selection { labels, fields })
}

const EXPIRED_CONTINUE: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

fn list(
    app: &App,
    rt: &Arc<ResourceType>,
    namespace: Option<&str>,
    request: &ApiRequest,
) -> Result<Response, ApiError> {
    let query = &request.query;
    let selection = selection_from_query(rt, query)?;
    let limit = match query.get("limit") {
        None | Some("") => 0,
        Some(text) => text
            .parse::<usize>()
            .map_err(|_| ApiError::bad_request(format!("limit: Invalid value: \"{text}\"")))?,
    };
    let token = query
        .get("continue")
        .filter(|t| !t.is_empty())
        .map(ContinueToken::decode)
        .transpose()?;
    let key = rt.key();
    let (items, list_revision, next, remaining) = {
        let state = app.store.read();
        if let Some(token) = &token
            && state.changes_since(token.revision).is_err()
        {
            return Err(ApiError::expired(EXPIRED_CONTINUE));
        }
        if query.get("resourceVersionMatch") == Some("Exact")
            && let Some(version) = query.get("resourceVersion")
            && version != state.revision().to_string()
        {
            return Err(ApiError::expired(format!(
                "resourceVersion {version} is not available: the simulated cluster serves only its current state"
            )));
        }
        let list_revision = token.as_ref().map_or(state.revision(), |t| t.revision);
        let after = token
            .as_ref()
            .map(|t| (t.namespace.clone(), t.name.clone()));
        let mut items: Vec<Arc<StoredObject>> = Vec::new();
        let mut more = false;
        for object in state.list(&key, namespace, after) {
            if !selection.matches(object) {
                continue;
            }
            if limit > 0 && items.len() == limit {
                more = true;
                break;
            }
            items.push(object.clone());
        }
        let next = match (more, items.last()) {
            (true, Some(last)) => Some(ContinueToken {
                revision: list_revision,
                namespace: last.namespace.clone(),
                name: last.name.clone(),
            }),
            _ => None,
        };
        let remaining = match &next {
            Some(token) if selection.is_empty() => Some(
                state
                    .list(
                        &key,
                        namespace,
                        Some((token.namespace.clone(), token.name.clone())),
                    )
                    .count(),
            ),
            _ => None,
        };
        (items, list_revision, next, remaining)
    };
    let mut metadata = json!({"resourceVersion": list_revision.to_string()});
    if let Some(map) = metadata.as_object_mut() {
        match &next {
            Some(next) => {
                map.insert("continue".into(), json!(next.encode()));
                if let Some(remaining) = remaining {
                    map.insert("remainingItemCount".into(), json!(remaining));
                }
            }
            // Custom resources are listed as unstructured objects, which
            // keep the empty token that typed lists leave out.
            None if rt.is_custom() => {
                map.insert("continue".into(), json!(""));
            }
            None => {}
        }
    }
    if let Some(version) = table_version(&request.accept()) {
        let values: Vec<Value> = items
            .iter()
            .map(|o| serde_json::from_slice(&rt.present(&o.json)).unwrap_or(Value::Null))
            .collect();
        return Ok(table_response(rt, &values, version, metadata, query));
    }
    Ok(json_response(
        StatusCode::OK,
        list_body(rt, &metadata, items.iter().map(|o| rt.present(&o.json))),
        "application/json",
    ))
}

/// A built-in object as a list item: the API server's typed lists leave out
/// each item's `apiVersion` and `kind` (the list's own say them).
fn without_type_meta(item: &[u8]) -> Vec<u8> {
    let Ok(Value::Object(mut map)) = serde_json::from_slice::<Value>(item) else {
        return item.to_vec();
    };
    map.shift_remove("apiVersion");
    map.shift_remove("kind");
    serde_json::to_vec(&map).unwrap_or_else(|_| item.to_vec())
}

/// A list response assembled from the stored JSON of its items.
fn list_body(rt: &ResourceType, metadata: &Value, items: impl Iterator<Item = Bytes>) -> Bytes {
    let head = format!(
        "{{\"kind\":\"{}\",\"apiVersion\":\"{}\",\"metadata\":{},\"items\":[",
        rt.list_kind(),
        rt.api_version(),
        metadata
    );
    let mut body = head.into_bytes();
    for (index, item) in items.enumerate() {
        if index > 0 {
            body.push(b',');
        }
        if rt.is_custom() {
            body.extend_from_slice(&item);
        } else {
            body.extend_from_slice(&without_type_meta(&item));
        }
    }
    body.extend_from_slice(b"]}");
    Bytes::from(body)
}

fn start_watch(
    app: &Arc<App>,
    rt: &Arc<ResourceType>,
    target: &Target,
    request: &ApiRequest,
) -> Result<Response, ApiError> {
    let query = &request.query;
    let selection = selection_from_query(rt, query)?;
    let start =
        if query.flag("sendInitialEvents") {
            WatchStart::InitialEvents
        } else {
            match query.get("resourceVersion") {
                None | Some("") | Some("0") => WatchStart::Current,
                Some(text) => WatchStart::Revision(text.parse().map_err(|_| {
                    ApiError::bad_request(format!("invalid resource version: {text}"))
                })?),
            }
        };
    let timeout = match query.get("timeoutSeconds") {
        None | Some("") => DEFAULT_WATCH_TIMEOUT,
        Some(text) => Duration::from_secs(text.parse().map_err(|_| {
            ApiError::bad_request(format!("timeoutSeconds: Invalid value: \"{text}\""))
        })?),
    };
    let table = table_version(&request.accept())
        .map(|version| (version, IncludeObject::parse(query.get("includeObject"))));
    let watch_request = WatchRequest {
        rt: rt.clone(),
        namespace: target.namespace.clone(),
        selection,
        start,
        bookmarks: query.flag("allowWatchBookmarks"),
        timeout,
        table,
    };
    let ends = WatchEnds {
        shutdown: app.shutdown.clone(),
        drops: app.faults.watch_drops(),
        bookmark_interval: app.bookmark_interval,
    };
    let body = watch::open(&app.store, watch_request, ends);
    Ok(json_response(StatusCode::OK, body, "application/json"))
}

fn delete_request(query: &Query, body: &[u8]) -> Result<DeleteRequest, ApiError> {
    let options = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        lifecycle::parse_body(body)?
    };
    let policy = options
        .get("propagationPolicy")
        .and_then(Value::as_str)
        .or_else(|| query.get("propagationPolicy"));
    let orphan = options.get("orphanDependents").and_then(Value::as_bool) == Some(true)
        || query.flag("orphanDependents");
    let propagation = match (policy, orphan) {
        (Some("Orphan"), _) | (None, true) => Propagation::Orphan,
        (Some("Foreground"), _) => Propagation::Foreground,
        (Some("Background") | None, _) => Propagation::Background,
        (Some(other), _) => {
            return Err(ApiError::bad_request(format!(
                "propagationPolicy: Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\""
            )));
        }
    };
    let body_dry_run = options
        .get("dryRun")
        .and_then(Value::as_array)
        .is_some_and(|v| v.iter().any(|d| d == "All"));
    Ok(DeleteRequest {
        propagation,
        uid: options
            .pointer("/preconditions/uid")
            .and_then(Value::as_str)
            .map(String::from),
        resource_version: options
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
            .map(String::from),
        dry_run: dry_run(query)? || body_dry_run,
    })
}

fn deleted_response(rt: &ResourceType, name: &str, deleted: Deleted) -> Response {
    match deleted {
        Deleted::Pending(json) => {
            let status = if is_namespaces(rt) {
                StatusCode::OK
            } else {
                StatusCode::ACCEPTED
            };
            json_response(status, rt.present(&json), "application/json")
        }
        Deleted::Gone(last) => {
            let returns_object = rt.group.is_empty()
                && matches!(rt.plural.as_str(), "pods" | "services" | "namespaces");
            if returns_object {
                value_response(StatusCode::OK, &last)
            } else {
                let uid = last
                    .pointer("/metadata/uid")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                value_response(StatusCode::OK, &success_status(rt.subject(), name, uid))
            }
        }
    }
}

fn delete_one(
    app: &Arc<App>,
    target: &Target,
    namespace: &str,
    name: &str,
    request: &DeleteRequest,
) -> Result<Response, ApiError> {
    let faults = app.faults.clone();
    let admit =
        move |rt: &ResourceType, namespace: &str, name: &str| faults.admit(rt, namespace, name);
    let (rt, deleted) = app.store.write(|state| {
        let rt = current_type(state, target)?;
        let deleted = lifecycle::delete(state, &rt, namespace, name, request, &admit)?;
        Ok::<_, ApiError>((rt, deleted))
    })?;
    if is_namespaces(&rt) && !request.dry_run {
        finalize_later(app, name);
    }
    Ok(deleted_response(&rt, name, deleted))
}

fn is_namespaces(rt: &ResourceType) -> bool {
    rt.group.is_empty() && rt.plural == "namespaces"
}

/// How long a deleted namespace stays Terminating before its contents go,
/// long enough for a client deleting a whole directory to delete the rest.
const NAMESPACE_FINALIZE_DELAY: Duration = Duration::from_millis(500);

/// Finalizes a Terminating namespace after a moment, as the namespace
/// controller would.
fn finalize_later(app: &Arc<App>, name: &str) {
    let store = app.store.clone();
    let name = name.to_string();
    tokio::spawn(async move {
        tokio::time::sleep(NAMESPACE_FINALIZE_DELAY).await;
        store.write(|state| lifecycle::finalize_namespace(state, &name));
    });
}

fn delete_collection(
    app: &Arc<App>,
    rt: &Arc<ResourceType>,
    target: &Target,
    request: &ApiRequest,
    delete: &DeleteRequest,
) -> Result<Response, ApiError> {
    let selection = selection_from_query(rt, &request.query)?;
    let faults = app.faults.clone();
    let admit =
        move |rt: &ResourceType, namespace: &str, name: &str| faults.admit(rt, namespace, name);
    let (items, revision) = app.store.write(|state| {
        let rt = current_type(state, target)?;
        let doomed: Vec<(String, String)> = state
            .list(&rt.key(), target.namespace.as_deref(), None)
            .filter(|o| selection.matches(o))
            .map(|o| (o.namespace.clone(), o.name.clone()))
            .collect();
        let mut items = Vec::new();
        for (namespace, name) in doomed {
            match lifecycle::delete(state, &rt, &namespace, &name, delete, &admit)? {
                Deleted::Gone(last) => items.push(Bytes::from(last.to_string())),
                Deleted::Pending(json) => items.push(json),
            }
        }
        Ok::<_, ApiError>((items, state.revision()))
    })?;
    if is_namespaces(rt) && !delete.dry_run {
        for item in &items {
            let value: Value = serde_json::from_slice(item).unwrap_or(Value::Null);
            if let Some(name) = value.pointer("/metadata/name").and_then(Value::as_str) {
                finalize_later(app, name);
            }
        }
    }
    let metadata = json!({"resourceVersion": revision.to_string()});
    Ok(json_response(
        StatusCode::OK,
        list_body(rt, &metadata, items.into_iter()),
        "application/json",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip_and_garbage_is_refused() {
        let token = ContinueToken {
            revision: 42,
            namespace: "prod".into(),
            name: "web".into(),
        };
        assert_eq!(ContinueToken::decode(&token.encode()).unwrap(), token);
        assert_eq!(ContinueToken::decode("!!").unwrap_err().code, 400);
    }
}
