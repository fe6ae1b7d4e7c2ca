//! Media types over raw HTTP, for what kubectl never sends: a client that
//! accepts protobuf answers only, and protobuf for a custom resource.

use super::support::{http_with, quiet, start, within_timeout};

#[tokio::test]
async fn a_client_that_accepts_only_protobuf_is_refused_with_not_acceptable() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let answer = http_with(
            &cluster,
            "GET",
            "/api/v1/namespaces/default",
            &[("Accept", "application/vnd.kubernetes.protobuf")],
            b"",
        )
        .await
        .unwrap();
        assert_eq!(answer.status, 406, "{}", answer.body);
        assert_eq!(answer.json()["reason"], "NotAcceptable");
        let with_json = http_with(
            &cluster,
            "GET",
            "/api/v1/namespaces/default",
            &[(
                "Accept",
                "application/vnd.kubernetes.protobuf,application/json",
            )],
            b"",
        )
        .await
        .unwrap();
        assert_eq!(with_json.status, 200);
        assert_eq!(with_json.header("content-type"), Some("application/json"));
        assert_eq!(with_json.json()["metadata"]["name"], "default");
        cluster.shutdown().await.unwrap();
    })
    .await;
}

/// `k8s\0`, then a runtime.Unknown whose TypeMeta names the kind and whose
/// raw object is empty.
fn protobuf_envelope(api_version: &str, kind: &str) -> Vec<u8> {
    let mut type_meta = vec![0x0a, api_version.len() as u8];
    type_meta.extend(api_version.as_bytes());
    type_meta.extend([0x12, kind.len() as u8]);
    type_meta.extend(kind.as_bytes());
    let mut body = b"k8s\0".to_vec();
    body.extend([0x0a, type_meta.len() as u8]);
    body.extend(type_meta);
    body.extend([0x12, 0]);
    body
}

#[tokio::test]
async fn protobuf_for_a_custom_resource_is_an_unsupported_media_type_naming_the_kind() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let answer = http_with(
            &cluster,
            "POST",
            "/api/v1/namespaces/default/configmaps",
            &[("Content-Type", "application/vnd.kubernetes.protobuf")],
            &protobuf_envelope("example.com/v1", "Widget"),
        )
        .await
        .unwrap();
        assert_eq!(answer.status, 415, "{}", answer.body);
        assert_eq!(
            answer.json()["message"],
            "no protobuf schema for example.com/v1 Widget: send it as JSON"
        );
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_protobuf_envelope_for_a_builtin_kind_creates_the_object() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        // A ConfigMap whose ObjectMeta (field 1) has the name "empty".
        let mut body = protobuf_envelope("v1", "ConfigMap");
        body.truncate(body.len() - 2);
        body.extend([0x12, 9, 0x0a, 7, 0x0a, 5]);
        body.extend(b"empty");
        let answer = http_with(
            &cluster,
            "POST",
            "/api/v1/namespaces/default/configmaps",
            &[("Content-Type", "application/vnd.kubernetes.protobuf")],
            &body,
        )
        .await
        .unwrap();
        assert_eq!(answer.status, 201, "{}", answer.body);
        let created = answer.json();
        assert_eq!(created["kind"], "ConfigMap");
        assert_eq!(created["metadata"]["name"], "empty");
        assert_eq!(created["metadata"]["namespace"], "default");
        cluster.shutdown().await.unwrap();
    })
    .await;
}
