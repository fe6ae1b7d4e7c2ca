//! Rollback and unpin through `update`: `R` on a commit plans a rollback at
//! it in the sync's dialog and `y` syncs there with a pin; `p` asks in the
//! notice line and only a confirm unpins; both are gone under --readonly.

use std::sync::Arc;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::update;
use crate::engine::{EngineCommand, EngineEvent, SyncCommand, SyncTarget};
use crate::sync::test_support::shop_plan;
use crate::tui::dialog::Purpose;
use crate::tui::msg::{Command, Msg, Outcome};
use crate::tui::pane::Pane;
use crate::tui::state::State;
use crate::tui::test_support::{DEPLOYED, engine, guestbook_report, report_event, reported};

fn key(state: &mut State, c: char) -> Outcome {
    update(
        state,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
    )
}

/// The guestbook, its second commit (the deployed one) selected.
fn on_deployed_commit() -> State {
    let mut state = reported();
    state.focus = Pane::Commits;
    key(&mut state, 'j');
    assert_eq!(
        state.selected_commit().map(|c| c.id.to_string()),
        Some(DEPLOYED.to_string())
    );
    state
}

#[test]
fn r_on_a_commit_plans_a_rollback_and_y_syncs_there_with_a_pin() {
    let mut state = on_deployed_commit();
    let asked = key(&mut state, 'R');
    let pin = SyncTarget::Pin(DEPLOYED.to_string());
    assert_eq!(
        asked.commands,
        vec![Command::Engine(EngineCommand::Plan {
            app: "guestbook".into(),
            prune: false,
            target: pin.clone(),
            only: None,
        })]
    );
    let open = state.dialog.as_ref().expect("the dialog is open");
    assert_eq!(open.dialog.title, "Roll back guestbook to 3f2a91c");
    assert_eq!(
        open.purpose,
        Purpose::Rollback {
            app: "guestbook".into(),
            revision: DEPLOYED.into()
        }
    );
    engine(
        &mut state,
        EngineEvent::Planned {
            app: "guestbook".into(),
            plan: Ok(Arc::new(shop_plan())),
        },
    );
    let go = key(&mut state, 'y');
    assert_eq!(
        go.commands,
        vec![Command::Engine(EngineCommand::Sync {
            app: "guestbook".into(),
            request: SyncCommand::default(),
            target: pin,
        })]
    );
    assert!(state.dialog.is_none());
    assert!(state.selected_app().unwrap().sync.is_some());

    engine(
        &mut state,
        EngineEvent::Pinned {
            app: "guestbook".into(),
            pinned: Ok(Some(DEPLOYED.into())),
        },
    );
    assert_eq!(
        state.notice.as_deref(),
        Some("guestbook is pinned to 3f2a91c")
    );
}

#[test]
fn r_needs_a_commit_selected() {
    let mut state = reported();
    let asked = key(&mut state, 'R');
    assert!(asked.commands.is_empty());
    assert!(state.dialog.is_none());
    assert!(state.notice.as_deref().unwrap().contains("Commits pane"));
}

#[test]
fn p_asks_first_and_only_a_confirm_unpins() {
    let mut state = reported();
    key(&mut state, 'p');
    assert_eq!(state.notice.as_deref(), Some("guestbook is not pinned"));
    assert!(state.unpin_asked.is_none());

    let mut pinned = guestbook_report();
    pinned.pinned = Some(DEPLOYED.into());
    engine(&mut state, report_event("guestbook", 0, pinned));
    key(&mut state, 'p');
    let asked = state.notice.clone().unwrap();
    assert!(asked.starts_with("unpin guestbook from 3f2a91c"), "{asked}");
    // Any other key keeps the pin, and is not acted on.
    let kept = key(&mut state, 's');
    assert!(kept.commands.is_empty());
    assert!(state.dialog.is_none() && state.unpin_asked.is_none());

    key(&mut state, 'p');
    let unpinned = key(&mut state, 'y');
    assert_eq!(
        unpinned.commands,
        vec![Command::Engine(EngineCommand::Unpin {
            app: "guestbook".into()
        })]
    );
}

#[test]
fn rollback_and_unpin_are_off_when_read_only() {
    let mut state = on_deployed_commit();
    state.readonly = true;
    for c in ['R', 'p'] {
        let asked = key(&mut state, c);
        assert!(asked.commands.is_empty());
        assert!(state.dialog.is_none() && state.unpin_asked.is_none());
        assert!(state.notice.as_deref().unwrap().contains("read-only"));
    }
}
