//! The state file: objects and the resourceVersion counter survive a
//! restart; an unreadable file is an error naming it.

use driftdeck::simcluster::{SimCluster, SimError, SimOptions};
use kube::api::PostParams;

use super::support::{client, deployment, namespaced, object, quiet, start, within_timeout};

#[tokio::test]
async fn state_saved_at_shutdown_is_loaded_at_start() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let options = SimOptions {
            state_file: Some(path.clone()),
            ..quiet()
        };
        let cluster = start(options.clone()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "Deployment", "default").await;
        let created = api
            .create(
                &PostParams::default(),
                &object(deployment("web", "nginx:1", 2)),
            )
            .await
            .unwrap();
        cluster.shutdown().await.unwrap();
        assert!(path.is_file());

        let again = start(options).await;
        let client = super::support::client(&again).await;
        let api = namespaced(&client, "Deployment", "default").await;
        let loaded = api.get("web").await.unwrap();
        assert_eq!(loaded.metadata.uid, created.metadata.uid);
        assert_eq!(
            loaded.metadata.resource_version,
            created.metadata.resource_version
        );
        assert_eq!(
            loaded.metadata.managed_fields,
            created.metadata.managed_fields
        );
        let next = api
            .create(
                &PostParams::default(),
                &object(deployment("later", "nginx:1", 1)),
            )
            .await
            .unwrap();
        let number = |v: &Option<String>| v.as_ref().unwrap().parse::<u64>().unwrap();
        assert!(
            number(&next.metadata.resource_version) > number(&created.metadata.resource_version)
        );
        again.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_state_file_that_is_not_json_is_an_error_naming_it() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.json");
        std::fs::write(&path, "{not json").unwrap();
        let options = SimOptions {
            state_file: Some(path.clone()),
            ..quiet()
        };
        let error = SimCluster::start(options).await.err().unwrap();
        assert!(matches!(error, SimError::InvalidState { .. }));
        assert!(error.to_string().contains("broken.json"), "{error}");
    })
    .await;
}
