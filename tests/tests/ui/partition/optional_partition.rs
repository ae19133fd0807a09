use event_runtime::Event;

#[derive(Event)]
#[event(type = "enrollment.started", version = "1.0", producer = "enrollment-service",
        ordering = "per-entity")]
pub struct EnrollmentStarted {
    #[event(partition)]
    pub enrollment_id: Option<String>,
}

fn main() {}
