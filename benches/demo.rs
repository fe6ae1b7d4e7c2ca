#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `driftdeck demo` as a user runs it: the built binary in tmux at 120x40.
//!
//! - time from starting `driftdeck demo --calm` until the first screen
//!   shows every app's verdict and the commits (goal: under 1 s on a warm
//!   binary), median and worst of DEMO_ROUNDS (default 5) starts;
//! - resident memory of the demo process with the team running, at each
//!   minute of DEMO_MINUTES (default "2,5"), the team moving every 20–40 s
//!   as a user sees it, or every DEMO_TEAM_SECS to twice that (2: ten times
//!   its pace) (goal: under 80 MB, no growth between the first and the last).
//!
//! Run:
//!
//!     cargo bench --bench demo
//!     DEMO_ROUNDS=3 DEMO_MINUTES=1 cargo bench --bench demo    # quicker

use std::time::{Duration, Instant};

#[path = "support/tmux.rs"]
mod tmux;
use tmux::TmuxProcess;

/// `driftdeck demo ARGS` at 120x40 in a tmux server of the bench's own.
fn start(round: usize, args: &str, env: &[(&str, &str)]) -> Option<TmuxProcess> {
    let socket = format!("driftdeck-demo-bench-{}-{round}", std::process::id());
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    let command = format!("{} demo {args}", env!("CARGO_BIN_EXE_driftdeck"));
    TmuxProcess::start(&socket, (120, 40), &env, &command)
}

/// Waits until every app shows a verdict and the commits are listed.
fn wait_for_first_screen(demo: &TmuxProcess) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let screen = demo.screen();
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
fn quit(demo: TmuxProcess) {
    demo.tmux(&["send-keys", "-t", "0", "q"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::path::Path::new(&format!("/proc/{}", demo.pid)).exists() {
        assert!(Instant::now() < deadline, "the demo did not end");
        std::thread::sleep(Duration::from_millis(20));
    }
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
        let Some(demo) = start(round, "--calm", &[("COLORTERM", "truecolor")]) else {
            return;
        };
        wait_for_first_screen(&demo);
        let elapsed = started.elapsed();
        quit(demo);
        if round > 0 {
            times.push(elapsed);
        }
    }
    times.sort();
    println!(
        "demo: first screen with every verdict after {:.2?} (median of {rounds}), worst {:.2?}; goal < 1 s",
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
    // The team's pace: 20 s as a user sees it; 2 s is ten times that, to
    // show in ten minutes what an afternoon would.
    let pace = std::env::var("DEMO_TEAM_SECS").unwrap_or_else(|_| "20".into());
    let Some(demo) = start(99, "", &[("DRIFTDECK_DEMO_TEAM_SECS", &pace)]) else {
        return;
    };
    wait_for_first_screen(&demo);
    let started = Instant::now();
    let mut samples = Vec::new();
    for minute in minutes {
        let at = Duration::from_secs(minute * 60);
        std::thread::sleep(at.saturating_sub(started.elapsed()));
        let rss = demo.rss_mb();
        println!(
            "demo: RSS after {minute} min, the team's pause {pace}-{} s: {rss:.1} MB",
            2 * pace.parse::<u64>().unwrap_or(0)
        );
        samples.push(rss);
    }
    let commits = demo.screen();
    let count = commits
        .split("Commits · ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or("?")
        .to_string();
    quit(demo);
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
