use event_runtime::{Event, OffsetDateTime};

#[derive(Event)]
#[event(type = "course.scheduled", version = "1.0", producer = "course-service")]
pub struct CourseScheduled {
    pub course_id: String,
    pub sessions: Option<Vec<OffsetDateTime>>,
}

fn main() {}
