//! kube-rs against the simulated cluster: discovery, the verbs through
//! `Api<DynamicObject>`, server-side apply, watches, errors.

use kube::api::{Api, DynamicObject, PostParams};
use kube::discovery::{Discovery, Scope};
use serde_json::json;

use crate::support::{client, quiet, start, within_timeout};

#[tokio::test]
async fn discovery_finds_builtin_kinds_both_ways() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let legacy = Discovery::new(client.clone()).run().await.unwrap();
        let aggregated = Discovery::new(client.clone())
            .run_aggregated()
            .await
            .unwrap();
        for discovery in [&legacy, &aggregated] {
            let (deployments, caps) = discovery
                .groups()
                .flat_map(|g| g.recommended_resources())
                .find(|(ar, _)| ar.kind == "Deployment")
                .unwrap();
            assert_eq!(deployments.api_version, "apps/v1");
            assert_eq!(caps.scope, Scope::Namespaced);
            let (namespaces, caps) = discovery
                .groups()
                .flat_map(|g| g.recommended_resources())
                .find(|(ar, _)| ar.kind == "Namespace")
                .unwrap();
            assert_eq!(namespaces.plural, "namespaces");
            assert_eq!(caps.scope, Scope::Cluster);
        }
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn created_deployment_has_server_defaults_and_an_identity() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let discovery = Discovery::new(client.clone()).run().await.unwrap();
        let (ar, _) = discovery
            .groups()
            .flat_map(|g| g.recommended_resources())
            .find(|(ar, _)| ar.kind == "Deployment")
            .unwrap();
        let api: Api<DynamicObject> = Api::namespaced_with(client, "default", &ar);
        let object: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}
        }))
        .unwrap();
        let created = api.create(&PostParams::default(), &object).await.unwrap();
        assert!(created.metadata.uid.is_some());
        assert_eq!(created.data["spec"]["strategy"]["type"], "RollingUpdate");
        let fetched = api.get("web").await.unwrap();
        assert_eq!(
            fetched.metadata.resource_version,
            created.metadata.resource_version
        );
        cluster.shutdown().await.unwrap();
    })
    .await;
}
