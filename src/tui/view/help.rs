//! The help overlay, generated from the keymap so it always tells the truth,
//! with the legend of the state symbols.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};

use super::symbols::{self, DEPLOYED, HEAD};
use crate::drift::{AppStatus, Health, ResourceStatus};
use crate::source::SignatureStatus;
use crate::tui::keymap::{Action, Section};
use crate::tui::state::State;

const KEYS_WIDTH: usize = 16;
const NAME_WIDTH: usize = 14;
const MAX_WIDTH: u16 = 78;

pub fn render(frame: &mut Frame, screen: Rect, state: &State, scroll: usize) {
    let theme = &state.theme;
    let lines = lines(state);
    let area = popup(screen, lines.len());
    let inner_rows = usize::from(area.height.saturating_sub(2));
    let key = |action| state.keymap.hint_key(action);
    let mut footer = format!(" {} close ", key(Action::Help));
    if lines.len() > inner_rows {
        footer = format!(
            " {}/{} scroll ·{footer}",
            key(Action::Down),
            key(Action::Up)
        );
    }
    let block = Block::bordered()
        .border_type(BorderType::Thick)
        .border_style(theme.border_focused)
        .title(Span::styled(" Help ", theme.title))
        .title_bottom(Line::styled(footer, theme.muted).right_aligned())
        .style(theme.text);
    let scroll = u16::try_from(scroll).unwrap_or(u16::MAX);
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), area);
}

/// How far the help can scroll at the state's terminal size.
pub fn max_scroll(state: &State) -> usize {
    let count = lines(state).len();
    let screen = Rect::new(0, 0, state.size.width, state.size.height);
    let rows = usize::from(popup(screen, count).height.saturating_sub(2));
    count.saturating_sub(rows.max(1))
}

/// Centred, as tall as the text or the screen allows.
fn popup(screen: Rect, line_count: usize) -> Rect {
    let width = screen.width.saturating_sub(4).min(MAX_WIDTH);
    let wanted = u16::try_from(line_count.saturating_add(2)).unwrap_or(u16::MAX);
    let height = screen.height.saturating_sub(2).min(wanted);
    Rect::new(
        screen.x + (screen.width - width) / 2,
        screen.y + (screen.height - height) / 2,
        width,
        height,
    )
}

pub fn lines(state: &State) -> Vec<Line<'static>> {
    let theme = &state.theme;
    let mut lines = Vec::new();
    for (section, heading) in [
        (Section::Move, "Move"),
        (Section::Panes, "Panes"),
        (Section::Read, "Find and read"),
        (Section::App, "App"),
        (Section::General, "General"),
    ] {
        lines.push(Line::styled(heading, theme.title));
        // Under --readonly the actions that write are gone, not just refused.
        for action in Action::ALL
            .into_iter()
            .filter(|a| a.spec().section == section && !(state.readonly && a.writes()))
        {
            let spec = action.spec();
            let keys: Vec<String> = state
                .keymap
                .keys(action)
                .iter()
                .map(ToString::to_string)
                .collect();
            let keys = if keys.is_empty() {
                "(none)".to_string()
            } else {
                keys.join(" ")
            };
            lines.push(Line::from(vec![
                Span::raw("  "),
                Span::styled(format!("{keys:<KEYS_WIDTH$}"), theme.key_hint),
                Span::styled(format!("{:<NAME_WIDTH$}", spec.name), theme.muted),
                Span::raw(spec.description),
            ]));
        }
    }
    lines.push(Line::styled("Symbols", theme.title));
    let legend = |marks: Vec<(symbols::Mark, &'static str)>| {
        let mut spans = vec![Span::raw(" ")];
        for (mark, word) in marks {
            spans.push(Span::raw(" "));
            spans.push(mark.symbol_span());
            spans.push(Span::raw(format!(" {word} ")));
        }
        Line::from(spans)
    };
    let sync = |s| symbols::sync(theme, s);
    let health = |h| symbols::health(theme, h);
    lines.push(legend(vec![
        (sync(AppStatus::Synced), "Synced"),
        (sync(AppStatus::OutOfSync), "OutOfSync"),
        (symbols::not_known(theme), "unknown, or not read yet"),
    ]));
    lines.push(legend(vec![
        (health(Health::Healthy), "Healthy"),
        (health(Health::Progressing), "Progressing"),
        (health(Health::Suspended), "Suspended"),
        (health(Health::Missing), "Missing"),
        (health(Health::Degraded), "Degraded"),
    ]));
    lines.push(legend(vec![
        (
            symbols::resource(theme, ResourceStatus::Missing),
            "Missing: in Git, not live",
        ),
        (
            symbols::resource(theme, ResourceStatus::Extra),
            "Extra: live, gone from Git (prunable)",
        ),
    ]));
    lines.push(Line::from(vec![
        Span::raw("  "),
        Span::styled(DEPLOYED, theme.deployed),
        Span::raw(" the deployed commit   "),
        Span::styled(HEAD, theme.key_hint),
        Span::raw(" the head compared with Git"),
    ]));
    lines.push(Line::from(vec![
        Span::raw("  "),
        Span::styled("!", theme.error),
        Span::raw(" Git cannot be read   "),
        Span::styled("⚠3m", theme.warning),
        Span::raw(" live state stale for 3 minutes"),
    ]));
    let signatures = [
        SignatureStatus::Good {
            signer: String::new(),
            format: crate::source::SignatureFormat::Gpg,
        },
        SignatureStatus::Bad {
            reason: String::new(),
        },
        SignatureStatus::CannotCheck {
            reason: String::new(),
        },
    ];
    lines.push(legend(
        signatures
            .iter()
            .filter_map(|status| symbols::signature(theme, status))
            .map(|mark| (mark, mark.word))
            .collect(),
    ));
    // Two lines, no blank one above: the help fits 48 rows unscrolled.
    lines.push(Line::raw(
        "Keys change in [keys] as  action = \"key\"  or  action = [\"key\", \"key\"], in",
    ));
    lines.push(Line::styled(
        format!("  {}", state.config_file.display()),
        theme.muted,
    ));
    lines
}
