use event_runtime::Event;

#[derive(Event)]
#[event(type = "course.published", version = "1.0", producer = "course-service")]
pub enum CourseEvent {
    Published { course_id: String },
}

fn main() {}
