//! What the benchmarks share: the event they decode and encode, and the
//! paired-ratio measurement.

#![allow(dead_code, reason = "each benchmark uses part of this module")]

use event_runtime::{Event, Version};
use serde::{Deserialize, Serialize};
use std::time::Instant;
use time::OffsetDateTime;
use uuid::Uuid;

/// `enrollment.completed` as the domain brief describes it, written with
/// plain serde attributes so the baselines can share it.
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
    pub total_duration: u32,
}

impl Event for EnrollmentCompleted {
    const TYPE: &'static str = "enrollment.completed";
    const VERSION: Version = Version::new(1, 0);
    const PRODUCER: &'static str = "enrollment-service";

    fn partition_key(&self) -> Option<String> {
        Some(self.enrollment_id.to_string())
    }
}

/// Runs `first` and `second` back to back `PAIRS` times, `BATCH` calls each,
/// alternating which goes first, and returns the quartiles of the ratios
/// `second / first`. Load from other processes hits both halves of a pair
/// alike, which separate criterion runs on a shared machine do not.
pub fn paired(first: &mut dyn FnMut(), second: &mut dyn FnMut()) -> [f64; 3] {
    const PAIRS: usize = 2001;
    const BATCH: usize = 200;
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        for _ in 0..BATCH {
            f();
        }
        start.elapsed().as_secs_f64()
    };
    let mut ratios: Vec<f64> = (0..PAIRS)
        .map(|i| {
            if i % 2 == 0 {
                let a = time(first);
                time(second) / a
            } else {
                let b = time(second);
                b / time(first)
            }
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    [ratios[PAIRS / 4], ratios[PAIRS / 2], ratios[3 * PAIRS / 4]]
}
