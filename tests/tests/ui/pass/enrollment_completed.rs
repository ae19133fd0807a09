use event_runtime::{Event, OffsetDateTime, Uuid};

/// Fired when a user completes all content in a course and meets the passing criteria.
#[derive(Debug, Clone, PartialEq, Event)]
#[event(type = "enrollment.completed", version = "1.1", producer = "enrollment-service",
        delivery = "at-least-once", ordering = "per-entity")]
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

fn main() {
    assert_eq!(EnrollmentCompleted::TYPE, "enrollment.completed");
}
