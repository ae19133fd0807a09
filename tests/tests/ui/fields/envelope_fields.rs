use event_runtime::{Event, OffsetDateTime};

#[derive(Event)]
#[event(type = "course.published", version = "1.0", producer = "course-service")]
pub struct CoursePublished {
    pub course_id: String,
    pub correlation_id: String,
    pub timestamp: OffsetDateTime,
    pub event_type: String,
    #[event(rename = "version")]
    pub course_version: u32,
}

fn main() {}
