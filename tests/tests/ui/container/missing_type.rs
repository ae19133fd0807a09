use event_runtime::Event;

#[derive(Event)]
#[event(version = "1.0", producer = "course-service")]
pub struct CoursePublished {
    pub course_id: String,
}

fn main() {}
