//! States built the way the command builds them, and verdicts the way the
//! engine makes them (real comparisons of small objects), for the tests of
//! update and view.

use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};

use super::keymap::Keymap;
use super::msg::Msg;
use super::state::State;
use super::theme::Theme;
use super::update::update;
use crate::config::Config;
use crate::drift::{ResourceKey, ResourceResult, summarize};
use crate::engine::{EngineEvent, Generation, SourceStatus};
use crate::manifests::{Problem, Severity};
use crate::report::AppReport;
use crate::resource::short_revision;
use crate::source::{LogEntry, SignatureStatus};

pub const CONFIG_FILE: &str = "/home/op/.config/driftdeck/config.toml";
/// The commit the guestbook's live objects were applied from.
pub const DEPLOYED: &str = "3f2a91c0d4e5f60718293a4b5c6d7e8f90a1b2c3";
/// The head of the guestbook's branch.
pub const HEAD: &str = "9c1e0b27aa41b3c5d6e7f8091a2b3c4d5e6f7081";

/// A state with these apps configured, the default keys and theme, at
/// 80x24, times in UTC.
pub fn state_with_apps(names: &[&str]) -> State {
    let mut text = String::new();
    for name in names {
        text.push_str(&format!(
            "[[app]]\nname = \"{name}\"\nrepo = \"https://example.com/deploy.git\"\n"
        ));
    }
    let config = Config::parse(Path::new(CONFIG_FILE), &text).unwrap();
    let theme = Theme::built_in("default").unwrap().unwrap();
    let mut state = State::new(&config, Path::new(CONFIG_FILE), Keymap::defaults(), theme);
    state.size = ratatui::layout::Size::new(80, 24);
    state.time_zone = jiff::tz::TimeZone::UTC;
    state
}

/// Feeds an engine event through `update`, as the loop does.
pub fn engine(state: &mut State, event: EngineEvent) -> bool {
    update(state, Msg::Engine(event)).changed
}

pub fn report_event(app: &str, generation: Generation, report: AppReport) -> EngineEvent {
    EngineEvent::Report {
        app: app.to_string(),
        generation,
        report: Arc::new(report),
        settled: true,
    }
}

pub fn commits_event(app: &str, generation: Generation, commits: Vec<LogEntry>) -> EngineEvent {
    EngineEvent::Commits {
        app: app.to_string(),
        generation,
        commits: Arc::new(commits),
    }
}

/// A poll that went well, the next one at 12:05:00 UTC.
pub fn source_ok(app: &str) -> EngineEvent {
    EngineEvent::Source {
        app: app.to_string(),
        source: SourceStatus {
            next_poll: Some(at(12, 5, 0).into()),
            in_backoff: false,
            error: None,
        },
    }
}

pub fn source_failed(app: &str, error: &str) -> EngineEvent {
    EngineEvent::Source {
        app: app.to_string(),
        source: SourceStatus {
            next_poll: Some(at(12, 6, 0).into()),
            in_backoff: true,
            error: Some(error.to_string()),
        },
    }
}

/// A time on 2025-03-14, UTC.
pub fn at(hour: i64, minute: i64, second: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_741_910_400 + hour * 3600 + minute * 60 + second).unwrap()
}

pub fn key(kind: &str, namespace: Option<&str>, name: &str) -> ResourceKey {
    let group = if kind == "Deployment" { "apps" } else { "" };
    ResourceKey {
        group: group.to_string(),
        kind: kind.to_string(),
        namespace: namespace.map(str::to_string),
        name: name.to_string(),
    }
}

/// An object as driftdeck applies it: the app label and the revision it
/// came from.
fn object(api_version: &str, kind: &str, name: &str, rest: Value) -> Value {
    let mut object = json!({
        "apiVersion": api_version, "kind": kind,
        "metadata": {"name": name, "namespace": "guestbook",
            "labels": {"driftdeck.dev/app": "guestbook"},
            "annotations": {"driftdeck.dev/revision": DEPLOYED}},
    });
    if kind == "Namespace" {
        object["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("namespace");
    }
    if let (Some(object), Value::Object(rest)) = (object.as_object_mut(), rest) {
        object.extend(rest);
    }
    object
}

fn deployment(image: &str, status: Value) -> Value {
    let mut deployment = object(
        "apps/v1",
        "Deployment",
        "frontend",
        json!({"spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "frontend"}},
            "template": {"metadata": {"labels": {"app": "frontend"}},
                "spec": {"containers": [{"name": "frontend", "image": image,
                    "ports": [{"containerPort": 80}]}]}}}}),
    );
    deployment["metadata"]["generation"] = json!(2);
    deployment["status"] = status;
    deployment
}

/// Every resource of the guestbook: a rollout under way after the image was
/// changed live, a Secret whose value was changed live, a Service in sync,
/// a ConfigMap gone from Git and a claim not created yet.
pub fn guestbook_resources() -> Vec<ResourceResult> {
    let namespace = object("v1", "Namespace", "guestbook", json!({}));
    let desired_deployment = deployment("nginx:1.27", Value::Null);
    let live_deployment = deployment(
        "nginx:1.25",
        json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1,
            "readyReplicas": 2, "availableReplicas": 2}),
    );
    let service = object(
        "v1",
        "Service",
        "frontend",
        json!({"spec": {"selector": {"app": "frontend"}, "ports": [{"port": 80}]}}),
    );
    let secret = |password: &str| {
        object(
            "v1",
            "Secret",
            "db",
            json!({"type": "Opaque", "data": {"password": password}}),
        )
    };
    let settings = object("v1", "ConfigMap", "settings", json!({"data": {"a": "1"}}));
    let claim = object(
        "v1",
        "PersistentVolumeClaim",
        "data",
        json!({"spec": {"accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}}}}),
    );
    let ns = Some("guestbook");
    let mut resources = vec![
        ResourceResult::compared(
            key("Namespace", None, "guestbook"),
            &namespace,
            &namespace,
            &[],
        ),
        ResourceResult::compared(
            key("Deployment", ns, "frontend"),
            &desired_deployment,
            &live_deployment,
            &[],
        ),
        ResourceResult::compared(key("Service", ns, "frontend"), &service, &service, &[]),
        ResourceResult::compared(
            key("Secret", ns, "db"),
            &secret("c2VjcmV0LWluLWdpdA=="),
            &secret("Y2hhbmdlZC1saXZl"),
            &[],
        ),
        ResourceResult::extra(key("ConfigMap", ns, "settings"), &settings),
        ResourceResult::missing(key("PersistentVolumeClaim", ns, "data"), &claim),
    ];
    resources.sort_by(|a, b| a.key.cmp(&b.key));
    resources
}

/// The guestbook's verdict, with a warning from its manifests.
pub fn guestbook_report() -> AppReport {
    let resources = guestbook_resources();
    AppReport {
        app: "guestbook".to_string(),
        desired_revision: Some(HEAD.to_string()),
        pinned: None,
        summary: summarize(&resources),
        resources,
        problems: vec![Problem::in_file(
            Severity::Warning,
            "apps/guestbook/service.yaml",
            "Service \"frontend\" selects pods labelled app=frontend; none are defined in Git",
        )],
        stale_since: None,
        stale_cause: None,
        engine: None,
        controller: None,
        driftdeck: None,
    }
}

/// podinfo: one Deployment, in sync.
pub fn podinfo_report() -> AppReport {
    let deployment = deployment(
        "ghcr.io/stefanprodan/podinfo:6.7.0",
        json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3,
            "readyReplicas": 3, "availableReplicas": 3}),
    );
    let resources = vec![ResourceResult::compared(
        key("Deployment", Some("podinfo"), "frontend"),
        &deployment,
        &deployment,
        &[],
    )];
    AppReport {
        app: "podinfo".to_string(),
        desired_revision: Some(DEPLOYED.to_string()),
        pinned: None,
        summary: summarize(&resources),
        resources,
        problems: Vec::new(),
        stale_since: None,
        stale_cause: None,
        engine: None,
        controller: None,
        driftdeck: None,
    }
}

pub fn commit(id: &str, subject: &str, author: &str, hour: i64) -> LogEntry {
    LogEntry {
        id: gix::ObjectId::from_hex(id.as_bytes()).unwrap(),
        short_id: short_revision(id).to_string(),
        author: author.to_string(),
        email: format!("{}@example.com", author.to_lowercase().replace(' ', ".")),
        time: at(hour, 0, 0),
        subject: subject.to_string(),
        signature: SignatureStatus::Unsigned,
    }
}

/// The guestbook's branch, newest first: the head, then the deployed commit.
pub fn guestbook_commits() -> Vec<LogEntry> {
    let mut signed = commit(
        "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d",
        "add the settings config map",
        "Grace Hopper",
        9,
    );
    signed.signature = SignatureStatus::Good {
        signer: "Grace Hopper".into(),
        format: crate::source::SignatureFormat::Gpg,
    };
    vec![
        commit(HEAD, "bump frontend to nginx 1.27", "Ada Lovelace", 11),
        commit(DEPLOYED, "scale frontend to 3 replicas", "Ada Lovelace", 10),
        signed,
    ]
}

/// Three apps as the engine reports them: guestbook drifted, podinfo in
/// sync, redis whose repository cannot be read.
pub fn reported() -> State {
    let mut state = state_with_apps(&["guestbook", "podinfo", "redis"]);
    // An hour after the newest commit: the Commits pane shows ages.
    state.now = Some(at(12, 0, 0));
    engine(&mut state, source_ok("guestbook"));
    engine(&mut state, report_event("guestbook", 0, guestbook_report()));
    engine(
        &mut state,
        commits_event("guestbook", 0, guestbook_commits()),
    );
    engine(&mut state, source_ok("podinfo"));
    engine(&mut state, report_event("podinfo", 0, podinfo_report()));
    engine(
        &mut state,
        source_failed(
            "redis",
            "cannot fetch https://example.com/org/redis.git: connection refused",
        ),
    );
    engine(
        &mut state,
        EngineEvent::Requests {
            git: 12,
            cluster: 40,
        },
    );
    // redis, whose Git cannot be read, is listed first; the operator picks
    // the guestbook below it.
    update(
        &mut state,
        Msg::Key(ratatui::crossterm::event::KeyEvent::new(
            ratatui::crossterm::event::KeyCode::Char('j'),
            ratatui::crossterm::event::KeyModifiers::NONE,
        )),
    );
    assert_eq!(
        state.selected_app().map(|a| a.name.as_str()),
        Some("guestbook")
    );
    state
}

/// An Argo CD Application `argocd/web`, OutOfSync at `abc1234…` with two
/// deployments in its history.
pub fn argocd_web() -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": "web", "namespace": "argocd"},
        "spec": {"source": {"repoURL": "https://example.com/deploy.git", "path": "web"}},
        "status": {
            "sync": {"status": "OutOfSync", "revision": "abc1234abc1234abc1234abc1234abc1234abc12"},
            "health": {"status": "Healthy"},
            "history": [
                {"id": 1, "revision": "1111111111111111111111111111111111111111",
                 "deployedAt": "2026-08-20T09:00:00Z",
                 "source": {"repoURL": "https://example.com/deploy.git", "path": "web"}},
                {"id": 2, "revision": DEPLOYED, "deployedAt": "2026-08-21T16:00:09Z",
                 "initiatedBy": {"username": "ada"}}
            ]
        }
    })
}

/// A Flux Kustomization `flux/flux-system/apps` reading the GitRepository
/// `flux-system`.
pub fn flux_apps() -> Value {
    json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": "apps", "namespace": "flux-system"},
        "spec": {"sourceRef": {"kind": "GitRepository", "name": "flux-system"}, "path": "./apps"},
        "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded",
            "message": "Applied revision: main@sha1:abc"}]}
    })
}

/// Engine apps found in the current context and reported as their objects say.
pub fn with_engine_apps(state: &mut State, objects: &[Value]) {
    let config = crate::config::EnginesConfig::default();
    let apps: Vec<crate::engines::ControllerApp> = objects
        .iter()
        .map(|o| crate::engines::ControllerApp::of(o, &config).unwrap())
        .collect();
    engine(
        state,
        EngineEvent::ControllerApps {
            context: None,
            apps: apps.iter().map(|a| a.name.clone()).collect(),
            unreadable: Vec::new(),
        },
    );
    for app in &apps {
        let report = crate::report::controller_report(app, |_| None);
        engine(state, report_event(&app.name, 0, report));
    }
}
