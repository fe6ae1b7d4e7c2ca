//! The Commits pane's questions of Git, on the blocking pool: which commits
//! of the branch change each app's path, and what deploying a commit would
//! change.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::Arc;

use super::{Done, Sources};
use crate::engine::{EngineEvent, HISTORY_LIMIT, preview};
use crate::source::{HistoryQuery, SourceLocation, walk_history};

impl Sources {
    /// Walks the branch's history once per app that tracks it, keeping the
    /// commits that change the app's path.
    pub(super) fn walk_paths(
        &mut self,
        source: &SourceLocation,
        tracked: &Option<String>,
        revision: &str,
    ) {
        for (index, app) in self.followed.iter().enumerate() {
            if app.source != *source || app.config.branch != *tracked {
                continue;
            }
            if app.touching.as_ref().is_some_and(|(r, _)| r == revision) {
                continue;
            }
            let repo_dir = source.git_dir(&self.paths.cache_dir);
            let query = HistoryQuery {
                rev: revision.to_string(),
                path: Some(app.config.path.clone()),
                limit: Some(HISTORY_LIMIT),
                signatures: false,
            };
            let (done, revision) = (self.done.clone(), revision.to_string());
            tokio::task::spawn_blocking(move || {
                let mut touching = HashSet::new();
                let walked = walk_history(&repo_dir, &query, |batch| {
                    touching.extend(batch.into_iter().map(|entry| entry.id));
                    ControlFlow::Continue(())
                });
                match walked {
                    Ok(_) => {
                        let _ = done.send(Done::Touching {
                            app: index,
                            revision,
                            touching,
                        });
                    }
                    // The pane then shows every commit, as without a filter.
                    Err(err) => tracing::warn!(error = %err, "cannot walk the app's path history"),
                }
            });
        }
    }

    /// Sends the app's path commits, if they are known.
    pub(super) fn publish_touching(&self, index: usize) {
        let app = &self.followed[index];
        if let Some((_, touching)) = &app.touching {
            let _ = self.events.send(EngineEvent::PathCommits {
                app: app.config.name.clone(),
                generation: app.generation,
                touching: touching.clone(),
            });
        }
    }

    /// Renders the app at both revisions and compares, on the blocking pool.
    pub(super) fn preview(&self, app: &str, from: Option<String>, to: String) {
        let Some(followed) = self.followed.iter().find(|f| f.config.name == app) else {
            return;
        };
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
