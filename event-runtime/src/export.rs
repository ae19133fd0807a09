//! Code-first contracts as schema files: an event declared only in Rust with
//! `#[derive(Event)]` written out as the JSON Schema file, `x-event` block
//! included, that a schema-first team would have written. The catalog
//! documentation, the AsyncAPI documents and the compatibility checks of
//! `event-codegen` then read code-first and schema-first catalogs alike.
//!
//! ```
//! use event_runtime::{Event, export};
//!
//! /// A course was published and is open for enrollment.
//! #[derive(Debug, Clone, PartialEq, Event)]
//! #[event(type = "course.published", version = "1.0", producer = "course-service")]
//! #[event(consumer(service = "search-service", reason = "indexes the course"))]
//! pub struct CoursePublished {
//!     /// The course.
//!     pub course_id: event_runtime::Uuid,
//!     /// The title, as shown in the catalog.
//!     #[event(max_length = 200)]
//!     pub title: String,
//! }
//!
//! let (path, schema) = export::event_schema::<CoursePublished>();
//! assert_eq!(path, "course/course.published.v1.0.json");
//! assert_eq!(schema["x-event"]["producer"], "course-service");
//! assert_eq!(schema["properties"]["courseId"]["format"], "uuid");
//! assert_eq!(schema["properties"]["title"]["maxLength"], 200);
//! assert_eq!(schema["required"], serde_json::json!(["courseId", "title"]));
//! ```
//!
//! The Rust metadata names the type of a field but not the fields of a
//! nested `EventData` type: a nested object is exported as an `object` whose
//! description names the Rust type.

use crate::{Delivery, Event, FieldInfo, Ordering};
use serde_json::{Map, Value, json};

/// The schema file of `T`: its path under a schema root
/// (`<domain>/<type>.v<MAJOR>.<MINOR>.json`, the layout of
/// `docs/schema-format.md`) and its contents.
pub fn event_schema<T: Event>() -> (String, Value) {
    let contract = T::contract();
    let domain = T::TYPE.split('.').next().unwrap_or(T::TYPE);
    let path = format!("{domain}/{}.v{}.json", T::TYPE, T::VERSION);

    let mut block = Map::new();
    block.insert("type".into(), json!(T::TYPE));
    block.insert("version".into(), json!(T::VERSION.to_string()));
    block.insert("producer".into(), json!(T::PRODUCER));
    block.insert(
        "consumers".into(),
        Value::Array(
            contract
                .consumers
                .iter()
                .map(|c| json!({ "service": c.service, "reason": c.reason }))
                .collect(),
        ),
    );
    if T::DELIVERY != Delivery::AtLeastOnce {
        block.insert("delivery".into(), json!(T::DELIVERY.as_str()));
    }
    if T::ORDERING != Ordering::Unordered {
        block.insert("ordering".into(), json!(T::ORDERING.as_str()));
    }
    if let Some(partition) = contract.partition_field {
        block.insert("partitionKey".into(), json!(partition));
    }
    if !contract.key_fields.is_empty() {
        block.insert("idempotencyKey".into(), json!(contract.key_fields));
    }

    let mut schema = Map::new();
    schema.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    schema.insert(
        "$id".into(),
        json!(path.rsplit('/').next().unwrap_or(&path)),
    );
    if !contract.doc.is_empty() {
        schema.insert("description".into(), json!(contract.doc.trim()));
    }
    schema.insert("x-event".into(), Value::Object(block));
    schema.insert("type".into(), json!("object"));
    let (properties, required) = object_of(contract.fields);
    schema.insert("properties".into(), Value::Object(properties));
    schema.insert("required".into(), Value::Array(required));
    (path, Value::Object(schema))
}

/// The `properties` and `required` of an object with these fields.
pub fn object_of(fields: &[FieldInfo]) -> (Map<String, Value>, Vec<Value>) {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for field in fields {
        properties.insert(field.wire_name.to_owned(), field_schema(field));
        if !field.optional {
            required.push(json!(field.wire_name));
        }
    }
    (properties, required)
}

fn field_schema(field: &FieldInfo) -> Value {
    let mut schema = match type_schema(field.rust_type) {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    if !field.doc.is_empty() {
        schema.insert("description".into(), json!(field.doc.trim()));
    }
    if field.deprecated {
        schema.insert("deprecated".into(), json!(true));
    }
    // Constraints of a `Vec` apply to its elements.
    let target = match schema.get_mut("items") {
        Some(Value::Object(items)) if is_vec(field.rust_type) => items,
        _ => &mut schema,
    };
    for c in field.constraints {
        let value = match c.keyword {
            "pattern" | "const" | "format" => json!(c.value),
            _ => serde_json::from_str::<Value>(c.value).unwrap_or_else(|_| json!(c.value)),
        };
        target.insert(c.keyword.to_owned(), value);
    }
    Value::Object(schema)
}

fn is_vec(rust_type: &str) -> bool {
    let t: String = rust_type.chars().filter(|c| !c.is_whitespace()).collect();
    let t = strip_wrapper(&t, "Option").unwrap_or(&t);
    strip_wrapper(t, "Vec").is_some()
}

/// `Wrapper<inner>` (with any path before `Wrapper`) to `inner`.
fn strip_wrapper<'a>(t: &'a str, wrapper: &str) -> Option<&'a str> {
    let open = t.find('<')?;
    let head = &t[..open];
    let last = head.rsplit("::").next().unwrap_or(head);
    (last == wrapper && t.ends_with('>')).then(|| &t[open + 1..t.len() - 1])
}

/// The JSON Schema of a Rust type as written in a struct.
fn type_schema(rust_type: &str) -> Value {
    let t: String = rust_type.chars().filter(|c| !c.is_whitespace()).collect();
    if let Some(inner) = strip_wrapper(&t, "Option") {
        return type_schema(inner);
    }
    if let Some(inner) = strip_wrapper(&t, "Vec") {
        return json!({ "type": "array", "items": type_schema(inner) });
    }
    for map in ["Map", "HashMap", "BTreeMap"] {
        if let Some(inner) = strip_wrapper(&t, map) {
            let value = inner.split_once(',').map_or("Value", |(_, v)| v);
            return json!({ "type": "object", "additionalProperties": type_schema(value) });
        }
    }
    let name = t.rsplit("::").next().unwrap_or(&t);
    match name {
        "String" | "str" | "&str" | "&'staticstr" => json!({ "type": "string" }),
        "Uuid" => json!({ "type": "string", "format": "uuid" }),
        "OffsetDateTime" => json!({ "type": "string", "format": "date-time" }),
        "Date" => json!({ "type": "string", "format": "date" }),
        "bool" => json!({ "type": "boolean" }),
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => {
            json!({ "type": "integer", "minimum": 0 })
        }
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => json!({ "type": "integer" }),
        "f32" | "f64" => json!({ "type": "number" }),
        "Value" => json!({}),
        other => json!({ "type": "object", "description": format!("A `{other}`.") }),
    }
}
