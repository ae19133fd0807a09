use event_runtime::Event;

#[derive(Event)]
#[event(
    type = "course.published",
    version = "1.0",
    producer = "../../../../PWNED",
    consumer(service = "Shop Service", reason = "lists the course"),
    consumer(service = "shop_service", reason = "lists the course")
)]
pub struct CoursePublished {
    pub course_id: String,
}

fn main() {}
