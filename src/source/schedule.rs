//! When to ask a remote again: the interval with jitter, exponential backoff
//! on errors, `Retry-After`, and manual refreshes. Pure: time and randomness
//! come in as arguments, so every decision is unit-tested.

use std::time::{Duration, Instant};

/// How a poller paces itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollPacing {
    /// Time between two polls when all is well.
    pub interval: Duration,
    /// Each wait is stretched or shrunk by up to this fraction (0.1 = ±10%),
    /// so pollers started together drift apart.
    pub jitter: f64,
    /// The longest wait after errors, however many in a row.
    pub max_backoff: Duration,
    /// The longest `Retry-After` believed; a larger one is cut to this.
    pub max_retry_after: Duration,
}

impl PollPacing {
    pub fn every(interval: Duration) -> PollPacing {
        PollPacing {
            interval,
            jitter: 0.1,
            max_backoff: Duration::from_secs(600),
            max_retry_after: Duration::from_secs(3600),
        }
    }
}

/// The decision state of one poller.
#[derive(Debug, Clone)]
pub struct PollSchedule {
    pacing: PollPacing,
    next: Instant,
    /// Errors in a row; zero when the last poll succeeded.
    failures: u32,
}

/// What the schedule says about a manual refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    /// Poll now.
    Now,
    /// In backoff after errors: the next try stays at this time.
    Deferred(Instant),
}

impl PollSchedule {
    /// A schedule whose first poll is due at `now`.
    pub fn new(pacing: PollPacing, now: Instant) -> PollSchedule {
        PollSchedule {
            pacing,
            next: now,
            failures: 0,
        }
    }

    /// When the next poll is due.
    pub fn next_poll(&self) -> Instant {
        self.next
    }

    /// True after an error, until a poll succeeds.
    pub fn in_backoff(&self) -> bool {
        self.failures > 0
    }

    /// A poll succeeded at `now`; `random` is uniform in `[0, 1)`.
    pub fn succeeded(&mut self, now: Instant, random: f64) -> Instant {
        self.failures = 0;
        self.next = later(now, self.jittered(self.pacing.interval, random));
        self.next
    }

    /// A poll failed at `now`. The wait doubles with each error in a row, up
    /// to `max_backoff`, and is never shorter than the server's `Retry-After`.
    pub fn failed(&mut self, now: Instant, retry_after: Option<Duration>, random: f64) -> Instant {
        self.failures = self.failures.saturating_add(1);
        let doublings = self.failures.min(20);
        let backoff = self
            .pacing
            .interval
            .saturating_mul(1u32 << doublings)
            .min(self.pacing.max_backoff);
        let backoff = self.jittered(backoff, random).min(self.pacing.max_backoff);
        let wait = match retry_after {
            Some(asked) => backoff.max(asked.min(self.pacing.max_retry_after)),
            None => backoff,
        };
        self.next = later(now, wait);
        self.next
    }

    /// The operator asked to refresh at `now`: poll now, unless in backoff,
    /// where asking again would only add to the remote's load.
    pub fn refresh(&mut self, now: Instant) -> Refresh {
        if self.in_backoff() && self.next > now {
            Refresh::Deferred(self.next)
        } else {
            self.next = now;
            Refresh::Now
        }
    }

    fn jittered(&self, wait: Duration, random: f64) -> Duration {
        let random = if random.is_finite() {
            random.clamp(0.0, 1.0)
        } else {
            0.5
        };
        let factor = 1.0 + self.pacing.jitter * (2.0 * random - 1.0);
        Duration::try_from_secs_f64(wait.as_secs_f64() * factor.max(0.0)).unwrap_or(Duration::MAX)
    }
}

/// `now + wait`, or as far as an `Instant` goes: a huge interval means
/// "not for a long time", never a panic.
fn later(now: Instant, wait: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 86_400);
    now.checked_add(wait)
        .or_else(|| now.checked_add(CENTURY))
        .unwrap_or(now)
}

/// Uniform numbers in `[0, 1)` for jitter, from the standard library's
/// randomly keyed hasher: no dependency for a few random bits.
#[derive(Debug, Default)]
pub struct JitterSource {
    counter: u64,
    keys: std::collections::hash_map::RandomState,
}

impl JitterSource {
    pub fn next_unit(&mut self) -> f64 {
        use std::hash::BuildHasher;
        self.counter = self.counter.wrapping_add(1);
        let bits = self.keys.hash_one(self.counter);
        // 53 bits fill an f64 mantissa exactly.
        (bits >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn a_huge_interval_schedules_far_ahead_without_panicking() {
        let now = Instant::now();
        let mut pacing = PollPacing::every(Duration::MAX);
        pacing.max_backoff = Duration::MAX;
        let mut schedule = PollSchedule::new(pacing, now);
        assert!(schedule.succeeded(now, 0.99) > now);
        assert!(schedule.failed(now, Some(Duration::MAX), 0.99) > now);
    }

    fn schedule() -> (PollSchedule, Instant) {
        let now = Instant::now();
        (PollSchedule::new(PollPacing::every(MINUTE), now), now)
    }

    #[test]
    fn first_poll_is_due_at_once() {
        let (schedule, now) = schedule();
        assert_eq!(schedule.next_poll(), now);
        assert!(!schedule.in_backoff());
    }

    #[test]
    fn success_waits_the_interval_within_ten_percent() {
        let (mut schedule, now) = schedule();
        assert_eq!(schedule.succeeded(now, 0.5), now + MINUTE);
        assert_eq!(schedule.succeeded(now, 0.0), now + Duration::from_secs(54));
        let longest = schedule.succeeded(now, 0.999_999) - now;
        assert!(longest > Duration::from_millis(65_990) && longest <= Duration::from_secs(66));
    }

    #[test]
    fn errors_double_the_wait_up_to_ten_minutes() {
        let (mut schedule, now) = schedule();
        let waits: Vec<u64> = (0..6)
            .map(|_| (schedule.failed(now, None, 0.5) - now).as_secs())
            .collect();
        assert_eq!(waits, vec![120, 240, 480, 600, 600, 600]);
        assert!(schedule.in_backoff());
        // Jitter never pushes the wait past the cap.
        assert_eq!(
            schedule.failed(now, None, 0.999) - now,
            Duration::from_secs(600)
        );
    }

    #[test]
    fn success_ends_the_backoff() {
        let (mut schedule, now) = schedule();
        schedule.failed(now, None, 0.5);
        schedule.failed(now, None, 0.5);
        schedule.succeeded(now, 0.5);
        assert!(!schedule.in_backoff());
        assert_eq!(schedule.failed(now, None, 0.5) - now, 2 * MINUTE);
    }

    #[test]
    fn retry_after_is_honoured_when_longer_than_the_backoff() {
        let (mut schedule, now) = schedule();
        let asked = Duration::from_secs(900);
        assert_eq!(schedule.failed(now, Some(asked), 0.5) - now, asked);
        // A short Retry-After does not shorten the backoff.
        let backoff = schedule.failed(now, Some(Duration::from_secs(1)), 0.5) - now;
        assert_eq!(backoff, Duration::from_secs(240));
    }

    #[test]
    fn an_absurd_retry_after_is_capped() {
        let (mut schedule, now) = schedule();
        let week = Duration::from_secs(7 * 24 * 3600);
        assert_eq!(
            schedule.failed(now, Some(week), 0.5) - now,
            Duration::from_secs(3600)
        );
    }

    #[test]
    fn refresh_polls_now_unless_in_backoff() {
        let (mut schedule, now) = schedule();
        schedule.succeeded(now, 0.5);
        let later = now + Duration::from_secs(10);
        assert_eq!(schedule.refresh(later), Refresh::Now);
        assert_eq!(schedule.next_poll(), later);

        let retry_at = schedule.failed(later, None, 0.5);
        let soon = later + Duration::from_secs(1);
        assert_eq!(schedule.refresh(soon), Refresh::Deferred(retry_at));
        assert_eq!(schedule.next_poll(), retry_at);
        // Once the backoff has run out, a refresh goes through.
        assert_eq!(schedule.refresh(retry_at), Refresh::Now);
    }

    #[test]
    fn odd_random_numbers_do_not_break_the_wait() {
        let (mut schedule, now) = schedule();
        assert_eq!(schedule.succeeded(now, f64::NAN), now + MINUTE);
        assert_eq!(schedule.succeeded(now, 7.0) - now, Duration::from_secs(66));
    }

    #[test]
    fn jitter_source_stays_in_the_unit_interval_and_varies() {
        let mut source = JitterSource::default();
        let values: Vec<f64> = (0..1000).map(|_| source.next_unit()).collect();
        assert!(values.iter().all(|v| (0.0..1.0).contains(v)));
        let low = values.iter().filter(|v| **v < 0.5).count();
        assert!((300..700).contains(&low), "{low} of 1000 below 0.5");
    }
}
