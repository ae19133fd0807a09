//! The circuit breaker of a consumer that calls out.
//!
//! Closed, it lets every delivery through and remembers the outcome of the
//! last `window` handled events. When that window is full and more than
//! `threshold` of it failed, it opens: the consumer takes no deliveries for
//! `open_for`, and they stay queued. Then it is half-open and lets one
//! delivery through, the probe: success closes it (with an empty window),
//! failure opens it again.
//!
//! Only transient and unknown failures count: a permanent one is the
//! event's fault, not the dependency's.
//!
//! Time is tokio's, so tests move it with the paused clock.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The state a breaker is in, as the `circuit_breaker_state` gauge reports
/// it: 0 closed, 1 half-open, 2 open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Deliveries go through.
    Closed,
    /// One probe goes through; the rest wait for its outcome.
    HalfOpen,
    /// No delivery goes through until the given time.
    Open,
}

impl BreakerState {
    /// The gauge value.
    pub fn gauge(self) -> f64 {
        match self {
            BreakerState::Closed => 0.0,
            BreakerState::HalfOpen => 1.0,
            BreakerState::Open => 2.0,
        }
    }
}

/// What the breaker says to one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Closed: go through.
    Pass,
    /// Half-open: go through as the probe; report the outcome with
    /// `probe = true`.
    Probe,
    /// Open, or half-open with the probe out: wait, then ask again.
    Wait(Option<Instant>),
}

#[derive(Debug)]
enum Mode {
    Closed,
    Open { until: Instant },
    HalfOpen { probe_out: bool },
}

#[derive(Debug)]
struct State {
    mode: Mode,
    window: VecDeque<bool>,
}

/// A circuit breaker with the domain brief's defaults: open when more than
/// 50 % of the last 10 events failed, half-open after 30 s, one probe.
///
/// ```
/// use event_delivery::{Admission, CircuitBreaker, BreakerState};
/// let breaker = CircuitBreaker::default();
/// # let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
/// # rt.block_on(async {
/// for _ in 0..6 { breaker.record(false, false); }
/// for _ in 0..4 { breaker.record(true, false); }
/// assert_eq!(breaker.state(), BreakerState::Open);
/// assert!(matches!(breaker.admit(), Admission::Wait(Some(_))));
/// # });
/// ```
#[derive(Debug)]
pub struct CircuitBreaker {
    window: usize,
    threshold: f64,
    open_for: Duration,
    state: Mutex<State>,
    changed: Notify,
}

impl Default for CircuitBreaker {
    fn default() -> Self {
        Self::new(10, 0.5, Duration::from_secs(30))
    }
}

impl CircuitBreaker {
    /// A breaker that opens when more than `threshold` (0.0 to 1.0) of the
    /// last `window` events failed, and stays open for `open_for`.
    pub fn new(window: usize, threshold: f64, open_for: Duration) -> Self {
        let window = window.max(1);
        CircuitBreaker {
            window,
            threshold: threshold.clamp(0.0, 1.0),
            open_for,
            state: Mutex::new(State {
                mode: Mode::Closed,
                window: VecDeque::with_capacity(window),
            }),
            changed: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is left consistent at every step; a panic elsewhere
        // cannot poison it into something wrong.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The state now (an open breaker whose time ran out is half-open).
    pub fn state(&self) -> BreakerState {
        let mut state = self.lock();
        Self::tick(&mut state);
        match state.mode {
            Mode::Closed => BreakerState::Closed,
            Mode::Open { .. } => BreakerState::Open,
            Mode::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    fn tick(state: &mut State) {
        if let Mode::Open { until } = state.mode {
            if Instant::now() >= until {
                state.mode = Mode::HalfOpen { probe_out: false };
            }
        }
    }

    /// Asks to let one delivery through.
    pub fn admit(&self) -> Admission {
        let mut state = self.lock();
        Self::tick(&mut state);
        match &mut state.mode {
            Mode::Closed => Admission::Pass,
            Mode::Open { until } => Admission::Wait(Some(*until)),
            Mode::HalfOpen { probe_out } if !*probe_out => {
                *probe_out = true;
                Admission::Probe
            }
            Mode::HalfOpen { .. } => Admission::Wait(None),
        }
    }

    /// Reports the outcome of a delivery it let through.
    pub fn record(&self, success: bool, probe: bool) {
        let mut state = self.lock();
        Self::tick(&mut state);
        match state.mode {
            Mode::HalfOpen { .. } if probe => {
                state.window.clear();
                state.mode = if success {
                    Mode::Closed
                } else {
                    Mode::Open {
                        until: Instant::now() + self.open_for,
                    }
                };
            }
            Mode::Closed => {
                if state.window.len() == self.window {
                    state.window.pop_front();
                }
                state.window.push_back(success);
                let failures = state.window.iter().filter(|ok| !**ok).count();
                if state.window.len() == self.window
                    && failures as f64 > self.threshold * self.window as f64
                {
                    state.window.clear();
                    state.mode = Mode::Open {
                        until: Instant::now() + self.open_for,
                    };
                }
            }
            // Outcomes of deliveries let through before the breaker opened.
            _ => {}
        }
        drop(state);
        self.changed.notify_waiters();
    }

    /// A probe that did not run to an outcome (its claim was a duplicate,
    /// say): another delivery may probe.
    pub fn abandon_probe(&self) {
        let mut state = self.lock();
        if let Mode::HalfOpen { probe_out } = &mut state.mode {
            *probe_out = false;
        }
        drop(state);
        self.changed.notify_waiters();
    }

    /// Waits until a delivery could be let through: at once when closed,
    /// until the open time ran out, or until the probe's outcome.
    pub async fn ready(&self) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let wait = {
                let mut state = self.lock();
                Self::tick(&mut state);
                match state.mode {
                    Mode::Closed | Mode::HalfOpen { probe_out: false } => return,
                    Mode::Open { until } => Some(until),
                    Mode::HalfOpen { probe_out: true } => None,
                }
            };
            match wait {
                Some(until) => tokio::select! {
                    _ = tokio::time::sleep_until(until) => {}
                    _ = &mut changed => {}
                },
                None => changed.await,
            }
        }
    }
}
