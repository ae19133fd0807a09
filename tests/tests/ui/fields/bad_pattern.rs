use event_runtime::Event;

#[derive(Event)]
#[event(type = "order.placed", version = "1.0", producer = "order-service")]
pub struct OrderPlaced {
    #[event(pattern = "^[A-Z{3}$")]
    pub sku: String,
}

fn main() {}
