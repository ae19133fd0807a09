//! The delivery example of `event-delivery` (`--example enrollment`) on a
//! real NATS JetStream server: `enrollment-service` publishes
//! `enrollment.completed` to the five consumers of the domain brief, each a
//! durable consumer derived from the catalog.
//!
//! The certificate renderer fails transiently twice, then works (nak with
//! the policy's delay, redelivered). The gamification service refuses
//! scores under 80: those events are termed into its DLQ stream. Then the
//! fix is deployed and the dead letters are retried: republished to the
//! service, decoded again, handled this time.
//!
//! The server is `NATS_URL` (default 127.0.0.1:4222). Everything lives
//! under the subject prefix `example` (stream `EXAMPLE`), deleted before
//! and after the run.
//!
//! ```text
//! cargo run -p event-nats --example enrollment-nats
//! ```

use event_delivery::{
    Consumer, ConsumerBuilder, ConsumerStats, DeadLetterFilter, DeadLetters, Handler, HandlerError,
    ProcessedStore, PublishAsync, RetryPolicy,
};
use event_nats::async_nats::jetstream::Context;
use event_nats::{NatsDeadLetters, NatsError, NatsSubscriber, NatsTransport, Subjects, Topology};
use event_runtime::{
    Envelope, Event, OffsetDateTime, ProducedBy, Publisher, Service, Uuid, catalog,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Fired when a user completes all content in a course.
#[derive(Debug, Clone, PartialEq, Event)]
#[event(
    type = "enrollment.completed",
    version = "1.0",
    producer = "enrollment-service",
    ordering = "per-entity",
    consumer(
        service = "notification-service",
        reason = "sends the completion email"
    ),
    consumer(service = "certificate-service", reason = "issues the certificate"),
    consumer(service = "analytics-service", reason = "records completion metrics"),
    consumer(service = "gamification-service", reason = "awards completion coins"),
    consumer(
        service = "activity-log",
        reason = "adds an entry to the activity feed"
    )
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
}

catalog! {
    /// What each of the five consumers handles.
    #[derive(Debug, Clone)]
    pub enum EnrollmentInbound {
        EnrollmentCompleted(EnrollmentCompleted),
    }
}

struct EnrollmentService;
impl Service for EnrollmentService {
    const NAME: &'static str = "enrollment-service";
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
    })
    .tenant("tenant_7f3c")
    .correlation("req_xyz789")
    .build()
}

/// Waits until `done` holds, at most 30 s.
async fn until(mut done: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(30);
    while Instant::now() < end {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done()
}

type Running = (oneshot::Sender<()>, JoinHandle<ConsumerStats>);

/// Runs `consumer` on its durable consumer until told to stop.
async fn spawn<H, St, D>(
    js: &Context,
    topology: &Topology,
    consumer: Consumer<EnrollmentInbound, H, St, D>,
) -> Result<Running, NatsError>
where
    H: Handler<EnrollmentInbound, St::Tx>,
    St: ProcessedStore,
    D: DeadLetters,
{
    let sub = NatsSubscriber::new(js, topology, consumer.name()).await?;
    let (stop, stopped) = oneshot::channel::<()>();
    let run = tokio::spawn(sub.run(consumer, async {
        let _ = stopped.await;
    }));
    Ok((stop, run))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("NATS_URL").unwrap_or_else(|_| "127.0.0.1:4222".to_owned());
    let start = Instant::now();
    let at = move || format!("[{:>5.1}s]", start.elapsed().as_secs_f64());
    let js = event_nats::connect(&url).await?;
    let subjects = Subjects::new("example");
    // The five durable consumers come from the contract's consumers.
    let topology = Topology::from_catalog::<EnrollmentInbound>()
        .subjects(subjects.clone())
        .ack_wait(Duration::from_secs(10));
    for s in topology.plan().streams {
        let _ = js.delete_stream(&s.name).await;
    }
    let report = topology.ensure(&js).await?;
    println!(
        "{} {url} (nats-server {}): created {} streams and consumers, for {}",
        at(),
        js.client().server_info().version,
        report.created.len(),
        report
            .filtering
            .map_or_else(|| "an unknown server".to_owned(), |f| f.to_string())
    );

    let mut running = Vec::new();
    let handled = Arc::new(AtomicU32::new(0));
    for service in ["notification-service", "analytics-service", "activity-log"] {
        let handled = handled.clone();
        let consumer = ConsumerBuilder::named(service).handle(move |event: EnrollmentInbound| {
            let handled = handled.clone();
            async move {
                let EnrollmentInbound::EnrollmentCompleted(e) = event;
                handled.fetch_add(1, Ordering::SeqCst);
                println!(
                    "{} {service:<20} {} {}",
                    at(),
                    e.data().course_title,
                    e.id()
                );
                Ok::<(), HandlerError>(())
            }
        });
        running.push((service, spawn(&js, &topology, consumer).await?));
    }

    // The renderer is down for two calls; nak with the policy's delay.
    let renderer_calls = Arc::new(AtomicU32::new(0));
    let certificates = Arc::new(AtomicU32::new(0));
    let (calls, issued) = (renderer_calls.clone(), certificates.clone());
    let consumer = ConsumerBuilder::named("certificate-service")
        .retry(
            RetryPolicy::default()
                .backoff(Duration::from_millis(500), 2)
                .jitter(0.0),
        )
        .handle(move |event: EnrollmentInbound| {
            let (calls, issued) = (calls.clone(), issued.clone());
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
                issued.fetch_add(1, Ordering::SeqCst);
                println!(
                    "{} certificate-service  certificate for {} (score {})",
                    at(),
                    e.data().course_title,
                    e.data().score
                );
                Ok(())
            }
        });
    running.push((
        "certificate-service",
        spawn(&js, &topology, consumer).await?,
    ));

    // The bug: coins need a score of at least 80.
    let gamification_dlq =
        NatsDeadLetters::new(js.clone(), subjects.clone(), "gamification-service");
    let awarded = Arc::new(AtomicU32::new(0));
    let coins = awarded.clone();
    let buggy = ConsumerBuilder::named("gamification-service")
        .dead_letters(gamification_dlq.clone())
        .handle(move |event: EnrollmentInbound| {
            let coins = coins.clone();
            async move {
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
                coins.fetch_add(1, Ordering::SeqCst);
                println!(
                    "{} gamification-service {} coins for {}",
                    at(),
                    e.data().score,
                    e.data().course_title
                );
                Ok::<(), HandlerError>(())
            }
        });
    let buggy = spawn(&js, &topology, buggy).await?;

    let publisher = Publisher::<EnrollmentService, _>::new(
        NatsTransport::new(js.clone()).subjects(subjects.clone()),
    );
    for (title, score) in [
        ("Rust for Systems", 85),
        ("Event Design", 72),
        ("SQL Basics", 91),
    ] {
        println!(
            "{} enrollment-service   publishes enrollment.completed: {title} (stream ack awaited)",
            at()
        );
        publisher.publish(&completed(title, score)).await?;
    }
    let settled = until(|| {
        handled.load(Ordering::SeqCst) == 9
            && certificates.load(Ordering::SeqCst) == 3
            && awarded.load(Ordering::SeqCst) == 2
    })
    .await;
    let depth = until_depth(&gamification_dlq, 1).await;
    if !settled || !depth {
        return Err("the consumers did not settle within 30 s".into());
    }

    println!(
        "\ndead letters of gamification-service (stream {}):",
        subjects.dlq_stream("gamification-service")
    );
    for entry in gamification_dlq.list(&DeadLetterFilter::all()).await? {
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
    let (stop, run) = buggy;
    let _ = stop.send(());
    let mut stats = vec![("gamification-service (buggy)", run.await?)];
    let fixed_coins = Arc::new(AtomicU32::new(0));
    let coins = fixed_coins.clone();
    let fixed = ConsumerBuilder::named("gamification-service")
        .dead_letters(gamification_dlq.clone())
        .handle(move |event: EnrollmentInbound| {
            let coins = coins.clone();
            async move {
                let EnrollmentInbound::EnrollmentCompleted(e) = event;
                coins.fetch_add(1, Ordering::SeqCst);
                println!(
                    "{} gamification-service {} coins for {} (fixed)",
                    at(),
                    u32::from(e.data().score) / 10,
                    e.data().course_title
                );
                Ok::<(), HandlerError>(())
            }
        });
    running.push((
        "gamification-service (fixed)",
        spawn(&js, &topology, fixed).await?,
    ));
    let retried = gamification_dlq.retry_type("enrollment.completed").await?;
    println!("{} retried {retried} dead letter(s)", at());
    if !until(|| fixed_coins.load(Ordering::SeqCst) == 1).await {
        return Err("the retried dead letter was not handled within 30 s".into());
    }

    for (service, (stop, run)) in running {
        let _ = stop.send(());
        stats.push((service, run.await?));
    }
    println!("\nafter shutdown:");
    for (service, s) in &stats {
        println!(
            "  {service:<28} processed {} duplicates {} retries {} dead-lettered {}",
            s.processed, s.duplicates, s.retries, s.dead_lettered
        );
    }
    println!(
        "  dead letters left: {}",
        gamification_dlq.depth(&DeadLetterFilter::all()).await?
    );
    for s in topology.plan().streams {
        let _ = js.delete_stream(&s.name).await;
    }
    Ok(())
}

async fn until_depth(dlq: &NatsDeadLetters, n: usize) -> bool {
    let end = Instant::now() + Duration::from_secs(30);
    while Instant::now() < end {
        if dlq.depth(&DeadLetterFilter::all()).await.unwrap_or(0) >= n {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
