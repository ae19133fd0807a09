//! The pipeline's wall clock, read from the monotonic one.
//!
//! A delivery needs the wall-clock time for its lag (and, with a store
//! that records, for the claim and the processed record) and the
//! monotonic time for the handler's duration. Reading the wall clock
//! costs a clock read, and an `OffsetDateTime` a conversion to a calendar
//! date; here the wall clock is read once a second per thread, kept as
//! Unix nanoseconds, and carried forward by the monotonic reading the
//! pipeline takes anyway. A step of the system clock (a manual set, an
//! NTP step) shows within a second; between readings the times follow the
//! monotonic clock, which never goes back.

use std::cell::Cell;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// How long a reading of the wall clock is carried forward.
const RESYNC: Duration = Duration::from_secs(1);

thread_local! {
    /// The last reading of the wall clock on this thread (Unix
    /// nanoseconds), and the monotonic time it was taken at.
    static ANCHOR: Cell<Option<(Instant, i128)>> = const { Cell::new(None) };
}

/// The wall-clock time at `at` (a reading of the monotonic clock taken
/// just before), in nanoseconds since the Unix epoch.
pub(crate) fn unix_nanos_at(at: Instant) -> i128 {
    ANCHOR.with(|anchor| {
        if let Some((mono, wall)) = anchor.get() {
            if let Some(since) = at.checked_duration_since(mono).filter(|s| *s < RESYNC) {
                return wall + since.as_nanos() as i128;
            }
        }
        let now = OffsetDateTime::now_utc().unix_timestamp_nanos();
        anchor.set(Some((at, now)));
        now
    })
}

/// The wall-clock time at `at`, as a date and time.
pub(crate) fn wall_at(at: Instant) -> OffsetDateTime {
    let nanos = unix_nanos_at(at);
    // Within the range of `OffsetDateTime`: it is today, read a second ago
    // at most.
    OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or_else(|_| OffsetDateTime::now_utc())
}

/// Seconds from `timestamp` to the wall-clock time `now_nanos` (Unix
/// nanoseconds): a delivery's lag. A timestamp ahead of this clock is skew,
/// not negative lag.
pub(crate) fn seconds_since(now_nanos: i128, timestamp: OffsetDateTime) -> f64 {
    ((now_nanos - timestamp.unix_timestamp_nanos()) as f64 / 1e9).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carried_time_follows_the_monotonic_clock_and_stays_near_the_wall_clock() {
        let first = Instant::now();
        let a = wall_at(first);
        let b = wall_at(first + Duration::from_millis(250));
        assert_eq!(b - a, time::Duration::milliseconds(250));
        assert_eq!(
            unix_nanos_at(first + Duration::from_millis(250)),
            b.unix_timestamp_nanos()
        );
        // A reading older than the anchor, or a second past it, reads the
        // wall clock again.
        let later = first + RESYNC + Duration::from_millis(1);
        let before = OffsetDateTime::now_utc();
        let c = wall_at(later);
        let after = OffsetDateTime::now_utc();
        assert!(before <= c && c <= after, "{before} <= {c} <= {after}");
        let real = wall_at(Instant::now());
        let skew = (real - OffsetDateTime::now_utc()).abs();
        assert!(skew < time::Duration::seconds(2), "{skew}");
    }

    #[test]
    fn the_lag_is_the_time_since_the_timestamp_and_never_negative() {
        let now = OffsetDateTime::now_utc();
        let nanos = now.unix_timestamp_nanos();
        let earlier = now - time::Duration::milliseconds(1500);
        assert!((seconds_since(nanos, earlier) - 1.5).abs() < 1e-9);
        assert_eq!(seconds_since(nanos, now + time::Duration::seconds(3)), 0.0);
    }
}
