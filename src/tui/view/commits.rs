//! The commits pane, a GitOps log: the selected app's branch, newest first,
//! by default only the commits that change the app (`a`: all of them); the
//! deployed commit marked ●, the pending ones (a sync would deploy them) ↑,
//! the compared head HEAD, a pin PIN and a commit `require_signed` refuses
//! ⊘, with `N behind` in the title (an Argo CD or Flux app: those its
//! engine deployed before ● muted; without its repository, its engine's
//! history instead of commits); the
//! age and signature from 32 cells, the author too from 56. Also the rows
//! the diff pane shows under a commit: what deploying it would change.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::rows::Row;
use super::symbols::{self, DEPLOYED, HEAD};
use super::{hint, pane_frame, render_list, spinner, title};
use crate::drift::ResourceStatus;
use crate::engine::DeployPreview;
use crate::engines::Deployment;
use crate::resource::{short_revision, short_revision_text};
use crate::source::{FileChange, LogEntry};
use crate::text::{self, fit};
use crate::tui::app_state::AppState;
use crate::tui::commit_log::{self, CommitMarks, Revisions};
use crate::tui::pane::Pane;
use crate::tui::state::State;

/// From this inner width on, rows show the age and the signature.
const MEDIUM: usize = 32;
/// From this inner width on, rows show the author too.
const WIDE: usize = 56;
const AUTHOR_WIDTH: usize = 14;
/// `12mo`, `now`.
const AGE_WIDTH: usize = 4;
/// Marks a commit a sync would deploy: newer than the deployed one.
pub const PENDING: &str = "↑";
/// Marks the commit the app is pinned to.
pub const PINNED: &str = "PIN";

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    let app = state.selected_app();
    let listed = state.listed_commits();
    let commits = app.and_then(|a| a.commits.as_deref()).map(Vec::as_slice);
    let marks = match (app, commits) {
        (Some(app), Some(commits)) => commit_log::marks(commits, Revisions::of(app)),
        _ => Vec::new(),
    };
    let inner = pane_frame(
        frame,
        area,
        state,
        Pane::Commits,
        title(
            state,
            "Commits",
            title_detail(state, commits, &listed, &marks, area.width),
        ),
    );
    let Some(app) = app else {
        hint(
            frame,
            inner,
            state,
            vec![Line::from("The commits of the selected app appear here.")],
        );
        return;
    };
    if let Some(history) = commit_log::engine_history(app) {
        return render_engine_history(frame, inner, state, app, history);
    }
    match (commits, &app.history_error) {
        (None, Some(cause)) => hint(
            frame,
            inner,
            state,
            vec![Line::from(format!("Cannot read the history: {cause}"))],
        ),
        (None, None) => hint(
            frame,
            inner,
            state,
            vec![Line::from(format!(
                "The commits on {}'s branch appear here, newest first, the deployed one marked {DEPLOYED}.",
                app.name
            ))],
        ),
        (Some([]), _) => hint(
            frame,
            inner,
            state,
            vec![Line::from("No commits on the branch.")],
        ),
        (Some(commits), _) => {
            let cursor = state.cursors.commits;
            let width = usize::from(inner.width);
            let rows = listed
                .iter()
                .skip(cursor.offset)
                .take(usize::from(inner.height))
                .map(|&index| {
                    let commit = &commits[index];
                    // Its signature keeps it from being deployed (`require_signed`).
                    let undeployable = app.undeployable(commit).is_some();
                    row(state, commit, marks[index], undeployable, width)
                })
                .collect();
            render_list(frame, inner, state, Pane::Commits, rows);
        }
    }
}

/// An engine app whose repository driftdeck does not read: what its
/// engine says it deployed, newest first, the running one marked.
fn render_engine_history(
    frame: &mut Frame,
    inner: Rect,
    state: &State,
    app: &AppState,
    history: &[Deployment],
) {
    let engine = crate::engines::engine_of_name(&app.name).map_or("its engine", |e| e.title());
    if history.is_empty() {
        hint(
            frame,
            inner,
            state,
            vec![Line::from(format!(
                "{engine} keeps no history of {} yet; what it deploys is listed here, newest first.",
                app.name
            ))],
        );
        return;
    }
    let deployed = app
        .report
        .as_ref()
        .and_then(|r| r.summary.revision.as_deref());
    let cursor = state.cursors.commits;
    let width = usize::from(inner.width);
    let rows = history
        .iter()
        .skip(cursor.offset)
        .take(usize::from(inner.height))
        .map(|entry| {
            deployment_row(
                state,
                entry,
                deployed == Some(entry.revision.as_str()),
                width,
            )
        })
        .collect();
    render_list(frame, inner, state, Pane::Commits, rows);
}

/// `● e7c9eda  #3 2026-08-21 16:00 admin`: the revision (a chart version
/// for a HelmRelease), the engine's id for it, when, and who or how.
fn deployment_row(state: &State, entry: &Deployment, running: bool, width: usize) -> Line<'static> {
    let theme = &state.theme;
    let (marker, style) = if running {
        (DEPLOYED, theme.deployed)
    } else {
        (" ", theme.text)
    };
    let mut rest = Vec::new();
    if let Some(id) = entry.id {
        rest.push(format!("#{id}"));
    }
    if let Some(at) = &entry.deployed_at {
        // `2026-08-21T16:00:09Z` to the minute.
        rest.push(at.replacen('T', " ", 1).chars().take(16).collect());
    }
    rest.extend(entry.note.clone());
    let revision = short_revision_text(&entry.revision);
    let used = 2 + text::width(&revision) + 1;
    Line::from(vec![
        Span::styled(format!("{marker} "), style),
        Span::styled(revision, style),
        Span::raw(" "),
        Span::styled(
            fit(&rest.join(" "), width.saturating_sub(used)),
            theme.muted,
        ),
    ])
}

/// `4/12 · 3 behind` while only the app's commits are listed, `12` when all
/// are; on a narrow pane `N behind` alone, as it matters more.
fn title_detail(
    state: &State,
    commits: Option<&[LogEntry]>,
    listed: &[usize],
    marks: &[CommitMarks],
    width: u16,
) -> Vec<Span<'static>> {
    let Some(commits) = commits else {
        return Vec::new();
    };
    let theme = &state.theme;
    let count = if listed.len() == commits.len() {
        commits.len().to_string()
    } else {
        format!("{}/{}", listed.len(), commits.len())
    };
    let behind = commit_log::behind(marks, listed);
    let behind = (behind > 0).then(|| Span::styled(format!("{behind} behind"), theme.warning));
    let room = usize::from(width);
    let both = " Commits ".len() + 2 * "· ".len() + count.len() + 10 + 2;
    match behind {
        Some(behind) if room < both => vec![behind],
        Some(behind) => vec![Span::styled(count, theme.muted), behind],
        None => vec![Span::styled(count, theme.muted)],
    }
}

/// `● 3f2a91c HEAD bump the image        Ada Lovelace   3d ✓`
fn row(
    state: &State,
    commit: &LogEntry,
    marks: CommitMarks,
    undeployable: bool,
    width: usize,
) -> Line<'static> {
    let theme = &state.theme;
    let (marker, marker_style, id_style) = if marks.deployed {
        (DEPLOYED, theme.deployed, theme.deployed)
    } else if marks.deployed_before {
        (DEPLOYED, theme.muted, theme.text)
    } else if marks.pending {
        (PENDING, theme.warning, theme.text)
    } else {
        (" ", theme.text, theme.text)
    };
    let mut spans = vec![
        Span::styled(format!("{marker} "), marker_style),
        Span::styled(commit.short_id.clone(), id_style),
        Span::raw(" "),
    ];
    let mut used = 2 + text::width(&commit.short_id) + 1;
    if undeployable {
        let mark = symbols::undeployable(theme);
        spans.push(mark.symbol_span());
        spans.push(Span::raw(" "));
        used += text::width(mark.symbol) + 1;
    }
    for (shown, label) in [(marks.head, HEAD), (marks.pinned, PINNED)] {
        if shown {
            spans.push(Span::styled(format!("{label} "), theme.key_hint));
            used += label.len() + 1;
        }
    }
    if width < MEDIUM {
        spans.push(Span::raw(commit.subject.clone()));
        return Line::from(spans);
    }
    // Subject, then (author,) age and signature in columns at the right.
    let author = if width >= WIDE {
        format!(" {}", fit(&commit.author, AUTHOR_WIDTH))
    } else {
        String::new()
    };
    // The age needs the time now, which the clock gives within a second.
    let age = state
        .now
        .map(|now| format!(" {:>AGE_WIDTH$}", age(now, commit.time)))
        .unwrap_or_default();
    let right = text::width(&author) + text::width(&age) + 2;
    let subject_width = width.saturating_sub(used + right);
    spans.push(Span::raw(fit(&commit.subject, subject_width)));
    spans.push(Span::styled(format!("{author}{age} "), theme.muted));
    if let Some(mark) = symbols::signature(theme, &commit.signature) {
        spans.push(mark.symbol_span());
    }
    Line::from(spans)
}

/// How long ago: `now`, `5m`, `3h`, `2d`, `4mo`, `1y`.
fn age(now: jiff::Timestamp, time: jiff::Timestamp) -> String {
    let seconds = now.as_second().saturating_sub(time.as_second()).max(0);
    let (minute, hour, day_s) = (60, 3600, 86_400);
    match seconds {
        s if s < minute => "now".to_string(),
        s if s < hour => format!("{}m", s / minute),
        s if s < day_s => format!("{}h", s / hour),
        s if s < 30 * day_s => format!("{}d", s / day_s),
        s if s < 365 * day_s => format!("{}mo", s / (30 * day_s)),
        s => format!("{}y", s / (365 * day_s)),
    }
}

/// Under a commit in the diff pane: what deploying it would change, once
/// asked with Enter, then the files it changed.
pub(super) fn preview_rows<'a>(
    state: &State,
    app: &'a AppState,
    commit: &LogEntry,
) -> Vec<Row<'a>> {
    let theme = &state.theme;
    let mut rows = vec![Row::Built(Line::from(""))];
    if app.previewing == Some(commit.id) {
        rows.push(Row::Built(Line::styled(
            format!("{} rendering both revisions…", spinner(state)),
            theme.muted,
        )));
        return rows;
    }
    let Some(preview) = app.preview.as_deref().filter(|p| p.is_for(&commit.id)) else {
        let enter = state
            .keymap
            .keys(crate::tui::Action::Open)
            .first()
            .map_or_else(|| "open".to_string(), ToString::to_string);
        rows.push(Row::Built(Line::styled(
            format!("{enter}: what deploying this commit would change"),
            theme.key_hint,
        )));
        return rows;
    };
    rows.push(Row::Built(Line::styled(heading(preview), theme.title)));
    for problem in &preview.problems {
        rows.push(Row::Built(Line::styled(
            format!("! {problem}"),
            theme.error,
        )));
    }
    if preview.objects.is_empty() && preview.problems.is_empty() {
        rows.push(Row::Built(Line::from("  no object changes")));
    }
    for object in &preview.objects {
        let (word, status) = match object.status {
            ResourceStatus::Missing => ("added", symbols::resource(theme, ResourceStatus::Extra)),
            ResourceStatus::Extra => ("removed", symbols::resource(theme, ResourceStatus::Missing)),
            _ => (
                "changed",
                symbols::resource(theme, ResourceStatus::OutOfSync),
            ),
        };
        rows.push(Row::Built(Line::from(vec![
            Span::styled(format!("{} {word:<8}", status.symbol), status.style),
            Span::raw(object.key.to_string()),
        ])));
        rows.extend(object.changes.iter().map(Row::Change));
        rows.extend(
            object
                .diff
                .lines()
                .enumerate()
                .map(|(i, text)| Row::Diff(i, text)),
        );
    }
    rows.push(Row::Built(Line::from("")));
    rows.push(Row::Built(Line::styled(
        format!("Files changed by {}:", commit.short_id),
        theme.title,
    )));
    for file in &preview.files {
        let letter = match file.change {
            FileChange::Added => "A",
            FileChange::Modified => "M",
            FileChange::Deleted => "D",
        };
        rows.push(Row::Built(Line::from(format!("  {letter} {}", file.path))));
    }
    rows
}

/// `Deploying 3f2a91c instead of 9c1e0b2 (deployed):`
fn heading(preview: &DeployPreview) -> String {
    match &preview.from {
        Some(from) if *from == preview.to => {
            format!("{} is deployed:", short_revision(&preview.to))
        }
        Some(from) => format!(
            "Deploying {} instead of {} (deployed), objects:",
            short_revision(&preview.to),
            short_revision(from)
        ),
        None => format!(
            "Deploying {} (nothing deployed yet), objects:",
            short_revision(&preview.to)
        ),
    }
}
