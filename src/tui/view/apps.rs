//! The apps pane: every configured app with its sync status and health.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::symbols::{self, Mark};
use super::{hint, list_title, pane_frame, render_list, spinner, stale_age, title};
use crate::resource::short_revision;
use crate::text::{self, fit};
use crate::tui::app_state::AppState;
use crate::tui::order::SortMode;
use crate::tui::pane::Pane;
use crate::tui::state::State;

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    let mut detail = if state.apps.is_empty() {
        vec![]
    } else {
        list_title(
            state,
            Pane::Apps,
            state.listing.apps.len(),
            state.apps.len(),
        )
    };
    if let Some(context) = &state.context_view {
        detail.push(Span::styled(format!("ctx {context}"), state.theme.key_hint));
    }
    if state.sort != SortMode::Attention && !state.apps.is_empty() {
        detail.push(Span::styled(
            format!("by {}", state.sort.name()),
            state.theme.muted,
        ));
    }
    let inner = pane_frame(frame, area, state, Pane::Apps, title(state, "Apps", detail));
    if state.apps.is_empty() {
        let lines = vec![
            Line::from("No apps configured yet."),
            Line::from(""),
            Line::from("How to add one is shown on the right."),
        ];
        hint(frame, inner, state, lines);
        return;
    }
    let cursor = state.cursors.apps;
    let width = usize::from(inner.width);
    let rows = state
        .listing
        .apps
        .iter()
        .filter_map(|&i| state.apps.get(i))
        .enumerate()
        .skip(cursor.offset)
        .take(usize::from(inner.height))
        .map(|(i, app)| row(state, app, i == cursor.selected, width))
        .collect();
    render_list(frame, inner, state, Pane::Apps, rows);
}

/// `▶ guestbook pin 3f2a91c ✗ ◐`: the marker shows the selection without colour;
/// the last column turns while a verdict is on its way, and is `!` while
/// the app's repository cannot be read.
fn row(state: &State, app: &AppState, selected: bool, width: usize) -> Line<'static> {
    let theme = &state.theme;
    let (sync, health): (Mark, Mark) = match &app.report {
        Some(report) => (
            symbols::sync(theme, report.summary.status),
            symbols::health(theme, report.summary.health),
        ),
        None => (symbols::not_known(theme), symbols::not_known(theme)),
    };
    let marker = if selected { "▶ " } else { "  " };
    let activity = if app.is_busy() {
        Span::styled(spinner(state), theme.muted)
    } else if app.source_error().is_some() {
        Span::styled("!", theme.error)
    } else {
        Span::raw(" ")
    };
    // Automatic syncing waiting, running or held: its mark; the status
    // bar says more.
    let auto = symbols::auto(theme, &app.auto).map(|mark| {
        let mut span = mark.symbol_span();
        span.content = format!(" {}", span.content).into();
        span
    });
    // Stale live state: the mark and its age, before the symbols.
    let stale = app
        .report
        .as_ref()
        .and_then(|r| r.stale_since)
        .map(|since| {
            let age = stale_age(state, since).unwrap_or_default();
            Span::styled(format!(" ⚠{age}"), theme.warning)
        });
    // A running sync: objects done of those it writes; an engine app's
    // action until its engine has answered (the status bar says more).
    let syncing = app
        .sync
        .as_ref()
        .map(|run| {
            let (done, total) = run.done_of_total();
            let word = if run.cancelling { "stopping" } else { "sync" };
            Span::styled(format!(" {word} {done}/{total}"), theme.progressing)
        })
        .or_else(|| {
            let run = app.engine_action.as_ref()?;
            Some(Span::styled(format!(" {}…", run.verb), theme.progressing))
        });
    // A rollback's pin: the app is compared with it, not its branch's head.
    let pinned = app
        .report
        .as_ref()
        .and_then(|r| r.pinned.as_deref())
        .map(|pin| Span::styled(format!(" pin {}", short_revision(pin)), theme.warning));
    // An engine app driftdeck compares otherwise than its engine.
    let disagrees = app
        .report
        .as_ref()
        .and_then(|r| r.driftdeck.as_deref())
        .filter(|own| own.disagrees)
        .map(|_| Span::styled(" ≠", theme.warning));
    let extra_width = [&stale, &auto, &syncing, &pinned, &disagrees]
        .into_iter()
        .flatten()
        .map(|s| text::width(&s.content))
        .sum::<usize>();
    // Two for the marker, five for " ✗ ◐!" at the right.
    let name = fit(&app.name, width.saturating_sub(7 + extra_width));
    let mut spans = vec![Span::raw(marker)];
    // An engine app's engine, in its name's first part, marked as such.
    match name.split_once('/') {
        Some((engine, rest)) if crate::engines::is_controller_app_name(&app.name) => {
            spans.push(Span::styled(format!("{engine}/"), theme.key_hint));
            spans.push(Span::raw(rest.to_string()));
        }
        _ => spans.push(Span::raw(name)),
    }
    spans.extend(syncing);
    spans.extend(pinned);
    spans.extend(disagrees);
    spans.extend(stale);
    spans.extend(auto);
    spans.extend([
        Span::raw(" "),
        sync.symbol_span(),
        Span::raw(" "),
        health.symbol_span(),
        activity,
    ]);
    Line::from(spans)
}
