//! The pipeline's wall clock, read from the monotonic one.
//!
//! A delivery needs the wall-clock time twice (the lag and the claim, then
//! the processed record) and the monotonic time for the handler's duration.
//! Reading the wall clock costs a clock read and a conversion to a
//! calendar date each time; here it is read once a second per thread and
//! carried forward by the monotonic reading the pipeline takes anyway.
//! A step of the system clock (a manual set, an NTP step) shows within a
//! second; between readings the times follow the monotonic clock, which
//! never goes back.

use std::cell::Cell;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// How long a reading of the wall clock is carried forward.
const RESYNC: Duration = Duration::from_secs(1);

thread_local! {
    /// The last reading of the wall clock on this thread, and the
    /// monotonic time it was taken at.
    static ANCHOR: Cell<Option<(Instant, OffsetDateTime)>> = const { Cell::new(None) };
}

/// The wall-clock time at `at`, a reading of the monotonic clock taken
/// just before.
pub(crate) fn wall_at(at: Instant) -> OffsetDateTime {
    ANCHOR.with(|anchor| {
        if let Some((mono, wall)) = anchor.get() {
            let carried = at
                .checked_duration_since(mono)
                .filter(|since| *since < RESYNC)
                .and_then(|since| wall.checked_add(time::Duration::try_from(since).ok()?));
            if let Some(now) = carried {
                return now;
            }
        }
        let now = OffsetDateTime::now_utc();
        anchor.set(Some((at, now)));
        now
    })
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
}
