//! How each state is marked: a symbol and a word, so that state reads without
//! colour, and the theme's style for it.

use ratatui::style::Style;
use ratatui::text::Span;

use crate::tui::report::{Health, ResourceStatus, SyncStatus};
use crate::tui::theme::Theme;

/// A state as the screen shows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mark {
    pub symbol: &'static str,
    pub word: &'static str,
    pub style: Style,
}

impl Mark {
    pub fn symbol_span(self) -> Span<'static> {
        Span::styled(self.symbol, self.style)
    }

    /// Symbol and word, as in "✗ OutOfSync".
    pub fn label(self) -> String {
        format!("{} {}", self.symbol, self.word)
    }
}

/// What the engine has not reported yet.
pub fn not_known(theme: &Theme) -> Mark {
    Mark {
        symbol: "?",
        word: "unknown",
        style: theme.unknown,
    }
}

pub fn sync(theme: &Theme, status: SyncStatus) -> Mark {
    let (symbol, word, style) = match status {
        SyncStatus::Synced => ("✓", "Synced", theme.synced),
        SyncStatus::OutOfSync => ("✗", "OutOfSync", theme.out_of_sync),
        SyncStatus::Unknown => ("?", "Unknown", theme.unknown),
    };
    Mark {
        symbol,
        word,
        style,
    }
}

pub fn health(theme: &Theme, health: Health) -> Mark {
    let (symbol, word, style) = match health {
        Health::Healthy => ("●", "Healthy", theme.healthy),
        Health::Progressing => ("◐", "Progressing", theme.progressing),
        Health::Suspended => ("‖", "Suspended", theme.suspended),
        Health::Missing => ("○", "Missing", theme.missing),
        Health::Degraded => ("▲", "Degraded", theme.degraded),
        Health::Unknown => ("?", "Unknown", theme.unknown),
    };
    Mark {
        symbol,
        word,
        style,
    }
}

pub fn resource(theme: &Theme, status: ResourceStatus) -> Mark {
    let (symbol, word, style) = match status {
        ResourceStatus::Synced => ("✓", "Synced", theme.synced),
        ResourceStatus::OutOfSync => ("✗", "OutOfSync", theme.out_of_sync),
        ResourceStatus::Missing => ("○", "Missing", theme.missing),
        ResourceStatus::Extra => ("+", "Extra", theme.extra),
        ResourceStatus::Unknown => ("?", "Unknown", theme.unknown),
    };
    Mark {
        symbol,
        word,
        style,
    }
}

/// Marks the deployed commit in the log.
pub const DEPLOYED: &str = "●";
