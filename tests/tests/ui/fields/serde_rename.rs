use event_runtime::Event;

#[derive(Event)]
#[event(type = "course.published", version = "1.0", producer = "course-service")]
pub struct CoursePublished {
    #[serde(rename = "id")]
    pub course_id: String,
}

fn main() {}
