//! `driftdeck sync|refresh|suspend|resume` on an Argo CD or Flux app: the
//! engine finds the app in its context, asks its engine through the app's
//! own object (`crate::engines::actions`), and follows the engine's answer
//! to the end. Exit 0 done, 1 the engine says it failed (or no answer in
//! time), 2 could not ask.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::{CommandError, load_config};
use crate::cli::{GlobalArgs, OutputFormat, RefreshArgs, SyncFlags, ToggleArgs};
use crate::config::{Config, DEFAULT_HEALTH_TIMEOUT, Paths};
use crate::engine::{Engine, EngineCommand, EngineEvent};
use crate::engines::{ActionKind, ActionProgress};
use crate::report::AppReport;

/// How long the engine's answer is awaited.
pub(super) const ANSWER_DEADLINE: Duration = DEFAULT_HEALTH_TIMEOUT.0;

pub(super) fn sync(
    global: &GlobalArgs,
    args: &SyncFlags,
    app: &str,
    paths: Paths,
    config: Config,
) -> Result<ExitCode, CommandError> {
    if args.force {
        return Err(CommandError::Usage(format!(
            "app \"{app}\": --force is for native apps; the engine applies as it is configured to"
        )));
    }
    let order = Order {
        app,
        action: ActionKind::Sync { prune: args.prune },
        confirm: !args.yes && !args.dry_run,
        dry_run: args.dry_run,
        wait: !args.no_wait,
        json: args.output == OutputFormat::Json,
    };
    run(global, paths, config, order)
}

pub(super) fn refresh(global: &GlobalArgs, args: &RefreshArgs) -> Result<ExitCode, CommandError> {
    let (paths, config) = writable(global, &args.app)?;
    let order = Order {
        app: &args.app,
        action: ActionKind::Refresh { hard: args.hard },
        // Asks to compare, changes nothing in the cluster's apps.
        confirm: false,
        dry_run: false,
        wait: true,
        json: false,
    };
    run(global, paths, config, order)
}

pub(super) fn toggle(
    global: &GlobalArgs,
    args: &ToggleArgs,
    suspend: bool,
) -> Result<ExitCode, CommandError> {
    let (paths, config) = writable(global, &args.app)?;
    let order = Order {
        app: &args.app,
        action: if suspend {
            ActionKind::Suspend
        } else {
            ActionKind::Resume
        },
        confirm: !args.yes,
        dry_run: false,
        wait: true,
        json: false,
    };
    run(global, paths, config, order)
}

/// Asks the engine app's engine to converge on what was just pushed to
/// its source, without waiting for it to finish.
pub(super) fn converge(
    global: &GlobalArgs,
    paths: Paths,
    config: Config,
    app: &str,
    action: ActionKind,
) -> Result<ExitCode, CommandError> {
    let order = Order {
        app,
        action,
        confirm: false,
        dry_run: false,
        wait: false,
        json: false,
    };
    run(global, paths, config, order)
}

/// The config, unless driftdeck is read-only.
fn writable(global: &GlobalArgs, app: &str) -> Result<(Paths, Config), CommandError> {
    let (paths, config) = load_config(global)?;
    super::refuse_when_read_only(&config, &format!("app \"{app}\": refused"))?;
    Ok((paths, config))
}

struct Order<'a> {
    app: &'a str,
    action: ActionKind,
    confirm: bool,
    dry_run: bool,
    wait: bool,
    json: bool,
}

fn run(
    global: &GlobalArgs,
    paths: Paths,
    config: Config,
    order: Order<'_>,
) -> Result<ExitCode, CommandError> {
    let app = order.app.to_string();
    if !crate::engines::is_controller_app_name(&app) {
        return Err(CommandError::Usage(format!(
            "app \"{app}\": {} is for Argo CD and Flux apps (argocd/…, flux/…, helm/…)",
            order.action.verb()
        )));
    }
    if order.confirm && !std::io::stdin().is_terminal() {
        return Err(CommandError::Usage(format!(
            "app \"{app}\": no terminal to confirm the {} on; give --yes to go ahead without asking",
            order.action.verb()
        )));
    }
    let _log = crate::logging::init(&paths, global.verbose).ok();
    let options = super::engine_options(global, &config, false, false);
    let contexts = options.contexts.len();
    super::runtime()?.block_on(async {
        let (sender, mut events) = mpsc::unbounded_channel();
        let engine = Engine::start(Vec::new(), paths, options, sender);
        let report = find(&mut events, &app, contexts).await?;
        let what = described(&app, &order.action, &report)?;
        if order.dry_run {
            println!("app \"{app}\": would {what} (dry run: nothing written)");
            return Ok(ExitCode::SUCCESS);
        }
        if order.confirm && !confirmed(&app, &what)? {
            eprintln!("app \"{app}\": nothing asked");
            return Ok(ExitCode::from(2));
        }
        eprintln!("app \"{app}\": asking to {what}…");
        engine.send(EngineCommand::ControllerAction {
            app: app.clone(),
            action: order.action.clone(),
        });
        follow(&mut events, &app, &order).await
    })
}

/// What asking `action` of the app's engine does, in words (from its report).
pub(super) fn described(
    app: &str,
    action: &ActionKind,
    report: &AppReport,
) -> Result<String, CommandError> {
    let state = report
        .controller
        .as_deref()
        .ok_or_else(|| CommandError::Unknown {
            app: app.to_string(),
            reason: "not an engine app".to_string(),
        })?;
    let object = format!("{} {}/{}", state.kind, state.namespace, state.name);
    Ok(action.describe(&object, state.target_revision.as_deref()))
}

/// The app's first settled report once every context has said which
/// engine apps it has, or why there is none. The same name in two contexts
/// is an error naming both: asked, both engines would act.
async fn find(
    events: &mut mpsc::UnboundedReceiver<EngineEvent>,
    app: &str,
    contexts: usize,
) -> Result<Arc<AppReport>, CommandError> {
    let mut answered = Vec::new();
    let mut holding = Vec::new();
    let mut unreadable = Vec::new();
    let mut report = None;
    let wait = async {
        while let Some(event) = events.recv().await {
            match event {
                EngineEvent::Report {
                    app: name,
                    report: said,
                    settled: true,
                    ..
                } if name == app => report = Some(said),
                EngineEvent::ControllerApps {
                    context,
                    apps,
                    unreadable: cannot,
                } => {
                    unreadable.extend(cannot);
                    if apps.iter().any(|a| a == app) && !holding.contains(&context) {
                        holding.push(context.clone());
                    }
                    if !answered.contains(&context) {
                        answered.push(context);
                    }
                }
                _ => {}
            }
            if answered.len() < contexts {
                continue;
            }
            match holding.as_slice() {
                [] => return Ok(None),
                [_] if report.is_some() => return Ok(report.take()),
                [_] => {}
                several => return Err(in_several_contexts(app, several)),
            }
        }
        Ok(None)
    };
    match tokio::time::timeout(super::LOOK_DEADLINE, wait).await {
        Ok(Ok(Some(report))) => Ok(report),
        Ok(Err(error)) => Err(error),
        Ok(Ok(None)) => {
            // A kind that cannot be listed may hold it: say which.
            let mut reason = "no Argo CD or Flux app by this name in the contexts read".to_string();
            for cannot in &unreadable {
                reason.push_str("; ");
                reason.push_str(cannot);
            }
            Err(CommandError::Unknown {
                app: app.to_string(),
                reason,
            })
        }
        Err(_) => Err(CommandError::Unknown {
            app: app.to_string(),
            reason: format!("not found within {}s", super::LOOK_DEADLINE.as_secs()),
        }),
    }
}

/// `app "argocd/web" is in the contexts kind-a and kind-b; …`.
pub(super) fn in_several_contexts(app: &str, contexts: &[Option<String>]) -> CommandError {
    let mut names: Vec<String> = contexts
        .iter()
        .map(|c| {
            c.clone()
                .unwrap_or_else(|| "the current context".to_string())
        })
        .collect();
    names.sort();
    CommandError::Usage(format!(
        "app \"{app}\" is in the contexts {}; give --context to say which one's engine to ask",
        names.join(" and ")
    ))
}

fn confirmed(app: &str, what: &str) -> Result<bool, CommandError> {
    eprint!("app \"{app}\": {what}? [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// Prints the engine's answers until the action is done.
async fn follow(
    events: &mut mpsc::UnboundedReceiver<EngineEvent>,
    app: &str,
    order: &Order<'_>,
) -> Result<ExitCode, CommandError> {
    let wait = async {
        while let Some(event) = events.recv().await {
            let EngineEvent::ControllerActed {
                app: name,
                progress,
            } = event
            else {
                continue;
            };
            if name != app {
                continue;
            }
            if order.json {
                let line = match &progress {
                    Ok(progress) => serde_json::to_string(progress),
                    Err(why) => serde_json::to_string(
                        &serde_json::json!({"state": "refused", "message": why}),
                    ),
                };
                println!("{}", line.unwrap_or_default());
            }
            match progress {
                Err(why) => {
                    eprintln!("{why}");
                    return ExitCode::from(2);
                }
                Ok(ActionProgress::Waiting { message }) => {
                    eprintln!("  {}", crate::text::printable(&message));
                    if !order.wait {
                        return ExitCode::SUCCESS;
                    }
                }
                Ok(ActionProgress::Done { succeeded, message }) => {
                    let message = crate::text::printable(&message).into_owned();
                    if !order.json {
                        let verdict = if succeeded { "done" } else { "FAILED" };
                        println!(
                            "app \"{app}\": {} {verdict}: {message}",
                            order.action.verb()
                        );
                    }
                    return ExitCode::from(if succeeded { 0 } else { 1 });
                }
            }
        }
        eprintln!("app \"{app}\": the engine stopped");
        ExitCode::from(2)
    };
    match tokio::time::timeout(ANSWER_DEADLINE, wait).await {
        Ok(code) => Ok(code),
        Err(_) => {
            eprintln!(
                "app \"{app}\": no answer from the engine within {}s",
                ANSWER_DEADLINE.as_secs()
            );
            Ok(ExitCode::from(1))
        }
    }
}
