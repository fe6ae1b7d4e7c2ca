//! Server-side apply through kube's `Patch::Apply`: ownership per manager
//! in the real managedFields format, conflicts, force, dry run, removal of
//! what a manager stops applying.

use kube::api::{Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use super::support::{
    api_code, client, deployment, namespaced, object, quiet, start, within_timeout,
};

fn entry<'a>(object: &'a Value, manager: &str, operation: &str) -> &'a Value {
    object["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["manager"] == manager && e["operation"] == operation)
        .unwrap_or_else(|| panic!("{manager} has an {operation} entry"))
}

#[tokio::test]
async fn apply_creates_and_records_the_applied_fields_in_fields_v1() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "Deployment", "default").await;
        let mut config = deployment("web", "nginx:1.27", 2);
        config["spec"]["template"]["spec"]["containers"][0]["ports"] = json!([{"containerPort": 80}]);
        let applied = api
            .patch("web", &PatchParams::apply("gitops"), &Patch::Apply(&config))
            .await
            .unwrap();
        let value = serde_json::to_value(&applied).unwrap();
        let fields = &entry(&value, "gitops", "Apply")["fieldsV1"];
        assert_eq!(entry(&value, "gitops", "Apply")["fieldsType"], "FieldsV1");
        assert_eq!(fields["f:spec"]["f:replicas"], json!({}));
        assert_eq!(fields["f:spec"]["f:selector"], json!({}));
        assert_eq!(fields["f:metadata"]["f:labels"]["f:app"], json!({}));
        let container = &fields["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"main\"}"];
        assert_eq!(container["."], json!({}));
        assert_eq!(container["f:image"], json!({}));
        assert_eq!(
            container["f:ports"]["k:{\"containerPort\":80,\"protocol\":\"TCP\"}"]["f:containerPort"],
            json!({})
        );
        assert!(fields["f:spec"].get("f:revisionHistoryLimit").is_none(), "defaults are nobody's");
        assert!(fields["f:metadata"].get("f:name").is_none());
        assert_eq!(value["spec"]["revisionHistoryLimit"], 10);
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn reapplying_the_same_configuration_changes_nothing() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "Deployment", "default").await;
        let config = deployment("web", "nginx:1.27", 2);
        let first = api
            .patch("web", &PatchParams::apply("gitops"), &Patch::Apply(&config))
            .await
            .unwrap();
        let second = api
            .patch("web", &PatchParams::apply("gitops"), &Patch::Apply(&config))
            .await
            .unwrap();
        assert_eq!(
            first.metadata.resource_version,
            second.metadata.resource_version
        );
        assert_eq!(
            serde_json::to_value(&first).unwrap(),
            serde_json::to_value(&second).unwrap()
        );
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn apply_conflict_names_fields_and_managers() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "Deployment", "default").await;
        api.patch(
            "web",
            &PatchParams::apply("gitops"),
            &Patch::Apply(&deployment("web", "nginx:1", 2)),
        )
        .await
        .unwrap();
        let scaler = PatchParams {
            field_manager: Some("scaler".into()),
            ..PatchParams::default()
        };
        api.patch(
            "web",
            &scaler,
            &Patch::Merge(json!({"spec": {"replicas": 5}})),
        )
        .await
        .unwrap();
        let error = api
            .patch(
                "web",
                &PatchParams::apply("gitops"),
                &Patch::Apply(&deployment("web", "nginx:2", 2)),
            )
            .await
            .unwrap_err();
        assert_eq!(api_code(&error), (409, "Conflict".into()));
        let kube::Error::Api(status) = error else {
            unreachable!()
        };
        assert_eq!(
            status.message,
            "Apply failed with 1 conflict: conflict with \"scaler\" using apps/v1: .spec.replicas"
        );
        let cause = &status.details.unwrap().causes[0];
        assert_eq!(cause.reason, "FieldManagerConflict");
        assert_eq!(cause.field, ".spec.replicas");
        assert_eq!(cause.message, "conflict with \"scaler\" using apps/v1");
        let unchanged = api.get("web").await.unwrap();
        assert_eq!(unchanged.data["spec"]["replicas"], 5);
        assert_eq!(
            unchanged.data["spec"]["template"]["spec"]["containers"][0]["image"],
            "nginx:1"
        );
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn forced_apply_takes_the_fields_from_other_managers() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "Deployment", "default").await;
        api.create(
            &PostParams {
                field_manager: Some("kubectl-create".into()),
                ..PostParams::default()
            },
            &object(deployment("web", "nginx:1", 1)),
        )
        .await
        .unwrap();
        let forced = api
            .patch(
                "web",
                &PatchParams::apply("gitops").force(),
                &Patch::Apply(&deployment("web", "nginx:2", 3)),
            )
            .await
            .unwrap();
        let value = serde_json::to_value(&forced).unwrap();
        assert_eq!(value["spec"]["replicas"], 3);
        let creator = &entry(&value, "kubectl-create", "Update")["fieldsV1"];
        assert!(creator["f:spec"].get("f:replicas").is_none());
        assert!(creator["f:spec"].get("f:progressDeadlineSeconds").is_some());
        let gitops = &entry(&value, "gitops", "Apply")["fieldsV1"];
        assert_eq!(gitops["f:spec"]["f:replicas"], json!({}));
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_field_no_longer_applied_is_removed_unless_another_manager_owns_it() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "ConfigMap", "default").await;
        let config = |data: Value| {
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": data})
        };
        api.patch("settings", &PatchParams::apply("gitops"), &Patch::Apply(config(json!({"a": "1", "b": "2", "c": "3"}))))
            .await
            .unwrap();
        api.patch("settings", &PatchParams::apply("other"), &Patch::Apply(config(json!({"c": "3"}))))
            .await
            .unwrap();
        let after = api
            .patch("settings", &PatchParams::apply("gitops"), &Patch::Apply(config(json!({"a": "1"}))))
            .await
            .unwrap();
        assert_eq!(after.data["data"], json!({"a": "1", "c": "3"}));
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn dry_run_apply_answers_the_result_without_storing_it() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "Deployment", "default").await;
        let dry = PatchParams::apply("gitops").dry_run();
        let preview = api
            .patch("web", &dry, &Patch::Apply(&deployment("web", "nginx:1", 2)))
            .await
            .unwrap();
        assert_eq!(preview.data["spec"]["strategy"]["type"], "RollingUpdate");
        assert_eq!(api_code(&api.get("web").await.unwrap_err()).0, 404);
        api.patch(
            "web",
            &PatchParams::apply("gitops"),
            &Patch::Apply(&deployment("web", "nginx:1", 2)),
        )
        .await
        .unwrap();
        let before = api.get("web").await.unwrap();
        let changed = api
            .patch("web", &dry, &Patch::Apply(&deployment("web", "nginx:2", 2)))
            .await
            .unwrap();
        assert_eq!(
            changed.data["spec"]["template"]["spec"]["containers"][0]["image"],
            "nginx:2"
        );
        assert_eq!(changed.metadata.generation, Some(2));
        let after = api.get("web").await.unwrap();
        assert_eq!(
            after.metadata.resource_version,
            before.metadata.resource_version
        );
        assert_eq!(
            after.data["spec"]["template"]["spec"]["containers"][0]["image"],
            "nginx:1"
        );
        cluster.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn apply_to_a_mismatched_name_or_a_patch_without_patch_type_is_refused() {
    within_timeout(async {
        let cluster = start(quiet()).await;
        let client = client(&cluster).await;
        let api = namespaced(&client, "Deployment", "default").await;
        let error = api
            .patch(
                "other",
                &PatchParams::apply("gitops"),
                &Patch::Apply(&deployment("web", "nginx:1", 1)),
            )
            .await
            .unwrap_err();
        assert_eq!(api_code(&error), (400, "BadRequest".into()));
        let raw = super::support::http(
            &cluster,
            "PATCH",
            "/apis/apps/v1/namespaces/default/deployments/web",
            &deployment("web", "nginx:1", 1).to_string(),
        )
        .await
        .unwrap();
        assert_eq!(raw.status, 415, "a PATCH without a patch content type");
        cluster.shutdown().await.unwrap();
    })
    .await;
}
