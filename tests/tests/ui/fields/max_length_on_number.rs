use event_runtime::Event;

#[derive(Event)]
#[event(type = "order.placed", version = "1.0", producer = "order-service")]
pub struct OrderPlaced {
    pub order_id: String,
    #[event(max_length = 3)]
    pub quantity: u32,
    #[event(minimum = 1)]
    pub note: Option<String>,
}

fn main() {}
