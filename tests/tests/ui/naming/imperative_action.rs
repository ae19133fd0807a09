use event_runtime::Event;

#[derive(Event)]
#[event(type = "user.reset_password", version = "1.0", producer = "identity-service")]
pub struct ResetPassword {
    pub user_id: String,
}

fn main() {}
