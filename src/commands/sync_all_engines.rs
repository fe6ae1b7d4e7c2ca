//! `sync --all`'s Argo CD and Flux apps: once every context has said which
//! it has, each OutOfSync one is asked of its engine (an Argo CD operation,
//! a Flux reconcile) exactly as `sync APP` asks it, one after the other, and
//! followed until its engine answers. The same name in two contexts is not
//! asked (both engines would act).

use super::controller::{ANSWER_DEADLINE, described, in_several_contexts};
use super::sync_session::Session;
use crate::drift::AppStatus;
use crate::engine::{EngineCommand, EngineEvent};
use crate::engines::{ActionKind, ActionProgress};

/// An engine app `sync --all` will ask its engine to sync.
pub(super) struct Asked {
    pub app: String,
    /// `sync Application argocd/web at 3f2a91c (prune: no)`.
    pub what: String,
}

/// How an engine app came out.
pub(super) enum Answer {
    /// Synced already: nothing asked.
    InSync,
    /// Its engine said done, failed, or the request could not be made.
    Done {
        succeeded: bool,
        message: String,
    },
    CouldNotRun(String),
}

/// The engine apps of every context (waiting, up to the look deadline, for
/// each context to say which it has): those to ask, and those that will
/// not be asked with why (`Err` for could not run, `Ok` for in sync).
pub(super) async fn out_of_sync(
    session: &mut Session,
    contexts: usize,
    action: &ActionKind,
) -> (Vec<Asked>, Vec<(String, Answer)>) {
    let mut heard: Vec<Option<String>> = session.controller_apps.keys().cloned().collect();
    if heard.len() < contexts {
        let _ = session
            .next(super::LOOK_DEADLINE, |event| {
                if let EngineEvent::ControllerApps { context, .. } = event
                    && !heard.contains(context)
                {
                    heard.push(context.clone());
                }
                (heard.len() >= contexts).then_some(())
            })
            .await;
    }
    let mut found: Vec<(String, Vec<Option<String>>)> = Vec::new();
    let mut by_context: Vec<_> = session.controller_apps.iter().collect();
    by_context.sort();
    for (context, apps) in by_context {
        for app in apps {
            match found.iter_mut().find(|(name, _)| name == app) {
                Some((_, holders)) => holders.push(context.clone()),
                None => found.push((app.clone(), vec![context.clone()])),
            }
        }
    }
    let (mut asked, mut answered) = (Vec::new(), Vec::new());
    for (app, holders) in found {
        if holders.len() > 1 {
            let why = in_several_contexts(&app, &holders).to_string();
            answered.push((app, Answer::CouldNotRun(why)));
            continue;
        }
        let report = match session.settled(&app).await {
            Ok(report) => report,
            Err(err) => {
                answered.push((app, Answer::CouldNotRun(err.to_string())));
                continue;
            }
        };
        if report.summary.status != AppStatus::OutOfSync {
            answered.push((app, Answer::InSync));
            continue;
        }
        match described(&app, action, &report) {
            Ok(what) => asked.push(Asked { app, what }),
            Err(err) => answered.push((app, Answer::CouldNotRun(err.to_string()))),
        }
    }
    (asked, answered)
}

/// Asks the app's engine to act and follows it to its answer (or, with
/// `wait` false, to its first word); the engine's words on stderr, led by
/// the app's name.
pub(super) async fn ask(
    session: &mut Session,
    app: &str,
    action: &ActionKind,
    wait: bool,
) -> Answer {
    session.send(EngineCommand::ControllerAction {
        app: app.to_string(),
        action: action.clone(),
    });
    loop {
        let progress = session
            .next(ANSWER_DEADLINE, |event| match event {
                EngineEvent::ControllerActed { app: of, progress } if of == app => {
                    Some(progress.clone())
                }
                _ => None,
            })
            .await;
        match progress {
            None => {
                return Answer::Done {
                    succeeded: false,
                    message: format!(
                        "no answer from the engine within {}s",
                        ANSWER_DEADLINE.as_secs()
                    ),
                };
            }
            Some(Err(why)) => return Answer::CouldNotRun(why),
            Some(Ok(ActionProgress::Waiting { message })) => {
                eprintln!("{app}: {}", crate::text::printable(&message));
                if !wait {
                    return Answer::Done {
                        succeeded: true,
                        message: "asked (not waited for)".to_string(),
                    };
                }
            }
            Some(Ok(ActionProgress::Done { succeeded, message })) => {
                let message = crate::text::printable(&message).into_owned();
                return Answer::Done { succeeded, message };
            }
        }
    }
}
