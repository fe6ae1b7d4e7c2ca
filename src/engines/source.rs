//! Where an engine app's manifests come from, read from its object: the
//! repository, the branch to fetch, the folder, the revision the engine
//! compares with, and the namespace objects without one go to. driftdeck
//! renders that like a native app's source to compare it with live by its
//! own rules. What it cannot render as the engine would is said, not
//! guessed: a Helm chart from a chart repository, inline Helm values,
//! Kustomize overrides, several sources. Pure.

use std::collections::BTreeMap;

use serde_json::Value;

use super::status::text;
use super::{ControllerApp, ControllerKind};
use crate::config::{AppConfig, DEFAULT_POLL};
use crate::resource::ResourceKey;
use crate::source::SourceLocation;

/// An engine app's source, as driftdeck renders it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineSource {
    /// The repository URL as the engine's object writes it.
    pub url: String,
    /// The branch whose fetch brings the revision; `None`: the default branch.
    pub branch: Option<String>,
    /// The folder in the repository, `"."` for the root.
    pub path: String,
    /// The commit the engine compares with (Argo CD `status.sync.revision`,
    /// Flux's last attempted revision); `None`: the branch's head.
    pub revision: Option<String>,
    /// For namespaced objects that name none.
    pub namespace: String,
    /// Helm values files, relative to `path`.
    pub values: Vec<String>,
    /// The release name a chart is rendered with: Argo CD's
    /// `helm.releaseName`, else the object's name.
    pub release: String,
}

/// The app's source, or why driftdeck does not render it. `store` finds a
/// Flux source object (the GitRepository) in the live cache.
pub fn engine_source(
    app: &ControllerApp,
    object: &Value,
    store: impl Fn(&ResourceKey) -> Option<Value>,
) -> Result<EngineSource, String> {
    match app.kind {
        ControllerKind::ArgoApplication => argocd_source(object),
        ControllerKind::FluxKustomization => {
            let key = super::actions::source_key(app)
                .ok_or_else(|| "the Kustomization names no source".to_string())?;
            if key.kind != "GitRepository" {
                return Err(format!(
                    "its source is a {}; driftdeck reads Git repositories only",
                    key.kind
                ));
            }
            let repository = store(&key).ok_or_else(|| {
                format!(
                    "its source GitRepository {}/{} is not in the cluster",
                    key.namespace.as_deref().unwrap_or_default(),
                    key.name
                )
            })?;
            flux_source(object, &repository)
        }
        ControllerKind::FluxHelmRelease => Err(
            "a HelmRelease's chart is rendered by helm-controller with its values, not by driftdeck"
                .to_string(),
        ),
    }
}

fn argocd_source(app: &Value) -> Result<EngineSource, String> {
    if app.pointer("/spec/sources").is_some_and(|s| !s.is_null()) {
        return Err("the Application has several sources (spec.sources)".to_string());
    }
    let source = app
        .pointer("/spec/source")
        .ok_or_else(|| "the Application has no spec.source".to_string())?;
    let url = text(source, "/repoURL")
        .ok_or_else(|| "the Application's source has no repoURL".to_string())?;
    if let Some(chart) = text(source, "/chart") {
        return Err(format!(
            "its source is the Helm chart {chart} from a chart repository, not a Git folder"
        ));
    }
    for (field, what) in [
        ("/kustomize", "spec.source.kustomize overrides"),
        ("/plugin", "a config management plugin"),
        ("/helm/parameters", "spec.source.helm.parameters"),
        ("/helm/values", "spec.source.helm.values"),
        ("/helm/valuesObject", "spec.source.helm.valuesObject"),
        ("/helm/fileParameters", "spec.source.helm.fileParameters"),
        ("/directory/include", "spec.source.directory.include"),
        ("/directory/exclude", "spec.source.directory.exclude"),
        ("/directory/jsonnet", "spec.source.directory.jsonnet"),
    ] {
        if source.pointer(field).is_some_and(|v| !v.is_null()) {
            return Err(format!(
                "its source uses {what}, which driftdeck does not apply"
            ));
        }
    }
    let values = source
        .pointer("/helm/valueFiles")
        .and_then(Value::as_array)
        .map(|files| {
            files
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let namespace = text(app, "/spec/destination/namespace")
        .unwrap_or("default")
        .to_string();
    let revision = text(app, "/status/sync/revision")
        .filter(|r| is_commit(r))
        .map(str::to_string);
    let release = text(source, "/helm/releaseName")
        .or_else(|| text(app, "/metadata/name"))
        .unwrap_or_default()
        .to_string();
    Ok(EngineSource {
        url: url.to_string(),
        branch: argocd_branch(text(source, "/targetRevision")),
        path: folder(text(source, "/path")),
        revision,
        namespace,
        values,
        release,
    })
}

/// The branch `targetRevision` names: `HEAD`, empty or a commit fetch the
/// default branch (a commit is rendered by its id); anything else is
/// taken as a branch (a tag is then a missing branch, and said so).
fn argocd_branch(target: Option<&str>) -> Option<String> {
    match target {
        None | Some("HEAD") => None,
        Some(commit) if is_commit(commit) => None,
        Some(branch) => Some(
            branch
                .strip_prefix("refs/heads/")
                .unwrap_or(branch)
                .to_string(),
        ),
    }
}

fn flux_source(kustomization: &Value, repository: &Value) -> Result<EngineSource, String> {
    let url = text(repository, "/spec/url")
        .ok_or_else(|| "its GitRepository has no spec.url".to_string())?;
    if let Some(field) = ["/spec/include", "/spec/ignore"]
        .into_iter()
        .find(|f| repository.pointer(f).is_some_and(|v| !v.is_null()))
    {
        return Err(format!(
            "its GitRepository uses {}, which driftdeck does not apply",
            &field[1..].replace('/', ".")
        ));
    }
    for (field, what) in [
        ("/spec/patches", "spec.patches"),
        ("/spec/images", "spec.images"),
        ("/spec/components", "spec.components"),
        ("/spec/postBuild", "spec.postBuild substitutions"),
        ("/spec/namePrefix", "spec.namePrefix"),
        ("/spec/nameSuffix", "spec.nameSuffix"),
        ("/spec/commonMetadata", "spec.commonMetadata"),
    ] {
        if kustomization.pointer(field).is_some_and(|v| !v.is_null()) {
            return Err(format!(
                "the Kustomization uses {what}, which driftdeck does not apply"
            ));
        }
    }
    let revision = text(kustomization, "/status/lastAttemptedRevision")
        .or_else(|| text(repository, "/status/artifact/revision"))
        .and_then(flux_commit);
    // kustomize-controller puts objects that name no namespace in the
    // target namespace, else in the Kustomization's own.
    let namespace = text(kustomization, "/spec/targetNamespace")
        .or_else(|| text(kustomization, "/metadata/namespace"))
        .unwrap_or("default")
        .to_string();
    Ok(EngineSource {
        url: url.to_string(),
        branch: text(repository, "/spec/ref/branch").map(str::to_string),
        path: folder(text(kustomization, "/spec/path")),
        revision,
        namespace,
        values: Vec::new(),
        release: text(kustomization, "/metadata/name")
            .unwrap_or_default()
            .to_string(),
    })
}

/// The commit of a Flux revision: `main@sha1:abc…`, `sha1:abc…`, or the
/// older `main/abc…`.
pub fn flux_commit(revision: &str) -> Option<String> {
    let id = match revision.rsplit_once(':') {
        Some((_, id)) => id,
        None => revision.rsplit('/').next().unwrap_or(revision),
    };
    is_commit(id).then(|| id.to_string())
}

/// A full commit id (SHA-1 or SHA-256).
fn is_commit(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `./apps/production` → `apps/production`; none or `./` → `.`.
fn folder(path: Option<&str>) -> String {
    let parts: Vec<&str> = path
        .unwrap_or_default()
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// The location driftdeck reads for `url`: the config's mapping
/// (`[engines.sources]`), else the URL itself. Keys match with or without
/// a trailing `/` or `.git`.
pub fn mapped_location<'a>(url: &'a str, mapping: &'a BTreeMap<String, String>) -> &'a str {
    let wanted = comparable_url(url);
    mapping
        .iter()
        .find(|(from, _)| comparable_url(from) == wanted)
        .map_or(url, |(_, to)| to.as_str())
}

/// The native app an engine app's source amounts to, named as the engine
/// app, its URL mapped by `[engines.sources]`; or why it cannot be read.
/// Never synced by driftdeck: actions go through the engine.
pub fn native_config(
    app: &str,
    source: &EngineSource,
    mapping: &BTreeMap<String, String>,
    context: Option<String>,
) -> Result<AppConfig, String> {
    let repo = mapped_location(&source.url, mapping).to_string();
    let location =
        SourceLocation::parse(&repo).map_err(|err| format!("cannot read the source: {err}"))?;
    Ok(AppConfig {
        name: app.to_string(),
        repo,
        source: location,
        branch: source.branch.clone(),
        path: source.path.clone(),
        context,
        namespace: source.namespace.clone(),
        poll: DEFAULT_POLL,
        values: source.values.clone(),
        ignore: Vec::new(),
        sync: Box::default(),
    })
}

fn comparable_url(url: &str) -> &str {
    let url = url.trim().trim_end_matches('/');
    url.strip_suffix(".git").unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::EnginesConfig;
    use serde_json::json;

    fn app_of(object: &Value) -> ControllerApp {
        ControllerApp::of(object, &EnginesConfig::default()).unwrap()
    }

    fn no_store(_: &ResourceKey) -> Option<Value> {
        None
    }

    #[test]
    fn an_application_gives_its_repository_folder_and_compared_revision() {
        let object = json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "guestbook", "namespace": "argocd"},
            "spec": {
                "source": {"repoURL": "https://example.com/apps.git", "targetRevision": "HEAD",
                           "path": "./guestbook/", "helm": {"valueFiles": ["prod.yaml"]}},
                "destination": {"namespace": "guestbook"}
            },
            "status": {"sync": {"status": "Synced", "revision": "a3aeeb98f035116ebe88124283c2e03959e9dc34"}}
        });
        let source = engine_source(&app_of(&object), &object, no_store).unwrap();
        assert_eq!(
            source,
            EngineSource {
                url: "https://example.com/apps.git".to_string(),
                branch: None,
                path: "guestbook".to_string(),
                revision: Some("a3aeeb98f035116ebe88124283c2e03959e9dc34".to_string()),
                namespace: "guestbook".to_string(),
                values: vec!["prod.yaml".to_string()],
                release: "guestbook".to_string(),
            }
        );
        let mut named = object.clone();
        named["spec"]["source"]["helm"]["releaseName"] = json!("gb");
        assert_eq!(
            engine_source(&app_of(&named), &named, no_store)
                .unwrap()
                .release,
            "gb"
        );
        let mut on_branch = object.clone();
        on_branch["spec"]["source"]["targetRevision"] = json!("release-1");
        assert_eq!(
            engine_source(&app_of(&on_branch), &on_branch, no_store)
                .unwrap()
                .branch
                .as_deref(),
            Some("release-1")
        );
    }

    #[test]
    fn what_driftdeck_would_render_otherwise_than_argocd_is_refused_with_the_reason() {
        let base = json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "web", "namespace": "argocd"},
            "spec": {"source": {"repoURL": "https://example.com/apps.git", "path": "web"}}
        });
        let with = |pointer: &str, value: Value| {
            let mut object = base.clone();
            *object.pointer_mut("/spec/source").unwrap() = {
                let mut source = base["spec"]["source"].clone();
                source[pointer] = value;
                source
            };
            engine_source(&app_of(&object), &object, no_store).unwrap_err()
        };
        assert!(with("chart", json!("redis")).contains("Helm chart redis"));
        assert!(with("kustomize", json!({"images": ["x:1"]})).contains("kustomize overrides"));
        assert!(
            with("helm", json!({"parameters": [{"name": "a", "value": "b"}]}))
                .contains("helm.parameters")
        );
        let mut several = base.clone();
        several["spec"]["sources"] = json!([base["spec"]["source"]]);
        assert!(
            engine_source(&app_of(&several), &several, no_store)
                .unwrap_err()
                .contains("several sources")
        );
    }

    #[test]
    fn a_kustomization_reads_its_git_repository_and_last_attempted_revision() {
        let kustomization = json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "apps", "namespace": "flux-system"},
            "spec": {"path": "./apps/production", "sourceRef": {"kind": "GitRepository", "name": "fleet"}},
            "status": {"lastAttemptedRevision": "main@sha1:e65e854ec212d74d726324779902e4533f7d9a79"}
        });
        let repository = json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "metadata": {"name": "fleet", "namespace": "flux-system"},
            "spec": {"url": "ssh://git@example.com/fleet", "ref": {"branch": "main"}}
        });
        let app = app_of(&kustomization);
        let found = |key: &ResourceKey| (key.name == "fleet").then(|| repository.clone());
        let source = engine_source(&app, &kustomization, found).unwrap();
        assert_eq!(source.url, "ssh://git@example.com/fleet");
        assert_eq!(source.branch.as_deref(), Some("main"));
        assert_eq!(source.path, "apps/production");
        assert_eq!(
            source.revision.as_deref(),
            Some("e65e854ec212d74d726324779902e4533f7d9a79")
        );
        assert_eq!(source.namespace, "flux-system");
        let missing = engine_source(&app, &kustomization, no_store).unwrap_err();
        assert!(
            missing.contains("GitRepository flux-system/fleet is not in the cluster"),
            "{missing}"
        );
        let release = json!({
            "apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": "podinfo", "namespace": "podinfo"}, "spec": {}
        });
        assert!(
            engine_source(&app_of(&release), &release, no_store)
                .unwrap_err()
                .contains("rendered by helm-controller")
        );
    }

    #[test]
    fn flux_revisions_and_mapped_urls_are_read_in_every_spelling() {
        let id = "e65e854ec212d74d726324779902e4533f7d9a79";
        assert_eq!(flux_commit(&format!("main@sha1:{id}")).as_deref(), Some(id));
        assert_eq!(flux_commit(&format!("sha1:{id}")).as_deref(), Some(id));
        assert_eq!(flux_commit(&format!("main/{id}")).as_deref(), Some(id));
        assert_eq!(flux_commit("v1.2.3"), None);
        let mapping = BTreeMap::from([(
            "https://github.com/argoproj/argocd-example-apps.git".to_string(),
            "/home/me/src/argocd-example-apps".to_string(),
        )]);
        for url in [
            "https://github.com/argoproj/argocd-example-apps",
            "https://github.com/argoproj/argocd-example-apps.git",
            "https://github.com/argoproj/argocd-example-apps/",
        ] {
            assert_eq!(
                mapped_location(url, &mapping),
                "/home/me/src/argocd-example-apps"
            );
        }
        assert_eq!(
            mapped_location("file:///srv/other", &mapping),
            "file:///srv/other"
        );
    }
}
