//! The command line, as clap definitions. `main.rs` parses it and hands over
//! to `commands`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
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
    /// Kubeconfig context for every app, instead of each app's own
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Kubeconfig file, instead of $KUBECONFIG or ~/.kube/config
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load, render and validate an app's manifests: exit 0 clean (warnings
    /// allowed), 1 errors, 2 could not run
    Check {
        /// The app's folder (or one manifest file), possibly inside a Git repository
        path: PathBuf,
        /// Check the folder at this revision of its repository instead of the files on disk
        #[arg(long, value_name = "REV")]
        rev: Option<String>,
        /// Output format
        #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Table)]
        output: OutputFormat,
    },
    /// Print every path driftdeck uses: config, themes, data, cache, log
    Paths,
    /// Print a shell completion script
    Completions {
        /// The shell to complete for
        shell: Shell,
    },
    /// Show an app's commit log, newest first, with signature status
    Log(LogArgs),
    /// Show an app's syncs from the audit log, newest first
    History(HistoryArgs),
    /// Make the cluster equal Git for an app: plan, server dry run, apply, prune
    #[command(
        long_about = "Syncs an app: plans the changes (create, update, prune) from its desired \
                      state at the head of its branch, asks the server to dry-run all of them, \
                      then applies them with server-side apply (field manager driftdeck) wave \
                      by wave, prunes what Git no longer has (with --prune or prune = true), \
                      and waits for the app to be healthy. Without --yes it shows the plan \
                      and asks, and refuses without a terminal. --all syncs every OutOfSync \
                      app, one after the other. Exit code: 0 synced (and healthy), 1 a sync \
                      failed or an app ended Degraded or not healthy in time, 2 could not run \
                      (for --all: any app could not run)."
    )]
    Sync(SyncArgs),
    /// Roll an app's cluster back to an earlier revision and pin it there
    #[command(
        long_about = "Rolls an app back: plans a sync of its desired state at REV (a commit \
                      id, short or full, a branch or a tag), shows the plan and asks as sync \
                      does, applies it with every object stamped driftdeck.dev/revision and \
                      driftdeck.dev/pinned = REV, and pins the app to REV: it is compared \
                      with REV, not its branch's head, until `driftdeck unpin APP`. Exit \
                      code: 0 rolled back and pinned (and healthy), 1 the sync failed or the \
                      app ended Degraded, 2 could not run (unknown app or revision). \
                      With --git it rolls back in Git instead: one commit on the app's branch \
                      restoring its files (for kustomize, every folder it refers to) as they \
                      were at REV, authored and signed as git is configured, pushed, then \
                      synced; with --branch (or rollback = \"merge-request\", or when the \
                      remote refuses the branch) pushed to driftdeck/rollback-APP-abc1234 with \
                      the URL of its merge request, leaving the cluster alone."
    )]
    Rollback(RollbackArgs),
    /// Remove an app's pin: it is compared with its branch's head again
    Unpin {
        /// The app, as named in the config
        app: String,
    },
    /// Ask Argo CD to compare an Argo CD app again (its refresh annotation)
    Refresh(RefreshArgs),
    /// Suspend a Flux app (spec.suspend: true): Flux stops reconciling it
    Suspend(ToggleArgs),
    /// Resume a suspended Flux app
    Resume(ToggleArgs),
    /// Sync status and health of every app, or of one
    Status(StatusArgs),
    /// The drift of an app (or between two files, offline) as a unified diff
    #[command(
        long_about = "The drift of an app: its desired state at the head of its branch compared \
                      with its live state, printed as a unified YAML diff per object. With \
                      --desired and --live, the same comparison on two files of objects \
                      (as written in Git, and as saved with kubectl get -o yaml), offline. \
                      Exit code: 0 no drift, 1 drift, 2 error."
    )]
    Diff(DiffArgs),
    /// Health of live objects saved from a cluster, offline
    Health(HealthArgs),
    /// Serve a simulated Kubernetes cluster on 127.0.0.1 until Ctrl-C
    #[command(
        long_about = "Serve a simulated Kubernetes cluster on 127.0.0.1 until Ctrl-C. \
                            It prints a kubeconfig for it (or writes one with --kubeconfig-out) \
                            that kubectl and driftdeck use as is."
    )]
    Sim(SimArgs),
    /// Try driftdeck on a made-up team's repository and cluster, with nothing to set up
    #[command(
        long_about = "Starts a demo in this process: a Git repository with a history of \
                      three apps (plain YAML, kustomize, Helm), a simulated cluster with the \
                      apps deployed a few commits behind and changed by hand, and a team \
                      that pushes a commit or changes something by hand every 20 to 40 s; \
                      then the TUI on all of it. Needs no network, kubeconfig or config \
                      file; your own config, data and logs are not touched. At exit nothing \
                      is left behind, unless --keep."
    )]
    Demo(DemoArgs),
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Write the demo's repository in DIR (empty or absent) instead of a temporary folder
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Leave the repository, a kubeconfig and the cluster's state behind at exit
    #[arg(long)]
    pub keep: bool,
    /// No background team: nothing changes unless you change it
    #[arg(long)]
    pub calm: bool,
    /// Port of the simulated cluster; 0 picks a free one
    #[arg(long, default_value_t = 0)]
    pub port: u16,
}

#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// The app, as named in the config
    pub app: String,
    /// Show at most this many commits
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Only commits that change the app's path
    #[arg(long)]
    pub path_only: bool,
    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// The app, as named in the config
    pub app: String,
    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["app", "all"])))]
pub struct SyncArgs {
    /// The app, as named in the config
    pub app: Option<String>,
    /// Every app that is OutOfSync, one after the other (one Lease each)
    #[arg(long, conflicts_with = "app")]
    pub all: bool,
    /// Sync to this revision of the app's branch (a commit id, short or
    /// full, a branch or a tag) instead of its head, once
    #[arg(long, value_name = "REV", conflicts_with = "all")]
    pub rev: Option<String>,
    #[command(flatten)]
    pub flags: SyncFlags,
}

#[derive(Debug, Clone, Args)]
pub struct RollbackArgs {
    /// The app, as named in the config
    pub app: String,
    /// The revision to roll back to: a commit id (short or full), a branch or a tag
    #[arg(long, value_name = "REV")]
    pub to: String,
    /// Roll back in Git: one commit on the app's branch restoring its files
    /// as they were at REV, pushed, then synced (no pin)
    #[arg(long)]
    pub git: bool,
    /// With --git: push the commit to a new branch for a merge request
    /// instead; the cluster is not touched
    #[arg(long, requires = "git")]
    pub branch: bool,
    /// With --git: the commit message (else an editor opens on a terminal,
    /// or the default message is used)
    #[arg(short = 'm', long, requires = "git", value_name = "TEXT")]
    pub message: Option<String>,
    #[command(flatten)]
    pub flags: SyncFlags,
}

/// How `sync` and `rollback` run.
#[derive(Debug, Clone, Args)]
pub struct SyncFlags {
    /// Delete the app's objects that Git no longer has
    #[arg(long)]
    pub prune: bool,
    /// Only the server's dry run of the whole plan; nothing is written
    #[arg(long)]
    pub dry_run: bool,
    /// Take over fields that other field managers own
    #[arg(long)]
    pub force: bool,
    /// Return once applied, without waiting for the app to be healthy
    #[arg(long)]
    pub no_wait: bool,
    /// Do not ask before syncing
    #[arg(short, long)]
    pub yes: bool,
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

#[derive(Debug, Clone, Args)]
pub struct RefreshArgs {
    /// The Argo CD app: argocd/NAME or argocd/NAMESPACE/NAME
    pub app: String,
    /// A hard refresh: Argo CD renders the manifests again too
    #[arg(long)]
    pub hard: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ToggleArgs {
    /// The Flux app: flux/NAMESPACE/NAME or helm/NAMESPACE/NAME
    pub app: String,
    /// Do not ask first
    #[arg(short, long)]
    pub yes: bool,
}

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// The app, as named in the config; every app when left out
    pub app: Option<String>,
    /// Compare with what a server-side dry-run apply gives (exact, slower)
    #[arg(long)]
    pub exact: bool,
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["app", "desired"])))]
pub struct DiffArgs {
    /// The app, as named in the config
    pub app: Option<String>,
    /// The desired objects: YAML or JSON, one or several documents
    #[arg(long, value_name = "FILE", requires = "live", conflicts_with = "app")]
    pub desired: Option<PathBuf>,
    /// The live objects, as read from a cluster
    #[arg(long, value_name = "FILE", requires = "desired")]
    pub live: Option<PathBuf>,
    /// Compare with what a server-side dry-run apply gives (exact, slower)
    #[arg(long, conflicts_with = "desired")]
    pub exact: bool,
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

#[derive(Debug, Clone, Args)]
pub struct HealthArgs {
    /// The live objects: YAML or JSON, one or several documents
    #[arg(short, long, value_name = "FILE")]
    pub file: PathBuf,
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

/// How a command prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// For people: aligned columns, or one line per finding
    #[value(alias = "text")]
    Table,
    /// JSON for programs (documented in README.md)
    Json,
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
    fn log_takes_an_app_and_its_options() {
        let cli = Cli::try_parse_from([
            "driftdeck",
            "log",
            "guestbook",
            "--limit",
            "5",
            "--path-only",
            "-o",
            "json",
        ])
        .unwrap();
        let Some(Command::Log(args)) = cli.command else {
            panic!("not a log command: {:?}", cli.command);
        };
        assert_eq!(args.app, "guestbook");
        assert_eq!(args.limit, Some(5));
        assert!(args.path_only);
        assert_eq!(args.output, OutputFormat::Json);
    }

    #[test]
    fn check_takes_a_path_a_revision_and_a_format() {
        let cli = Cli::try_parse_from([
            "driftdeck",
            "check",
            "apps/web",
            "--rev",
            "v1",
            "-o",
            "json",
        ])
        .unwrap();
        let Some(Command::Check { path, rev, output }) = cli.command else {
            panic!("not check: {:?}", cli.command);
        };
        assert_eq!(path, PathBuf::from("apps/web"));
        assert_eq!(rev.as_deref(), Some("v1"));
        assert_eq!(output, OutputFormat::Json);
        let cli = Cli::try_parse_from(["driftdeck", "check", "apps/web", "-o", "text"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Check {
                output: OutputFormat::Table,
                ..
            })
        ));
    }

    #[test]
    fn diff_needs_both_files_and_health_reads_one() {
        let cli = Cli::try_parse_from([
            "driftdeck",
            "diff",
            "--desired",
            "d.yaml",
            "--live",
            "l.yaml",
            "-o",
            "json",
        ])
        .unwrap();
        let Some(Command::Diff(args)) = cli.command else {
            panic!("not a diff: {:?}", cli.command)
        };
        assert_eq!(args.desired, Some(PathBuf::from("d.yaml")));
        assert_eq!(args.app, None);
        assert_eq!(args.output, OutputFormat::Json);
        assert!(Cli::try_parse_from(["driftdeck", "diff", "--desired", "d.yaml"]).is_err());
        assert!(
            Cli::try_parse_from(["driftdeck", "diff"]).is_err(),
            "an app or two files"
        );
        assert!(
            Cli::try_parse_from(["driftdeck", "diff", "web", "--desired", "d", "--live", "l"])
                .is_err()
        );
        let cli = Cli::try_parse_from(["driftdeck", "diff", "web", "--exact", "--context", "prod"])
            .unwrap();
        assert_eq!(cli.global.context.as_deref(), Some("prod"));
        let Some(Command::Diff(args)) = cli.command else {
            panic!("not a diff: {:?}", cli.command)
        };
        assert_eq!((args.app.as_deref(), args.exact), (Some("web"), true));
        let cli =
            Cli::try_parse_from(["driftdeck", "health", "-f", "live.yaml", "-o", "table"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Health(HealthArgs {
                output: OutputFormat::Table,
                ..
            }))
        ));
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
    fn demo_takes_its_flags() {
        let cli = Cli::try_parse_from([
            "driftdeck",
            "demo",
            "--dir",
            "/tmp/d",
            "--keep",
            "--calm",
            "--port",
            "6443",
        ])
        .unwrap();
        let Some(Command::Demo(args)) = cli.command else {
            panic!("the demo command")
        };
        assert_eq!(args.dir, Some(PathBuf::from("/tmp/d")));
        assert!(args.keep && args.calm);
        assert_eq!(args.port, 6443);
    }

    #[test]
    fn no_command_means_the_tui() {
        let cli = Cli::try_parse_from(["driftdeck"]).unwrap();
        assert!(cli.command.is_none());
    }
}
