//! Folders that are not plain manifests: a kustomization is built with
//! `kustomize build` (or `kubectl kustomize`), a Helm chart with `helm
//! template`. The tools run as child processes with a timeout and a cap on
//! their output; what they print goes through the same loader as files.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::AppSettings;
use super::file::{ManifestFile, Renderer};
use super::limits;

/// Why a renderer could not be run at all (as opposed to running and failing
/// on the app's files, which is a problem with the desired state).
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("{}: {wanted} on PATH, needed for {}", dir.display(), renderer.command())]
    Missing {
        renderer: Renderer,
        wanted: &'static str,
        dir: PathBuf,
    },
    #[error("{}: cannot run {}: {source}", dir.display(), program.display())]
    Spawn {
        dir: PathBuf,
        program: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {} did not finish within {} s", dir.display(), renderer.command(), timeout.as_secs())]
    TimedOut {
        renderer: Renderer,
        dir: PathBuf,
        timeout: Duration,
    },
    #[error("{}: {} printed more than {}", dir.display(), renderer.command(), limits::human_bytes(limits::MAX_TOTAL_BYTES))]
    TooMuchOutput { renderer: Renderer, dir: PathBuf },
}

/// The rendered stream, or the tool's complaint when it failed on the app's
/// files (with the folder written as `display` instead of `dir`).
pub type Rendering = Result<ManifestFile, String>;

/// Renders the folder `dir`; `display` is how messages name it.
pub fn render(
    renderer: Renderer,
    dir: &Path,
    display: &Path,
    app: &AppSettings<'_>,
    timeout: Duration,
) -> Result<Rendering, RenderError> {
    let (program, args) = match renderer {
        Renderer::Kustomize => kustomize_command(dir, display)?,
        Renderer::Helm => {
            // helm reads every file of the chart (`.Files.Get`, values) and
            // follows links: one that leaves the folder would hand the
            // runner's files or environment to the templates and their
            // error messages. kustomize refuses such links itself.
            match super::folder::link_leaving(dir) {
                Ok(None) => {}
                Ok(Some((link, target))) => {
                    return Ok(Err(format!(
                        "{}: symbolic link to \"{}\" leads out of the chart folder; helm is not run",
                        display.join(link).display(),
                        target.display()
                    )));
                }
                Err(err) => return Ok(Err(format!("{err}; helm is not run"))),
            }
            helm_command(dir, display, app)?
        }
    };
    let run = run_with_timeout(&program, &args, timeout).map_err(|failure| match failure {
        RunFailure::Spawn(source) => RenderError::Spawn {
            dir: display.to_path_buf(),
            program: program.clone(),
            source,
        },
        RunFailure::TimedOut => RenderError::TimedOut {
            renderer,
            dir: display.to_path_buf(),
            timeout,
        },
        RunFailure::TooMuchOutput => RenderError::TooMuchOutput {
            renderer,
            dir: display.to_path_buf(),
        },
    })?;
    if !run.status.success() {
        let stderr = String::from_utf8_lossy(&run.stderr);
        let stderr = stderr.replace(&*dir.to_string_lossy(), &display.to_string_lossy());
        let lines: Vec<&str> = stderr
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let why = if lines.is_empty() {
            run.status.to_string()
        } else {
            lines.join("; ")
        };
        return Ok(Err(format!("{} failed: {why}", renderer.command())));
    }
    Ok(Ok(ManifestFile {
        path: PathBuf::new(),
        bytes: run.stdout,
        rendered_by: Some(renderer),
    }))
}

fn kustomize_command(dir: &Path, display: &Path) -> Result<(PathBuf, Vec<OsString>), RenderError> {
    if let Some(kustomize) = find_on_path("kustomize") {
        return Ok((kustomize, vec!["build".into(), dir.into()]));
    }
    if let Some(kubectl) = find_on_path("kubectl") {
        return Ok((kubectl, vec!["kustomize".into(), dir.into()]));
    }
    Err(RenderError::Missing {
        renderer: Renderer::Kustomize,
        wanted: "neither kustomize nor kubectl is",
        dir: display.to_path_buf(),
    })
}

fn helm_command(
    dir: &Path,
    display: &Path,
    app: &AppSettings<'_>,
) -> Result<(PathBuf, Vec<OsString>), RenderError> {
    let helm = find_on_path("helm").ok_or_else(|| RenderError::Missing {
        renderer: Renderer::Helm,
        wanted: "helm is not",
        dir: display.to_path_buf(),
    })?;
    let mut args: Vec<OsString> = vec![
        "template".into(),
        app.name.into(),
        dir.into(),
        "--namespace".into(),
        app.namespace.into(),
    ];
    for values in app.values {
        args.push("--values".into());
        args.push(dir.join(values).into());
    }
    Ok((helm, args))
}

/// The first executable file called `name` in a folder of `PATH`.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            std::fs::metadata(candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// The chart template a document of `helm template` output came from, from
/// its `# Source: chart/templates/x.yaml` comment, relative to the chart.
pub fn helm_template_path(document: &str) -> Option<PathBuf> {
    for line in document.lines() {
        let line = line.trim_end();
        if line.is_empty() || line == "---" {
            continue;
        }
        let source = line.strip_prefix("# Source: ")?;
        // The first component is the chart's name, the folder itself.
        let (_, inside) = source.split_once('/')?;
        return Some(PathBuf::from(inside));
    }
    None
}

#[derive(Debug)]
struct RunOutput {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

#[derive(Debug)]
enum RunFailure {
    Spawn(std::io::Error),
    TimedOut,
    TooMuchOutput,
}

/// Stderr kept for the message; the rest is read and dropped.
const MAX_STDERR_BYTES: u64 = 64 * 1024;

/// Runs a program to completion, killing it after `timeout`.
fn run_with_timeout(
    program: &Path,
    args: &[OsString],
    timeout: Duration,
) -> Result<RunOutput, RunFailure> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(RunFailure::Spawn)?;
    let stdout = child
        .stdout
        .take()
        .map(|out| read_capped(out, limits::MAX_TOTAL_BYTES + 1));
    let stderr = child
        .stderr
        .take()
        .map(|err| read_capped(err, MAX_STDERR_BYTES));
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(RunFailure::TimedOut);
            }
            Ok(None) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(err) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(RunFailure::Spawn(err));
            }
        }
    };
    // The pipes close when every process holding them has ended, which a
    // process the tool started and left running may never do: its output is
    // awaited until the same deadline, then the run counts as timed out and
    // the readers are left to end with the pipes.
    let collect = |reader: Option<mpsc::Receiver<Vec<u8>>>| match reader {
        None => Ok(Vec::new()),
        Some(reader) => {
            match reader.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(bytes) => Ok(bytes),
                Err(mpsc::RecvTimeoutError::Timeout) => Err(RunFailure::TimedOut),
                Err(mpsc::RecvTimeoutError::Disconnected) => Ok(Vec::new()),
            }
        }
    };
    let stdout = collect(stdout.transpose().map_err(RunFailure::Spawn)?)?;
    let stderr = collect(stderr.transpose().map_err(RunFailure::Spawn)?)?;
    if stdout.len() as u64 > limits::MAX_TOTAL_BYTES {
        return Err(RunFailure::TooMuchOutput);
    }
    Ok(RunOutput {
        status,
        stdout,
        stderr,
    })
}

/// A thread that keeps the first `cap` bytes of a pipe and drains the rest,
/// so the child never blocks on a full pipe; it sends what it kept once the
/// pipe closes.
fn read_capped(
    pipe: impl Read + Send + 'static,
    cap: u64,
) -> std::io::Result<mpsc::Receiver<Vec<u8>>> {
    let (sender, receiver) = mpsc::sync_channel(1);
    std::thread::Builder::new().spawn(move || {
        let mut kept = Vec::new();
        let mut limited = pipe.take(cap);
        let _ = limited.read_to_end(&mut kept);
        let _ = std::io::copy(&mut limited.into_inner(), &mut std::io::sink());
        // Nobody listens once the run has timed out.
        let _ = sender.send(kept);
    })?;
    Ok(receiver)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_ask_for_a_renderer_by_their_top_files() {
        assert_eq!(
            Renderer::for_folder(["deploy.yaml", "kustomization.yaml"]),
            Some(Renderer::Kustomize)
        );
        assert_eq!(
            Renderer::for_folder(["Kustomization"]),
            Some(Renderer::Kustomize)
        );
        assert_eq!(
            Renderer::for_folder(["Chart.yaml", "values.yaml"]),
            Some(Renderer::Helm)
        );
        assert_eq!(
            Renderer::for_folder(["Chart.yaml", "kustomization.yml"]),
            Some(Renderer::Kustomize)
        );
        assert_eq!(Renderer::for_folder(["deploy.yaml", "chart.yaml"]), None);
    }

    #[test]
    fn helm_source_comments_name_the_template() {
        let doc = "---\n# Source: web/templates/deploy.yaml\napiVersion: v1\n";
        assert_eq!(
            helm_template_path(doc),
            Some(PathBuf::from("templates/deploy.yaml"))
        );
        let sub = "# Source: web/charts/redis/templates/svc.yaml\nkind: Service\n";
        assert_eq!(
            helm_template_path(sub),
            Some(PathBuf::from("charts/redis/templates/svc.yaml"))
        );
        assert_eq!(helm_template_path("apiVersion: v1\n# Source: x/y\n"), None);
    }

    #[test]
    fn a_hung_tool_is_killed_at_the_timeout() {
        let args: Vec<OsString> = vec!["-c".into(), "sleep 30".into()];
        let result = run_with_timeout(Path::new("/bin/sh"), &args, Duration::from_millis(300));
        assert!(matches!(result, Err(RunFailure::TimedOut)), "{result:?}");
    }

    #[test]
    fn output_held_open_by_a_process_the_tool_left_running_times_out() {
        // The shell exits at once; the sleep it left behind keeps stdout open.
        let args: Vec<OsString> = vec!["-c".into(), "sleep 5 & echo started".into()];
        let result = run_with_timeout(Path::new("/bin/sh"), &args, Duration::from_millis(300));
        assert!(matches!(result, Err(RunFailure::TimedOut)), "{result:?}");
    }

    #[test]
    fn a_failing_tool_gives_its_exit_status_and_stderr() {
        let args: Vec<OsString> = vec!["-c".into(), "echo out; echo broken >&2; exit 3".into()];
        let run = run_with_timeout(Path::new("/bin/sh"), &args, Duration::from_secs(30)).unwrap();
        assert_eq!(run.status.code(), Some(3));
        assert_eq!(run.stdout, b"out\n");
        assert_eq!(run.stderr, b"broken\n");
    }

    #[test]
    fn a_missing_program_is_a_spawn_error() {
        let result = run_with_timeout(Path::new("/nonexistent/tool"), &[], Duration::from_secs(1));
        assert!(matches!(result, Err(RunFailure::Spawn(_))), "{result:?}");
    }
}
