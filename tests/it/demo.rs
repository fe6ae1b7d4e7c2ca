//! `driftdeck demo` end to end: the built binary in tmux, as a new user
//! runs it, with nothing set up (no config, no kubeconfig, a home of its own).

use std::net::{TcpListener, TcpStream};
use std::path::Path;

use crate::tui::terminal::{BINARY, Home, Tmux};

/// A port no one listens on now, for `--port`, so the test can check that
/// the demo's cluster is gone after it.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A home (with a `tmp` folder for TMPDIR), a terminal in it, and a port
/// for the demo's cluster; `None` without tmux.
fn terminal(width: u16, height: u16) -> Option<(Home, Tmux, u16)> {
    let home = Home::new("");
    std::fs::create_dir_all(home.path("tmp")).unwrap();
    let tmux = Tmux::start(&home, width, height)?;
    Some((home, tmux, free_port()))
}

/// The demo's folders left in `tmp`.
fn demo_folders(tmp: &Path) -> Vec<String> {
    std::fs::read_dir(tmp)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("driftdeck-"))
        .collect()
}

/// Starts the demo in the shell of `tmux` and waits for its first screen
/// with every app's verdict; gives the screen.
fn start_demo(tmux: &Tmux, home: &Home, env: &str, port: u16) -> String {
    tmux.type_line(&format!(
        "{env} TMPDIR={} {BINARY} demo --calm --port {port}; echo demo-exit=$?",
        home.path("tmp").display()
    ));
    tmux.wait_for("every app's verdict and the commits", |s| {
        ["shop", "api", "payments"]
            .iter()
            .all(|app| verdict_of(s, app).is_some())
            && s.contains("· OutOfSync")
            && s.contains("Commits · ")
    })
}

/// The app's mark in the Apps pane: `✓` synced, `✗` out of sync; `None`
/// before its first verdict.
fn verdict_of(screen: &str, app: &str) -> Option<char> {
    screen.lines().find_map(|line| {
        let (_, after) = line.split_once(&format!(" {app} "))?;
        after
            .trim_start()
            .chars()
            .next()
            .filter(|c| ['✓', '✗'].contains(c))
    })
}

/// Whether the screen's escape codes set a colour (SGR 30–37, 38, 40–47,
/// 48, 90–97, 100–107); bold, dim, reverse and the defaults (39, 49) are
/// no colour.
fn sets_a_colour(escapes: &str) -> bool {
    escapes.split("\u{1b}[").skip(1).any(|sequence| {
        let Some((params, _)) = sequence.split_once('m') else {
            return false;
        };
        params
            .split(';')
            .filter_map(|p| p.parse::<u16>().ok())
            .any(|p| matches!(p, 30..=38 | 40..=48 | 90..=97 | 100..=107))
    })
}

/// Quits and checks that nothing is left: exit 0, no folder, no port.
fn quit_and_check_nothing_left(tmux: &Tmux, home: &Home, port: u16) {
    tmux.press("q");
    // The exit line, not the typed command that echoes it.
    let screen = tmux.wait_for("the demo to end", |s| {
        s.lines().any(|l| {
            l.trim_start()
                .strip_prefix("demo-exit=")
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        })
    });
    assert!(screen.contains("demo-exit=0"), "{screen}");
    assert_eq!(demo_folders(&home.path("tmp")), Vec::<String>::new());
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the demo's cluster still listens on {port}"
    );
}

#[test]
fn the_demo_shows_work_to_do_and_leaves_nothing_behind() {
    let Some((home, tmux, port)) = terminal(120, 40) else {
        return;
    };
    let screen = start_demo(&tmux, &home, "COLORTERM=truecolor", port);
    assert!(screen.contains("driftdeck demo"), "no banner:\n{screen}");
    // Colours here, so the NO_COLOR test's check can fail.
    assert!(sets_a_colour(&tmux.screen_with_escapes()));
    // The scripted history (the selected app's commits of the 14), the
    // deployed commit marked and api's pending commit counted.
    assert!(screen.contains("/14 · 1 behind"), "{screen}");
    assert!(
        screen.contains("● "),
        "no deployed commit marked:\n{screen}"
    );
    assert_eq!(verdict_of(&screen, "payments"), Some('✓'), "{screen}");
    assert_eq!(verdict_of(&screen, "api"), Some('✗'), "{screen}");

    // shop: changed by hand (the Secret too, masked) and a ConfigMap to prune.
    tmux.press(":");
    tmux.type_line("app shop");
    let shop = tmux.wait_for("shop's resources", |s| {
        s.contains("shop · OutOfSync") && s.contains("+ Extra") && s.contains("DB_PASSWORD changed")
    });
    assert!(shop.contains("+ Extra"), "{shop}");
    assert!(shop.contains("data.DB_PASSWORD changed"), "{shop}");
    assert!(
        !shop.contains("hunter2") && !shop.contains("aHVudGVyMg"),
        "{shop}"
    );

    // Sync api from its plan (the Resources pane has the focus, on the
    // Deployment): it turns Synced.
    tmux.press(":");
    tmux.type_line("app api");
    tmux.wait_for("api's resources", |s| s.contains("api · OutOfSync"));
    tmux.press("s");
    let plan = tmux.wait_for("api's sync plan", |s| s.contains("1 to update"));
    assert!(plan.contains("update Deployment api/orders"), "{plan}");
    tmux.press("y");
    let synced = tmux.wait_for("api synced", |s| {
        verdict_of(s, "api") == Some('✓') && s.contains("api: synced")
    });
    assert_eq!(verdict_of(&synced, "shop"), Some('✗'), "{synced}");

    // Roll payments back to a commit before its three replicas: pinned.
    tmux.press(":");
    tmux.type_line("app payments");
    tmux.wait_for("payments' resources", |s| s.contains("payments · Synced"));
    tmux.press("Tab");
    tmux.press("Tab");
    for _ in 0..4 {
        tmux.press("j");
    }
    tmux.press("R");
    let plan = tmux.wait_for("the rollback's plan", |s| s.contains("y go"));
    assert!(plan.contains("Roll back payments to"), "{plan}");
    assert!(
        plan.contains("update Deployment payments/gateway"),
        "{plan}"
    );
    tmux.press("y");
    tmux.wait_for("payments pinned", |s| s.contains("payments is pinned to"));
    quit_and_check_nothing_left(&tmux, &home, port);
}

#[test]
fn the_demo_needs_no_kubeconfig_helm_or_colour() {
    let Some((home, tmux, port)) = terminal(80, 24) else {
        return;
    };
    // No helm: /usr/bin and /bin only (kube-tools put it elsewhere).
    let env = "PATH=/usr/bin:/bin KUBECONFIG=/nonexistent NO_COLOR=1";
    let screen = start_demo(&tmux, &home, env, port);
    if !screen.contains("helm is not on PATH") {
        // This machine has helm in /usr/bin: the chart renders instead.
        assert!(screen.contains("driftdeck demo"), "{screen}");
    }
    let escapes = tmux.screen_with_escapes();
    assert!(
        !sets_a_colour(&escapes),
        "colours under NO_COLOR:\n{escapes}"
    );
    quit_and_check_nothing_left(&tmux, &home, port);
}

#[test]
fn closing_the_terminal_removes_the_demo_too() {
    let Some((home, tmux, port)) = terminal(80, 24) else {
        return;
    };
    start_demo(&tmux, &home, "", port);
    assert_eq!(demo_folders(&home.path("tmp")).len(), 1);
    // The terminal goes away under the demo (SIGHUP, writes fail).
    drop(tmux);
    let deadline = std::time::Instant::now() + crate::tui::terminal::PATIENCE;
    while !demo_folders(&home.path("tmp")).is_empty()
        || TcpStream::connect(("127.0.0.1", port)).is_ok()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "left behind: {:?}",
            demo_folders(&home.path("tmp"))
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
