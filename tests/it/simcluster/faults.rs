//! Injected faults and counted requests, through the Rust handle and over
//! `/_sim/...`.

use std::time::Duration;

use driftdeck::simcluster::{FaultSettings, SimOptions, WriteDenial};
use futures::TryStreamExt;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use serde_json::json;

use super::support::{
    api_code, client, deployment, eventually, http, namespaced, object, quiet, start,
    within_timeout,
};

#[tokio::test]
async fn a_share_of_requests_fails_with_the_chosen_code() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "ConfigMap", "default").await;
        cluster.faults().fail_requests(0.5, 500).unwrap();
        let mut codes = Vec::new();
        for _ in 0..6 {
            codes.push(match api.list(&ListParams::default()).await {
                Ok(_) => 200,
                Err(error) => api_code(&error).0,
            });
        }
        assert_eq!(codes, vec![200, 500, 200, 500, 200, 500]);
        cluster.faults().clear();
        assert!(api.list(&ListParams::default()).await.is_ok());
        assert!(cluster.faults().fail_requests(0.5, 404).is_err());
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn kube_retries_unavailable_answers_and_the_metrics_show_the_cost() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "ConfigMap", "default").await;
        cluster.metrics().reset();
        cluster.faults().fail_requests(0.5, 503).unwrap();
        for _ in 0..3 {
            api.list(&ListParams::default()).await.unwrap();
        }
        // The first list passes; each of the others fails once and is retried.
        assert_eq!(cluster.metrics().snapshot().count("list", "configmaps"), 5);
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn throttled_requests_get_429_with_retry_after() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        cluster
            .faults()
            .throttle_requests(1.0, Duration::from_secs(7))
            .unwrap();
        let answer = http(&cluster, "GET", "/api/v1/namespaces", "")
            .await
            .unwrap();
        assert_eq!(answer.status, 429);
        assert_eq!(answer.header("retry-after"), Some("7"));
        assert_eq!(answer.json()["reason"], "TooManyRequests");
        assert_eq!(answer.json()["details"]["retryAfterSeconds"], 7);
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn added_latency_outlasts_a_short_client_timeout() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        cluster.faults().set_latency(Duration::from_secs(3));
        let kubeconfig = kube::config::Kubeconfig::from_yaml(&cluster.kubeconfig_yaml()).unwrap();
        let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
            .await
            .unwrap();
        config.read_timeout = Some(Duration::from_millis(300));
        let impatient = kube::Client::try_from(config).unwrap();
        let error = impatient.apiserver_version().await.unwrap_err();
        assert!(
            !matches!(error, kube::Error::Api(_)),
            "a timeout, not an answer: {error:?}"
        );
        cluster.faults().set_latency(Duration::ZERO);
        assert!(impatient.apiserver_version().await.is_ok());
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn denied_writes_fail_as_an_admission_webhook_would() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "Deployment", "default").await;
        cluster
            .faults()
            .deny_writes(WriteDenial {
                resource: "deployments".into(),
                namespace: "default".into(),
                name: "web".into(),
                code: 403,
                message: "images must come from the internal registry".into(),
            })
            .unwrap();
        let error = api
            .create(&PostParams::default(), &object(deployment("web", "nginx:1", 1)))
            .await
            .unwrap_err();
        assert_eq!(api_code(&error), (403, "Forbidden".into()));
        let kube::Error::Api(status) = error else { unreachable!() };
        assert_eq!(
            status.message,
            "admission webhook \"deny.driftdeck.dev\" denied the request: images must come from the internal registry"
        );
        api.create(&PostParams::default(), &object(deployment("other", "nginx:1", 1)))
            .await
            .unwrap();
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn dropped_watches_are_reopened_by_the_watcher_without_losing_changes() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "ConfigMap", "default").await;
        let mut stream = std::pin::pin!(watcher(api.clone(), watcher::Config::default()));
        loop {
            if let Some(watcher::Event::InitDone) = stream.try_next().await.unwrap() {
                break;
            }
        }
        let before = cluster.metrics().snapshot().count("watch", "configmaps");
        cluster.faults().drop_watches();
        api.create(
            &PostParams::default(),
            &object(
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "after"}}),
            ),
        )
        .await
        .unwrap();
        loop {
            match stream.try_next().await {
                Ok(Some(watcher::Event::Apply(o) | watcher::Event::InitApply(o)))
                    if o.metadata.name.as_deref() == Some("after") =>
                {
                    break;
                }
                _ => continue,
            }
        }
        assert!(
            cluster.metrics().snapshot().count("watch", "configmaps") > before,
            "the dropped watch was opened again"
        );
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn offline_cluster_refuses_connections_then_listens_again() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        assert!(client.apiserver_version().await.is_ok());
        // Offline for longer than any test runs, and back on request: no
        // step depends on how quickly the machine gets to it.
        cluster.faults().go_offline(Duration::from_secs(3600));
        eventually("connections are refused", || async {
            tokio::net::TcpStream::connect(cluster.address())
                .await
                .is_err_and(|error| error.kind() == std::io::ErrorKind::ConnectionRefused)
        })
        .await;
        // Its open connection is cut too, by a task of its own.
        eventually("the client's connection is cut", || async {
            client.apiserver_version().await.is_err()
        })
        .await;
        cluster.faults().go_offline(Duration::ZERO);
        eventually("the cluster answers again", || async {
            client.apiserver_version().await.is_ok()
        })
        .await;
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_port_taken_while_offline_ends_serving_with_an_error_naming_it() {
    within_timeout(async {
        let cluster = start(SimOptions {
            rebind_timeout: Duration::from_millis(300),
            ..quiet()
        })
        .await;
        cluster.faults().go_offline(Duration::from_secs(3600));
        // Someone else takes the port while the cluster is away.
        let mut squatter = None;
        eventually("the port is free to take", || {
            let taken = std::net::TcpListener::bind(cluster.address()).ok();
            let got = taken.is_some();
            squatter = squatter.take().or(taken);
            async move { got }
        })
        .await;
        cluster.faults().go_offline(Duration::ZERO);
        cluster.serving_ended().await;
        let error = cluster.shutdown().await.unwrap_err().to_string();
        let port = squatter.unwrap().local_addr().unwrap().port();
        assert!(
            error.contains(&format!("127.0.0.1:{port} again")),
            "{error}"
        );
    })
    .await;
}

#[tokio::test]
async fn metrics_count_requests_by_verb_and_resource() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "Deployment", "default").await;
        cluster.metrics().reset();
        api.create(
            &PostParams::default(),
            &object(deployment("web", "nginx:1", 1)),
        )
        .await
        .unwrap();
        api.get("web").await.unwrap();
        api.list(&ListParams::default()).await.unwrap();
        api.list(&ListParams::default()).await.unwrap();
        api.patch(
            "web",
            &PatchParams::apply("me").force(),
            &Patch::Apply(&deployment("web", "nginx:1", 2)),
        )
        .await
        .unwrap();
        let snapshot = cluster.metrics().snapshot();
        assert_eq!(snapshot.count("create", "deployments.apps"), 1);
        assert_eq!(snapshot.count("get", "deployments.apps"), 1);
        assert_eq!(snapshot.count("list", "deployments.apps"), 2);
        assert_eq!(snapshot.count("patch", "deployments.apps"), 1);
        assert_eq!(snapshot.total, 5);
        let over_http = http(&cluster, "GET", "/_sim/metrics", "")
            .await
            .unwrap()
            .json();
        assert_eq!(over_http["total"], 5, "the /_sim endpoints are not counted");
        assert!(
            over_http["requests"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["verb"] == "list"
                    && r["resource"] == "deployments.apps"
                    && r["count"] == 2)
        );
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn faults_are_set_read_and_cleared_over_http() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let settings = json!({
            "errors": {"fraction": 1.0, "code": 500},
            "denyWrites": [{"resource": "ConfigMap", "name": "locked", "code": 422, "message": "frozen"}]
        });
        let put = http(&cluster, "PUT", "/_sim/faults", &settings.to_string()).await.unwrap();
        assert_eq!(put.status, 200);
        let read: FaultSettings = serde_json::from_str(&http(&cluster, "GET", "/_sim/faults", "").await.unwrap().body).unwrap();
        assert_eq!(read.deny_writes[0].code, 422);
        let failing = http(&cluster, "GET", "/api/v1/namespaces", "").await.unwrap();
        assert_eq!((failing.status, failing.json()["reason"].as_str()), (500, Some("InternalError")));
        let bad = http(&cluster, "PUT", "/_sim/faults", r#"{"errors": {"fraction": 2, "code": 500}}"#)
            .await
            .unwrap();
        assert_eq!(bad.status, 400);
        assert_eq!(http(&cluster, "DELETE", "/_sim/faults", "").await.unwrap().status, 204);
        assert_eq!(http(&cluster, "GET", "/api/v1/namespaces", "").await.unwrap().status, 200);
        let offline = http(&cluster, "POST", "/_sim/faults/offline?seconds=0.5", "").await.unwrap();
        assert_eq!(offline.status, 202);
        cluster.shutdown().await.unwrap();
    })
    .await;
}
