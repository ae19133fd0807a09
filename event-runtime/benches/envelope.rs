//! The cost of the envelope against plain serde, measured in one run.
//!
//! `cargo bench -p event-runtime --bench envelope`
//!
//! - `decode/serde_struct` is the baseline: `serde_json::from_slice` into a
//!   `#[derive(Deserialize)]` struct of the same envelope and payload;
//!   `decode/envelope` is the typed decode with all its checks,
//!   `decode/header` the header-only decode.
//! - `encode/serde_struct` (`serde_json::to_vec`) against `encode/envelope`.
//! - `idempotency/*`: claim, run and record one new event in an
//!   `InMemoryStore` (elements per second = operations per second), on one
//!   and two threads, and the duplicate check of an event already recorded.
//!
//! After criterion, the three ratios with targets are measured again as
//! back-to-back pairs, which hold on a machine shared with other work.

mod support;

use criterion::{Criterion, Throughput, criterion_group};
use event_runtime::idempotency::{IdempotentConsumer, InMemoryStore};
use event_runtime::{Envelope, Event, Header, Map, Value, Version};
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use std::hint::black_box;
use std::time::{Duration, Instant};
use support::{EnrollmentCompleted, paired};
use time::OffsetDateTime;

/// The baseline: the same envelope as a plain serde struct.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SerdeEnvelope {
    id: String,
    #[serde(rename = "type")]
    ty: String,
    version: String,
    #[serde(with = "time::serde::rfc3339")]
    timestamp: OffsetDateTime,
    source: String,
    tenant_id: String,
    correlation_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    causation_id: Option<String>,
    data: EnrollmentCompleted,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metadata: Option<Map<String, Value>>,
}

const ENVELOPE: &str = r#"{"id":"evt_01J9Z3K7Q8R2M4N6P8S0T2V4W6","type":"enrollment.completed","version":"1.0","timestamp":"2026-03-27T10:30:00.000Z","source":"enrollment-service","tenantId":"tenant_7f3c","correlationId":"req_xyz789","data":{"enrollmentId":"0b6f3f6e-3c1a-4c52-9a8e-5d1f2b7c9e10","userId":"5a2d9a4e-8f61-4c3b-b6f0-1e2d3c4b5a69","courseId":"9c1e7b2a-4d3f-4e5a-8b6c-7d8e9f0a1b2c","courseTitle":"Event-driven design","completedAt":"2026-03-27T10:30:00.000Z","score":85,"totalDuration":340}}"#;

fn decode(c: &mut Criterion) {
    let bytes = ENVELOPE.as_bytes();
    // Both readers must accept the input, or the comparison means nothing.
    let plain: SerdeEnvelope = serde_json::from_slice(bytes).expect("baseline decodes");
    let typed = Envelope::<EnrollmentCompleted>::from_json_slice(bytes).expect("envelope decodes");
    assert_eq!(&plain.data, typed.data());
    Header::from_json_slice(bytes).expect("header decodes");

    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("serde_struct", |b| {
        b.iter(|| serde_json::from_slice::<SerdeEnvelope>(black_box(bytes)))
    });
    group.bench_function("envelope", |b| {
        b.iter(|| Envelope::<EnrollmentCompleted>::from_json_slice(black_box(bytes)))
    });
    group.bench_function("header", |b| {
        b.iter(|| Header::from_json_slice(black_box(bytes)).map(|h| h.version()))
    });
    group.finish();
}

fn encode(c: &mut Criterion) {
    let bytes = ENVELOPE.as_bytes();
    let plain: SerdeEnvelope = serde_json::from_slice(bytes).expect("baseline decodes");
    let typed = Envelope::<EnrollmentCompleted>::from_json_slice(bytes).expect("envelope decodes");
    // The same JSON out of both, timestamps aside (RFC 3339 drops `.000`).
    assert_eq!(
        serde_json::to_vec(&plain).expect("baseline encodes"),
        typed.to_json_vec().expect("envelope encodes")
    );

    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("serde_struct", |b| {
        b.iter(|| serde_json::to_vec(black_box(&plain)))
    });
    group.bench_function("envelope", |b| b.iter(|| black_box(&typed).to_json_vec()));
    group.finish();
}

#[derive(Debug, Serialize, Deserialize)]
struct CoursePublished {
    course_id: u64,
}

impl Event for CoursePublished {
    const TYPE: &'static str = "course.published";
    const VERSION: Version = Version::new(1, 0);
    const PRODUCER: &'static str = "course-service";
}

fn events(n: u64) -> Vec<Envelope<CoursePublished>> {
    (0..n)
        .map(|course_id| {
            Envelope::new(CoursePublished { course_id })
                .tenant("tenant_7f3c")
                .correlation("req_xyz789")
                .build()
        })
        .collect()
}

fn handle_all(consumer: &IdempotentConsumer<InMemoryStore>, events: &[Envelope<CoursePublished>]) {
    for event in events {
        let handled = consumer
            .handle(event, |data| Ok::<_, Infallible>(data.course_id))
            .expect("the in-memory store does not fail");
        assert!(handled.ran());
    }
}

fn idempotency(c: &mut Criterion) {
    let mut group = c.benchmark_group("idempotency");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(3));

    group.bench_function("check_and_record/1_thread", |b| {
        b.iter_custom(|iters| {
            let events = events(iters);
            let consumer = IdempotentConsumer::new("certificate-service", InMemoryStore::new());
            let start = Instant::now();
            handle_all(&consumer, &events);
            start.elapsed()
        })
    });

    group.bench_function("check_and_record/2_threads", |b| {
        b.iter_custom(|iters| {
            let events = events(iters);
            let (left, right) = events.split_at(events.len() / 2);
            let consumer = IdempotentConsumer::new("certificate-service", InMemoryStore::new());
            let start = Instant::now();
            std::thread::scope(|s| {
                s.spawn(|| handle_all(&consumer, left));
                s.spawn(|| handle_all(&consumer, right));
            });
            start.elapsed()
        })
    });

    group.bench_function("duplicate/1_thread", |b| {
        let consumer = IdempotentConsumer::new("certificate-service", InMemoryStore::new());
        let event = &events(1)[0];
        let ok = |data: &CoursePublished| Ok::<_, Infallible>(data.course_id);
        assert!(consumer.handle(event, ok).is_ok_and(|h| h.ran()));
        b.iter(|| consumer.handle(black_box(event), ok))
    });
    group.finish();
}

fn paired_ratios() {
    let bytes = ENVELOPE.as_bytes();
    let plain: SerdeEnvelope = serde_json::from_slice(bytes).expect("baseline decodes");
    let typed = Envelope::<EnrollmentCompleted>::from_json_slice(bytes).expect("envelope decodes");
    let mut serde_decode = || {
        black_box(serde_json::from_slice::<SerdeEnvelope>(black_box(bytes)).ok());
    };
    let mut envelope_decode = || {
        black_box(Envelope::<EnrollmentCompleted>::from_json_slice(black_box(bytes)).ok());
    };
    let mut header_decode = || {
        black_box(Header::from_json_slice(black_box(bytes)).ok());
    };
    let mut serde_encode = || {
        black_box(serde_json::to_vec(black_box(&plain)).ok());
    };
    let mut envelope_encode = || {
        black_box(black_box(&typed).to_json_vec().ok());
    };
    println!(
        "\npaired ratios (median [first quartile, third quartile] of 2001 pairs of 200 calls):"
    );
    let [q1, m, q3] = paired(&mut serde_decode, &mut envelope_decode);
    println!(
        "  decode/envelope / decode/serde_struct = {m:.3} [{q1:.3}, {q3:.3}] (target <= 1.10)"
    );
    let [q1, m, q3] = paired(&mut header_decode, &mut envelope_decode);
    println!("  decode/envelope / decode/header       = {m:.3} [{q1:.3}, {q3:.3}] (target >= 2)");
    let [q1, m, q3] = paired(&mut serde_encode, &mut envelope_encode);
    println!(
        "  encode/envelope / encode/serde_struct = {m:.3} [{q1:.3}, {q3:.3}] (target <= 1.10)"
    );
}

criterion_group!(benches, decode, encode, idempotency);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // Only when benchmarking: `cargo test --all-targets` runs this binary
    // without `--bench` to check that each benchmark runs once.
    if std::env::args().any(|arg| arg == "--bench") {
        paired_ratios();
    }
}
