//! The derive's own `Deserialize` (issue 14) reads every input as serde's
//! derive on the wire mirror reads it: the same value, or the same error
//! message at the same line, column and path.
//!
//! A field attribute only serde's derive understands makes the derive read
//! the struct with serde's derive, as it did before; `#[serde(bound = "")]`
//! is one that changes nothing else. Each shape below is derived twice, once
//! each way, and both read every payload of this file: a sample broken in
//! every way `broken` knows (each value replaced by values of every JSON
//! type, each member removed, an unknown one added), plus texts a `Value`
//! cannot hold (a repeated member, an escaped key, an array), through
//! `from_str`, `from_slice`, `from_value` and a path-tracking decode.

use event_runtime::{EventData, Map, OffsetDateTime, OpenEnum, Uuid, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

mod support;

mod money {
    pub fn serialize<S: serde::Serializer>(cents: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}.{:02}", cents / 100, cents % 100))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let s: String = serde::Deserialize::deserialize(d)?;
        let (units, cents) = s
            .split_once('.')
            .ok_or_else(|| serde::de::Error::custom("no cents"))?;
        let units: i64 = units.parse().map_err(serde::de::Error::custom)?;
        let cents: i64 = cents.parse().map_err(serde::de::Error::custom)?;
        Ok(units * 100 + cents)
    }
}

fn read_level<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    let level: u8 = serde::Deserialize::deserialize(d)?;
    Ok(level * 10)
}

fn default_level() -> u8 {
    3
}

#[derive(Debug, Clone, PartialEq, OpenEnum)]
pub enum Kind {
    Book,
    Course,
    #[event(other)]
    Other(String),
}

#[derive(Debug, Clone, PartialEq, EventData)]
pub struct Inner {
    #[event(min_length = 1)]
    pub label: String,
    #[event(integer)]
    pub weight: Option<u64>,
}

// Each shape twice, field for field: `Own*` read by the derive's own
// `Deserialize`, `Serde*` by serde's derive (its first field marked
// `bound = ""`). Written out rather than by a `macro_rules!`, so that the
// derive sees the tokens a user writes.

#[derive(Debug, Clone, PartialEq, EventData)]
pub struct Own {
    pub id: Uuid,
    pub title: String,
    #[event(integer, maximum = 1000)]
    pub quantity: u16,
    #[event(minimum = 0.0)]
    pub price: f64,
    pub at: OffsetDateTime,
    pub day: Option<time::Date>,
    pub note: Option<String>,
    #[event(max_length = 3, min_items = 1)]
    pub tags: Vec<String>,
    #[event(max_length = 3, max_items = 2)]
    pub labels: Option<Vec<String>>,
    #[event(required)]
    pub body: Option<String>,
    #[event(non_null)]
    pub color: Option<String>,
    pub cleared: Option<Option<u32>>,
    #[event(default)]
    pub retries: u32,
    #[serde(with = "money")]
    pub amount: i64,
    #[serde(default = "default_level", deserialize_with = "read_level")]
    pub level: u8,
    pub extra: Value,
    pub nested: Option<Inner>,
    pub items: Vec<Inner>,
    pub kind: Kind,
    #[event(integer)]
    pub counts: Option<Vec<i32>>,
    pub unit: Option<()>,
    pub flag: bool,
}

#[derive(Debug, Clone, PartialEq, EventData)]
pub struct Serde {
    #[serde(bound = "")]
    pub id: Uuid,
    pub title: String,
    #[event(integer, maximum = 1000)]
    pub quantity: u16,
    #[event(minimum = 0.0)]
    pub price: f64,
    pub at: OffsetDateTime,
    pub day: Option<time::Date>,
    pub note: Option<String>,
    #[event(max_length = 3, min_items = 1)]
    pub tags: Vec<String>,
    #[event(max_length = 3, max_items = 2)]
    pub labels: Option<Vec<String>>,
    #[event(required)]
    pub body: Option<String>,
    #[event(non_null)]
    pub color: Option<String>,
    pub cleared: Option<Option<u32>>,
    #[event(default)]
    pub retries: u32,
    #[serde(with = "money")]
    pub amount: i64,
    #[serde(default = "default_level", deserialize_with = "read_level")]
    pub level: u8,
    pub extra: Value,
    pub nested: Option<Inner>,
    pub items: Vec<Inner>,
    pub kind: Kind,
    #[event(integer)]
    pub counts: Option<Vec<i32>>,
    pub unit: Option<()>,
    pub flag: bool,
}

#[derive(Debug, Clone, PartialEq, EventData)]
pub struct OwnOpen {
    pub id: String,
    #[event(min_length = 1)]
    pub name: Option<String>,
    #[event(unknown)]
    pub rest: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, EventData)]
pub struct SerdeOpen {
    #[serde(bound = "")]
    pub id: String,
    #[event(min_length = 1)]
    pub name: Option<String>,
    #[event(unknown)]
    pub rest: Map<String, Value>,
}

fn sample() -> Value {
    json!({
        "id": "6f1c1c52-4f6e-4b8e-9a39-1f5c2d8e7a10",
        "title": "Event-driven design",
        "quantity": 3.0,
        "price": 12.5,
        "at": "2026-03-27T10:30:00Z",
        "day": "2026-03-27",
        "note": null,
        "tags": ["a", "bc"],
        "labels": ["x"],
        "body": null,
        "color": "red",
        "cleared": null,
        "amount": "12.34",
        "level": 2,
        "extra": {"k": [1, 2]},
        "nested": {"label": "n", "weight": 5},
        "items": [{"label": "i"}],
        "kind": "book",
        "counts": [1, 2.0],
        "unit": null,
        "flag": true
    })
}

fn open_sample() -> Value {
    json!({"id": "a", "name": "b", "other": {"x": [1]}, "more": 2})
}

/// The sample and its broken copies (`support::broken`).
fn broken(data: &Value) -> Vec<Value> {
    let replacements = [
        json!(null),
        json!(true),
        json!(0),
        json!(-1),
        json!(1001),
        json!(1.5),
        json!(2.0),
        json!(1e300),
        json!(""),
        json!("x"),
        json!("abcd"),
        json!("1.50"),
        json!("2026-13-45T99:00:00Z"),
        json!([]),
        json!([1]),
        json!(["a", "b", ""]),
        json!(["abcd"]),
        json!({}),
        json!({ "x": 1 }),
    ];
    let mut out = vec![data.clone()];
    out.extend(support::broken(
        data,
        &replacements,
        &json!([1, {"a": null}]),
    ));
    out
}

/// What a read gave, comparable across the two types: the value written
/// back as JSON, or the error's message.
fn outcome<T: Serialize>(read: Result<T, serde_json::Error>) -> Result<Value, String> {
    read.map(|v| serde_json::to_value(v).expect("a decoded value encodes"))
        .map_err(|e| e.to_string())
}

fn tracked<T: DeserializeOwned + Serialize>(text: &str) -> Result<Value, (String, String)> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize::<_, T>(&mut de)
        .map(|v| serde_json::to_value(v).expect("a decoded value encodes"))
        .map_err(|e| (e.path().to_string(), e.into_inner().to_string()))
}

/// Reads `text` as both types in every way; returns what differed.
fn differences<A, B>(text: &str) -> Vec<String>
where
    A: DeserializeOwned + Serialize,
    B: DeserializeOwned + Serialize,
{
    let mut out = Vec::new();
    let mut same = |how: &str, a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug| {
        // The two types have two names: `expected struct Own`.
        let name = |s: String| {
            ["OwnOpen", "SerdeOpen", "Own", "Serde"]
                .iter()
                .fold(s, |s, n| s.replace(&format!("struct {n}"), "struct _"))
        };
        let (a, b) = (name(format!("{a:?}")), name(format!("{b:?}")));
        if a != b {
            out.push(format!("{how} of {text}:\n  own:   {a}\n  serde: {b}"));
        }
    };
    same(
        "from_str",
        &outcome(serde_json::from_str::<A>(text)),
        &outcome(serde_json::from_str::<B>(text)),
    );
    same(
        "from_slice",
        &outcome(serde_json::from_slice::<A>(text.as_bytes())),
        &outcome(serde_json::from_slice::<B>(text.as_bytes())),
    );
    same("tracked", &tracked::<A>(text), &tracked::<B>(text));
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        same(
            "from_value",
            &outcome(serde_json::from_value::<A>(value.clone())),
            &outcome(serde_json::from_value::<B>(value)),
        );
    }
    out
}

/// Texts a `Value` cannot hold, from a compact sample `{"k": v, ...}`.
fn texts(sample: &Value) -> Vec<String> {
    let compact = sample.to_string();
    let pretty = serde_json::to_string_pretty(sample).expect("a value writes");
    let first = sample
        .as_object()
        .and_then(|m| m.iter().next())
        .map(|(k, v)| format!("\"{k}\":{v}"))
        .expect("an object sample");
    let body = compact.trim_start_matches('{');
    let escaped_key: String = first.replacen(
        &first[1..2],
        &format!("\\u{:04x}", u32::from(first.as_bytes()[1])),
        1,
    );
    vec![
        pretty,
        format!("{{{first},{body}"),
        format!("{},{first}}}", &compact[..compact.len() - 1]),
        format!("{{{escaped_key},{}", &body[first.len() + 1..]),
        format!("[{compact}]"),
        format!("[{}]", sample.as_object().map(|m| m.len()).unwrap_or(0)),
        "[]".to_owned(),
        "{}".to_owned(),
        "{\"zz\":\"\\ud800\"}".to_owned(),
        "{\"zz\":1e400}".to_owned(),
        format!("{compact} trailing"),
        compact[..compact.len() / 2].to_owned(),
    ]
}

fn check<A, B>(sample: Value) -> usize
where
    A: DeserializeOwned + Serialize,
    B: DeserializeOwned + Serialize,
{
    let mut inputs: Vec<String> = broken(&sample).iter().map(Value::to_string).collect();
    inputs.extend(texts(&sample));
    let differ: Vec<String> = inputs
        .iter()
        .flat_map(|text| differences::<A, B>(text))
        .collect();
    assert!(
        differ.is_empty(),
        "{} of {} inputs read differently:\n{}",
        differ.len(),
        inputs.len(),
        differ.join("\n")
    );
    inputs.len()
}

#[test]
fn the_own_deserialize_reads_every_input_as_serde_s_derive() {
    // The sample itself decodes, so the broken ones break one thing each.
    let own: Own = serde_json::from_value(sample()).unwrap();
    assert_eq!(own.quantity, 3);
    assert_eq!(own.amount, 1234);
    assert_eq!(own.level, 20);
    assert_eq!(own.cleared, Some(None));
    let read = check::<Own, Serde>(sample());
    assert!(read > 600, "{read}");
}

#[test]
fn the_own_deserialize_keeps_unknown_members_as_serde_s_flatten() {
    let own: OwnOpen = serde_json::from_value(open_sample()).unwrap();
    assert_eq!(own.rest.len(), 2);
    assert!(check::<OwnOpen, SerdeOpen>(open_sample()) > 50);
}

#[test]
fn a_missing_field_defaults_as_serde_s_derive_does() {
    let mut data = sample();
    let m = data.as_object_mut().unwrap();
    m.remove("level");
    m.remove("retries");
    let own: Own = serde_json::from_value(data).unwrap();
    assert_eq!((own.level, own.retries), (3, 0));
}

/// A struct a `macro_rules!` writes, its field types from the invocation:
/// the derive's own names (`__map`, the slots) resolve where the derive
/// runs, whatever the spans of the types they are written next to.
macro_rules! payload {
    ($name:ident, $($ty:tt)*) => {
        #[derive(Debug, Clone, PartialEq, EventData)]
        pub struct $name {
            pub id: $($ty)*,
            pub note: Option<String>,
        }
    };
}

payload!(Written, u32);

#[test]
fn a_struct_written_by_a_macro_reads_as_any_other() {
    let read: Written = serde_json::from_value(json!({"id": 7})).unwrap();
    assert_eq!(read, Written { id: 7, note: None });
    let err = serde_json::from_value::<Written>(json!({"note": "x"})).unwrap_err();
    assert_eq!(err.to_string(), "missing field `id`");
}

/// The same with the field's constraint passed as tokens too: the
/// derive's own names in the checks (`__x`) resolve where the derive runs.
macro_rules! bounded {
    ($name:ident, $($attr:tt)*) => {
        #[derive(Debug, Clone, PartialEq, EventData)]
        pub struct $name {
            #[event($($attr)*)]
            pub score: u32,
            #[event(min_items = 1)]
            pub tags: Vec<String>,
        }
    };
}

bounded!(Bounded, maximum = 100);

#[test]
fn a_constraint_written_by_a_macro_is_checked() {
    let ok: Bounded = serde_json::from_value(json!({"score": 7, "tags": ["a"]})).unwrap();
    assert_eq!(ok.score, 7);
    let err = serde_json::from_value::<Bounded>(json!({"score": 101, "tags": ["a"]})).unwrap_err();
    assert!(err.to_string().contains("must be at most 100"), "{err}");
}
