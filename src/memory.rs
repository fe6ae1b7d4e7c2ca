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

static LAST_TRIM: Mutex<Option<Instant>> = Mutex::new(None);

/// Gives the free pages of the heap back to the system, at most once per
/// `TRIM_EVERY`: called when the engine has settled, after the first lists
/// and renders freed far more than stays (issue 10).
pub fn release_free_heap() {
    let mut last = LAST_TRIM
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if last.is_some_and(|at| at.elapsed() < TRIM_EVERY) {
        return;
    }
    *last = Some(Instant::now());
    trim();
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
