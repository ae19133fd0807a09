//! The `x-event` block: what makes a schema an event contract.

use crate::diagnostic::{Diagnostics, Severity};
use crate::json::{Kind, Node, escape_token};
use crate::lower::{EventMeta, SchemaFile};

const KEYS: &[&str] = &[
    "type",
    "version",
    "producer",
    "consumers",
    "delivery",
    "ordering",
    "partitionKey",
    "idempotencyKey",
    "expectedEvery",
];
/// Reports a problem: pointer, span, message, hint.
type Report<'e> = dyn FnMut(&str, crate::json::Span, String, Option<&str>) + 'e;

const DELIVERY: &[&str] = &["at-most-once", "at-least-once", "exactly-once-effect"];
const ORDERING: &[&str] = &["unordered", "per-entity", "global"];

/// Reads and checks the `x-event` block of `files[index]`; `None` when the
/// file has none, or when the block is too broken to generate from.
pub(crate) fn read(
    files: &[SchemaFile],
    index: usize,
    diags: &mut Diagnostics,
) -> Option<EventMeta> {
    let file = &files[index];
    let block = file.root.member("x-event")?;
    let id = file.id;
    let mut err = |pointer: &str, span: crate::json::Span, message: String, hint: Option<&str>| {
        diags.push(
            Severity::Error,
            "x-event",
            id,
            pointer,
            span,
            message,
            hint.map(str::to_string),
        );
    };
    let Kind::Object(members) = &block.value.kind else {
        err(
            "/x-event",
            block.value.span.clone(),
            format!(
                "`x-event` must be an object, found {}",
                block.value.describe()
            ),
            None,
        );
        return None;
    };
    for m in members {
        if !KEYS.contains(&m.key.as_str()) {
            err(
                &format!("/x-event/{}", escape_token(&m.key)),
                m.key_span.clone(),
                format!("unknown key `{}` in `x-event`", m.key),
                Some(&format!("known keys: {}", KEYS.join(", "))),
            );
        }
    }
    let v = &block.value;
    let string = |key: &str, err: &mut Report<'_>| -> Option<String> {
        match v.get(key) {
            Some(n) => match n.as_str() {
                Some(s) => Some(s.to_string()),
                None => {
                    err(
                        &format!("/x-event/{key}"),
                        n.span.clone(),
                        format!("`{key}` must be a string, found {}", n.describe()),
                        None,
                    );
                    None
                }
            },
            None => None,
        }
    };
    let type_name = string("type", &mut err);
    let version = string("version", &mut err);
    let producer = string("producer", &mut err).unwrap_or_default();
    let delivery = string("delivery", &mut err);
    let ordering = string("ordering", &mut err);
    let mut ok = true;
    let Some(type_name) = type_name else {
        err(
            "/x-event",
            block.key_span.clone(),
            "`x-event` has no `type`".to_string(),
            Some("add `\"type\": \"domain.action\"`"),
        );
        return None;
    };
    if let Err(e) = event_rules::naming::check_syntax(&type_name) {
        let span = v
            .get("type")
            .map(|n| n.span.clone())
            .unwrap_or(block.key_span.clone());
        err(
            "/x-event/type",
            span,
            format!("invalid event type `{type_name}`: {e}"),
            Some("`domain.action`, lower case, e.g. `enrollment.completed`"),
        );
        ok = false;
    }
    let Some(version) = version else {
        err(
            "/x-event",
            block.key_span.clone(),
            "`x-event` has no `version`".to_string(),
            Some("add `\"version\": \"1.0\"`"),
        );
        return None;
    };
    let Some((major, minor)) = event_rules::version::parse_version(&version) else {
        let span = v
            .get("version")
            .map(|n| n.span.clone())
            .unwrap_or(block.key_span.clone());
        err(
            "/x-event/version",
            span,
            format!("invalid version `{version}`"),
            Some("`MAJOR.MINOR`, starting at `1.0`"),
        );
        return None;
    };
    for (key, value, allowed) in [
        ("delivery", &delivery, DELIVERY),
        ("ordering", &ordering, ORDERING),
    ] {
        if let Some(value) = value {
            if !allowed.contains(&value.as_str()) {
                let span = v
                    .get(key)
                    .map(|n| n.span.clone())
                    .unwrap_or(block.key_span.clone());
                err(
                    &format!("/x-event/{key}"),
                    span,
                    format!("unknown {key} `{value}`"),
                    Some(&format!("one of {}", allowed.join(", "))),
                );
            }
        }
    }
    // The cadence the silence alert watches, carried into the derive's
    // `expected_every`; a bad one is reported and left out, and the
    // contract still read.
    let mut expected_every = None;
    if let Some(every) = string("expectedEvery", &mut err) {
        if let Err(e) = crate::alerts::parse_duration(&every) {
            let span = v
                .get("expectedEvery")
                .map(|n| n.span.clone())
                .unwrap_or(block.key_span.clone());
            err(
                "/x-event/expectedEvery",
                span,
                format!("invalid `expectedEvery`: {e}"),
                Some(
                    "e.g. `\"expectedEvery\": \"30m\"`: how often at least one event is published",
                ),
            );
        } else {
            expected_every = Some(every);
        }
    }
    let mut consumers = Vec::new();
    if let Some(list) = v.get("consumers") {
        match list.as_array() {
            Some(items) => {
                for (i, c) in items.iter().enumerate() {
                    let at = format!("/x-event/consumers/{i}");
                    let service = c.get("service").and_then(Node::as_str);
                    let reason = c.get("reason").and_then(Node::as_str);
                    let extra = c
                        .members()
                        .iter()
                        .find(|m| m.key != "service" && m.key != "reason");
                    match (service, reason, extra) {
                        (Some(s), Some(r), None) if !s.is_empty() && !r.is_empty() => consumers.push((s.to_string(), r.to_string())),
                        _ => err(&at, c.span.clone(), "a consumer is `{ \"service\": \"...\", \"reason\": \"...\" }`, both non-empty strings".to_string(), Some("say which service consumes the event and why")),
                    }
                }
            }
            None => err(
                "/x-event/consumers",
                list.span.clone(),
                format!("`consumers` must be an array, found {}", list.describe()),
                None,
            ),
        }
    }
    let key_of = |n: &Node| n.as_str().map(|s| (s.to_string(), n.span.clone()));
    let partition_key = v.get("partitionKey").and_then(|n| {
        let k = key_of(n);
        if k.is_none() {
            err(
                "/x-event/partitionKey",
                n.span.clone(),
                format!("`partitionKey` must be a string, found {}", n.describe()),
                None,
            );
        }
        k
    });
    if ordering.as_deref() == Some("per-entity") && partition_key.is_none() {
        let span = v
            .get("ordering")
            .map(|n| n.span.clone())
            .unwrap_or(block.key_span.clone());
        err(
            "/x-event/ordering",
            span,
            "`per-entity` ordering needs a `partitionKey`".to_string(),
            Some(
                "name the property that identifies the entity: `\"partitionKey\": \"enrollmentId\"`",
            ),
        );
    }
    let mut idempotency_key = Vec::new();
    if let Some(n) = v.get("idempotencyKey") {
        match n.as_array() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    match key_of(item) {
                        Some(k) => idempotency_key.push(k),
                        None => err(
                            &format!("/x-event/idempotencyKey/{i}"),
                            item.span.clone(),
                            format!("a key field must be a string, found {}", item.describe()),
                            None,
                        ),
                    }
                }
            }
            None => err(
                "/x-event/idempotencyKey",
                n.span.clone(),
                format!(
                    "`idempotencyKey` must be an array of property names, found {}",
                    n.describe()
                ),
                None,
            ),
        }
    }
    // The file name agrees with the block: `<type>.v<MAJOR>.<MINOR>.json`.
    let expected = format!("{type_name}.v{major}.{minor}.json");
    let actual = file
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if actual != expected {
        err(
            "/x-event",
            block.key_span.clone(),
            format!("file name `{actual}` does not match the `x-event` block"),
            Some(&format!("name the file `{expected}`")),
        );
    }
    ok.then_some(EventMeta {
        file: index,
        type_name,
        major,
        minor,
        producer,
        consumers,
        delivery,
        ordering,
        partition_key,
        idempotency_key,
        expected_every,
    })
}
