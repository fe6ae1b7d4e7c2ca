//! Where each pane goes: a pure function of the terminal size, shared by the
//! view (to draw) and by `update` (to know how many rows a page holds).

use ratatui::layout::Rect;

use crate::tui::pane::Pane;

/// Below this the panes cannot be used; a one-line notice replaces them.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 10;

/// Apps and commits on the left, resources and diff on the right; a notice
/// line (when there is one) and the status bar at the bottom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub apps: Rect,
    pub resources: Rect,
    pub diff: Rect,
    pub commits: Rect,
    pub notice: Option<Rect>,
    pub status: Rect,
}

impl Areas {
    /// The areas for a screen, or `None` when it is too small.
    pub fn of(screen: Rect, notice_rows: u16) -> Option<Areas> {
        if screen.width < MIN_WIDTH || screen.height < MIN_HEIGHT {
            return None;
        }
        let Rect {
            x,
            y,
            width,
            height,
        } = screen;
        let bottom = y.saturating_add(height);
        let status = Rect::new(x, bottom - 1, width, 1);
        // A notice takes a row at the smallest size, three at most.
        let notice_rows = notice_rows.min(((height - MIN_HEIGHT) / 2 + 1).min(3));
        let notice =
            (notice_rows > 0).then(|| Rect::new(x, bottom - 1 - notice_rows, width, notice_rows));
        let body_height = height - 1 - notice_rows;
        // A third of the width for the apps and commits, within reason.
        let left = u16::try_from((u32::from(width) * 3 / 10).clamp(20, 40)).unwrap_or(20);
        let right = width - left;
        let top = body_height / 2;
        let (mid_x, mid_y) = (x.saturating_add(left), y.saturating_add(top));
        Some(Areas {
            apps: Rect::new(x, y, left, top),
            commits: Rect::new(x, mid_y, left, body_height - top),
            resources: Rect::new(mid_x, y, right, top),
            diff: Rect::new(mid_x, mid_y, right, body_height - top),
            notice,
            status,
        })
    }

    pub fn pane(&self, pane: Pane) -> Rect {
        match pane {
            Pane::Apps => self.apps,
            Pane::Resources => self.resources,
            Pane::Diff => self.diff,
            Pane::Commits => self.commits,
        }
    }
}

/// Rows a pane has for its items: inside the border, below the resources'
/// column header (the lines above it depend on the app: `view::list_rows`).
/// At least 1, so page moves always move.
pub fn item_rows(pane: Pane, screen: Rect, notice_rows: u16) -> usize {
    let Some(areas) = Areas::of(screen, notice_rows) else {
        return 1;
    };
    let header = if pane == Pane::Resources { 1 } else { 0 };
    usize::from(areas.pane(pane).height.saturating_sub(2 + header)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_panes_tile_the_screen_above_the_status_bar() {
        for (width, height) in [(40, 10), (80, 24), (160, 48), (41, 11), (300, 100)] {
            for notice in [0, 1, 3] {
                let screen = Rect::new(0, 0, width, height);
                let areas = Areas::of(screen, notice).unwrap();
                let cells: u32 = [areas.apps, areas.resources, areas.diff, areas.commits]
                    .iter()
                    .map(|r| r.area())
                    .sum();
                let bars = 1 + areas.notice.map_or(0, |n| u32::from(n.height));
                assert_eq!(
                    cells + bars * u32::from(width),
                    screen.area(),
                    "{width}x{height}"
                );
                assert!(areas.apps.height >= 4 && areas.resources.width >= 20);
                assert!(!areas.apps.intersects(areas.resources));
                assert!(!areas.diff.intersects(areas.commits));
            }
        }
    }

    #[test]
    fn too_small_screens_get_no_panes() {
        assert_eq!(Areas::of(Rect::new(0, 0, 39, 24), 0), None);
        assert_eq!(Areas::of(Rect::new(0, 0, 80, 9), 0), None);
        assert_eq!(item_rows(Pane::Apps, Rect::new(0, 0, 1, 1), 0), 1);
    }

    #[test]
    fn item_rows_leave_out_borders_and_the_header() {
        let screen = Rect::new(0, 0, 80, 24);
        assert_eq!(item_rows(Pane::Apps, screen, 0), 9);
        assert_eq!(item_rows(Pane::Resources, screen, 0), 8);
        assert_eq!(item_rows(Pane::Diff, screen, 0), 10);
        assert_eq!(item_rows(Pane::Diff, screen, 1), 9);
    }
}
