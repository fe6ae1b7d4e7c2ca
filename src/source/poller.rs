//! The poller: one tokio task per repository, shared by every app that uses
//! it. It owns its schedule and reports over a channel; a handle asks it to
//! refresh or to stop. The decisions live in `schedule`; this is the I/O edge.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use gix::ObjectId;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::SourceError;
use super::http::Traffic;
use super::location::SourceLocation;
use super::schedule::{JitterSource, PollPacing, PollSchedule, Refresh};
use super::update::{NetworkLimits, update_source};

/// What a poller reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceEvent {
    /// A tracked branch's tip, on the first poll and whenever it moves. Its
    /// objects are in `SourceLocation::git_dir`.
    Head {
        source: SourceLocation,
        /// As the apps ask for it: a branch name, or `None` for the default branch.
        tracked: Option<String>,
        /// The branch it resolved to.
        branch: String,
        commit: ObjectId,
    },
    /// A poll failed, or a tracked branch is missing; the next try is at `retry_at`.
    Error {
        source: SourceLocation,
        /// The tracked branch that is missing; `None` when the poll itself failed.
        missing: Option<Option<String>>,
        cause: String,
        retry_at: SystemTime,
    },
    /// When the next poll will happen, after every poll and every refresh request.
    NextPoll {
        source: SourceLocation,
        at: SystemTime,
        /// True while backing off after errors: a refresh waits until `at`.
        in_backoff: bool,
        /// Requests made to the remote so far (0 for a local repository).
        requests: u64,
    },
}

/// How a poller works.
#[derive(Debug, Clone, PartialEq)]
pub struct PollerConfig {
    pub pacing: PollPacing,
    pub limits: NetworkLimits,
    /// Where remote clones live (`Paths::cache_dir`).
    pub cache_dir: PathBuf,
}

enum Command {
    Refresh,
    /// Follow these branches from now on (and poll for them now).
    Track(Vec<Option<String>>),
    Stop,
}

/// Talks to a running poller.
pub struct PollerHandle {
    commands: mpsc::UnboundedSender<Command>,
    traffic: Arc<Traffic>,
    task: JoinHandle<()>,
}

impl PollerHandle {
    /// Poll now, unless backing off after errors (then a `NextPoll` event
    /// repeats when the next try is).
    pub fn refresh(&self) {
        let _ = self.commands.send(Command::Refresh);
    }

    /// Follows `tracked` from now on, polling for them at once (unless
    /// backing off): an engine app found later shares the repository's poller.
    pub fn track(&self, tracked: Vec<Option<String>>) {
        let _ = self.commands.send(Command::Track(tracked));
    }

    /// Requests made to the remote so far.
    pub fn requests(&self) -> u64 {
        self.traffic.requests()
    }

    /// Stops the poller and waits for its task to end. A request in flight
    /// is abandoned (and told to stop).
    pub async fn stop(self) {
        let _ = self.commands.send(Command::Stop);
        let _ = self.task.await;
    }
}

/// Starts polling `source` for the `tracked` branches; the first poll is at
/// once. The poller stops on `PollerHandle::stop` or when `events` closes.
pub fn spawn_poller(
    source: SourceLocation,
    tracked: Vec<Option<String>>,
    config: PollerConfig,
    events: mpsc::Sender<SourceEvent>,
) -> PollerHandle {
    let (commands, receiver) = mpsc::unbounded_channel();
    let traffic = Arc::new(Traffic::default());
    let poller = Poller {
        schedule: PollSchedule::new(config.pacing, Instant::now()),
        source,
        tracked,
        config,
        events,
        commands: receiver,
        traffic: traffic.clone(),
        jitter: JitterSource::default(),
        last_seen: HashMap::new(),
    };
    PollerHandle {
        commands,
        traffic,
        task: tokio::spawn(poller.run()),
    }
}

struct Poller {
    source: SourceLocation,
    tracked: Vec<Option<String>>,
    config: PollerConfig,
    schedule: PollSchedule,
    events: mpsc::Sender<SourceEvent>,
    commands: mpsc::UnboundedReceiver<Command>,
    traffic: Arc<Traffic>,
    jitter: JitterSource,
    /// The last tip reported per tracked branch, to report only moves.
    last_seen: HashMap<Option<String>, ObjectId>,
}

/// The poller stops: asked to, or nobody listens any more.
struct Stopped;

impl Poller {
    async fn run(mut self) {
        while self.wait_for_next_poll().await.is_ok() {
            if self.poll().await.is_err() {
                break;
            }
        }
    }

    /// Sleeps until the next poll is due or a refresh brings it forward.
    async fn wait_for_next_poll(&mut self) -> Result<(), Stopped> {
        loop {
            let due = tokio::time::Instant::from_std(self.schedule.next_poll());
            tokio::select! {
                () = tokio::time::sleep_until(due) => return Ok(()),
                () = self.events.closed() => return Err(Stopped),
                command = self.commands.recv() => match command {
                    Some(Command::Refresh) => match self.schedule.refresh(Instant::now()) {
                        Refresh::Now => return Ok(()),
                        Refresh::Deferred(_) => self.announce_next_poll().await?,
                    },
                    Some(Command::Track(tracked)) => {
                        self.tracked = tracked;
                        if let Refresh::Now = self.schedule.refresh(Instant::now()) {
                            return Ok(());
                        }
                        self.announce_next_poll().await?;
                    }
                    Some(Command::Stop) | None => return Err(Stopped),
                },
            }
        }
    }

    async fn poll(&mut self) -> Result<(), Stopped> {
        // Branches asked for during the poll: polled for right after it.
        let mut retracked = None;
        let result = {
            let update = update_source(
                &self.source,
                &self.config.cache_dir,
                &self.tracked,
                &self.traffic,
                self.config.limits,
            );
            tokio::pin!(update);
            // A refresh during a poll is already being served; a stop is not.
            loop {
                tokio::select! {
                    result = &mut update => break result,
                    command = self.commands.recv() => match command {
                        Some(Command::Refresh) => continue,
                        Some(Command::Track(tracked)) => retracked = Some(tracked),
                        Some(Command::Stop) | None => return Err(Stopped),
                    },
                }
            }
        };
        let now = Instant::now();
        match result {
            Ok(update) => {
                let next = self.schedule.succeeded(now, self.jitter.next_unit());
                for head in update.heads {
                    if self.last_seen.get(&head.tracked) != Some(&head.commit) {
                        self.last_seen.insert(head.tracked.clone(), head.commit);
                        self.send(SourceEvent::Head {
                            source: self.source.clone(),
                            tracked: head.tracked,
                            branch: head.branch,
                            commit: head.commit,
                        })
                        .await?;
                    }
                }
                for missing in update.missing {
                    // Should it come back at the same commit, it is news again.
                    self.last_seen.remove(&missing);
                    let cause = SourceError::BranchNotFound {
                        repo: self.source.to_string(),
                        branch: missing.clone(),
                    }
                    .to_string();
                    self.send(SourceEvent::Error {
                        source: self.source.clone(),
                        missing: Some(missing),
                        cause,
                        retry_at: wall_clock(next),
                    })
                    .await?;
                }
            }
            Err(err) => {
                let next = self
                    .schedule
                    .failed(now, err.retry_after(), self.jitter.next_unit());
                tracing::warn!(source = %self.source, "poll failed: {err}");
                self.send(SourceEvent::Error {
                    source: self.source.clone(),
                    missing: None,
                    cause: err.to_string(),
                    retry_at: wall_clock(next),
                })
                .await?;
            }
        }
        if let Some(tracked) = retracked {
            self.tracked = tracked;
            self.schedule.refresh(Instant::now());
        }
        self.announce_next_poll().await
    }

    async fn announce_next_poll(&mut self) -> Result<(), Stopped> {
        self.send(SourceEvent::NextPoll {
            source: self.source.clone(),
            at: wall_clock(self.schedule.next_poll()),
            in_backoff: self.schedule.in_backoff(),
            requests: self.traffic.requests(),
        })
        .await
    }

    async fn send(&self, event: SourceEvent) -> Result<(), Stopped> {
        self.events.send(event).await.map_err(|_| Stopped)
    }
}

/// The wall-clock time of a monotonic instant, for display.
fn wall_clock(at: Instant) -> SystemTime {
    let now = Instant::now();
    if at >= now {
        SystemTime::now() + (at - now)
    } else {
        SystemTime::now() - (now - at)
    }
}
