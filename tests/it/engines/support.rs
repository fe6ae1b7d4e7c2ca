//! Argo CD and Flux in the simulated cluster: their real CRDs from
//! ../shared/conformance/engines, their example objects created with
//! status, and the controller played by the test (status written by hand).

use std::path::{Path, PathBuf};

use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use crate::live::support::World;
use crate::simcluster::support as sim;

pub fn engines_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/engines")
}

pub fn read_yaml(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

/// The example object `objects/ENGINE/FILE`.
pub fn example(file: &str) -> Value {
    read_yaml(&engines_dir().join("objects").join(file))
}

/// The CRDs the apps need (the 1.4 MB ApplicationSet one is left out: no
/// app is an ApplicationSet), and the namespaces of the examples.
pub async fn install_engines(world: &World) {
    let crds = Api::<DynamicObject>::all_with(
        world.client.clone(),
        &sim::resource(&world.client, "CustomResourceDefinition").await,
    );
    for file in [
        "argocd/application-crd.yaml",
        "argocd/appproject-crd.yaml",
        "flux/kustomize.toolkit.fluxcd.io_kustomizations.yaml",
        "flux/helm.toolkit.fluxcd.io_helmreleases.yaml",
        "flux/source.toolkit.fluxcd.io_gitrepositories.yaml",
        "flux/source.toolkit.fluxcd.io_helmrepositories.yaml",
        "flux/source.toolkit.fluxcd.io_ocirepositories.yaml",
    ] {
        let crd = read_yaml(&engines_dir().join("crds").join(file));
        crds.create(&PostParams::default(), &sim::object(crd))
            .await
            .unwrap_or_else(|e| panic!("create the CRD {file}: {e}"));
    }
    let namespaces = Api::<DynamicObject>::all_with(
        world.client.clone(),
        &sim::resource(&world.client, "Namespace").await,
    );
    for name in ["argocd", "argo-cd", "flux-system", "default", "podinfo"] {
        // `default` may exist already.
        let _ = namespaces
            .create(&PostParams::default(), &sim::object(sim::namespace(name)))
            .await;
    }
}

/// The API of an object's kind in its namespace.
pub async fn api_of(world: &World, object: &Value) -> Api<DynamicObject> {
    let kind = object["kind"].as_str().unwrap();
    let resource = sim::resource(&world.client, kind).await;
    let namespace = object["metadata"]["namespace"].as_str().unwrap();
    Api::namespaced_with(world.client.clone(), namespace, &resource)
}

/// Creates an example object as the conformance README says: cluster
/// metadata dropped, status kept by the create (Application has no status
/// subresource) or merge-patched through `/status` (the Flux kinds).
pub async fn create(world: &World, mut object: Value) -> Value {
    let metadata = object["metadata"].as_object_mut().unwrap();
    for field in [
        "resourceVersion",
        "uid",
        "creationTimestamp",
        "generation",
        "ownerReferences",
    ] {
        metadata.remove(field);
    }
    let api = api_of(world, &object).await;
    let name = object["metadata"]["name"].as_str().unwrap().to_string();
    let status = object.get("status").cloned();
    let created = api
        .create(&PostParams::default(), &sim::object(object.clone()))
        .await
        .unwrap_or_else(|e| panic!("create {name}: {e}"));
    if object["kind"] != "Application"
        && let Some(status) = status
    {
        set_status(world, &object, status).await;
    }
    serde_json::to_value(created).unwrap()
}

/// Plays the controller: merge-patches the object's status (through
/// `/status` where the kind has it).
pub async fn set_status(world: &World, object: &Value, status: Value) {
    let api = api_of(world, object).await;
    let name = object["metadata"]["name"].as_str().unwrap();
    let patch = json!({"status": status});
    if object["kind"] == "Application" {
        api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap_or_else(|e| panic!("status of {name}: {e}"));
    } else {
        api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap_or_else(|e| panic!("status of {name}: {e}"));
    }
}

/// The object as the cluster has it now.
pub async fn read_back(world: &World, object: &Value) -> Value {
    let api = api_of(world, object).await;
    let name = object["metadata"]["name"].as_str().unwrap();
    serde_json::to_value(api.get(name).await.unwrap()).unwrap()
}

/// A config with no native app (and `extra` appended), where driftdeck
/// does not read the engine apps' sources: the examples name github.com,
/// and tests reach 127.0.0.1 only.
pub fn config_without_apps(world: &World, extra: &str) {
    let off = "[engines]\nread_sources = false\n";
    let text = match extra.contains("[engines]\n") {
        true => extra.replacen("[engines]\n", off, 1),
        false => format!("{off}{extra}"),
    };
    config_reading_sources(world, &text);
}

/// The world's config as it is (its native apps), with driftdeck not
/// reading the engine apps' sources (the examples name github.com).
pub fn sources_off(world: &World) {
    let config = std::fs::read_to_string(world.path("config.toml")).unwrap_or_default();
    let text = format!("[engines]\nread_sources = false\n\n{config}");
    std::fs::write(world.path("config.toml"), text).unwrap();
}

/// A config with no native app, as `text` says (sources read unless it
/// says otherwise).
pub fn config_reading_sources(world: &World, text: &str) {
    std::fs::write(world.path("config.toml"), text).unwrap();
}

/// The Flux examples' repository URL, mapped in the config to the world's
/// repository (a local clone, as `[engines.sources]` maps it); the URL.
pub fn config_mapping_flux_source_to_the_repo(world: &World) -> &'static str {
    let url = "ssh://git@github.com/example-org/fleet-infra";
    config_reading_sources(
        world,
        &format!(
            "[engines.sources]\n\"{url}\" = \"{}\"\n",
            world.repo().display()
        ),
    );
    url
}

/// A new commit in which the shop's ConfigMap turns green; its id.
pub fn commit_a_green_config_map(world: &World) -> String {
    let mut objects = crate::live::support::shop_objects();
    let (_, config_map) = objects
        .iter_mut()
        .find(|(f, _)| *f == "configmap.json")
        .unwrap();
    config_map["data"]["color"] = json!("green");
    world.write("configmap.json", config_map);
    world.commit("green")
}

/// `driftdeck status -o json`: every report, by app name.
pub async fn reports(world: &World, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["status", "-o", "json"];
    all.extend_from_slice(args);
    let run = world.driftdeck(&all).await;
    let reports: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("status printed no JSON ({e}): {}", run.stderr));
    reports.as_array().unwrap().clone()
}

/// Reads the object until `check` holds (up to a bound); gives it then.
pub async fn read_until(
    world: &World,
    object: &Value,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..300 {
        let now = read_back(world, object).await;
        if check(&now) {
            return now;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen within 30 s");
}

/// The audit log's records, oldest first (none when there is no log).
pub fn audit_lines(file: &Path) -> Vec<Value> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// Waits for the Application's `operation` and checks it is the one Argo
/// CD's API server (and `driftdeck sync`) writes: a sync at `revision`
/// with `prune`, the hook strategy, initiated by `USER@HOST`, the last
/// operation's state cleared. Gives the object as then read.
pub async fn operation_written(world: &World, app: &Value, revision: &Value, prune: bool) -> Value {
    let asked = read_until(world, app, "the operation is written", |o| {
        !o["operation"].is_null()
    })
    .await;
    let operation = &asked["operation"];
    assert!(
        operation["initiatedBy"]["username"]
            .as_str()
            .is_some_and(|user| user.contains('@')),
        "{operation}"
    );
    assert_eq!(operation["sync"]["revision"], *revision, "{operation}");
    assert_eq!(operation["sync"]["prune"], prune, "{operation}");
    assert_eq!(operation["sync"]["syncStrategy"], json!({"hook": {}}));
    assert!(
        asked["status"]["operationState"].is_null(),
        "the last operation's state is cleared: {:#}",
        asked["status"]
    );
    asked
}

/// A world with the engines' CRDs, no native app, and these example
/// objects created (as `create` does).
pub async fn world_with(files: &[&str]) -> (World, Vec<Value>) {
    let world = World::new().await;
    install_engines(&world).await;
    config_without_apps(&world, "");
    let mut objects = Vec::new();
    for file in files {
        let object = example(file);
        create(&world, object.clone()).await;
        objects.push(object);
    }
    (world, objects)
}
