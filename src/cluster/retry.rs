//! When to ask an API server again after it said no: one policy for the
//! client's retries of reads and for the watches' reconnects. The first
//! wait is half a second, each next one doubles up to 30 s, and a server's
//! `Retry-After` is waited out when it asks for longer.

use std::time::Duration;

/// The first wait after a failure.
pub const BACKOFF_FIRST: Duration = Duration::from_millis(500);
/// The longest wait the doubling reaches.
pub const BACKOFF_LAST: Duration = Duration::from_secs(30);
/// The longest `Retry-After` honoured; a server asking for more is asked
/// again after this.
pub const RETRY_AFTER_LAST: Duration = Duration::from_secs(300);
/// Retries of one read before its last answer is given to the caller.
pub const READ_RETRIES: u32 = 4;

/// The delay before retry number `failures` (0-based): doubling, capped.
pub fn backoff(failures: u32) -> Duration {
    BACKOFF_FIRST
        .saturating_mul(2u32.saturating_pow(failures.min(16)))
        .min(BACKOFF_LAST)
}

/// The wait before retry number `failures`, given what the server asked
/// for: the longer of the backoff and its `Retry-After` (capped).
pub fn wait_before_retry(failures: u32, retry_after: Option<Duration>) -> Duration {
    let asked = retry_after.map_or(Duration::ZERO, |d| d.min(RETRY_AFTER_LAST));
    backoff(failures).max(asked)
}

/// Answers that say "not now" rather than "no": throttled (429), unavailable
/// (503) or a gateway that timed out (504).
pub fn is_transient(status: u16) -> bool {
    matches!(status, 429 | 503 | 504)
}

/// A `Retry-After` header in seconds (the form API servers send; an HTTP
/// date is not honoured and the backoff applies).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_half_a_second_up_to_its_cap() {
        assert_eq!(backoff(0), Duration::from_millis(500));
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(4));
        assert_eq!(backoff(10), BACKOFF_LAST);
        assert_eq!(backoff(u32::MAX), BACKOFF_LAST);
    }

    #[test]
    fn a_retry_after_longer_than_the_backoff_is_waited_out() {
        assert_eq!(
            wait_before_retry(0, Some(Duration::from_secs(10))),
            Duration::from_secs(10)
        );
        assert_eq!(
            wait_before_retry(0, Some(Duration::ZERO)),
            BACKOFF_FIRST,
            "a server saying 0 still gets the first wait"
        );
        assert_eq!(wait_before_retry(0, None), BACKOFF_FIRST);
        assert_eq!(
            wait_before_retry(3, Some(Duration::from_secs(1))),
            backoff(3)
        );
        assert_eq!(
            wait_before_retry(0, Some(Duration::from_secs(86_400))),
            RETRY_AFTER_LAST
        );
    }

    #[test]
    fn only_throttled_unavailable_and_gateway_timeouts_are_retried() {
        for code in [429, 503, 504] {
            assert!(is_transient(code), "{code}");
        }
        for code in [200, 400, 403, 404, 409, 410, 500, 502] {
            assert!(!is_transient(code), "{code}");
        }
    }

    #[test]
    fn retry_after_is_read_in_seconds_only() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }
}
