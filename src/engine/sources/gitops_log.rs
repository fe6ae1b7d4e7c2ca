//! The Commits pane's questions of Git, on the blocking pool: which commits
//! of the branch change each app's path, and what deploying a commit would
//! change.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::Arc;

use super::effects::Finished;
use super::{Done, Sources};
use crate::engine::{EngineEvent, HISTORY_LIMIT, preview};
use crate::source::{HistoryQuery, walk_history};

impl Sources {
    /// Walks the history of the app's path from `revision`, for the
    /// commits that change it.
    pub(super) fn walk_paths(&self, index: usize, revision: String) {
        let app = &self.state.followed[index];
        let repo_dir = app.source.git_dir(&self.paths.cache_dir);
        let query = HistoryQuery {
            rev: revision.clone(),
            path: Some(app.config.path.clone()),
            limit: Some(HISTORY_LIMIT),
            signatures: false,
        };
        let done = self.done.clone();
        tokio::task::spawn_blocking(move || {
            let mut touching = HashSet::new();
            let walked = walk_history(&repo_dir, &query, |batch| {
                touching.extend(batch.into_iter().map(|entry| entry.id));
                ControlFlow::Continue(())
            });
            match walked {
                Ok(_) => {
                    let _ = done.send(Done::Finished(Finished::Touching {
                        app: index,
                        revision,
                        touching,
                    }));
                }
                // The pane then shows every commit, as without a filter.
                Err(err) => tracing::warn!(error = %err, "cannot walk the app's path history"),
            }
        });
    }

    /// Renders the app at both revisions and compares, on the blocking pool.
    pub(super) fn preview(&self, app: &str, from: Option<String>, to: String) {
        let Some(index) = self.state.index_of(app) else {
            return;
        };
        let followed = &self.state.followed[index];
        let (config, repo_dir, events) = (
            followed.config.clone(),
            followed.source.git_dir(&self.paths.cache_dir),
            self.events.clone(),
        );
        tokio::task::spawn_blocking(move || {
            let preview = preview(&config, &repo_dir, from.as_deref(), &to);
            let _ = events.send(EngineEvent::Previewed {
                app: config.name.clone(),
                preview: Arc::new(preview),
            });
        });
    }
}
