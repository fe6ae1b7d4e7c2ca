//! The keymap: defaults, config bindings, conflicts, the README table.

use std::path::Path;

use ratatui::crossterm::event::{KeyCode, KeyEventKind, KeyModifiers};

use super::*;

fn config(text: &str) -> Config {
    Config::parse(Path::new("config.toml"), text).unwrap()
}

fn keymap(text: &str) -> Result<Keymap, String> {
    Keymap::from_config(&config(text)).map_err(|e| e.to_string())
}

fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
    KeyEvent::new_with_kind(code, modifiers, KeyEventKind::Press)
}

#[test]
fn every_default_key_parses_and_no_two_defaults_clash() {
    for action in Action::ALL {
        let spec = action.spec();
        assert_eq!(
            default_chords(action).len(),
            spec.default_keys.len(),
            "{}",
            spec.name
        );
    }
    assert_eq!(
        Keymap::from_config(&Config::default()).unwrap(),
        Keymap::defaults()
    );
}

#[test]
fn action_names_are_unique_and_found_by_name() {
    for action in Action::ALL {
        assert_eq!(Action::from_name(action.spec().name), Some(action));
    }
    assert_eq!(Action::from_name("no_such_action"), None);
}

#[test]
fn keys_from_the_terminal_match_the_config_spelling() {
    let map = Keymap::defaults();
    let cases = [
        (press(KeyCode::Char('q'), KeyModifiers::NONE), Action::Quit),
        (
            press(KeyCode::Char('c'), KeyModifiers::CONTROL),
            Action::Quit,
        ),
        (
            press(KeyCode::Char('G'), KeyModifiers::SHIFT),
            Action::Bottom,
        ),
        (
            press(KeyCode::BackTab, KeyModifiers::SHIFT),
            Action::FocusPrev,
        ),
        (press(KeyCode::Tab, KeyModifiers::SHIFT), Action::FocusPrev),
        (press(KeyCode::Char('?'), KeyModifiers::SHIFT), Action::Help),
        (
            press(KeyCode::PageDown, KeyModifiers::NONE),
            Action::PageDown,
        ),
    ];
    for (event, expected) in cases {
        assert_eq!(
            map.action(Context::Panes, &event),
            Some(expected),
            "{event:?}"
        );
    }
    assert_eq!(
        map.action(
            Context::Panes,
            &press(KeyCode::Char('x'), KeyModifiers::NONE)
        ),
        None
    );
}

#[test]
fn context_limits_what_a_key_does() {
    let map = Keymap::defaults();
    let tab = press(KeyCode::Tab, KeyModifiers::NONE);
    assert_eq!(map.action(Context::Panes, &tab), Some(Action::FocusNext));
    assert_eq!(map.action(Context::Help, &tab), None);
}

#[test]
fn parses_and_prints_key_names() {
    for text in [
        "q",
        "G",
        "?",
        "ctrl-r",
        "alt-x",
        "shift-tab",
        "enter",
        "esc",
        "space",
        "pgdn",
        "f5",
        "-",
    ] {
        assert_eq!(KeyChord::parse(text).unwrap().to_string(), text);
    }
    assert_eq!(
        KeyChord::parse("shift-g").unwrap(),
        KeyChord::parse("G").unwrap()
    );
    assert_eq!(
        KeyChord::parse("Ctrl-C").unwrap(),
        KeyChord::parse("ctrl-c").unwrap()
    );
    assert_eq!(KeyChord::parse("PageDown").unwrap().to_string(), "pgdn");
    assert_eq!(KeyChord::parse("ctrl--").unwrap().to_string(), "ctrl--");
    for bad in ["", "ctrl-", "hyper-x", "f0", "f99", "enterr"] {
        assert!(KeyChord::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_config_binding_replaces_the_defaults_of_its_action() {
    let map = keymap("[keys]\nquit = \"x\"\ndown = [\"J\", \"down\"]\n").unwrap();
    let x = press(KeyCode::Char('x'), KeyModifiers::NONE);
    let q = press(KeyCode::Char('q'), KeyModifiers::NONE);
    assert_eq!(map.action(Context::Panes, &x), Some(Action::Quit));
    assert_eq!(map.action(Context::Panes, &q), None);
    assert_eq!(map.keys(Action::Down).len(), 2);
    assert_eq!(map.keys(Action::Down)[0].to_string(), "J");
}

#[test]
fn a_freed_default_key_can_be_taken_by_another_action() {
    let map = keymap("[keys]\nquit = \"x\"\nhelp = \"q\"\n").unwrap();
    let q = press(KeyCode::Char('q'), KeyModifiers::NONE);
    assert_eq!(map.action(Context::Panes, &q), Some(Action::Help));
}

#[test]
fn two_actions_on_one_key_name_both_and_the_line() {
    let err = keymap("[keys]\nhelp = \"q\"\n").unwrap_err();
    assert_eq!(
        err,
        "config.toml:2:8: key \"q\" is bound to both \"quit\" (by default) and \"help\" (line 2); give one of them another key"
    );
    let err = keymap("[keys]\ntop = \"t\"\n\nbottom = [\"b\", \"t\"]\n").unwrap_err();
    assert!(
        err.starts_with(
            "config.toml:4:10: key \"t\" is bound to both \"top\" (line 2) and \"bottom\" (line 4)"
        ),
        "{err}"
    );
}

#[test]
fn a_pane_action_and_an_action_of_every_context_clash() {
    let err = keymap("[keys]\nopen = \"x\"\nquit = \"x\"\n").unwrap_err();
    assert!(
        err.contains("bound to both \"open\" (line 2) and \"quit\" (line 3)"),
        "{err}"
    );
}

#[test]
fn unknown_action_is_an_error_with_the_choices() {
    let err = keymap("[keys]\nsnyc = \"s\"\n").unwrap_err();
    assert!(
        err.starts_with(
            "config.toml:2:8: unknown action \"snyc\" in [keys], expected one of up, down,"
        ),
        "{err}"
    );
}

#[test]
fn unknown_key_is_an_error_naming_action_and_key() {
    let err = keymap("[keys]\n\nquit = [\"q\", \"ctrl-\"]\n").unwrap_err();
    assert!(
        err.starts_with("config.toml:3:8: \"quit\": unknown key \"ctrl-\""),
        "{err}"
    );
}

#[test]
fn quit_cannot_be_left_without_a_key() {
    let err = keymap("[keys]\nquit = []\n").unwrap_err();
    assert!(err.contains("\"quit\" needs at least one key"), "{err}");
    let map = keymap("[keys]\nopen = []\n").unwrap();
    assert!(map.keys(Action::Open).is_empty());
}

#[test]
fn readme_lists_every_default_binding() {
    let readme = include_str!("../../../README.md");
    for action in Action::ALL {
        let spec = action.spec();
        let keys: Vec<String> = spec.default_keys.iter().map(|k| format!("`{k}`")).collect();
        let row = format!(
            "| {} | `{}` | {} |",
            keys.join(" "),
            spec.name,
            spec.description
        );
        assert!(readme.contains(&row), "README.md lacks the row {row}");
    }
}
