//! `driftdeck rollback argocd/NAME --to REV --git` (and `flux/NS/NAME`):
//! the Git rollback of an engine app. Its source is derived from its object
//! as driftdeck's own comparison derives it (`engines::source`), the same
//! revert commit as a native app's is pushed to it, and the engine is asked
//! to converge on it (Argo CD: a refresh; Flux: a reconcile request).
//! driftdeck writes no object of the app: both engines then follow Git.

use std::process::ExitCode;

use super::rollback_git::{commit_and_push, published_or_exit, report};
use super::{CommandError, load_config};
use crate::cli::{GlobalArgs, RollbackArgs};
use crate::cluster::{ClusterClient, KindCatalog, get};
use crate::config::{AppConfig, Config};
use crate::engines::{
    ActionKind, ControllerApp, ControllerKind, Engine, engine_source, native_config,
    object_of_name, source_key,
};
use crate::resource::{ResourceKey, short_revision};
use crate::source::RollbackMode;

/// Refuses a rollback of an engine app that is not a Git rollback.
pub(super) fn not_git(app: &str) -> CommandError {
    let tui = if app.starts_with("argocd/") {
        " (or, for Argo CD, `R` on a history entry in the TUI)"
    } else {
        ""
    };
    CommandError::Usage(format!(
        "app \"{app}\": rollback of an Argo CD or Flux app is a Git rollback: give --git{tui}"
    ))
}

pub(super) fn run(global: &GlobalArgs, args: &RollbackArgs) -> Result<ExitCode, CommandError> {
    let (paths, config) = load_config(global)?;
    super::refuse_when_read_only(&config, &format!("app \"{}\": rollback refused", args.app))?;
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stdin());
    if !args.flags.yes && !terminal {
        return Err(CommandError::Usage(format!(
            "app \"{}\": no terminal to confirm the rollback on; give --yes to roll back without asking",
            args.app
        )));
    }
    let _log = crate::logging::init(&paths, global.verbose).ok();
    let runtime = super::runtime()?;
    let (app, engine) = runtime.block_on(derive_config(global, &config, &args.app))?;
    let mode = if args.branch {
        RollbackMode::MergeRequest
    } else {
        RollbackMode::OnBranch
    };
    let published = runtime.block_on(commit_and_push(&app, &paths, args, mode, terminal));
    let outcome = match published_or_exit(&app.name, published)? {
        Ok(outcome) => outcome,
        Err(code) => return Ok(code),
    };
    drop(runtime);
    if outcome.merge_request.is_some() {
        // The engine follows once the merge request is merged.
        report(&app.name, &args.to, &outcome, args.flags.output)?;
        return Ok(ExitCode::SUCCESS);
    }
    let (action, applies) = match engine {
        Engine::Argocd => (ActionKind::Refresh { hard: false }, "Argo CD applies it"),
        Engine::Flux => (ActionKind::Sync { prune: false }, "Flux applies it"),
    };
    println!(
        "app \"{}\": commit {} rolls back {} to {} on \"{}\" of {}; {applies} as it is configured to (driftdeck writes none of its objects)",
        app.name,
        outcome.commit.to_hex_with_len(7),
        app.path,
        short_revision(&args.to),
        outcome.branch,
        app.repo,
    );
    super::controller::converge(global, paths, config, &app.name, action)
}

/// The native config of the engine app's source, read from its object
/// (and, for a Kustomization, its GitRepository) in the context that has
/// it; or why it cannot be derived.
async fn derive_config(
    global: &GlobalArgs,
    config: &Config,
    app: &str,
) -> Result<(AppConfig, Engine), CommandError> {
    let unknown = |reason: String| CommandError::Unknown {
        app: app.to_string(),
        reason,
    };
    let (kind, namespace, name) = object_of_name(app, &config.engines)
        .ok_or_else(|| unknown("not an Argo CD Application or Flux Kustomization name".into()))?;
    if kind == ControllerKind::FluxHelmRelease {
        return Err(CommandError::Usage(format!(
            "app \"{app}\": cannot roll back in Git: a HelmRelease's chart is not a Git folder driftdeck can restore"
        )));
    }
    let key = ResourceKey {
        group: kind.group().to_string(),
        kind: kind.kind().to_string(),
        namespace: Some(namespace),
        name,
    };
    let mut found = Vec::new();
    for context in super::read_contexts(global, config) {
        let client = ClusterClient::connect(global.kubeconfig.as_deref(), context.as_deref())
            .await
            .map_err(|e| unknown(e.to_string()))?;
        let catalog = KindCatalog::discover(&client)
            .await
            .map_err(|e| unknown(e.to_string()))?;
        if let Some(object) = read(&client, &catalog, &key).await.map_err(unknown)? {
            found.push((context, client, catalog, object));
        }
    }
    let (context, client, catalog, object) = match found.len() {
        0 => return Err(unknown("no such object in the contexts read".to_string())),
        1 => found.remove(0),
        _ => {
            let contexts: Vec<_> = found.into_iter().map(|(c, ..)| c).collect();
            return Err(super::controller::in_several_contexts(app, &contexts));
        }
    };
    let controller = ControllerApp::of(&object, &config.engines)
        .ok_or_else(|| unknown("its engine is off in [engines]".to_string()))?;
    // A Kustomization's repository is in its GitRepository.
    let repository = match source_key(&controller) {
        Some(source) if kind == ControllerKind::FluxKustomization => {
            read(&client, &catalog, &source).await.map_err(unknown)?
        }
        _ => None,
    };
    let cannot =
        |why: String| CommandError::Usage(format!("app \"{app}\": cannot roll back in Git: {why}"));
    let source = engine_source(&controller, &object, |_| repository.clone()).map_err(cannot)?;
    let native = native_config(app, &source, &config.engines.sources, context).map_err(cannot)?;
    Ok((native, kind.engine()))
}

/// The object, `None` when it or its kind is not there.
async fn read(
    client: &ClusterClient,
    catalog: &KindCatalog,
    key: &ResourceKey,
) -> Result<Option<serde_json::Value>, String> {
    let Some(kind) = catalog.preferred(&key.group, &key.kind) else {
        return Ok(None);
    };
    get(client, kind, key).await.map_err(|e| e.to_string())
}
