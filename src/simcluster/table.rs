//! Server-side printing: the `meta.k8s.io/v1` Table kubectl asks for when it
//! prints for humans (`kubectl get`, `get --watch`), with the columns a real
//! server gives the common kinds and a CRD's `additionalPrinterColumns`.

use serde_json::{Value, json};

use super::catalog::ResourceType;

/// What each row carries besides its cells (`includeObject`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IncludeObject {
    None,
    Metadata,
    Object,
}

impl IncludeObject {
    pub fn parse(text: Option<&str>) -> Self {
        match text {
            Some("None") => IncludeObject::None,
            Some("Object") => IncludeObject::Object,
            _ => IncludeObject::Metadata,
        }
    }
}

/// Whether an Accept header asks for a Table, and at which version.
pub fn table_version(accept: &str) -> Option<&'static str> {
    ["v1", "v1beta1"]
        .into_iter()
        .find(|version| media_type_asks(accept, "Table", "meta.k8s.io", version))
}

/// Whether one of the media types of an Accept header has the parameters
/// `as`, `g` and `v` given.
pub fn media_type_asks(accept: &str, kind: &str, group: &str, version: &str) -> bool {
    let wanted = [
        format!("as={kind}"),
        format!("g={group}"),
        format!("v={version}"),
    ];
    accept.split(',').any(|part| {
        let params: Vec<&str> = part.split(';').map(str::trim).collect();
        wanted.iter().all(|w| params.contains(&w.as_str()))
    })
}

struct Column {
    name: &'static str,
    kind: &'static str,
    cell: fn(&Value) -> Value,
}

fn text_at(object: &Value, pointer: &str) -> String {
    match object.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn number_at(object: &Value, pointer: &str) -> i64 {
    object.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// Kubernetes' `HumanDuration`: `45s`, `3m12s`, `5h`, `2d3h`, `4y`.
pub fn human_duration(seconds: i64) -> String {
    if seconds < 0 {
        return "0s".into();
    }
    let minutes = seconds / 60;
    let hours = minutes / 60;
    let days = hours / 24;
    let years = days / 365;
    match () {
        _ if seconds < 120 => format!("{seconds}s"),
        _ if minutes < 10 => match seconds % 60 {
            0 => format!("{minutes}m"),
            s => format!("{minutes}m{s}s"),
        },
        _ if minutes < 180 => format!("{minutes}m"),
        _ if hours < 8 => match minutes % 60 {
            0 => format!("{hours}h"),
            m => format!("{hours}h{m}m"),
        },
        _ if hours < 48 => format!("{hours}h"),
        _ if hours < 24 * 8 => match hours % 24 {
            0 => format!("{days}d"),
            h => format!("{days}d{h}h"),
        },
        _ if days < 365 * 2 => format!("{days}d"),
        _ if days < 365 * 8 => format!("{years}y{}d", days % 365),
        _ => format!("{years}y"),
    }
}

fn age(object: &Value) -> Value {
    let created = text_at(object, "/metadata/creationTimestamp");
    let seconds = created
        .parse::<jiff::Timestamp>()
        .map(|t| jiff::Timestamp::now().as_second() - t.as_second())
        .unwrap_or(0);
    json!(human_duration(seconds))
}

fn name(object: &Value) -> Value {
    json!(text_at(object, "/metadata/name"))
}

fn columns(rt: &ResourceType) -> Vec<Column> {
    let name_column = Column {
        name: "Name",
        kind: "string",
        cell: name,
    };
    let age_column = Column {
        name: "Age",
        kind: "string",
        cell: age,
    };
    let middle: Vec<Column> = match (rt.group.as_str(), rt.kind.as_str()) {
        ("apps", "Deployment") => vec![
            Column {
                name: "Ready",
                kind: "string",
                cell: |o| {
                    json!(format!(
                        "{}/{}",
                        number_at(o, "/status/readyReplicas"),
                        number_at(o, "/spec/replicas")
                    ))
                },
            },
            Column {
                name: "Up-to-date",
                kind: "integer",
                cell: |o| json!(number_at(o, "/status/updatedReplicas")),
            },
            Column {
                name: "Available",
                kind: "integer",
                cell: |o| json!(number_at(o, "/status/availableReplicas")),
            },
        ],
        ("apps", "ReplicaSet") => vec![
            Column {
                name: "Desired",
                kind: "integer",
                cell: |o| json!(number_at(o, "/spec/replicas")),
            },
            Column {
                name: "Current",
                kind: "integer",
                cell: |o| json!(number_at(o, "/status/replicas")),
            },
            Column {
                name: "Ready",
                kind: "integer",
                cell: |o| json!(number_at(o, "/status/readyReplicas")),
            },
        ],
        ("", "Pod") => vec![
            Column {
                name: "Ready",
                kind: "string",
                cell: |o| {
                    let statuses = o
                        .pointer("/status/containerStatuses")
                        .and_then(Value::as_array);
                    let ready = statuses.map_or(0, |s| {
                        s.iter().filter(|c| c["ready"] == json!(true)).count()
                    });
                    let total = o
                        .pointer("/spec/containers")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len);
                    json!(format!("{ready}/{total}"))
                },
            },
            Column {
                name: "Status",
                kind: "string",
                cell: |o| json!(text_at(o, "/status/phase")),
            },
            Column {
                name: "Restarts",
                kind: "string",
                cell: |_| json!("0"),
            },
        ],
        ("", "Service") => vec![
            Column {
                name: "Type",
                kind: "string",
                cell: |o| json!(text_at(o, "/spec/type")),
            },
            Column {
                name: "Cluster-IP",
                kind: "string",
                cell: |o| json!(text_at(o, "/spec/clusterIP")),
            },
            Column {
                name: "External-IP",
                kind: "string",
                cell: |o| {
                    let ip = text_at(o, "/status/loadBalancer/ingress/0/ip");
                    json!(if ip.is_empty() {
                        "<none>".to_string()
                    } else {
                        ip
                    })
                },
            },
            Column {
                name: "Port(s)",
                kind: "string",
                cell: |o| {
                    let ports: Vec<String> = o
                        .pointer("/spec/ports")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .map(|p| {
                            format!("{}/{}", p["port"], p["protocol"].as_str().unwrap_or("TCP"))
                        })
                        .collect();
                    json!(ports.join(","))
                },
            },
        ],
        ("", "Namespace") => vec![Column {
            name: "Status",
            kind: "string",
            cell: |o| json!(text_at(o, "/status/phase")),
        }],
        ("", "ConfigMap") => vec![Column {
            name: "Data",
            kind: "integer",
            cell: |o| {
                json!(
                    o.get("data")
                        .and_then(Value::as_object)
                        .map_or(0, |d| d.len())
                )
            },
        }],
        _ => Vec::new(),
    };
    let mut all = vec![name_column];
    all.extend(middle);
    all.push(age_column);
    all
}

/// A custom resource's value at a printer column's JSONPath (`.spec.size`).
fn json_path_cell(object: &Value, path: &str) -> Value {
    let pointer: String = path
        .trim_start_matches('.')
        .split('.')
        .filter(|s| !s.is_empty())
        .map(|s| format!("/{s}"))
        .collect();
    object.pointer(&pointer).cloned().unwrap_or(Value::Null)
}

fn row_object(object: &Value, include: IncludeObject) -> Option<Value> {
    match include {
        IncludeObject::None => None,
        IncludeObject::Object => Some(object.clone()),
        IncludeObject::Metadata => Some(json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": object.get("metadata").cloned().unwrap_or(json!({})),
        })),
    }
}

/// A Table of `objects` with the kind's columns.
pub fn table(
    rt: &ResourceType,
    objects: &[Value],
    version: &str,
    list_metadata: Value,
    include: IncludeObject,
) -> Value {
    let custom = rt.crd.as_ref().filter(|c| !c.printer_columns.is_empty());
    let (definitions, rows): (Vec<Value>, Vec<Value>) = match custom {
        Some(source) => {
            let mut definitions = vec![
                json!({"name": "Name", "type": "string", "format": "name", "description": "Name of the object", "priority": 0}),
            ];
            definitions.extend(source.printer_columns.iter().map(|c| {
                json!({"name": c.name, "type": c.kind, "format": "", "description": c.json_path, "priority": 0})
            }));
            let rows = objects
                .iter()
                .map(|o| {
                    let mut cells = vec![name(o)];
                    for column in &source.printer_columns {
                        let value = json_path_cell(o, &column.json_path);
                        cells.push(if column.kind == "date" {
                            let seconds = value
                                .as_str()
                                .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                                .map_or(0, |t| jiff::Timestamp::now().as_second() - t.as_second());
                            json!(human_duration(seconds))
                        } else {
                            value
                        });
                    }
                    row(cells, o, include)
                })
                .collect();
            (definitions, rows)
        }
        None => {
            let columns = columns(rt);
            let definitions = columns
                .iter()
                .map(|c| {
                    let format = if c.name == "Name" { "name" } else { "" };
                    json!({"name": c.name, "type": c.kind, "format": format, "description": "", "priority": 0})
                })
                .collect();
            let rows = objects
                .iter()
                .map(|o| row(columns.iter().map(|c| (c.cell)(o)).collect(), o, include))
                .collect();
            (definitions, rows)
        }
    };
    json!({
        "kind": "Table",
        "apiVersion": format!("meta.k8s.io/{version}"),
        "metadata": list_metadata,
        "columnDefinitions": definitions,
        "rows": rows,
    })
}

fn row(cells: Vec<Value>, object: &Value, include: IncludeObject) -> Value {
    let mut row = json!({"cells": cells});
    if let (Some(map), Some(object)) = (row.as_object_mut(), row_object(object, include)) {
        map.insert("object".into(), object);
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simcluster::catalog::Catalog;

    #[test]
    fn human_durations_read_like_kubectl() {
        assert_eq!(human_duration(45), "45s");
        assert_eq!(human_duration(192), "3m12s");
        assert_eq!(human_duration(3 * 3600), "3h");
        assert_eq!(human_duration(51 * 3600), "2d3h");
    }

    #[test]
    fn deployment_rows_show_ready_replicas() {
        let rt = Catalog::builtin()
            .find("apps", "v1", "deployments")
            .unwrap();
        let d = json!({"metadata": {"name": "web"}, "spec": {"replicas": 3}, "status": {"readyReplicas": 2}});
        let t = table(&rt, &[d], "v1", json!({}), IncludeObject::Metadata);
        assert_eq!(t["rows"][0]["cells"][0], "web");
        assert_eq!(t["rows"][0]["cells"][1], "2/3");
        assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
        assert_eq!(
            table_version("application/json;as=Table;v=v1;g=meta.k8s.io,application/json"),
            Some("v1")
        );
        assert_eq!(table_version("application/json"), None);
    }
}
