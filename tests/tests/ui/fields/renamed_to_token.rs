use event_runtime::Event;

#[derive(Event)]
#[event(type = "session.started", version = "1.0", producer = "identity-service")]
pub struct SessionStarted {
    pub session_id: String,
    #[event(rename = "accessToken")]
    pub access: String,
}

fn main() {}
