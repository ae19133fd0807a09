use event_runtime::Event;

#[derive(Event)]
#[event(type = "payment.received", version = "1.0", producer = "billing-service",
        delivery = "exactly-once")]
pub struct PaymentReceived {
    pub payment_id: String,
}

fn main() {}
