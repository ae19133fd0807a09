//! Typed publish with ack and consume through the pipeline, against raw
//! async-nats publishing and consuming the same bytes, in one run.
//!
//! ```text
//! cargo bench -p event-nats --bench nats
//! ```
//!
//! Needs the JetStream server at `NATS_URL` (default 127.0.0.1:4222).

use event_delivery::{ConsumerBuilder, HandlerError, PublishAsync};
use event_nats::async_nats::HeaderMap;
use event_nats::async_nats::jetstream::consumer::{PullConsumer, pull};
use event_nats::{NatsSubscriber, NatsTransport, Subjects, Topology};
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
        enrollment_id: format!("enr_{i}"),
        user_id: "usr_42".to_owned(),
        course_id: "crs_7".to_owned(),
        score: 85,
    })
    .tenant("tenant_7f3c")
    .correlation("req_1")
    .build()
}

const N: u64 = 3000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let url = std::env::var("NATS_URL").unwrap_or_else(|_| "127.0.0.1:4222".to_owned());
    let js = event_nats::connect(&url).await.unwrap();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let typed_t = Topology::new()
        .subjects(Subjects::new(format!("bench_typed_{nanos}")))
        .service("bench-service", [("enrollment.completed", 1)]);
    let raw_t = Topology::new()
        .subjects(Subjects::new(format!("bench_raw_{nanos}")))
        .service("bench-service", [("enrollment.completed", 1)]);
    typed_t.ensure(&js).await.unwrap();
    raw_t.ensure(&js).await.unwrap();
    let envelopes: Vec<_> = (0..N).map(envelope).collect();
    let encoded: Vec<(String, bytes::Bytes)> = envelopes
        .iter()
        .map(|e| (e.id().as_str().to_owned(), e.to_json_vec().unwrap().into()))
        .collect();

    // Publish, each waiting for its PubAck.
    let raw_subject = raw_t.subject_scheme().event("enrollment.completed", 1);
    let start = Instant::now();
    for (id, payload) in &encoded {
        let mut h = HeaderMap::new();
        h.insert("Nats-Msg-Id", id.as_str());
        js.publish_with_headers(raw_subject.clone(), h, payload.clone())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let raw_publish = start.elapsed();
    let publisher = Publisher::<EnrollmentService, _>::new(
        NatsTransport::new(js.clone()).subjects(typed_t.subject_scheme().clone()),
    );
    let start = Instant::now();
    for e in &envelopes {
        publisher.publish(e).await.unwrap();
    }
    let typed_publish = start.elapsed();

    // Consume: raw pull and ack, against the pipeline (decode, idempotency
    // claim in memory, handler, ack).
    let stream = js
        .get_stream(raw_t.subject_scheme().stream())
        .await
        .unwrap();
    let consumer: PullConsumer = stream
        .get_consumer::<pull::Config>("bench-service")
        .await
        .unwrap();
    let start = Instant::now();
    let mut messages = consumer
        .stream()
        .max_messages_per_batch(16)
        .messages()
        .await
        .unwrap();
    let mut n = 0;
    while n < N {
        let m = messages.next().await.unwrap().unwrap();
        std::hint::black_box(&m.payload);
        m.ack().await.unwrap();
        n += 1;
    }
    let raw_consume = start.elapsed();
    drop(messages);

    let count = Arc::new(AtomicU64::new(0));
    let c = count.clone();
    let consumer = ConsumerBuilder::named("bench-service").handle(move |_e: Inbound| {
        let c = c.clone();
        async move {
            c.fetch_add(1, Ordering::Relaxed);
            Ok::<(), HandlerError>(())
        }
    });
    let sub = NatsSubscriber::new(&js, &typed_t, "bench-service")
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let start = Instant::now();
    let run = tokio::spawn(sub.run(consumer, async {
        let _ = stopped.await;
    }));
    while count.load(Ordering::Relaxed) < N {
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    let typed_consume = start.elapsed();
    stop.send(()).unwrap();
    run.await.unwrap();

    let rate = |d: Duration| N as f64 / d.as_secs_f64();
    println!("{N} messages, {} bytes each", encoded[0].1.len());
    println!(
        "publish with ack: raw {:.0} msg/s, typed {:.0} msg/s, ratio {:.2}",
        rate(raw_publish),
        rate(typed_publish),
        rate(typed_publish) / rate(raw_publish)
    );
    println!(
        "consume and ack:  raw {:.0} msg/s, typed {:.0} msg/s, ratio {:.2}",
        rate(raw_consume),
        rate(typed_consume),
        rate(typed_consume) / rate(raw_consume)
    );
    for t in [&typed_t, &raw_t] {
        for s in t.plan().streams {
            let _ = js.delete_stream(&s.name).await;
        }
    }
}
