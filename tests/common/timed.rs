//! Running the built binary (or any command) with a deadline: a run that
//! hangs is killed and fails its test instead of hanging CI.

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Longer than any run of the binary in these tests takes, even on a busy CI machine.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// `command.output()` with stdin closed, killed (and the test failed) if it
/// has not finished within `DEADLINE`. Output is read while it runs, so a
/// full pipe cannot stall it.
pub fn output(command: &mut Command) -> Output {
    output_within(command, DEADLINE)
}

fn output_within(command: &mut Command, deadline: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command starts");
    let read_all = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).map(|_| bytes)
        })
    };
    let stdout = read_all(Box::new(child.stdout.take().unwrap()));
    let stderr = read_all(Box::new(child.stderr.take().unwrap()));
    let give_up = Instant::now() + deadline;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= give_up {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("{command:?} did not finish within {deadline:?}");
        }
        thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: stdout.join().unwrap().unwrap(),
        stderr: stderr.join().unwrap().unwrap(),
    }
}

#[test]
#[should_panic(expected = "did not finish within")]
fn a_run_past_its_deadline_is_killed_and_fails() {
    output_within(Command::new("sleep").arg("30"), Duration::from_millis(200));
}
