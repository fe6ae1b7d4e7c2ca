#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The TUI at scale, each figure the median (and 90th percentile) of 1,000
//! single measurements:
//!
//! - `view`: one frame at 200x60 with 10 apps of 1,000 resources each and a
//!   2,000-line diff open (goal: under 2 ms);
//! - `update` for a key press: `j` in the resources list, and `j` in the
//!   apps list, which lists another app's 1,000 resources (goal: under
//!   100 µs);
//! - filtering 10,000 resources per keystroke, typed into `/` (goal: under
//!   5 ms).
//!
//!     cargo bench --bench tui

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use driftdeck::config::Config;
use driftdeck::drift::{ResourceKey, ResourceResult, summarize};
use driftdeck::engine::EngineEvent;
use driftdeck::report::AppReport;
use driftdeck::tui::{Keymap, Msg, State, Theme, update, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::{Map, Value, json};

const SAMPLES: usize = 1_000;

fn config_map(name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "shop"}, "data": data})
}

/// `count` ConfigMaps, one in 50 drifted, and when `big` one more whose
/// 1,000 values all differ: a diff of about 2,000 lines.
fn report(app: &str, count: usize, big: bool) -> AppReport {
    let mut resources: Vec<ResourceResult> = (0..count)
        .map(|i| {
            let name = format!("cm-{i}");
            let desired = config_map(&name, json!({"level": "info"}));
            let live = if i % 50 == 7 {
                config_map(&name, json!({"level": "debug"}))
            } else {
                desired.clone()
            };
            let key = ResourceKey {
                group: String::new(),
                kind: "ConfigMap".into(),
                namespace: Some("shop".into()),
                name,
            };
            ResourceResult::compared(key, &desired, &live, &[])
        })
        .collect();
    if big {
        let values = |prefix: &str| -> Value {
            let map: Map<String, Value> = (0..1_000)
                .map(|i| (format!("key-{i:04}"), json!(format!("{prefix}-{i}"))))
                .collect();
            Value::Object(map)
        };
        let key = ResourceKey {
            group: String::new(),
            kind: "ConfigMap".into(),
            namespace: Some("shop".into()),
            name: "aaa-big".into(),
        };
        let desired = config_map("aaa-big", values("desired"));
        let live = config_map("aaa-big", values("live"));
        resources.push(ResourceResult::compared(key, &desired, &live, &[]));
    }
    AppReport {
        app: app.to_string(),
        desired_revision: None,
        pinned: None,
        summary: summarize(&resources),
        resources,
        problems: Vec::new(),
        stale_since: None,
        stale_cause: None,
        engine: None,
        controller: None,
        driftdeck: None,
    }
}

fn state(apps: usize, resources: usize, big: bool) -> State {
    let mut text = String::new();
    for i in 0..apps {
        text.push_str(&format!(
            "[[app]]\nname = \"app-{i}\"\nrepo = \"https://example.com/deploy.git\"\n"
        ));
    }
    let config = Config::parse(Path::new("config.toml"), &text).unwrap();
    let theme = Theme::built_in("default").unwrap().unwrap();
    let mut state = State::new(&config, Path::new("config.toml"), Keymap::defaults(), theme);
    update(
        &mut state,
        Msg::Resize {
            width: 200,
            height: 60,
        },
    );
    for i in 0..apps {
        let name = format!("app-{i}");
        let event = EngineEvent::Report {
            app: name.clone(),
            generation: 0,
            report: Arc::new(report(&name, resources, big && i == 0)),
            settled: true,
        };
        update(&mut state, Msg::Engine(event));
    }
    state
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// Median and 90th percentile of the samples.
fn report_figures(what: &str, goal: Duration, mut samples: Vec<Duration>) {
    samples.sort();
    let median = samples[samples.len() / 2];
    let p90 = samples[samples.len() * 9 / 10];
    let verdict = if median < goal { "within" } else { "OVER" };
    println!("{what:<46} median {median:>10.1?}  p90 {p90:>10.1?}  goal {goal:?} ({verdict})");
}

fn bench_view() {
    let mut state = state(10, 1_000, true);
    // The big ConfigMap's diff, in the diff pane.
    update(&mut state, key(KeyCode::Enter));
    while state.selected_resource().map(|r| r.key.name.as_str()) != Some("aaa-big") {
        update(&mut state, key(KeyCode::Char('j')));
    }
    update(&mut state, key(KeyCode::Enter));
    let lines = state.selected_resource().unwrap().diff.lines().count();
    assert!(lines >= 2_000, "{lines} diff lines");
    // Half way down, where a reader would be.
    for _ in 0..100 {
        update(&mut state, key(KeyCode::PageDown));
    }
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
    let samples = (0..SAMPLES)
        .map(|_| {
            let start = Instant::now();
            terminal
                .draw(|frame| view(frame, black_box(&state)))
                .unwrap();
            start.elapsed()
        })
        .collect();
    report_figures(
        &format!("view 200x60, 10x1,000 resources, {lines}-line diff"),
        Duration::from_millis(2),
        samples,
    );
}

fn bench_keys() {
    let mut state = state(10, 1_000, false);
    update(&mut state, key(KeyCode::Enter));
    // Down and up again, so every press moves the cursor.
    let samples = (0..SAMPLES)
        .map(|i| {
            let code = if (i / 50) % 2 == 0 {
                KeyCode::Char('j')
            } else {
                KeyCode::Char('k')
            };
            let start = Instant::now();
            black_box(update(&mut state, key(code)));
            start.elapsed()
        })
        .collect();
    report_figures(
        "update: j in 1,000 resources",
        Duration::from_micros(100),
        samples,
    );
    update(&mut state, key(KeyCode::Esc));
    let samples = (0..SAMPLES)
        .map(|i| {
            let code = if (i / 9) % 2 == 0 {
                KeyCode::Char('j')
            } else {
                KeyCode::Char('k')
            };
            let start = Instant::now();
            black_box(update(&mut state, key(code)));
            start.elapsed()
        })
        .collect();
    report_figures(
        "update: j in apps (lists 1,000 resources anew)",
        Duration::from_micros(100),
        samples,
    );
}

fn bench_filter() {
    let mut state = state(1, 10_000, false);
    update(&mut state, key(KeyCode::Enter));
    update(&mut state, key(KeyCode::Char('/')));
    let typed = ['c', 'm', '-', '4', '2'];
    let samples = (0..SAMPLES)
        .map(|i| {
            // Type the word, then take it back, then again.
            let step = i % (2 * typed.len());
            let code = match typed.get(step) {
                Some(c) => KeyCode::Char(*c),
                None => KeyCode::Backspace,
            };
            let start = Instant::now();
            black_box(update(&mut state, key(code)));
            start.elapsed()
        })
        .collect();
    report_figures(
        "filter 10,000 resources, one keystroke",
        Duration::from_millis(5),
        samples,
    );
}

fn main() {
    // `cargo test --benches` runs this with `--bench` absent: one quick pass.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    bench_view();
    bench_keys();
    bench_filter();
}
