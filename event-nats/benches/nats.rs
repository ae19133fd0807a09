//! Typed publish with ack and consume through the pipeline, against raw
//! async-nats publishing and consuming the same bytes, in one process.
//!
//! ```text
//! cargo bench -p event-nats --bench nats
//! BENCH_MESSAGES=3000 BENCH_ROUNDS=15 cargo bench -p event-nats --bench nats
//! ```
//!
//! Needs the JetStream server at `NATS_URL` (default 127.0.0.1:4222).
//! `BENCH_ONLY=raw` or `BENCH_ONLY=typed` runs one side, to count its
//! client instructions under `valgrind --tool=callgrind`.
//!
//! What is compared, so that both sides make the server do the same work:
//!
//! - Each round, two fresh streams made by the same [`Topology`] (file
//!   storage, same duplicate window, the same two durable consumers),
//!   under prefixes of the same length, so subjects are the same size.
//! - The raw side publishes the bytes the typed side would encode, with the
//!   same headers the typed transport sends (`Nats-Msg-Id`, so the server
//!   does duplicate tracking on both, and `Event-Delivery`). The byte and
//!   message counts of both streams are printed at the end as a check.
//! - Publishing: one message at a time, each waiting for its PubAck, on
//!   both sides. The typed side also checks the source and encodes the
//!   envelope inside the timed loop; the raw side sends pre-encoded bytes.
//! - Consuming: both pull in batches of 16 and ack each message once. The
//!   raw side acks in order on one task; the typed side is
//!   `NatsSubscriber::run` (up to 16 deliveries at once: decode, in-memory
//!   idempotency claim, handler, ack).
//! - Raw and typed run back to back in pairs, alternating which goes first,
//!   over several rounds after one warm-up round; the figure is the median
//!   of the per-pair ratios, so load that changes between rounds cancels
//!   within a pair.

use event_delivery::{ConsumerBuilder, HandlerError, PublishAsync};
use event_nats::async_nats::HeaderMap;
use event_nats::async_nats::jetstream::Context;
use event_nats::async_nats::jetstream::consumer::{PullConsumer, pull};
use event_nats::{NatsSubscriber, NatsTransport, Subjects, Topology, headers};
use event_runtime::{Envelope, Event, ProducedBy, Publisher, Service, catalog};
use futures_util::StreamExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Event)]
#[event(
    type = "enrollment.completed",
    version = "1.0",
    producer = "enrollment-service"
)]
struct EnrollmentCompleted {
    enrollment_id: String,
    user_id: String,
    course_id: String,
    score: u32,
}

struct EnrollmentService;
impl Service for EnrollmentService {
    const NAME: &'static str = "enrollment-service";
}
impl ProducedBy<EnrollmentService> for EnrollmentCompleted {}

catalog! {
    enum Inbound { EnrollmentCompleted(EnrollmentCompleted) }
}

fn envelope(i: u64) -> Envelope<EnrollmentCompleted> {
    Envelope::new(EnrollmentCompleted {
        enrollment_id: format!("enr_{i:08}"),
        user_id: "usr_42".to_owned(),
        course_id: "crs_7".to_owned(),
        score: 85,
    })
    .tenant("tenant_7f3c")
    .correlation("req_1")
    .build()
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Publishes pre-encoded envelopes with the headers the typed transport
/// sends, each waiting for its PubAck.
async fn raw_publish(js: &Context, subject: &str, encoded: &[(String, bytes::Bytes)]) -> Duration {
    let delivery = <EnrollmentCompleted as Event>::DELIVERY.as_str();
    let start = Instant::now();
    for (id, payload) in encoded {
        let mut h = HeaderMap::new();
        h.insert(headers::MSG_ID, id.as_str());
        h.insert(headers::DELIVERY, delivery);
        js.publish_with_headers(subject.to_owned(), h, payload.clone())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    start.elapsed()
}

async fn typed_publish(
    publisher: &Publisher<EnrollmentService, NatsTransport>,
    envelopes: &[Envelope<EnrollmentCompleted>],
) -> Duration {
    let start = Instant::now();
    for e in envelopes {
        publisher.publish(e).await.unwrap();
    }
    start.elapsed()
}

/// Pulls `n` messages in batches of 16 and acks each.
async fn raw_consume(consumer: &PullConsumer, n: u64) -> Duration {
    let start = Instant::now();
    let mut messages = consumer
        .stream()
        .max_messages_per_batch(16)
        .messages()
        .await
        .unwrap();
    for _ in 0..n {
        let m = messages.next().await.unwrap().unwrap();
        std::hint::black_box(&m.payload);
        m.ack().await.unwrap();
    }
    start.elapsed()
}

/// Runs the pipeline until its handler has seen `n` events.
async fn typed_consume(js: &Context, topology: &Topology, n: u64) -> Duration {
    let count = Arc::new(AtomicU64::new(0));
    let done = Arc::new(tokio::sync::Notify::new());
    let (c, d) = (count.clone(), done.clone());
    let consumer = ConsumerBuilder::named("bench-service").handle(move |_e: Inbound| {
        let (c, d) = (c.clone(), d.clone());
        async move {
            if c.fetch_add(1, Ordering::Relaxed) + 1 == n {
                d.notify_one();
            }
            Ok::<(), HandlerError>(())
        }
    });
    let sub = NatsSubscriber::new(js, topology, "bench-service")
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let start = Instant::now();
    let run = tokio::spawn(sub.run(consumer, async {
        let _ = stopped.await;
    }));
    done.notified().await;
    let elapsed = start.elapsed();
    stop.send(()).unwrap();
    let stats = run.await.unwrap();
    std::hint::black_box(stats);
    elapsed
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let k = v.len();
    if k % 2 == 1 {
        v[k / 2]
    } else {
        (v[k / 2 - 1] + v[k / 2]) / 2.0
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n = env_u64("BENCH_MESSAGES", 3000);
    // `raw` or `typed` runs one side only, for instruction counts under
    // callgrind; ratios then are not printed.
    let only = std::env::var("BENCH_ONLY").ok();
    let (run_raw, run_typed) = match only.as_deref() {
        Some("raw") => (true, false),
        Some("typed") => (false, true),
        _ => (true, true),
    };
    let rounds = env_u64("BENCH_ROUNDS", 15).clamp(1, 99);
    let url = std::env::var("NATS_URL").unwrap_or_else(|_| "127.0.0.1:4222".to_owned());
    let js = event_nats::connect(&url).await.unwrap();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();

    let mut publish_ratios = Vec::new();
    let mut consume_ratios = Vec::new();
    let mut stored = [(0, 0); 2];
    let mut payload_len = 0;
    println!("{n} messages per side per round, {rounds} rounds after 1 warm-up");
    println!("round  first  publish raw / typed msg/s   ratio  consume raw / typed msg/s   ratio");
    for round in 0..=rounds {
        // Fresh streams each round (made outside the timing): a pull left
        // open by the previous round would take messages nobody reads. The
        // prefixes have equal length, so the subjects the server stores are
        // the same size on both sides.
        let topology = |side: &str| {
            Topology::new()
                .subjects(Subjects::new(format!("bench_{side}{round:02}_{nanos}")))
                .service("bench-service", [("enrollment.completed", 1)])
        };
        let typed_t = topology("t");
        let raw_t = topology("r");
        typed_t.ensure(&js).await.unwrap();
        raw_t.ensure(&js).await.unwrap();
        let raw_subject = raw_t.subject_scheme().event("enrollment.completed", 1);
        let publisher = Publisher::<EnrollmentService, _>::new(
            NatsTransport::new(js.clone()).subjects(typed_t.subject_scheme().clone()),
        );
        let raw_consumer: PullConsumer = js
            .get_stream(raw_t.subject_scheme().stream())
            .await
            .unwrap()
            .get_consumer::<pull::Config>("bench-service")
            .await
            .unwrap();
        // Fresh envelopes for each side: the same sizes, distinct ids (a
        // repeated id would be a duplicate, which is other server work).
        let envelopes: Vec<_> = (0..n).map(envelope).collect();
        let encoded: Vec<(String, bytes::Bytes)> = (0..n)
            .map(envelope)
            .map(|e| (e.id().as_str().to_owned(), e.to_json_vec().unwrap().into()))
            .collect();
        payload_len = encoded[0].1.len();

        let raw_first = round % 2 == 0;
        let mut raw_p = Duration::ZERO;
        let mut typed_p = Duration::ZERO;
        for side in if raw_first {
            [true, false]
        } else {
            [false, true]
        } {
            if side && run_raw {
                raw_p = raw_publish(&js, &raw_subject, &encoded).await;
            } else if !side && run_typed {
                typed_p = typed_publish(&publisher, &envelopes).await;
            }
        }
        let mut raw_c = Duration::ZERO;
        let mut typed_c = Duration::ZERO;
        for side in if raw_first {
            [true, false]
        } else {
            [false, true]
        } {
            if side && run_raw {
                raw_c = raw_consume(&raw_consumer, n).await;
            } else if !side && run_typed {
                typed_c = typed_consume(&js, &typed_t, n).await;
            }
        }

        let rate = |d: Duration| n as f64 / d.as_secs_f64();
        let pr = raw_p.as_secs_f64() / typed_p.as_secs_f64();
        let cr = raw_c.as_secs_f64() / typed_c.as_secs_f64();
        let label = if round == 0 {
            "warm".to_owned()
        } else {
            round.to_string()
        };
        println!(
            "{label:>5}  {:<5}  {:>9.0} / {:<9.0}  {pr:>6.2}  {:>9.0} / {:<9.0}  {cr:>6.2}",
            if raw_first { "raw" } else { "typed" },
            rate(raw_p),
            rate(typed_p),
            rate(raw_c),
            rate(typed_c),
        );
        if round > 0 {
            publish_ratios.push(pr);
            consume_ratios.push(cr);
        }
        for (slot, t) in [&raw_t, &typed_t].into_iter().enumerate() {
            let mut stream = js.get_stream(t.subject_scheme().stream()).await.unwrap();
            let state = stream.info().await.unwrap().state.clone();
            stored[slot].0 += state.messages;
            stored[slot].1 += state.bytes;
        }
        for t in [&typed_t, &raw_t] {
            for s in t.plan().streams {
                let _ = js.delete_stream(&s.name).await;
            }
        }
    }
    println!("payload {payload_len} bytes");
    for (side, (messages, bytes)) in ["raw", "typed"].iter().zip(stored) {
        println!("{side:<5} streams: {messages} messages, {bytes} bytes stored in all");
    }
    if only.is_some() {
        return;
    }
    println!(
        "median of {rounds} pair ratios typed/raw: publish with ack {:.2}, consume and ack {:.2}",
        median(publish_ratios),
        median(consume_ratios)
    );
}
