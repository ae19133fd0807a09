use event_runtime::Event;

#[derive(Event)]
#[event(type = "course.published", producer = "course-service")]
pub struct CoursePublished {
    pub course_id: String,
}

fn main() {}
