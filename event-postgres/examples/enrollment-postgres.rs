//! The delivery example of `event-delivery` (`--example enrollment`) on a
//! real PostgreSQL server: `enrollment-service` stages
//! `enrollment.completed` in its outbox, in the transaction of its own
//! write; the relay publishes it into the durable queue of each of the five
//! consumers of the domain brief; each consumer records what it processed
//! in the `processed_events` inbox.
//!
//! The certificate renderer fails transiently twice, then works (the queue
//! schedules the retry by `run_at`). The gamification service refuses
//! scores under 80: those events go to the `dead_letters` table. Then the
//! fix is deployed and the dead letters are moved back into its queue:
//! decoded again, handled this time.
//!
//! The server is `DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`). Everything lives in the
//! schema `enrollment_example`, dropped before and after the run.
//!
//! ```text
//! cargo run -p event-postgres --example enrollment-postgres
//! ```

use event_delivery::{
    Consumer, ConsumerBuilder, ConsumerStats, DeadLetterFilter, DeadLetters, Handler, HandlerError,
    ProcessedStore, RetryPolicy,
};
use event_postgres::{
    Outbox, OutboxRelay, PgDeadLetters, PgProcessedStore, PgQueue, Tables, migrate,
};
use event_runtime::{Envelope, Event, OffsetDateTime, Uuid, catalog};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const SCHEMA: &str = "enrollment_example";
const CONSUMERS: [&str; 5] = [
    "notification-service",
    "certificate-service",
    "analytics-service",
    "gamification-service",
    "activity-log",
];

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
}

catalog! {
    /// What each of the five consumers handles.
    #[derive(Debug, Clone)]
    pub enum EnrollmentInbound {
        EnrollmentCompleted(EnrollmentCompleted),
    }
}

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

/// Runs `consumer` on its queue until told to stop.
fn spawn<H, St, D>(queue: &PgQueue, consumer: Consumer<EnrollmentInbound, H, St, D>) -> Running
where
    H: Handler<EnrollmentInbound, St::Tx>,
    St: ProcessedStore,
    D: DeadLetters,
{
    let (stop, stopped) = oneshot::channel::<()>();
    let deliveries = queue.subscribe(
        consumer.name(),
        Duration::from_secs(30),
        Duration::from_millis(100),
        async {
            let _ = stopped.await;
        },
    );
    (stop, tokio::spawn(consumer.run(deliveries)))
}

async fn drop_schema(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        .execute(pool)
        .await
        .map(|_| ())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let start = Instant::now();
    let at = move || format!("[{:>5.1}s]", start.elapsed().as_secs_f64());
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(10))
        .connect(&url)
        .await
        .map_err(|e| format!("cannot connect to {url}: {e}"))?;
    drop_schema(&pool).await?;
    let tables = Tables::new(SCHEMA)?;
    migrate(&pool, &tables).await?;
    sqlx::query(&format!(
        "CREATE TABLE {SCHEMA}.completions (enrollment_id UUID PRIMARY KEY, course_title TEXT NOT NULL)"
    ))
    .execute(&pool)
    .await?;
    println!("{} {url}: migrated schema {SCHEMA}", at());

    let queue = PgQueue::new(pool.clone(), &tables);
    let dead_letters = PgDeadLetters::new(pool.clone(), &tables);
    let inbox = || PgProcessedStore::with_tables(pool.clone(), &tables);

    // The relay: the outbox into each consumer's queue.
    let (stop_relay, relay_stopped) = oneshot::channel::<()>();
    let relay = tokio::spawn(
        OutboxRelay::new(pool.clone(), queue.to(CONSUMERS))
            .tables(tables.clone())
            .run(async {
                let _ = relay_stopped.await;
            }),
    );

    let mut running = Vec::new();
    let handled = Arc::new(AtomicU32::new(0));
    for service in ["notification-service", "analytics-service", "activity-log"] {
        let handled = handled.clone();
        let consumer = ConsumerBuilder::named(service)
            .store(inbox())
            .dead_letters(dead_letters.clone())
            .handle(move |event: EnrollmentInbound| {
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
        running.push((service, spawn(&queue, consumer)));
    }

    // The renderer is down for two calls; the queue schedules the retry.
    let calls = Arc::new(AtomicU32::new(0));
    let certificates = Arc::new(AtomicU32::new(0));
    let issued = certificates.clone();
    let consumer = ConsumerBuilder::named("certificate-service")
        .store(inbox())
        .dead_letters(dead_letters.clone())
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
    running.push(("certificate-service", spawn(&queue, consumer)));

    // The bug: coins need a score of at least 80.
    let awarded = Arc::new(AtomicU32::new(0));
    let coins = awarded.clone();
    let buggy = ConsumerBuilder::named("gamification-service")
        .store(inbox())
        .dead_letters(dead_letters.clone())
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
    let buggy = spawn(&queue, buggy);

    // The producer: its own write and the event, one transaction.
    let outbox = Outbox::new(tables.clone());
    for (title, score) in [
        ("Rust for Systems", 85),
        ("Event Design", 72),
        ("SQL Basics", 91),
    ] {
        let event = completed(title, score);
        let mut tx = pool.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO {SCHEMA}.completions (enrollment_id, course_title) VALUES ($1::uuid, $2)"
        ))
        .bind(event.data().enrollment_id.to_string())
        .bind(title)
        .execute(&mut *tx)
        .await?;
        outbox.stage(&mut tx, &event).await?;
        tx.commit().await?;
        println!(
            "{} enrollment-service   committed {title} and its enrollment.completed",
            at()
        );
    }
    let dead = || async {
        dead_letters
            .depth(&DeadLetterFilter::all())
            .await
            .unwrap_or(0)
    };
    let settled = until(|| {
        handled.load(Ordering::SeqCst) == 9
            && certificates.load(Ordering::SeqCst) == 3
            && awarded.load(Ordering::SeqCst) == 2
    })
    .await;
    let end = Instant::now() + Duration::from_secs(30);
    while dead().await < 1 && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !settled || dead().await != 1 {
        return Err("the consumers did not settle within 30 s".into());
    }

    println!("\ndead letters ({SCHEMA}.dead_letters):");
    for entry in dead_letters.list(&DeadLetterFilter::all()).await? {
        println!(
            "  {} {} {} {} v{} tenant {}: {} ({:?}, {} attempt)",
            entry.id,
            entry.consumer,
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
        .store(inbox())
        .dead_letters(dead_letters.clone())
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
    running.push(("gamification-service (fixed)", spawn(&queue, fixed)));
    let retried = dead_letters
        .retry_all(
            &DeadLetterFilter::all()
                .consumer("gamification-service")
                .event_type("enrollment.completed"),
            &queue,
        )
        .await?;
    println!(
        "{} moved {} dead letter(s) back into the queue",
        at(),
        retried.len()
    );
    if !until(|| fixed_coins.load(Ordering::SeqCst) == 1).await {
        return Err("the retried dead letter was not handled within 30 s".into());
    }

    for (service, (stop, run)) in running {
        let _ = stop.send(());
        stats.push((service, run.await?));
    }
    let _ = stop_relay.send(());
    let relay = relay.await?;
    println!("\nafter shutdown:");
    println!("  relay: {relay:?}");
    for (service, s) in &stats {
        println!(
            "  {service:<28} processed {} duplicates {} retries {} dead-lettered {}",
            s.processed, s.duplicates, s.retries, s.dead_lettered
        );
    }
    let processed: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM {SCHEMA}.processed_events WHERE processed_at IS NOT NULL"
    ))
    .fetch_one(&pool)
    .await?;
    println!("  processed_events rows: {processed}");
    println!(
        "  dead letters left: {}",
        dead_letters.depth(&DeadLetterFilter::all()).await?
    );
    drop_schema(&pool).await?;
    Ok(())
}
