use event_runtime::Event;

#[derive(Event)]
#[event(type = "enrollment.completed", version = "2.1", producer = "enrollment-service")]
pub struct EnrollmentCompleted {
    pub enrollment_id: String,
    #[event(since = "1.1")]
    pub total_duration: Option<u32>,
}

fn main() {}
