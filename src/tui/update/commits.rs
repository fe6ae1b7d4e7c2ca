//! The Commits pane's own keys: every commit or only the app's, and Enter
//! for what deploying the selected commit would change (asked of the
//! engine, which renders both revisions off the UI thread).

use super::keep_cursors_in_view;
use crate::engine::EngineCommand;
use crate::tui::msg::{Command, Outcome};
use crate::tui::state::State;

/// Lists every commit of the branch, or again only the app's; the cursor
/// stays on the same commit when it is listed both ways.
pub(super) fn toggle_all(state: &mut State) -> Outcome {
    let selected = state.selected_commit().map(|c| c.id);
    state.all_commits = !state.all_commits;
    if let Some(id) = selected
        && let Some(app) = state.selected_app()
        && let Some(commits) = app.commits.as_deref()
    {
        let position = state
            .listed_commits()
            .iter()
            .position(|&index| commits.get(index).is_some_and(|c| c.id == id));
        state.cursors.commits.selected = position.unwrap_or(0);
    }
    keep_cursors_in_view(state);
    Outcome::changed()
}

/// Asks the engine what deploying the selected commit would change against
/// the deployed revision.
pub(super) fn preview(state: &mut State) -> Outcome {
    let Some(id) = state.selected_commit().map(|c| c.id) else {
        return Outcome::unchanged();
    };
    let Some(index) = state.selected_app_index() else {
        return Outcome::unchanged();
    };
    let app = &mut state.apps[index];
    let deployed = app.report.as_ref().and_then(|r| r.summary.revision.clone());
    app.previewing = Some(id);
    Outcome {
        changed: true,
        commands: vec![Command::Engine(EngineCommand::Preview {
            app: app.name.clone(),
            from: deployed,
            to: id.to_string(),
        })],
    }
}
