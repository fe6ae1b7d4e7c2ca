//! A real terminal for the TUI tests: a tmux server of its own running a
//! shell at a fixed size, in a temporary home with a config.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub const BINARY: &str = env!("CARGO_BIN_EXE_driftdeck");
/// How long a screen may take to show what a test waits for; a deadline
/// against hangs, not a measure.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// A temporary home with a config folder, for one driftdeck.
pub struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    pub fn new(config: &str) -> Home {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        std::fs::create_dir_all(dir.path().join("config/themes")).unwrap();
        std::fs::write(dir.path().join("config/config.toml"), config).unwrap();
        Home { dir }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    pub fn config_file(&self) -> PathBuf {
        self.path("config/config.toml")
    }

    /// The variables driftdeck finds its folders by, all inside the temp dir.
    pub fn env(&self) -> Vec<(&'static str, PathBuf)> {
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
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// `None`, with a note on stderr, when tmux is not installed.
    pub fn start(home: &Home, width: u16, height: u16) -> Option<Tmux> {
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

    pub fn tmux(&self, args: &[&str]) -> String {
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
    pub fn type_line(&self, line: &str) {
        self.type_text(line);
        self.tmux(&["send-keys", "-t", "0", "Enter"]);
    }

    /// Types `text` as it is, each character a key.
    pub fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "0", "-l", text]);
    }

    /// Presses keys, in tmux's names (`q`, `Escape`, `Tab`).
    pub fn press(&self, key: &str) {
        self.tmux(&["send-keys", "-t", "0", key]);
    }

    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "0"])
    }

    /// The screen with its colours and attributes as escape codes.
    pub fn screen_with_escapes(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-e", "-t", "0"])
    }

    /// A pane flag, such as `alternate_on` or `mouse_any_flag`.
    pub fn flag(&self, name: &str) -> String {
        self.tmux(&["display-message", "-p", "-t", "0", &format!("#{{{name}}}")])
            .trim()
            .to_string()
    }

    pub fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
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

    pub fn wait_for_flag(&self, name: &str, value: &str) {
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

    /// Starts driftdeck with `env` before it and `args` after `--config`.
    pub fn start_driftdeck(&self, home: &Home, env: &str, args: &str) {
        self.type_line(&format!(
            "{env} {BINARY} --config {} {args}",
            home.config_file().display()
        ));
        self.wait_for("the TUI", |screen| screen.contains("Commits"));
        self.wait_for_flag("alternate_on", "1");
    }

    /// After driftdeck: the normal screen is back, the terminal is out of raw
    /// mode, and the shell runs commands.
    pub fn assert_shell_usable(&self) {
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
