//! The bottom lines: key hints for what works now, and what the engine
//! says (the selected app's source, request counts); a notice line above
//! them when there is a warning.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Block;

use super::diff::wrapped;
use super::{clock, spinner};
use crate::engine::AutoStatus;
use crate::text;
use crate::tui::keymap::Action;
use crate::tui::prompt::{Prompt, Purpose};
use crate::tui::state::State;

/// The hints with a word in the status bar, in the order they give way on
/// a narrow screen.
const HINTS_LEAST_NEEDED_FIRST: [Action; 7] = [
    Action::Refresh,
    Action::FocusNext,
    Action::CommandLine,
    Action::Sync,
    Action::Filter,
    Action::Help,
    Action::Quit,
];

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.theme;
    frame.render_widget(Block::new().style(theme.status_bar), area);
    // The hints that fit, the least needed left out first.
    let mut shown: Vec<(Action, String, &str)> = Action::ALL
        .into_iter()
        .filter(|a| !matches!(a, Action::Refresh | Action::Sync) || state.selected_app().is_some())
        .filter(|a| !(state.readonly && a.writes()))
        .filter_map(|action| {
            let label = action.spec().hint?;
            let key = state.keymap.keys(action).first()?;
            Some((action, key.to_string(), label))
        })
        .collect();
    let width = |shown: &[(Action, String, &str)]| -> usize {
        1 + shown
            .iter()
            .map(|(_, key, label)| text::width(key) + text::width(label) + 3)
            .sum::<usize>()
    };
    // The last sync's result, or what an engine says of the action asked
    // of it, is what the operator waits for: hints give way to it (up to
    // three quarters of the bar).
    let awaited = state
        .sync_result
        .as_ref()
        .map(|result| text::width(&result.text))
        .or_else(|| engine_action_fact(state).map(|fact| fact.width()));
    let reserved = awaited.map_or(0, |width| (width + 2).min(usize::from(area.width) * 3 / 4));
    for least in HINTS_LEAST_NEEDED_FIRST {
        if width(&shown) + reserved <= usize::from(area.width) {
            break;
        }
        shown.retain(|(action, _, _)| *action != least);
    }
    let mut hints = vec![Span::raw(" ")];
    for (_, key, label) in shown {
        hints.push(Span::styled(key, theme.key_hint));
        hints.push(Span::raw(format!(" {label}  ")));
    }
    let hints = Line::from(hints);
    // A space at each end of the facts.
    let room = usize::from(area.width).saturating_sub(hints.width() + 2);
    frame.render_widget(hints, area);
    // The hints matter more; the facts where there is room, the most
    // important at the right.
    let mut facts: Vec<Span<'static>> = vec![Span::raw(" ")];
    let mut used = 0;
    for mut fact in facts_of(state) {
        let separator = if used == 0 { 0 } else { 3 };
        let left = room.saturating_sub(used + separator);
        if fact.width() > left {
            // A long fact (an error) is cut at a word to what is left, if
            // that says enough.
            let Some(cut) = cut_at_word(&fact.content, left).filter(|_| left >= 20) else {
                break;
            };
            fact = Span::styled(cut, fact.style);
        }
        if separator > 0 {
            facts.insert(0, Span::raw(" · "));
        }
        used += fact.width() + separator;
        facts.insert(0, fact);
    }
    facts.insert(0, Span::raw(" "));
    frame.render_widget(Line::from(facts).right_aligned(), area);
}

/// `⠋ sync argocd/web: Running: waiting for …`: the action asked of the
/// selected engine app's engine, until it answered.
fn engine_action_fact(state: &State) -> Option<Span<'static>> {
    let app = state.selected_app()?;
    let run = app.engine_action.as_ref()?;
    let said = run.message.as_deref().unwrap_or("asking its engine");
    let fact = format!("{} {} {}: {said}", spinner(state), run.verb, app.name);
    Some(Span::styled(
        text::printable(&fact).into_owned(),
        state.theme.progressing,
    ))
}

/// What the status bar says beside the hints, most important first.
fn facts_of(state: &State) -> Vec<Span<'static>> {
    let theme = &state.theme;
    let mut facts = Vec::new();
    if let Some(result) = &state.sync_result {
        let style = if result.failed {
            theme.error
        } else {
            theme.synced
        };
        facts.push(Span::styled(result.text.clone(), style));
    }
    facts.extend(engine_action_fact(state));
    if state.readonly {
        facts.push(Span::styled("read-only", theme.warning));
    }
    if let Some(app) = state.selected_app() {
        if app.refreshing {
            facts.push(Span::raw(format!(
                "{} refreshing {}",
                spinner(state),
                app.name
            )));
        }
        if let Some(auto) = auto_fact(state, &app.auto) {
            facts.push(auto);
        }
        // The interval, not the time of the next poll: a time shown would
        // need a redraw every second to stay true.
        match (app.source_error(), app.poll) {
            (Some(error), _) => {
                let backoff = app.source.as_ref().is_some_and(|s| s.in_backoff);
                let retry = if backoff { " (backing off)" } else { "" };
                facts.push(Span::styled(format!("git: {error}{retry}"), theme.error));
            }
            (None, Some(poll)) if app.source.is_some() => {
                facts.push(Span::styled(format!("polls every {poll}"), theme.muted));
            }
            (None, _) => {}
        }
    }
    if state.exact {
        facts.push(Span::styled("exact", theme.key_hint));
    }
    if let Some(context) = &state.context_view {
        facts.push(Span::styled(format!("ctx {context}"), theme.key_hint));
    }
    if let Some(requests) = state.requests {
        facts.push(Span::raw(format!(
            "git {} · api {} req",
            requests.git, requests.cluster
        )));
    }
    facts
}

/// `text` cut after its last whole word that fits `width` with `…`;
/// `None` when not even the first word fits.
fn cut_at_word(text: &str, width: usize) -> Option<String> {
    if text::width(text) <= width {
        return Some(text.to_string());
    }
    let room = width.checked_sub(1)?;
    let mut end = None;
    for (at, c) in text.char_indices() {
        if text::width(&text[..at]) > room {
            break;
        }
        if c == ' ' {
            end = Some(at);
        }
    }
    end.map(|at| format!("{}…", text[..at].trim_end()))
}

/// A warning, with the key that dismisses it, wrapped to the width.
/// The lines above the status bar: the notice, else the banner; none
/// without either.
pub fn notice_lines(state: &State, width: usize) -> Vec<Line<'static>> {
    match (&state.notice, &state.banner) {
        (Some(notice), _) => warning_lines(state, notice, width),
        (None, Some(banner)) => wrapped(&format!(" {banner}"), width, state.theme.title),
        (None, None) => Vec::new(),
    }
}

fn warning_lines(state: &State, notice: &str, width: usize) -> Vec<Line<'static>> {
    let dismiss = state
        .keymap
        .keys(Action::Back)
        .first()
        .map(|key| format!("  ({key} dismisses)"))
        .unwrap_or_default();
    wrapped(&format!(" ⚠ {notice}{dismiss}"), width, state.theme.warning)
}

pub fn render_notice(frame: &mut Frame, area: Rect, state: &State) {
    let lines = notice_lines(state, usize::from(area.width));
    super::render_rows(frame, area, lines, None, state.theme.warning);
}

/// The filter or command line being typed, in place of the status bar,
/// with what completes or what enter does.
pub fn render_prompt(frame: &mut Frame, area: Rect, state: &State, prompt: &Prompt) {
    let theme = &state.theme;
    frame.render_widget(Block::new().style(theme.status_bar), area);
    let (lead, help) = match prompt.purpose {
        Purpose::Filter(_) => ("/", "enter keeps · esc clears · kind: ns: status: health:"),
        Purpose::Command => (":", "tab completes · ↑↓ history · enter runs"),
    };
    let text = prompt.input.text();
    let cursor = prompt.input.cursor();
    let (before, rest) = text.split_at(
        text.char_indices()
            .nth(cursor)
            .map_or(text.len(), |(at, _)| at),
    );
    let mut chars = rest.chars();
    let under = chars.next().map_or(" ".to_string(), String::from);
    let after: String = chars.collect();
    let typed = Line::from(vec![
        Span::styled(format!(" {lead}"), theme.key_hint),
        Span::raw(before.to_string()),
        Span::styled(under, theme.selected),
        Span::raw(after),
    ]);
    let room = usize::from(area.width).saturating_sub(typed.width() + 2);
    frame.render_widget(typed, area);
    if let Some(help) = cut_at_word(help, room) {
        frame.render_widget(
            Line::styled(format!("{help} "), theme.muted).right_aligned(),
            area,
        );
    }
}

/// The selected app's automatic syncing: a time of day, not a countdown,
/// which would need a redraw every second to stay true.
fn auto_fact(state: &State, auto: &AutoStatus) -> Option<Span<'static>> {
    let theme = &state.theme;
    Some(match auto {
        AutoStatus::Idle => return None,
        AutoStatus::Waiting {
            trigger,
            at,
            backoff_seconds,
        } => {
            let backoff = backoff_seconds
                .map(|b| {
                    let backoff = crate::config::HumanDuration(std::time::Duration::from_secs(b));
                    format!(" (backoff {backoff})")
                })
                .unwrap_or_default();
            Span::styled(
                format!("{} at {}{backoff}", trigger.word(), clock(state, *at)),
                theme.warning,
            )
        }
        AutoStatus::Started { trigger, revision } => Span::styled(
            format!(
                "{} sync of {}",
                trigger.word(),
                crate::resource::short_revision(revision)
            ),
            theme.key_hint,
        ),
        AutoStatus::Held { reason } => Span::styled(reason.clone(), theme.muted),
    })
}
