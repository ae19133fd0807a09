use event_runtime::Event;

#[derive(Event)]
#[event(type = "publish.course", version = "1.0", producer = "course-service")]
pub struct PublishCourse {
    pub course_id: String,
}

fn main() {}
