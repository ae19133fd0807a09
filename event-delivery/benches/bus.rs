//! Typed publish -> handle on the in-process bus against a baseline of raw
//! `tokio::sync::mpsc` plus a serde decode of the same bytes, for 1, 5 and
//! 20 consumers; then p50 / p99 publish-to-handle latency of both.
//!
//! ```text
//! cargo bench -p event-delivery --bench bus
//! ```

use criterion::{BenchmarkId, Criterion, Throughput};
use event_delivery::{Bus, ConsumerBuilder, HandlerError, NoStore, PublishAsync};
use event_runtime::{
    Envelope, Event, OffsetDateTime, ProducedBy, Publisher, Service, Uuid, catalog,
};
use serde::Deserialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc};

#[derive(Debug, Clone, PartialEq, Event)]
#[event(
    type = "enrollment.completed",
    version = "1.0",
    producer = "enrollment-service",
    ordering = "per-entity"
)]
pub struct EnrollmentCompleted {
    #[event(partition)]
    pub enrollment_id: Uuid,
    pub user_id: Uuid,
    pub course_id: Uuid,
    pub course_title: String,
    pub completed_at: OffsetDateTime,
    pub score: u8,
    pub total_duration: Option<u32>,
}

catalog! {
    pub enum Inbound { EnrollmentCompleted(EnrollmentCompleted) }
}

struct EnrollmentService;
impl Service for EnrollmentService {
    const NAME: &'static str = "enrollment-service";
}
impl ProducedBy<EnrollmentService> for EnrollmentCompleted {}

/// The baseline's view of the same bytes: plain serde, no checks.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct RawEnvelope {
    id: String,
    #[serde(rename = "type")]
    event_type: String,
    version: String,
    timestamp: String,
    source: String,
    tenant_id: String,
    correlation_id: String,
    data: RawData,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct RawData {
    enrollment_id: Uuid,
    user_id: Uuid,
    course_id: Uuid,
    course_title: String,
    completed_at: String,
    score: u8,
    total_duration: Option<u32>,
}

const BATCH: u64 = 2_000;
const CAPACITY: usize = 1024;

fn event(i: u64) -> Envelope<EnrollmentCompleted> {
    Envelope::new(EnrollmentCompleted {
        enrollment_id: Uuid::from_u128(u128::from(i % 64)),
        user_id: Uuid::new_v4(),
        course_id: Uuid::new_v4(),
        course_title: "Rust for Systems".into(),
        completed_at: OffsetDateTime::now_utc(),
        score: 85,
        total_duration: Some(240),
    })
    .tenant("tenant_7f3c")
    .correlation("req_xyz789")
    .build()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Raw mpsc: the producer encodes, each consumer decodes with serde.
async fn baseline(events: &[Envelope<EnrollmentCompleted>], consumers: usize) {
    let mut senders = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..consumers {
        let (tx, mut rx) = mpsc::channel::<Arc<[u8]>>(CAPACITY);
        senders.push(tx);
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while let Some(bytes) = rx.recv().await {
                let env: RawEnvelope = serde_json::from_slice(&bytes).unwrap();
                std::hint::black_box(&env);
                n += 1;
            }
            n
        }));
    }
    for e in events {
        let bytes: Arc<[u8]> = e.to_json_vec().unwrap().into();
        for tx in &senders {
            tx.send(bytes.clone()).await.unwrap();
        }
    }
    drop(senders);
    for t in tasks {
        assert_eq!(t.await.unwrap(), events.len() as u64);
    }
}

/// The bus: typed publish, then per consumer decode, idempotency claim
/// (in-memory store, or none), handler, record.
async fn bus(events: &[Envelope<EnrollmentCompleted>], consumers: usize, idempotent: bool) {
    let bus = Bus::with_capacity(CAPACITY);
    const NAMES: [&str; 20] = [
        "c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10", "c11", "c12", "c13",
        "c14", "c15", "c16", "c17", "c18", "c19",
    ];
    for name in NAMES.iter().take(consumers) {
        let handler = |e: Inbound| async move {
            std::hint::black_box(&e);
            Ok::<(), HandlerError>(())
        };
        if idempotent {
            bus.subscribe(ConsumerBuilder::named(name).handle(handler));
        } else {
            bus.subscribe(ConsumerBuilder::named(name).store(NoStore).handle(handler));
        }
    }
    let publisher = Publisher::<EnrollmentService, _>::new(bus.clone());
    for e in events {
        publisher.publish(e).await.unwrap();
    }
    let report = bus.shutdown().await;
    for (_, stats) in &report.consumers {
        assert_eq!(stats.processed, events.len() as u64);
    }
}

fn throughput(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("publish_to_handle");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(6));
    for consumers in [1usize, 5, 20] {
        group.throughput(Throughput::Elements(BATCH * consumers as u64));
        for variant in ["baseline_mpsc_serde", "bus_no_store", "bus_in_memory_store"] {
            group.bench_function(BenchmarkId::new(variant, consumers), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let events: Vec<_> = (0..BATCH).map(event).collect();
                        let start = Instant::now();
                        rt.block_on(async {
                            match variant {
                                "baseline_mpsc_serde" => baseline(&events, consumers).await,
                                "bus_no_store" => bus(&events, consumers, false).await,
                                _ => bus(&events, consumers, true).await,
                            }
                        });
                        total += start.elapsed();
                    }
                    total
                })
            });
        }
    }
    group.finish();
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

/// Publishes one event at a time and waits until every consumer handled
/// it: the latency of one publish to the last handler.
fn latency() {
    const SAMPLES: u64 = 5_000;
    let rt = runtime();
    for consumers in [1usize, 5, 20] {
        let (bus_p, base_p) = rt.block_on(async {
            // Bus.
            let done = Arc::new((AtomicU64::new(0), Notify::new()));
            let bus = Bus::with_capacity(CAPACITY);
            for i in 0..consumers {
                let done = done.clone();
                let name: &'static str = Box::leak(format!("c{i}").into_boxed_str());
                bus.subscribe(ConsumerBuilder::named(name).handle(move |_e: Inbound| {
                    let done = done.clone();
                    async move {
                        done.0.fetch_add(1, Ordering::SeqCst);
                        done.1.notify_one();
                        Ok::<(), HandlerError>(())
                    }
                }));
            }
            let publisher = Publisher::<EnrollmentService, _>::new(bus.clone());
            let mut bus_samples = Vec::new();
            for i in 0..SAMPLES {
                let e = event(i);
                let target = (i + 1) * consumers as u64;
                let start = Instant::now();
                publisher.publish(&e).await.unwrap();
                while done.0.load(Ordering::SeqCst) < target {
                    done.1.notified().await;
                }
                bus_samples.push(start.elapsed());
            }
            bus.shutdown().await;

            // Baseline.
            let done = Arc::new((AtomicU64::new(0), Notify::new()));
            let mut senders = Vec::new();
            for _ in 0..consumers {
                let (tx, mut rx) = mpsc::channel::<Arc<[u8]>>(CAPACITY);
                senders.push(tx);
                let done = done.clone();
                tokio::spawn(async move {
                    while let Some(bytes) = rx.recv().await {
                        let env: RawEnvelope = serde_json::from_slice(&bytes).unwrap();
                        std::hint::black_box(&env);
                        done.0.fetch_add(1, Ordering::SeqCst);
                        done.1.notify_one();
                    }
                });
            }
            let mut base_samples = Vec::new();
            for i in 0..SAMPLES {
                let e = event(i);
                let target = (i + 1) * consumers as u64;
                let start = Instant::now();
                let bytes: Arc<[u8]> = e.to_json_vec().unwrap().into();
                for tx in &senders {
                    tx.send(bytes.clone()).await.unwrap();
                }
                while done.0.load(Ordering::SeqCst) < target {
                    done.1.notified().await;
                }
                base_samples.push(start.elapsed());
            }
            (bus_samples, base_samples)
        });
        let (mut b, mut r) = (bus_p, base_p);
        println!(
            "latency/{consumers} consumers: bus p50 {:?} p99 {:?}; baseline p50 {:?} p99 {:?}",
            percentile(&mut b, 0.5),
            percentile(&mut b, 0.99),
            percentile(&mut r, 0.5),
            percentile(&mut r, 0.99),
        );
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    throughput(&mut c);
    latency();
    c.final_summary();
}
