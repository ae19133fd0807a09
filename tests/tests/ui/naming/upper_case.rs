use event_runtime::Event;

#[derive(Event)]
#[event(type = "Course.Published", version = "1.0", producer = "course-service")]
pub struct CoursePublished {
    pub course_id: String,
}

fn main() {}
