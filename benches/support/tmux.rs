//! A whole driftdeck process in a terminal for the benches: a tmux server
//! of the bench's own running one command at a fixed size, its screen, and
//! the resident memory of the process.

use std::process::Command;

pub struct TmuxProcess {
    socket: String,
    /// The process tmux runs (`exec`ed, so it is driftdeck itself).
    pub pid: u32,
}

impl TmuxProcess {
    /// Runs `command` (with `exec`) at `width`x`height` with `env` set;
    /// `None`, saying so, when tmux is not installed.
    pub fn start(
        socket: &str,
        (width, height): (u16, u16),
        env: &[(String, String)],
        command: &str,
    ) -> Option<TmuxProcess> {
        if Command::new("tmux").arg("-V").output().is_err() {
            println!("{socket}: skipped, tmux is not installed");
            return None;
        }
        let mut tmux = Command::new("tmux");
        tmux.args(["-L", socket, "-f", "/dev/null", "new-session", "-d"]);
        tmux.args(["-x", &width.to_string(), "-y", &height.to_string()]);
        for (name, value) in env {
            tmux.arg("-e").arg(format!("{name}={value}"));
        }
        tmux.arg(format!("exec {command}"));
        assert!(tmux.status().unwrap().success());
        let mut started = TmuxProcess {
            socket: socket.to_string(),
            pid: 0,
        };
        started.pid = started
            .tmux(&["list-panes", "-F", "#{pane_pid}"])
            .trim()
            .parse()
            .unwrap();
        Some(started)
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

    /// Resident memory of the process, in MB.
    pub fn rss_mb(&self) -> f64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        kb / 1024.0
    }
}

impl Drop for TmuxProcess {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}
