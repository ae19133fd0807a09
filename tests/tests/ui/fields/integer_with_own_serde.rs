use event_runtime::EventData;

fn read<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    serde::Deserialize::deserialize(d)
}

#[derive(EventData)]
pub struct Counter {
    #[event(integer)]
    #[serde(deserialize_with = "read")]
    pub count: i64,
}

fn main() {}
