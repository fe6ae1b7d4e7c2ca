//! Fixtures for the Git tests: repositories made with the real `git`, a real
//! `git daemon` and a small HTTP server in front of `git http-backend`, all
//! on 127.0.0.1 and all stopped when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// `true` when `tool` can be started; otherwise says the test is skipped and why.
pub fn have(tool: &str, arg: &str) -> bool {
    let ok = Command::new(tool)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !ok {
        eprintln!("skipped: `{tool}` is not installed");
    }
    ok
}

pub use crate::common_git::{git, git_command};

/// Writes `files` (path, content) in the work tree at `dir` and commits them.
pub fn commit_files(dir: &Path, files: &[(&str, &str)], message: &str) -> String {
    for (path, content) in files {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, content).unwrap();
    }
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
    git(dir, &["rev-parse", "HEAD"])
}

/// A work tree on `main` and a bare copy of it to serve, in `root`.
pub struct Upstream {
    pub work: PathBuf,
    /// Served as `deploy.git` under the daemon's base path.
    pub bare: PathBuf,
}

impl Upstream {
    /// Two commits: `apps/web` at v1, then v2 with a change in `apps/db`.
    pub fn new(root: &Path) -> (Upstream, String, String) {
        let work = root.join("work");
        std::fs::create_dir_all(&work).unwrap();
        git(&work, &["init", "-q", "-b", "main"]);
        let first = commit_files(
            &work,
            &[
                ("apps/web/deploy.yaml", "image: web:1\n"),
                ("apps/db/db.yaml", "image: db:1\n"),
            ],
            "web v1",
        );
        let second = commit_files(
            &work,
            &[
                ("apps/web/deploy.yaml", "image: web:2\n"),
                ("apps/db/db.yaml", "image: db:2\n"),
            ],
            "web v2",
        );
        let served = root.join("served");
        std::fs::create_dir_all(&served).unwrap();
        let bare = served.join("deploy.git");
        git(
            root,
            &[
                "clone",
                "-q",
                "--bare",
                work.to_str().unwrap(),
                bare.to_str().unwrap(),
            ],
        );
        git(&work, &["remote", "add", "origin", bare.to_str().unwrap()]);
        (Upstream { work, bare }, first, second)
    }

    /// Another developer's commit, pushed straight to the served repository.
    pub fn push_commit(&self, files: &[(&str, &str)], message: &str) -> String {
        git(&self.work, &["pull", "-q", "--ff-only", "origin", "main"]);
        let id = commit_files(&self.work, files, message);
        git(&self.work, &["push", "-q", "origin", "main"]);
        id
    }

    pub fn head(&self) -> String {
        git(&self.bare, &["rev-parse", "main"])
    }

    pub fn served_dir(&self) -> PathBuf {
        self.bare.parent().unwrap().to_path_buf()
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (at most 10 s) until something accepts connections on `port`.
fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nothing listens on port {port} after 10s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A real `git daemon` serving a folder, with every packet traced to a file
/// so a test can tell `ls-refs` from `fetch`. Killed on drop.
pub struct GitDaemon {
    pub port: u16,
    base: PathBuf,
    trace: PathBuf,
    child: Option<Child>,
}

impl GitDaemon {
    pub fn start(base: &Path, trace: &Path) -> GitDaemon {
        let mut daemon = GitDaemon {
            port: free_port(),
            base: base.to_path_buf(),
            trace: trace.to_path_buf(),
            child: None,
        };
        daemon.restart();
        daemon
    }

    /// Starts the daemon again on the same port (after `stop`).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the daemon is already running");
        let child = Command::new("git")
            .args([
                "daemon",
                "--verbose",
                "--reuseaddr",
                "--export-all",
                "--enable=receive-pack",
                "--listen=127.0.0.1",
            ])
            .arg(format!("--port={}", self.port))
            .arg(format!("--base-path={}", self.base.display()))
            .arg(&self.base)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_TRACE_PACKET", &self.trace)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so that stopping it also ends the
            // per-connection children that inherit the listening socket.
            .process_group(0)
            .spawn()
            .unwrap();
        self.child = Some(child);
        wait_for_port(self.port);
    }

    pub fn stop(&mut self) {
        self.kill();
        // The port is closed once the daemon is gone; wait (bounded) for it.
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(
                Instant::now() < deadline,
                "port {} still open after 10s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self, repo: &str) -> String {
        format!("git://127.0.0.1:{}/{repo}", self.port)
    }

    /// How many times upload-pack was asked for `command` (`ls-refs`, `fetch`).
    pub fn commands(&self, command: &str) -> usize {
        let needle = format!("upload-pack< command={command}");
        std::fs::read_to_string(&self.trace)
            .unwrap_or_default()
            .lines()
            .filter(|line| line.contains(&needle))
            .count()
    }
}

impl GitDaemon {
    /// Ends the daemon and its children (the process group it leads).
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .stderr(Stdio::null())
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What the HTTP server answers.
#[derive(Clone, Copy)]
pub enum HttpMode {
    /// Pass every request to `git http-backend`.
    Git,
    /// Answer every request with this status and `Retry-After: <seconds>`.
    Throttle { status: u16, retry_after: u64 },
}

/// Smart HTTP on 127.0.0.1: a thread per connection runs `git http-backend`
/// as CGI. Counts requests; stops on drop.
pub struct HttpServer {
    pub port: u16,
    pub requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HttpServer {
    pub fn start(base: &Path, mode: HttpMode) -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (requests, stop, base) = (requests.clone(), stop.clone(), base.to_path_buf());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            requests.fetch_add(1, Ordering::Relaxed);
                            let base = base.clone();
                            std::thread::spawn(move || serve(stream, &base, mode));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
        };
        HttpServer {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self, repo: &str) -> String {
        format!("http://127.0.0.1:{}/{repo}", self.port)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(stream: TcpStream, base: &Path, mode: HttpMode) {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.set_nonblocking(false).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("GET").to_string();
    let target = parts.next().unwrap_or("/").to_string();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.trim_end().split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let length: usize = header("content-length").parse().unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap_or(());
    let mut out = stream;
    if let HttpMode::Throttle {
        status,
        retry_after,
    } = mode
    {
        let _ = write!(
            out,
            "HTTP/1.1 {status} Slow Down\r\nRetry-After: {retry_after}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        return;
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut cgi = Command::new("git")
        .arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_PROJECT_ROOT", base)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REQUEST_METHOD", &method)
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("CONTENT_TYPE", header("content-type"))
        .env("CONTENT_LENGTH", length.to_string())
        .env("GIT_PROTOCOL", header("git-protocol"))
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    cgi.stdin.take().unwrap().write_all(&body).unwrap_or(());
    let output = cgi.wait_with_output().unwrap();
    let split = output
        .stdout
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| {
            output
                .stdout
                .windows(2)
                .position(|w| w == b"\n\n")
                .map(|i| (i, 2))
        });
    let Some((end, gap)) = split else { return };
    let cgi_headers = String::from_utf8_lossy(&output.stdout[..end]).to_string();
    let cgi_body = &output.stdout[end + gap..];
    let status = cgi_headers
        .lines()
        .find_map(|l| l.strip_prefix("Status:"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "200 OK".to_string());
    let mut response = format!("HTTP/1.1 {status}\r\n");
    for line in cgi_headers.lines().filter(|l| !l.starts_with("Status:")) {
        response.push_str(line.trim_end());
        response.push_str("\r\n");
    }
    response.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        cgi_body.len()
    ));
    let _ = out.write_all(response.as_bytes());
    let _ = out.write_all(cgi_body);
}

/// Number of pack files in a repository's object database.
pub fn pack_count(repo: &Path) -> usize {
    std::fs::read_dir(repo.join("objects/pack"))
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "pack"))
                .count()
        })
        .unwrap_or(0)
}

/// Loose plus packed objects, as `git count-objects -v` reports them.
pub fn object_count(repo: &Path) -> usize {
    let report = git(repo, &["count-objects", "-v"]);
    report
        .lines()
        .filter_map(|line| {
            let (key, value) = line.split_once(": ")?;
            matches!(key, "count" | "in-pack").then(|| value.parse::<usize>().ok())?
        })
        .sum()
}
