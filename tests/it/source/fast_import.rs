//! Large linear histories in seconds with `git fast-import`, for the history
//! tests and the `gitlog` benchmark.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Makes a bare repository at `dir` whose `main` has `commits` commits, the
/// oldest first, one second apart. Commit `i` changes `apps/web/deploy.yaml`
/// when `i % web_every == 0` and `apps/db/db.yaml` otherwise.
pub fn generate_history(dir: &Path, commits: usize, web_every: usize) {
    let status = Command::new("git")
        .args(["init", "-q", "--bare", "-b", "main"])
        .arg(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .status()
        .unwrap();
    assert!(status.success(), "git init failed");
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet", "--done"])
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut input = std::io::BufWriter::new(child.stdin.take().unwrap());
        let start = 1_600_000_000u64;
        for i in 0..commits {
            let (path, content) = if i % web_every == 0 {
                ("apps/web/deploy.yaml", format!("image: web:{i}\n"))
            } else {
                ("apps/db/db.yaml", format!("image: db:{i}\n"))
            };
            let message = format!("change {i}\n");
            let author = if i % 2 == 0 {
                "Ada Author"
            } else {
                "Bob Builder"
            };
            let email = if i % 2 == 0 {
                "ada@example.com"
            } else {
                "bob@example.com"
            };
            write!(
                input,
                "commit refs/heads/main\nmark :{mark}\nauthor {author} <{email}> {time} +0000\ncommitter {author} <{email}> {time} +0000\ndata {len}\n{message}",
                mark = i + 1,
                time = start + i as u64,
                len = message.len(),
            )
            .unwrap();
            if i > 0 {
                writeln!(input, "from :{i}").unwrap();
            }
            writeln!(
                input,
                "M 100644 inline {path}\ndata {}\n{content}",
                content.len()
            )
            .unwrap();
        }
        writeln!(input, "done").unwrap();
        input.flush().unwrap();
    }
    assert!(child.wait().unwrap().success(), "git fast-import failed");
}
