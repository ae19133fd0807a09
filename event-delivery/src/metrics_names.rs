//! The metrics the pipeline and the transports record through the
//! `metrics` facade. Names follow Prometheus conventions; the one table of
//! them, with types, labels and units, is `docs/observability.md`.

/// Counter: events published, by `type` and `version` (`MAJOR.MINOR`).
pub const PUBLISHED: &str = "events_published_total";
/// Counter: attempts of deliveries, by `consumer`, `type` and `outcome`
/// ([`OUTCOMES`]); every attempt counts once.
pub const CONSUMED: &str = "events_consumed_total";
/// The `outcome` values of [`CONSUMED`]: `processed` (the handler
/// succeeded), `duplicate` (processed before), `retried` (the attempt
/// failed and another is scheduled), `dead_lettered` (moved to the dead
/// letter queue), `skipped` (a type the consumer does not handle, or an
/// at-most-once event whose attempt failed: not retried).
pub const OUTCOMES: &[&str] = &[
    "processed",
    "duplicate",
    "retried",
    "dead_lettered",
    "skipped",
];
/// Histogram: seconds from the start of a handler run to its outcome, by
/// `consumer` and `type`, with the buckets [`HANDLE_SECONDS_BUCKETS`].
pub const HANDLE_SECONDS: &str = "event_handler_duration_seconds";
/// The bucket bounds of [`HANDLE_SECONDS`], in seconds: the same in every
/// process, so that quantiles aggregate across instances. A recorder with
/// configurable buckets (the Prometheus exporter's
/// `set_buckets_for_metric`) is given these.
pub const HANDLE_SECONDS_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Gauge: seconds from the event's `timestamp` to the moment the consumer
/// decoded it, by `consumer` and `type`; set on every delivery of a type
/// the consumer handles, 0 for a timestamp in the future (clock skew).
pub const LAG_SECONDS: &str = "event_consumer_lag_seconds";
/// Gauge: the consumer's backlog as its broker reports it, by `consumer`:
/// JetStream's `num_pending` (`event-nats`), the ready rows of the
/// PostgreSQL queue (`event-postgres`).
pub const PENDING: &str = "event_consumer_pending";
/// Counter: retries scheduled, by `consumer`, `type` and `class`.
pub const RETRIES: &str = "event_retries_total";
/// Gauge: entries in the dead letter queue, by `consumer` and `type`
/// (`unknown` for entries whose type could not be read).
pub const DLQ_DEPTH: &str = "event_dead_letters";
/// Gauge: circuit breaker state, by `consumer`: 0 closed, 1 half-open,
/// 2 open.
pub const BREAKER_STATE: &str = "event_circuit_breaker_state";
/// Gauge: outbox rows not yet relayed (`event-postgres`'s relay).
pub const OUTBOX_PENDING: &str = "event_outbox_pending";
/// Gauge: seconds since the oldest outbox row not yet relayed was staged,
/// 0 when there is none.
pub const OUTBOX_OLDEST_AGE_SECONDS: &str = "event_outbox_oldest_age_seconds";

/// Every metric name above, in the order of the table.
pub const ALL: &[&str] = &[
    PUBLISHED,
    CONSUMED,
    HANDLE_SECONDS,
    LAG_SECONDS,
    PENDING,
    DLQ_DEPTH,
    BREAKER_STATE,
    RETRIES,
    OUTBOX_PENDING,
    OUTBOX_OLDEST_AGE_SECONDS,
];
