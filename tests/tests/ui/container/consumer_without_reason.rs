use event_runtime::Event;

#[derive(Event)]
#[event(type = "course.published", version = "1.0", producer = "course-service",
        consumer(service = "search-service"))]
pub struct CoursePublished {
    pub course_id: String,
}

fn main() {}
