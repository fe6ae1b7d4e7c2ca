//! `driftdeck sync APP`: the engine the TUI runs, asked to plan a sync of
//! the app (at its compared revision, at `--rev`, or for `rollback` at the
//! revision it pins), then (confirmed) to run it; then the app's health is
//! followed until it is Healthy, Degraded or out of time. `sync --all` is in
//! `sync_all.rs`, on the same `Session` (`sync_session.rs`).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;

use super::sync_session::{Session, confirmed, print_plan, summarize};
use super::{CommandError, load_config};
use crate::cli::{GlobalArgs, OutputFormat, SyncArgs, SyncFlags};
use crate::config::AppConfig;
use crate::drift::Health;
use crate::engine::SyncTarget;
use crate::resource::short_revision;
use crate::source::resolve_commit;
use crate::sync::{SyncOutcome, SyncPlan, SyncStatus};
use crate::text::printable;

/// The JSON output: the plan, how the sync went, the health at the end.
#[derive(Serialize)]
pub(super) struct SyncReport<'a> {
    pub plan: &'a SyncPlan,
    pub outcome: Option<&'a SyncOutcome>,
    pub health: Option<Health>,
}

pub fn run(global: &GlobalArgs, args: &SyncArgs) -> Result<ExitCode, CommandError> {
    let target = match &args.rev {
        Some(rev) => SyncTarget::Revision(rev.clone()),
        None => SyncTarget::Compared,
    };
    run_at(global, args.app.as_deref(), &args.flags, target)
}

/// `sync APP` at `target` (a `Pin` for `rollback`), or `sync --all` with no app.
pub(super) fn run_at(
    global: &GlobalArgs,
    app: Option<&str>,
    flags: &SyncFlags,
    target: SyncTarget,
) -> Result<ExitCode, CommandError> {
    let (paths, config) = load_config(global)?;
    let who = match app {
        Some(app) => format!("app \"{app}\""),
        None => "every app".to_string(),
    };
    let what = match target {
        SyncTarget::Pin(_) => "rollback",
        _ => "sync",
    };
    super::refuse_when_read_only(&config, &format!("{who}: {what} refused"))?;
    if let Some(name) = app
        && crate::engines::is_controller_app_name(name)
    {
        if !matches!(target, SyncTarget::Compared) {
            return Err(CommandError::Usage(format!(
                "app \"{name}\": {what} at a chosen revision is for native apps; an engine app syncs to the revision its engine targets"
            )));
        }
        return super::controller::sync(global, flags, name, paths, config);
    }
    let apps: Vec<AppConfig> = match app {
        Some(name) => vec![super::configured_app(&config, name)?.clone()],
        None => config.apps.clone(),
    };
    let confirm = !flags.yes && !flags.dry_run;
    if confirm && !std::io::stdin().is_terminal() {
        return Err(CommandError::Usage(format!(
            "{who}: no terminal to confirm the {what} on; give --yes to {what} without asking"
        )));
    }
    let _log = crate::logging::init(&paths, global.verbose).ok();
    let options = super::engine_options(global, &config, false, false);
    let contexts = options.contexts.len();
    let repo_dir = apps.first().map(|a| a.source.git_dir(&paths.cache_dir));
    super::runtime()?.block_on(async {
        let mut session = Session::start(apps.clone(), paths, options);
        match repo_dir.filter(|_| app.is_some()) {
            Some(repo_dir) => {
                let one = One {
                    app: &apps[0],
                    flags,
                    target,
                    repo_dir,
                    confirm,
                };
                sync_one(&mut session, one).await
            }
            None => super::sync_all::run(&mut session, &apps, contexts, flags, confirm).await,
        }
    })
}

/// A sync of one app.
struct One<'a> {
    app: &'a AppConfig,
    flags: &'a SyncFlags,
    target: SyncTarget,
    /// The repository the engine reads the app from, to resolve revisions in.
    repo_dir: PathBuf,
    confirm: bool,
}

/// `sync APP` (or `rollback`): the plan, asked about, run, then for a
/// rollback the pin, then the app's health followed.
async fn sync_one(session: &mut Session, one: One<'_>) -> Result<ExitCode, CommandError> {
    let One {
        app,
        flags,
        mut target,
        repo_dir,
        confirm,
    } = one;
    let name = app.name.clone();
    let report = session.settled(&name).await?;
    resolve_target(&name, &repo_dir, &mut target)?;
    let rollback = matches!(target, SyncTarget::Pin(_));
    let plan = match session.plan(&name, flags.prune, &target).await? {
        Ok(plan) => plan,
        Err(refusal) => {
            eprintln!("{refusal}");
            return Ok(ExitCode::from(1));
        }
    };
    let table = flags.output == OutputFormat::Table;
    if table {
        print_plan(&mut std::io::stdout().lock(), &plan)?;
    }
    // A rollback with nothing to apply still pins.
    if plan.is_empty() && !flags.dry_run && !rollback {
        if table {
            println!("app \"{name}\": nothing to do, the cluster matches Git");
        } else {
            print_json(&plan, None, Some(report.summary.health))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let revision = short_revision(&plan.revision);
    let question = if rollback {
        format!("roll app \"{name}\" back to {revision} and pin it there?")
    } else {
        format!("sync app \"{name}\" to {revision}?")
    };
    if confirm && !confirmed(&question)? {
        let not = if rollback { "rolled back" } else { "synced" };
        eprintln!("app \"{name}\": not {not}");
        return Ok(ExitCode::from(2));
    }
    let outcome = match session.sync(&name, flags, &target, false).await {
        Ok(outcome) => outcome,
        Err(refused) => {
            eprintln!("{}", refused.message);
            return Ok(ExitCode::from(if refused.could_not_run { 2 } else { 1 }));
        }
    };
    if let Some(error) = &outcome.error {
        eprintln!("app \"{name}\": {error}");
    }
    let synced = outcome.status == SyncStatus::Succeeded;
    if synced && rollback && !flags.dry_run && !session.wait_for_pin(&name).await {
        return Ok(ExitCode::from(1));
    }
    let health = if synced && !flags.dry_run && !flags.no_wait {
        Some(session.wait_for_health(app, &plan.revision, &target).await)
    } else {
        None
    };
    if table {
        summarize(&name, &outcome, health);
    } else {
        print_json(&plan, Some(&outcome), health)?;
    }
    let healthy = health.is_none_or(|h| h == Health::Healthy);
    Ok(if synced && healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The target's revision resolved to a full commit id in the repository
/// the engine fetched; an unknown revision is an error naming it.
fn resolve_target(
    app: &str,
    repo_dir: &std::path::Path,
    target: &mut SyncTarget,
) -> Result<(), CommandError> {
    let (SyncTarget::Revision(rev) | SyncTarget::Pin(rev)) = target else {
        return Ok(());
    };
    let full = resolve_commit(repo_dir, rev).map_err(|err| {
        CommandError::Usage(format!(
            "app \"{app}\": unknown revision \"{}\": {err}",
            printable(rev)
        ))
    })?;
    *rev = full;
    Ok(())
}

fn print_json(
    plan: &SyncPlan,
    outcome: Option<&SyncOutcome>,
    health: Option<Health>,
) -> Result<(), CommandError> {
    let mut out = std::io::stdout().lock();
    let report = SyncReport {
        plan,
        outcome,
        health,
    };
    serde_json::to_writer_pretty(&mut out, &report)?;
    writeln!(out)?;
    Ok(())
}
