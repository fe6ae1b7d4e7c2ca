//! CustomResourceDefinitions: creating one serves its kinds, deleting it
//! takes them away; custom resources are defaulted, pruned and validated
//! by their schema, and refuse strategic merge patches.

use kube::api::{
    Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams, ValidationDirective,
};
use kube::discovery::{ApiResource, Discovery, Scope};
use serde_json::{Value, json};

use super::support::{api_code, client, object, quiet, resource, start, within_timeout};

fn widget_crd(scope: &str) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com", "scope": scope,
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "required": ["color"], "properties": {
                        "color": {"type": "string", "enum": ["red", "blue"]},
                        "size": {"type": "integer", "default": 3},
                        "tags": {"type": "object", "additionalProperties": {"type": "string"}}
                    }},
                    "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}}
                }}}
            }]
        }
    })
}

async fn install(client: &kube::Client, scope: &str) -> ApiResource {
    let crds: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &resource(client, "CustomResourceDefinition").await,
    );
    let created = crds
        .create(&PostParams::default(), &object(widget_crd(scope)))
        .await
        .unwrap();
    let conditions = created.data["status"]["conditions"].as_array().unwrap();
    assert!(
        conditions
            .iter()
            .any(|c| c["type"] == "Established" && c["status"] == "True")
    );
    resource(client, "Widget").await
}

fn widget(name: &str, spec: Value) -> DynamicObject {
    object(
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name}, "spec": spec}),
    )
}

#[tokio::test]
async fn creating_a_crd_serves_its_kind_and_deleting_it_stops_serving_it() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let ar = install(&client, "Namespaced").await;
        let discovery = Discovery::new(client.clone())
            .run_aggregated()
            .await
            .unwrap();
        let (_, caps) = discovery
            .groups()
            .flat_map(|g| g.recommended_resources())
            .find(|(ar, _)| ar.kind == "Widget")
            .unwrap();
        assert_eq!(caps.scope, Scope::Namespaced);
        let widgets: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &ar);
        let created = widgets
            .create(
                &PostParams::default(),
                &widget("w1", json!({"color": "red"})),
            )
            .await
            .unwrap();
        assert_eq!(created.metadata.generation, Some(1));
        assert_eq!(
            widgets.list(&Default::default()).await.unwrap().items.len(),
            1
        );
        let crds: Api<DynamicObject> = Api::all_with(
            client.clone(),
            &resource(&client, "CustomResourceDefinition").await,
        );
        crds.delete("widgets.example.com", &DeleteParams::default())
            .await
            .unwrap();
        let gone = widgets.list(&Default::default()).await.unwrap_err();
        assert_eq!(api_code(&gone).0, 404);
        let discovery = Discovery::new(client.clone()).run().await.unwrap();
        assert!(!discovery.has_group("example.com"));
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn cluster_scoped_custom_resources_live_outside_namespaces() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let ar = install(&client, "Cluster").await;
        let widgets: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
        let created = widgets
            .create(
                &PostParams::default(),
                &widget("global", json!({"color": "blue"})),
            )
            .await
            .unwrap();
        assert!(created.metadata.namespace.is_none());
        assert!(widgets.get("global").await.is_ok());
        let wrong = super::support::http(
            &cluster,
            "GET",
            "/apis/example.com/v1/namespaces/default/widgets/global",
            "",
        )
        .await
        .unwrap();
        assert_eq!(wrong.status, 404);
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn custom_resources_are_defaulted_pruned_and_validated_by_their_schema() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let ar = install(&client, "Namespaced").await;
        let widgets: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &ar);
        let created = widgets
            .create(&PostParams::default(), &widget("w", json!({"color": "red", "bogus": true, "tags": {"a": "b"}})))
            .await
            .unwrap();
        assert_eq!(created.data["spec"], json!({"color": "red", "tags": {"a": "b"}, "size": 3}));
        let invalid = widgets
            .create(&PostParams::default(), &widget("bad", json!({"color": "green", "size": "big"})))
            .await
            .unwrap_err();
        assert_eq!(api_code(&invalid), (422, "Invalid".into()));
        let missing = widgets
            .create(&PostParams::default(), &widget("bad", json!({"size": 1})))
            .await
            .unwrap_err();
        assert_eq!(api_code(&missing), (422, "Invalid".into()));
        let strict = PatchParams::default().validation(ValidationDirective::Strict);
        let refused = widgets
            .patch("w", &strict, &Patch::Merge(json!({"spec": {"typo": 1}})))
            .await
            .unwrap_err();
        assert_eq!(api_code(&refused), (400, "BadRequest".into()));
        let apply = widgets
            .patch(
                "w",
                &PatchParams::apply("gitops"),
                &Patch::Apply(json!({"apiVersion": "example.com/v1", "kind": "Widget",
                                     "metadata": {"name": "w"}, "spec": {"color": "red", "typo": 1}})),
            )
            .await
            .unwrap_err();
        let kube::Error::Api(status) = apply else { unreachable!() };
        assert!(status.message.ends_with(".spec.typo: field not declared in schema"), "{}", status.message);
        let strategic = widgets
            .patch("w", &PatchParams::default(), &Patch::Strategic(json!({"spec": {"size": 4}})))
            .await
            .unwrap_err();
        assert_eq!(api_code(&strategic).0, 415);
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn custom_resource_status_changes_only_through_its_subresource() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let ar = install(&client, "Namespaced").await;
        let widgets: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &ar);
        widgets
            .create(
                &PostParams::default(),
                &widget("w", json!({"color": "red"})),
            )
            .await
            .unwrap();
        let ignored = widgets
            .patch(
                "w",
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"ready": true}})),
            )
            .await
            .unwrap();
        assert!(ignored.data.get("status").is_none());
        let written = widgets
            .patch_status(
                "w",
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"ready": true}})),
            )
            .await
            .unwrap();
        assert_eq!(written.data["status"]["ready"], true);
        assert_eq!(
            written.metadata.generation,
            Some(1),
            "status writes leave the generation"
        );
        cluster.shutdown().await.unwrap();
    })
    .await;
}
