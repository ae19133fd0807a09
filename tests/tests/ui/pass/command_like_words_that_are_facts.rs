use event_runtime::Event;

#[derive(Event)]
#[event(type = "invoice.paid", version = "1.0", producer = "billing-service")]
pub struct InvoicePaid {
    pub invoice_id: String,
}

#[derive(Event)]
#[event(type = "password.reset", version = "1.0", producer = "identity-service")]
pub struct PasswordReset {
    pub user_id: String,
}

#[derive(Event)]
#[event(type = "email.requested", version = "1.0", producer = "notification-service")]
pub struct EmailRequested {
    pub user_id: String,
    pub template: String,
}

fn main() {}
