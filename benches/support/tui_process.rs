//! Measuring driftdeck as a user runs it, shared by the benches that do:
//! the TUI as a whole process in a tmux server of the bench's own, its
//! resident memory, the median of timed runs.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

pub fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// A tmux server of the bench's own, running driftdeck at 200x60.
pub struct Tui {
    socket: String,
}

impl Tui {
    /// driftdeck in tmux with `env`; gives the TUI and the process id.
    pub fn start(env: &[(&'static str, PathBuf)]) -> Option<(Tui, u32)> {
        if Command::new("tmux").arg("-V").output().is_err() {
            println!("tui: skipped, tmux is not installed");
            return None;
        }
        let socket = format!("driftdeck-scale-{}", std::process::id());
        let mut command = Command::new("tmux");
        command.args([
            "-L",
            &socket,
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            "200",
            "-y",
            "60",
        ]);
        // Started in its HOME, so no Git work tree around is offered as an app.
        if let Some((_, home)) = env.iter().find(|(name, _)| *name == "HOME") {
            command.arg("-c").arg(home);
        }
        for (name, value) in env {
            command.arg("-e").arg(format!("{name}={}", value.display()));
        }
        command.arg(format!("exec {}", env!("CARGO_BIN_EXE_driftdeck")));
        assert!(command.status().unwrap().success());
        let tui = Tui { socket };
        let pid = tui.tmux(&["list-panes", "-F", "#{pane_pid}"]);
        Some((tui, pid.trim().parse().unwrap()))
    }

    pub fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p"])
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}

pub fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}
