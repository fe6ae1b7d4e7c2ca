//! The engine behind the TUI, against the simulated cluster: a first
//! verdict, drift seen through the watches as it happens, and a refresh
//! that picks up a new commit.

use std::time::Duration;

use driftdeck::config::{AppConfig, Config, Paths};
use driftdeck::engine::{Engine, EngineCommand, EngineEvent, EngineOptions};
use driftdeck::report::AppReport;
use serde_json::json;
use tokio::sync::mpsc;

use super::sim::within_timeout;
use super::support::{APP, NAMESPACE, World};

fn app(world: &World) -> AppConfig {
    let text = std::fs::read_to_string(world.path("config.toml")).unwrap();
    Config::parse(&world.path("config.toml"), &text)
        .unwrap()
        .apps
        .remove(0)
}

fn paths(world: &World) -> Paths {
    world.paths()
}

/// The engine's events, kept until a test looks for them.
struct Events {
    receiver: mpsc::UnboundedReceiver<EngineEvent>,
    seen: Vec<EngineEvent>,
}

impl Events {
    /// The first event, seen or to come, that `pick` accepts.
    async fn next<T>(&mut self, what: &str, mut pick: impl FnMut(&EngineEvent) -> Option<T>) -> T {
        if let Some(index) = self.seen.iter().position(|e| pick(e).is_some()) {
            return pick(&self.seen.remove(index)).unwrap();
        }
        let wait = async {
            loop {
                let event = self.receiver.recv().await.expect("the engine runs");
                match pick(&event) {
                    Some(found) => return found,
                    None => self.seen.push(event),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(30), wait)
            .await
            .unwrap_or_else(|_| panic!("no {what} in time"))
    }
}

/// The engine following `app` against the world's cluster.
fn start(world: &World, app: AppConfig) -> (Engine, Events) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let options = EngineOptions {
        kubeconfig: Some(world.path("kubeconfig")),
        ..EngineOptions::default()
    };
    let engine = Engine::start(vec![app], paths(world), options, sender);
    let events = Events {
        receiver,
        seen: Vec::new(),
    };
    (engine, events)
}

fn report_where(
    check: impl Fn(&AppReport) -> bool,
) -> impl FnMut(&EngineEvent) -> Option<(u64, AppReport)> {
    move |event| match event {
        EngineEvent::Report {
            app,
            generation,
            report,
            ..
        } if app == APP && check(report) => Some((*generation, (**report).clone())),
        _ => None,
    }
}

#[tokio::test]
async fn the_engine_follows_drift_as_it_happens_and_new_commits_on_refresh() {
    within_timeout(async {
        let world = World::new().await;
        world.apply_as_driftdeck().await;
        let (engine, mut events) = start(&world, app(&world));

        let (generation, report) = events
            .next(
                "a Synced report",
                report_where(|r| r.summary.status.to_string() == "Synced"),
            )
            .await;
        assert_eq!(generation, 0);
        assert_eq!(report.resources.len(), 5);

        // Drift arrives through the watches, with no poll and no refresh.
        let lists = || world.sim.metrics().snapshot().count_verb("list");
        let lists_before = lists();
        let change = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": NAMESPACE}, "data": {"color": "red"}});
        world.apply(&change, "intruder").await;
        let (_, drifted) = events
            .next(
                "an OutOfSync report",
                report_where(|r| r.summary.status.to_string() == "OutOfSync"),
            )
            .await;
        let settings = drifted
            .resources
            .iter()
            .find(|r| r.key.name == "settings")
            .unwrap();
        assert_eq!(settings.changes[0].path, "data.color");
        assert_eq!(
            lists(),
            lists_before,
            "seen through a watch, not a new list"
        );

        // Git catches up; a refresh polls at once and answers as generation 1.
        let configmap = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": NAMESPACE}, "data": {"color": "red"}});
        world.write("configmap.json", &configmap);
        let commit = world.commit("red it is");
        engine.send(EngineCommand::Refresh {
            app: APP.to_string(),
            generation: 1,
        });
        let (generation, report) = events
            .next(
                "a report on the new commit",
                report_where(|r| r.desired_revision.as_deref() == Some(commit.as_str())),
            )
            .await;
        assert_eq!(generation, 1);
        assert_eq!(
            report.summary.status.to_string(),
            "Synced",
            "{:?}",
            report.summary
        );

        let (generation, commits) = events
            .next("the history", |event| match event {
                EngineEvent::Commits {
                    app,
                    commits,
                    generation,
                } if app == APP && commits.len() == 2 => Some((*generation, commits.clone())),
                _ => None,
            })
            .await;
        assert_eq!(commits[0].id.to_string(), commit);
        assert_eq!(generation, 1, "the history answers the refresh");
        let cluster = events
            .next("request counts", |event| match event {
                EngineEvent::Requests { cluster, .. } if *cluster > 0 => Some(*cluster),
                _ => None,
            })
            .await;
        let served = world.sim.metrics().snapshot().total;
        assert!(
            cluster <= served,
            "driftdeck counts {cluster} requests, the server saw {served} from everyone"
        );
    })
    .await;
}

#[tokio::test]
async fn a_missing_branch_makes_the_app_unknown_until_it_appears() {
    within_timeout(async {
        let world = World::new().await;
        world.apply_as_driftdeck().await;
        let mut app = app(&world);
        app.branch = Some("release".to_string());
        let (engine, mut events) = start(&world, app);

        let (_, report) = events
            .next(
                "an Unknown report",
                report_where(|r| r.summary.status.to_string() == "Unknown"),
            )
            .await;
        let reason = report.summary.reason.unwrap_or_default();
        assert!(
            reason.contains("branch \"release\" does not exist"),
            "{reason}"
        );
        assert_eq!(report.desired_revision, None);
        let error = events
            .next("the source error", |event| match event {
                EngineEvent::Source { app, source } if app == APP => source.error.clone(),
                _ => None,
            })
            .await;
        assert!(error.contains("release"), "{error}");

        let head = world.git(&["rev-parse", "HEAD"]);
        world.git(&["branch", "release"]);
        engine.send(EngineCommand::Refresh {
            app: APP.to_string(),
            generation: 1,
        });
        let (generation, report) = events
            .next(
                "a Synced report on the new branch",
                report_where(|r| r.summary.status.to_string() == "Synced"),
            )
            .await;
        assert_eq!(generation, 1);
        assert_eq!(report.desired_revision.as_deref(), Some(head.as_str()));
    })
    .await;
}
