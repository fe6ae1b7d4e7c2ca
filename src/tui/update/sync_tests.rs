//! Syncing through `update`: `s` plans, the dialog shows the plan and
//! answers `y`/esc, the engine's sync events reach the row, the Resources
//! pane and the status bar, and quitting waits for a running sync.

use std::sync::Arc;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::update;
use crate::engine::{EngineCommand, EngineEvent, SyncCommand, SyncRefused};
use crate::sync::test_support::shop_plan;
use crate::sync::{ObjectOutcome, ObjectResult, SyncOutcome, SyncPlan, SyncProgress, SyncStatus};
use crate::tui::dialog::Planning;
use crate::tui::msg::{Command, Msg, Outcome};
use crate::tui::state::State;
use crate::tui::test_support::{engine, reported, source_ok, state_with_apps};

fn press(state: &mut State, code: KeyCode) -> Outcome {
    update(state, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn key(state: &mut State, c: char) -> Outcome {
    press(state, KeyCode::Char(c))
}

fn shop() -> State {
    let mut state = state_with_apps(&["shop"]);
    engine(&mut state, source_ok("shop"));
    state
}

fn planned(state: &mut State, plan: SyncPlan) {
    engine(
        state,
        EngineEvent::Planned {
            app: "shop".into(),
            plan: Ok(Arc::new(plan)),
        },
    );
}

fn outcome_of(plan: &SyncPlan) -> SyncOutcome {
    let objects = plan
        .steps
        .iter()
        .map(|s| ObjectOutcome {
            key: s.key.clone(),
            action: s.action,
            result: match s.action {
                crate::sync::SyncAction::Create => ObjectResult::Created,
                crate::sync::SyncAction::Update => ObjectResult::Updated,
                crate::sync::SyncAction::Prune => ObjectResult::Pruned,
            },
            message: None,
        })
        .collect();
    SyncOutcome {
        app: "shop".into(),
        revision: plan.revision.clone(),
        status: SyncStatus::Succeeded,
        dry_run: false,
        objects,
        duration_ms: 420,
        error: None,
    }
}

#[test]
fn s_plans_the_app_and_y_syncs_what_the_dialog_showed() {
    let mut state = shop();
    let asked = key(&mut state, 's');
    assert_eq!(
        asked.commands,
        vec![Command::Engine(EngineCommand::Plan {
            app: "shop".into(),
            prune: false,
            only: None,
        })]
    );
    let open = state.dialog.as_ref().expect("the dialog is open");
    assert_eq!(open.dialog.title, "Sync shop");
    assert_eq!(open.dialog.planning, Planning::Waiting);
    // `y` before the plan has come does nothing.
    assert!(key(&mut state, 'y').commands.is_empty());

    let plan = shop_plan();
    planned(&mut state, plan.clone());
    let go = key(&mut state, 'y');
    assert_eq!(
        go.commands,
        vec![Command::Engine(EngineCommand::Sync {
            app: "shop".into(),
            request: SyncCommand::default(),
        })]
    );
    assert!(state.dialog.is_none());
    assert_eq!(state.apps[0].sync.as_ref().unwrap().done_of_total(), (0, 3));
    assert!(state.is_busy(), "the spinner turns while it syncs");

    let outcome = outcome_of(&plan);
    let first = SyncProgress::Object(outcome.objects[0].clone());
    assert!(engine(
        &mut state,
        EngineEvent::Syncing {
            app: "shop".into(),
            progress: first,
        }
    ));
    assert_eq!(state.apps[0].sync.as_ref().unwrap().done_of_total(), (1, 3));

    engine(
        &mut state,
        EngineEvent::SyncEnded {
            app: "shop".into(),
            outcome: Ok(outcome),
        },
    );
    assert!(state.apps[0].sync.is_none());
    let result = state.sync_result.as_ref().unwrap();
    assert_eq!(
        result.text,
        "shop: synced: 1 created, 1 updated, 1 pruned at 3f2a91c in 0.4s"
    );
    assert!(!result.failed);
}

#[test]
fn esc_closes_the_dialog_and_nothing_is_synced() {
    let mut state = shop();
    key(&mut state, 's');
    planned(&mut state, shop_plan());
    let closed = press(&mut state, KeyCode::Esc);
    assert!(closed.changed && closed.commands.is_empty());
    assert!(state.dialog.is_none());
    assert!(state.apps[0].sync.is_none());
    // Back in the panes, `y` is the YAML view again, not a confirmation.
    assert!(key(&mut state, 'y').commands.is_empty());
}

#[test]
fn a_planning_error_shows_in_the_dialog_and_cannot_be_confirmed() {
    let mut state = shop();
    key(&mut state, 's');
    let why = "app \"shop\": the manifests at 3f2a91c have 1 error(s)".to_string();
    engine(
        &mut state,
        EngineEvent::Planned {
            app: "shop".into(),
            plan: Err(why.clone()),
        },
    );
    assert_eq!(
        state.dialog.as_ref().unwrap().dialog.planning,
        Planning::Failed(why)
    );
    assert!(press(&mut state, KeyCode::Enter).commands.is_empty());
    assert!(state.dialog.is_some());
}

#[test]
fn a_plan_for_another_app_leaves_the_dialog_waiting() {
    let mut state = state_with_apps(&["shop", "blog"]);
    key(&mut state, 's');
    let mut other = shop_plan();
    other.app = "blog".into();
    engine(
        &mut state,
        EngineEvent::Planned {
            app: "blog".into(),
            plan: Ok(Arc::new(other)),
        },
    );
    assert_eq!(
        state.dialog.as_ref().unwrap().dialog.planning,
        Planning::Waiting
    );
}

#[test]
fn s_on_a_resource_plans_that_object_only() {
    let mut state = reported();
    press(&mut state, KeyCode::Enter);
    let key_of = state.selected_resource().unwrap().key.clone();
    let asked = key(&mut state, 's');
    assert_eq!(
        asked.commands,
        vec![Command::Engine(EngineCommand::Plan {
            app: "guestbook".into(),
            prune: false,
            only: Some(key_of.clone()),
        })]
    );
    let title = &state.dialog.as_ref().unwrap().dialog.title;
    assert_eq!(title, &format!("Sync {key_of} of guestbook"));
}

#[test]
fn read_only_refuses_sync_with_a_notice() {
    let mut state = shop();
    state.readonly = true;
    let refused = key(&mut state, 's');
    assert!(refused.commands.is_empty());
    assert!(state.dialog.is_none());
    assert!(state.notice.as_deref().unwrap().contains("read-only"));
}

#[test]
fn quit_during_a_sync_cancels_it_and_quits_when_it_has_ended() {
    let mut state = shop();
    key(&mut state, 's');
    planned(&mut state, shop_plan());
    key(&mut state, 'y');
    let quit = key(&mut state, 'q');
    assert_eq!(
        quit.commands,
        vec![Command::Engine(EngineCommand::CancelSync {
            app: "shop".into()
        })]
    );
    assert!(
        state
            .notice
            .as_deref()
            .unwrap()
            .contains("objects in flight")
    );
    assert!(state.apps[0].sync.as_ref().unwrap().cancelling);

    let ended = update(
        &mut state,
        Msg::Engine(EngineEvent::SyncEnded {
            app: "shop".into(),
            outcome: Err(SyncRefused {
                message: "app \"shop\": cancelled".into(),
                could_not_run: false,
            }),
        }),
    );
    assert_eq!(ended.commands, vec![Command::Quit]);
    assert!(state.sync_result.as_ref().unwrap().failed);
}

#[test]
fn a_second_quit_does_not_wait() {
    let mut state = shop();
    key(&mut state, 's');
    planned(&mut state, shop_plan());
    key(&mut state, 'y');
    key(&mut state, 'q');
    assert_eq!(key(&mut state, 'q').commands, vec![Command::Quit]);
}

#[test]
fn without_a_sync_quit_is_at_once_even_from_the_dialog() {
    let mut state = shop();
    key(&mut state, 's');
    assert_eq!(key(&mut state, 'q').commands, vec![Command::Quit]);
}
