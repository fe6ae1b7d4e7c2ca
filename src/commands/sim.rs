//! `driftdeck sim`: serve the simulated cluster until Ctrl-C (or SIGTERM),
//! with its kubeconfig printed or written to a file, and its state loaded
//! and saved when `--state` is given.

use std::process::ExitCode;

use super::CommandError;
use crate::cli::SimArgs;
use crate::simcluster::{SimCluster, SimOptions};

pub fn run(args: &SimArgs) -> Result<ExitCode, CommandError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CommandError::Runtime)?;
    runtime.block_on(serve(args))
}

async fn serve(args: &SimArgs) -> Result<ExitCode, CommandError> {
    let options = SimOptions {
        port: args.port,
        controllers: !args.no_controllers,
        rollout_time: args.rollout_time,
        state_file: args.state.clone(),
        ..SimOptions::default()
    };
    let cluster = SimCluster::start(options).await?;
    match &args.kubeconfig_out {
        Some(path) => {
            cluster.write_kubeconfig(path)?;
            eprintln!(
                "simulated cluster at {}; kubeconfig written to {}; Ctrl-C stops it",
                cluster.url(),
                path.display()
            );
        }
        None => {
            // Written, not `print!`ed: `print!` panics when the reader is gone.
            std::io::Write::write_all(
                &mut std::io::stdout().lock(),
                cluster.kubeconfig_yaml().as_bytes(),
            )?;
            eprintln!("simulated cluster at {}; Ctrl-C stops it", cluster.url());
        }
    }
    tokio::select! {
        () = stopped() => {}
        // It could not listen again after an offline period: the error
        // comes from shutdown, after the state is saved.
        () = cluster.serving_ended() => {}
    }
    cluster.shutdown().await?;
    if let Some(path) = &args.state {
        eprintln!("state saved to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Waits for Ctrl-C or SIGTERM.
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
