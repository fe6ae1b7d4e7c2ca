//! The command line, as clap definitions. `main.rs` parses it and hands over
//! to `commands`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use clap_complete::Shell;

#[derive(Debug, Parser)]
#[command(
    name = "driftdeck",
    version,
    about = "A terminal dashboard for GitOps: does every cluster match Git?",
    long_about = "A terminal dashboard for GitOps. Without a command it starts the TUI: \
                  every app's sync status and health, the drift as a diff, the commit log \
                  with the deployed commit marked."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Config file to use instead of the default one
    #[arg(long, global = true, value_name = "FILE", env = "DRIFTDECK_CONFIG")]
    pub config: Option<PathBuf>,
    /// Hide every action that writes to a cluster or a repository
    #[arg(long, global = true)]
    pub readonly: bool,
    /// Theme to use (a built-in one or a file in the config folder's themes/)
    #[arg(long, global = true, value_name = "NAME")]
    pub theme: Option<String>,
    /// More detail in the log file: -v debug, -vv trace
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print every path driftdeck uses: config, themes, data, cache, log
    Paths,
    /// Print a shell completion script
    Completions {
        /// The shell to complete for
        shell: Shell,
    },
    /// Serve a simulated Kubernetes cluster on 127.0.0.1 until Ctrl-C
    #[command(
        long_about = "Serve a simulated Kubernetes cluster on 127.0.0.1 until Ctrl-C. \
                            It prints a kubeconfig for it (or writes one with --kubeconfig-out) \
                            that kubectl and driftdeck use as is."
    )]
    Sim(SimArgs),
}

#[derive(Debug, Clone, Args)]
pub struct SimArgs {
    /// Port to listen on; 0 picks a free one
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Write the kubeconfig to FILE instead of printing it
    #[arg(long, value_name = "FILE")]
    pub kubeconfig_out: Option<PathBuf>,
    /// Load the cluster's objects from FILE at start and save them there at exit
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Do not run the simulated controllers (rollouts, load balancers, claims, jobs)
    #[arg(long)]
    pub no_controllers: bool,
    /// How long a simulated rollout takes to become ready
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub rollout_time: std::time::Duration,
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    crate::config::HumanDuration::parse(text).map(|d| d.0)
}

impl Cli {
    pub fn command() -> clap::Command {
        <Cli as clap::CommandFactory>::command()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_work_after_the_command() {
        let cli = Cli::try_parse_from([
            "driftdeck",
            "paths",
            "--readonly",
            "-vv",
            "--theme",
            "light",
        ])
        .unwrap();
        assert!(cli.global.readonly);
        assert_eq!(cli.global.verbose, 2);
        assert_eq!(cli.global.theme.as_deref(), Some("light"));
        assert!(matches!(cli.command, Some(Command::Paths)));
    }

    #[test]
    fn sim_reads_its_rollout_time_as_a_duration() {
        let cli = Cli::try_parse_from([
            "driftdeck",
            "sim",
            "--rollout-time",
            "1m30s",
            "--port",
            "6443",
        ])
        .unwrap();
        let Some(Command::Sim(args)) = cli.command else {
            panic!("the sim command")
        };
        assert_eq!(args.rollout_time, std::time::Duration::from_secs(90));
        assert_eq!(args.port, 6443);
        assert!(Cli::try_parse_from(["driftdeck", "sim", "--rollout-time", "soon"]).is_err());
    }

    #[test]
    fn no_command_means_the_tui() {
        let cli = Cli::try_parse_from(["driftdeck"]).unwrap();
        assert!(cli.command.is_none());
    }
}
