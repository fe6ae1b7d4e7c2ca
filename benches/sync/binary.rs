//! The syncs of `benches/sync.rs` through the built binary, as a user runs
//! them: a Git repository holding the apps, a config and a kubeconfig, and
//! `driftdeck sync … --yes --no-wait` as a process against the simulated
//! cluster (the server `driftdeck sim` serves, here in the bench's process
//! so that its request counts can be read).
//!
//! - binary-new: 1,000 new objects, wall time beside `kubectl apply
//!   --server-side -f` of the same files (goal: ratio ≤ 0.5);
//! - binary-synced: the same app once Synced: write requests (goal 0) and
//!   the wall time of `sync` beyond that of `status` (the comparison alone;
//!   goal < 50 ms);
//! - all: `sync --all` of 10 apps × 1,000 objects: wall time and peak RSS.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{
    APP, NAMESPACE, ROUNDS, files, fresh_cluster_with, kubectl_median, median, objects_in,
};

#[path = "../../tests/common/git.rs"]
mod common_git;
#[path = "../../tests/common/memory.rs"]
mod memory;
use memory::memory_kib;

const APPS: usize = 10;

/// A repository of apps (name, namespace), the config naming them, and a
/// home for each run.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(apps: &[(String, String)]) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(&repo).unwrap();
        common_git::git(&repo, &["init", "-q", "-b", "main"]);
        let mut config = String::new();
        for (app, namespace) in apps {
            let folder = repo.join("apps").join(app);
            std::fs::create_dir_all(&folder).unwrap();
            for (name, bytes) in files(&objects_in(namespace)) {
                std::fs::write(folder.join(name), bytes).unwrap();
            }
            config.push_str(&format!(
                "[[app]]\nname = \"{app}\"\nrepo = \"{}\"\nbranch = \"main\"\npath = \"apps/{app}\"\nnamespace = \"{namespace}\"\n\n",
                repo.display()
            ));
        }
        common_git::git(&repo, &["add", "-A"]);
        common_git::git(&repo, &["commit", "-qm", "the apps"]);
        std::fs::write(dir.path().join("config.toml"), config).unwrap();
        Setup { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// How a run of the binary went.
struct Run {
    wall: Duration,
    /// Peak resident memory (VmHWM), in KiB, as last read before it exited.
    peak_kib: u64,
    code: Option<i32>,
    stderr: String,
}

/// The built binary with `args`, against the cluster of `kubeconfig`, in a
/// home of its own (`home` names it: a fresh one is a first run).
async fn driftdeck(setup: &Setup, kubeconfig: &Path, home: &str, args: &[&str]) -> Run {
    let home = setup.path(home);
    let started = Instant::now();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_driftdeck"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("KUBECONFIG", kubeconfig)
        .env("DRIFTDECK_CONFIG", setup.path("config.toml"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let read_stderr = tokio::spawn(async move {
        let mut text = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut text)
            .await
            .ok();
        text
    });
    let mut peak_kib = 0;
    let status = loop {
        tokio::select! {
            status = child.wait() => break status.unwrap(),
            () = tokio::time::sleep(Duration::from_millis(5)) => {
                peak_kib = peak_kib.max(memory_kib(pid, "VmHWM:"));
            }
        }
    };
    let wall = started.elapsed();
    Run {
        wall,
        peak_kib,
        code: status.code(),
        stderr: read_stderr.await.unwrap(),
    }
}

fn one_app() -> Vec<(String, String)> {
    vec![(APP.to_string(), NAMESPACE.to_string())]
}

fn writes(sim: &driftdeck::simcluster::SimCluster) -> u64 {
    let metrics = sim.metrics().snapshot();
    ["create", "update", "patch", "delete", "deletecollection"]
        .iter()
        .map(|verb| metrics.count_verb(verb))
        .sum()
}

pub async fn new_objects() {
    let setup = Setup::new(&one_app());
    let mut times = Vec::new();
    for round in 0..ROUNDS {
        let sim = fresh_cluster_with(&[NAMESPACE.to_string()]).await;
        let kubeconfig = setup.path(&format!("kubeconfig-{round}"));
        sim.write_kubeconfig(&kubeconfig).unwrap();
        let run = driftdeck(
            &setup,
            &kubeconfig,
            &format!("home-{round}"),
            &["sync", APP, "--yes", "--no-wait"],
        )
        .await;
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        times.push(run.wall);
        sim.shutdown().await.unwrap();
    }
    let driftdeck_time = median(times);
    let manifests = setup.path("repo/apps").join(APP);
    match kubectl_median(setup.dir.path(), &manifests).await {
        Some(kubectl_time) => println!(
            "binary-new: `driftdeck sync {APP} --yes --no-wait` of 1000 new objects {driftdeck_time:.1?} vs `kubectl apply --server-side -f` {kubectl_time:.1?}: ratio {:.2} (goal <= 0.5, median of {ROUNDS}, first run: Git cloned into an empty cache)",
            driftdeck_time.as_secs_f64() / kubectl_time.as_secs_f64()
        ),
        None => println!(
            "binary-new: `driftdeck sync` of 1000 new objects {driftdeck_time:.1?}; kubectl skipped: not installed (run ../shared/tools/kube-tools)"
        ),
    }
}

pub async fn synced() {
    let setup = Setup::new(&one_app());
    let sim = fresh_cluster_with(&[NAMESPACE.to_string()]).await;
    let kubeconfig = setup.path("kubeconfig");
    sim.write_kubeconfig(&kubeconfig).unwrap();
    let first = driftdeck(
        &setup,
        &kubeconfig,
        "home",
        &["sync", APP, "--yes", "--no-wait"],
    )
    .await;
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let mut sync_times = Vec::new();
    let mut status_times = Vec::new();
    let mut write_count = 0;
    for _ in 0..ROUNDS {
        let status = driftdeck(&setup, &kubeconfig, "home", &["status", APP, "-o", "json"]).await;
        assert_eq!(status.code, Some(0), "Synced: {}", status.stderr);
        status_times.push(status.wall);
        sim.metrics().reset();
        let sync = driftdeck(
            &setup,
            &kubeconfig,
            "home",
            &["sync", APP, "--yes", "--no-wait"],
        )
        .await;
        assert_eq!(sync.code, Some(0), "{}", sync.stderr);
        write_count += writes(&sim);
        sync_times.push(sync.wall);
    }
    let (sync_time, status_time) = (median(sync_times), median(status_times));
    let beyond = sync_time.saturating_sub(status_time);
    println!(
        "binary-synced: `driftdeck sync {APP} --yes` of a Synced app of 1000 objects: {write_count} write requests in {ROUNDS} runs (goal 0); {sync_time:.1?} against `driftdeck status` {status_time:.1?}: {beyond:.1?} beyond the comparison (goal < 50 ms, medians of {ROUNDS})"
    );
    sim.shutdown().await.unwrap();
}

pub async fn all_apps() {
    let apps: Vec<(String, String)> = (0..APPS)
        .map(|i| (format!("team-{i}"), format!("team-{i}")))
        .collect();
    let setup = Setup::new(&apps);
    let namespaces: Vec<String> = apps.iter().map(|(_, ns)| ns.clone()).collect();
    let sim = fresh_cluster_with(&namespaces).await;
    let kubeconfig = setup.path("kubeconfig");
    sim.write_kubeconfig(&kubeconfig).unwrap();
    let run = driftdeck(
        &setup,
        &kubeconfig,
        "home",
        &["sync", "--all", "--yes", "--no-wait"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    println!(
        "all: `driftdeck sync --all --yes --no-wait` of {APPS} apps x 1000 new objects: {:.1?} wall, {} MiB peak RSS ({} writes: dry runs and applies)",
        run.wall,
        run.peak_kib / 1024,
        writes(&sim)
    );
    sim.shutdown().await.unwrap();
}
