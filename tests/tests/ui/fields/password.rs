use event_runtime::Event;

#[derive(Event)]
#[event(type = "user.created", version = "1.0", producer = "identity-service")]
pub struct UserCreated {
    pub user_id: String,
    pub password: String,
}

fn main() {}
