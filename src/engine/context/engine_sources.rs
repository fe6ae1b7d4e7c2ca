//! driftdeck's own comparison of engine apps: where an Argo CD Application
//! or a Flux Kustomization says its manifests come from, turned into the
//! config of a native app (repository, branch, folder, namespace) and
//! followed like one — the main task polls and renders it at the engine's
//! revision, this context compares it with live through the same slot,
//! watches and drift rules. Only the verdict stays the engine's.

use std::collections::HashMap;

use super::{Context, FromContext, Slot};
use crate::cluster::LiveStore;
use crate::engines::{EngineSource, is_controller_app_name, native_config};
use crate::report::AppReport;
use crate::report::OwnVerdict;

/// What each engine app's source was last found to be.
#[derive(Default)]
pub(super) struct EngineSources {
    /// Followed through a slot of the context, as the engine's object said.
    followed: HashMap<String, EngineSource>,
    /// Why driftdeck does not compare the app.
    not_compared: HashMap<String, String>,
}

impl Context {
    /// Takes in the engine apps whose objects changed (and those gone):
    /// follows their sources anew where they changed. True when slots
    /// came or went (the watched objects change).
    pub(super) fn follow_engine_sources(&mut self, touched: &[String], store: &LiveStore) -> bool {
        let gone: Vec<String> = self
            .apps
            .keys()
            .filter(|name| is_controller_app_name(name) && !self.controllers.has(name))
            .cloned()
            .collect();
        let mut slots_changed = !gone.is_empty();
        for app in gone {
            self.forget_engine_source(&app);
        }
        let controllers = &self.controllers;
        self.engine_sources
            .not_compared
            .retain(|app, _| controllers.has(app));
        for app in touched {
            let derived = if self.read_sources {
                match self.controllers.source_of(app, store) {
                    Some(derived) => derived,
                    None => continue,
                }
            } else {
                Err("[engines] read_sources = false in the config".to_string())
            };
            let source = match derived {
                Ok(source) => source,
                Err(why) => {
                    slots_changed |= self.forget_engine_source(app);
                    self.engine_sources
                        .not_compared
                        .insert(app.clone(), format!("driftdeck does not compare it: {why}"));
                    continue;
                }
            };
            if self.engine_sources.followed.get(app) == Some(&source) {
                continue;
            }
            let config = match native_config(app, &source, &self.source_mapping, self.name.clone())
            {
                Ok(config) => config,
                Err(why) => {
                    slots_changed |= self.forget_engine_source(app);
                    self.engine_sources.not_compared.insert(app.clone(), why);
                    continue;
                }
            };
            self.engine_sources.not_compared.remove(app);
            if self.apps.get(app).is_none_or(|slot| slot.config != config) {
                self.apps.insert(app.clone(), Slot::new(config.clone()));
                slots_changed = true;
            }
            let _ = self.to_sources.send(FromContext::FollowSource {
                app: Box::new(config),
                revision: source.revision.clone(),
                release: source.release.clone(),
            });
            self.engine_sources.followed.insert(app.clone(), source);
        }
        slots_changed
    }

    /// Stops following the app's source; true when it had a slot.
    fn forget_engine_source(&mut self, app: &str) -> bool {
        self.engine_sources.followed.remove(app);
        let had = self.apps.remove(app).is_some();
        if had {
            let _ = self.to_sources.send(FromContext::ForgetSource {
                app: app.to_string(),
            });
        }
        had
    }

    /// What driftdeck makes of the engine app's source now, given its
    /// comparison (`compared`) if there is one; and whether that is final
    /// for the look (false while the source is still being read).
    pub(super) fn own_verdict(
        &self,
        app: &str,
        compared: Option<AppReport>,
    ) -> (Option<OwnVerdict>, bool) {
        if let Some(reason) = self.engine_sources.not_compared.get(app) {
            return (Some(OwnVerdict::NotCompared(reason.clone())), true);
        }
        let Some(slot) = self.apps.get(app) else {
            return (None, true);
        };
        if let Some(cause) = &slot.failure {
            return (Some(OwnVerdict::NotCompared(cause.clone())), true);
        }
        match compared {
            Some(report) => {
                let source = format!("{} {}", slot.config.source, slot.config.path);
                (
                    Some(OwnVerdict::Compared {
                        report: Box::new(report),
                        source,
                    }),
                    !slot.probing,
                )
            }
            None => (None, false),
        }
    }
}
