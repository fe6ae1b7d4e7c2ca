//! States built the way the command builds them, for the tests of update and view.

use std::path::Path;

use super::keymap::Keymap;
use super::state::State;
use super::theme::Theme;
use crate::config::Config;

pub const CONFIG_FILE: &str = "/home/op/.config/driftdeck/config.toml";

/// A state with these apps configured, the default keys and theme, at 80x24.
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
    state
}
