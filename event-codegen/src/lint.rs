//! The domain brief's rules for event schemas, as lints: the same rules
//! the derive applies to Rust structs (from `event-rules`), here applied to
//! each event schema file.

use crate::diagnostic::{Diagnostics, Lint, LintLevel, Severity};
use crate::json::{Kind, Node, escape_token};
use crate::lower::SchemaFile;
use heck::ToLowerCamelCase;
use std::collections::HashMap;

pub(crate) struct Linter<'a> {
    pub diags: &'a mut Diagnostics,
    pub levels: &'a HashMap<Lint, LintLevel>,
}

impl Linter<'_> {
    fn report(
        &mut self,
        lint: Lint,
        file: &SchemaFile,
        pointer: &str,
        span: crate::json::Span,
        message: String,
        hint: Option<String>,
    ) {
        let severity = match self.levels.get(&lint).copied().unwrap_or(LintLevel::Deny) {
            LintLevel::Allow => return,
            LintLevel::Warn => Severity::Warning,
            LintLevel::Deny => Severity::Error,
        };
        self.diags
            .push(severity, lint.name(), file.id, pointer, span, message, hint);
    }

    /// Lints one event schema file.
    pub fn event(&mut self, file: &SchemaFile) {
        let root = &file.root;
        let Some(block) = root.member("x-event") else {
            return;
        };
        let x = &block.value;
        if let Some(t) = x.get("type") {
            if let Some(name) = t.as_str() {
                if event_rules::naming::check_syntax(name).is_ok() {
                    if let Err(e) = event_rules::tense::check_past_tense(name) {
                        self.report(
                            Lint::PastTense,
                            file,
                            "/x-event/type",
                            t.span.clone(),
                            format!("event type `{name}` reads as a command, not a fact"),
                            Some(format!(
                                "name the fact in the past tense: `{}`",
                                e.suggestion
                            )),
                        );
                    }
                }
            }
        }
        match x.get("producer").and_then(Node::as_str) {
            Some(p) if !p.trim().is_empty() => {}
            _ => self.report(
                Lint::MissingProducer,
                file,
                "/x-event",
                block.key_span.clone(),
                "the event names no producer".to_string(),
                Some(
                    "add `\"producer\": \"<service>\"`: the one service that publishes it"
                        .to_string(),
                ),
            ),
        }
        if x.get("consumers")
            .and_then(Node::as_array)
            .is_none_or(|c| c.is_empty())
        {
            let span = x
                .get("consumers")
                .map_or(block.key_span.clone(), |c| c.span.clone());
            self.report(
                Lint::MissingConsumer,
                file,
                "/x-event/consumers",
                span,
                "the event lists no consumer".to_string(),
                Some("add `\"consumers\": [{ \"service\": \"...\", \"reason\": \"...\" }]`; an event nobody reads is not a contract yet".to_string()),
            );
        }
        if root
            .get("description")
            .and_then(Node::as_str)
            .is_none_or(|d| d.trim().is_empty())
        {
            let span = root.member("x-event").map_or(0..1, |m| m.key_span.clone());
            self.report(
                Lint::MissingDescription,
                file,
                "",
                span,
                "the event has no `description`".to_string(),
                Some("say what happened, as a fact".to_string()),
            );
        }
        self.properties(file, "", root, 0);
    }

    /// Lints the properties of a payload object, into inline nested objects
    /// and arrays (not into `$ref`ed definitions, which may be another
    /// organisation's).
    fn properties(&mut self, file: &SchemaFile, pointer: &str, node: &Node, depth: usize) {
        if depth > 32 {
            return;
        }
        for m in node
            .get("properties")
            .map(Node::members)
            .unwrap_or_default()
        {
            let name = m.key.as_str();
            let at = format!("{pointer}/properties/{}", escape_token(name));
            let prop = &m.value;
            if depth == 0 {
                if let Some(wire) = event_rules::fields::envelope_field(name) {
                    self.report(
                        Lint::EnvelopeField,
                        file,
                        &at,
                        m.key_span.clone(),
                        format!("`{name}` repeats the envelope's `{wire}`"),
                        Some(
                            "the envelope carries it on every event; remove it from the payload"
                                .to_string(),
                        ),
                    );
                }
            }
            // An empty name is `bad-property-name`, an error of its own that
            // no lint level lowers; a camel-case hint would repeat it.
            if !name.is_empty() && !is_camel_case(name) {
                self.report(
                    Lint::CamelCase,
                    file,
                    &at,
                    m.key_span.clone(),
                    format!("property `{name}` is not camelCase"),
                    Some(camel_case_hint(name)),
                );
            }
            if let Some(s) = event_rules::fields::sensitive_field(name) {
                if prop
                    .get("x-not-sensitive")
                    .is_none_or(|v| v.kind != Kind::Bool(true))
                {
                    self.report(
                        Lint::SensitiveField,
                        file,
                        &at,
                        m.key_span.clone(),
                        format!("property `{name}` looks like it holds {}", s.description()),
                        Some("events never carry secrets; if this one is not a secret, mark it `\"x-not-sensitive\": true`".to_string()),
                    );
                }
            }
            if prop.get("$ref").is_none()
                && prop
                    .get("description")
                    .and_then(Node::as_str)
                    .is_none_or(|d| d.trim().is_empty())
            {
                self.report(
                    Lint::MissingDescription,
                    file,
                    &at,
                    m.key_span.clone(),
                    format!("property `{name}` has no `description`"),
                    None,
                );
            }
            if looks_like_date(name) && is_plain_string_or_number(prop) {
                self.report(
                    Lint::DateFormat,
                    file,
                    &at,
                    m.key_span.clone(),
                    format!("`{name}` looks like a date or time but has no date format"),
                    Some("dates are ISO 8601 strings: add `\"type\": \"string\", \"format\": \"date-time\"` (or `date`)".to_string()),
                );
            }
            self.properties(file, &at, prop, depth + 1);
            if let Some(items) = prop.get("items") {
                self.properties(file, &format!("{at}/items"), items, depth + 1);
            }
        }
    }
}

/// What to rename a property to: its camelCase when that is a name, or how
/// to choose one when the name has no ASCII word to keep (`"名前"`).
fn camel_case_hint(name: &str) -> String {
    let camel = name.to_lower_camel_case();
    if is_camel_case(&camel) {
        format!("rename it `{camel}`")
    } else {
        "choose a camelCase name of ASCII letters and digits that starts with a lower-case letter, such as `displayName`".to_string()
    }
}

fn is_camel_case(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
}

/// `completedAt`, `startDate`, `expiresOn`, `timestamp`, `birthday`...
fn looks_like_date(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.ends_with("At")
        || name.ends_with("On")
        || lower.ends_with("date")
        || lower.ends_with("time")
        || lower.ends_with("timestamp")
        || lower == "birthday"
}

fn is_plain_string_or_number(prop: &Node) -> bool {
    let types: Vec<&str> = match prop.get("type").map(|t| &t.kind) {
        Some(Kind::String(s)) => vec![s.as_str()],
        Some(Kind::Array(v)) => v.iter().filter_map(Node::as_str).collect(),
        _ => return false,
    };
    let format = prop.get("format").and_then(Node::as_str);
    types.iter().any(|t| *t == "integer" || *t == "number")
        || (types.contains(&"string") && !matches!(format, Some("date-time" | "date")))
}
