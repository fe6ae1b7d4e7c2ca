//! The built binary's command line: config errors, paths, completions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

use crate::timed;

/// The binary with a private home, so no real config or state is touched.
fn driftdeck(home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_driftdeck"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_STATE_HOME", home.join("state"))
        .current_dir(home);
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs the binary to its end, failing the test if it hangs.
fn run(command: &mut Command) -> Output {
    timed::output(command)
}

#[test]
fn bad_config_prints_file_line_and_exits_2() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("bad.toml");
    std::fs::write(
        &config,
        "[ui]\ntheme = \"light\"\n\n[[app]]\nname = \"web\"\nrepo = \".\"\nprun = true\n",
    )
    .unwrap();
    let out = run(driftdeck(home.path()).arg("--config").arg(&config));
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    let expected = format!(
        "{}:7:1: unknown field \"prun\", expected one of",
        config.display()
    );
    assert!(stderr.starts_with(&expected), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout (no TUI started): {}",
        text(&out.stdout)
    );
}

#[test]
fn a_repo_url_git_cannot_use_is_a_config_error_before_anything_runs() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("bad.toml");
    std::fs::write(
        &config,
        "[[app]]\nname = \"web\"\nrepo = \"ext::sh -c evil\"\n",
    )
    .unwrap();
    let out = run(driftdeck(home.path())
        .arg("--config")
        .arg(&config)
        .args(["log", "web"]));
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    let expected = format!(
        "{}:3:8: app \"web\": repository \"ext::sh -c evil\": only https://",
        config.display()
    );
    assert!(stderr.starts_with(&expected), "stderr: {stderr}");
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
}

#[test]
fn bad_config_from_the_environment_is_reported_the_same_way() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("env.toml");
    std::fs::write(
        &config,
        "[[app]]\nname = \"web\"\nrepo = \".\"\npoll = \"often\"\n",
    )
    .unwrap();
    let out = run(driftdeck(home.path())
        .env("DRIFTDECK_CONFIG", &config)
        .arg("paths")
        .arg("--readonly"));
    // `paths` does not read the config; a command that does must fail.
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = run(driftdeck(home.path()).env("DRIFTDECK_CONFIG", &config));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).starts_with(&format!(
        "{}:4:8: invalid duration \"often\"",
        config.display()
    )));
}

#[test]
fn a_named_config_file_that_does_not_exist_is_an_error() {
    let home = tempfile::tempdir().unwrap();
    let out = run(driftdeck(home.path()).args(["--config", "missing.toml"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with("missing.toml: cannot read the config file"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn paths_honours_driftdeck_config() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("elsewhere/my.toml");
    let out = run(driftdeck(home.path())
        .env("DRIFTDECK_CONFIG", &config)
        .arg("paths"));
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    let line = |what: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(what).map(|rest| rest.trim().to_string()))
            .unwrap_or_else(|| panic!("no {what} line in {stdout}"))
    };
    assert_eq!(line("config"), config.display().to_string());
    assert_eq!(
        line("themes"),
        home.path().join("elsewhere/themes").display().to_string()
    );
    assert_eq!(
        line("data"),
        home.path().join("data/driftdeck").display().to_string()
    );
    assert_eq!(
        line("cache"),
        home.path().join("cache/driftdeck").display().to_string()
    );
    let log = line("log");
    assert!(
        log.starts_with(
            &home
                .path()
                .join("state/driftdeck/driftdeck.")
                .display()
                .to_string()
        ),
        "{log}"
    );
    assert!(log.ends_with(".log"), "{log}");
}

#[test]
fn paths_default_to_the_xdg_folders() {
    let home = tempfile::tempdir().unwrap();
    let out = run(driftdeck(home.path()).arg("paths"));
    let stdout = text(&out.stdout);
    let expected = home
        .path()
        .join("config/driftdeck/config.toml")
        .display()
        .to_string();
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("config") && l.ends_with(&expected)),
        "{stdout}"
    );
}

#[test]
fn completions_are_printed_for_each_shell() {
    let home = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = run(driftdeck(home.path()).args(["completions", shell]));
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = text(&out.stdout);
        assert!(
            script.contains("driftdeck") && script.contains("paths"),
            "{shell}: {script}"
        );
    }
    let out = run(driftdeck(home.path()).args(["completions", "tcsh"]));
    assert_eq!(out.status.code(), Some(2), "clap rejects an unknown shell");
}

/// The README's first code block holds the two set-up commands: the demo
/// and the test command, which must be the line `.ci/run` runs.
#[test]
fn the_readme_test_command_is_the_one_ci_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let ci = std::fs::read_to_string(root.join(".ci/run")).unwrap();
    let first_block: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("```"))
        .skip(1)
        .take_while(|l| !l.starts_with("```"))
        .collect();
    assert!(
        first_block.contains(&"cargo run --release -- demo"),
        "the README's first commands start the demo: {first_block:?}"
    );
    let command = first_block
        .iter()
        .find(|l| l.contains("cargo test"))
        .expect("a test command among the README's first commands");
    assert!(
        ci.lines().any(|l| l.trim() == command.trim()),
        "{command:?} is not a line of .ci/run"
    );
}
