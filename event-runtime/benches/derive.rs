//! The cost of the derived wire format against a hand-written
//! `#[derive(Deserialize)]` of the same shape, measured in one run.
//!
//! `cargo bench -p event-runtime --bench derive`
//!
//! - `payload/*`: `serde_json::from_slice` of the payload alone into the
//!   derived struct and into the hand-written one (the baseline).
//! - `envelope/*`: the full `Envelope::from_json_slice` of each, the
//!   hand-written one with a hand-written `Event` impl.
//! - `payload/derived_constrained`: the derived struct with a `maximum` on
//!   `score` and a `max_length` on `courseTitle`, the price of checking
//!   constraints while decoding.
//! - After criterion, `paired payload` / `paired envelope`: the same two
//!   comparisons as ratios of back-to-back timings, which hold up on a
//!   loaded machine where criterion's separate runs drift.

mod support;

use criterion::{Criterion, criterion_group};
use event_runtime::{Envelope, Event, OffsetDateTime, Uuid, Version};
use serde::{Deserialize, Serialize};
use std::hint::black_box;
use std::time::Duration;

mod derived {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Event)]
    #[event(
        type = "enrollment.completed",
        version = "1.1",
        producer = "enrollment-service",
        ordering = "per-entity"
    )]
    pub struct EnrollmentCompleted {
        #[event(key, partition)]
        pub enrollment_id: Uuid,
        pub user_id: Uuid,
        pub course_id: Uuid,
        pub course_title: String,
        pub completed_at: OffsetDateTime,
        pub score: u8,
        #[event(since = "1.1")]
        pub total_duration: Option<u32>,
    }

    #[derive(Debug, Clone, PartialEq, Event)]
    #[event(
        type = "enrollment.completed",
        version = "1.1",
        producer = "enrollment-service",
        ordering = "per-entity"
    )]
    pub struct Constrained {
        #[event(key, partition)]
        pub enrollment_id: Uuid,
        pub user_id: Uuid,
        pub course_id: Uuid,
        #[event(max_length = 200)]
        pub course_title: String,
        pub completed_at: OffsetDateTime,
        #[event(maximum = 100)]
        pub score: u8,
        #[event(since = "1.1")]
        pub total_duration: Option<u32>,
    }
}

mod hand {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct EnrollmentCompleted {
        pub enrollment_id: Uuid,
        pub user_id: Uuid,
        pub course_id: Uuid,
        pub course_title: String,
        #[serde(with = "time::serde::rfc3339")]
        pub completed_at: OffsetDateTime,
        pub score: u8,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub total_duration: Option<u32>,
    }

    impl Event for EnrollmentCompleted {
        const TYPE: &'static str = "enrollment.completed";
        const VERSION: Version = Version::new(1, 1);
        const PRODUCER: &'static str = "enrollment-service";

        fn partition_key(&self) -> Option<String> {
            Some(self.enrollment_id.to_string())
        }
    }
}

const PAYLOAD: &str = r#"{"enrollmentId":"6f1c1c52-4f6e-4b8e-9a39-1f5c2d8e7a10","userId":"0b6a1a2e-54a4-4c5e-8d1f-2b1f3c4d5e6f","courseId":"9d7e6f5a-4b3c-4d2e-8f1a-0b9c8d7e6f5a","courseTitle":"Rust for Event Designers","completedAt":"2026-03-27T10:30:00.000Z","score":85,"totalDuration":320}"#;

fn envelope() -> String {
    format!(
        r#"{{"id":"evt_01J9Z3K7Q8R2M4N6P8S0T2V4W6","type":"enrollment.completed","version":"1.1","timestamp":"2026-03-27T10:30:00.000Z","source":"enrollment-service","tenantId":"tenant_7f3c","correlationId":"req_xyz789","data":{PAYLOAD},"metadata":{{"triggeredBy":"usr_42"}}}}"#
    )
}

fn payload(c: &mut Criterion) {
    let bytes = PAYLOAD.as_bytes();
    // The two decode the same value, or the comparison means nothing.
    let a: derived::EnrollmentCompleted = serde_json::from_slice(bytes).unwrap();
    let b: hand::EnrollmentCompleted = serde_json::from_slice(bytes).unwrap();
    assert_eq!(
        serde_json::to_value(&a).unwrap(),
        serde_json::to_value(&b).unwrap()
    );

    let mut group = c.benchmark_group("payload");
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("hand_written", |bench| {
        bench
            .iter(|| serde_json::from_slice::<hand::EnrollmentCompleted>(black_box(bytes)).unwrap())
    });
    group.bench_function("derived", |bench| {
        bench.iter(|| {
            serde_json::from_slice::<derived::EnrollmentCompleted>(black_box(bytes)).unwrap()
        })
    });
    group.bench_function("derived_constrained", |bench| {
        bench.iter(|| serde_json::from_slice::<derived::Constrained>(black_box(bytes)).unwrap())
    });
    group.finish();
}

fn full_envelope(c: &mut Criterion) {
    let json = envelope();
    let bytes = json.as_bytes();
    let a = Envelope::<derived::EnrollmentCompleted>::from_json_slice(bytes).unwrap();
    let b = Envelope::<hand::EnrollmentCompleted>::from_json_slice(bytes).unwrap();
    assert_eq!(a.data().course_title, b.data().course_title);

    let mut group = c.benchmark_group("envelope");
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("hand_written", |bench| {
        bench.iter(|| {
            Envelope::<hand::EnrollmentCompleted>::from_json_slice(black_box(bytes)).unwrap()
        })
    });
    group.bench_function("derived", |bench| {
        bench.iter(|| {
            Envelope::<derived::EnrollmentCompleted>::from_json_slice(black_box(bytes)).unwrap()
        })
    });
    group.finish();
}

/// Per-round ratios of adjacent timings (`support::paired`), so that load
/// from other processes hits both sides alike.
fn paired(name: &str, baseline: &dyn Fn(), derived: &dyn Fn()) {
    let [q1, m, q3] = support::paired(&mut || baseline(), &mut || derived());
    println!(
        "paired {name}: derived / hand-written = {m:.3} (median of 2001 rounds; quartiles {q1:.3}..{q3:.3})"
    );
}

fn paired_ratios() {
    let bytes = PAYLOAD.as_bytes();
    paired(
        "payload",
        &|| {
            black_box(
                serde_json::from_slice::<hand::EnrollmentCompleted>(black_box(bytes)).unwrap(),
            );
        },
        &|| {
            black_box(
                serde_json::from_slice::<derived::EnrollmentCompleted>(black_box(bytes)).unwrap(),
            );
        },
    );
    let json = envelope();
    let bytes = json.as_bytes();
    paired(
        "envelope",
        &|| {
            black_box(
                Envelope::<hand::EnrollmentCompleted>::from_json_slice(black_box(bytes)).unwrap(),
            );
        },
        &|| {
            black_box(
                Envelope::<derived::EnrollmentCompleted>::from_json_slice(black_box(bytes))
                    .unwrap(),
            );
        },
    );
}

criterion_group!(benches, payload, full_envelope);

fn main() {
    benches();
    // Skipped by `cargo test --benches`, which runs each bench once as a test.
    if std::env::args().any(|a| a == "--bench") {
        paired_ratios();
    }
    Criterion::default().configure_from_args().final_summary();
}
