//! `driftdeck demo`: a Git repository with a believable history, the
//! simulated cluster with the apps deployed behind it and changed by hand,
//! and a background team, all in this process and a temporary folder.
//! The story is data (`scenario.rs`, `manifests.rs`, pure); `repo.rs`,
//! `cluster.rs` and `team.rs` carry it out.

mod cluster;
pub mod manifests;
mod repo;
pub mod scenario;
mod team;

use std::path::{Path, PathBuf};

use tokio::task::JoinHandle;

use crate::config::{Config, ConfigError, Paths};
use cluster::DemoCluster;
use manifests::Tools;
use repo::DemoRepo;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{}: the demo's repository must go in an empty folder", .0.display())]
    NotEmpty(PathBuf),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot run {tool}: {message}")]
    Tool { tool: &'static str, message: String },
    #[error("{}: git {command} failed: {message}", dir.display())]
    Git {
        dir: PathBuf,
        command: String,
        message: String,
    },
    #[error(transparent)]
    Sim(#[from] crate::simcluster::SimError),
    #[error("the demo's cluster: {0}")]
    Cluster(String),
    #[error("cannot deploy the demo's apps: {0}")]
    Deploy(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// How the demo runs (the command line's flags).
#[derive(Debug, Clone, Default)]
pub struct DemoOptions {
    /// The repository goes here instead of the temporary folder.
    pub dir: Option<PathBuf>,
    /// Leave the folder (and the repository) behind at exit.
    pub keep: bool,
    /// No background team.
    pub calm: bool,
    /// The cluster's port; 0 picks a free one.
    pub port: u16,
}

/// A running demo: its folder, repository, cluster and team.
pub struct Demo {
    /// Removed when dropped, unless kept.
    folder: tempfile::TempDir,
    pub repo_dir: PathBuf,
    pub kubeconfig: PathBuf,
    /// The config, made in memory: one app per demo app.
    pub config: Config,
    /// driftdeck's files, all inside the folder.
    pub paths: Paths,
    /// One line for each thing missing on this machine (helm, ssh-keygen…).
    pub notes: Vec<String>,
    cluster: DemoCluster,
    team: Option<JoinHandle<()>>,
}

impl Demo {
    /// Writes the repository, starts the cluster, deploys the apps behind
    /// the head and changes some by hand, and starts the team unless calm.
    pub async fn start(options: &DemoOptions) -> Result<Demo, DemoError> {
        let folder = tempfile::Builder::new()
            .prefix("driftdeck-demo-")
            .tempdir()
            .map_err(|source| DemoError::Io {
                path: std::env::temp_dir(),
                source,
            })?;
        let root = folder.path().to_path_buf();
        let tools = Tools {
            helm: crate::manifests::find_on_path("helm").is_some(),
            kustomize: crate::manifests::find_on_path("kustomize").is_some()
                || crate::manifests::find_on_path("kubectl").is_some(),
        };
        let repo_dir = options.dir.clone().unwrap_or_else(|| root.join("deploy"));
        let kubeconfig = root.join("kubeconfig");
        // The cluster starts while Git writes the history.
        let (cluster, written) = tokio::join!(
            DemoCluster::start(options.port, &kubeconfig),
            write_history(repo_dir.clone(), root.join("keys"), tools)
        );
        let mut cluster = cluster?;
        let (repo, script, ids) = written?;
        let mut notes = Vec::new();
        if !tools.helm {
            notes.push("helm is not on PATH: payments is plain YAML instead of a chart".into());
        }
        if !tools.kustomize {
            notes.push(
                "neither kustomize nor kubectl is on PATH: api is plain YAML instead of a kustomization"
                    .into(),
            );
        }
        if !repo.signs() {
            notes.push("ssh-keygen is not on PATH: the demo's commits are not signed".into());
        }
        // Written too, so that with --keep `driftdeck --config` works on
        // the demo from another terminal.
        let config_file = root.join("config.toml");
        let text = config_text(&repo_dir);
        std::fs::write(&config_file, &text).map_err(|source| DemoError::Io {
            path: config_file.clone(),
            source,
        })?;
        let config = Config::parse(&config_file, &text)?;
        let paths = paths_in(&root);

        let operator = crate::sync::Operator::current(Some(&kubeconfig), None);
        let audit = crate::sync::AuditLog::in_data_dir(&paths);
        let renders: Vec<_> = std::thread::scope(|scope| {
            let threads: Vec<_> = config
                .apps
                .iter()
                .map(|app| {
                    let revision = &ids[scenario::deployed_at(&app.name, ids.len())];
                    let repo_dir = &repo_dir;
                    scope.spawn(move || {
                        crate::engine::render_app(app, repo_dir, revision)
                            .map(|checked| (app, revision, checked))
                    })
                })
                .collect();
            threads
                .into_iter()
                .map(|t| {
                    t.join()
                        .unwrap_or_else(|_| Err("rendering panicked".into()))
                })
                .collect()
        });
        for render in renders {
            let (app, revision, checked) = render.map_err(DemoError::Deploy)?;
            cluster
                .deploy(app, revision, &checked, &operator, &audit)
                .await?;
        }
        let hands = cluster.hands();
        for edit in scenario::hand_edits() {
            hands.edit(&edit).await?;
        }
        let team = (!options.calm).then(|| {
            let head = script.last().cloned();
            head.map(|head| team::start(repo.clone(), hands, &head, team::pause_secs()))
        });
        Ok(Demo {
            folder,
            repo_dir,
            kubeconfig,
            config,
            paths,
            notes,
            cluster,
            team: team.flatten(),
        })
    }

    /// The temporary folder holding everything the demo made.
    pub fn folder(&self) -> &Path {
        self.folder.path()
    }

    pub fn port(&self) -> u16 {
        self.cluster.sim.address().port()
    }

    /// Stops the team and the cluster. Unless `keep`, the folder goes too;
    /// kept, the cluster's objects are saved in it first and the file's
    /// path returned, so `driftdeck sim --state` can serve them again.
    pub async fn stop(self, keep: bool) -> Result<Option<PathBuf>, DemoError> {
        if let Some(team) = self.team {
            team.abort();
            let _ = team.await;
        }
        let state = keep.then(|| self.folder.path().join("cluster-state.json"));
        if let Some(state) = &state {
            self.cluster.sim.save_state(state)?;
        }
        self.cluster.sim.shutdown().await?;
        if keep {
            // Kept on purpose: the folder outlives the process.
            let _ = self.folder.keep();
        } else {
            let path = self.folder.path().to_path_buf();
            self.folder
                .close()
                .map_err(|source| DemoError::Io { path, source })?;
        }
        Ok(state)
    }
}

/// Writes the scripted history: the repository, the script and its ids.
async fn write_history(
    repo_dir: PathBuf,
    keys_dir: PathBuf,
    tools: Tools,
) -> Result<(DemoRepo, Vec<scenario::Commit>, Vec<String>), DemoError> {
    let written = tokio::task::spawn_blocking(move || {
        let repo = DemoRepo::create(&repo_dir, &keys_dir, tools)?;
        let script = scenario::script(tools);
        let ids = repo.write_script(&script)?;
        Ok((repo, script, ids))
    })
    .await;
    written.unwrap_or_else(|e| Err(DemoError::Cluster(format!("writing the history: {e}"))))
}

/// driftdeck's folders, all inside the demo's: the user's own config, data
/// and logs are not touched.
fn paths_in(root: &Path) -> Paths {
    Paths {
        config_file: root.join("config.toml"),
        config_given: false,
        themes_dir: root.join("themes"),
        data_dir: root.join("data"),
        cache_dir: root.join("cache"),
        log_dir: root.join("state"),
    }
}

/// The config the demo runs with, as a user would write it: polled every
/// two seconds so the team's commits show quickly. Pure.
pub fn config_text(repo_dir: &Path) -> String {
    let repo = toml_string(&repo_dir.to_string_lossy());
    let apps = [
        ("shop", manifests::SHOP_PATH),
        ("api", manifests::API_PATH),
        ("payments", manifests::PAYMENTS_PATH),
    ];
    apps.iter()
        .map(|(name, path)| {
            format!(
                "[[app]]\nname = \"{name}\"\nrepo = {repo}\npath = \"{path}\"\nnamespace = \"{name}\"\npoll = \"2s\"\n"
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A TOML literal string, or a basic one when the text holds a quote.
fn toml_string(text: &str) -> String {
    if text.contains('\'') || text.contains('\n') {
        format!("{:?}", text)
    } else {
        format!("'{text}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_names_every_app_at_its_folder() {
        let text = config_text(Path::new("/tmp/it's here/deploy"));
        let config = Config::parse(Path::new("demo.toml"), &text).unwrap();
        let names: Vec<&str> = config.apps.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, scenario::APPS);
        assert_eq!(config.apps[0].repo, "/tmp/it's here/deploy");
        assert_eq!(config.apps[1].path, "apps/api");
        assert_eq!(config.apps[2].namespace, "payments");
    }
}
