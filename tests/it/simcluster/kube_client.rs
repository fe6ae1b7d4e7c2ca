//! kube-rs against the simulated cluster: discovery, the verbs through
//! `Api<DynamicObject>`, selectors and pages, errors as kube's types,
//! defaults, generation, dry runs, deletion.

use std::time::Duration;

use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::discovery::{Discovery, Scope};
use serde_json::json;

use super::support::{
    api_code, client, deployment, namespace, namespaced, object, quiet, resource, start,
    within_timeout,
};

/// The Deployment many tests here start from: `web`, nginx:1, one replica.
fn web() -> DynamicObject {
    object(deployment("web", "nginx:1", 1))
}

/// Creates `web` through `api`, as a test's setup.
async fn create_web(api: &Api<DynamicObject>) {
    api.create(&PostParams::default(), &web()).await.unwrap();
}

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
            let kinds: Vec<(String, String, Scope)> = discovery
                .groups()
                .flat_map(|g| g.recommended_resources())
                .map(|(ar, caps)| (ar.kind, ar.api_version, caps.scope))
                .collect();
            for (kind, api_version) in [
                ("Deployment", "apps/v1"),
                ("CronJob", "batch/v1"),
                ("Ingress", "networking.k8s.io/v1"),
                ("HorizontalPodAutoscaler", "autoscaling/v2"),
                ("PodDisruptionBudget", "policy/v1"),
                ("Lease", "coordination.k8s.io/v1"),
                ("ClusterRoleBinding", "rbac.authorization.k8s.io/v1"),
                ("CustomResourceDefinition", "apiextensions.k8s.io/v1"),
                ("PersistentVolumeClaim", "v1"),
            ] {
                assert!(
                    kinds.iter().any(|(k, v, _)| k == kind && v == api_version),
                    "{kind} {api_version} is discovered"
                );
            }
            let namespace_scope = kinds.iter().find(|(k, _, _)| k == "Namespace").unwrap();
            assert_eq!(namespace_scope.2, Scope::Cluster);
            let deployment_scope = kinds.iter().find(|(k, _, _)| k == "Deployment").unwrap();
            assert_eq!(deployment_scope.2, Scope::Namespaced);
        }
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn created_deployment_has_identity_server_defaults_and_creator_fields() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "Deployment", "default").await;
        let params = PostParams {
            field_manager: Some("creator".into()),
            ..PostParams::default()
        };
        let created = api
            .create(&params, &object(deployment("web", "nginx:1.27", 2)))
            .await
            .unwrap();
        assert_eq!(created.metadata.uid.as_ref().map(String::len), Some(36));
        assert_eq!(created.metadata.generation, Some(1));
        assert!(created.metadata.creation_timestamp.is_some());
        let spec = &created.data["spec"];
        assert_eq!(spec["strategy"]["rollingUpdate"]["maxSurge"], "25%");
        assert_eq!(spec["progressDeadlineSeconds"], 600);
        let container = &spec["template"]["spec"]["containers"][0];
        assert_eq!(container["imagePullPolicy"], "IfNotPresent");
        assert_eq!(container["terminationMessagePath"], "/dev/termination-log");
        let managed = created.metadata.managed_fields.unwrap();
        assert_eq!(managed.len(), 1);
        assert_eq!(managed[0].manager.as_deref(), Some("creator"));
        assert_eq!(managed[0].operation.as_deref(), Some("Update"));
        let fetched = api.get("web").await.unwrap();
        assert_eq!(
            fetched.metadata.resource_version,
            created.metadata.resource_version
        );
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn service_gets_a_cluster_ip_and_port_defaults() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "Service", "default").await;
        let created = api
            .create(
                &PostParams::default(),
                &object(json!({
                    "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                    "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80}]}
                })),
            )
            .await
            .unwrap();
        let spec = &created.data["spec"];
        let ip = spec["clusterIP"].as_str().unwrap();
        assert!(ip.starts_with("10.96."), "{ip}");
        assert_eq!(spec["clusterIPs"], json!([ip]));
        assert_eq!(spec["ipFamilies"], json!(["IPv4"]));
        assert_eq!(spec["ipFamilyPolicy"], "SingleStack");
        assert_eq!(spec["sessionAffinity"], "None");
        assert_eq!(spec["internalTrafficPolicy"], "Cluster");
        assert_eq!(spec["externalTrafficPolicy"], "Cluster");
        let port = &spec["ports"][0];
        assert_eq!((port["protocol"].as_str(), port["targetPort"].as_i64()), (Some("TCP"), Some(80)));
        assert!(port["nodePort"].as_i64().is_some_and(|p| (30000..=32767).contains(&p)));
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn label_and_field_selectors_filter_lists_across_namespaces() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        cluster
            .load_objects([namespace("a"), namespace("b")], "test")
            .unwrap();
        let config_map = |ns: &str, name: &str, tier: &str| {
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": name, "namespace": ns, "labels": {"tier": tier, "app": "shop"}}})
        };
        cluster
            .load_objects(
                [
                    config_map("a", "one", "front"),
                    config_map("a", "two", "back"),
                    config_map("b", "three", "front"),
                    config_map("b", "four", "db"),
                ],
                "test",
            )
            .unwrap();
        let client = client(&cluster).await;
        let all: Api<DynamicObject> = Api::all_with(client.clone(), &resource(&client, "ConfigMap").await);
        let names = |list: kube::core::ObjectList<DynamicObject>| -> Vec<String> {
            list.items.into_iter().filter_map(|o| o.metadata.name).collect()
        };
        let cases = [
            ("tier=front", vec!["one", "three"]),
            ("tier==front", vec!["one", "three"]),
            ("tier!=front,app", vec!["two", "four"]),
            ("tier in (back,db)", vec!["two", "four"]),
            ("tier notin (front,back),app=shop", vec!["four"]),
            ("!tier", vec![]),
        ];
        for (selector, expected) in cases {
            let list = all.list(&ListParams::default().labels(selector)).await.unwrap();
            assert_eq!(names(list), expected, "{selector}");
        }
        let by_name = all
            .list(&ListParams::default().fields("metadata.name=three"))
            .await
            .unwrap();
        assert_eq!(names(by_name), vec!["three"]);
        let by_namespace = all
            .list(&ListParams::default().fields("metadata.namespace=a").labels("app=shop"))
            .await
            .unwrap();
        assert_eq!(names(by_namespace), vec!["one", "two"]);
        let unsupported = all
            .list(&ListParams::default().fields("data.x=1"))
            .await
            .unwrap_err();
        assert_eq!(api_code(&unsupported), (400, "BadRequest".into()));
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn paged_lists_continue_until_every_object_is_seen_once() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        cluster.load_objects([namespace("p")], "test").unwrap();
        let objects = (0..23).map(|i| {
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("cm-{i:02}"), "namespace": "p"}})
        });
        cluster.load_objects(objects, "test").unwrap();
        let client = client(&cluster).await;
        let api = namespaced(&client, "ConfigMap", "p").await;
        let mut seen = Vec::new();
        let mut params = ListParams::default().limit(10);
        let mut pages = 0;
        loop {
            let page = api.list(&params).await.unwrap();
            pages += 1;
            seen.extend(page.items.into_iter().filter_map(|o| o.metadata.name));
            match page.metadata.continue_ {
                Some(token) if !token.is_empty() => params = params.continue_token(&token),
                _ => break,
            }
        }
        assert_eq!(pages, 3);
        let expected: Vec<String> = (0..23).map(|i| format!("cm-{i:02}")).collect();
        assert_eq!(seen, expected);
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn errors_map_to_kube_error_types_with_status_reasons() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "Deployment", "default").await;
        let missing = api.get("nope").await.unwrap_err();
        assert_eq!(api_code(&missing), (404, "NotFound".into()));
        if let kube::Error::Api(status) = &missing {
            assert_eq!(status.message, "deployments.apps \"nope\" not found");
        }
        create_web(&api).await;
        let again = api
            .create(&PostParams::default(), &web())
            .await
            .unwrap_err();
        assert_eq!(api_code(&again), (409, "AlreadyExists".into()));
        let bad_name = api
            .create(
                &PostParams::default(),
                &object(deployment("Bad_Name", "nginx:1", 1)),
            )
            .await
            .unwrap_err();
        assert_eq!(api_code(&bad_name), (422, "Invalid".into()));
        if let kube::Error::Api(status) = &bad_name {
            let causes = &status.details.as_ref().unwrap().causes;
            assert_eq!(causes[0].field, "metadata.name");
        }
        let mut no_containers = deployment("empty", "x", 1);
        no_containers["spec"]["template"]["spec"]["containers"] = json!([]);
        let invalid = api
            .create(&PostParams::default(), &object(no_containers))
            .await
            .unwrap_err();
        assert_eq!(api_code(&invalid), (422, "Invalid".into()));
        let mut stale = api.get("web").await.unwrap();
        stale.metadata.resource_version = Some("1".into());
        let conflict = api
            .replace("web", &PostParams::default(), &stale)
            .await
            .unwrap_err();
        assert_eq!(api_code(&conflict), (409, "Conflict".into()));
        let nowhere = namespaced(&client, "Deployment", "nowhere").await;
        let no_namespace = nowhere
            .create(
                &PostParams::default(),
                &object(deployment("x", "nginx:1", 1)),
            )
            .await
            .unwrap_err();
        assert_eq!(api_code(&no_namespace), (404, "NotFound".into()));
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn bodies_without_kind_or_of_unknown_kinds_are_refused() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let no_kind = super::support::http(
            &cluster,
            "POST",
            "/api/v1/namespaces/default/configmaps",
            r#"{"apiVersion":"v1","metadata":{"name":"x"}}"#,
        )
        .await
        .unwrap();
        assert_eq!(no_kind.status, 400);
        assert!(
            no_kind.json()["message"]
                .as_str()
                .unwrap()
                .starts_with("Object 'Kind' is missing")
        );
        let unknown = super::support::http(
            &cluster,
            "GET",
            "/apis/example.com/v1/namespaces/default/gadgets",
            "",
        )
        .await
        .unwrap();
        assert_eq!(unknown.status, 404);
        assert_eq!(unknown.json()["kind"], "Status");
        assert_eq!(unknown.json()["reason"], "NotFound");
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn generation_moves_on_spec_changes_only() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "Deployment", "default").await;
        create_web(&api).await;
        let params = PatchParams::default();
        let labelled = api
            .patch(
                "web",
                &params,
                &Patch::Merge(json!({"metadata": {"labels": {"extra": "yes"}}})),
            )
            .await
            .unwrap();
        assert_eq!(labelled.metadata.generation, Some(1));
        let scaled = api
            .patch(
                "web",
                &params,
                &Patch::Merge(json!({"spec": {"replicas": 3}})),
            )
            .await
            .unwrap();
        assert_eq!(scaled.metadata.generation, Some(2));
        assert_ne!(
            scaled.metadata.resource_version,
            labelled.metadata.resource_version
        );
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn json_and_strategic_patches_apply_as_on_a_real_server() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "Deployment", "default").await;
        create_web(&api).await;
        let params = PatchParams::default();
        let strategic = api
            .patch(
                "web",
                &params,
                &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
                    {"name": "sidecar", "image": "envoy:1"}, {"name": "main", "image": "nginx:2"}
                ]}}}})),
            )
            .await
            .unwrap();
        let containers = &strategic.data["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers.as_array().unwrap().len(), 2);
        assert_eq!(containers[0]["name"], "main");
        assert_eq!(containers[0]["image"], "nginx:2");
        assert_eq!(containers[1]["terminationMessagePolicy"], "File");
        let replace = Patch::Json::<()>(
            serde_json::from_value(
                json!([{"op": "replace", "path": "/spec/replicas", "value": 4}]),
            )
            .unwrap(),
        );
        let patched = api.patch("web", &params, &replace).await.unwrap();
        assert_eq!(patched.data["spec"]["replicas"], 4);
        let failing = Patch::Json::<()>(
            serde_json::from_value(json!([{"op": "test", "path": "/spec/replicas", "value": 9}]))
                .unwrap(),
        );
        let error = api.patch("web", &params, &failing).await.unwrap_err();
        assert_eq!(api_code(&error).0, 422);
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn dry_run_writes_answer_but_store_nothing() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "Deployment", "default").await;
        let dry = PostParams {
            dry_run: true,
            ..PostParams::default()
        };
        let answered = api
            .create(&dry, &object(deployment("ghost", "nginx:1", 1)))
            .await
            .unwrap();
        assert_eq!(answered.data["spec"]["revisionHistoryLimit"], 10);
        assert_eq!(api_code(&api.get("ghost").await.unwrap_err()).0, 404);
        create_web(&api).await;
        let before = api.get("web").await.unwrap();
        let dry_patch = PatchParams {
            dry_run: true,
            ..PatchParams::default()
        };
        let patched = api
            .patch(
                "web",
                &dry_patch,
                &Patch::Merge(json!({"spec": {"replicas": 7}})),
            )
            .await
            .unwrap();
        assert_eq!(patched.data["spec"]["replicas"], 7);
        let after = api.get("web").await.unwrap();
        assert_eq!(after.data["spec"]["replicas"], 1);
        assert_eq!(
            after.metadata.resource_version,
            before.metadata.resource_version
        );
        let dry_delete = DeleteParams {
            dry_run: true,
            ..DeleteParams::default()
        };
        api.delete("web", &dry_delete).await.unwrap();
        assert!(api.get("web").await.is_ok());
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn deleting_a_namespace_deletes_what_is_in_it() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        cluster.load_objects([namespace("doomed")], "test").unwrap();
        let client = client(&cluster).await;
        let deployments = namespaced(&client, "Deployment", "doomed").await;
        create_web(&deployments).await;
        let namespaces: Api<DynamicObject> =
            Api::all_with(client.clone(), &resource(&client, "Namespace").await);
        let answer = namespaces
            .delete("doomed", &DeleteParams::default())
            .await
            .unwrap();
        let terminating = answer.left().unwrap();
        assert_eq!(terminating.data["status"]["phase"], "Terminating");
        let refused = deployments
            .create(
                &PostParams::default(),
                &object(deployment("late", "nginx:1", 1)),
            )
            .await
            .unwrap_err();
        assert_eq!(api_code(&refused), (403, "Forbidden".into()));
        loop {
            match namespaces.get("doomed").await {
                Err(error) => {
                    assert_eq!(api_code(&error).0, 404);
                    break;
                }
                Ok(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        assert_eq!(api_code(&deployments.get("web").await.unwrap_err()).0, 404);
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn deleting_an_owner_deletes_its_dependents_unless_orphaned() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let config_maps = namespaced(&client, "ConfigMap", "default").await;
        let create = |name: &str, owner: Option<(&str, &str)>| {
            let mut value = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}});
            if let Some((owner_name, uid)) = owner {
                value["metadata"]["ownerReferences"] =
                    json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": owner_name, "uid": uid}]);
            }
            object(value)
        };
        let parent = config_maps.create(&PostParams::default(), &create("parent", None)).await.unwrap();
        let uid = parent.metadata.uid.unwrap();
        config_maps
            .create(&PostParams::default(), &create("child", Some(("parent", &uid))))
            .await
            .unwrap();
        let keeper = config_maps.create(&PostParams::default(), &create("keeper", None)).await.unwrap();
        let keeper_uid = keeper.metadata.uid.unwrap();
        config_maps
            .create(&PostParams::default(), &create("orphan", Some(("keeper", &keeper_uid))))
            .await
            .unwrap();
        config_maps.delete("parent", &DeleteParams::background()).await.unwrap();
        assert_eq!(api_code(&config_maps.get("child").await.unwrap_err()).0, 404);
        config_maps.delete("keeper", &DeleteParams::orphan()).await.unwrap();
        assert!(config_maps.get("orphan").await.is_ok());
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn finalizers_hold_an_object_until_they_are_removed() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "ConfigMap", "default").await;
        api.create(
            &PostParams::default(),
            &object(json!({"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": "held", "finalizers": ["example.com/hold"]}})),
        )
        .await
        .unwrap();
        api.delete("held", &DeleteParams::default()).await.unwrap();
        let held = api.get("held").await.unwrap();
        assert!(held.metadata.deletion_timestamp.is_some());
        api.patch(
            "held",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": null}})),
        )
        .await
        .unwrap();
        assert_eq!(api_code(&api.get("held").await.unwrap_err()).0, 404);
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn secrets_fold_string_data_and_namespaces_get_their_name_label() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let secrets = namespaced(&client, "Secret", "default").await;
        let secret = secrets
            .create(
                &PostParams::default(),
                &object(
                    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                               "stringData": {"password": "hunter2"}}),
                ),
            )
            .await
            .unwrap();
        assert_eq!(secret.data["type"], "Opaque");
        assert_eq!(secret.data["data"]["password"], "aHVudGVyMg==");
        assert!(secret.data.get("stringData").is_none());
        let namespaces: Api<DynamicObject> =
            Api::all_with(client.clone(), &resource(&client, "Namespace").await);
        let created = namespaces
            .create(&PostParams::default(), &object(namespace("team-a")))
            .await
            .unwrap();
        assert_eq!(
            created.metadata.labels.unwrap()["kubernetes.io/metadata.name"],
            "team-a"
        );
        assert_eq!(created.data["spec"]["finalizers"], json!(["kubernetes"]));
        assert_eq!(created.data["status"]["phase"], "Active");
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn undeclared_fields_are_dropped_with_a_warning_or_refused() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let mut typo = deployment("web", "nginx:1", 1);
        typo["spec"]["replica"] = json!(3);
        let warned = super::support::http(
            &cluster,
            "POST",
            "/apis/apps/v1/namespaces/default/deployments",
            &typo.to_string(),
        )
        .await
        .unwrap();
        assert_eq!(warned.status, 201);
        assert_eq!(warned.header("warning"), Some(r#"299 - "unknown field \"spec.replica\"""#));
        assert!(warned.json()["spec"].get("replica").is_none());
        let client = client(&cluster).await;
        let api = namespaced(&client, "Deployment", "default").await;
        let strict = PatchParams::default().validation(kube::api::ValidationDirective::Strict);
        let refused = api
            .patch("web", &strict, &Patch::Merge(json!({"spec": {"replica": 3}})))
            .await
            .unwrap_err();
        assert_eq!(api_code(&refused), (400, "BadRequest".into()));
        let apply = api
            .patch("web", &PatchParams::apply("gitops"), &Patch::Apply(&typo))
            .await
            .unwrap_err();
        let kube::Error::Api(status) = apply else { unreachable!() };
        assert_eq!(
            status.message,
            "failed to create typed patch object (apps/v1, Kind=Deployment): .spec.replica: field not declared in schema"
        );
        cluster.shutdown().await.unwrap();
    })
    .await;
}
