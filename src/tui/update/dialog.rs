//! The plan dialog's keys, whatever it was opened for: scroll, choose,
//! cancel, or confirm, which starts the sync, the rollback or the engine's
//! action the dialog shows.

use super::{controller, rollback, sync};
use crate::tui::dialog::{Purpose, Reply};
use crate::tui::keymap::Action;
use crate::tui::msg::Outcome;
use crate::tui::state::State;
use crate::tui::view::dialog as dialog_view;

/// A key in the dialog: scroll, choose, cancel, or go.
pub(super) fn act_in_dialog(state: &mut State, action: Action) -> Outcome {
    if action == Action::Quit {
        state.dialog = None;
        return sync::quit(state);
    }
    let (page, max_scroll) = (
        dialog_view::page_rows(state),
        dialog_view::max_scroll(state),
    );
    let Some(open) = state.dialog.as_mut() else {
        return Outcome::unchanged();
    };
    match open.dialog.act(action, page, max_scroll) {
        Reply::Unchanged => Outcome::unchanged(),
        Reply::Changed => {
            controller::choice_changed(state);
            Outcome::changed()
        }
        Reply::Cancelled => {
            state.dialog = None;
            Outcome::changed()
        }
        Reply::Confirmed { choice } => {
            let Some(open) = state.dialog.take() else {
                return Outcome::unchanged();
            };
            match (open.purpose, open.dialog.plan()) {
                (Purpose::Engine { app, action }, _) => controller::start(state, app, action),
                (Purpose::Sync { app, only }, Some(plan)) => sync::start(state, app, only, plan),
                (Purpose::Rollback { app, revision }, Some(plan)) => {
                    rollback::start(state, app, revision, choice, plan)
                }
                (_, None) => Outcome::changed(),
            }
        }
    }
}
