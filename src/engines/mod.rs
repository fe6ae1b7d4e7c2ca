//! Argo CD and Flux apps beside native ones: which of their kinds become
//! apps and under which name, what their objects' status says
//! (`argocd.rs`, `flux.rs`), and the payloads that ask them to act
//! (`actions.rs`). Pure: objects in, states and patches out; the engine's
//! context task watches the kinds and sends the patches.

mod actions;
mod argocd;
mod flux;
mod own_comparison;
mod source;
mod status;

use serde::Serialize;
use serde_json::Value;

pub use actions::{
    ActionKind, ActionProgress, ActionRequest, follow_action, request_action, source_key,
};
pub use own_comparison::OwnComparison;
pub use source::{EngineSource, engine_source, flux_commit, mapped_location, native_config};
pub use status::{ControllerState, Deployment, LastOperation};

use crate::config::EnginesConfig;

/// The in-cluster engine an app belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Argocd,
    Flux,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Argocd => "argocd",
            Engine::Flux => "flux",
        }
    }

    /// As people write it: `Argo CD`, `Flux`.
    pub fn title(self) -> &'static str {
        match self {
            Engine::Argocd => "Argo CD",
            Engine::Flux => "Flux",
        }
    }
}

/// A kind whose objects are apps of an engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ControllerKind {
    ArgoApplication,
    FluxKustomization,
    FluxHelmRelease,
}

impl ControllerKind {
    pub const ALL: [ControllerKind; 3] = [
        ControllerKind::ArgoApplication,
        ControllerKind::FluxKustomization,
        ControllerKind::FluxHelmRelease,
    ];

    pub fn group(self) -> &'static str {
        match self {
            ControllerKind::ArgoApplication => "argoproj.io",
            ControllerKind::FluxKustomization => "kustomize.toolkit.fluxcd.io",
            ControllerKind::FluxHelmRelease => "helm.toolkit.fluxcd.io",
        }
    }

    pub fn kind(self) -> &'static str {
        match self {
            ControllerKind::ArgoApplication => "Application",
            ControllerKind::FluxKustomization => "Kustomization",
            ControllerKind::FluxHelmRelease => "HelmRelease",
        }
    }

    pub fn engine(self) -> Engine {
        match self {
            ControllerKind::ArgoApplication => Engine::Argocd,
            ControllerKind::FluxKustomization | ControllerKind::FluxHelmRelease => Engine::Flux,
        }
    }

    /// The first part of its apps' names.
    fn prefix(self) -> &'static str {
        match self {
            ControllerKind::ArgoApplication => "argocd",
            ControllerKind::FluxKustomization => "flux",
            ControllerKind::FluxHelmRelease => "helm",
        }
    }

    pub fn of(group: &str, kind: &str) -> Option<ControllerKind> {
        ControllerKind::ALL
            .into_iter()
            .find(|k| k.group() == group && k.kind() == kind)
    }

    /// Whether the config lets this kind's objects be apps.
    pub fn enabled(self, config: &EnginesConfig) -> bool {
        match self.engine() {
            Engine::Argocd => config.argocd,
            Engine::Flux => config.flux,
        }
    }

    /// The app name of the object `namespace/name` of this kind:
    /// `argocd/NAME` (`argocd/NAMESPACE/NAME` outside the Argo CD
    /// namespace), `flux/NAMESPACE/NAME`, `helm/NAMESPACE/NAME`.
    pub fn app_name(self, namespace: &str, name: &str, config: &EnginesConfig) -> String {
        match self {
            ControllerKind::ArgoApplication if namespace == config.argocd_namespace => {
                format!("argocd/{name}")
            }
            _ => format!("{}/{namespace}/{name}", self.prefix()),
        }
    }
}

/// The object an engine app's name stands for, as `app_name` writes it:
/// its kind, namespace and name; `None` for a native app's name.
pub fn object_of_name(
    app: &str,
    config: &EnginesConfig,
) -> Option<(ControllerKind, String, String)> {
    let kind = ControllerKind::ALL.into_iter().find(|k| {
        app.strip_prefix(k.prefix())
            .is_some_and(|rest| rest.starts_with('/'))
    })?;
    let rest = &app[kind.prefix().len() + 1..];
    match (kind, rest.split_once('/')) {
        (_, Some((namespace, name))) => Some((kind, namespace.to_string(), name.to_string())),
        (ControllerKind::ArgoApplication, None) => {
            Some((kind, config.argocd_namespace.clone(), rest.to_string()))
        }
        (_, None) => None,
    }
}

/// Whether a name is an engine app's (native app names hold no `/`).
pub fn is_controller_app_name(name: &str) -> bool {
    engine_of_name(name).is_some()
}

/// The engine an app name says, `None` for a native app.
pub fn engine_of_name(name: &str) -> Option<Engine> {
    ControllerKind::ALL
        .into_iter()
        .find(|k| {
            name.strip_prefix(k.prefix())
                .is_some_and(|rest| rest.starts_with('/'))
        })
        .map(ControllerKind::engine)
}

/// How the engine is written where a native app's would be: `argocd`,
/// `flux`, or `native`.
pub fn engine_word(name: &str) -> &'static str {
    engine_of_name(name).map_or("native", Engine::name)
}

/// One engine app: the object behind it and what its status says.
#[derive(Debug, Clone, PartialEq)]
pub struct ControllerApp {
    pub name: String,
    pub kind: ControllerKind,
    pub namespace: String,
    pub object_name: String,
    pub state: ControllerState,
}

impl ControllerApp {
    /// The app an engine object is, if it is one of an enabled kind.
    pub fn of(object: &Value, config: &EnginesConfig) -> Option<ControllerApp> {
        let api_version = object.get("apiVersion")?.as_str()?;
        let group = crate::resource::group_of(api_version);
        let kind = ControllerKind::of(group, object.get("kind")?.as_str()?)?;
        if !kind.enabled(config) {
            return None;
        }
        let metadata = object.get("metadata")?;
        let namespace = metadata.get("namespace")?.as_str()?.to_string();
        let object_name = metadata.get("name")?.as_str()?.to_string();
        let state = match kind {
            ControllerKind::ArgoApplication => argocd::application_state(object),
            ControllerKind::FluxKustomization => flux::kustomization_state(object),
            ControllerKind::FluxHelmRelease => flux::helm_release_state(object),
        };
        Some(ControllerApp {
            name: kind.app_name(&namespace, &object_name, config),
            kind,
            namespace,
            object_name,
            state,
        })
    }

    /// The app again from what its report says (`AppReport::controller`),
    /// for those that hold the report only (the TUI asking before it acts).
    pub fn of_state(name: &str, state: &ControllerState) -> Option<ControllerApp> {
        let kind = ControllerKind::ALL
            .into_iter()
            .find(|k| k.engine() == state.engine && k.kind() == state.kind)?;
        Some(ControllerApp {
            name: name.to_string(),
            kind,
            namespace: state.namespace.clone(),
            object_name: state.name.clone(),
            state: state.clone(),
        })
    }

    /// `Application argocd/guestbook`, as errors name it.
    pub fn object_label(&self) -> String {
        format!(
            "{} {}/{}",
            self.kind.kind(),
            self.namespace,
            self.object_name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_name_gives_back_its_object() {
        let config = EnginesConfig::default();
        for (kind, namespace, name) in [
            (ControllerKind::ArgoApplication, "argocd", "web"),
            (ControllerKind::ArgoApplication, "team-a", "web"),
            (ControllerKind::FluxKustomization, "flux-system", "apps"),
            (ControllerKind::FluxHelmRelease, "podinfo", "podinfo"),
        ] {
            let app = kind.app_name(namespace, name, &config);
            assert_eq!(
                object_of_name(&app, &config),
                Some((kind, namespace.to_string(), name.to_string())),
                "{app}"
            );
        }
        assert_eq!(object_of_name("flux/apps", &config), None);
        assert_eq!(object_of_name("web", &config), None);
    }

    #[test]
    fn names_follow_the_engine_and_the_argocd_namespace() {
        let config = EnginesConfig::default();
        let argo = ControllerKind::ArgoApplication;
        assert_eq!(argo.app_name("argocd", "web", &config), "argocd/web");
        assert_eq!(argo.app_name("team-a", "web", &config), "argocd/team-a/web");
        assert_eq!(
            ControllerKind::FluxKustomization.app_name("flux-system", "apps", &config),
            "flux/flux-system/apps"
        );
        assert_eq!(
            ControllerKind::FluxHelmRelease.app_name("podinfo", "podinfo", &config),
            "helm/podinfo/podinfo"
        );
        let moved = EnginesConfig {
            argocd_namespace: "argo-cd".to_string(),
            ..EnginesConfig::default()
        };
        assert_eq!(argo.app_name("argocd", "web", &moved), "argocd/argocd/web");
        assert!(is_controller_app_name("helm/podinfo/podinfo"));
        assert_eq!(engine_word("helm/podinfo/podinfo"), "flux");
        assert_eq!(engine_word("guestbook"), "native");
        assert!(!is_controller_app_name("helmet"));
    }

    #[test]
    fn a_disabled_engine_gives_no_app() {
        let object = serde_json::json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "web", "namespace": "argocd"}
        });
        let off = EnginesConfig {
            argocd: false,
            ..EnginesConfig::default()
        };
        assert!(ControllerApp::of(&object, &off).is_none());
        let app = ControllerApp::of(&object, &EnginesConfig::default()).unwrap();
        assert_eq!(app.name, "argocd/web");
        assert_eq!(app.object_label(), "Application argocd/web");
    }
}
