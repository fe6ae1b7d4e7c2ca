//! The rollback message editor: after "revert in Git" or "merge-request
//! branch" is confirmed in the rollback dialog, the commit's message (the
//! default one, once the engine has worked it out) is edited in a text area,
//! then confirmed (Ctrl-S) or dropped (Esc). State and update only; drawn by
//! `view/dialog.rs`.

use std::fmt;
use std::sync::Arc;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;

use crate::source::RollbackMode;
use crate::sync::SyncPlan;

/// The Git rollback being written.
#[derive(Clone)]
pub struct MessageEditor {
    pub app: String,
    /// The full id rolled back to.
    pub revision: String,
    pub mode: RollbackMode,
    /// The plan the rollback dialog showed: what the sync after the push does.
    pub plan: Arc<SyncPlan>,
    /// `None` until the engine sends the default message.
    pub text: Option<TextArea<'static>>,
    /// Why there is no default message (the branch could not be fetched…).
    pub failed: Option<String>,
}

/// What a key did to the editor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditReply {
    Unchanged,
    Changed,
    /// Commit with this message.
    Confirmed(String),
    Cancelled,
}

impl MessageEditor {
    pub fn new(app: String, revision: String, mode: RollbackMode, plan: Arc<SyncPlan>) -> Self {
        MessageEditor {
            app,
            revision,
            mode,
            plan,
            text: None,
            failed: None,
        }
    }

    /// The engine's default message, or why there is none.
    pub fn prepared(&mut self, message: Result<String, String>) {
        match message {
            Ok(message) => {
                let lines = message.trim_end().lines().map(str::to_string).collect();
                self.text = Some(TextArea::new(lines));
            }
            Err(why) => self.failed = Some(why),
        }
    }

    /// The message as edited, without trailing blank lines.
    pub fn message(&self) -> Option<String> {
        let text = self.text.as_ref()?.lines().join("\n");
        let text = text.trim_end();
        (!text.trim().is_empty()).then(|| format!("{text}\n"))
    }

    /// Esc drops the rollback; Ctrl-S commits (an empty message cannot be
    /// confirmed); every other key edits the text.
    pub fn key(&mut self, key: KeyEvent) -> EditReply {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => return EditReply::Cancelled,
            KeyCode::Char('s') if ctrl => {
                return match self.message() {
                    Some(message) => EditReply::Confirmed(message),
                    None => EditReply::Unchanged,
                };
            }
            _ => {}
        }
        let Some(text) = self.text.as_mut() else {
            return EditReply::Unchanged;
        };
        if text.input(key) {
            EditReply::Changed
        } else {
            EditReply::Unchanged
        }
    }
}

impl PartialEq for MessageEditor {
    fn eq(&self, other: &Self) -> bool {
        (&self.app, &self.revision, self.mode, &self.failed)
            == (&other.app, &other.revision, other.mode, &other.failed)
            && self.text.as_ref().map(|t| t.lines()) == other.text.as_ref().map(|t| t.lines())
    }
}

impl fmt::Debug for MessageEditor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageEditor")
            .field("app", &self.app)
            .field("revision", &self.revision)
            .field("mode", &self.mode)
            .field("text", &self.text.as_ref().map(|t| t.lines().to_vec()))
            .field("failed", &self.failed)
            .finish()
    }
}
