//! One look for the headless commands (`status`, `diff`, and what acts on
//! their verdicts): the engine the TUI runs, started for the apps asked
//! about, until each has a settled verdict, then stopped. There is one
//! engine; this only decides when to stop listening to it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::{AppReport, Engine, EngineEvent, EngineOptions};
use crate::config::{AppConfig, Paths};

/// The settled verdict on each of `apps`, in the same order. An app with
/// none by `deadline` gets its latest verdict if it had one, else Unknown
/// with the reason.
pub async fn settle(
    apps: Vec<AppConfig>,
    paths: Paths,
    options: EngineOptions,
    deadline: Duration,
) -> Vec<AppReport> {
    let names: Vec<String> = apps.iter().map(|a| a.name.clone()).collect();
    let (events, mut receiver) = mpsc::unbounded_channel();
    let engine = Engine::start(apps, paths, options, events);
    let mut latest: HashMap<String, (Arc<AppReport>, bool)> = HashMap::new();
    let wait = async {
        while let Some(event) = receiver.recv().await {
            if let EngineEvent::Report {
                app,
                report,
                settled,
                ..
            } = event
            {
                latest.insert(app, (report, settled));
                if names
                    .iter()
                    .all(|name| latest.get(name).is_some_and(|(_, settled)| *settled))
                {
                    return;
                }
            }
        }
    };
    let timed_out = tokio::time::timeout(deadline, wait).await.is_err();
    drop(engine);
    names
        .iter()
        .map(|name| match latest.remove(name) {
            Some((report, _)) => Arc::unwrap_or_clone(report),
            None if timed_out => AppReport::unknown(
                name,
                None,
                format!("no verdict within {}s", deadline.as_secs()),
            ),
            None => AppReport::unknown(name, None, "the engine stopped"),
        })
        .collect()
}
