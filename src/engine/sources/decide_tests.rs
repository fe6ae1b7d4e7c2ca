//! The sources task's decisions, driven with events and read back as the
//! effects they ask for: no poller, no render, no context task.

use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use super::decide::{Decisions, Followed};
use super::effects::{Finished, SourceEffect};
use crate::config::{AppConfig, Config};
use crate::engine::context::{FromContext, ToContext};
use crate::engine::{EngineEvent, Generation};
use crate::manifests::Checked;
use crate::source::{LogEntry, SignatureStatus, SourceEvent, SourceLocation};
use crate::sync::{Pin, Pins};

/// Four apps: `a` and `b` on repository `r`'s default branch (contexts
/// `prod` and `staging`), `c` on its `dev` branch, `d` on repository `other`.
const APPS: &str = r#"
[[app]]
name = "a"
repo = "r"
path = "apps/a"
[[app]]
name = "b"
repo = "r"
path = "apps/b"
[[app]]
name = "c"
repo = "r"
branch = "dev"
[[app]]
name = "d"
repo = "other"
"#;

fn configs() -> Vec<AppConfig> {
    Config::parse(Path::new("config.toml"), APPS).unwrap().apps
}

fn context_of(app: &str) -> Option<String> {
    match app {
        "a" => Some("prod".to_string()),
        "b" => Some("staging".to_string()),
        _ => None,
    }
}

/// The apps followed, `pinned` ones at their pin.
fn decisions(pinned: &[(&str, &str)], pins_error: Option<&str>) -> Decisions {
    let followed = configs()
        .into_iter()
        .map(|config| {
            let pin = pinned
                .iter()
                .find(|(app, _)| *app == config.name)
                .map(|(_, revision)| revision.to_string());
            let context = context_of(&config.name);
            Followed::new(config, context, pin)
        })
        .collect();
    Decisions::new(followed, true, pins_error.map(str::to_string))
}

fn repo(name: &str) -> SourceLocation {
    SourceLocation::parse(name).unwrap()
}

/// Commit `n`'s id.
fn rev(n: u8) -> String {
    format!("{n:040x}")
}

fn head(repository: &str, branch: Option<&str>, commit: u8) -> SourceEvent {
    SourceEvent::Head {
        source: repo(repository),
        tracked: branch.map(str::to_string),
        branch: branch.unwrap_or("main").to_string(),
        commit: gix::ObjectId::from_hex(rev(commit).as_bytes()).unwrap(),
    }
}

fn poll_failed(repository: &str, missing: Option<Option<&str>>, cause: &str) -> SourceEvent {
    SourceEvent::Error {
        source: repo(repository),
        missing: missing.map(|branch| branch.map(str::to_string)),
        cause: cause.to_string(),
        retry_at: SystemTime::UNIX_EPOCH,
    }
}

fn rendered(state: &Decisions, app: &str, commit: u8, result: Result<(), &str>) -> Finished {
    Finished::Rendered {
        app: state.index_of(app).unwrap(),
        revision: rev(commit),
        result: result
            .map(|()| Arc::new(Checked::default()))
            .map_err(str::to_string),
        signature: None,
    }
}

/// A revision as the tests write it: the commit's number.
fn short(revision: &str) -> String {
    match revision.trim_start_matches('0') {
        "" => "0".to_string(),
        number => number.to_string(),
    }
}

/// The effects, one line each, naming apps rather than indexes.
fn describe(state: &Decisions, effects: &[SourceEffect]) -> Vec<String> {
    let name = |index: &usize| state.followed[*index].config.name.clone();
    effects
        .iter()
        .map(|effect| match effect {
            SourceEffect::Render { app, revision } => {
                format!("render {} at {}", name(app), short(revision))
            }
            SourceEffect::RenderEngineApp { key, config, .. } => {
                format!(
                    "render engine app {} at {}",
                    config.name,
                    short(&key.revision)
                )
            }
            SourceEffect::WalkHistory { branch, revision } => {
                format!("walk {}:{:?} at {}", branch.0, branch.1, short(revision))
            }
            SourceEffect::WalkPaths { app, revision } => {
                format!("walk the path of {} at {}", name(app), short(revision))
            }
            SourceEffect::Follow { source, branches } => format!("follow {source} {branches:?}"),
            SourceEffect::PollNow(source) => format!("poll {source} now"),
            SourceEffect::ToContext { context, message } => {
                let to = context.as_deref().unwrap_or("current");
                match message {
                    ToContext::Desired {
                        app,
                        revision,
                        pinned,
                        ..
                    } => {
                        let pin = if pinned.is_some() { " (pinned)" } else { "" };
                        format!("tell {to}: {app} desired at {}{pin}", short(revision))
                    }
                    ToContext::DesiredFailed { app, cause } => {
                        format!("tell {to}: {app} failed: {cause}")
                    }
                    ToContext::Generation { app, generation } => {
                        format!("tell {to}: {app} generation {generation}")
                    }
                    _ => format!("tell {to}: another message"),
                }
            }
            SourceEffect::Emit(event) => match event {
                EngineEvent::Source { app, source } => {
                    format!("show {app}'s source, error {:?}", source.error)
                }
                EngineEvent::Commits {
                    app,
                    commits,
                    generation,
                } => format!(
                    "show {app} {} commits, generation {generation}",
                    commits.len()
                ),
                EngineEvent::HistoryFailed { app, cause, .. } => {
                    format!("show {app}'s history failed: {cause}")
                }
                EngineEvent::PathCommits {
                    app,
                    touching,
                    generation,
                } => format!(
                    "show {app} {} path commits, generation {generation}",
                    touching.len()
                ),
                EngineEvent::Pinned { app, pinned } => match pinned {
                    Ok(Some(revision)) => format!("show {app} pinned at {}", short(revision)),
                    Ok(None) => format!("show {app} unpinned"),
                    Err(cause) => format!("show {app} not pinned: {cause}"),
                },
                other => format!("{other:?}"),
            },
        })
        .collect()
}

/// What a poller's event makes the task do, one line each.
fn polled(state: &mut Decisions, event: &SourceEvent) -> Vec<String> {
    let effects = state.on_source_event(event);
    describe(state, &effects)
}

/// What a finished render or walk makes the task do, one line each.
fn finished(state: &mut Decisions, done: Finished) -> Vec<String> {
    let effects = state.on_finished(done);
    describe(state, &effects)
}

/// Only the lines that start with `what`.
fn only(lines: &[String], what: &str) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.starts_with(what))
        .cloned()
        .collect()
}

#[test]
fn a_new_head_renders_every_app_tracking_the_branch_and_walks_its_history_once() {
    let mut state = decisions(&[], None);
    let effects = polled(&mut state, &head("r", None, 1));
    assert_eq!(
        effects,
        [
            "walk r:None at 1",
            "walk the path of a at 1",
            "walk the path of b at 1",
            "show a's source, error None",
            "show b's source, error None",
            "render a at 1",
            "render b at 1",
        ]
    );
    // The same head again (a refresh): no render, no history walk; the
    // path walked again only for an app whose walk has not answered.
    state.on_finished(Finished::Touching {
        app: state.index_of("a").unwrap(),
        revision: rev(1),
        touching: Default::default(),
    });
    let again = polled(&mut state, &head("r", None, 1));
    assert_eq!(
        again,
        [
            "walk the path of b at 1",
            "show a's source, error None",
            "show b's source, error None"
        ]
    );
    // The other branch's head concerns its app alone.
    let dev = polled(&mut state, &head("r", Some("dev"), 2));
    assert_eq!(only(&dev, "render"), ["render c at 2"]);
}

#[test]
fn a_render_finished_for_an_older_revision_is_dropped() {
    let mut state = decisions(&[], None);
    state.on_source_event(&head("r", None, 1));
    state.on_source_event(&head("r", None, 2));
    let stale = rendered(&state, "a", 1, Ok(()));
    assert!(state.on_finished(stale).is_empty());
    let current = rendered(&state, "a", 2, Ok(()));
    let effects = finished(&mut state, current);
    assert_eq!(effects, ["tell prod: a desired at 2"]);
}

#[test]
fn a_failed_render_is_reported_to_the_context_of_its_app() {
    let mut state = decisions(&[], None);
    state.on_source_event(&head("r", None, 1));
    let failed = rendered(&state, "b", 1, Err("kustomize: no such file"));
    let effects = finished(&mut state, failed);
    assert_eq!(effects, ["tell staging: b failed: kustomize: no such file"]);
}

#[test]
fn a_failed_poll_makes_unknown_only_the_apps_with_nothing_rendered() {
    let mut state = decisions(&[], None);
    state.on_source_event(&head("r", Some("dev"), 1));
    let effects = polled(&mut state, &poll_failed("r", None, "r: connection refused"));
    assert_eq!(
        effects,
        [
            "tell prod: a failed: r: connection refused",
            "show a's source, error Some(\"r: connection refused\")",
            "tell staging: b failed: r: connection refused",
            "show b's source, error Some(\"r: connection refused\")",
            // c was rendered: it stays compared at that revision.
            "show c's source, error Some(\"r: connection refused\")",
        ]
    );
}

#[test]
fn a_missing_branch_makes_its_apps_unknown_until_it_returns() {
    let mut state = decisions(&[], None);
    state.on_source_event(&head("r", None, 1));
    state.on_source_event(&head("r", Some("dev"), 2));
    let gone = polled(
        &mut state,
        &poll_failed("r", Some(Some("dev")), "no branch dev"),
    );
    assert_eq!(
        gone,
        [
            "tell current: c failed: no branch dev",
            "show c's source, error Some(\"no branch dev\")"
        ]
    );
    // Back at the same commit: rendered again, as its desired state was dropped.
    let back = polled(&mut state, &head("r", Some("dev"), 2));
    assert_eq!(only(&back, "render"), ["render c at 2"]);
}

#[test]
fn a_pinned_app_is_rendered_at_its_pin_whatever_the_head() {
    let pin = rev(9);
    let mut state = decisions(&[("a", &pin)], None);
    let first = polled(&mut state, &head("r", None, 1));
    assert_eq!(only(&first, "render"), ["render a at 9", "render b at 1"]);
    let newer = polled(&mut state, &head("r", None, 2));
    assert_eq!(only(&newer, "render"), ["render b at 2"]);
    let done = rendered(&state, "a", 9, Ok(()));
    let effects = finished(&mut state, done);
    assert_eq!(effects, ["tell prod: a desired at 9 (pinned)"]);
}

#[test]
fn unpinning_renders_the_head_again() {
    let pin = rev(9);
    let mut state = decisions(&[("a", &pin)], None);
    let index = state.index_of("a").unwrap();
    assert!(state.unpinned(index).is_none(), "no head polled yet");
    state.followed[index].pinned = Some(pin);
    state.on_source_event(&head("r", None, 3));
    let effects: Vec<SourceEffect> = state.unpinned(index).into_iter().collect();
    assert_eq!(describe(&state, &effects), ["render a at 3"]);
}

#[test]
fn a_rollback_pins_the_app_with_the_render_it_made() {
    let mut state = decisions(&[], None);
    state.on_source_event(&head("r", None, 3));
    let index = state.index_of("b").unwrap();
    let effects = state.pinned(index, rev(1), Arc::new(Checked::default()), None);
    assert_eq!(
        describe(&state, &effects),
        [
            "tell staging: b desired at 1 (pinned)",
            "show b pinned at 1"
        ]
    );
    // A render of the head, asked before the rollback, comes too late.
    let late = rendered(&state, "b", 3, Ok(()));
    assert!(state.on_finished(late).is_empty());
}

#[test]
fn pins_set_or_removed_by_another_process_are_followed() {
    let pin = rev(9);
    let mut state = decisions(&[("b", &pin)], None);
    state.on_source_event(&head("r", None, 1));
    let mut pins = Pins::new();
    pins.insert(
        "a".to_string(),
        Pin {
            revision: rev(7),
            since: jiff::Timestamp::UNIX_EPOCH,
            by: "ops@host".to_string(),
        },
    );
    let effects = state.pins_reloaded(&pins);
    assert_eq!(
        describe(&state, &effects),
        [
            "render a at 7",
            "show a pinned at 7",
            "render b at 1",
            "show b unpinned",
        ]
    );
}

#[test]
fn an_unreadable_pins_file_makes_apps_unknown_until_it_is_read() {
    let cause = "pins.toml:3: expected a table";
    let mut state = decisions(&[], Some(cause));
    let effects = polled(&mut state, &head("r", None, 1));
    assert_eq!(
        only(&effects, "tell"),
        [
            "tell prod: a failed: pins.toml:3: expected a table",
            "tell staging: b failed: pins.toml:3: expected a table",
        ]
    );
    assert!(only(&effects, "render").is_empty());
    let readable = state.pins_reloaded(&Pins::new());
    assert_eq!(
        only(&describe(&state, &readable), "render"),
        ["render a at 1", "render b at 1"]
    );
}

fn entry(commit: u8) -> LogEntry {
    LogEntry {
        id: gix::ObjectId::from_hex(rev(commit).as_bytes()).unwrap(),
        short_id: short(&rev(commit)),
        author: "Ana".to_string(),
        email: "ana@example.com".to_string(),
        time: jiff::Timestamp::UNIX_EPOCH,
        subject: "change".to_string(),
        signature: SignatureStatus::Unsigned,
    }
}

fn walked(branch: Option<&str>, commit: u8, batch: Result<Vec<LogEntry>, &str>) -> Finished {
    Finished::Walked {
        branch: Box::new((repo("r"), branch.map(str::to_string))),
        revision: rev(commit),
        batch: batch.map_err(str::to_string),
    }
}

#[test]
fn history_batches_are_published_to_the_branch_apps_and_stale_ones_dropped() {
    let mut state = decisions(&[], None);
    state.on_source_event(&head("r", None, 1));
    state.on_source_event(&head("r", None, 2));
    assert!(
        state
            .on_finished(walked(None, 1, Ok(vec![entry(1)])))
            .is_empty()
    );
    let first = finished(&mut state, walked(None, 2, Ok(vec![entry(2)])));
    assert_eq!(
        first,
        [
            "show a 1 commits, generation 0",
            "show b 1 commits, generation 0"
        ]
    );
    // Batches add up; a failure is shown beside what was read.
    state.on_finished(walked(None, 2, Ok(vec![entry(1)])));
    let failed = finished(&mut state, walked(None, 2, Err("object missing")));
    assert_eq!(
        failed,
        [
            "show a 2 commits, generation 0",
            "show a's history failed: object missing",
            "show b 2 commits, generation 0",
            "show b's history failed: object missing",
        ]
    );
}

#[test]
fn a_refresh_polls_now_and_answers_again_with_the_new_generation() {
    let mut state = decisions(&[], None);
    state.on_source_event(&head("r", None, 1));
    state.on_finished(walked(None, 1, Ok(vec![entry(1)])));
    let index = state.index_of("a").unwrap();
    state.on_finished(Finished::Touching {
        app: index,
        revision: rev(1),
        touching: [entry(1).id].into(),
    });
    let generation: Generation = 4;
    let effects = state.refresh(index, generation);
    assert_eq!(
        describe(&state, &effects),
        [
            "poll r now",
            "tell prod: a generation 4",
            "show a 1 commits, generation 4",
            "show b 1 commits, generation 0",
            "show a 1 path commits, generation 4",
        ]
    );
}

fn follow_source(app: &str, context: &str, revision: Option<u8>) -> FromContext {
    let text = format!(
        "[[app]]\nname = \"guestbook\"\nrepo = \"other\"\npath = \"guestbook\"\nnamespace = \"guestbook\"\ncontext = \"{context}\"\n"
    );
    let mut config = Config::parse(Path::new("config.toml"), &text)
        .unwrap()
        .apps
        .remove(0);
    // Engine apps are named `engine/name`, which a config file does not allow.
    config.name = app.to_string();
    FromContext::FollowSource {
        app: Box::new(config),
        revision: revision.map(rev),
        release: "guestbook".to_string(),
    }
}

#[test]
fn engine_apps_alike_share_one_render_delivered_to_each_context() {
    let mut state = decisions(&[], None);
    let apps = &mut state.engine_apps;
    let first = apps.on_context_request(follow_source("argocd/east", "east", None));
    // `other` is polled for app d already, on its default branch.
    assert!(first.is_empty());
    let second = apps.on_context_request(follow_source("argocd/west", "west", None));
    assert!(second.is_empty());
    let effects = state.on_source_event(&head("other", None, 5));
    let lines = describe(&state, &effects);
    // One of the two starts the render, the other waits for it.
    assert_eq!(only(&lines, "render engine app").len(), 1);
    assert_eq!(only(&lines, "render d"), ["render d at 5"]);
    let Some(SourceEffect::RenderEngineApp { key, .. }) = effects
        .into_iter()
        .find(|e| matches!(e, SourceEffect::RenderEngineApp { .. }))
    else {
        unreachable!("asserted above");
    };
    let done = Finished::EngineRendered {
        key,
        result: Ok(Arc::new(Checked::default())),
    };
    let effects = finished(&mut state, done);
    let mut delivered = effects;
    delivered.sort();
    assert_eq!(
        delivered,
        [
            "tell east: argocd/east desired at 5",
            "tell west: argocd/west desired at 5"
        ]
    );
    // A third app alike takes the finished render without rendering again.
    let third = state
        .engine_apps
        .on_context_request(follow_source("flux/north", "north", None));
    assert_eq!(
        describe(&state, &third),
        ["tell north: flux/north desired at 5"]
    );
}

#[test]
fn an_engine_app_on_a_new_branch_gets_it_polled_and_a_moved_one_asks_at_once() {
    let mut state = decisions(&[], None);
    let text = "[[app]]\nname = \"x\"\nrepo = \"elsewhere\"\nbranch = \"live\"\n";
    let mut config = Config::parse(Path::new("config.toml"), text)
        .unwrap()
        .apps
        .remove(0);
    config.name = "flux/x".to_string();
    let asked = |revision: Option<u8>| FromContext::FollowSource {
        app: Box::new(config.clone()),
        revision: revision.map(rev),
        release: "x".to_string(),
    };
    let first = state.engine_apps.on_context_request(asked(Some(1)));
    assert_eq!(
        describe(&state, &first),
        ["follow elsewhere [Some(\"live\")]"]
    );
    assert!(
        state
            .engine_apps
            .on_context_request(asked(Some(1)))
            .is_empty()
    );
    let moved = state.engine_apps.on_context_request(asked(Some(2)));
    assert_eq!(describe(&state, &moved), ["poll elsewhere now"]);
}

#[test]
fn an_engine_app_whose_source_fails_says_which_source_and_revision() {
    let mut state = decisions(&[], None);
    state
        .engine_apps
        .on_context_request(follow_source("argocd/east", "east", Some(3)));
    // Before any render, a failed poll is the app's answer.
    let failed = polled(&mut state, &poll_failed("other", None, "other: timed out"));
    assert_eq!(
        only(&failed, "tell east"),
        ["tell east: argocd/east failed: cannot read the source other: timed out"]
    );
    let effects = state.on_source_event(&head("other", None, 5));
    let Some(SourceEffect::RenderEngineApp { key, .. }) = effects
        .into_iter()
        .find(|e| matches!(e, SourceEffect::RenderEngineApp { .. }))
    else {
        panic!("the engine's revision is rendered");
    };
    assert_eq!(
        short(&key.revision),
        "3",
        "the engine's revision, not the head"
    );
    let done = Finished::EngineRendered {
        key,
        result: Err("no kustomization.yaml".to_string()),
    };
    let effects = finished(&mut state, done);
    assert_eq!(
        effects,
        [format!(
            "tell east: argocd/east failed: cannot render the source other at {}: no kustomization.yaml",
            crate::resource::short_revision(&rev(3))
        )]
    );
}
