//! The metrics the pipeline records through the `metrics` facade. Names
//! follow Prometheus conventions; see the table in the crate README.

/// Counter: events published, by `type`.
pub const PUBLISHED: &str = "events_published_total";
/// Counter: deliveries settled, by `consumer`, `type` and `outcome`
/// (`processed`, `duplicate`, `dead_lettered`, `dropped`, `skipped`).
pub const CONSUMED: &str = "events_consumed_total";
/// Histogram: seconds from the start of a handler run to its outcome, by
/// `consumer` and `type`.
pub const HANDLE_SECONDS: &str = "event_handler_duration_seconds";
/// Counter: retries scheduled, by `consumer`, `type` and `class`.
pub const RETRIES: &str = "event_retries_total";
/// Gauge: entries in the dead letter queue, by `consumer`.
pub const DLQ_DEPTH: &str = "event_dead_letters";
/// Gauge: circuit breaker state, by `consumer`: 0 closed, 1 half-open,
/// 2 open.
pub const BREAKER_STATE: &str = "event_circuit_breaker_state";
