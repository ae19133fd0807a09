use event_runtime::Event;

#[derive(Event)]
#[event(type = "order.placed", version = "1.0", producer = "order-service")]
pub struct OrderPlaced {
    pub order_id: String,
    #[event(rename = "orderId")]
    pub legacy_id: String,
}

fn main() {}
