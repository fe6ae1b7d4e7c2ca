#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `driftdeck demo` as a user runs it: the built binary in tmux at 120x40.
//!
//! - time from starting `driftdeck demo --calm` until the first screen
//!   shows every app's verdict and the commits (goal: under 1 s on a warm
//!   binary), median and worst of DEMO_ROUNDS (default 5) starts;
//! - resident memory of the demo process with the team running, at each
//!   minute of DEMO_MINUTES (default "2,5"), the team moving every 2–4 s
//!   (`DRIFTDECK_DEMO_TEAM_SECS=2`, ten times its usual pace) (goal: under
//!   80 MB, no growth between the first and the last).
//!
//! ```text
//!     cargo bench --bench demo
//!     DEMO_ROUNDS=3 DEMO_MINUTES=1 cargo bench --bench demo    # quicker
//! ```

use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux server of the bench's own, running `driftdeck demo ARGS`.
struct Demo {
    socket: String,
    pid: u32,
}

impl Demo {
    fn start(round: usize, args: &str, env: &[(&str, &str)]) -> Option<Demo> {
        if Command::new("tmux").arg("-V").output().is_err() {
            println!("demo: skipped, tmux is not installed");
            return None;
        }
        let socket = format!("driftdeck-demo-bench-{}-{round}", std::process::id());
        let mut command = Command::new("tmux");
        command.args(["-L", &socket, "-f", "/dev/null", "new-session", "-d"]);
        command.args(["-x", "120", "-y", "40"]);
        for (name, value) in env {
            command.arg("-e").arg(format!("{name}={value}"));
        }
        command.arg(format!(
            "exec {} demo {args}",
            env!("CARGO_BIN_EXE_driftdeck")
        ));
        assert!(command.status().unwrap().success());
        let mut demo = Demo { socket, pid: 0 };
        demo.pid = demo
            .tmux(&["list-panes", "-F", "#{pane_pid}"])
            .trim()
            .parse()
            .unwrap();
        Some(demo)
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p"])
    }

    /// Waits until every app shows a verdict and the commits are listed.
    fn wait_for_first_screen(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let screen = self.screen();
            let verdicts = ["shop", "api", "payments"].iter().all(|app| {
                screen.lines().any(|line| {
                    line.split_once(&format!(" {app} "))
                        .is_some_and(|(_, after)| after.contains('✓') || after.contains('✗'))
                })
            });
            if verdicts && screen.contains("Commits · ") {
                return;
            }
            assert!(Instant::now() < deadline, "no first screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Quits as a user does and waits for the process to end.
    fn quit(self) {
        self.tmux(&["send-keys", "-t", "0", "q"]);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::path::Path::new(&format!("/proc/{}", self.pid)).exists() {
            assert!(Instant::now() < deadline, "the demo did not end");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}

fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn first_screen() {
    let rounds: usize = env_or("DEMO_ROUNDS", 5);
    // A start that is not measured: the binary and the tools warm.
    let mut times = Vec::new();
    for round in 0..=rounds {
        let started = Instant::now();
        let Some(demo) = Demo::start(round, "--calm", &[("COLORTERM", "truecolor")]) else {
            return;
        };
        demo.wait_for_first_screen();
        let elapsed = started.elapsed();
        demo.quit();
        if round > 0 {
            times.push(elapsed);
        }
    }
    times.sort();
    println!(
        "demo: first screen with every verdict after {:.0?} (median of {rounds}), worst {:.0?}; goal < 1 s",
        times[times.len() / 2],
        times[times.len() - 1]
    );
}

fn memory() {
    let minutes: Vec<u64> = std::env::var("DEMO_MINUTES")
        .unwrap_or_else(|_| "2,5".into())
        .split(',')
        .filter_map(|m| m.trim().parse().ok())
        .collect();
    let Some(demo) = Demo::start(99, "", &[("DRIFTDECK_DEMO_TEAM_SECS", "2")]) else {
        return;
    };
    demo.wait_for_first_screen();
    let started = Instant::now();
    let mut samples = Vec::new();
    for minute in minutes {
        let at = Duration::from_secs(minute * 60);
        std::thread::sleep(at.saturating_sub(started.elapsed()));
        let rss = rss_mb(demo.pid);
        println!("demo: RSS after {minute} min with the team moving every 2-4 s: {rss:.1} MB");
        samples.push(rss);
    }
    let commits = demo.screen();
    let count = commits
        .split("Commits · ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or("?")
        .to_string();
    demo.quit();
    if let (Some(first), Some(last)) = (samples.first(), samples.last()) {
        println!(
            "demo: RSS {first:.1} → {last:.1} MB ({:+.1} MB), {count} commits by then; goal < 80 MB, no growth",
            last - first
        );
    }
}

fn main() {
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| name.contains(o.as_str()));
    if wanted("first_screen") {
        first_screen();
    }
    if wanted("memory") {
        memory();
    }
}
