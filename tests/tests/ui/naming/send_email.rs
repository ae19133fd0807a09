use event_runtime::Event;

#[derive(Event)]
#[event(type = "send.email", version = "1.0", producer = "notification-service")]
pub struct SendEmail {
    pub user_id: String,
}

fn main() {}
