//! The Commits pane as a GitOps log, through `TestBackend`: the app's
//! commits with their marks, `a` for all of them, and Enter's preview of
//! what deploying a commit would change, at 80x24 and 160x48.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::{Value, json};

use super::*;
use crate::config::Config;
use crate::engine::{DeployPreview, EngineCommand, EngineEvent, compare_revisions};
use crate::manifests::{Checked, ManifestFile, check_files};
use crate::source::{ChangedFile, FileChange};
use crate::tui::msg::{Command, Msg};
use crate::tui::pane::Pane;
use crate::tui::test_support::{DEPLOYED, HEAD, engine, reported};
use crate::tui::update::update;

fn press(state: &mut State, code: KeyCode) -> crate::tui::msg::Outcome {
    update(state, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn render(state: &State, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| view(frame, state)).unwrap();
    terminal.backend().to_string()
}

fn checked(objects: &[Value]) -> Checked {
    let files: Vec<ManifestFile> = objects
        .iter()
        .enumerate()
        .map(|(i, o)| ManifestFile {
            path: PathBuf::from(format!("{i}.json")),
            bytes: o.to_string().into_bytes(),
            rendered_by: None,
        })
        .collect();
    check_files(&files, Path::new("apps/guestbook"), "guestbook")
}

/// What deploying the head instead of the deployed commit changes: the
/// image, a ConfigMap added and one removed.
fn head_preview() -> DeployPreview {
    let app = Config::parse(
        Path::new("config.toml"),
        "[[app]]\nname = \"guestbook\"\nrepo = \"r\"\nnamespace = \"guestbook\"\n",
    )
    .unwrap()
    .apps
    .remove(0);
    let deployment = |image: &str| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "frontend", "namespace": "guestbook"},
            "spec": {"template": {"spec": {"containers": [{"name": "frontend", "image": image}]}}}})
    };
    let config_map = |name: &str| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "guestbook"}, "data": {"color": "blue"}})
    };
    let before = checked(&[deployment("nginx:1.25"), config_map("old")]);
    let after = checked(&[deployment("nginx:1.27"), config_map("settings")]);
    DeployPreview {
        from: Some(DEPLOYED.to_string()),
        to: HEAD.to_string(),
        objects: compare_revisions(&app, Some(&before), &after),
        files: vec![ChangedFile {
            path: "apps/guestbook/frontend.yaml".into(),
            change: FileChange::Modified,
        }],
        problems: Vec::new(),
    }
}

/// The guestbook's commits, only the head changing its path; the focus on
/// the Commits pane.
fn on_commits(width: u16, height: u16) -> State {
    let mut state = reported();
    update(&mut state, Msg::Resize { width, height });
    let head = gix::ObjectId::from_hex(HEAD.as_bytes()).unwrap();
    engine(
        &mut state,
        EngineEvent::PathCommits {
            app: "guestbook".into(),
            generation: 0,
            touching: Arc::new(HashSet::from([head])),
        },
    );
    state.focus = Pane::Commits;
    state
}

#[test]
fn snapshot_the_app_commits_marked_and_enter_shows_what_deploying_would_change() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut state = on_commits(w, h);
        let listed = render(&state, w, h);
        assert!(
            !listed.contains("add the settings"),
            "the path filter: {listed}"
        );
        insta::assert_snapshot!(format!("commits_app_{w}x{h}"), listed);

        let outcome = press(&mut state, KeyCode::Enter);
        assert_eq!(
            outcome.commands,
            vec![Command::Engine(EngineCommand::Preview {
                app: "guestbook".into(),
                from: Some(DEPLOYED.into()),
                to: HEAD.into(),
            })]
        );
        assert!(render(&state, w, h).contains("rendering both revisions"));
        engine(
            &mut state,
            EngineEvent::Previewed {
                app: "guestbook".into(),
                preview: Arc::new(head_preview()),
            },
        );
        let previewed = render(&state, w, h);
        // At 80x24 the preview is below the commit: the diff pane scrolls.
        let whole = render(&state, 160, 100);
        for expected in [
            "Deploying 9c1e0b2 instead of 3f2a91c (deployed), objects:",
            "+ added   ConfigMap guestbook/settings",
            "○ removed ConfigMap guestbook/old",
            "✗ changed Deployment guestbook/frontend",
            "\"nginx:1.25\" → \"nginx:1.27\"",
            "Files changed by 9c1e0b2:",
            "M apps/guestbook/frontend.yaml",
        ] {
            assert!(whole.contains(expected), "{expected}: {whole}");
        }
        insta::assert_snapshot!(format!("commits_preview_{w}x{h}"), previewed);
    }
}

#[test]
fn all_lists_every_commit_and_keeps_the_selection() {
    let mut state = on_commits(160, 48);
    press(&mut state, KeyCode::Char('j'));
    assert_eq!(state.selected_commit().unwrap().id.to_string(), DEPLOYED);
    press(&mut state, KeyCode::Char('a'));
    assert!(state.all_commits);
    assert_eq!(state.listed_commits().len(), 3);
    assert_eq!(state.selected_commit().unwrap().id.to_string(), DEPLOYED);
    let screen = render(&state, 160, 48);
    assert!(
        screen.contains("add the settings") && screen.contains("Commits · 3 · 1 behind"),
        "{screen}"
    );
    press(&mut state, KeyCode::Char('a'));
    assert!(render(&state, 160, 48).contains("Commits · 2/3 · 1 behind"));
}

#[test]
fn a_late_preview_of_another_commit_is_dropped() {
    let mut state = on_commits(160, 48);
    press(&mut state, KeyCode::Enter);
    let mut other = head_preview();
    other.to = DEPLOYED.to_string();
    engine(
        &mut state,
        EngineEvent::Previewed {
            app: "guestbook".into(),
            preview: Arc::new(other),
        },
    );
    assert!(state.selected_app().unwrap().preview.is_none());
}
