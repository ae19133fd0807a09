use event_runtime::Event;

#[derive(Event)]
#[event(type = "user.created", version = "1.0", producer = "user-service",
        expected_every = "30 minutes")]
pub struct UserCreated {
    pub user_id: String,
}

fn main() {}
