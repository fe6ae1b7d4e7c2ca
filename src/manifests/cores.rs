//! Work spread over the machine's cores: one thread per core takes the next
//! part until none is left, and the results come back in the order of the
//! parts whatever the threads do.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Threads for one piece of work, however many cores there are.
const MAX_THREADS: usize = 8;

/// Runs `work` on every part on threads made by `thread`; each result is in
/// the place of its part. A part no thread took (none could be started)
/// comes back as `Err` for the caller to deal with.
pub fn in_order<P: Send, R: Send>(
    parts: Vec<P>,
    thread: impl Fn() -> std::thread::Builder,
    work: impl Fn(P) -> R + Sync,
) -> Vec<Result<R, P>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(parts.len())
        .min(MAX_THREADS);
    let todo: Vec<Mutex<Option<P>>> = parts.into_iter().map(|p| Mutex::new(Some(p))).collect();
    let done: Vec<Mutex<Option<R>>> = todo.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let take = |index: usize| todo.get(index)?.lock().ok()?.take();
    let run = || {
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            if index >= todo.len() {
                break;
            }
            if let Some(part) = take(index) {
                let result = work(part);
                if let Ok(mut slot) = done[index].lock() {
                    *slot = Some(result);
                }
            }
        }
    };
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .filter_map(|_| thread().spawn_scoped(scope, run).ok())
            .collect();
        for worker in workers {
            if let Err(panic) = worker.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
    // Only a worker that panicked loses its part, and its panic went on above.
    done.into_iter()
        .zip(todo)
        .filter_map(|(result, part)| match result.into_inner().ok().flatten() {
            Some(result) => Some(Ok(result)),
            None => part.into_inner().ok().flatten().map(Err),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_order_of_the_parts() {
        let parts: Vec<u64> = (0..100).collect();
        let results = in_order(parts, std::thread::Builder::new, |n| {
            // Uneven work, so threads finish out of order.
            std::thread::sleep(std::time::Duration::from_micros((n * 37) % 200));
            n * 2
        });
        let doubled: Vec<u64> = results.into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(doubled, (0..100).map(|n| n * 2).collect::<Vec<_>>());
    }

    #[test]
    fn parts_no_thread_took_come_back() {
        // A stack larger than the address space: no thread can start.
        let huge = || std::thread::Builder::new().stack_size(usize::MAX / 2);
        let results = in_order(vec![1, 2, 3], huge, |n| n);
        assert_eq!(results, vec![Err(1), Err(2), Err(3)]);
    }
}
