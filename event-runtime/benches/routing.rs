//! Routed decode through a catalog enum against the direct typed decode of
//! the same event, measured in one run.
//!
//! `cargo bench -p event-runtime --bench routing`
//!
//! - `routing/direct`: `Envelope::<EnrollmentCompleted>::from_json_slice`;
//! - `routing/catalog_16`: the same bytes through a catalog of 16 types (the
//!   size of the bundled example catalog's enum);
//! - `routing/catalog_1000`: through a catalog of 1,000 types
//!   (`support/routing_synthetic.rs`, written by `bench/gen_routing_catalog.py`).
//!
//! After criterion, each ratio is measured again as back-to-back pairs.

mod support;

use criterion::{Criterion, Throughput, criterion_group};
use event_runtime::{Catalog, Envelope, Event, Routed, Version, catalog};
use serde::{Deserialize, Serialize};
use std::hint::black_box;
use support::{EnrollmentCompleted, paired};

/// Declares one small event type per name, and a catalog over all of them
/// plus `EnrollmentCompleted`, the event the benchmark decodes.
macro_rules! synthetic {
    ($($name:ident = $ty:literal),* $(,)?) => {
        $(
            #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
            #[serde(rename_all = "camelCase")]
            pub struct $name {
                entity_id: String,
                amount: u32,
            }

            impl Event for $name {
                const TYPE: &'static str = $ty;
                const VERSION: Version = Version::new(1, 0);
                const PRODUCER: &'static str = "synthetic-service";
            }
        )*

        catalog! {
            #[allow(clippy::large_enum_variant, dead_code)]
            pub enum Synthetic {
                $( $name($name), )*
                EnrollmentCompleted(EnrollmentCompleted),
            }
        }
    };
}

mod large {
    use super::*;
    include!("support/routing_synthetic.rs");
}

mod small {
    use super::*;
    synthetic! {
        CourseCreated = "course.created",
        CourseUpdated = "course.updated",
        CoursePublished = "course.published",
        CourseArchived = "course.archived",
        CourseDeleted = "course.deleted",
        EnrollmentCreated = "enrollment.created",
        EnrollmentStarted = "enrollment.started",
        EnrollmentExpired = "enrollment.expired",
        UserCreated = "user.created",
        UserUpdated = "user.updated",
        UserDeactivated = "user.deactivated",
        UserDeleted = "user.deleted",
        EnrollmentCompletedV2 = "enrollment.completed2",
        CourseRestored = "course.restored",
        UserMerged = "user.merged",
    }
}

const ENVELOPE: &str = r#"{"id":"evt_01J9Z3K7Q8R2M4N6P8S0T2V4W6","type":"enrollment.completed","version":"1.0","timestamp":"2026-03-27T10:30:00.000Z","source":"enrollment-service","tenantId":"tenant_7f3c","correlationId":"req_xyz789","data":{"enrollmentId":"0b6f3f6e-3c1a-4c52-9a8e-5d1f2b7c9e10","userId":"5a2d9a4e-8f61-4c3b-b6f0-1e2d3c4b5a69","courseId":"9c1e7b2a-4d3f-4e5a-8b6c-7d8e9f0a1b2c","courseTitle":"Event-driven design","completedAt":"2026-03-27T10:30:00.000Z","score":85,"totalDuration":340}}"#;

fn check_inputs() {
    let bytes = ENVELOPE.as_bytes();
    let direct = Envelope::<EnrollmentCompleted>::from_json_slice(bytes).expect("direct decode");
    // Every path must produce the same envelope, or the comparison means
    // nothing.
    match small::Synthetic::decode(bytes).expect("small catalog decode") {
        Routed::Known(small::Synthetic::EnrollmentCompleted(e)) => assert_eq!(e, direct),
        _ => panic!("small catalog routed elsewhere"),
    }
    match large::Synthetic::decode(bytes).expect("large catalog decode") {
        Routed::Known(large::Synthetic::EnrollmentCompleted(e)) => assert_eq!(e, direct),
        _ => panic!("large catalog routed elsewhere"),
    }
    assert_eq!(small::Synthetic::contracts().len(), 16);
    assert_eq!(large::Synthetic::contracts().len(), 1001);
}

fn routing(c: &mut Criterion) {
    check_inputs();
    let bytes = ENVELOPE.as_bytes();
    let mut group = c.benchmark_group("routing");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("direct", |b| {
        b.iter(|| Envelope::<EnrollmentCompleted>::from_json_slice(black_box(bytes)))
    });
    group.bench_function("catalog_16", |b| {
        b.iter(|| small::Synthetic::decode(black_box(bytes)))
    });
    group.bench_function("catalog_1000", |b| {
        b.iter(|| large::Synthetic::decode(black_box(bytes)))
    });
    group.finish();
}

fn paired_ratios() {
    let bytes = ENVELOPE.as_bytes();
    let mut direct = || {
        black_box(Envelope::<EnrollmentCompleted>::from_json_slice(black_box(bytes)).ok());
    };
    let mut small = || {
        black_box(small::Synthetic::decode(black_box(bytes)).ok());
    };
    let mut large = || {
        black_box(large::Synthetic::decode(black_box(bytes)).ok());
    };
    println!(
        "\npaired ratios (median [first quartile, third quartile] of 2001 pairs of 200 calls):"
    );
    let [q1, m, q3] = paired(&mut direct, &mut small);
    println!(
        "  routing/catalog_16 / routing/direct   = {m:.3} [{q1:.3}, {q3:.3}] (target <= 1.15)"
    );
    let [q1, m, q3] = paired(&mut direct, &mut large);
    println!(
        "  routing/catalog_1000 / routing/direct = {m:.3} [{q1:.3}, {q3:.3}] (target <= 1.15)"
    );
}

criterion_group!(benches, routing);

fn main() {
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
    paired_ratios();
}
