//! `driftdeck rollback APP --to REV --git`: the rollback as a Git commit.
//! The commit restores the app's files (for kustomize, every folder it
//! refers to) as they were at REV; its message is edited first; it is
//! pushed, then synced by the same path as `driftdeck sync`. With `--branch`,
//! `rollback = "merge-request"`, or a branch the remote protects, it goes to
//! a new branch for a merge request and the cluster is left alone.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use super::{CommandError, load_config};
use crate::cli::{GlobalArgs, OutputFormat, RollbackArgs};
use crate::config::{AppConfig, Paths};
use crate::engine::SyncTarget;
use crate::resource::short_revision;
use crate::source::{
    RollbackMode, RollbackOutcome, SourceError, prepare_rollback, publish_rollback,
};
use crate::sync::{PinFile, pin_kept_for_review, unpinned_by_git_rollback, unsignable_rollback};

pub fn run(global: &GlobalArgs, args: &RollbackArgs) -> Result<ExitCode, CommandError> {
    let (paths, config) = load_config(global)?;
    super::refuse_when_read_only(&config, &format!("app \"{}\": rollback refused", args.app))?;
    let app = super::configured_app(&config, &args.app)?.clone();
    let terminal = std::io::stdin().is_terminal();
    if !args.flags.yes && !terminal {
        return Err(CommandError::Usage(format!(
            "app \"{}\": no terminal to confirm the rollback on; give --yes to roll back without asking",
            app.name
        )));
    }
    let mode = if args.branch {
        RollbackMode::MergeRequest
    } else {
        app.sync.rollback
    };
    // Read before anything is committed: a pins file that cannot be read
    // stops the rollback here rather than after the push.
    let pin_file = PinFile::in_data_dir(&paths);
    let pinned = pin_file.load()?.remove(&app.name).map(|pin| pin.revision);
    let _log = crate::logging::init(&paths, global.verbose).ok();
    let published = super::runtime()?.block_on(commit_and_push(&app, &paths, args, mode, terminal));
    let outcome = match published_or_exit(&app.name, published)? {
        Ok(outcome) => outcome,
        Err(code) => return Ok(code),
    };
    report(&app.name, &args.to, &outcome, args.flags.output)?;
    if outcome.merge_request.is_some() {
        // The cluster follows once the merge request is merged.
        if let Some(pinned) = &pinned {
            eprintln!(
                "app \"{}\": {}",
                app.name,
                pin_kept_for_review(&app.name, pinned)
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(pinned) = &pinned {
        // The branch now holds the rollback: it replaces the pin, and the
        // sync below (at the new head) drops the objects' pin annotation.
        if let Err(err) = pin_file.set(&app.name, None) {
            eprintln!(
                "app \"{}\": commit {} pushed, but the pin could not be removed, so it is not synced: {err}",
                app.name,
                outcome.commit.to_hex_with_len(7)
            );
            return Ok(ExitCode::from(1));
        }
        eprintln!("app \"{}\": {}", app.name, unpinned_by_git_rollback(pinned));
    }
    // The same sync as `driftdeck sync`, at the commit just pushed.
    super::sync::run_at(
        global,
        Some(&app.name),
        &args.flags,
        SyncTarget::Revision(outcome.commit.to_string()),
    )
}

/// Why the rollback stopped: before anything was written (exit 2), or
/// while publishing (exit 1).
pub(super) enum Failure {
    CouldNotRun(CommandError),
    Failed(String),
}

/// What `commit_and_push` gave, or the exit code once the reason it
/// published nothing was said: 2 for an emptied message, 1 for a failure
/// while publishing.
pub(super) fn published_or_exit(
    app: &str,
    published: Result<Option<RollbackOutcome>, Failure>,
) -> Result<Result<RollbackOutcome, ExitCode>, CommandError> {
    match published {
        Ok(Some(outcome)) => Ok(Ok(outcome)),
        Ok(None) => {
            eprintln!("app \"{app}\": not rolled back (empty message)");
            Ok(Err(ExitCode::from(2)))
        }
        Err(Failure::CouldNotRun(err)) => Err(err),
        Err(Failure::Failed(why)) => {
            eprintln!("app \"{app}\": {why}");
            Ok(Err(ExitCode::from(1)))
        }
    }
}

impl From<CommandError> for Failure {
    fn from(err: CommandError) -> Self {
        Failure::CouldNotRun(err)
    }
}

/// Fetches the branch, builds the message (edited on a terminal), makes the
/// commit and publishes it. `None`: the operator emptied the message.
pub(super) async fn commit_and_push(
    app: &AppConfig,
    paths: &Paths,
    args: &RollbackArgs,
    mode: RollbackMode,
    terminal: bool,
) -> Result<Option<RollbackOutcome>, Failure> {
    let source_error = |source: SourceError| {
        Failure::CouldNotRun(CommandError::Source {
            app: app.name.clone(),
            source: Box::new(source),
        })
    };
    let rollback_app = app.rollback_app(&paths.cache_dir);
    let prepared = prepare_rollback(&rollback_app, &args.to)
        .await
        .map_err(source_error)?;
    if let Some(why) = unsignable_rollback(&app.name, app.sync.require_signed, &prepared.signing) {
        return Err(Failure::CouldNotRun(CommandError::Usage(why)));
    }
    let default_message = prepared.default_message(&app.name);
    let message = match &args.message {
        Some(message) => message.clone(),
        None if terminal => {
            match edit_message(&default_message, &editor()).map_err(Failure::Failed)? {
                Some(message) => message,
                None => return Ok(None),
            }
        }
        None => default_message,
    };
    if message.trim().is_empty() {
        return Ok(None);
    }
    match publish_rollback(&rollback_app, prepared, message, mode).await {
        Ok(outcome) => Ok(Some(outcome)),
        Err(err @ SourceError::PushFailed { .. }) => Err(Failure::Failed(err.to_string())),
        Err(err) => Err(source_error(err)),
    }
}

/// The help under the message in the editor, as `git commit` shows it.
const EDITOR_HELP: &str = "\n# Edit the message of the rollback commit. Lines starting with '#' are\n# ignored; an empty message stops the rollback.\n";

/// `$VISUAL`, else `$EDITOR`, else `vi`, as git chooses.
fn editor() -> String {
    std::env::var("VISUAL")
        .ok()
        .filter(|e| !e.trim().is_empty())
        .or_else(|| {
            std::env::var("EDITOR")
                .ok()
                .filter(|e| !e.trim().is_empty())
        })
        .unwrap_or_else(|| "vi".to_string())
}

/// Opens `editor` on `default`, like `git commit`; the text without its `#`
/// lines, or `None` when left empty.
fn edit_message(default: &str, editor: &str) -> Result<Option<String>, String> {
    let file = tempfile::Builder::new()
        .prefix("driftdeck-rollback-")
        .suffix(".txt")
        .tempfile()
        .map_err(|e| format!("cannot create the message file: {e}"))?;
    std::fs::write(file.path(), format!("{default}{EDITOR_HELP}"))
        .map_err(|e| format!("cannot write {}: {e}", file.path().display()))?;
    // Through the shell, as git does, so that `EDITOR="code --wait"` works.
    let status = std::process::Command::new("sh")
        .args(["-c", &format!("{editor} \"$1\""), "editor"])
        .arg(file.path())
        .status()
        .map_err(|e| format!("cannot run the editor \"{editor}\": {e}"))?;
    if !status.success() {
        return Err(format!(
            "the editor \"{editor}\" failed ({status}); nothing was committed"
        ));
    }
    let text = std::fs::read_to_string(file.path())
        .map_err(|e| format!("cannot read {}: {e}", file.path().display()))?;
    Ok(strip_comments(&text))
}

/// The message without `#` lines and trailing blank lines; `None` if empty.
fn strip_comments(text: &str) -> Option<String> {
    let kept: Vec<&str> = text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(str::trim_end)
        .collect();
    let message = kept.join("\n").trim().to_string();
    (!message.is_empty()).then(|| format!("{message}\n"))
}

/// Says where the commit went; a merge request's URL on stdout.
pub(super) fn report(
    app: &str,
    to: &str,
    outcome: &RollbackOutcome,
    output: OutputFormat,
) -> Result<(), CommandError> {
    let commit = outcome.commit.to_hex_with_len(7).to_string();
    let Some(merge_request) = &outcome.merge_request else {
        eprintln!(
            "app \"{app}\": commit {commit} rolls back to {} on \"{}\"{}; syncing it…",
            short_revision(to),
            outcome.branch,
            if outcome.rebuilt {
                " (rebuilt on a newer head)"
            } else {
                ""
            }
        );
        return Ok(());
    };
    if let Some(why) = &merge_request.fell_back {
        eprintln!(
            "app \"{app}\": \"{}\" refused the commit ({why}); it went to branch \"{}\" instead",
            merge_request.target, outcome.branch
        );
    }
    let mut out = std::io::stdout().lock();
    if output == OutputFormat::Json {
        serde_json::to_writer_pretty(&mut out, outcome)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "app \"{app}\": commit {commit} pushed to branch \"{}\"; the cluster is not touched until it is merged into \"{}\"",
        outcome.branch, merge_request.target
    )?;
    match (&merge_request.url, &merge_request.no_url) {
        (Some(url), _) => writeln!(out, "open the merge request: {url}")?,
        (None, Some(why)) => writeln!(out, "no merge-request URL: {why}")?,
        (None, None) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_lines_and_trailing_blanks_are_dropped() {
        assert_eq!(
            strip_comments("Roll back api\n\nwhy  \n# help\n#more\n\n"),
            Some("Roll back api\n\nwhy\n".to_string())
        );
        assert_eq!(strip_comments("# only help\n\n"), None);
    }

    #[test]
    fn the_editor_gets_the_default_and_its_edit_is_kept() {
        // A scripted "editor" that replaces the first line.
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("editor");
        std::fs::write(
            &script,
            "#!/bin/sh\nsed -i '1s/.*/Roll back api: bad image/' \"$1\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let edited = edit_message(
            "Roll back api to abc1234\n\nCommits undone:\n- x y\n",
            script.to_str().unwrap(),
        )
        .unwrap();
        assert_eq!(
            edited.as_deref(),
            Some("Roll back api: bad image\n\nCommits undone:\n- x y\n")
        );
    }
}
