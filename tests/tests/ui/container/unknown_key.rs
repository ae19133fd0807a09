use event_runtime::Event;

#[derive(Event)]
#[event(type = "course.published", version = "1.0", producer = "course-service", topic = "courses")]
pub struct CoursePublished {
    pub course_id: String,
}

fn main() {}
