#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The TUI end to end: the built binary in a real terminal (tmux, on its own
//! socket, with a temporary home and config), and the checks that happen
//! before the terminal is touched.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_driftdeck");
/// How long a screen may take to show what a test waits for; a deadline
/// against hangs, not a measure.
const PATIENCE: Duration = Duration::from_secs(15);

const TWO_APPS: &str = r#"
[[app]]
name = "guestbook"
repo = "https://example.com/org/deploy.git"
path = "apps/guestbook"

[[app]]
name = "podinfo"
repo = "https://example.com/org/deploy.git"
path = "apps/podinfo"
"#;

/// A temporary home with a config folder, for one driftdeck.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new(config: &str) -> Home {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        std::fs::create_dir_all(dir.path().join("config/themes")).unwrap();
        std::fs::write(dir.path().join("config/config.toml"), config).unwrap();
        Home { dir }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn config_file(&self) -> PathBuf {
        self.path("config/config.toml")
    }

    /// The variables driftdeck finds its folders by, all inside the temp dir.
    fn env(&self) -> Vec<(&'static str, PathBuf)> {
        vec![
            ("HOME", self.path("home")),
            ("XDG_CONFIG_HOME", self.path("home/.config")),
            ("XDG_DATA_HOME", self.path("home/.local/share")),
            ("XDG_STATE_HOME", self.path("home/.local/state")),
            ("XDG_CACHE_HOME", self.path("home/.cache")),
        ]
    }
}

static SESSIONS: AtomicUsize = AtomicUsize::new(0);

/// A tmux server of our own running an interactive shell at a fixed size.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// `None`, with a note on stderr, when tmux is not installed.
    fn start(home: &Home, width: u16, height: u16) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            eprintln!("skipped: tmux is not installed (CI installs it)");
            return None;
        }
        let socket = format!(
            "driftdeck-test-{}-{}",
            std::process::id(),
            SESSIONS.fetch_add(1, Ordering::SeqCst)
        );
        let mut command = Command::new("tmux");
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("PS1", "$ ")
            .envs(home.env())
            .args(["-L", &socket, "-f", "/dev/null", "new-session", "-d"])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .args(["bash", "--norc", "--noprofile"]);
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "tmux: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let tmux = Tmux { socket };
        tmux.wait_for("the shell prompt", |screen| screen.contains('$'));
        Some(tmux)
    }

    fn tmux(&self, args: &[&str]) -> String {
        let output = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Types a command line into the shell.
    fn type_line(&self, line: &str) {
        self.tmux(&["send-keys", "-t", "0", "-l", line]);
        self.tmux(&["send-keys", "-t", "0", "Enter"]);
    }

    /// Presses keys, in tmux's names (`q`, `Escape`, `Tab`).
    fn press(&self, key: &str) {
        self.tmux(&["send-keys", "-t", "0", key]);
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "0"])
    }

    /// The screen with its colours and attributes as escape codes.
    fn screen_with_escapes(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-e", "-t", "0"])
    }

    /// A pane flag, such as `alternate_on` or `mouse_any_flag`.
    fn flag(&self, name: &str) -> String {
        self.tmux(&["display-message", "-p", "-t", "0", &format!("#{{{name}}}")])
            .trim()
            .to_string()
    }

    fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("waited for {what}; the screen is:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_for_flag(&self, name: &str, value: &str) {
        let deadline = Instant::now() + PATIENCE;
        while self.flag(name) != value {
            if Instant::now() > deadline {
                panic!(
                    "waited for {name} = {value}; the screen is:\n{}",
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn start_driftdeck(&self, home: &Home, env: &str) {
        self.type_line(&format!(
            "{env} {BINARY} --config {}",
            home.config_file().display()
        ));
        self.wait_for("the TUI", |screen| screen.contains("Commits"));
        self.wait_for_flag("alternate_on", "1");
    }

    /// After driftdeck: the normal screen is back, the terminal is out of raw
    /// mode, and the shell runs commands.
    fn assert_shell_usable(&self) {
        self.wait_for_flag("alternate_on", "0");
        assert_eq!(self.flag("cursor_flag"), "1", "the cursor is hidden");
        self.type_line("stty -a | tr ' ' '\\n' | grep -x -- '-*icanon'; echo shell-$((6*7))");
        let screen = self.wait_for("the shell's answer", |s| {
            s.lines().any(|l| l.trim() == "shell-42")
        });
        assert!(
            screen.lines().any(|l| l.trim() == "icanon"),
            "the terminal was left in raw mode:\n{screen}"
        );
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

fn four_panes_help_and_quit(width: u16, height: u16) {
    let home = Home::new(TWO_APPS);
    let Some(tmux) = Tmux::start(&home, width, height) else {
        return;
    };
    tmux.start_driftdeck(&home, "");
    let screen = tmux.wait_for("the configured apps", |s| s.contains("podinfo"));
    for pane in ["Apps", "Resources", "Diff", "Commits"] {
        assert!(
            screen.contains(pane),
            "no {pane} pane at {width}x{height}:\n{screen}"
        );
    }
    assert!(screen.contains("▶ guestbook"), "{screen}");
    assert!(screen.contains("? status not known yet"), "{screen}");
    assert_eq!(tmux.flag("mouse_any_flag"), "0", "mouse capture is on");

    tmux.press("?");
    let help = tmux.wait_for("the help", |s| s.contains("quit driftdeck"));
    assert!(help.contains("focus_next"), "{help}");
    tmux.press("Escape");
    tmux.wait_for("the help to close", |s| !s.contains("quit driftdeck"));

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
    tmux.start_driftdeck(&home, "COLORTERM=truecolor");
    assert!(!colour_escapes(&tmux.screen_with_escapes()).is_empty());
    tmux.press("q");
    tmux.assert_shell_usable();
    tmux.type_line("clear");

    tmux.start_driftdeck(&home, "NO_COLOR=1 COLORTERM=truecolor");
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
    tmux.start_driftdeck(&home, "");
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
