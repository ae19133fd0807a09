//! The event the test suites decode: `enrollment.completed` as the domain
//! brief describes it, written by hand (no derive) with serde attributes.

#![allow(dead_code, reason = "each test binary uses part of the fixture")]

use event_runtime::{Event, Version};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

pub const ID: &str = "evt_01J9Z3K7Q8R2M4N6P8S0T2V4W6";
pub const CONTEXT: &str = " (event evt_01J9Z3K7Q8R2M4N6P8S0T2V4W6, type enrollment.completed)";

/// `enrollment.completed` 1.1: 1.1 added the optional `grade`.
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
    #[serde(default)]
    pub grade: Option<String>,
}

impl Event for EnrollmentCompleted {
    const TYPE: &'static str = "enrollment.completed";
    const VERSION: Version = Version::new(1, 1);
    const PRODUCER: &'static str = "enrollment-service";

    fn natural_key(&self) -> Option<String> {
        Some(self.enrollment_id.to_string())
    }
}

/// The same fact keyed by its event id, as most events are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CoursePublished {
    pub course_id: String,
}

impl Event for CoursePublished {
    const TYPE: &'static str = "course.published";
    const VERSION: Version = Version::new(1, 0);
    const PRODUCER: &'static str = "course-service";
}

pub fn enrollment_id() -> Uuid {
    Uuid::parse_str("0b6f3f6e-3c1a-4c52-9a8e-5d1f2b7c9e10").unwrap()
}

/// A 1.1 envelope as a producer writes it, as the domain brief shows it.
pub fn envelope() -> Value {
    json!({
        "id": ID,
        "type": "enrollment.completed",
        "version": "1.1",
        "timestamp": "2026-03-27T10:30:00.000Z",
        "source": "enrollment-service",
        "tenantId": "tenant_7f3c",
        "correlationId": "req_xyz789",
        "data": {
            "enrollmentId": enrollment_id().to_string(),
            "userId": "5a2d9a4e-8f61-4c3b-b6f0-1e2d3c4b5a69",
            "courseId": "9c1e7b2a-4d3f-4e5a-8b6c-7d8e9f0a1b2c",
            "courseTitle": "Event-driven design",
            "completedAt": "2026-03-27T10:30:00.000Z",
            "score": 85,
            "totalDuration": 340,
            "grade": "A"
        },
        "metadata": { "triggeredBy": "usr_42", "userAgent": "web" }
    })
}

/// The envelope with `edit` applied to its top-level object.
pub fn edited(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Vec<u8> {
    let mut value = envelope();
    if let Value::Object(map) = &mut value {
        edit(map);
    }
    serde_json::to_vec(&value).unwrap()
}
