//! AsyncAPI 3.0 documents from an event catalog: one per service, with a
//! `send` operation for each event it produces and a `receive` operation
//! for each event it consumes.
//!
//! A channel carries one major version of one event type
//! (`events.enrollment.completed.v1`), since the minors of a major are read
//! by the same consumers; each minor is a message of that channel. A
//! message's payload is the envelope, with the event's payload schema under
//! `data`. The payload schemas and every definition they `$ref` are copied
//! under `components.schemas` with their `$ref`s rewritten, so a document
//! stands alone.
//!
//! ```
//! use std::collections::BTreeMap;
//! use std::path::PathBuf;
//!
//! let schema = serde_json::json!({
//!     "x-event": {
//!         "type": "course.published",
//!         "version": "1.0",
//!         "producer": "course-service",
//!         "consumers": [{ "service": "search-service", "reason": "indexes the course" }]
//!     },
//!     "type": "object",
//!     "properties": { "courseId": { "type": "string", "format": "uuid" } },
//!     "required": ["courseId"]
//! });
//! let files = BTreeMap::from([(PathBuf::from("course/course.published.v1.0.json"), schema)]);
//! let docs = event_codegen::asyncapi::render_asyncapi(&files).unwrap();
//! let search = &docs["search-service"];
//! assert_eq!(search["asyncapi"], "3.0.0");
//! assert_eq!(search["operations"]["receive.course.published.v1"]["action"], "receive");
//! assert_eq!(search["channels"]["course.published.v1"]["address"], "events.course.published.v1");
//! ```

use crate::compat;
use crate::docs::{self, Contract};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Where the correlation id sits in every message: the envelope's field.
pub const CORRELATION_ID_LOCATION: &str = "$message.payload#/correlationId";

/// `$ref` hops and nesting deeper than this are reported, not followed.
const MAX_DEPTH: usize = 64;

/// Renders one AsyncAPI 3.0.0 document per service named in the catalog
/// (every producer and every consumer), keyed by service name.
///
/// The output is deterministic: the same catalog gives the same documents.
/// Every problem in the `x-event` blocks and `$ref`s is reported, each with
/// its file and JSON pointer, one per line.
pub fn render_asyncapi(
    files: &BTreeMap<PathBuf, Value>,
) -> Result<BTreeMap<String, Value>, String> {
    let contracts = docs::contracts(files)?;
    let mut channels: BTreeMap<(String, u32), Vec<&Contract<'_>>> = BTreeMap::new();
    for c in &contracts {
        channels
            .entry((c.event_type.clone(), c.version.0))
            .or_default()
            .push(c);
    }
    let services: BTreeSet<&str> = contracts
        .iter()
        .flat_map(|c| {
            std::iter::once(c.producer.as_str())
                .chain(c.consumers.iter().map(|k| k.service.as_str()))
        })
        .collect();
    let mut problems = Vec::new();
    // A sample is the same in every document that carries the message.
    let mut samples = BTreeMap::new();
    for c in &contracts {
        match docs::sample_data(files, c.file) {
            Ok(data) => {
                samples.insert(c.file, docs::envelope(c, data).to_value());
            }
            Err(e) => problems.push(e),
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    let mut out = BTreeMap::new();
    for service in services {
        match document(files, service, &channels, &samples) {
            Ok(doc) => {
                out.insert(service.to_owned(), doc);
            }
            Err(e) => problems.push(e),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems.join("\n"))
    }
}

/// Writes each document of [`render_asyncapi`] to `out/<service>.json`,
/// pretty-printed, only when its text changed. Every name is checked first
/// (see [`crate::outpath`]): an empty service name, one that is not a plain
/// file name, or a symbolic link in `out`, is refused before anything is
/// written.
/// Returns how many files were written.
pub fn write_documents(out: &Path, documents: &BTreeMap<String, Value>) -> Result<usize, String> {
    let mut texts = Vec::with_capacity(documents.len());
    for (service, document) in documents {
        if service.is_empty() {
            return Err(
                "refusing to write a document for a service with an empty name".to_string(),
            );
        }
        let name = format!("{service}.json");
        crate::outpath::join_file_name(out, &name).map_err(|e| e.to_string())?;
        let mut text =
            serde_json::to_string_pretty(document).map_err(|e| format!("{name}: {e}"))?;
        text.push('\n');
        texts.push((name, text));
    }
    let mut written = 0;
    for (name, text) in texts {
        if crate::outpath::write_if_changed(out, &name, text.as_bytes())
            .map_err(|e| e.to_string())?
        {
            written += 1;
        }
    }
    Ok(written)
}

fn document(
    files: &BTreeMap<PathBuf, Value>,
    service: &str,
    channels: &BTreeMap<(String, u32), Vec<&Contract<'_>>>,
    samples: &BTreeMap<&Path, Value>,
) -> Result<Value, String> {
    let mut doc_channels = Map::new();
    let mut operations = Map::new();
    let mut messages = Map::new();
    let mut schemas = Schemas::default();
    for ((ty, major), minors) in channels {
        let sends = minors.iter().any(|c| c.producer == service);
        // The newest minor that names this service as a consumer says why.
        let receives = minors.iter().rev().find_map(|c| {
            c.consumers
                .iter()
                .find(|k| k.service == service)
                .map(|k| (c, k))
        });
        if !sends && receives.is_none() {
            continue;
        }
        let Some(newest) = minors.last() else {
            continue;
        };
        let channel_id = format!("{ty}.v{major}");
        let mut channel_messages = Map::new();
        let mut message_refs = Vec::new();
        for c in minors {
            let message_id = format!("{ty}.v{}", c.version_string());
            messages.insert(message_id.clone(), message(files, c, samples, &mut schemas));
            channel_messages.insert(
                message_id.clone(),
                json!({ "$ref": format!("#/components/messages/{message_id}") }),
            );
            message_refs
                .push(json!({ "$ref": format!("#/channels/{channel_id}/messages/{message_id}") }));
        }
        doc_channels.insert(
            channel_id.clone(),
            json!({
                "address": format!("events.{ty}.v{major}"),
                "title": format!("{ty} {major}.x"),
                "description": newest.description(),
                "messages": channel_messages,
            }),
        );
        let channel_ref = json!({ "$ref": format!("#/channels/{channel_id}") });
        if sends {
            operations.insert(
                format!("send.{channel_id}"),
                json!({
                    "action": "send",
                    "channel": channel_ref,
                    "title": format!("Publish {ty} {major}.x"),
                    "summary": format!("{service} publishes `{ty}` {major}.x."),
                    "description": format!("{} {}", newest.description(), delivery_terms(newest)),
                    "messages": message_refs,
                }),
            );
        }
        if let Some((c, consumer)) = receives {
            operations.insert(
                format!("receive.{channel_id}"),
                json!({
                    "action": "receive",
                    "channel": channel_ref,
                    "title": format!("Consume {ty} {major}.x"),
                    "summary": format!("{service} {}.", consumer.reason),
                    "description": format!(
                        "{service} consumes `{ty}` {major}.x from {} because it {}. Readers are tolerant: every {major}.x minor is read. {}",
                        c.producer,
                        consumer.reason,
                        delivery_terms(c)
                    ),
                    "messages": message_refs,
                }),
            );
        }
    }
    let mut components = Map::new();
    components.insert("schemas".into(), Value::Object(schemas.done(files)?));
    components.insert("messages".into(), Value::Object(messages));
    let (channels, operations, components) = (
        Value::Object(doc_channels),
        Value::Object(operations),
        Value::Object(components),
    );
    let fingerprint = fingerprint(&[&channels, &operations, &components]);
    // Built by moving the parts in: `json!` would copy them through serde.
    let mut doc = json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": service,
            "version": format!("0.0.0+{fingerprint:016x}"),
            "description": format!(
                "The events {service} sends and receives, generated from the event catalog by `event-codegen asyncapi`. The version's build metadata is a fingerprint of these contracts: it changes when one of them does."
            ),
        },
        "defaultContentType": "application/json",
    });
    doc["channels"] = channels;
    doc["operations"] = operations;
    doc["components"] = components;
    Ok(doc)
}

/// The delivery, ordering and idempotency terms, in a sentence each.
fn delivery_terms(c: &Contract<'_>) -> String {
    let ordering = match (&c.ordering[..], &c.partition_key) {
        ("per-entity", Some(key)) => format!("ordered per entity, partitioned by `{key}`"),
        ("per-entity", None) => "ordered per entity".to_owned(),
        ("global", _) => "globally ordered".to_owned(),
        _ => "unordered".to_owned(),
    };
    let key = match &c.idempotency_key {
        Some(keys) => keys
            .iter()
            .map(|k| format!("`data.{k}`"))
            .collect::<Vec<_>>()
            .join(" + "),
        None => "the event id".to_owned(),
    };
    format!(
        "Delivery: {}; {ordering}; idempotency key: {key}.",
        c.delivery
    )
}

fn message(
    files: &BTreeMap<PathBuf, Value>,
    c: &Contract<'_>,
    samples: &BTreeMap<&Path, Value>,
    schemas: &mut Schemas,
) -> Value {
    let data_schema = schemas.event(files, c);
    let sample = samples.get(c.file).cloned().unwrap_or(Value::Null);
    let title = c
        .schema
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or(&c.event_type);
    let description = c.description();
    let summary = match description.find(". ") {
        Some(i) => &description[..=i],
        None => description,
    };
    let mut x_event = json!({
        "type": c.event_type,
        "version": c.version_string(),
        "producer": c.producer,
        "delivery": c.delivery,
        "ordering": c.ordering,
    });
    if let Some(key) = &c.partition_key {
        x_event["partitionKey"] = json!(key);
    }
    if let Some(keys) = &c.idempotency_key {
        x_event["idempotencyKey"] = json!(keys);
    }
    let mut message = json!({
        "name": c.event_type,
        "title": format!("{title} {}", c.version_string()),
        "summary": summary,
        "description": description,
        "contentType": "application/json",
        "correlationId": {
            "description": "The id that ties together every event and request of one business operation across services.",
            "location": CORRELATION_ID_LOCATION,
        },
    });
    message["payload"] = envelope_schema(c, &data_schema);
    let mut example = json!({
        "name": format!("{}.v{}", c.event_type, c.version_string()),
        "summary": "A sample event built from the schema.",
    });
    example["payload"] = sample;
    message["examples"] = Value::Array(vec![example]);
    message["x-event"] = x_event;
    message
}

/// The envelope of the domain rules, with the event's type and version
/// fixed and its payload schema under `data`.
fn envelope_schema(c: &Contract<'_>, data_schema: &str) -> Value {
    json!({
        "type": "object",
        "description": "The envelope every event travels in.",
        "required": ["id", "type", "version", "timestamp", "source", "tenantId", "correlationId", "data"],
        "properties": {
            "id": { "type": "string", "minLength": 1, "description": "Globally unique event id, the default idempotency key." },
            "type": { "type": "string", "const": c.event_type, "description": "The event type." },
            "version": { "type": "string", "const": c.version_string(), "description": "The schema version, `MAJOR.MINOR`." },
            "timestamp": { "type": "string", "format": "date-time", "description": "When the fact happened, RFC 3339 with an offset." },
            "source": { "type": "string", "minLength": 1, "description": "The producing service." },
            "tenantId": { "type": "string", "minLength": 1, "description": "The tenant the event belongs to." },
            "correlationId": { "type": "string", "minLength": 1, "description": "Traces one business operation across services." },
            "causationId": { "type": "string", "minLength": 1, "description": "The id of the event that caused this one, if any." },
            "data": { "$ref": format!("#/components/schemas/{data_schema}") },
            "metadata": { "type": "object", "description": "Free-form context (who triggered the event, from where)." },
        },
    })
}

/// The schemas a document needs, by component name, each with its
/// `$ref`s rewritten to `#/components/schemas/...`.
#[derive(Default)]
struct Schemas {
    /// The component names taken.
    names: BTreeSet<String>,
    /// The component name of each (file, JSON pointer) copied.
    by_target: BTreeMap<(PathBuf, String), String>,
    /// Still to copy.
    queue: Vec<(String, PathBuf, String)>,
}

impl Schemas {
    /// Queues an event's payload schema; returns its component name.
    fn event(&mut self, files: &BTreeMap<PathBuf, Value>, c: &Contract<'_>) -> String {
        self.name_for(files, c.file, "")
    }

    /// The component name of the schema at `pointer` in `file`: the event
    /// name for an event schema (`enrollment.completed.v2.0`), the path
    /// for a shared definition (`common.money`), then the pointer's
    /// segments without `$defs` (`enrollment.completed.v2.0.Score`).
    fn name_for(&mut self, files: &BTreeMap<PathBuf, Value>, file: &Path, pointer: &str) -> String {
        let key = (file.to_path_buf(), pointer.to_owned());
        if let Some(name) = self.by_target.get(&key) {
            return name.clone();
        }
        let mut parts = vec![event_name(files, file).unwrap_or_else(|| {
            let stem = file.with_extension("");
            stem.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(".")
        })];
        parts.extend(
            pointer
                .split('/')
                .skip(1)
                .filter(|s| *s != "$defs" && *s != "definitions")
                .map(|s| s.replace("~1", "/").replace("~0", "~")),
        );
        let base = sanitize(&parts.join("."));
        let mut name = base.clone();
        let mut n = 2;
        while self.names.contains(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        self.names.insert(name.clone());
        self.by_target.insert(key, name.clone());
        self.queue
            .push((name.clone(), file.to_path_buf(), pointer.to_owned()));
        name
    }

    /// Copies every queued schema and what it references.
    fn done(mut self, files: &BTreeMap<PathBuf, Value>) -> Result<Map<String, Value>, String> {
        let mut out = Map::new();
        while let Some((name, file, pointer)) = self.queue.pop() {
            let root = files
                .get(&file)
                .ok_or_else(|| format!("{}: no such schema file", file.display()))?;
            let value = if pointer.is_empty() {
                Some(root)
            } else {
                root.pointer(&pointer)
            };
            let value = value
                .ok_or_else(|| format!("{}#{pointer}: nothing at this pointer", file.display()))?;
            let copy = self.rewrite(files, &file, &pointer, value, 0)?;
            out.insert(name, copy);
        }
        Ok(out)
    }

    fn rewrite(
        &mut self,
        files: &BTreeMap<PathBuf, Value>,
        file: &Path,
        pointer: &str,
        value: &Value,
        depth: usize,
    ) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "{}#{pointer}: schema nested too deeply to copy",
                file.display()
            ));
        }
        Ok(match value {
            Value::Object(map) => {
                let mut copy = Map::new();
                for (k, v) in map {
                    let at = format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1"));
                    match k.as_str() {
                        // Moved under `components.schemas`, or meaningless
                        // once copied out of their file.
                        "$schema" | "$id" | "$defs" | "definitions" | "x-event" => {}
                        "$ref" => {
                            let reference = v.as_str().ok_or_else(|| {
                                format!("{}#{at}: `$ref` is not a string", file.display())
                            })?;
                            let (target, fragment) = split_ref(files, file, reference).ok_or_else(|| {
                                format!(
                                    "{}#{at}: `$ref` {reference} cannot be resolved under the schema root",
                                    file.display()
                                )
                            })?;
                            let name = self.name_for(files, &target, &fragment);
                            copy.insert(
                                k.clone(),
                                Value::String(format!("#/components/schemas/{name}")),
                            );
                        }
                        _ => {
                            copy.insert(k.clone(), self.rewrite(files, file, &at, v, depth + 1)?);
                        }
                    }
                }
                Value::Object(copy)
            }
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        self.rewrite(files, file, &format!("{pointer}/{i}"), v, depth + 1)
                    })
                    .collect::<Result<_, _>>()?,
            ),
            other => other.clone(),
        })
    }
}

/// The file and JSON pointer a `$ref` written in `from` points at, checked
/// to exist.
fn split_ref(
    files: &BTreeMap<PathBuf, Value>,
    from: &Path,
    reference: &str,
) -> Option<(PathBuf, String)> {
    let (target, _) = compat::resolve_ref(files, from, reference)?;
    let fragment = reference.split_once('#').map(|(_, f)| f).unwrap_or("");
    Some((target, fragment.to_owned()))
}

/// The name of the event an event schema file declares.
fn event_name(files: &BTreeMap<PathBuf, Value>, file: &Path) -> Option<String> {
    let block = files.get(file)?.get("x-event")?;
    Some(format!(
        "{}.v{}",
        block.get("type")?.as_str()?,
        block.get("version")?.as_str()?
    ))
}

/// Component names may hold letters, digits, `.`, `-` and `_`.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// FNV-1a over the value with object keys sorted, so the fingerprint does
/// not depend on the map order `serde_json` was built with.
fn fingerprint(parts: &[&Value]) -> u64 {
    fn feed(h: &mut u64, bytes: &[u8]) {
        for b in bytes {
            *h = (*h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn walk(h: &mut u64, v: &Value) {
        match v {
            Value::Object(map) => {
                feed(h, b"{");
                let keys: BTreeSet<&String> = map.keys().collect();
                for k in keys {
                    feed(h, &(k.len() as u64).to_le_bytes());
                    feed(h, k.as_bytes());
                    feed(h, b":");
                    walk(h, &map[k]);
                    feed(h, b",");
                }
                feed(h, b"}");
            }
            Value::Array(items) => {
                feed(h, b"[");
                for item in items {
                    walk(h, item);
                    feed(h, b",");
                }
                feed(h, b"]");
            }
            other => feed(h, other.to_string().as_bytes()),
        }
    }
    let mut h = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        walk(&mut h, part);
    }
    h
}
