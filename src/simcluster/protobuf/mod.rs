//! Request bodies in Kubernetes' protobuf encoding
//! (`application/vnd.kubernetes.protobuf`), which kubectl's generators
//! (`create deployment`, `create secret`, `run`…) send for built-in kinds:
//! the `k8s\0` magic, a `runtime.Unknown` envelope naming the kind, and the
//! object's message, read into the JSON the rest of the simulated cluster
//! works with. Answers stay JSON: kubectl accepts them.
//!
//! The messages come from `builtin.schema`, written by `regenerate.py` from
//! the Kubernetes sources. The `k8s-pb` crate has them as prost structs, but
//! without names for JSON or a way to walk them generically, so each of its
//! hundreds of types would need its own conversion; a table read at run
//! time gives every built-in kind at once.

mod json;
mod schema;
mod wire;

use std::sync::LazyLock;

use serde_json::Value;

use json::{DecodeError, message_to_json};
use schema::{Schema, SchemaError, message_of_kind};
use wire::{Fields, WireError, WireValue};

/// The media type kubectl sends for built-in kinds.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// Whether a client takes JSON answers: kubectl's Accept lists
/// `application/json` after protobuf, and client-go's default ends with
/// `*/*`; JSON is YAML too. One that asks for protobuf alone is refused
/// (406), not answered in a format it did not ask for.
pub fn json_is_acceptable(accept: &str) -> bool {
    accept.trim().is_empty()
        || accept.split(',').any(|media| {
            let media = media.split(';').next().unwrap_or("").trim();
            matches!(
                media,
                "application/json" | "application/yaml" | "application/*" | "*/*" | "*"
            )
        })
}

/// Every protobuf body starts with it.
const MAGIC: &[u8] = b"k8s\0";

static SCHEMA: LazyLock<Result<Schema, SchemaError>> =
    LazyLock::new(|| Schema::parse(include_str!("builtin.schema")));

/// Why a protobuf body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtobufError {
    #[error("the body does not start with the k8s protobuf prefix")]
    NoMagic,
    #[error("the runtime.Unknown envelope: {0}")]
    Envelope(#[source] WireError),
    #[error("the envelope carries content encoding {0:?}, which is not supported")]
    ContentEncoding(String),
    #[error("no protobuf schema for {api_version} {kind}: send it as JSON")]
    UnknownKind { api_version: String, kind: String },
    #[error("{api_version} {kind}: {source}")]
    Object {
        api_version: String,
        kind: String,
        #[source]
        source: DecodeError,
    },
    #[error(transparent)]
    Schema(#[from] SchemaError),
}

/// The `runtime.Unknown` a protobuf body wraps its object in.
#[derive(Debug, Default)]
struct Envelope<'a> {
    api_version: String,
    kind: String,
    raw: &'a [u8],
    content_encoding: String,
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn envelope(body: &[u8]) -> Result<Envelope<'_>, ProtobufError> {
    let unknown = body.strip_prefix(MAGIC).ok_or(ProtobufError::NoMagic)?;
    let mut envelope = Envelope::default();
    for field in Fields::new(unknown) {
        match field.map_err(ProtobufError::Envelope)? {
            (1, WireValue::Bytes(type_meta)) => {
                for part in Fields::new(type_meta) {
                    match part.map_err(ProtobufError::Envelope)? {
                        (1, WireValue::Bytes(v)) => envelope.api_version = text(v),
                        (2, WireValue::Bytes(v)) => envelope.kind = text(v),
                        _ => {}
                    }
                }
            }
            (2, WireValue::Bytes(raw)) => envelope.raw = raw,
            (3, WireValue::Bytes(encoding)) => envelope.content_encoding = text(encoding),
            _ => {}
        }
    }
    Ok(envelope)
}

/// Reads a protobuf request body into the object's JSON, `apiVersion` and
/// `kind` first as in any object.
pub fn decode_object(body: &[u8]) -> Result<Value, ProtobufError> {
    let envelope = envelope(body)?;
    if !envelope.content_encoding.is_empty() {
        return Err(ProtobufError::ContentEncoding(envelope.content_encoding));
    }
    let schema = SCHEMA.as_ref().map_err(|e| e.clone())?;
    let unknown_kind = || ProtobufError::UnknownKind {
        api_version: envelope.api_version.clone(),
        kind: envelope.kind.clone(),
    };
    let name = message_of_kind(&envelope.api_version, &envelope.kind);
    if schema.message(&name).is_none() {
        return Err(unknown_kind());
    }
    let object =
        message_to_json(schema, &name, envelope.raw).map_err(|source| ProtobufError::Object {
            api_version: envelope.api_version.clone(),
            kind: envelope.kind.clone(),
            source,
        })?;
    let mut typed = serde_json::Map::new();
    typed.insert("apiVersion".into(), Value::String(envelope.api_version));
    typed.insert("kind".into(), Value::String(envelope.kind));
    if let Value::Object(fields) = object {
        typed.extend(fields);
    }
    Ok(Value::Object(typed))
}

#[cfg(test)]
mod tests;
