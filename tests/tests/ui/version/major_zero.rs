use event_runtime::Event;

#[derive(Event)]
#[event(type = "course.published", version = "0.1", producer = "course-service")]
pub struct CoursePublished {
    pub course_id: String,
}

fn main() {}
