use event_runtime::Event;

#[derive(Event)]
#[event(type = "process.payment", version = "1.0", producer = "billing-service")]
pub struct ProcessPayment {
    pub payment_id: String,
}

fn main() {}
