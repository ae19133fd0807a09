//! When a failed delivery is tried again, and when it goes to the dead
//! letter queue.

use event_runtime::ErrorClass;
use std::time::Duration;

/// The retry rules of one consumer, by error class.
///
/// The defaults are the domain brief's: a transient error is retried at
/// once, then after 5 s, 30 s, 3 min (each delay six times the one before),
/// at most 5 attempts in all; an unknown error is retried once, at once; a
/// permanent error is never retried. Each delay after the first gets up to
/// `jitter` of itself added, so consumers that failed together do not retry
/// together.
///
/// ```
/// use event_delivery::RetryPolicy;
/// use event_runtime::ErrorClass;
/// use std::time::Duration;
/// let policy = RetryPolicy::default().jitter(0.0);
/// assert_eq!(policy.next_delay(ErrorClass::Transient, 1), Some(Duration::ZERO));
/// assert_eq!(policy.next_delay(ErrorClass::Transient, 2), Some(Duration::from_secs(5)));
/// assert_eq!(policy.next_delay(ErrorClass::Transient, 3), Some(Duration::from_secs(30)));
/// assert_eq!(policy.next_delay(ErrorClass::Transient, 5), None);
/// assert_eq!(policy.next_delay(ErrorClass::Unknown, 1), Some(Duration::ZERO));
/// assert_eq!(policy.next_delay(ErrorClass::Unknown, 2), None);
/// assert_eq!(policy.next_delay(ErrorClass::Permanent, 1), None);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    transient_attempts: u32,
    unknown_attempts: u32,
    first_backoff: Duration,
    multiplier: u32,
    max_delay: Duration,
    jitter: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            transient_attempts: 5,
            unknown_attempts: 2,
            first_backoff: Duration::from_secs(5),
            multiplier: 6,
            max_delay: Duration::from_secs(15 * 60),
            jitter: 0.1,
        }
    }
}

impl RetryPolicy {
    /// At most `attempts` attempts (the first delivery included) for a
    /// transient error. Default 5.
    pub fn transient_attempts(mut self, attempts: u32) -> Self {
        self.transient_attempts = attempts.max(1);
        self
    }

    /// At most `attempts` attempts for an unknown error. Default 2 (one
    /// retry).
    pub fn unknown_attempts(mut self, attempts: u32) -> Self {
        self.unknown_attempts = attempts.max(1);
        self
    }

    /// The delay before the second retry (the first is at once), and the
    /// factor of each further one. Defaults 5 s and 6 (5 s, 30 s, 3 min).
    pub fn backoff(mut self, first: Duration, multiplier: u32) -> Self {
        self.first_backoff = first;
        self.multiplier = multiplier.max(1);
        self
    }

    /// The longest delay. Default 15 min.
    pub fn max_delay(mut self, max: Duration) -> Self {
        self.max_delay = max;
        self
    }

    /// Up to this fraction of each delay is added at random (0.0 to 1.0).
    /// Default 0.1.
    pub fn jitter(mut self, fraction: f64) -> Self {
        self.jitter = fraction.clamp(0.0, 1.0);
        self
    }

    /// The most attempts an error of `class` gets.
    pub fn max_attempts(&self, class: ErrorClass) -> u32 {
        match class {
            ErrorClass::Transient => self.transient_attempts,
            ErrorClass::Unknown => self.unknown_attempts,
            ErrorClass::Permanent => 1,
        }
    }

    /// The delay before attempt `failed + 1`, after attempt `failed`
    /// (1-based) failed with an error of `class`; `None` when the delivery
    /// goes to the dead letter queue instead.
    pub fn next_delay(&self, class: ErrorClass, failed: u32) -> Option<Duration> {
        if failed >= self.max_attempts(class) {
            return None;
        }
        Some(self.delay_after(failed))
    }

    /// The base delay after attempt `failed`, before jitter.
    pub fn base_delay(&self, failed: u32) -> Duration {
        if failed <= 1 {
            return Duration::ZERO;
        }
        let mut delay = self.first_backoff;
        for _ in 2..failed {
            delay = delay.saturating_mul(self.multiplier);
            if delay >= self.max_delay {
                return self.max_delay;
            }
        }
        delay.min(self.max_delay)
    }

    fn delay_after(&self, failed: u32) -> Duration {
        let base = self.base_delay(failed);
        if base.is_zero() || self.jitter == 0.0 {
            return base;
        }
        base + base.mul_f64(self.jitter * fastrand::f64())
    }
}
