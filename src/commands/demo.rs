//! `driftdeck demo`: the demo's repository, cluster and team (`crate::demo`)
//! started on a runtime of their own, the TUI on them, then everything
//! stopped and removed (unless `--keep`).

use std::process::ExitCode;

use super::CommandError;
use crate::cli::{DemoArgs, GlobalArgs};
use crate::demo::{Demo, DemoOptions};

pub fn run(global: &GlobalArgs, args: &DemoArgs) -> Result<ExitCode, CommandError> {
    let options = DemoOptions {
        dir: args.dir.clone(),
        keep: args.keep,
        calm: args.calm,
        port: args.port,
    };
    // The cluster and the team run on their own worker while the TUI's
    // runtime runs the engine: neither waits for the other.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("demo")
        .enable_all()
        .build()
        .map_err(CommandError::Runtime)?;
    let demo = runtime.block_on(Demo::start(&options))?;
    if !args.keep {
        remove_on_panic(demo.folder().to_path_buf());
    }
    if args.keep {
        eprintln!(
            "driftdeck demo: repository {}, config {}, kubeconfig {} (kept after exit)",
            demo.repo_dir.display(),
            demo.paths.config_file.display(),
            demo.kubeconfig.display()
        );
    }
    // The user's config, kubeconfig and context play no part.
    let global = GlobalArgs {
        config: None,
        kubeconfig: Some(demo.kubeconfig.clone()),
        context: None,
        ..global.clone()
    };
    let mut config = demo.config.clone();
    if let Some(theme) = &global.theme {
        config.ui.theme = Some(theme.clone());
    }
    config.ui.readonly = global.readonly;
    let leave = if args.keep {
        format!("q quits; kept after it: {}", demo.folder().display())
    } else {
        "q quits and removes it all".to_string()
    };
    let mut banner =
        format!("driftdeck demo: a made-up repository and a simulated cluster · {leave}");
    for note in &demo.notes {
        banner.push_str(" · ");
        banner.push_str(note);
    }
    let shown = super::tui::start(&global, demo.paths.clone(), config, Some(banner));
    let (repo_dir, kubeconfig, port) =
        (demo.repo_dir.clone(), demo.kubeconfig.clone(), demo.port());
    let stopped = runtime.block_on(demo.stop(args.keep));
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    let code = shown?;
    if let Some(state) = stopped? {
        eprintln!(
            "driftdeck demo: kept the repository {} and the kubeconfig {}; the cluster's objects are in {}: \
             `driftdeck sim --port {port} --state {}` serves them again for that kubeconfig",
            repo_dir.display(),
            kubeconfig.display(),
            state.display(),
            state.display(),
        );
    }
    Ok(code)
}

/// A panic ends the process from the panic hook (see `main.rs`), before
/// `Demo::stop` can run: the hook removes the demo's folder first. This
/// happens when the terminal goes away (the tmux server or the terminal
/// window closed) and writing to it fails.
fn remove_on_panic(folder: std::path::PathBuf) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = std::fs::remove_dir_all(&folder);
        previous(info);
    }));
}
