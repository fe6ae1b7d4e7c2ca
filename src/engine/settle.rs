//! One look for the headless commands (`status`, `diff`, and what acts on
//! their verdicts): the engine the TUI runs, started for the apps asked
//! about, until each has a settled verdict, then stopped. There is one
//! engine; this only decides when to stop listening to it.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::{Engine, EngineEvent, EngineOptions};
use crate::config::{AppConfig, Paths};
use crate::report::AppReport;

/// Which engine apps (Argo CD, Flux) a look reports on, after the native ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineApps {
    None,
    /// Every one of every context read, by name.
    All,
    Named(String),
}

/// The settled verdict on each of `apps`, in the same order, then on the
/// engine apps asked for. An app with none by `deadline` gets its latest
/// verdict if it had one, else Unknown with the reason.
pub async fn settle(
    apps: Vec<AppConfig>,
    engine_apps: EngineApps,
    paths: Paths,
    options: EngineOptions,
    deadline: Duration,
) -> Vec<AppReport> {
    let mut names: Vec<String> = apps.iter().map(|a| a.name.clone()).collect();
    // The contexts that will say which engine apps they have.
    let contexts: BTreeSet<Option<String>> = apps
        .iter()
        .map(|a| options.context.clone().or_else(|| a.context.clone()))
        .chain(options.contexts.iter().cloned())
        .collect();
    let (events, mut receiver) = mpsc::unbounded_channel();
    let engine = Engine::start(apps, paths, options, events);
    let mut latest: HashMap<String, (Arc<AppReport>, bool)> = HashMap::new();
    let mut announced: HashMap<Option<String>, Vec<String>> = HashMap::new();
    let wanted = |announced: &HashMap<Option<String>, Vec<String>>| -> Vec<String> {
        let found = announced.values().flatten();
        let mut found: Vec<String> = match &engine_apps {
            EngineApps::None => Vec::new(),
            EngineApps::All => found.cloned().collect(),
            EngineApps::Named(name) => found.filter(|n| *n == name).cloned().collect(),
        };
        found.sort();
        found.dedup();
        found
    };
    let wait = async {
        // The engine apps waited for, as the contexts have announced them.
        let mut found = Vec::new();
        // Apps waited for and not yet settled.
        let mut unsettled: BTreeSet<String> = names.iter().cloned().collect();
        while let Some(event) = receiver.recv().await {
            match event {
                EngineEvent::Report {
                    app,
                    report,
                    settled,
                    ..
                } => {
                    if settled {
                        unsettled.remove(&app);
                    }
                    latest.insert(app, (report, settled));
                }
                EngineEvent::ControllerApps { context, apps, .. } => {
                    announced.insert(context, apps);
                    found = wanted(&announced);
                    let settled = |name: &String| latest.get(name).is_some_and(|(_, s)| *s);
                    unsettled.extend(found.iter().filter(|n| !settled(n)).cloned());
                }
                _ => continue,
            }
            let engine_apps_known = engine_apps == EngineApps::None
                || contexts.iter().all(|c| announced.contains_key(c));
            let named_found = matches!(&engine_apps, EngineApps::Named(_)) && !found.is_empty();
            if (engine_apps_known || named_found) && unsettled.is_empty() {
                return;
            }
        }
    };
    let timed_out = tokio::time::timeout(deadline, wait).await.is_err();
    drop(engine);
    let found = wanted(&announced);
    if let EngineApps::Named(name) = &engine_apps
        && found.is_empty()
    {
        let read: Vec<String> = contexts
            .iter()
            .map(|c| c.clone().unwrap_or_else(|| "(current)".to_string()))
            .collect();
        let why = if timed_out {
            format!(
                "no answer within {}s from context {}",
                deadline.as_secs(),
                read.join(", ")
            )
        } else {
            format!(
                "no Argo CD or Flux app by this name in context {}",
                read.join(", ")
            )
        };
        latest.insert(
            name.clone(),
            (Arc::new(AppReport::unknown(name, None, why)), true),
        );
    }
    names.extend(found);
    if let EngineApps::Named(name) = &engine_apps
        && !names.contains(name)
    {
        names.push(name.clone());
    }
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
