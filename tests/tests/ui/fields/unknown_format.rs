use event_runtime::Event;

#[derive(Event)]
#[event(type = "user.registered", version = "1.0", producer = "user-service")]
pub struct UserRegistered {
    #[event(format = "hostname")]
    pub home: String,
}

fn main() {}
