use event_runtime::EventData;

#[derive(EventData)]
#[event(type = "line.added")]
pub struct LineItem {
    #[event(key)]
    pub sku: String,
}

fn main() {}
