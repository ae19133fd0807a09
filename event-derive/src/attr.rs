//! `#[event(...)]` attributes, parsed into plain values. Every problem goes
//! into the context; parsing goes on so that all of them are reported.

use crate::ctxt::Ctxt;
use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned as _;
use syn::{Attribute, LitStr, Token};

// Container keys.
const TYPE: &str = "type";
const VERSION: &str = "version";
const PRODUCER: &str = "producer";
const DELIVERY: &str = "delivery";
const ORDERING: &str = "ordering";
const EXPECTED_EVERY: &str = "expected_every";
const CONSUMER: &str = "consumer";
const CRATE: &str = "crate";
const CHECK: &str = "check";
// Field keys.
const RENAME: &str = "rename";
const KEY: &str = "key";
const PARTITION: &str = "partition";
const SINCE: &str = "since";
const DEFAULT: &str = "default";
const NOT_SENSITIVE: &str = "not_sensitive";
const UNKNOWN: &str = "unknown";
const CLOSED: &str = "closed";
const REQUIRED: &str = "required";
const NON_NULL: &str = "non_null";
const INTEGER: &str = "integer";
// Variant keys.
const OTHER: &str = "other";

/// Which derive reads the attributes: it decides the keys allowed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Derive {
    Event,
    EventData,
    OpenEnum,
}

impl Derive {
    fn name(self) -> &'static str {
        match self {
            Derive::Event => "Event",
            Derive::EventData => "EventData",
            Derive::OpenEnum => "OpenEnum",
        }
    }
}

/// A string attribute value with its literal, for spans.
pub struct Spanned<T> {
    pub value: T,
    pub lit: LitStr,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    AtMostOnce,
    AtLeastOnce,
    ExactlyOnceEffect,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Ordering {
    Unordered,
    PerEntity,
    Global,
}

pub struct Consumer {
    pub service: LitStr,
    pub reason: LitStr,
}

#[derive(Default)]
pub struct ContainerAttrs {
    pub ty: Option<LitStr>,
    pub version: Option<Spanned<Option<(u32, u32)>>>,
    pub producer: Option<LitStr>,
    pub delivery: Option<Spanned<Delivery>>,
    pub ordering: Option<Spanned<Ordering>>,
    pub consumers: Vec<Consumer>,
    pub krate: Option<syn::Path>,
    /// How often at least one event is published (`"30m"`), for the
    /// silence alert; checked to be a duration.
    pub expected_every: Option<LitStr>,
    /// `check = "path"`: a function `fn(&Self) -> Result<(), ValidationError>`
    /// run after the fields' own checks, on decode and by `validate`, for
    /// rules of the whole value that no field states (the generator's
    /// schema keywords without a typed form).
    pub check: Option<syn::Path>,
}

/// A numeric bound as written: an integer or float literal, maybe negative.
#[derive(Clone)]
pub struct Number {
    pub negative: bool,
    pub lit: syn::Lit,
}

impl Number {
    pub fn text(&self) -> String {
        let digits = match &self.lit {
            syn::Lit::Int(i) => i.base10_digits().to_owned(),
            syn::Lit::Float(f) => f.base10_digits().to_owned(),
            _ => String::new(),
        };
        if self.negative {
            format!("-{digits}")
        } else {
            digits
        }
    }
}

#[derive(Clone)]
pub enum ConstraintKind {
    Minimum(Number),
    Maximum(Number),
    ExclusiveMinimum(Number),
    ExclusiveMaximum(Number),
    MinLength(usize),
    MaxLength(usize),
    Pattern(LitStr),
    MinItems(usize),
    MaxItems(usize),
    Constant(LitStr),
    Format(LitStr),
}

#[derive(Clone)]
pub struct Constraint {
    pub kind: ConstraintKind,
    pub span: Span,
}

impl Constraint {
    /// The JSON Schema keyword and the value as written.
    pub fn schema(&self) -> (&'static str, String) {
        match &self.kind {
            ConstraintKind::Minimum(n) => ("minimum", n.text()),
            ConstraintKind::Maximum(n) => ("maximum", n.text()),
            ConstraintKind::ExclusiveMinimum(n) => ("exclusiveMinimum", n.text()),
            ConstraintKind::ExclusiveMaximum(n) => ("exclusiveMaximum", n.text()),
            ConstraintKind::MinLength(n) => ("minLength", n.to_string()),
            ConstraintKind::MaxLength(n) => ("maxLength", n.to_string()),
            ConstraintKind::Pattern(s) => ("pattern", s.value()),
            ConstraintKind::MinItems(n) => ("minItems", n.to_string()),
            ConstraintKind::MaxItems(n) => ("maxItems", n.to_string()),
            ConstraintKind::Constant(s) => ("const", s.value()),
            ConstraintKind::Format(s) => ("format", s.value()),
        }
    }

    /// Whether the constraint applies to the array rather than its elements.
    pub fn on_array(&self) -> bool {
        matches!(
            self.kind,
            ConstraintKind::MinItems(_) | ConstraintKind::MaxItems(_)
        )
    }
}

#[derive(Default)]
pub struct FieldAttrs {
    pub rename: Option<LitStr>,
    pub key: Option<Span>,
    pub partition: Option<Span>,
    pub since: Option<Spanned<Option<(u32, u32)>>>,
    pub default: Option<Span>,
    pub not_sensitive: Option<Span>,
    pub unknown: Option<Span>,
    /// With `unknown`: the schema closes the object
    /// (`additionalProperties: false`), which a union read exactly holds.
    pub closed: Option<Span>,
    /// `closed = "path"`: a function `fn(&str) -> bool` that says which
    /// members beside the fields the closed schema still allows (those its
    /// `patternProperties` match).
    pub allowed: Option<syn::Path>,
    /// On an `Option`: the field must be present, and `None` is `null`.
    pub required: Option<Span>,
    /// On an `Option`: the field may be missing, and a present `null` is
    /// refused (`None` is a missing field only).
    pub non_null: Option<Span>,
    /// The integers of the value are JSON Schema's: `1.0` reads as `1`.
    pub integer: Option<Span>,
    pub constraints: Vec<Constraint>,
}

#[derive(Default)]
pub struct VariantAttrs {
    pub rename: Option<LitStr>,
    pub other: Option<Span>,
}

fn is_event(attr: &Attribute) -> bool {
    attr.path().is_ident("event")
}

fn key_name(meta: &ParseNestedMeta) -> String {
    let path = &meta.path;
    path.get_ident()
        .map(|i| i.to_string())
        .unwrap_or_else(|| quote::quote!(#path).to_string().replace(' ', ""))
}

/// Records `value` in `slot`, or an error at the second occurrence.
fn set_once<T>(cx: &Ctxt, slot: &mut Option<T>, value: T, span: Span, key: &str) {
    if slot.is_some() {
        cx.error_at(
            span,
            format!("duplicate event attribute `{key}`: remove this one, it may be given once"),
        );
    } else {
        *slot = Some(value);
    }
}

/// Reports an unknown key and skips its value (`= ...` or `(...)`), so the
/// keys after it are still read.
fn unknown_key(cx: &Ctxt, meta: &ParseNestedMeta, message: String) -> syn::Result<()> {
    cx.error_at(meta.path.span(), message);
    if meta.input.peek(Token![=]) {
        let _: syn::Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _ = meta.parse_nested_meta(|m| {
            if m.input.peek(Token![=]) {
                let _: syn::Expr = m.value()?.parse()?;
            }
            Ok(())
        });
    }
    Ok(())
}

fn parse_str(meta: &ParseNestedMeta) -> syn::Result<LitStr> {
    let value = meta.value()?;
    value.parse::<LitStr>()
}

fn parse_version(cx: &Ctxt, lit: LitStr, what: &str) -> Spanned<Option<(u32, u32)>> {
    let parsed = event_rules::version::parse_version(&lit.value());
    if parsed.is_none() {
        cx.error_spanned_by(
            &lit,
            format!(
                "{what} must be `MAJOR.MINOR` with a major of at least 1, like \"1.0\" or \"2.3\"; found {:?}",
                lit.value()
            ),
        );
    }
    Spanned { value: parsed, lit }
}

/// Parses `#[event(...)]` on the struct of `#[derive(Event)]` or on the type
/// of `EventData` / `OpenEnum` (which take only `crate`).
pub fn container(cx: &Ctxt, attrs: &[Attribute], derive: Derive) -> ContainerAttrs {
    let mut out = ContainerAttrs::default();
    for attr in attrs.iter().filter(|a| is_event(a)) {
        let result = attr.parse_nested_meta(|meta| {
            let key = key_name(&meta);
            let span = meta.path.span();
            let event_only = [TYPE, VERSION, PRODUCER, DELIVERY, ORDERING, CONSUMER, EXPECTED_EVERY];
            if derive != Derive::Event && event_only.contains(&key.as_str()) {
                // Consume the value so that parsing goes on.
                if meta.input.peek(Token![=]) {
                    let _: syn::Expr = meta.value()?.parse()?;
                } else if meta.input.peek(syn::token::Paren) {
                    let _ = meta.parse_nested_meta(|m| {
                        let _: syn::Expr = m.value()?.parse()?;
                        Ok(())
                    });
                }
                cx.error_at(
                    span,
                    format!(
                        "`{key}` belongs on `#[derive(Event)]`; `#[derive({})]` takes only `crate`",
                        derive.name()
                    ),
                );
                return Ok(());
            }
            match key.as_str() {
                TYPE => {
                    let lit = parse_str(&meta)?;
                    set_once(cx, &mut out.ty, lit, span, TYPE);
                }
                VERSION => {
                    let lit = parse_str(&meta)?;
                    if out.version.is_some() {
                        set_once(cx, &mut out.version, Spanned { value: None, lit }, span, VERSION);
                    } else {
                        out.version = Some(parse_version(cx, lit, "the event version"));
                    }
                }
                PRODUCER => {
                    let lit = parse_str(&meta)?;
                    if lit.value().trim().is_empty() {
                        cx.error_spanned_by(&lit, "the producer must name the service that publishes the event, like \"enrollment-service\"");
                    } else {
                        check_service(cx, &lit, "producer");
                    }
                    set_once(cx, &mut out.producer, lit, span, PRODUCER);
                }
                DELIVERY => {
                    let lit = parse_str(&meta)?;
                    let value = match lit.value().as_str() {
                        "at-most-once" => Delivery::AtMostOnce,
                        "at-least-once" => Delivery::AtLeastOnce,
                        "exactly-once-effect" => Delivery::ExactlyOnceEffect,
                        other => {
                            cx.error_spanned_by(&lit, format!("unknown delivery {other:?}: expected \"at-most-once\", \"at-least-once\" or \"exactly-once-effect\""));
                            Delivery::AtLeastOnce
                        }
                    };
                    set_once(cx, &mut out.delivery, Spanned { value, lit }, span, DELIVERY);
                }
                ORDERING => {
                    let lit = parse_str(&meta)?;
                    let value = match lit.value().as_str() {
                        "unordered" => Ordering::Unordered,
                        "per-entity" => Ordering::PerEntity,
                        "global" => Ordering::Global,
                        other => {
                            cx.error_spanned_by(&lit, format!("unknown ordering {other:?}: expected \"unordered\", \"per-entity\" or \"global\""));
                            Ordering::Unordered
                        }
                    };
                    set_once(cx, &mut out.ordering, Spanned { value, lit }, span, ORDERING);
                }
                CONSUMER => {
                    let mut service: Option<LitStr> = None;
                    let mut reason: Option<LitStr> = None;
                    meta.parse_nested_meta(|inner| {
                        let key = key_name(&inner);
                        let span = inner.path.span();
                        match key.as_str() {
                            "service" => {
                                let lit = parse_str(&inner)?;
                                check_service(cx, &lit, "consumer");
                                set_once(cx, &mut service, lit, span, "service");
                            }
                            "reason" => {
                                let lit = parse_str(&inner)?;
                                set_once(cx, &mut reason, lit, span, "reason");
                            }
                            _ => {
                                return Err(inner.error(format!(
                                    "unknown consumer attribute `{key}`: expected `service = \"...\"` or `reason = \"...\"`"
                                )));
                            }
                        }
                        Ok(())
                    })?;
                    match (service, reason) {
                        (Some(service), Some(reason)) => out.consumers.push(Consumer { service, reason }),
                        (None, _) => cx.error_at(span, "a consumer needs `service = \"...\"`: `consumer(service = \"certificate-service\", reason = \"issues the certificate\")`"),
                        (_, None) => cx.error_at(span, "a consumer needs `reason = \"...\"`: say why the service consumes the event"),
                    }
                }
                EXPECTED_EVERY => {
                    let lit = parse_str(&meta)?;
                    if !is_duration(&lit.value()) {
                        cx.error_spanned_by(&lit, format!("`expected_every` must be a duration, a whole number above zero and one unit, s, m, h or d, like \"30m\" or \"6h\"; found {:?}", lit.value()));
                    }
                    set_once(cx, &mut out.expected_every, lit, span, EXPECTED_EVERY);
                }
                CHECK if derive != Derive::OpenEnum => {
                    let lit = parse_str(&meta)?;
                    match lit.parse::<syn::Path>() {
                        Ok(path) => set_once(cx, &mut out.check, path, span, CHECK),
                        Err(_) => cx.error_spanned_by(&lit, format!("`check` must be the path of a function, like \"Self::check\"; found {:?}", lit.value())),
                    }
                }
                CRATE => {
                    let lit = parse_str(&meta)?;
                    match lit.parse::<syn::Path>() {
                        Ok(path) => set_once(cx, &mut out.krate, path, span, CRATE),
                        Err(_) => cx.error_spanned_by(&lit, format!("`crate` must be a path, like \"::event_runtime\"; found {:?}", lit.value())),
                    }
                }
                _ => {
                    let expected = match derive {
                        Derive::Event => "expected one of `type`, `version`, `producer`, `delivery`, `ordering`, `consumer`, `expected_every`, `check`, `crate`",
                        Derive::EventData => "expected `check` or `crate`",
                        Derive::OpenEnum => "expected `crate`",
                    };
                    return unknown_key(cx, &meta, format!("unknown event attribute `{key}`: {expected}"));
                }
            }
            Ok(())
        });
        if let Err(error) = result {
            cx.syn_error(error);
        }
    }
    out
}

fn parse_number(meta: &ParseNestedMeta) -> syn::Result<Number> {
    let input = meta.value()?;
    let negative = input.peek(Token![-]);
    if negative {
        let _: Token![-] = input.parse()?;
    }
    let lit: syn::Lit = input.parse()?;
    match lit {
        syn::Lit::Int(_) | syn::Lit::Float(_) => Ok(Number { negative, lit }),
        other => Err(syn::Error::new(
            other.span(),
            "expected a number, like `0` or `99.5`",
        )),
    }
}

fn parse_count(meta: &ParseNestedMeta) -> syn::Result<usize> {
    let lit: syn::LitInt = meta.value()?.parse()?;
    lit.base10_parse::<usize>().map_err(|_| {
        syn::Error::new(
            lit.span(),
            "expected a count: a non-negative integer, like `1`",
        )
    })
}

/// Parses `#[event(...)]` on a field.
pub fn field(cx: &Ctxt, attrs: &[Attribute], derive: Derive) -> FieldAttrs {
    let mut out = FieldAttrs::default();
    for attr in attrs.iter().filter(|a| is_event(a)) {
        let result = attr.parse_nested_meta(|meta| {
            let key = key_name(&meta);
            let span = meta.path.span();
            if derive == Derive::EventData && (key == KEY || key == PARTITION) {
                cx.error_at(span, format!("`{key}` belongs on a field of an `#[derive(Event)]` struct: a payload part has no idempotency or partition key of its own"));
                return Ok(());
            }
            let mut constraint = |kind: ConstraintKind| {
                let (keyword, _) = Constraint { kind: kind.clone(), span }.schema();
                if out.constraints.iter().any(|c| c.schema().0 == keyword) {
                    cx.error_at(span, format!("duplicate event attribute `{key}`: remove this one, it may be given once"));
                } else {
                    out.constraints.push(Constraint { kind, span });
                }
            };
            match key.as_str() {
                RENAME => {
                    let lit = parse_str(&meta)?;
                    if lit.value().is_empty() {
                        cx.error_spanned_by(&lit, "`rename` needs the wire name, like \"totalDuration\"");
                    }
                    set_once(cx, &mut out.rename, lit, span, RENAME);
                }
                KEY => set_once(cx, &mut out.key, span, span, KEY),
                PARTITION => set_once(cx, &mut out.partition, span, span, PARTITION),
                SINCE => {
                    let lit = parse_str(&meta)?;
                    if out.since.is_some() {
                        set_once(cx, &mut out.since, Spanned { value: None, lit }, span, SINCE);
                    } else {
                        out.since = Some(parse_version(cx, lit, "`since`"));
                    }
                }
                DEFAULT => set_once(cx, &mut out.default, span, span, DEFAULT),
                NOT_SENSITIVE => set_once(cx, &mut out.not_sensitive, span, span, NOT_SENSITIVE),
                UNKNOWN => set_once(cx, &mut out.unknown, span, span, UNKNOWN),
                CLOSED => {
                    if meta.input.peek(Token![=]) {
                        let lit = parse_str(&meta)?;
                        match lit.parse::<syn::Path>() {
                            Ok(path) if out.closed.is_none() => out.allowed = Some(path),
                            Ok(_) => {}
                            Err(_) => cx.error_spanned_by(&lit, format!("`closed` takes the path of a function `fn(&str) -> bool` that allows members beside the fields, like \"Self::allowed\"; found {:?}", lit.value())),
                        }
                    }
                    set_once(cx, &mut out.closed, span, span, CLOSED);
                }
                REQUIRED => set_once(cx, &mut out.required, span, span, REQUIRED),
                NON_NULL => set_once(cx, &mut out.non_null, span, span, NON_NULL),
                INTEGER => set_once(cx, &mut out.integer, span, span, INTEGER),
                "minimum" => constraint(ConstraintKind::Minimum(parse_number(&meta)?)),
                "maximum" => constraint(ConstraintKind::Maximum(parse_number(&meta)?)),
                "exclusive_minimum" => constraint(ConstraintKind::ExclusiveMinimum(parse_number(&meta)?)),
                "exclusive_maximum" => constraint(ConstraintKind::ExclusiveMaximum(parse_number(&meta)?)),
                "min_length" => constraint(ConstraintKind::MinLength(parse_count(&meta)?)),
                "max_length" => constraint(ConstraintKind::MaxLength(parse_count(&meta)?)),
                "min_items" => constraint(ConstraintKind::MinItems(parse_count(&meta)?)),
                "max_items" => constraint(ConstraintKind::MaxItems(parse_count(&meta)?)),
                "pattern" => {
                    let lit = parse_str(&meta)?;
                    // Read as the runtime compiles it: ECMA-262's meaning
                    // in the `regex` crate's syntax.
                    let source = event_rules::pattern::to_rust(&lit.value()).into_owned();
                    if let Err(error) = regex_syntax::Parser::new().parse(&source) {
                        cx.error_spanned_by(&lit, format!("`pattern` is not a valid regular expression: {}", first_line(&error.to_string())));
                    }
                    constraint(ConstraintKind::Pattern(lit));
                }
                "constant" => constraint(ConstraintKind::Constant(parse_str(&meta)?)),
                "format" => {
                    let lit = parse_str(&meta)?;
                    if !matches!(lit.value().as_str(), "email" | "uri") {
                        cx.error_spanned_by(&lit, "unknown `format`: expected `email` or `uri`; date-times, dates and UUIDs get theirs from the field's type (`OffsetDateTime`, `Date`, `Uuid`), and other shapes take a `pattern`");
                    }
                    constraint(ConstraintKind::Format(lit));
                }
                _ => {
                    return unknown_key(cx, &meta, format!(
                        "unknown event attribute `{key}` on a field: expected one of `rename`, `key`, `partition`, `since`, `default`, `not_sensitive`, `unknown`, `closed`, `required`, `non_null`, `integer`, `minimum`, `maximum`, `exclusive_minimum`, `exclusive_maximum`, `min_length`, `max_length`, `pattern`, `min_items`, `max_items`, `constant`, `format`"
                    ));
                }
            }
            Ok(())
        });
        if let Err(error) = result {
            cx.syn_error(error);
        }
    }
    out
}

fn first_line(message: &str) -> String {
    message
        .lines()
        .rfind(|l| l.starts_with("error:"))
        .map(|l| l.trim_start_matches("error:").trim().to_owned())
        .unwrap_or_else(|| message.lines().next().unwrap_or_default().to_owned())
}

/// Parses `#[event(...)]` on a variant of an `OpenEnum`.
pub fn variant(cx: &Ctxt, attrs: &[Attribute]) -> VariantAttrs {
    let mut out = VariantAttrs::default();
    for attr in attrs.iter().filter(|a| is_event(a)) {
        let result = attr.parse_nested_meta(|meta| {
            let key = key_name(&meta);
            let span = meta.path.span();
            match key.as_str() {
                RENAME => {
                    let lit = parse_str(&meta)?;
                    set_once(cx, &mut out.rename, lit, span, RENAME);
                }
                OTHER => set_once(cx, &mut out.other, span, span, OTHER),
                _ => {
                    return unknown_key(cx, &meta, format!(
                        "unknown event attribute `{key}` on a variant: expected `rename = \"...\"` or `other`"
                    ));
                }
            }
            Ok(())
        });
        if let Err(error) = result {
            cx.syn_error(error);
        }
    }
    out
}

/// Checks a producer or consumer service name against the rule `event-codegen`
/// applies to schemas (`event_rules::service`), with a suggested name.
fn check_service(cx: &Ctxt, lit: &LitStr, role: &str) {
    let name = lit.value();
    if let Err(e) = event_rules::service::check_service_name(&name) {
        let like = event_rules::service::suggest_service_name(&name)
            .unwrap_or_else(|| "enrollment-service".to_string());
        cx.error_spanned_by(
            lit,
            format!("invalid {role} service name {name:?}: {e}; write it in lower-case kebab case, like {like:?}"),
        );
    }
}

/// Whether `s` is a duration as `x-event.expectedEvery` writes it: a whole
/// number above zero and one unit, `s`, `m`, `h` or `d`.
fn is_duration(s: &str) -> bool {
    let Some(digits) = s.strip_suffix(['s', 'm', 'h', 'd']) else {
        return false;
    };
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.parse::<u64>().is_ok_and(|n| n > 0)
}
