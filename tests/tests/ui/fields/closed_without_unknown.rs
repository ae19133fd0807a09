use event_runtime::EventData;

#[derive(EventData)]
struct Profile {
    name: String,
    #[event(closed)]
    extra: event_runtime::Map<String, event_runtime::Value>,
}

fn main() {}
