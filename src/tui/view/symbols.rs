//! How each state is marked: a symbol and a word, so that state reads without
//! colour, and the theme's style for it.

use ratatui::style::Style;
use ratatui::text::Span;

use ratatui::style::Modifier;

use crate::drift::{AppStatus, Health, ResourceStatus};
use crate::engine::AutoStatus;
use crate::source::SignatureStatus;
use crate::sync::{ObjectResult, SyncAction};
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

/// A step of a sync plan. Prunes stand out in bold too, so they do
/// without colour.
pub fn sync_step(theme: &Theme, action: SyncAction) -> Mark {
    match action {
        SyncAction::Create => Mark {
            symbol: "+",
            word: "create",
            style: theme.diff_added,
        },
        SyncAction::Update => Mark {
            symbol: "~",
            word: "update",
            style: theme.out_of_sync,
        },
        SyncAction::Prune => Mark {
            symbol: "-",
            word: "prune",
            style: theme.extra.add_modifier(Modifier::BOLD),
        },
    }
}

/// An object of a running sync: what became of it, `None` while not yet.
pub fn sync_object(theme: &Theme, result: Option<ObjectResult>) -> Mark {
    let (symbol, word, style) = match result {
        None => ("…", "syncing", theme.progressing),
        Some(ObjectResult::Created) => ("✓", "created", theme.synced),
        Some(ObjectResult::Updated) => ("✓", "updated", theme.synced),
        Some(ObjectResult::Pruned) => ("✓", "pruned", theme.synced),
        Some(ObjectResult::DryRunPassed) => ("✓", "dry run ok", theme.synced),
        Some(ObjectResult::Skipped) => ("-", "skipped", theme.muted),
        Some(ObjectResult::NotStarted) => ("-", "not sent", theme.muted),
        Some(ObjectResult::Failed) => ("✗", "failed", theme.error),
    };
    Mark {
        symbol,
        word,
        style,
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
    let (symbol, style) = match status {
        AppStatus::Synced => ("✓", theme.synced),
        AppStatus::OutOfSync => ("✗", theme.out_of_sync),
        AppStatus::Unknown => ("?", theme.unknown),
    };
    Mark {
        symbol,
        word: status.word(),
        style,
    }
}

pub fn health(theme: &Theme, health: Health) -> Mark {
    let (symbol, style) = match health {
        Health::Healthy => ("●", theme.healthy),
        Health::Progressing => ("◐", theme.progressing),
        Health::Suspended => ("‖", theme.suspended),
        Health::Missing => ("○", theme.missing),
        Health::Degraded => ("▲", theme.degraded),
        Health::Unknown => ("?", theme.unknown),
    };
    Mark {
        symbol,
        word: health.word(),
        style,
    }
}

pub fn resource(theme: &Theme, status: ResourceStatus) -> Mark {
    let (symbol, style) = match status {
        ResourceStatus::Synced => ("✓", theme.synced),
        ResourceStatus::OutOfSync => ("✗", theme.out_of_sync),
        ResourceStatus::Missing => ("○", theme.missing),
        ResourceStatus::Extra => ("+", theme.extra),
        ResourceStatus::Unknown => ("?", theme.unknown),
    };
    Mark {
        symbol,
        word: status.word(),
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

/// Marks a commit that cannot be deployed (`require_signed`).
pub fn undeployable(theme: &Theme) -> Mark {
    Mark {
        symbol: "⊘",
        word: "cannot be deployed",
        style: theme.error,
    }
}

/// An app's automatic syncing; `None` when there is nothing to show.
pub fn auto(theme: &Theme, status: &AutoStatus) -> Option<Mark> {
    let (symbol, word, style) = match status {
        AutoStatus::Idle => return None,
        AutoStatus::Waiting { .. } => ("⏱", "automatic sync due", theme.warning),
        AutoStatus::Started { .. } => ("⟳", "automatic sync", theme.key_hint),
        AutoStatus::Held { .. } => ("⊘", "automatic sync held", theme.muted),
    };
    Some(Mark {
        symbol,
        word,
        style,
    })
}
