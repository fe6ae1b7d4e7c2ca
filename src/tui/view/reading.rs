//! The diff pane's other views of a resource: its YAML (live, desired, or
//! both side by side) and the side-by-side diff (desired | live) with the
//! changed words marked. Both read the two sides back from the report's
//! diff (`sides`); a pane too narrow for two columns gets the unified diff.

use ratatui::text::Line;

use super::rows::{Row, Rows};
use crate::drift::{ResourceResult, ResourceStatus};
use crate::tui::sides::{self, DiffLine};
use crate::tui::state::{Detail, DiffMode, State, YamlSide};

/// Two columns need at least this many cells in the pane.
pub const MIN_SIDE_BY_SIDE: usize = 60;

/// The view's name for the pane title, when it is not the plain diff.
pub fn mode_name(state: &State) -> Option<String> {
    if !matches!(state.detail(), Detail::Resource(_)) {
        return None;
    }
    let two_columns = super::diff_room(state) >= MIN_SIDE_BY_SIDE;
    let name = match state.reading.mode {
        DiffMode::Changes => return None,
        DiffMode::Yaml(YamlSide::Live) => "YAML live",
        DiffMode::Yaml(YamlSide::Desired) => "YAML desired",
        DiffMode::Yaml(YamlSide::Both) if two_columns => "YAML live | desired",
        DiffMode::SideBySide if two_columns => "desired | live",
        DiffMode::Yaml(YamlSide::Both) | DiffMode::SideBySide => "unified (narrow)",
    };
    Some(name.to_string())
}

pub fn rows<'a>(
    state: &State,
    resource: &'a ResourceResult,
    mode: DiffMode,
    width: usize,
) -> Rows<'a> {
    let theme = &state.theme;
    let lines = sides::parse(&resource.diff);
    let mut head = Vec::new();
    if resource.diff.is_empty() {
        let why = match resource.status {
            ResourceStatus::Synced => "It matches Git",
            _ => "Its live state could not be read",
        };
        head.push(Line::styled(
            format!("{why}: the verdict carries no copy of the object."),
            theme.muted,
        ));
    } else if resource.status == ResourceStatus::OutOfSync {
        head.push(Line::styled(
            "The changed parts, as the verdict carries them:",
            theme.muted,
        ));
    }
    let head = head.into_iter().map(Row::Built);
    let two_columns = width >= MIN_SIDE_BY_SIDE;
    match mode {
        DiffMode::Yaml(YamlSide::Live) | DiffMode::Yaml(YamlSide::Desired) => {
            let live = mode == DiffMode::Yaml(YamlSide::Live);
            let side = lines.into_iter().filter(move |line| match line {
                DiffLine::Live(_) => live,
                DiffLine::Desired(_) => !live,
                DiffLine::Same(_) | DiffLine::Gap(_) => true,
            });
            Box::new(head.chain(side.map(Row::Side)))
        }
        DiffMode::Yaml(YamlSide::Both) if two_columns => {
            let pairs = sides::pair(&lines, true);
            Box::new(head.chain(pairs.into_iter().map(|p| Row::Pair(p, false))))
        }
        DiffMode::SideBySide if two_columns => {
            let pairs = sides::pair(&lines, false);
            Box::new(head.chain(pairs.into_iter().map(|p| Row::Pair(p, true))))
        }
        // Too narrow for two columns: the unified diff, which shows both.
        _ => Box::new(
            head.chain(
                resource
                    .diff
                    .lines()
                    .enumerate()
                    .map(|(i, text)| Row::Diff(i, text)),
            ),
        ),
    }
}
