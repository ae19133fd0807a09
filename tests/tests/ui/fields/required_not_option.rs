use event_runtime::EventData;

#[derive(EventData)]
pub struct Issue {
    #[event(required)]
    pub title: String,
    #[event(required)]
    pub closed_at: Option<Option<String>>,
    #[event(required, default)]
    pub body: Option<String>,
}

fn main() {}
