use event_runtime::{EventData, Map, OffsetDateTime, Value};

/// The shapes a forwarder needs: a `null` kept apart from a missing field,
/// a required nullable field, a `null`-only field, unknown fields kept.
#[derive(Debug, Clone, PartialEq, EventData)]
pub struct Issue {
    #[event(min_length = 1)]
    pub body: Option<Option<String>>,
    pub closed_at: Option<Option<OffsetDateTime>>,
    #[event(required, max_length = 10)]
    pub label: Option<String>,
    pub app: Option<()>,
    pub marker: (),
    pub score: Option<f64>,
    #[event(unknown)]
    pub rest: Map<String, Value>,
}

/// A closed object whose schema allows `x_...` members beside its fields
/// (`patternProperties`): read exactly, only the others are refused.
#[derive(Debug, Clone, PartialEq, EventData)]
pub struct Extended {
    pub name: String,
    #[event(unknown, closed = "Self::allowed")]
    pub rest: Map<String, Value>,
}

impl Extended {
    fn allowed(name: &str) -> bool {
        name.starts_with("x_")
    }
}

fn main() {}
