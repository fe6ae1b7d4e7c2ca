//! How each state is marked: a symbol and a word, so that state reads without
//! colour, and the theme's style for it.

use ratatui::style::Style;
use ratatui::text::Span;

use crate::drift::{AppStatus, Health, ResourceStatus};
use crate::source::SignatureStatus;
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

pub fn sync(theme: &Theme, status: AppStatus) -> Mark {
    let (symbol, word, style) = match status {
        AppStatus::Synced => ("✓", "Synced", theme.synced),
        AppStatus::OutOfSync => ("✗", "OutOfSync", theme.out_of_sync),
        AppStatus::Unknown => ("?", "Unknown", theme.unknown),
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

/// A commit's signature; `None` for an unsigned one, which is the common case.
pub fn signature(theme: &Theme, signature: &SignatureStatus) -> Option<Mark> {
    let (symbol, word, style) = match signature {
        SignatureStatus::Unsigned => return None,
        SignatureStatus::Good { .. } => ("✓", "signed", theme.synced),
        SignatureStatus::Bad { .. } => ("✗", "bad signature", theme.error),
        SignatureStatus::CannotCheck { .. } => ("?", "signature not checked", theme.unknown),
    };
    Some(Mark {
        symbol,
        word,
        style,
    })
}

/// Marks the deployed commit in the log.
pub const DEPLOYED: &str = "●";
/// Marks the commit the verdict compares with: the branch's head.
pub const HEAD: &str = "HEAD";
