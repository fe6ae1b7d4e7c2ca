//! The four panes of the screen, in focus order. Shared by the state, the
//! prompt (`/` filters the focused pane) and the view.

/// The four panes, in focus order (clockwise from the top left).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Apps,
    Resources,
    Diff,
    Commits,
}

impl Pane {
    const ORDER: [Pane; 4] = [Pane::Apps, Pane::Resources, Pane::Diff, Pane::Commits];

    pub fn next(self) -> Pane {
        let i = Pane::ORDER.iter().position(|p| *p == self).unwrap_or(0);
        Pane::ORDER[(i + 1) % Pane::ORDER.len()]
    }

    pub fn prev(self) -> Pane {
        let i = Pane::ORDER.iter().position(|p| *p == self).unwrap_or(0);
        Pane::ORDER[(i + Pane::ORDER.len() - 1) % Pane::ORDER.len()]
    }
}
