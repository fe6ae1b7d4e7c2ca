//! Watches through kube: the runtime watcher, raw watch streams from a
//! resourceVersion, selectors, bookmarks, timeouts and expiry.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use kube::api::{
    DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::runtime::watcher;
use serde_json::json;

use super::support::{client, namespaced, object, quiet, start, within_timeout};

fn config_map(name: &str, tier: &str) -> kube::api::DynamicObject {
    object(json!({"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": name, "labels": {"tier": tier}}, "data": {"k": "v"}}))
}

#[tokio::test]
async fn runtime_watcher_sees_creation_change_and_deletion() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "ConfigMap", "default").await;
        let stream = watcher(api.clone(), watcher::Config::default().labels("tier=front"));
        let mut stream = std::pin::pin!(stream);
        loop {
            if let watcher::Event::InitDone = stream.try_next().await.unwrap().unwrap() {
                break;
            }
        }
        api.create(&PostParams::default(), &config_map("one", "front"))
            .await
            .unwrap();
        api.patch(
            "one",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"k": "w"}})),
        )
        .await
        .unwrap();
        api.delete("one", &DeleteParams::default()).await.unwrap();
        let mut seen = Vec::new();
        while seen.len() < 3 {
            match stream.try_next().await.unwrap().unwrap() {
                watcher::Event::Apply(o) => seen.push(format!("apply {}", o.data["data"]["k"])),
                watcher::Event::Delete(o) => {
                    seen.push(format!("delete {}", o.metadata.name.unwrap()))
                }
                _ => {}
            }
        }
        assert_eq!(seen, vec!["apply \"v\"", "apply \"w\"", "delete one"]);
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn streaming_list_watcher_ends_its_initial_events_with_a_bookmark() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "ConfigMap", "default").await;
        api.create(&PostParams::default(), &config_map("existing", "front"))
            .await
            .unwrap();
        let config = watcher::Config::default().streaming_lists();
        let mut stream = std::pin::pin!(watcher(api.clone(), config));
        let mut initial = Vec::new();
        loop {
            match stream.try_next().await.unwrap().unwrap() {
                watcher::Event::InitApply(o) => initial.push(o.metadata.name.unwrap()),
                watcher::Event::InitDone => break,
                _ => {}
            }
        }
        assert!(initial.contains(&"existing".to_string()), "{initial:?}");
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn watch_from_a_version_replays_later_changes_in_order() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "ConfigMap", "default").await;
        let first = api
            .create(&PostParams::default(), &config_map("a", "front"))
            .await
            .unwrap();
        let from = first.metadata.resource_version.unwrap();
        api.create(&PostParams::default(), &config_map("b", "front"))
            .await
            .unwrap();
        api.delete("a", &DeleteParams::default()).await.unwrap();
        let params = WatchParams::default().disable_bookmarks().timeout(2);
        let events: Vec<String> = api
            .watch(&params, &from)
            .await
            .unwrap()
            .map(|e| match e.unwrap() {
                WatchEvent::Added(o) => format!("ADDED {}", o.metadata.name.unwrap()),
                WatchEvent::Modified(o) => format!("MODIFIED {}", o.metadata.name.unwrap()),
                WatchEvent::Deleted(o) => format!("DELETED {}", o.metadata.name.unwrap()),
                WatchEvent::Bookmark(_) => "BOOKMARK".into(),
                WatchEvent::Error(e) => format!("ERROR {}", e.code),
            })
            .collect()
            .await;
        assert_eq!(
            events,
            vec!["ADDED b", "DELETED a"],
            "the stream ended at its timeout"
        );
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn relabelled_object_leaves_a_selecting_watch_as_deleted() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "ConfigMap", "default").await;
        let created = api
            .create(&PostParams::default(), &config_map("c", "front"))
            .await
            .unwrap();
        let params = WatchParams::default()
            .disable_bookmarks()
            .labels("tier=front")
            .timeout(5);
        let mut stream = api
            .watch(&params, &created.metadata.resource_version.unwrap())
            .await
            .unwrap()
            .boxed();
        api.patch(
            "c",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"tier": "back"}}})),
        )
        .await
        .unwrap();
        match stream.next().await.unwrap().unwrap() {
            WatchEvent::Deleted(o) => assert_eq!(o.metadata.labels.unwrap()["tier"], "back"),
            other => panic!("expected DELETED, got {other:?}"),
        }
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn bookmarks_come_when_asked_and_carry_the_latest_version() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "ConfigMap", "default").await;
        let created = api
            .create(&PostParams::default(), &config_map("d", "front"))
            .await
            .unwrap();
        let version = created.metadata.resource_version.unwrap();
        let params = WatchParams::default().timeout(5);
        let mut stream = api.watch(&params, &version).await.unwrap().boxed();
        match stream.next().await.unwrap().unwrap() {
            WatchEvent::Bookmark(b) => assert_eq!(b.metadata.resource_version, version),
            other => panic!("expected a BOOKMARK, got {other:?}"),
        }
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn watch_from_expired_version_is_gone() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "ConfigMap", "default").await;
        let created = api
            .create(&PostParams::default(), &config_map("e", "front"))
            .await
            .unwrap();
        api.create(&PostParams::default(), &config_map("e2", "front"))
            .await
            .unwrap();
        cluster.faults().expire_watch_history();
        let params = WatchParams::default().timeout(5);
        let mut stream = api
            .watch(&params, &created.metadata.resource_version.unwrap())
            .await
            .unwrap()
            .boxed();
        match stream.next().await.unwrap().unwrap() {
            WatchEvent::Error(status) => {
                assert_eq!(status.code, 410);
                assert_eq!(status.reason, "Expired");
                assert!(
                    status.message.starts_with("too old resource version"),
                    "{}",
                    status.message
                );
            }
            other => panic!("expected a 410 ERROR event, got {other:?}"),
        }
        assert!(
            stream.next().await.is_none(),
            "the stream ends after the error"
        );
        let list = api.list(&ListParams::default()).await.unwrap();
        let fresh = list.metadata.resource_version.unwrap();
        let quiet = WatchParams::default().disable_bookmarks().timeout(5);
        let mut resumed = api.watch(&quiet, &fresh).await.unwrap().boxed();
        api.create(&PostParams::default(), &config_map("f", "front"))
            .await
            .unwrap();
        match resumed.next().await.unwrap().unwrap() {
            WatchEvent::Added(o) => assert_eq!(o.metadata.name.as_deref(), Some("f")),
            other => panic!("expected ADDED after a fresh list, got {other:?}"),
        }
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_watch_ends_at_its_timeout() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "ConfigMap", "default").await;
        let list = api.list(&ListParams::default()).await.unwrap();
        let params = WatchParams::default().disable_bookmarks().timeout(1);
        let events: Vec<_> = tokio::time::timeout(
            Duration::from_secs(10),
            api.watch(&params, &list.metadata.resource_version.unwrap())
                .await
                .unwrap()
                .collect::<Vec<_>>(),
        )
        .await
        .expect("the server closed the watch");
        assert!(events.is_empty());
        cluster.shutdown().await.unwrap();
    })
    .await;
}
