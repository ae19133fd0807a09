//! The rules of a contract that span attributes and fields: required keys,
//! names, versions, `since`, sensitive and envelope names, partitioning.

use crate::ast::{Field, Input, Scalar};
use crate::attr::{Constraint, ConstraintKind, Derive, Ordering};
use crate::ctxt::Ctxt;
use std::collections::BTreeMap;

pub fn check(cx: &Ctxt, input: &Input, derive: Derive) {
    if derive == Derive::Event {
        check_container(cx, input);
    }
    check_fields(cx, input, derive);
}

fn check_container(cx: &Ctxt, input: &Input) {
    let attrs = &input.attrs;
    let ident = input.ident;
    match &attrs.ty {
        None => cx.error_spanned_by(
            ident,
            format!("missing event type for `{ident}`: add `#[event(type = \"domain.action\")]`, the fact in lower-case dot notation, like `enrollment.completed`"),
        ),
        Some(lit) => {
            let name = lit.value();
            if let Err(error) = event_rules::naming::check_syntax(&name) {
                cx.error_spanned_by(
                    lit,
                    format!("invalid event type {name:?}: {error}; write `domain.action` in lower case, like \"enrollment.completed\""),
                );
            } else if let Err(error) = event_rules::tense::check_past_tense(&name) {
                cx.error_spanned_by(
                    lit,
                    format!("event type {name:?} is a command, not a fact: name what happened, in the past tense: `type = \"{}\"`", error.suggestion),
                );
            }
        }
    }
    if attrs.version.is_none() {
        cx.error_spanned_by(
            ident,
            format!("missing event version for `{ident}`: add `#[event(version = \"1.0\")]` (`MAJOR.MINOR`, starting at 1.0)"),
        );
    }
    if attrs.producer.is_none() {
        cx.error_spanned_by(
            ident,
            format!("missing producer for `{ident}`: add `#[event(producer = \"service-name\")]`, the one service that publishes the event"),
        );
    }
    let partitions: Vec<&Field> = input
        .fields
        .iter()
        .filter(|f| f.attrs.partition.is_some())
        .collect();
    if let Some(ordering) = &attrs.ordering {
        if ordering.value == Ordering::PerEntity && partitions.is_empty() {
            cx.error_spanned_by(
                &ordering.lit,
                "`ordering = \"per-entity\"` needs a partition key: mark the id of the entity with `#[event(partition)]`",
            );
        }
    }
    for extra in partitions.iter().skip(1) {
        if let Some(span) = extra.attrs.partition {
            cx.error_at(
                span,
                format!(
                    "a second `partition` field: `{}` is already the partition key; an event is routed by one entity id",
                    partitions[0].ident
                ),
            );
        }
    }
    let version = attrs.version.as_ref().and_then(|v| v.value);
    for field in &input.fields {
        if let (Some(since), Some((major, minor))) = (&field.attrs.since, version) {
            if let Some((s_major, s_minor)) = since.value {
                if s_major != major {
                    cx.error_spanned_by(
                        &since.lit,
                        format!("`since = \"{s_major}.{s_minor}\"` is of another major than the event's version {major}.{minor}: a field added in another major is a breaking change, described by a separate struct; write a {major}.x version"),
                    );
                } else if s_minor > minor {
                    cx.error_spanned_by(
                        &since.lit,
                        format!("`since = \"{s_major}.{s_minor}\"` is later than the event's version {major}.{minor}: raise `version` to {s_major}.{s_minor} or correct `since`"),
                    );
                }
            }
        }
    }
}

fn check_fields(cx: &Ctxt, input: &Input, derive: Derive) {
    let mut wire_names: BTreeMap<String, &Field> = BTreeMap::new();
    let mut unknown_seen = false;
    for field in &input.fields {
        let attrs = &field.attrs;
        let name = field.ident.to_string();
        let wire = field.wire_name();

        if let Some(since) = &attrs.since {
            if since.value.is_some() && !field.optional() {
                cx.error_spanned_by(
                    field.ty,
                    format!("`{name}` was added in minor version {}, so readers of older events must do without it: make it an `Option<_>` or add `#[event(default)]`", since.lit.value()),
                );
            }
        }

        if attrs.not_sensitive.is_none() {
            let found = event_rules::fields::sensitive_field(&name)
                .or_else(|| event_rules::fields::sensitive_field(&wire));
            if let Some(what) = found {
                cx.error_spanned_by(
                    field.ident,
                    format!("`{name}` looks like it holds {what}, which must never travel in an event: leave it out (send an id the consumer can resolve), or add `#[event(not_sensitive)]` if its content is not secret"),
                );
            }
        }

        if derive == Derive::Event {
            let envelope = event_rules::fields::envelope_field(&name)
                .or_else(|| event_rules::fields::envelope_field(&wire));
            if let Some(envelope) = envelope {
                match &attrs.rename {
                    Some(lit) if event_rules::fields::envelope_field(&wire).is_some() => {
                        cx.error_spanned_by(lit, format!("`{wire}` belongs to the envelope (`{envelope}`), not the payload: remove the field; consumers read it from `Envelope`"));
                    }
                    _ => cx.error_spanned_by(field.ident, format!("`{name}` belongs to the envelope (`{envelope}`), not the payload: remove the field; consumers read it from `Envelope`")),
                }
            }
        }

        if let Some(span) = attrs.required {
            if field.shape.nullable {
                cx.error_at(span, format!("`{name}` is an `Option<Option<_>>`, which keeps a missing field apart from `null`; a required field is never missing: make it an `Option<_>`, whose `None` is `null`"));
            } else if !field.shape.option {
                cx.error_at(span, format!("`required` makes an `Option` field one that must be present, with `None` written as `null`; `{name}` is not an `Option<_>`: remove `required`, a field of another type is required already"));
            } else if attrs.default.is_some() || field.serde_has(&["default"]) {
                cx.error_at(span, format!("`{name}` is `required` and has a `default`: a required field is never missing, so remove one of them"));
            }
        }

        if let Some(span) = attrs.non_null {
            if field.shape.nullable {
                cx.error_at(span, format!("`{name}` is an `Option<Option<_>>`, whose `Some(None)` is `null`: `non_null` refuses `null`, so remove one of them"));
            } else if !field.shape.option {
                cx.error_at(span, format!("`non_null` makes an `Option` field refuse a present `null`; `{name}` is not an `Option<_>`: remove `non_null`, a field of another type refuses `null` already"));
            } else if attrs.required.is_some() {
                cx.error_at(span, format!("`{name}` is `required`, whose `None` is `null`, and `non_null`, which refuses `null`: remove one of them"));
            } else if field.custom_serde() {
                cx.error_at(span, format!("`non_null` reads `{name}` through the runtime, and `{name}` has its own `#[serde(with/deserialize_with)]`: remove one of them"));
            }
        }

        if let Some(span) = attrs.integer {
            if field.custom_serde() {
                cx.error_at(span, format!("`integer` reads `{name}` through the runtime, and `{name}` has its own `#[serde(with/deserialize_with)]`: remove one of them"));
            }
        }

        if let Some(span) = attrs.partition {
            if field.shape.option {
                cx.error_at(span, format!("the partition key cannot be optional: `{name}` is an `Option`, and an event without it could not be routed; use the entity id's type itself"));
            }
        }

        if let (Some(span), None) = (attrs.closed, attrs.unknown) {
            cx.error_at(
                span,
                "`closed` says the `unknown` field stays empty where the schema is held exactly; add `unknown` to this field, or remove `closed`",
            );
        }
        if let Some(span) = attrs.unknown {
            if unknown_seen {
                cx.error_at(
                    span,
                    "a second `unknown` field: one field keeps all unknown fields",
                );
            }
            unknown_seen = true;
            if attrs.rename.is_some()
                || attrs.key.is_some()
                || attrs.partition.is_some()
                || attrs.since.is_some()
                || !attrs.constraints.is_empty()
            {
                cx.error_at(span, "an `unknown` field has no wire name of its own; it takes no other event attribute");
            }
        }

        if let Some(attr) = field
            .serde
            .iter()
            .find(|a| field.serde_attr_has(a, &["rename"]))
        {
            cx.error_spanned_by(
                attr,
                format!("`#[serde(rename)]` on `{name}` would hide the wire name from the contract's metadata: write `#[event(rename = \"...\")]` instead"),
            );
        }

        if !attrs.constraints.is_empty() && field.custom_serde() {
            cx.error_at(
                attrs.constraints[0].span,
                format!("constraints cannot be checked on `{name}`, whose decoding is its own `#[serde(with/deserialize_with)]`: check the value in that function instead"),
            );
        }
        for constraint in &attrs.constraints {
            if constraint.on_array() && !field.shape.vec {
                cx.error_at(
                    constraint.span,
                    format!(
                        "`{}` applies to arrays, and `{name}` is not a `Vec<_>`",
                        constraint.schema().0
                    ),
                );
            }
        }
        check_constraint_types(cx, field, &name);
        check_bounds(cx, field, &name);
        if matches!(field.shape.scalar, Scalar::DateTime | Scalar::Date) {
            if let Some(c) = attrs.constraints.iter().find(|c| !c.on_array()) {
                cx.error_at(
                    c.span,
                    format!("`{}` does not apply to dates", c.schema().0),
                );
            }
        }

        let date_shape = matches!(field.shape.scalar, Scalar::DateTime | Scalar::Date)
            && !(field.shape.option && field.shape.vec);
        if !date_shape && !field.custom_serde() && attrs.unknown.is_none() {
            if let Some(date) = nested_date(field.ty) {
                cx.error_spanned_by(
                    field.ty,
                    format!("`{date}` gets its wire format (RFC 3339 for `OffsetDateTime`, `YYYY-MM-DD` for `Date`) only as the field's type, in an `Option` or in a `Vec`; deeper in `{name}`'s type it would take time's default tuple format: use one of those shapes or give the field its own `#[serde(with = \"...\")]`"),
                );
            }
        }

        if attrs.unknown.is_none() {
            if let Some(first) = wire_names.get(&wire) {
                cx.error_spanned_by(
                    field.ident,
                    format!("`{name}` and `{}` have the same wire name {wire:?}: rename one with `#[event(rename = \"...\")]`", first.ident),
                );
            } else {
                wire_names.insert(wire, field);
            }
        }
    }
}

/// `OffsetDateTime` or `Date` somewhere inside `ty`, by name.
fn nested_date(ty: &syn::Type) -> Option<&'static str> {
    use quote::ToTokens;
    fn find(tokens: proc_macro2::TokenStream) -> Option<&'static str> {
        tokens.into_iter().find_map(|tt| match tt {
            proc_macro2::TokenTree::Ident(i) if i == "OffsetDateTime" => Some("OffsetDateTime"),
            proc_macro2::TokenTree::Ident(i) if i == "Date" => Some("Date"),
            proc_macro2::TokenTree::Group(g) => find(g.stream()),
            _ => None,
        })
    }
    find(ty.to_token_stream())
}

const NUMBERS: &[&str] = &[
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize", "f32",
    "f64",
];

/// The type of the values a constraint reaches (inside `Option` / `Vec`),
/// by its last path segment.
fn inner_name(field: &Field) -> Option<String> {
    match field.shape.inner {
        syn::Type::Path(path) if path.qself.is_none() => {
            path.path.segments.last().map(|s| s.ident.to_string())
        }
        _ => None,
    }
}

/// Removes the constraints [`check_constraint_types`] refused, so that the
/// expansion does not repeat the error as a type mismatch.
pub fn drop_mistyped(input: &mut Input) {
    for field in &mut input.fields {
        let Some(inner) = inner_name(field) else {
            continue;
        };
        field
            .attrs
            .constraints
            .retain(|c| mistyped(&inner, c).is_none());
    }
}

/// Whether constraint `c` cannot apply to values of type `inner`: the hint
/// to give, if so.
fn mistyped(inner: &str, c: &Constraint) -> Option<&'static str> {
    let number = NUMBERS.contains(&inner);
    let not_text = number || matches!(inner, "bool" | "char" | "Uuid");
    let text = matches!(inner, "String" | "str");
    match &c.kind {
        ConstraintKind::MinLength(_)
        | ConstraintKind::MaxLength(_)
        | ConstraintKind::Pattern(_)
        | ConstraintKind::Constant(_)
        | ConstraintKind::Format(_)
            if not_text =>
        {
            Some(if number {
                "; bound a number with `minimum` / `maximum`"
            } else {
                ""
            })
        }
        ConstraintKind::Minimum(_)
        | ConstraintKind::Maximum(_)
        | ConstraintKind::ExclusiveMinimum(_)
        | ConstraintKind::ExclusiveMaximum(_)
            if text =>
        {
            Some("; bound a string's length with `min_length` / `max_length`")
        }
        _ => None,
    }
}

/// A string constraint on a number, bool or id, or a numeric bound on a
/// string: refused at the attribute, not as a type error inside the
/// runtime's checks.
fn check_constraint_types(cx: &Ctxt, field: &Field, name: &str) {
    let Some(inner) = inner_name(field) else {
        return;
    };
    for c in &field.attrs.constraints {
        let keyword = c.schema().0;
        let Some(hint) = mistyped(&inner, c) else {
            continue;
        };
        let what = if c.on_array() {
            "arrays"
        } else if hint.contains("minimum") || hint.is_empty() {
            "strings"
        } else {
            "numbers"
        };
        cx.error_at(
            c.span,
            format!("`{keyword}` applies to {what}, and `{name}` holds `{inner}`{hint}"),
        );
    }
}

/// A lower bound that no value under the upper bound can meet.
fn check_bounds(cx: &Ctxt, field: &Field, name: &str) {
    let constraints = &field.attrs.constraints;
    let numeric = |c: &Constraint| -> Option<(f64, bool, bool)> {
        // (bound, is_lower, exclusive)
        let (n, lower, exclusive) = match &c.kind {
            ConstraintKind::Minimum(n) => (n, true, false),
            ConstraintKind::ExclusiveMinimum(n) => (n, true, true),
            ConstraintKind::Maximum(n) => (n, false, false),
            ConstraintKind::ExclusiveMaximum(n) => (n, false, true),
            ConstraintKind::MinLength(n) | ConstraintKind::MinItems(n) => {
                return Some((*n as f64, true, false));
            }
            ConstraintKind::MaxLength(n) | ConstraintKind::MaxItems(n) => {
                return Some((*n as f64, false, false));
            }
            _ => return None,
        };
        n.text().parse().ok().map(|v| (v, lower, exclusive))
    };
    // Pairs of one family: numeric bounds, lengths, item counts.
    let family = |c: &Constraint| match c.kind {
        ConstraintKind::MinLength(_) | ConstraintKind::MaxLength(_) => 1,
        ConstraintKind::MinItems(_) | ConstraintKind::MaxItems(_) => 2,
        _ => 0,
    };
    for (i, upper) in constraints.iter().enumerate() {
        let Some((high, false, high_exclusive)) = numeric(upper) else {
            continue;
        };
        for lower in constraints.iter().filter(|c| family(c) == family(upper)) {
            let Some((low, true, low_exclusive)) = numeric(lower) else {
                continue;
            };
            let empty = low > high || (low == high && (low_exclusive || high_exclusive));
            if empty {
                let (lk, lv) = lower.schema();
                let (hk, hv) = upper.schema();
                // On whichever of the two was written second.
                let later = constraints
                    .iter()
                    .position(|c| std::ptr::eq(c, lower))
                    .is_some_and(|l| l > i);
                let span = if later { lower.span } else { upper.span };
                cx.error_at(
                    span,
                    format!("`{lk} = {lv}` and `{hk} = {hv}` leave no value `{name}` can take: correct one of the two bounds"),
                );
            }
        }
    }
}
