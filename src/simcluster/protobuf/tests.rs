//! Bodies encoded here the way client-go's generated marshallers encode
//! them: non-pointer fields always written, zero or not; pointers only
//! when set.

use serde_json::json;

use super::*;

fn varint(mut value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

fn int(number: u32, value: i64) -> Vec<u8> {
    let mut out = varint(u64::from(number) << 3);
    out.extend(varint(value as u64));
    out
}

fn bytes(number: u32, value: &[u8]) -> Vec<u8> {
    let mut out = varint((u64::from(number) << 3) | 2);
    out.extend(varint(value.len() as u64));
    out.extend(value);
    out
}

fn string(number: u32, value: &str) -> Vec<u8> {
    bytes(number, value.as_bytes())
}

fn message(number: u32, parts: &[Vec<u8>]) -> Vec<u8> {
    bytes(number, &parts.concat())
}

fn entry(number: u32, key: &str, value: Vec<u8>) -> Vec<u8> {
    message(number, &[string(1, key), value])
}

fn body(api_version: &str, kind: &str, object: &[Vec<u8>]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend(message(1, &[string(1, api_version), string(2, kind)]));
    out.extend(bytes(2, &object.concat()));
    out.extend(string(3, ""));
    out.extend(string(4, ""));
    out
}

/// ObjectMeta with the empty strings and zero time a Go marshaller writes.
fn metadata(name: &str, labels: &[(&str, &str)]) -> Vec<u8> {
    let mut parts = vec![
        string(1, name),
        string(2, ""),
        string(3, ""),
        string(4, ""),
        string(5, ""),
        string(6, ""),
        int(7, 0),
        message(8, &[]),
    ];
    parts.extend(labels.iter().map(|(k, v)| entry(11, k, string(2, v))));
    message(1, &parts)
}

/// What `kubectl create deployment web --image=nginx:1.27 --replicas=0
/// --port=80` sends, give or take the always-written zeros.
fn deployment() -> Vec<u8> {
    let labels = [("app", "web")];
    let container = message(
        2,
        &[
            string(1, "nginx"),
            string(2, "nginx:1.27"),
            message(6, &[int(3, 80), string(4, "TCP")]),
            message(8, &[]),
            string(13, ""),
            int(16, 0),
        ],
    );
    let template = message(3, &[metadata("", &labels), message(2, &[container])]);
    let selector = message(2, &[entry(1, "app", string(2, "web"))]);
    let strategy = message(4, &[string(1, "")]);
    let spec = message(2, &[int(1, 0), selector, template, strategy, int(5, 0)]);
    body("apps/v1", "Deployment", &[metadata("web", &labels), spec])
}

#[test]
fn deployment_from_kubectl_reads_as_its_json() {
    let object = decode_object(&deployment()).unwrap();
    assert_eq!(
        object,
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{
                        "name": "nginx",
                        "image": "nginx:1.27",
                        "ports": [{"containerPort": 80, "protocol": "TCP"}],
                        "resources": {}
                    }]}
                },
                "strategy": {}
            }
        })
    );
    let keys: Vec<&String> = object.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["apiVersion", "kind", "metadata", "spec"]);
}

#[test]
fn secret_bytes_become_base64_as_in_json() {
    let secret = body(
        "v1",
        "Secret",
        &[
            metadata("db", &[]),
            entry(2, "password", bytes(2, b"s3cret")),
            string(3, "Opaque"),
        ],
    );
    assert_eq!(
        decode_object(&secret).unwrap(),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
               "data": {"password": "czNjcmV0"}, "type": "Opaque"})
    );
}

#[test]
fn service_ports_read_int_or_string_and_drop_an_unset_target() {
    let port = |name: &str, number: i64, target: Vec<u8>| {
        message(
            1,
            &[
                string(1, name),
                string(2, "TCP"),
                int(3, number),
                message(4, &[target]),
                int(5, 0),
            ],
        )
    };
    let service = body(
        "v1",
        "Service",
        &[
            metadata("web", &[]),
            message(
                2,
                &[
                    port(
                        "http",
                        80,
                        [int(1, 0), int(2, 8080), string(3, "")].concat(),
                    ),
                    port(
                        "named",
                        81,
                        [int(1, 1), int(2, 0), string(3, "web")].concat(),
                    ),
                    port("unset", 82, [int(1, 0), int(2, 0), string(3, "")].concat()),
                    entry(2, "app", string(2, "web")),
                    string(4, "ClusterIP"),
                ],
            ),
            message(3, &[message(1, &[])]),
        ],
    );
    let object = decode_object(&service).unwrap();
    assert_eq!(
        object["spec"]["ports"],
        json!([
            {"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080},
            {"name": "named", "protocol": "TCP", "port": 81, "targetPort": "web"},
            {"name": "unset", "protocol": "TCP", "port": 82}
        ])
    );
    assert_eq!(object["spec"]["selector"], json!({"app": "web"}));
    assert_eq!(object["status"], json!({"loadBalancer": {}}));
}

#[test]
fn times_and_quantities_read_as_their_json_strings() {
    let pod = body(
        "v1",
        "Pod",
        &[
            message(
                1,
                &[
                    string(1, "p"),
                    message(8, &[int(1, 1_700_000_000), int(2, 5)]),
                ],
            ),
            message(
                2,
                &[message(
                    2,
                    &[
                        string(1, "main"),
                        message(8, &[entry(1, "cpu", message(2, &[string(1, "500m")]))]),
                    ],
                )],
            ),
        ],
    );
    let object = decode_object(&pod).unwrap();
    assert_eq!(
        object["metadata"]["creationTimestamp"],
        "2023-11-14T22:13:20Z"
    );
    assert_eq!(
        object["spec"]["containers"][0]["resources"]["limits"]["cpu"],
        "500m"
    );
}

#[test]
fn negative_and_packed_numbers_read_as_written() {
    let pod = body(
        "v1",
        "Pod",
        &[
            metadata("p", &[]),
            message(
                2,
                &[
                    // terminationGracePeriodSeconds is a pointer: 0 stays.
                    int(4, 0),
                    message(
                        14,
                        &[int(2, 0), bytes(4, &[varint(1000), varint(2000)].concat())],
                    ),
                    int(25, -1),
                ],
            ),
        ],
    );
    let object = decode_object(&pod).unwrap();
    assert_eq!(object["spec"]["terminationGracePeriodSeconds"], 0);
    assert_eq!(object["spec"]["securityContext"]["runAsUser"], 0);
    assert_eq!(
        object["spec"]["securityContext"]["supplementalGroups"],
        json!([1000, 2000])
    );
    assert_eq!(object["spec"]["priority"], -1);
}

#[test]
fn a_kind_without_a_schema_is_named_in_the_error() {
    let widget = body("example.com/v1", "Widget", &[metadata("w", &[])]);
    let error = decode_object(&widget).unwrap_err();
    assert_eq!(
        error.to_string(),
        "no protobuf schema for example.com/v1 Widget: send it as JSON"
    );
}

#[test]
fn a_body_without_the_prefix_is_refused() {
    assert_eq!(
        decode_object(b"{\"kind\":\"Pod\"}").unwrap_err(),
        ProtobufError::NoMagic
    );
}

#[test]
fn a_wrong_wire_type_names_the_field() {
    let broken = body("v1", "ConfigMap", &[message(1, &[int(1, 7)])]);
    let error = decode_object(&broken).unwrap_err().to_string();
    assert!(error.contains("metadata.name"), "{error}");
}

#[test]
fn truncated_bodies_are_errors_not_panics() {
    let whole = deployment();
    for end in 0..whole.len() {
        let _ = decode_object(&whole[..end]);
    }
    assert!(decode_object(&whole[..whole.len() - 3]).is_err());
}

#[test]
fn embedded_structs_sit_in_their_parent_as_in_json() {
    let config_map_key = message(
        3,
        &[message(1, &[string(1, "settings")]), string(2, "mode")],
    );
    let env = message(
        7,
        &[
            string(1, "MODE"),
            string(2, ""),
            message(3, &[config_map_key]),
        ],
    );
    let pod = body(
        "v1",
        "Pod",
        &[
            metadata("p", &[]),
            message(2, &[message(2, &[string(1, "main"), env])]),
        ],
    );
    assert_eq!(
        decode_object(&pod).unwrap()["spec"]["containers"][0]["env"],
        json!([{"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}}}])
    );
}

#[test]
fn json_answers_suit_kubectl_and_client_go_but_not_protobuf_alone() {
    assert!(json_is_acceptable(""));
    assert!(json_is_acceptable(
        "application/vnd.kubernetes.protobuf,application/json"
    ));
    assert!(json_is_acceptable(
        "application/vnd.kubernetes.protobuf, */*"
    ));
    assert!(json_is_acceptable(
        "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    ));
    assert!(!json_is_acceptable("application/vnd.kubernetes.protobuf"));
    assert!(!json_is_acceptable(
        "application/vnd.kubernetes.protobuf;stream=watch"
    ));
}
