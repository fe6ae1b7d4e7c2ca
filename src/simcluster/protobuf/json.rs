//! A protobuf message to the JSON the API server would show for it: field
//! names from the schema, zero values dropped where Go's JSON drops them,
//! and Kubernetes' own types (times, quantities, int-or-strings, raw JSON)
//! written the way their JSON marshallers write them.

use base64::Engine;
use serde_json::{Map, Value};

use super::schema::{Cardinality, Field, FieldType, Schema};
use super::wire::{Fields, WireError, WireType, WireValue};

/// Why a message could not be read, with the field path it was read at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("{path}: {source}")]
    Wire {
        path: String,
        #[source]
        source: WireError,
    },
    #[error("{path}: no message {message} in the schema")]
    UnknownMessage { path: String, message: String },
    #[error("{path}: expected {expected:?} on the wire, got {got:?}")]
    WireType {
        path: String,
        expected: WireType,
        got: WireType,
    },
    #[error("{path}: {message}")]
    Value { path: String, message: String },
}

/// Reads `bytes` as the message `name`.
pub fn message_to_json(schema: &Schema, name: &str, bytes: &[u8]) -> Result<Value, DecodeError> {
    Decoder { schema }.message(name, bytes, "")
}

struct Decoder<'s> {
    schema: &'s Schema,
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn wire_error(path: &str) -> impl Fn(WireError) -> DecodeError + '_ {
    move |source| DecodeError::Wire {
        path: path.to_string(),
        source,
    }
}

impl Decoder<'_> {
    fn message(&self, name: &str, bytes: &[u8], path: &str) -> Result<Value, DecodeError> {
        match name {
            "meta.v1.Time" => return time(self.scalars(bytes, path)?, false, path),
            "meta.v1.MicroTime" => return time(self.scalars(bytes, path)?, true, path),
            "intstr.IntOrString" => return int_or_string(self.scalars(bytes, path)?),
            "resource.Quantity" => {
                let fields = self.scalars(bytes, path)?;
                return Ok(fields.get(&1).cloned().unwrap_or(Value::Null));
            }
            "runtime.RawExtension" | "meta.v1.FieldsV1" => return raw_json(bytes, path),
            _ => {}
        }
        let message = self
            .schema
            .message(name)
            .ok_or_else(|| DecodeError::UnknownMessage {
                path: path.to_string(),
                message: name.to_string(),
            })?;
        let mut object = Map::new();
        for field in Fields::new(bytes) {
            let (number, value) = field.map_err(wire_error(path))?;
            // Fields this schema does not know are skipped, as the API
            // server's decoder skips them.
            let Some(field) = message.fields.get(&number) else {
                continue;
            };
            let field_path = join(path, &field.name);
            match field.cardinality {
                Cardinality::Single if field.inline => {
                    if let Value::Object(inner) = self.value(field, value, path)? {
                        object.extend(inner);
                    }
                }
                Cardinality::Single => {
                    let decoded = self.value(field, value, &field_path)?;
                    if field.keeps_zero || !is_zero(&decoded) {
                        object.insert(field.name.clone(), decoded);
                    } else {
                        object.remove(&field.name);
                    }
                }
                Cardinality::Repeated => {
                    let items = self.repeated(field, value, &field_path)?;
                    let list = object
                        .entry(field.name.clone())
                        .or_insert_with(|| Value::Array(Vec::new()));
                    if let Value::Array(list) = list {
                        list.extend(items);
                    }
                }
                Cardinality::Map => {
                    let (key, entry) = self.map_entry(field, value, &field_path)?;
                    let map = object
                        .entry(field.name.clone())
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(map) = map {
                        map.insert(key, entry);
                    }
                }
            }
        }
        Ok(Value::Object(object))
    }

    /// The scalar fields of a small fixed message, by number.
    fn scalars(
        &self,
        bytes: &[u8],
        path: &str,
    ) -> Result<std::collections::HashMap<u32, Value>, DecodeError> {
        let mut fields = std::collections::HashMap::new();
        for field in Fields::new(bytes) {
            let (number, value) = field.map_err(wire_error(path))?;
            let decoded = match value {
                WireValue::Varint(v) => Value::from(v as i64),
                WireValue::Bytes(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
                WireValue::Fixed32(_) | WireValue::Fixed64(_) => continue,
            };
            fields.insert(number, decoded);
        }
        Ok(fields)
    }

    fn value(&self, field: &Field, value: WireValue<'_>, path: &str) -> Result<Value, DecodeError> {
        let expected = match field.field_type {
            FieldType::Bool | FieldType::Int32 | FieldType::Int64 => WireType::Varint,
            FieldType::String | FieldType::Bytes | FieldType::Message(_) => WireType::Bytes,
        };
        let mismatch = || DecodeError::WireType {
            path: path.to_string(),
            expected,
            got: value.wire_type(),
        };
        Ok(match (&field.field_type, value) {
            (FieldType::Bool, WireValue::Varint(v)) => Value::Bool(v != 0),
            // Negative int32s are sign-extended to ten bytes on the wire.
            (FieldType::Int32, WireValue::Varint(v)) => Value::from(v as i64 as i32),
            (FieldType::Int64, WireValue::Varint(v)) => Value::from(v as i64),
            (FieldType::String, WireValue::Bytes(b)) => Value::String(
                String::from_utf8(b.to_vec()).map_err(|_| DecodeError::Value {
                    path: path.to_string(),
                    message: "a string that is not UTF-8".into(),
                })?,
            ),
            (FieldType::Bytes, WireValue::Bytes(b)) => {
                Value::String(base64::engine::general_purpose::STANDARD.encode(b))
            }
            (FieldType::Message(name), WireValue::Bytes(b)) => self.message(name, b, path)?,
            _ => return Err(mismatch()),
        })
    }

    /// The items one occurrence of a repeated field adds: one value, or
    /// several varints packed together.
    fn repeated(
        &self,
        field: &Field,
        value: WireValue<'_>,
        path: &str,
    ) -> Result<Vec<Value>, DecodeError> {
        let numeric = matches!(
            field.field_type,
            FieldType::Bool | FieldType::Int32 | FieldType::Int64
        );
        match value {
            WireValue::Bytes(bytes) if numeric => Fields::packed_varints(bytes)
                .map_err(wire_error(path))?
                .into_iter()
                .map(|v| self.value(field, WireValue::Varint(v), path))
                .collect(),
            _ => Ok(vec![self.value(field, value, path)?]),
        }
    }

    /// A map entry: a message with the key as field 1, the value as 2.
    fn map_entry(
        &self,
        field: &Field,
        value: WireValue<'_>,
        path: &str,
    ) -> Result<(String, Value), DecodeError> {
        let WireValue::Bytes(bytes) = value else {
            return Err(DecodeError::WireType {
                path: path.to_string(),
                expected: WireType::Bytes,
                got: value.wire_type(),
            });
        };
        let mut key = String::new();
        let mut entry = None;
        for part in Fields::new(bytes) {
            match part.map_err(wire_error(path))? {
                (1, WireValue::Bytes(k)) => key = String::from_utf8_lossy(k).into_owned(),
                (2, v) => entry = Some(self.value(field, v, &join(path, "value"))?),
                _ => {}
            }
        }
        let entry = match (entry, &field.field_type) {
            (Some(entry), _) => entry,
            (None, FieldType::Message(name)) => self.message(name, &[], path)?,
            (None, FieldType::Bool) => Value::Bool(false),
            (None, FieldType::Int32 | FieldType::Int64) => Value::from(0),
            (None, FieldType::String | FieldType::Bytes) => Value::String(String::new()),
        };
        Ok((key, entry))
    }
}

/// What Go's `omitempty` leaves out.
fn is_zero(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_i64() == Some(0),
        Value::String(s) => s.is_empty(),
        // Structs are never empty to Go's JSON; lists and maps only
        // appear when they have items.
        Value::Array(_) | Value::Object(_) => false,
    }
}

/// `metav1.Time` and `MicroTime`: seconds and nanoseconds since the epoch;
/// the zero time is absent.
fn time(
    fields: std::collections::HashMap<u32, Value>,
    micro: bool,
    path: &str,
) -> Result<Value, DecodeError> {
    let seconds = fields.get(&1).and_then(Value::as_i64).unwrap_or(0);
    let nanos = fields.get(&2).and_then(Value::as_i64).unwrap_or(0);
    if seconds == 0 && nanos == 0 {
        return Ok(Value::Null);
    }
    let invalid = |e: jiff::Error| DecodeError::Value {
        path: path.to_string(),
        message: format!("not a time: {e}"),
    };
    let nanos = i32::try_from(nanos).unwrap_or(0);
    let timestamp =
        jiff::Timestamp::new(seconds, if micro { nanos } else { 0 }).map_err(invalid)?;
    let format = if micro {
        "%Y-%m-%dT%H:%M:%S%.6fZ"
    } else {
        "%Y-%m-%dT%H:%M:%SZ"
    };
    Ok(Value::String(timestamp.strftime(format).to_string()))
}

/// `intstr.IntOrString`: type 0 is the int, 1 the string.
fn int_or_string(fields: std::collections::HashMap<u32, Value>) -> Result<Value, DecodeError> {
    let is_string = fields.get(&1).and_then(Value::as_i64) == Some(1);
    Ok(if is_string {
        fields
            .get(&3)
            .cloned()
            .unwrap_or(Value::String(String::new()))
    } else {
        fields.get(&2).cloned().unwrap_or(Value::from(0))
    })
}

/// `RawExtension` and `FieldsV1`: JSON bytes carried in field 1.
fn raw_json(bytes: &[u8], path: &str) -> Result<Value, DecodeError> {
    let mut raw: &[u8] = &[];
    for field in Fields::new(bytes) {
        if let (1, WireValue::Bytes(b)) = field.map_err(wire_error(path))? {
            raw = b;
        }
    }
    if raw.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(raw).map_err(|e| DecodeError::Value {
        path: path.to_string(),
        message: format!("embedded bytes that are not JSON: {e}"),
    })
}
