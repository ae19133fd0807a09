use event_runtime::EventData;

#[derive(EventData)]
struct Profile {
    name: String,
    #[event(unknown, closed = "allow x_ names")]
    extra: event_runtime::Map<String, event_runtime::Value>,
}

fn main() {}
