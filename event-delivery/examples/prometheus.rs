//! The pipeline's metrics served to Prometheus at `/metrics`, with
//! `metrics-exporter-prometheus`.
//!
//! `enrollment-service` publishes three `enrollment.completed` events on
//! the in-process bus, stamped two minutes ago as a consumer that is behind
//! sees them; `certificate-service` issues two certificates, the first
//! after its renderer timed out once (a retry), and dead-letters the third,
//! whose score is out of range for it. The handler latency histogram has
//! the explicit buckets of `metrics_names::HANDLE_SECONDS_BUCKETS`, the
//! same in every process, so that p50/p95/p99 aggregate across instances
//! (see `docs/observability.md`).
//!
//! ```text
//! cargo run -p event-delivery --example prometheus -- 127.0.0.1:9898
//! curl -s http://127.0.0.1:9898/metrics
//! ```

use event_delivery::metrics_names::{HANDLE_SECONDS, HANDLE_SECONDS_BUCKETS};
use event_delivery::{Bus, CircuitBreaker, HandlerError, PublishAsync, RetryPolicy, consumer};
use event_runtime::{
    Envelope, Event, OffsetDateTime, ProducedBy, Publisher, Service, Uuid, catalog,
};
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long before publishing the example's events happened.
pub const BEHIND: Duration = Duration::from_secs(120);

/// Fired when a user completes all content in a course.
#[derive(Debug, Clone, PartialEq, Event)]
#[event(
    type = "enrollment.completed",
    version = "1.0",
    producer = "enrollment-service",
    ordering = "per-entity"
)]
pub struct EnrollmentCompleted {
    #[event(key, partition)]
    pub enrollment_id: Uuid,
    pub user_id: Uuid,
    pub course_id: Uuid,
    /// For display without a lookup.
    pub course_title: String,
    pub completed_at: OffsetDateTime,
    pub score: u8,
}

catalog! {
    /// What certificate-service handles.
    #[derive(Debug, Clone)]
    pub enum CertificateInbound {
        EnrollmentCompleted(EnrollmentCompleted),
    }
}

pub struct EnrollmentService;
impl Service for EnrollmentService {
    const NAME: &'static str = "enrollment-service";
}
pub struct CertificateService;
impl Service for CertificateService {
    const NAME: &'static str = "certificate-service";
}
impl ProducedBy<EnrollmentService> for EnrollmentCompleted {}

/// Installs the exporter as the global recorder, serving `/metrics` on
/// `addr`. Call it from within a tokio runtime, which runs the listener.
pub fn install(addr: SocketAddr) -> Result<(), BuildError> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(HANDLE_SECONDS.to_string()),
            HANDLE_SECONDS_BUCKETS,
        )?
        .with_http_listener(addr)
        .install()
}

fn completed(score: u8) -> Envelope<EnrollmentCompleted> {
    Envelope::new(EnrollmentCompleted {
        enrollment_id: Uuid::new_v4(),
        user_id: Uuid::new_v4(),
        course_id: Uuid::new_v4(),
        course_title: "Rust for systems engineers".to_owned(),
        completed_at: OffsetDateTime::now_utc(),
        score,
    })
    .timestamp(OffsetDateTime::now_utc() - BEHIND)
    .tenant("tenant_7f3c")
    .correlation("req_xyz789")
    .build()
}

/// Three events through the bus: two certificates issued, the first after
/// one transient failure retried at once, and one score over 100
/// dead-lettered as a permanent failure; the breaker stays closed.
pub async fn traffic() {
    let bus = Bus::new();
    let timed_out = Arc::new(AtomicBool::new(false));
    bus.subscribe(
        consumer::<CertificateService>()
            .retry(RetryPolicy::default().jitter(0.0))
            .circuit_breaker(CircuitBreaker::default())
            .handle(move |event: CertificateInbound| {
                let timed_out = timed_out.clone();
                async move {
                    let CertificateInbound::EnrollmentCompleted(e) = event;
                    if e.data().score > 100 {
                        return Err(HandlerError::permanent("score over 100"));
                    }
                    if !timed_out.swap(true, Ordering::SeqCst) {
                        return Err(HandlerError::transient("renderer timed out"));
                    }
                    Ok(())
                }
            }),
    );
    let publisher = Publisher::<EnrollmentService, _>::new(bus.clone());
    for score in [85, 92, 140] {
        publisher
            .publish(&completed(score))
            .await
            .expect("the bus is running");
    }
    bus.shutdown().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .as_deref()
        .unwrap_or("127.0.0.1:9898")
        .parse()?;
    install(addr)?;
    traffic().await;
    println!("serving http://{addr}/metrics; Ctrl-C to stop");
    std::future::pending::<()>().await;
    Ok(())
}
