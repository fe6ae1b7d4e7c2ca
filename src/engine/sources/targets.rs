//! Plans and syncs at a chosen revision, and pins: a revision other than the
//! one compared is resolved and rendered on the blocking pool before the
//! context plans at it; a rollback that applied everything pins the app,
//! which is then rendered and compared at its pin until it is unpinned.

use std::sync::Arc;

use tokio::sync::oneshot;

use super::effects::SourceEffect;
use super::{Done, Sources};
use crate::engine::context::{At, ToContext};
use crate::engine::desired::render_app;
use crate::engine::{EngineEvent, SyncCommand, SyncRefused, SyncTarget};
use crate::manifests::Checked;
use crate::resource::{ResourceKey, short_revision};
use crate::source::{SignatureStatus, resolve_commit};
use crate::sync::Pin;

/// A chosen revision rendered.
#[derive(Debug, Clone)]
pub(in crate::engine) struct Rendered {
    /// The full commit id.
    pub revision: String,
    pub checked: Arc<Checked>,
    /// Its signature, when the app requires one: a rollback target is held
    /// to `require_signed` as the head is.
    pub signature: Option<SignatureStatus>,
}

/// What a revision is rendered for.
#[derive(Debug, Clone)]
pub(in crate::engine) enum Purpose {
    Plan {
        prune: bool,
        only: Option<ResourceKey>,
    },
    Sync {
        request: SyncCommand,
    },
}

impl Sources {
    /// Plans or syncs the app at `target`: the revision compared is the
    /// context's already; another is resolved and rendered first.
    pub(super) fn targeted(&mut self, app: &str, target: SyncTarget, purpose: Purpose) {
        let Some(index) = self.state.index_of(app) else {
            self.refuse(app, purpose, format!("app \"{app}\" is not followed"));
            return;
        };
        let (rev, rollback) = match target {
            SyncTarget::Compared => {
                self.to_context_of(app, context_message(app, purpose, None, None));
                return;
            }
            SyncTarget::Revision(rev) => (rev, false),
            SyncTarget::Pin(rev) => (rev, true),
        };
        if let (Some(pinned), false) = (&self.state.followed[index].pinned, rollback) {
            let message = format!(
                "app \"{app}\" is pinned to {}: unpin it first (driftdeck unpin {app}), or roll back to \"{rev}\"",
                short_revision(pinned)
            );
            self.refuse(app, purpose, message);
            return;
        }
        let followed = &self.state.followed[index];
        let (repo_dir, config, done) = (
            followed.source.git_dir(&self.paths.cache_dir),
            followed.config.clone(),
            self.done.clone(),
        );
        tokio::task::spawn_blocking(move || {
            let result = resolve_commit(&repo_dir, &rev)
                .map_err(|e| format!("app \"{}\": {e}", config.name))
                .and_then(|revision| {
                    let checked = render_app(&config, &repo_dir, &revision)
                        .map_err(|cause| format!("app \"{}\": {cause}", config.name))?;
                    let signature = super::signature_if_required(&config, &repo_dir, &revision);
                    let rendered = Rendered {
                        revision,
                        checked: Arc::new(checked),
                        signature,
                    };
                    Ok((rendered, rollback))
                });
            let _ = done.send(Done::Targeted {
                app: index,
                purpose,
                result,
            });
        });
    }

    /// Hands a rendered revision to the app's context to plan or sync at.
    pub(super) fn on_targeted(
        &mut self,
        index: usize,
        purpose: Purpose,
        result: Result<(Rendered, bool), String>,
    ) {
        let app = self.state.followed[index].config.name.clone();
        let (rendered, rollback) = match result {
            Ok(rendered) => rendered,
            Err(cause) => return self.refuse(&app, purpose, cause),
        };
        let finished = match &purpose {
            Purpose::Sync { request } if rollback && !request.dry_run => {
                let (finished, applied) = oneshot::channel();
                let (done, rendered) = (self.done.clone(), rendered.clone());
                tokio::spawn(async move {
                    if applied.await == Ok(true) {
                        let _ = done.send(Done::RolledBack {
                            app: index,
                            rendered,
                        });
                    }
                });
                Some(finished)
            }
            _ => None,
        };
        let at = At {
            pin: rollback.then(|| rendered.revision.clone()),
            revision: rendered.revision,
            checked: rendered.checked,
            signature: rendered.signature,
        };
        self.to_context_of(&app, context_message(&app, purpose, Some(at), finished));
    }

    /// Pins the app to `revision` (kept in the pins file), and compares it
    /// there from now on.
    pub(super) fn pin(&mut self, index: usize, rendered: Rendered) {
        let Rendered {
            revision,
            checked,
            signature,
        } = rendered;
        let app = self.state.followed[index].config.name.clone();
        let pin = Pin {
            revision: revision.clone(),
            since: jiff::Timestamp::now(),
            by: self.operator.clone(),
        };
        if let Err(err) = self.pin_file.set(&app, Some(pin)) {
            let _ = self.events.send(EngineEvent::Pinned {
                app,
                pinned: Err(err.to_string()),
            });
            return;
        }
        let effects = self.state.pinned(index, revision, checked, signature);
        self.execute(effects);
    }

    /// Removes the app's pin; it is rendered and compared at its branch's
    /// head again.
    pub(super) fn unpin(&mut self, app: &str) {
        let Some(index) = self.state.index_of(app) else {
            return;
        };
        let pinned = self.clear_pin(index).map(|()| None);
        let _ = self.events.send(EngineEvent::Pinned {
            app: app.to_string(),
            pinned,
        });
    }

    /// Takes the app's pin out of the pins file and compares the app with
    /// its branch's head again; why not, if the file cannot be written.
    pub(super) fn clear_pin(&mut self, index: usize) -> Result<(), String> {
        let followed = &self.state.followed[index];
        if followed.pinned.is_some() {
            self.pin_file
                .set(&followed.config.name, None)
                .map_err(|err| err.to_string())?;
        }
        let effects = self.state.unpinned(index);
        self.execute(effects.into_iter().collect());
        Ok(())
    }

    /// Takes in the pins another process set or removed (`driftdeck
    /// rollback`, `unpin` while the TUI or `watch` runs), on the pollers'
    /// rhythm: the file is read again only when it changed. An app pinned
    /// there is compared at its pin from now on, an unpinned one at its
    /// branch's head (and auto-sync follows).
    pub(super) fn reload_pins(&mut self) -> Vec<SourceEffect> {
        let changed = self.pin_file.changed();
        if changed == self.pins_changed {
            return Vec::new();
        }
        self.pins_changed = changed;
        match self.pin_file.load() {
            Ok(pins) => self.state.pins_reloaded(&pins),
            Err(err) => {
                tracing::warn!("{err}; the pins read before are kept");
                Vec::new()
            }
        }
    }

    /// Answers a plan or sync that cannot be done.
    fn refuse(&self, app: &str, purpose: Purpose, message: String) {
        let app = app.to_string();
        let _ = self.events.send(match purpose {
            Purpose::Plan { .. } => EngineEvent::Planned {
                app,
                plan: Err(message),
            },
            Purpose::Sync { .. } => EngineEvent::SyncEnded {
                app,
                outcome: Err(SyncRefused {
                    message,
                    could_not_run: true,
                }),
            },
        });
    }
}

fn context_message(
    app: &str,
    purpose: Purpose,
    at: Option<At>,
    finished: Option<oneshot::Sender<bool>>,
) -> ToContext {
    let app = app.to_string();
    let at = at.map(Box::new);
    match purpose {
        Purpose::Plan { prune, only } => ToContext::Plan {
            app,
            prune,
            at,
            only,
        },
        Purpose::Sync { request } => ToContext::Sync {
            app,
            request,
            at,
            finished,
        },
    }
}
