use event_runtime::Event;

#[derive(Event)]
#[event(type = "customer.registered", version = "1.0", producer = "billing-service")]
pub struct CustomerRegistered {
    pub customer_id: String,
    pub credit_card_number: String,
    pub ssn: String,
}

fn main() {}
