//! `enrollment-service` publishes `enrollment.completed` to the five
//! consumers of the domain brief, on the in-process bus, with no server.
//!
//! The certificate renderer fails transiently twice, then works. The
//! gamification service has a bug: it refuses courses without a level, so
//! those events go to its dead letter queue. Then the fix is deployed and
//! the dead letters are retried: decoded again, handled this time.
//!
//! The clock is tokio's paused clock, so the 5 s backoff passes at once;
//! times printed are the virtual ones.
//!
//! ```text
//! cargo run -p event-delivery --example enrollment
//! ```

use event_delivery::summary::SummaryRecorder;
use event_delivery::{
    Bus, CircuitBreaker, DeadLetterFilter, DeadLetters, HandlerError, InMemoryDeadLetters,
    PublishAsync, RetryPolicy, consumer,
};
use event_runtime::{
    Envelope, Event, OffsetDateTime, ProducedBy, Publisher, Service, Uuid, catalog,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use tokio::time::Instant;

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
    #[event(maximum = 100)]
    pub score: u8,
    /// Minutes.
    pub total_duration: Option<u32>,
}

catalog! {
    /// What each of the five consumers handles.
    #[derive(Debug, Clone)]
    pub enum EnrollmentInbound {
        EnrollmentCompleted(EnrollmentCompleted),
    }
}

macro_rules! services {
    ($($ty:ident => $name:literal),* $(,)?) => {
        $(struct $ty; impl Service for $ty { const NAME: &'static str = $name; })*
    };
}
services! {
    EnrollmentService => "enrollment-service",
    NotificationService => "notification-service",
    CertificateService => "certificate-service",
    AnalyticsService => "analytics-service",
    GamificationService => "gamification-service",
    ActivityLog => "activity-log",
}
impl ProducedBy<EnrollmentService> for EnrollmentCompleted {}

fn completed(title: &str, score: u8) -> Envelope<EnrollmentCompleted> {
    Envelope::new(EnrollmentCompleted {
        enrollment_id: Uuid::new_v4(),
        user_id: Uuid::new_v4(),
        course_id: Uuid::new_v4(),
        course_title: title.to_owned(),
        completed_at: OffsetDateTime::now_utc(),
        score,
        total_duration: Some(240),
    })
    .tenant("tenant_7f3c")
    .correlation("req_xyz789")
    .build()
}

fn main() {
    let recorder = SummaryRecorder::new();
    metrics::set_global_recorder(recorder.clone()).expect("the only recorder");
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime")
        .block_on(run());
    println!("\nmetrics:");
    print!("{}", recorder.summary());
}

async fn run() {
    let start = Instant::now();
    let at = move || format!("[{:>5.1}s]", start.elapsed().as_secs_f64());
    let bus = Bus::new();

    let log = move |service: &'static str| {
        move |event: EnrollmentInbound| async move {
            let EnrollmentInbound::EnrollmentCompleted(e) = event;
            println!(
                "{} {service:<20} {} {}",
                at(),
                e.data().course_title,
                e.id()
            );
            Ok::<(), HandlerError>(())
        }
    };
    bus.subscribe(consumer::<NotificationService>().handle(log("notification-service")));
    bus.subscribe(consumer::<AnalyticsService>().handle(log("analytics-service")));
    bus.subscribe(consumer::<ActivityLog>().handle(log("activity-log")));

    // The renderer is down for two calls.
    let renderer_calls = Arc::new(AtomicU32::new(0));
    bus.subscribe(
        consumer::<CertificateService>()
            .retry(RetryPolicy::default())
            .circuit_breaker(CircuitBreaker::default())
            .handle(move |event: EnrollmentInbound| {
                let calls = renderer_calls.clone();
                async move {
                    let EnrollmentInbound::EnrollmentCompleted(e) = event;
                    if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                        println!(
                            "{} certificate-service  renderer answered 503 for {}: retry",
                            at(),
                            e.data().course_title
                        );
                        return Err(HandlerError::transient("certificate renderer answered 503"));
                    }
                    println!(
                        "{} certificate-service  certificate for {} (score {})",
                        at(),
                        e.data().course_title,
                        e.data().score
                    );
                    Ok(())
                }
            }),
    );

    // The bug: coins need a score of at least 80.
    let gamification_dlq = InMemoryDeadLetters::new();
    bus.subscribe(
        consumer::<GamificationService>()
            .dead_letters(gamification_dlq.clone())
            .handle(move |event: EnrollmentInbound| async move {
                let EnrollmentInbound::EnrollmentCompleted(e) = event;
                if e.data().score < 80 {
                    println!(
                        "{} gamification-service refuses {}: dead-lettered",
                        at(),
                        e.data().course_title
                    );
                    return Err(HandlerError::permanent(format!(
                        "no coin rule for a score of {}",
                        e.data().score
                    )));
                }
                println!(
                    "{} gamification-service {} coins for {}",
                    at(),
                    e.data().score,
                    e.data().course_title
                );
                Ok(())
            }),
    );

    let publisher = Publisher::<EnrollmentService, _>::new(bus.clone());
    for (title, score) in [
        ("Rust for Systems", 85),
        ("Event Design", 72),
        ("SQL Basics", 91),
    ] {
        println!(
            "{} enrollment-service   publishes enrollment.completed: {title}",
            at()
        );
        publisher
            .publish(&completed(title, score))
            .await
            .expect("published");
    }
    // Let the retries (at once, then 5 s) run out.
    tokio::time::sleep(std::time::Duration::from_secs(10)).await;

    println!("\ndead letters of gamification-service:");
    for entry in gamification_dlq
        .list(&DeadLetterFilter::all())
        .await
        .expect("listed")
    {
        println!(
            "  {} {} {} v{} tenant {}: {} ({:?}, {} attempt)",
            entry.id,
            entry.event_id.as_deref().unwrap_or("?"),
            entry.event_type.as_deref().unwrap_or("?"),
            entry.version.map(|v| v.to_string()).unwrap_or_default(),
            entry.tenant_id.as_deref().unwrap_or("?"),
            entry.error,
            entry.class,
            entry.attempts,
        );
    }

    println!(
        "\n{} deploying the fix to gamification-service, retrying its dead letters",
        at()
    );
    bus.subscribe(
        consumer::<GamificationService>()
            .dead_letters(gamification_dlq.clone())
            .handle(move |event: EnrollmentInbound| async move {
                let EnrollmentInbound::EnrollmentCompleted(e) = event;
                let coins = u32::from(e.data().score) / 10;
                println!(
                    "{} gamification-service {coins} coins for {} (fixed)",
                    at(),
                    e.data().course_title
                );
                Ok::<(), HandlerError>(())
            }),
    );
    let retried = bus
        .retry_dead_letters(
            &gamification_dlq,
            "gamification-service",
            "enrollment.completed",
        )
        .await
        .expect("retried");
    println!("{} retried {retried} dead letter(s)", at());

    let report = bus.shutdown().await;
    println!("\nafter shutdown (one line per release of a consumer):");
    for (consumer, stats) in &report.consumers {
        println!(
            "  {consumer:<20} processed {} duplicates {} retries {} dead-lettered {}",
            stats.processed, stats.duplicates, stats.retries, stats.dead_lettered
        );
    }
    let depth = gamification_dlq
        .depth(&DeadLetterFilter::all())
        .await
        .expect("depth");
    println!("  dead letters left: {depth}");
}
