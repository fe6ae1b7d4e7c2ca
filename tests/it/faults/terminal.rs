//! The TUI's way out under a panic in a background task and under SIGQUIT:
//! the process ends, the terminal is restored, the exit code says why.

use std::process::Command;

use crate::tui::terminal::{BINARY, Home, Tmux};

/// One app whose repository does not exist: nothing to reach.
const ONE_APP: &str = "[[app]]\nname = \"web\"\nrepo = \"/nonexistent/deploy.git\"\n";

#[test]
fn a_panic_in_a_background_task_ends_the_process_with_the_terminal_restored() {
    let home = Home::new(ONE_APP);
    let Some(tmux) = Tmux::start(&home, 80, 24) else {
        return;
    };
    // A debug build (the tests') panics in a spawned task with this set.
    tmux.type_line(&format!(
        "DRIFTDECK_TEST_TASK_PANIC=1 {BINARY} --config {}; echo exit-$?",
        home.config_file().display()
    ));
    let screen = tmux.wait_for("the exit code", |s| {
        s.lines().any(|l| l.trim().starts_with("exit-"))
    });
    assert!(screen.contains("exit-101"), "{screen}");
    assert!(
        screen.contains("DRIFTDECK_TEST_TASK_PANIC is set"),
        "the panic message is on the normal screen:\n{screen}"
    );
    tmux.assert_shell_usable();
}

#[test]
fn sigquit_restores_the_terminal() {
    let home = Home::new(ONE_APP);
    let Some(tmux) = Tmux::start(&home, 80, 24) else {
        return;
    };
    let pid_file = home.path("driftdeck.pid");
    tmux.type_line(&format!(
        "sh -c 'echo $$ > {}; exec {BINARY} --config {}'; echo exit-$?",
        pid_file.display(),
        home.config_file().display()
    ));
    tmux.wait_for("the TUI", |s| s.contains("Commits"));
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let kill = Command::new("kill")
        .args(["-QUIT", pid.trim()])
        .output()
        .unwrap();
    assert!(kill.status.success());
    tmux.wait_for("the exit code", |s| s.contains("exit-131"));
    tmux.assert_shell_usable();
}
