use event_runtime::EventData;

#[derive(EventData)]
pub struct Issue {
    #[event(non_null)]
    pub title: String,
    #[event(non_null)]
    pub closed_at: Option<Option<String>>,
    #[event(required, non_null)]
    pub body: Option<String>,
    #[event(non_null)]
    #[serde(default, deserialize_with = "read")]
    pub label: Option<String>,
}

fn read<'de, D: event_runtime::__private::serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    <Option<String> as event_runtime::__private::serde::Deserialize>::deserialize(d)
}

fn main() {}
