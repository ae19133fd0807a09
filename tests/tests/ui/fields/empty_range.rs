use event_runtime::Event;

#[derive(Event)]
#[event(type = "order.placed", version = "1.0", producer = "order-service")]
pub struct OrderPlaced {
    pub order_id: String,
    #[event(minimum = 5, maximum = 1)]
    pub quantity: u32,
    #[event(exclusive_maximum = 2.5, minimum = 2.5)]
    pub weight: f64,
    #[event(min_length = 4, max_length = 2)]
    pub code: String,
    #[event(minimum = 1, maximum = 1)]
    pub exactly_one: u8,
}

fn main() {}
