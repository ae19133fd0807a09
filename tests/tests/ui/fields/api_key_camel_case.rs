use event_runtime::Event;

#[derive(Event)]
#[event(type = "integration.connected", version = "1.0", producer = "integration-service")]
#[allow(non_snake_case)]
pub struct IntegrationConnected {
    pub integration_id: String,
    pub apiKey: String,
}

fn main() {}
