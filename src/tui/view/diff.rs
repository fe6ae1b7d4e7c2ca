//! The diff pane, about what the focus is on. For the selected resource:
//! its status and health, the fields that differ (live → Git), then the
//! unified diff (`-` live, `+` in Git). For the selected app: every
//! resource that differs, field by field, and the manifest problems. For
//! the selected commit: who, when, whether it is signed, and its place.
//! Values come as the report gives them, Secrets already masked.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::long_lines;
use super::reading;
use super::rows::{Row, Rows};
use super::symbols::{DEPLOYED, HEAD};
use super::{clock, hint, pane_frame, pending_line, render_rows, symbols, title};
use crate::drift::{ResourceResult, ResourceStatus};
use crate::report::AppReport;
use crate::resource::short_revision;
use crate::source::{LogEntry, SignatureStatus};
use crate::text;
use crate::tui::app_state::AppState;
use crate::tui::filter;
use crate::tui::pane::Pane;
use crate::tui::state::DiffMode;
use crate::tui::state::{Detail, State};

/// Lines holding the search text stand out without colour too.
const SEARCH_MATCH: Style = Style::new()
    .add_modifier(Modifier::BOLD)
    .add_modifier(Modifier::UNDERLINED);

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.theme;
    let app = state.selected_app();
    let subject = match (state.detail(), app) {
        (Detail::Resource(resource), _) => resource.key.to_string(),
        (Detail::Commit(commit), _) => format!("commit {}", commit.short_id),
        (Detail::App, Some(app)) => app.name.clone(),
        (Detail::App, None) => String::new(),
    };
    let mut subject = if subject.is_empty() {
        vec![]
    } else {
        vec![Span::styled(subject, theme.muted)]
    };
    // The view first: the subject may be cut on a narrow pane.
    if let Some(mode) = reading::mode_name(state) {
        subject.insert(0, Span::styled(mode, theme.title));
    }
    if !state.filters.diff.is_empty() {
        subject.push(Span::styled(
            format!("/{}", state.filters.diff),
            theme.key_hint,
        ));
    }
    let inner = pane_frame(
        frame,
        area,
        state,
        Pane::Diff,
        title(state, "Diff", subject),
    );
    let Some(app) = app else {
        hint(
            frame,
            inner,
            state,
            vec![Line::from("The drift of the selected app appears here.")],
        );
        return;
    };
    match body(state, app) {
        // Only the rows in view are styled: a diff of thousands of lines
        // costs a walk over its text per frame, not a line built per row.
        Some(rows) => {
            let (width, height) = (usize::from(inner.width), usize::from(inner.height));
            let search = state.filters.diff.to_lowercase();
            let mut shown = Vec::with_capacity(height);
            let offset = state.cursors.diff.offset;
            for (index, row) in rows.enumerate().skip(offset) {
                if shown.len() >= height {
                    break;
                }
                let fitted = row.is_fitted();
                let mut line = row.line(state, width);
                if !search.is_empty() && filter::contains(&line.to_string(), &search) {
                    line = line.patch_style(SEARCH_MATCH);
                    if state.reading.found == Some(index) {
                        line = line.patch_style(Style::new().add_modifier(Modifier::REVERSED));
                    }
                }
                if fitted {
                    shown.push(line);
                } else if state.reading.wrap {
                    shown.extend(long_lines::wrap(line, width));
                } else {
                    shown.push(long_lines::shift(line, state.reading.column, width));
                }
            }
            shown.truncate(height);
            render_rows(frame, inner, shown, None, Style::default());
        }
        None => hint(frame, inner, state, waiting(state, app)),
    }
}

/// Lines the pane holds now, to scroll within; counted without styling them.
pub fn line_count(state: &State) -> usize {
    state
        .selected_app()
        .and_then(|app| body(state, app))
        .map_or(0, Iterator::count)
}

/// The first line at or after (`forward`) or before `from` holding the
/// diff search text; `from` itself only when `inclusive`.
pub fn find(state: &State, from: usize, forward: bool, inclusive: bool) -> Option<usize> {
    let search = state.filters.diff.to_lowercase();
    let rows = state.selected_app().and_then(|app| body(state, app))?;
    let width = super::diff_room(state);
    let hits = rows
        .enumerate()
        .filter(|(_, row)| filter::contains(&row.text(state, width), &search))
        .map(|(i, _)| i);
    if forward {
        hits.into_iter()
            .find(|&i| i > from || (inclusive && i == from))
    } else {
        hits.into_iter().take_while(|&i| i < from).last()
    }
}

/// The widest line's cells, for how far the pane scrolls sideways.
pub fn widest_line(state: &State) -> usize {
    let width = super::diff_room(state);
    state
        .selected_app()
        .and_then(|app| body(state, app))
        .map_or(0, |rows| {
            rows.filter(|row| !row.is_fitted())
                .map(|row| text::width(&row.text(state, width)))
                .max()
                .unwrap_or(0)
        })
}

/// The pane's rows, or `None` before the app's first verdict.
fn body<'a>(state: &'a State, app: &'a AppState) -> Option<Rows<'a>> {
    if let Detail::Commit(commit) = state.detail() {
        let lines = commit_lines(state, commit, app.report.as_deref());
        let preview = super::commits::preview_rows(state, app, commit);
        return Some(Box::new(lines.into_iter().map(Row::Built).chain(preview)));
    }
    let report = app.report.as_ref()?;
    Some(match state.detail() {
        Detail::Resource(resource) => match state.reading.mode {
            DiffMode::Changes => Box::new(resource_rows(state, resource)),
            mode => reading::rows(state, resource, mode, super::diff_room(state)),
        },
        Detail::App | Detail::Commit(_) => Box::new(app_rows(state, app, report)),
    })
}

fn waiting(state: &State, app: &AppState) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if let Some(pending) = app.pending() {
        lines.push(pending_line(state, pending));
        lines.push(Line::from(""));
    }
    lines.push(Line::from(format!(
        "What differs between Git and the cluster for {} appears here, field by field:",
        app.name
    )));
    lines.push(Line::from("+ in Git, not live   - live, not in Git"));
    lines
}

fn resource_rows<'a>(
    state: &State,
    resource: &'a ResourceResult,
) -> impl Iterator<Item = Row<'a>> + 'a {
    let theme = &state.theme;
    let status = symbols::resource(theme, resource.status);
    let why = match (resource.status, &resource.reason) {
        (ResourceStatus::Synced, _) => "no drift, the live object matches Git".to_string(),
        (_, Some(reason)) => reason.clone(),
        (_, None) => String::new(),
    };
    let mut head = vec![Line::from(vec![
        Span::styled(status.label(), status.style),
        Span::raw(format!(": {why}")),
    ])];
    // A Missing or Unknown resource's health only repeats its status.
    if !matches!(
        resource.status,
        ResourceStatus::Missing | ResourceStatus::Unknown
    ) {
        let health = symbols::health(theme, resource.health.status);
        let mut health_line = vec![Span::styled(health.label(), health.style)];
        if !resource.health.message.is_empty() {
            health_line.push(Span::raw(format!(": {}", resource.health.message)));
        }
        head.push(Line::from(health_line));
    }
    if !resource.changes.is_empty() {
        head.push(Line::from(""));
        head.push(Line::styled("Changed fields, live → Git:", theme.title));
    }
    let diff_gap = (!resource.diff.is_empty()).then(|| Row::Built(Line::from("")));
    head.into_iter()
        .map(Row::Built)
        .chain(resource.changes.iter().map(Row::Change))
        .chain(diff_gap)
        .chain(
            resource
                .diff
                .lines()
                .enumerate()
                .map(|(i, text)| Row::Diff(i, text)),
        )
}

/// What stands out about the app, wrapped to the pane so long errors read
/// whole: stale live state, Git that cannot be read, each resource that is
/// not Synced with its fields (or its reason; the app's reason when none
/// is listed), then the manifest problems.
fn app_rows<'a>(
    state: &'a State,
    app: &AppState,
    report: &'a AppReport,
) -> impl Iterator<Item = Row<'a>> + 'a {
    let theme = &state.theme;
    let width = super::diff_room(state);
    let mut head = Vec::new();
    if let Some(since) = report.stale_since {
        let cause = report.stale_cause.as_deref().unwrap_or("a watch failed");
        let text = format!("⚠ stale since {}: {cause}", clock(state, since));
        head.extend(wrapped(&text, width, theme.warning));
    }
    if let Some(error) = app.source_error() {
        head.extend(wrapped(&format!("! Git: {error}"), width, theme.error));
    }
    // An engine app: why only the engine's verdict is shown, or that
    // driftdeck's own comparison differs from it.
    if let Some((own, engine)) = report.driftdeck.as_deref().zip(report.engine)
        && let Some(note) = own.note(engine, report.summary.status)
    {
        let mark = if own.reason.is_some() { "!" } else { "≠" };
        head.extend(wrapped(&format!("{mark} {note}"), width, theme.warning));
    }
    let differs = |r: &&ResourceResult| r.status != ResourceStatus::Synced;
    if !report.resources.iter().any(|r| differs(&r)) {
        let verdict = match &report.summary.reason {
            Some(reason) => reason.clone(),
            None => "No drift: every resource matches Git.".to_string(),
        };
        let sync = symbols::sync(theme, report.summary.status);
        let text = format!("{} {verdict}", sync.symbol);
        head.extend(wrapped(&text, width, sync.style));
    }
    let differing = report
        .resources
        .iter()
        .filter(differs)
        .flat_map(move |resource| {
            let reason = if resource.changes.is_empty() {
                let reason = resource.reason.as_deref().unwrap_or_default();
                wrapped(&format!("  {reason}"), width, state.theme.muted)
            } else {
                Vec::new()
            };
            std::iter::once(Row::Differing(resource))
                .chain(reason.into_iter().map(Row::Built))
                .chain(resource.changes.iter().map(Row::Change))
        });
    let mut problems = Vec::new();
    if !report.problems.is_empty() {
        let at = report.desired_revision.as_deref().map(short_revision);
        problems.push(Line::from(""));
        problems.push(Line::styled(
            format!("Manifest problems at {}:", at.unwrap_or("the branch head")),
            theme.title,
        ));
        for problem in &report.problems {
            let style = if problem.is_error() {
                theme.error
            } else {
                theme.warning
            };
            problems.extend(wrapped(&format!("  {problem}"), width, style));
        }
    }
    head.into_iter()
        .map(Row::Built)
        .chain(differing)
        .chain(problems.into_iter().map(Row::Built))
}

/// `text` in lines of at most `width` characters, broken at spaces (within
/// a word too long for a line), later lines indented two more than the first.
pub fn wrapped(text: &str, width: usize, style: Style) -> Vec<Line<'static>> {
    let indent = text.chars().take_while(|c| *c == ' ').count();
    let room = width.saturating_sub(indent + 2).max(8);
    // Widths in terminal cells: a wide character takes two.
    let mut rows: Vec<String> = Vec::new();
    let mut row = String::new();
    for word in text.split_whitespace() {
        let mut word = word;
        loop {
            let used = text::width(&row);
            let gap = usize::from(used > 0);
            if used + gap + text::width(word) <= room {
                if gap == 1 {
                    row.push(' ');
                }
                row.push_str(word);
                break;
            }
            if used > 0 {
                rows.push(std::mem::take(&mut row));
                continue;
            }
            // A word longer than a whole line is cut where the line ends
            // (after one character at least, however wide).
            let mut cells = 0;
            let cut = word
                .char_indices()
                .find(|&(at, c)| {
                    cells += text::char_width(c);
                    at > 0 && cells > room
                })
                .map_or(word.len(), |(at, _)| at);
            rows.push(word[..cut].to_string());
            word = &word[cut..];
        }
    }
    if !row.is_empty() || rows.is_empty() {
        rows.push(row);
    }
    rows.into_iter()
        .enumerate()
        .map(|(i, row)| {
            let indent = if i == 0 { indent } else { indent + 2 };
            Line::styled(format!("{:indent$}{row}", ""), style)
        })
        .collect()
}

/// The commit's id, author, time, signature and message, and whether it is
/// the deployed one or the head the cluster is compared with.
fn commit_lines(
    state: &State,
    commit: &LogEntry,
    report: Option<&AppReport>,
) -> Vec<Line<'static>> {
    let theme = &state.theme;
    let id = commit.id.to_string();
    let time = commit.time.to_zoned(state.time_zone.clone());
    let signature = match &commit.signature {
        SignatureStatus::Unsigned => "unsigned".to_string(),
        SignatureStatus::Good { signer, format } => format!("good ({format}), by {signer}"),
        SignatureStatus::Bad { reason } => format!("bad: {reason}"),
        SignatureStatus::CannotCheck { reason } => format!("not checked: {reason}"),
    };
    let mut lines = vec![
        Line::styled(format!("commit {id}"), theme.diff_header),
        Line::from(format!("Author:    {} <{}>", commit.author, commit.email)),
        Line::from(format!(
            "Date:      {}",
            time.strftime("%Y-%m-%d %H:%M:%S %Z")
        )),
        Line::from(format!("Signature: {signature}")),
        Line::from(""),
        Line::from(format!("    {}", commit.subject)),
    ];
    let summary = report.map(|r| &r.summary);
    if summary.and_then(|s| s.revision.as_deref()) == Some(id.as_str()) {
        lines.push(Line::from(""));
        lines.push(Line::styled(
            format!("{DEPLOYED} deployed: the live objects come from this commit"),
            theme.deployed,
        ));
    }
    if report.and_then(|r| r.desired_revision.as_deref()) == Some(id.as_str()) {
        lines.push(Line::from(""));
        lines.push(Line::styled(
            format!("{HEAD}: the branch head, compared with the cluster"),
            theme.key_hint,
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: Vec<Line<'static>>) -> Vec<String> {
        lines.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn wrapping_breaks_at_spaces_and_keeps_the_indent() {
        let lines = wrapped("  one two three four five", 14, Style::default());
        assert_eq!(texts(lines), ["  one two", "    three four", "    five"]);
    }

    #[test]
    fn a_word_longer_than_a_line_is_cut_where_the_line_ends() {
        let lines = wrapped("see /a/very/long/path/name here", 12, Style::default());
        assert_eq!(
            texts(lines),
            ["see", "  /a/very/lo", "  ng/path/na", "  me here"]
        );
        assert_eq!(texts(wrapped("", 10, Style::default())), [""]);
    }

    #[test]
    fn wide_characters_wrap_by_the_cells_they_take() {
        let lines = wrapped("名前空間が見つかりません", 12, Style::default());
        assert_eq!(texts(lines), ["名前空間が", "  見つかりま", "  せん"]);
    }
}
