#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The TUI end to end: the built binary in a real terminal (tmux, on its own
//! socket, with a temporary home and config), against a simulated cluster
//! and a Git repository made in the test, and the checks that happen before
//! the terminal is touched.

use crate::simcluster::support as sim;

use crate::live::support as world;

#[path = "tui/terminal.rs"]
pub(crate) mod terminal;

#[path = "tui/commits.rs"]
mod commits;

#[path = "tui/engines.rs"]
mod engines;

#[path = "tui/live.rs"]
mod live;

#[path = "tui/reading.rs"]
mod reading;

#[path = "tui/rollback.rs"]
mod rollback;

#[path = "tui/sync.rs"]
mod sync;

use std::path::Path;
use std::process::{Command, Output};

use terminal::{BINARY, Home, Tmux};

/// Two apps whose repository does not exist: the engine says so, with no
/// network and no cluster involved.
const TWO_APPS: &str = r#"
[[app]]
name = "guestbook"
repo = "/nonexistent/deploy.git"
path = "apps/guestbook"

[[app]]
name = "podinfo"
repo = "/nonexistent/deploy.git"
path = "apps/podinfo"
"#;

fn four_panes_help_and_quit(width: u16, height: u16) {
    let home = Home::new(TWO_APPS);
    let Some(tmux) = Tmux::start(&home, width, height) else {
        return;
    };
    tmux.start_driftdeck(&home, "", "");
    // The repository does not exist: the engine says so, naming it.
    let screen = tmux.wait_for("the Git error", |s| s.contains("/nonexistent/deploy.git"));
    assert!(screen.contains("Git: "), "{screen}");
    assert!(screen.contains("podinfo"), "{screen}");
    // The resources pane is titled with the selected app and its verdict.
    let screen = tmux.wait_for("a verdict", |s| s.contains("guestbook · Unknown"));
    for pane in ["Apps", "Diff", "Commits"] {
        assert!(
            screen.contains(pane),
            "no {pane} pane at {width}x{height}:\n{screen}"
        );
    }
    assert!(screen.contains("▶ guestbook"), "{screen}");
    assert_eq!(tmux.flag("mouse_any_flag"), "0", "mouse capture is on");

    tmux.press("?");
    let help = tmux.wait_for("the help", |s| s.contains("focus_next"));
    assert!(help.contains("move down"), "{help}");
    tmux.press("Escape");
    tmux.wait_for("the help to close", |s| !s.contains("focus_next"));

    tmux.press("q");
    tmux.assert_shell_usable();
}

#[test]
fn four_panes_help_and_quit_at_80x24() {
    four_panes_help_and_quit(80, 24);
}

#[test]
fn four_panes_help_and_quit_at_160x48() {
    four_panes_help_and_quit(160, 48);
}

#[test]
fn a_panic_restores_the_terminal_then_prints_its_message() {
    let home = Home::new(TWO_APPS);
    let Some(tmux) = Tmux::start(&home, 80, 24) else {
        return;
    };
    // The test binary is a debug build, where this variable asks for a
    // panic after the first draw.
    tmux.type_line(&format!(
        "DRIFTDECK_TEST_PANIC=1 {BINARY} --config {}; echo exit-$?",
        home.config_file().display()
    ));
    let screen = tmux.wait_for("the exit code", |s| s.contains("exit-101"));
    assert!(
        screen.contains("DRIFTDECK_TEST_PANIC is set"),
        "the panic message is on the normal screen:\n{screen}"
    );
    tmux.assert_shell_usable();
}

#[test]
fn sigterm_restores_the_terminal() {
    let home = Home::new(TWO_APPS);
    let Some(tmux) = Tmux::start(&home, 80, 24) else {
        return;
    };
    let pid_file = home.path("driftdeck.pid");
    // The shell's pid is driftdeck's once it execs.
    tmux.type_line(&format!(
        "sh -c 'echo $$ > {}; exec {BINARY} --config {}'; echo exit-$?",
        pid_file.display(),
        home.config_file().display()
    ));
    tmux.wait_for("the TUI", |s| s.contains("Commits"));
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let kill = Command::new("kill")
        .args(["-TERM", pid.trim()])
        .output()
        .unwrap();
    assert!(kill.status.success());
    tmux.wait_for("the exit code", |s| s.contains("exit-143"));
    tmux.assert_shell_usable();
}

/// The parameters of every SGR escape that sets a colour (not the resets 39 and 49).
fn colour_escapes(screen: &str) -> Vec<String> {
    let mut found = Vec::new();
    for sequence in screen.split("\x1b[").skip(1) {
        let end = sequence
            .find(|c: char| !(c.is_ascii_digit() || c == ';' || c == ':'))
            .unwrap_or(sequence.len());
        if !sequence[end..].starts_with('m') {
            continue;
        }
        let params = &sequence[..end];
        let sets_colour = params.split([';', ':']).any(|p| {
            matches!(
                p.parse::<u32>(),
                Ok(30..=38 | 40..=48 | 58 | 90..=97 | 100..=107)
            )
        });
        if sets_colour {
            found.push(params.to_string());
        }
    }
    found
}

#[test]
fn no_color_draws_without_colour_escapes() {
    let home = Home::new(TWO_APPS);
    let Some(tmux) = Tmux::start(&home, 80, 24) else {
        return;
    };
    // The same terminal draws in colour without NO_COLOR: the check below can fail.
    tmux.start_driftdeck(&home, "COLORTERM=truecolor", "");
    assert!(!colour_escapes(&tmux.screen_with_escapes()).is_empty());
    tmux.press("q");
    tmux.assert_shell_usable();
    tmux.type_line("clear");

    tmux.start_driftdeck(&home, "NO_COLOR=1 COLORTERM=truecolor", "");
    tmux.press("j");
    let screen = tmux.wait_for("the selection to move", |s| s.contains("▶ podinfo"));
    let escapes = tmux.screen_with_escapes();
    assert_eq!(colour_escapes(&escapes), Vec::<String>::new(), "{escapes}");
    // State still shows: the selected row is reversed, the focus is thick.
    assert!(
        escapes.contains("\x1b[7m") || escapes.contains(";7m"),
        "{escapes}"
    );
    assert!(screen.contains('┏'), "{screen}");
    tmux.press("q");
    tmux.assert_shell_usable();
}

#[test]
fn a_bad_theme_file_is_named_in_the_status_bar() {
    let home = Home::new(&format!("[ui]\ntheme = \"broken\"\n{TWO_APPS}"));
    std::fs::write(
        home.path("config/themes/broken.toml"),
        "text = { fg = \"#c8ceda\" }\nsynced = { fg = \"bleu\" }\n",
    )
    .unwrap();
    let Some(tmux) = Tmux::start(&home, 160, 48) else {
        return;
    };
    tmux.start_driftdeck(&home, "", "");
    let screen = tmux.wait_for("the warning", |s| {
        s.contains("broken.toml:2:17: invalid colour \"bleu\"")
    });
    assert!(
        screen.contains("using the built-in default theme"),
        "{screen}"
    );
    tmux.press("Escape");
    tmux.wait_for("the warning to go", |s| !s.contains("broken.toml"));
    tmux.press("q");
    tmux.assert_shell_usable();
}

/// Runs driftdeck with pipes instead of a terminal.
fn run_piped(home: &Home, args: &[&str]) -> Output {
    Command::new(BINARY)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(home.env())
        .current_dir(home.path("home"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn two_actions_on_one_key_exit_2_before_the_terminal_is_touched() {
    let home = Home::new("[ui]\nreadonly = true\n\n[keys]\nhelp = \"q\"\n");
    let config = home.config_file();
    let output = run_piped(&home, &["--config", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        stderr.trim(),
        format!(
            "{}:5:8: key \"q\" is bound to both \"quit\" (by default) and \"help\" (line 5); give one of them another key",
            config.display()
        )
    );
    assert!(output.stdout.is_empty(), "the terminal was written to");
}

#[test]
fn unknown_action_in_keys_exits_2_naming_the_line() {
    let home = Home::new("[keys]\nsnyc = \"s\"\n");
    let config = home.config_file();
    let output = run_piped(&home, &["--config", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with(&format!(
            "{}:2:8: unknown action \"snyc\"",
            config.display()
        )),
        "{stderr}"
    );
}

#[test]
fn without_a_terminal_the_tui_says_so_and_exits_2() {
    let home = Home::new(TWO_APPS);
    let config = home.config_file();
    let output = run_piped(&home, &["--config", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("the TUI needs a terminal"), "{stderr}");
    assert!(output.stdout.is_empty());
    assert!(
        Path::new(&home.path("home/.local/state/driftdeck")).is_dir(),
        "no log folder"
    );
}

/// Runs driftdeck with a stdout whose reader is already gone, as after
/// `| head -1`; gives the exit code and stderr.
fn run_into_closed_pipe(home: &Home, args: &[&str]) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = Command::new(BINARY)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(home.env())
        .current_dir(home.path("home"))
        .args(args)
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn broken_pipe_on_stdout_ends_commands_quietly_with_exit_0() {
    let home = Home::new(TWO_APPS);
    let manifests = home.path("home/manifests");
    std::fs::create_dir_all(&manifests).unwrap();
    std::fs::write(
        manifests.join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: \"1\"\n",
    )
    .unwrap();
    let config = home.config_file();
    let config = config.to_str().unwrap();
    let manifests = manifests.to_str().unwrap();
    for args in [
        vec!["--config", config, "paths"],
        vec!["completions", "bash"],
        vec!["--config", config, "check", manifests, "-o", "json"],
    ] {
        let (code, stderr) = run_into_closed_pipe(&home, &args);
        let stderr: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.contains(" objects, "))
            .collect();
        assert_eq!(code, Some(0), "{args:?}: {stderr:?}");
        assert!(stderr.is_empty(), "{args:?}: {stderr:?}");
    }
}
