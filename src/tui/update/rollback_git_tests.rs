//! The rollback dialog's Git choices through `update`: the choices (the
//! app's `rollback = "merge-request"` preselects the branch), the message
//! editor fed by the engine's default message, editing, confirming into
//! the engine's `GitRollback`, the outcome in the notice line and the sync
//! of a commit pushed to the branch; and the editor drawn at 80x24.

use std::sync::Arc;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::update;
use crate::engine::{EngineCommand, EngineEvent, SyncCommand, SyncTarget};
use crate::source::{MergeRequest, RollbackMode, RollbackOutcome};
use crate::sync::test_support::shop_plan;
use crate::tui::msg::{Command, Msg, Outcome};
use crate::tui::pane::Pane;
use crate::tui::state::State;
use crate::tui::test_support::{DEPLOYED, engine, reported};

fn press(state: &mut State, code: KeyCode, modifiers: KeyModifiers) -> Outcome {
    update(state, Msg::Key(KeyEvent::new(code, modifiers)))
}

fn key(state: &mut State, c: char) -> Outcome {
    press(state, KeyCode::Char(c), KeyModifiers::NONE)
}

/// The rollback dialog of the guestbook at its deployed commit, planned.
fn dialog_open(mode: RollbackMode) -> State {
    let mut state = reported();
    state.apps[0].rollback_mode = mode;
    state.focus = Pane::Commits;
    key(&mut state, 'j');
    key(&mut state, 'R');
    engine(
        &mut state,
        EngineEvent::Planned {
            app: "guestbook".into(),
            plan: Ok(Arc::new(shop_plan())),
        },
    );
    state
}

/// "revert in Git" chosen and confirmed, the default message come.
fn editing() -> State {
    let mut state = dialog_open(RollbackMode::OnBranch);
    press(&mut state, KeyCode::Tab, KeyModifiers::NONE);
    let asked = key(&mut state, 'y');
    assert_eq!(
        asked.commands,
        vec![Command::Engine(EngineCommand::PrepareGitRollback {
            app: "guestbook".into(),
            revision: DEPLOYED.into(),
        })]
    );
    assert!(state.dialog.is_none(), "the plan dialog gives way");
    engine(
        &mut state,
        EngineEvent::GitRollbackPrepared {
            app: "guestbook".into(),
            message: Ok(
                "Roll back guestbook to 3f2a91c\n\nCommits undone:\n- 9c1d2e0 bump\n".into(),
            ),
        },
    );
    state
}

fn chosen(state: &State) -> usize {
    state
        .dialog
        .as_ref()
        .expect("the dialog is open")
        .dialog
        .choice
}

#[test]
fn the_rollback_dialog_offers_pin_revert_and_merge_request() {
    let state = dialog_open(RollbackMode::OnBranch);
    let dialog = &state.dialog.as_ref().unwrap().dialog;
    assert_eq!(
        dialog.choices,
        [
            "roll back the cluster (pin)",
            "revert in Git",
            "merge-request branch"
        ]
    );
    assert_eq!(chosen(&state), 0);
    assert_eq!(chosen(&dialog_open(RollbackMode::MergeRequest)), 2);
}

#[test]
fn the_edited_message_is_confirmed_into_a_git_rollback_then_synced() {
    let mut state = editing();
    let editor = state.rollback_message.as_ref().expect("the editor is open");
    assert_eq!(
        editor.text.as_ref().unwrap().lines()[0],
        "Roll back guestbook to 3f2a91c"
    );
    // The first line edited: to its end, then a reason typed.
    press(&mut state, KeyCode::Up, KeyModifiers::NONE);
    press(&mut state, KeyCode::Up, KeyModifiers::NONE);
    press(&mut state, KeyCode::Up, KeyModifiers::NONE);
    press(&mut state, KeyCode::End, KeyModifiers::NONE);
    for c in ": bad image".chars() {
        key(&mut state, c);
    }
    let go = press(&mut state, KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert_eq!(
        go.commands,
        vec![Command::Engine(EngineCommand::GitRollback {
            app: "guestbook".into(),
            revision: DEPLOYED.into(),
            message:
                "Roll back guestbook to 3f2a91c: bad image\n\nCommits undone:\n- 9c1d2e0 bump\n"
                    .into(),
            mode: RollbackMode::OnBranch,
        })]
    );
    assert!(state.rollback_message.is_none());
    let commit = gix::ObjectId::from_hex(b"1111111111111111111111111111111111111111").unwrap();
    let synced = update(
        &mut state,
        Msg::Engine(EngineEvent::GitRolledBack {
            app: "guestbook".into(),
            outcome: Ok(RollbackOutcome {
                commit,
                branch: "main".into(),
                merge_request: None,
                rebuilt: false,
            }),
            // Pinned before: the pushed commit replaces the pin.
            pinned: Some(DEPLOYED.into()),
        }),
    );
    assert_eq!(
        synced.commands,
        vec![Command::Engine(EngineCommand::Sync {
            app: "guestbook".into(),
            request: SyncCommand::default(),
            target: SyncTarget::Revision(commit.to_string()),
        })]
    );
    assert!(state.apps[0].sync.is_some(), "the sync shows as running");
    let notice = state.notice.clone().unwrap_or_default();
    assert!(
        notice.contains("1111111") && notice.contains("\"main\""),
        "{notice}"
    );
    assert!(
        notice.contains("unpinned: the Git rollback replaces the pin at 3f2a91c"),
        "{notice}"
    );
}

#[test]
fn a_merge_request_shows_its_url_and_the_cluster_is_left_alone() {
    let mut state = dialog_open(RollbackMode::MergeRequest);
    key(&mut state, 'y');
    engine(
        &mut state,
        EngineEvent::GitRollbackPrepared {
            app: "guestbook".into(),
            message: Ok("Roll back guestbook to 3f2a91c\n".into()),
        },
    );
    let go = press(&mut state, KeyCode::Char('s'), KeyModifiers::CONTROL);
    let Some(Command::Engine(EngineCommand::GitRollback { mode, .. })) = go.commands.first() else {
        panic!("no Git rollback: {go:?}");
    };
    assert_eq!(*mode, RollbackMode::MergeRequest);
    let url = "https://github.com/acme/deploy/compare/main...driftdeck/rollback-guestbook-3f2a91c";
    let done = update(
        &mut state,
        Msg::Engine(EngineEvent::GitRolledBack {
            app: "guestbook".into(),
            outcome: Ok(RollbackOutcome {
                commit: gix::ObjectId::null(gix::hash::Kind::Sha1),
                branch: "driftdeck/rollback-guestbook-3f2a91c".into(),
                merge_request: Some(MergeRequest {
                    target: "main".into(),
                    url: Some(url.into()),
                    no_url: None,
                    fell_back: None,
                }),
                rebuilt: false,
            }),
            pinned: Some(DEPLOYED.into()),
        }),
    );
    assert!(done.commands.is_empty(), "nothing is synced");
    assert!(state.apps[0].sync.is_none());
    let notice = state.notice.clone().unwrap_or_default();
    assert!(notice.contains(url), "{notice}");
    assert!(notice.contains("still pinned to 3f2a91c"), "{notice}");
}

#[test]
fn esc_drops_the_message_and_an_empty_one_cannot_be_confirmed() {
    let mut state = editing();
    // Everything deleted: Ctrl-S does nothing.
    for _ in 0..4 {
        press(&mut state, KeyCode::Down, KeyModifiers::NONE);
    }
    press(&mut state, KeyCode::End, KeyModifiers::NONE);
    for _ in 0..80 {
        press(&mut state, KeyCode::Backspace, KeyModifiers::NONE);
    }
    let go = press(&mut state, KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert!(go.commands.is_empty(), "{go:?}");
    press(&mut state, KeyCode::Esc, KeyModifiers::NONE);
    assert!(state.rollback_message.is_none());
}

#[test]
fn a_failed_preparation_is_shown_and_cannot_be_confirmed() {
    let mut state = dialog_open(RollbackMode::OnBranch);
    press(&mut state, KeyCode::Tab, KeyModifiers::NONE);
    key(&mut state, 'y');
    engine(
        &mut state,
        EngineEvent::GitRollbackPrepared {
            app: "guestbook".into(),
            message: Err("branch \"main\" not found".into()),
        },
    );
    let go = press(&mut state, KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert!(go.commands.is_empty());
    let screen = render(&state);
    assert!(format!("{:?}", screen.backend()).contains("cannot roll back in Git"));
}

fn render(state: &State) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal
        .draw(|frame| crate::tui::view::view(frame, state))
        .unwrap();
    terminal
}

#[test]
fn snapshot_the_rollback_message_editor_at_80x24() {
    let mut state = editing();
    state.size = ratatui::layout::Size::new(80, 24);
    insta::assert_snapshot!("rollback_message_80x24", render(&state).backend());
}

#[test]
fn every_rollback_choice_shows_whole_at_80x24() {
    let state = dialog_open(RollbackMode::MergeRequest);
    let screen = format!("{:?}", render(&state).backend());
    for choice in super::rollback::ROLLBACK_CHOICES {
        assert!(screen.contains(choice), "\"{choice}\" is cut:\n{screen}");
    }
    assert!(screen.contains("(•) merge-request branch"), "{screen}");
}

#[test]
fn with_the_cluster_already_there_only_the_git_choices_can_be_confirmed() {
    // Pinned at the commit: rolling the cluster back writes nothing, but a
    // commit in Git still makes the pin permanent.
    let mut state = reported();
    state.focus = Pane::Commits;
    key(&mut state, 'j');
    key(&mut state, 'R');
    let mut nothing = shop_plan();
    nothing.steps.clear();
    engine(
        &mut state,
        EngineEvent::Planned {
            app: "guestbook".into(),
            plan: Ok(Arc::new(nothing)),
        },
    );
    assert!(
        key(&mut state, 'y').commands.is_empty(),
        "the pin: nothing to do"
    );
    assert!(state.dialog.is_some());
    press(&mut state, KeyCode::Tab, KeyModifiers::NONE);
    assert_eq!(
        key(&mut state, 'y').commands,
        vec![Command::Engine(EngineCommand::PrepareGitRollback {
            app: "guestbook".into(),
            revision: DEPLOYED.into(),
        })]
    );
    assert!(state.rollback_message.is_some(), "the editor opens");
}
