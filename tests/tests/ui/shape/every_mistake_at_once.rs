use event_runtime::Event;

#[derive(Event)]
#[event(retries = 3, type = "send.email", version = "1", ordering = "per-entity")]
pub struct SendEmail {
    pub user_id: String,
    pub password: String,
    pub tenant_id: String,
    #[event(since = "1.1")]
    pub template: String,
}

fn main() {}
