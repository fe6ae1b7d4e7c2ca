//! The resources pane: the selected app's verdict in the title, what stands
//! out about it above the table (why it is not Synced, stale live state, Git
//! that cannot be read, manifest problems), then its objects with status,
//! health and reason. With no app configured, how to configure one.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::diff::wrapped;
use super::layout::Areas;
use super::symbols;
use super::{
    clock, hint, list_title, notice_rows, pane_frame, pending_line, render_list, render_rows,
    stale_age, title,
};
use crate::drift::{AppStatus, ResourceResult};
use crate::resource::short_revision;
use crate::text::fit;
use crate::tui::app_state::AppState;
use crate::tui::pane::Pane;
use crate::tui::state::State;

/// STATUS and HEALTH fit their longest words ("✗ OutOfSync", "◐ Progressing").
const STATUS_WIDTH: usize = 12;
const HEALTH_WIDTH: usize = 14;
/// A REASON column narrower than this is left out.
const MIN_REASON_WIDTH: usize = 16;

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
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
    let inner = pane_frame(frame, area, state, Pane::Resources, app_title(state, app));
    let Some(report) = &app.report else {
        hint(frame, inner, state, waiting(state, app));
        return;
    };
    let preamble = preamble(state, app);
    let above = u16::try_from(preamble.len())
        .unwrap_or(u16::MAX)
        .min(inner.height);
    render_rows(frame, inner, preamble, None, Style::default());
    let below = Rect {
        y: inner.y.saturating_add(above),
        height: inner.height - above,
        ..inner
    };
    if !report.resources.is_empty() {
        table(frame, below, state);
    }
}

/// `guestbook · OutOfSync · Progressing · deployed 3f2a91c`, each word in its colour.
fn app_title(state: &State, app: &AppState) -> Vec<Span<'static>> {
    let theme = &state.theme;
    let mut detail = Vec::new();
    if let Some(report) = &app.report {
        let summary = &report.summary;
        let sync = symbols::sync(theme, summary.status);
        let health = symbols::health(theme, summary.health);
        detail.push(Span::styled(sync.word, sync.style));
        detail.push(Span::styled(health.word, health.style));
        if let Some(revision) = &summary.revision {
            detail.push(Span::styled(
                format!("deployed {}", short_revision(revision)),
                theme.deployed,
            ));
        }
        // First, so a narrow title still says what is hidden.
        if !state.filters.resources.is_empty() {
            let (shown, total) = (state.listing.resources.len(), report.resources.len());
            let mut filter = list_title(state, Pane::Resources, shown, total);
            filter.append(&mut detail);
            detail = filter;
        }
    }
    title(state, &app.name, detail)
}

/// Before the first verdict: what is being done, or why nothing can be.
fn waiting(state: &State, app: &AppState) -> Vec<Line<'static>> {
    let theme = &state.theme;
    let mut lines = match (app.pending(), app.source.as_ref()) {
        (Some(pending), _) => vec![pending_line(state, pending)],
        (None, source) => {
            let mut lines = vec![Line::styled(
                format!(
                    "! cannot read Git: {}",
                    app.source_error().unwrap_or_default()
                ),
                theme.error,
            )];
            // How it goes on, not when: a time shown would go stale unless redrawn.
            if source.is_some_and(|s| s.in_backoff) {
                lines.push(Line::from(
                    "Trying again, waiting longer after each failure.",
                ));
            } else if let Some(poll) = app.poll {
                lines.push(Line::from(format!("Trying again every {poll}.")));
            }
            lines
        }
    };
    lines.push(Line::from(""));
    lines.push(Line::from(format!(
        "The objects of {} appear here with their sync status and health, and why they differ from Git.",
        app.name
    )));
    lines
}

/// The lines above the table, one each: why the app is not Synced (or that
/// it is), stale live state, Git that cannot be read now, manifest problems.
pub(super) fn preamble(state: &State, app: &AppState) -> Vec<Line<'static>> {
    let theme = &state.theme;
    let Some(report) = &app.report else {
        return Vec::new();
    };
    let summary = &report.summary;
    let sync = symbols::sync(theme, summary.status);
    let verdict = match (summary.status, &summary.reason) {
        (AppStatus::Synced, _) if report.resources.is_empty() => {
            "no resources, in Git or in the cluster".to_string()
        }
        (AppStatus::Synced, _) if report.resources.len() == 1 => {
            "its one resource matches Git".to_string()
        }
        (AppStatus::Synced, _) => format!("all {} resources match Git", report.resources.len()),
        (_, Some(reason)) => reason.clone(),
        (_, None) => sync.word.to_string(),
    };
    let mut lines = vec![Line::styled(
        format!("{} {verdict}", sync.symbol),
        sync.style,
    )];
    if let Some(since) = report.stale_since {
        // Wrapped, not cut: the cause is what the operator needs to read.
        let cause = report.stale_cause.as_deref().unwrap_or("a watch failed");
        let age = stale_age(state, since)
            .map(|age| format!(" ({age} ago)"))
            .unwrap_or_default();
        let text = format!("⚠ stale since {}{age}: {cause}", clock(state, since));
        lines.extend(wrapped(&text, pane_width(state), theme.warning));
    }
    if let Some(error) = app.source_error() {
        lines.push(Line::styled(format!("! Git: {error}"), theme.error));
    }
    if let Some(first) = report.problems.first() {
        let errors = report.problems.iter().filter(|p| p.is_error()).count();
        let warnings = report.problems.len() - errors;
        let style = if errors > 0 {
            theme.error
        } else {
            theme.warning
        };
        lines.push(Line::styled(
            format!(
                "⚠ manifests: {}; first: {first}",
                counted(&[(errors, "error"), (warnings, "warning")])
            ),
            style,
        ));
    }
    lines
}

/// `1 error, 2 warnings`, leaving out what there is none of.
fn counted(counts: &[(usize, &str)]) -> String {
    counts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}{}", if *n == 1 { "" } else { "s" }))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The resources pane's inner width at the state's size.
fn pane_width(state: &State) -> usize {
    let screen = Rect::new(0, 0, state.size.width, state.size.height);
    Areas::of(screen, notice_rows(state)).map_or(0, |areas| {
        usize::from(areas.resources.width.saturating_sub(2))
    })
}

/// KIND, NAME (namespace/name), STATUS, HEALTH, and REASON where there is
/// room: the listed resources, filtered and sorted. Only the rows in view
/// are built; the column widths were measured when the list was made.
fn table(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.theme;
    let width = usize::from(area.width);
    let cursor = state.cursors.resources;
    let rows_shown = usize::from(area.height.saturating_sub(1));
    let resources: Vec<&ResourceResult> = state
        .listed_resources()
        .skip(cursor.offset)
        .take(rows_shown)
        .collect();
    let names: Vec<String> = resources.iter().map(|r| r.key.qualified_name()).collect();
    let (longest_kind, longest_name) = (state.listing.kind_width, state.listing.name_width);
    let kind_width = (longest_kind + 1).clamp(5, (width / 4).max(5));
    let rest = width.saturating_sub(kind_width + STATUS_WIDTH + HEALTH_WIDTH);
    let wanted_name = (longest_name + 1).max(5);
    let (name_width, reason_width) = if rest >= wanted_name + MIN_REASON_WIDTH {
        (wanted_name, rest - wanted_name)
    } else {
        (rest.max(5), 0)
    };
    let mut header = fit("KIND", kind_width) + &fit("NAME", name_width);
    header += &fit("STATUS", STATUS_WIDTH);
    header += &fit("HEALTH", HEALTH_WIDTH);
    if reason_width > 0 {
        header += "REASON";
    }
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
    let sync = state.selected_app().and_then(|app| app.sync.as_ref());
    let lines = resources
        .iter()
        .zip(&names)
        .map(|(resource, name)| {
            // While a sync runs, the objects it writes show how far it got.
            let status = match sync.and_then(|run| run.object(&resource.key)) {
                Some(result) => symbols::sync_object(theme, result),
                None => symbols::resource(theme, resource.status),
            };
            let health = symbols::health(theme, resource.health.status);
            let mut spans = vec![
                Span::raw(cell(&resource.key.kind, kind_width)),
                Span::raw(cell(name, name_width)),
                Span::styled(cell(&status.label(), STATUS_WIDTH), status.style),
                Span::styled(cell(&health.label(), HEALTH_WIDTH), health.style),
            ];
            if let (true, Some(reason)) = (reason_width > 0, &resource.reason) {
                spans.push(Span::styled(fit(reason, reason_width), theme.muted));
            }
            Line::from(spans)
        })
        .collect();
    render_list(frame, body, state, Pane::Resources, lines);
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
