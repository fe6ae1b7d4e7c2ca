//! The process's memory, where the allocator needs telling: glibc keeps
//! the pages freed inside its heap until asked to give them back.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Two malloc arenas instead of glibc's eight per core: the memory freed by
/// the first lists and renders stays in the arena of the thread that freed
/// it, and with a dozen threads the TUI on 10,000 objects held 180 MB for
/// 63 MB of live heap; with two, 40 MB less (issue 10). Call first in
/// `main`, before any thread starts.
pub fn limit_heap_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a malloc parameter; no thread exists yet.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// At most one trim in this long: a trim walks the whole heap.
const TRIM_EVERY: Duration = Duration::from_secs(30);

/// When the heap was last trimmed, and whether a trim asked for since waits.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Trims {
    last: Option<Instant>,
    waiting: bool,
}

/// What to do with a trim asked for at `now`.
#[derive(Debug, PartialEq, Eq)]
enum Trim {
    Now,
    /// Too soon after the last: done at this instant, by the trimmer thread.
    At(Instant),
    /// One already waits; it will free this too.
    Waiting,
}

impl Trims {
    fn ask(&mut self, now: Instant) -> Trim {
        match self.last {
            Some(last) if now.duration_since(last) < TRIM_EVERY => {
                if std::mem::replace(&mut self.waiting, true) {
                    Trim::Waiting
                } else {
                    Trim::At(last + TRIM_EVERY)
                }
            }
            _ => {
                self.last = Some(now);
                self.waiting = false;
                Trim::Now
            }
        }
    }
}

static TRIMS: Mutex<Trims> = Mutex::new(Trims {
    last: None,
    waiting: false,
});

/// Gives the free pages of the heap back to the system: called when the
/// engine has settled, after the first lists and renders freed far more
/// than stays (issue 10). At most once per `TRIM_EVERY`; one asked for
/// sooner is done then, so the last round before a quiet spell is freed
/// too (the engine may not report again for hours).
pub fn release_free_heap() {
    let asked = lock_trims().ask(Instant::now());
    match asked {
        Trim::Now => trim(),
        Trim::At(when) => {
            let _ = std::thread::Builder::new()
                .name("heap-trim".into())
                .spawn(move || {
                    std::thread::sleep(when.saturating_duration_since(Instant::now()));
                    release_free_heap();
                });
        }
        Trim::Waiting => {}
    }
}

fn lock_trims() -> std::sync::MutexGuard<'static, Trims> {
    TRIMS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim only returns free memory to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trim_asked_too_soon_waits_for_its_time_and_only_one_waits() {
        let start = Instant::now();
        let mut trims = Trims::default();
        assert_eq!(trims.ask(start), Trim::Now);
        let soon = start + Duration::from_secs(5);
        assert_eq!(trims.ask(soon), Trim::At(start + TRIM_EVERY));
        assert_eq!(trims.ask(soon), Trim::Waiting);
        // The waiting one, at its time, trims and waits no more.
        assert_eq!(trims.ask(start + TRIM_EVERY), Trim::Now);
        assert!(!trims.waiting);
        let later = start + TRIM_EVERY * 3;
        assert_eq!(trims.ask(later), Trim::Now);
    }
}
