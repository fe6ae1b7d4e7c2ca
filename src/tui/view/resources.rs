//! The resources pane: the selected app's objects with their status and
//! health; with no app configured, how to configure one.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::symbols;
use super::{fit, hint, pane_frame, render_rows, selection_style, short_id, title};
use crate::tui::report::ResourceRow;
use crate::tui::state::{AppState, Pane, State};

/// From this inner width on, the table has a NAMESPACE column.
const WIDE: usize = 100;

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.theme;
    let Some(app) = state.selected_app() else {
        let inner = pane_frame(
            frame,
            area,
            state,
            Pane::Resources,
            title(state, "Resources", vec![]),
        );
        hint(frame, inner, state, how_to_add_an_app(state));
        return;
    };
    let detail = vec![Span::styled(app.name.clone(), theme.title)];
    let inner = pane_frame(
        frame,
        area,
        state,
        Pane::Resources,
        title(state, "Resources", detail),
    );
    frame.render_widget(
        summary(state, app),
        Rect {
            height: inner.height.min(1),
            ..inner
        },
    );
    let below = Rect {
        y: inner.y.saturating_add(1),
        height: inner.height.saturating_sub(1),
        ..inner
    };
    match &app.resources {
        None => hint(
            frame,
            below,
            state,
            vec![Line::from(format!(
                "The objects of {} appear here with their sync status and health, once driftdeck has compared Git with the cluster.",
                app.name
            ))],
        ),
        Some(rows) if rows.is_empty() => hint(
            frame,
            below,
            state,
            vec![Line::from(format!(
                "{} has no objects, in Git or in the cluster.",
                app.name
            ))],
        ),
        Some(rows) => table(frame, below, state, rows),
    }
}

/// The app's status in one line, or its last failure, which matters more.
fn summary(state: &State, app: &AppState) -> Line<'static> {
    let theme = &state.theme;
    if let Some(error) = &app.error {
        return Line::styled(format!("! {error}"), theme.error);
    }
    let Some(status) = &app.status else {
        let unknown = symbols::not_known(theme);
        return Line::styled(
            format!("{} status not known yet", unknown.symbol),
            unknown.style,
        );
    };
    let sync = symbols::sync(theme, status.sync);
    let health = symbols::health(theme, status.health);
    let mut spans = vec![
        Span::styled(sync.label(), sync.style),
        Span::raw("  "),
        Span::styled(health.label(), health.style),
    ];
    if let Some(deployed) = &status.deployed {
        spans.push(Span::raw("  "));
        spans.push(Span::styled(
            format!("deployed {}", short_id(deployed)),
            theme.deployed,
        ));
    }
    Line::from(spans)
}

/// KIND, NAME, STATUS, HEALTH; NAMESPACE too where the pane is wide.
fn table(frame: &mut Frame, area: Rect, state: &State, rows: &[ResourceRow]) {
    let theme = &state.theme;
    let width = usize::from(area.width);
    // STATUS and HEALTH fit their longest words ("✗ OutOfSync", "◐ Progressing").
    let (status_width, health_width) = (12, 14);
    let longest = |text: fn(&ResourceRow) -> &str| {
        rows.iter()
            .map(|row| text(row).chars().count())
            .max()
            .unwrap_or(0)
    };
    let kind_width = (longest(|row| &row.kind) + 1).clamp(5, (width / 4).max(5));
    let namespace_width = if width >= WIDE {
        (longest(|row| row.namespace.as_deref().unwrap_or_default()) + 1).clamp(10, 24)
    } else {
        0
    };
    let name_width = width
        .saturating_sub(kind_width + namespace_width + status_width + health_width)
        .max(5);
    let mut header = fit("KIND", kind_width);
    if namespace_width > 0 {
        header += &fit("NAMESPACE", namespace_width);
    }
    header += &fit("NAME", name_width);
    header += &fit("STATUS", status_width);
    header += "HEALTH";
    frame.render_widget(
        Line::styled(header, theme.muted),
        Rect {
            height: area.height.min(1),
            ..area
        },
    );
    let body = Rect {
        y: area.y.saturating_add(1),
        height: area.height.saturating_sub(1),
        ..area
    };
    let cursor = state.cursors.resources;
    let lines = rows
        .iter()
        .skip(cursor.offset)
        .take(usize::from(body.height))
        .map(|row| {
            let status = symbols::resource(theme, row.status);
            let health = match row.health {
                Some(health) => {
                    let mark = symbols::health(theme, health);
                    Span::styled(mark.label(), mark.style)
                }
                None => Span::styled("-", theme.muted),
            };
            let mut spans = vec![Span::raw(cell(&row.kind, kind_width))];
            if namespace_width > 0 {
                spans.push(Span::raw(cell(
                    row.namespace.as_deref().unwrap_or("-"),
                    namespace_width,
                )));
            }
            spans.push(Span::raw(cell(&row.name, name_width)));
            spans.push(Span::styled(
                fit(&status.label(), status_width),
                status.style,
            ));
            spans.push(health);
            Line::from(spans)
        })
        .collect();
    let selected = cursor.selected.checked_sub(cursor.offset);
    render_rows(
        frame,
        body,
        lines,
        selected,
        selection_style(state, Pane::Resources),
    );
}

/// A column's text with a space kept before the next column.
fn cell(text: &str, width: usize) -> String {
    fit(text, width.saturating_sub(1)) + " "
}

/// The config snippet that adds an app, with the file it goes in.
fn how_to_add_an_app(state: &State) -> Vec<Line<'static>> {
    let code = |text: &str| Line::styled(format!("  {text}"), state.theme.text);
    vec![
        Line::from("No apps configured. Add one to the config file,"),
        Line::styled(
            format!("  {}", state.config_file.display()),
            state.theme.text,
        ),
        Line::from("for example:"),
        Line::from(""),
        code("[[app]]"),
        code("name = \"guestbook\""),
        code("repo = \"https://example.com/org/deploy.git\""),
        code("path = \"apps/guestbook\""),
        Line::from(""),
        Line::from(
            "then start driftdeck again. Started inside a Git work tree with no apps configured, driftdeck offers that folder as an app.",
        ),
    ]
}
