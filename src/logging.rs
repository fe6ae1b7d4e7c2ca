//! Logs go to a daily-rotated file in the state folder, never to the terminal:
//! the TUI owns the screen, and headless commands keep stdout for their output.

use std::path::PathBuf;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;

use crate::config::Paths;

/// Days of logs kept.
const KEPT_LOG_FILES: usize = 7;

#[derive(Debug, thiserror::Error)]
#[error("cannot open a log file in {}: {reason}", dir.display())]
pub struct LogError {
    dir: PathBuf,
    reason: String,
}

/// Keeps the background log writer alive; logs are flushed when it is dropped.
#[must_use = "logs stop when the guard is dropped"]
pub struct LogGuard(#[allow(dead_code)] WorkerGuard);

/// Lines waiting for the writer thread at most.
const LOG_QUEUE_LINES: usize = 8192;

/// Starts logging to today's file. `verbosity` is the count of `-v` flags;
/// `DRIFTDECK_LOG` (an `EnvFilter` directive such as `driftdeck=trace`) overrides it.
pub fn init(paths: &Paths, verbosity: u8) -> Result<LogGuard, LogError> {
    let fail = |reason: String| LogError {
        dir: paths.log_dir.clone(),
        reason,
    };
    std::fs::create_dir_all(&paths.log_dir).map_err(|e| fail(e.to_string()))?;
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(crate::config::LOG_PREFIX)
        .filename_suffix(crate::config::LOG_SUFFIX)
        .max_log_files(KEPT_LOG_FILES)
        .build(&paths.log_dir)
        .map_err(|e| fail(e.to_string()))?;
    // The default queue of 128,000 lines is made up front: 4 MB resident
    // for a log that writes a few lines a minute. A full queue drops lines.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(LOG_QUEUE_LINES)
        .finish(appender);
    let level = match verbosity {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_env("DRIFTDECK_LOG").unwrap_or_else(|_| EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .map_err(|e| fail(e.to_string()))?;
    Ok(LogGuard(guard))
}
