//! `driftdeck log` through the built binary, on a local path and a `git://` URL.

use std::path::Path;
use std::process::{Command, Output};

use super::support::{GitDaemon, Upstream, have};

/// Runs the binary with its folders inside `home` and the given config,
/// within the deadline of `timed`.
fn driftdeck(home: &Path, config: &str, args: &[&str]) -> Output {
    let file = home.join("config.toml");
    std::fs::write(&file, config).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_driftdeck"));
    command
        .arg("--config")
        .arg(&file)
        .args(args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("TZ", "UTC");
    super::timed::output(&mut command)
}

fn app(name: &str, repo: &str, path: &str) -> String {
    format!("[[app]]\nname = \"{name}\"\nrepo = \"{repo}\"\npath = \"{path}\"\n")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn log_lists_a_local_repository_as_a_table() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (upstream, first, second) = Upstream::new(dir.path());
    let config = app("web", upstream.work.to_str().unwrap(), "apps/web");
    let out = stdout(&driftdeck(dir.path(), &config, &["log", "web"]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with(&second[..7]), "{out}");
    assert!(lines[0].contains("unsigned"), "{out}");
    assert!(lines[0].contains("Ada Author"), "{out}");
    assert!(lines[0].ends_with("web v2"), "{out}");
    assert!(lines[1].starts_with(&first[..7]), "{out}");
}

#[test]
fn log_reads_a_git_url_as_json() {
    if !have("git", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (upstream, _, second) = Upstream::new(dir.path());
    upstream.push_commit(&[("apps/db/db.yaml", "image: db:3\n")], "db v3");
    let daemon = GitDaemon::start(&upstream.served_dir(), &dir.path().join("trace"));
    let config = app("web", &daemon.url("deploy.git"), "apps/web");
    let out = stdout(&driftdeck(
        dir.path(),
        &config,
        &["log", "web", "--path-only", "-o", "json"],
    ));
    let entries: serde_json::Value = serde_json::from_str(&out).unwrap();
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 2, "db v3 does not touch apps/web: {out}");
    let newest = &entries[0];
    assert_eq!(newest["id"], second);
    assert_eq!(newest["short_id"], &second[..7]);
    assert_eq!(newest["author"], "Ada Author");
    assert_eq!(newest["email"], "ada@example.com");
    assert_eq!(newest["subject"], "web v2");
    assert_eq!(newest["signature"]["status"], "unsigned");
    assert!(newest["time"].as_str().unwrap().ends_with('Z'), "{newest}");
    assert!(
        dir.path()
            .join("cache/driftdeck/git")
            .read_dir()
            .unwrap()
            .count()
            == 1,
        "one bare clone in the cache"
    );

    let limited = stdout(&driftdeck(
        dir.path(),
        &config,
        &["log", "web", "--limit", "1", "-o", "json"],
    ));
    let limited: serde_json::Value = serde_json::from_str(&limited).unwrap();
    assert_eq!(limited.as_array().unwrap().len(), 1);
    assert_eq!(limited[0]["subject"], "db v3");
}

#[test]
fn an_unknown_app_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = app("web", "/nowhere", ".");
    let output = driftdeck(dir.path(), &config, &["log", "payments"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("unknown app \"payments\" (not defined in "),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn an_unreachable_remote_exits_2_naming_the_app_without_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let port = super::support::free_port();
    let config = app(
        "web",
        &format!("http://deployer:hunter2@127.0.0.1:{port}/deploy.git"),
        ".",
    );
    let output = driftdeck(dir.path(), &config, &["log", "web"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with(&format!(
            "app \"web\": http://127.0.0.1:{port}/deploy.git: "
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}
