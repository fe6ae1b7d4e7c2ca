//! `driftdeck watch -o json` spawned from the built binary: its lines read
//! as they come, waited for by what they say, and Ctrl-C sent at the end.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout};

use super::support::{APP, NAMESPACE, World};

/// How long one expected line may take: well past poll, settle and backoff.
const LINE_DEADLINE: Duration = Duration::from_secs(45);

/// Rewrites the world's config: the app polled every second, with `extra`.
pub fn configure(world: &World, extra: &str) {
    let config = format!(
        "[[app]]\nname = \"{APP}\"\nrepo = \"{}\"\nbranch = \"main\"\npath = \"apps/shop\"\nnamespace = \"{NAMESPACE}\"\npoll = \"1s\"\n{extra}",
        world.repo().display()
    );
    std::fs::write(world.path("config.toml"), config).unwrap();
}

pub struct Watching {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    /// Every line read so far, in order.
    pub seen: Vec<Value>,
}

impl Watching {
    pub fn start(world: &World, args: &[&str]) -> Watching {
        let mut all = vec!["watch", "-o", "json"];
        all.extend_from_slice(args);
        let mut child = world
            .command(&all)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("driftdeck watch starts");
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Watching {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Reads lines until one matches `wanted`; fails after `LINE_DEADLINE`.
    pub async fn until(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let read =
            async {
                loop {
                    let line =
                        self.lines.next_line().await.unwrap().unwrap_or_else(|| {
                            panic!("watch ended before {what}: {:#?}", self.seen)
                        });
                    let value: Value = serde_json::from_str(&line)
                        .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
                    self.seen.push(value.clone());
                    if wanted(&value) {
                        return value;
                    }
                }
            };
        match tokio::time::timeout(LINE_DEADLINE, read).await {
            Ok(value) => value,
            Err(_) => panic!(
                "no line with {what} within {LINE_DEADLINE:?}: {:#?}",
                self.seen
            ),
        }
    }

    /// A line already read since `from` that matches `wanted`, else the
    /// next one read: a verdict may come before or after the sync's end.
    pub async fn seen_since_or_until(
        &mut self,
        from: usize,
        what: &str,
        wanted: impl Fn(&Value) -> bool,
    ) -> Value {
        if let Some(line) = self.seen[from..].iter().find(|l| wanted(l)) {
            return line.clone();
        }
        self.until(what, wanted).await
    }

    /// Sends Ctrl-C's signal; gives the exit code and stderr.
    pub async fn interrupt(self) -> (Option<i32>, String) {
        let pid = self.child.id().expect("still running");
        let sent = std::process::Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let output = tokio::time::timeout(Duration::from_secs(20), self.child.wait_with_output())
            .await
            .expect("watch stops on SIGINT")
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

/// A line of `event` (and `status` for a verdict) about the app.
pub fn is_verdict(line: &Value, status: &str) -> bool {
    line["event"] == "verdict" && line["status"] == status
}

pub fn is_sync_ended(line: &Value) -> bool {
    line["event"] == "sync_ended"
}
