//! Payload constraints (`minimum`, `maxLength`, `pattern`, ...) checked on
//! decode and before publishing.
//!
//! `#[derive(Event)]` and `#[derive(EventData)]` call these checks from the
//! code they generate: while a constrained field is decoded, so a violation
//! fails the decode at the field's JSON path (`data.score`), and from
//! [`Event::validate`](crate::Event::validate), so a producer finds out before
//! publishing. The functions are public for hand-written impls.
//!
//! ```
//! use event_runtime::validate::{maximum, min_length};
//! assert!(maximum(&85u8, 100).is_ok());
//! assert_eq!(
//!     maximum(&120u8, 100).unwrap_err().to_string(),
//!     "must be at most 100, found 120"
//! );
//! assert!(min_length("", 1).is_err());
//! ```

use core::fmt;
use std::sync::OnceLock;

/// A value that breaks a constraint of its contract, with the path of the
/// value inside the payload (`score`, `items[2].sku`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    path: String,
    message: String,
}

impl ValidationError {
    /// An error at `path` (empty for the value itself).
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        ValidationError {
            path: path.into(),
            message: message.into(),
        }
    }

    /// The path of the offending value, relative to the payload: `score`,
    /// `tags[1]`, `address.zip`. Empty for the value that was checked.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What is wrong, without the path.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error one level down: `at("items")` makes `[2].sku` into
    /// `items[2].sku` and `sku` into `items.sku`.
    pub fn at(mut self, parent: &str) -> Self {
        self.path = if self.path.is_empty() {
            parent.to_owned()
        } else if self.path.starts_with('[') || parent.is_empty() {
            format!("{parent}{}", self.path)
        } else {
            format!("{parent}.{}", self.path)
        };
        self
    }

    /// The same error for the element `index` of an array.
    pub fn at_index(self, index: usize) -> Self {
        self.at(&format!("[{index}]"))
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ValidationError {}

/// The result of one check.
pub type Check = Result<(), ValidationError>;

fn fail(message: String) -> Check {
    Err(ValidationError::new("", message))
}

/// `minimum`: `value >= bound`.
pub fn minimum<T: PartialOrd + fmt::Display>(value: &T, bound: T) -> Check {
    if *value >= bound {
        Ok(())
    } else {
        fail(format!("must be at least {bound}, found {value}"))
    }
}

/// `maximum`: `value <= bound`.
pub fn maximum<T: PartialOrd + fmt::Display>(value: &T, bound: T) -> Check {
    if *value <= bound {
        Ok(())
    } else {
        fail(format!("must be at most {bound}, found {value}"))
    }
}

/// `exclusiveMinimum`: `value > bound`.
pub fn exclusive_minimum<T: PartialOrd + fmt::Display>(value: &T, bound: T) -> Check {
    if *value > bound {
        Ok(())
    } else {
        fail(format!("must be greater than {bound}, found {value}"))
    }
}

/// `exclusiveMaximum`: `value < bound`.
pub fn exclusive_maximum<T: PartialOrd + fmt::Display>(value: &T, bound: T) -> Check {
    if *value < bound {
        Ok(())
    } else {
        fail(format!("must be less than {bound}, found {value}"))
    }
}

/// `minLength`, in characters (Unicode scalar values), as JSON Schema counts.
pub fn min_length(value: &str, bound: usize) -> Check {
    let len = value.chars().count();
    if len >= bound {
        Ok(())
    } else {
        fail(format!(
            "must be at least {bound} characters long, found {len}"
        ))
    }
}

/// `maxLength`, in characters.
pub fn max_length(value: &str, bound: usize) -> Check {
    let len = value.chars().count();
    if len <= bound {
        Ok(())
    } else {
        fail(format!(
            "must be at most {bound} characters long, found {len}"
        ))
    }
}

/// `minItems`.
pub fn min_items<T>(value: &[T], bound: usize) -> Check {
    if value.len() >= bound {
        Ok(())
    } else {
        fail(format!(
            "must have at least {bound} items, found {}",
            value.len()
        ))
    }
}

/// `maxItems`.
pub fn max_items<T>(value: &[T], bound: usize) -> Check {
    if value.len() <= bound {
        Ok(())
    } else {
        fail(format!(
            "must have at most {bound} items, found {}",
            value.len()
        ))
    }
}

/// `const`: the string is exactly `expected`.
pub fn constant(value: &str, expected: &str) -> Check {
    if value == expected {
        Ok(())
    } else {
        fail(format!("must be {expected:?}, found {value:?}"))
    }
}

/// `format`: `email` (an RFC 5321 mailbox, checked for its structure:
/// one `@`, a local part of at most 64 characters, a domain of dot-separated
/// labels of letters, digits and `-`), `uri` (an absolute RFC 3986 URI:
/// a scheme, `:`, and no whitespace or control characters), `uuid`,
/// `date-time` (RFC 3339, as `OffsetDateTime` fields read it) or `date`
/// (`YYYY-MM-DD`). Any other format name is refused, so a typo is not a
/// check that passes.
pub fn format(value: &str, format: &str) -> Check {
    let ok = match format {
        "email" => is_email(value),
        "uri" => is_uri(value),
        "uuid" => uuid::Uuid::parse_str(value).is_ok(),
        "date-time" => crate::wire::rfc3339::parse(value).is_ok(),
        "date" => time::Date::parse(
            value,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .is_ok(),
        other => {
            return fail(format!(
                "unknown format {other:?}: expected `email`, `uri`, `uuid`, `date-time` or `date`"
            ));
        }
    };
    if ok {
        Ok(())
    } else {
        fail(format!("must be a valid {format}, found {value:?}"))
    }
}

fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| {
            c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c) || !c.is_ascii()
        });
    let domain_ok = domain.len() <= 255
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || !c.is_ascii())
        });
    local_ok && domain_ok
}

fn is_uri(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
        && !rest.is_empty()
        && !rest.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// A regular expression compiled once, on first use, for `pattern`.
///
/// Generated code keeps one in a `static` per constrained field.
#[derive(Debug)]
pub struct Pattern {
    source: &'static str,
    compiled: OnceLock<Result<regex::Regex, String>>,
}

impl Pattern {
    /// A pattern that compiles on first use.
    pub const fn new(source: &'static str) -> Self {
        Pattern {
            source,
            compiled: OnceLock::new(),
        }
    }

    /// The regular expression as written.
    pub fn source(&self) -> &'static str {
        self.source
    }

    /// Whether `value` matches somewhere (for `patternProperties` and the
    /// names `additionalProperties` leaves to others). A pattern that does
    /// not compile matches nothing; the generator refuses such patterns.
    pub fn matches(&self, value: &str) -> bool {
        self.compiled().as_ref().is_ok_and(|re| re.is_match(value))
    }

    /// The expression, compiled on first use with ECMA-262's meaning
    /// (`event_rules::pattern::to_rust`), or why it does not compile.
    fn compiled(&self) -> &Result<regex::Regex, String> {
        self.compiled.get_or_init(|| {
            regex::Regex::new(&event_rules::pattern::to_rust(self.source))
                .map_err(|e| e.to_string())
        })
    }
}

/// `pattern`: `value` matches the regular expression somewhere (JSON Schema
/// patterns are not anchored).
///
/// ```
/// use event_runtime::validate::{pattern, Pattern};
/// static SKU: Pattern = Pattern::new("^[A-Z]{3}-[0-9]+$");
/// assert!(pattern("ABC-12", &SKU).is_ok());
/// assert!(pattern("abc", &SKU).is_err());
/// ```
pub fn pattern(value: &str, pattern: &Pattern) -> Check {
    match pattern.compiled() {
        Ok(re) if re.is_match(value) => Ok(()),
        Ok(_) => fail(format!(
            "must match the pattern {:?}, found {value:?}",
            pattern.source
        )),
        Err(error) => fail(format!(
            "the pattern {:?} does not compile: {error}",
            pattern.source
        )),
    }
}

/// `type` on a JSON value: the value is of one of the JSON Schema types
/// `allowed` (`null`, `boolean`, `object`, `array`, `number`, `string`,
/// `integer`; a number without a fractional part, `1.0` too, is an
/// `integer`).
///
/// ```
/// use event_runtime::validate::json_type;
/// use serde_json::json;
/// assert!(json_type(&json!(1.0), &["integer"]).is_ok());
/// assert!(json_type(&json!("x"), &["integer", "null"]).is_err());
/// ```
pub fn json_type(value: &serde_json::Value, allowed: &[&str]) -> Check {
    use serde_json::Value;
    let ok = allowed.iter().any(|t| match (*t, value) {
        ("null", Value::Null)
        | ("boolean", Value::Bool(_))
        | ("object", Value::Object(_))
        | ("array", Value::Array(_))
        | ("number", Value::Number(_))
        | ("string", Value::String(_)) => true,
        ("integer", Value::Number(n)) => {
            n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => false,
    });
    if ok {
        Ok(())
    } else {
        let found = match value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Object(_) => "an object",
            Value::Array(_) => "an array",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
        };
        fail(format!(
            "must be of type {}, found {found}",
            allowed.join(" or ")
        ))
    }
}

/// The values of an `enum` (or the one of a `const`), as JSON text parsed
/// on first use.
///
/// Generated code keeps one in a `static` per checked type.
#[derive(Debug)]
pub struct Values {
    source: &'static str,
    parsed: OnceLock<Result<Vec<serde_json::Value>, String>>,
}

impl Values {
    /// The values of the JSON array `source`.
    pub const fn new(source: &'static str) -> Self {
        Values {
            source,
            parsed: OnceLock::new(),
        }
    }
}

/// `enum` and `const` on a JSON value: the value equals one of `allowed`,
/// as JSON Schema compares values (numbers by their value, so `1` equals
/// `1.0`; objects whatever the order of their members).
///
/// ```
/// use event_runtime::validate::{one_of_values, Values};
/// use serde_json::json;
/// static ALLOWED: Values = Values::new(r#"[1, "one", {"n": [1]}, null]"#);
/// assert!(one_of_values(&json!(1.0), &ALLOWED).is_ok());
/// assert!(one_of_values(&json!({"n": [1.0]}), &ALLOWED).is_ok());
/// assert!(one_of_values(&json!(true), &ALLOWED).is_err());
/// ```
pub fn one_of_values(value: &serde_json::Value, allowed: &Values) -> Check {
    let parsed = allowed.parsed.get_or_init(|| {
        match serde_json::from_str::<serde_json::Value>(allowed.source) {
            Ok(serde_json::Value::Array(values)) => Ok(values),
            Ok(_) => Err("not a JSON array".to_string()),
            Err(e) => Err(e.to_string()),
        }
    });
    match parsed {
        Ok(values) if values.iter().any(|v| json_equal(v, value)) => Ok(()),
        Ok(values) if values.len() == 1 => fail(format!("must be {}, found {value}", values[0])),
        Ok(_) => fail(format!("must be one of {}, found {value}", allowed.source)),
        Err(error) => fail(format!(
            "the allowed values {:?} do not read: {error}",
            allowed.source
        )),
    }
}

/// JSON Schema equality: numbers by value, arrays item by item, objects
/// member by member whatever their order.
pub fn json_equal(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            },
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_equal(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

/// A rule of a schema that has no typed form, broken: the message says
/// which (`must not match the schema of \`not\``).
///
/// Generated code builds the errors of such rules (`not`, `anyOf`, a
/// property schema `false`) with it.
pub fn rule(message: &str) -> ValidationError {
    ValidationError::new("", message)
}

/// `multipleOf`: `value` divided by `by` is a whole number. Integers are
/// divided exactly; other numbers within the precision of an `f64`, and a
/// quotient too large for one is not a whole number.
///
/// ```
/// use event_runtime::validate::multiple_of;
/// use serde_json::json;
/// assert!(multiple_of(&json!(10), 2.0).is_ok());
/// assert!(multiple_of(&json!(0.0075), 0.0001).is_ok());
/// assert!(multiple_of(&json!(7), 2.0).is_err());
/// assert!(multiple_of(&json!(1e308), 0.123456789).is_err());
/// ```
pub fn multiple_of(value: &serde_json::Value, by: f64) -> Check {
    let Some(number) = value.as_number() else {
        return Ok(());
    };
    let whole = match (number.as_i64(), by.fract() == 0.0 && by.abs() < 9.0e15) {
        // `checked_rem`: `i64::MIN % -1` overflows, and is a multiple.
        (Some(i), true) if by != 0.0 => i.checked_rem(by as i64).is_none_or(|r| r == 0),
        _ => {
            let q = number.as_f64().unwrap_or(f64::NAN) / by;
            q.is_finite() && (q - q.round()).abs() <= q.abs().max(1.0) * 1e-9
        }
    };
    if whole {
        Ok(())
    } else {
        fail(format!("must be a multiple of {by}, found {number}"))
    }
}

/// `uniqueItems: true`: no two items are equal as JSON Schema compares
/// them ([`json_equal`]).
///
/// ```
/// use event_runtime::validate::unique_items;
/// use serde_json::json;
/// assert!(unique_items(&[json!(1), json!("1")]).is_ok());
/// assert!(unique_items(&[json!({"a": 1}), json!({"a": 1.0})]).is_err());
/// ```
pub fn unique_items(items: &[serde_json::Value]) -> Check {
    for (i, a) in items.iter().enumerate() {
        if let Some(j) = items[..i].iter().position(|b| json_equal(a, b)) {
            return fail(format!(
                "items must be unique; items {j} and {i} are equal ({a})"
            ));
        }
    }
    Ok(())
}

/// `minProperties`: the object has at least `bound` members.
pub fn min_properties(object: &serde_json::Map<String, serde_json::Value>, bound: usize) -> Check {
    if object.len() >= bound {
        Ok(())
    } else {
        fail(format!(
            "must have at least {bound} properties, found {}",
            object.len()
        ))
    }
}

/// `maxProperties`: the object has at most `bound` members.
pub fn max_properties(object: &serde_json::Map<String, serde_json::Value>, bound: usize) -> Check {
    if object.len() <= bound {
        Ok(())
    } else {
        fail(format!(
            "must have at most {bound} properties, found {}",
            object.len()
        ))
    }
}

/// `required` (and `dependentRequired`) on a JSON object: every name is a
/// member; the error is at the first one missing.
pub fn required(object: &serde_json::Map<String, serde_json::Value>, names: &[&str]) -> Check {
    match names.iter().find(|n| !object.contains_key(**n)) {
        None => Ok(()),
        Some(name) => Err(ValidationError::new(*name, "is required")),
    }
}

/// `contains` with `minContains` and `maxContains`: `matching` items of
/// the array satisfy the schema of `contains`.
pub fn contains(matching: usize, min: usize, max: Option<usize>) -> Check {
    if matching < min {
        if min == 1 {
            return fail("must contain an item that matches the schema of `contains`".into());
        }
        return fail(format!(
            "must contain at least {min} items that match the schema of `contains`, found {matching}"
        ));
    }
    match max {
        Some(max) if matching > max => fail(format!(
            "must contain at most {max} items that match the schema of `contains`, found {matching}"
        )),
        _ => Ok(()),
    }
}

/// `oneOf` on a JSON value: exactly one of the alternatives matched.
pub fn one_of(matching: usize) -> Check {
    match matching {
        1 => Ok(()),
        0 => fail("must match one schema of `oneOf`, and matches none".into()),
        n => fail(format!(
            "must match exactly one schema of `oneOf`, and matches {n}"
        )),
    }
}

/// `additionalProperties: false` (or `unevaluatedProperties: false`) held in
/// every read: `unknown`, the members a struct keeps beside its fields, holds
/// none, or (with `allowed`, the object's `patternProperties`) only members
/// `allowed` accepts. The error is at the member.
///
/// ```
/// use event_runtime::validate::closed;
/// let mut unknown = serde_json::Map::new();
/// assert!(closed(&unknown, None).is_ok());
/// unknown.insert("x-trace".into(), serde_json::Value::Null);
/// assert!(closed(&unknown, Some(|name: &str| name.starts_with("x-"))).is_ok());
/// assert_eq!(closed(&unknown, None).unwrap_err().path(), "x-trace");
/// ```
pub fn closed<M: crate::wire::UnknownNames + ?Sized>(
    unknown: &M,
    allowed: Option<fn(&str) -> bool>,
) -> Check {
    let found = match allowed {
        Some(allowed) => unknown.find_name(&|name| !allowed(name)),
        None => unknown.find_name(&|_| true),
    };
    match found {
        None => Ok(()),
        Some(name) => Err(ValidationError::new(
            name,
            if allowed.is_some() {
                "is not a property the schema names or its `patternProperties` match, and the object is closed (`additionalProperties: false`)"
            } else {
                "is not a property the schema names, and the object is closed (`additionalProperties: false`)"
            },
        )),
    }
}

/// `check`'s error one level down, at the field `wire` (what the derive's
/// `validate` writes for each checked field, without a closure per field).
#[doc(hidden)]
pub fn at(check: Check, wire: &str) -> Check {
    check.map_err(|e| e.at(wire))
}

/// `check`'s error at the element `index` of the field `wire`.
#[doc(hidden)]
pub fn at_element(check: Check, index: usize, wire: &str) -> Check {
    check.map_err(|e| e.at_index(index).at(wire))
}

/// `check` on each element, an error at the element's index (`[1]`).
#[doc(hidden)]
pub fn elements<T>(values: &[T], check: fn(&T) -> Check) -> Check {
    for (i, value) in values.iter().enumerate() {
        check(value).map_err(|e| e.at_index(i))?;
    }
    Ok(())
}

/// `check` on the value, if there is one.
#[doc(hidden)]
pub fn some<T>(value: &Option<T>, check: fn(&T) -> Check) -> Check {
    match value {
        Some(value) => check(value),
        None => Ok(()),
    }
}

/// `check` on the value of an `Option<Option<_>>`, if there is one.
#[doc(hidden)]
pub fn some_some<T>(value: &Option<Option<T>>, check: fn(&T) -> Check) -> Check {
    match value {
        Some(Some(value)) => check(value),
        _ => Ok(()),
    }
}

/// Reaches the constraints of nested `EventData` values from generated
/// code, which cannot tell from a field's type whether it implements
/// `EventData`: `(&Probe(&value)).validate_nested()` resolves to
/// [`ViaEventData`] when it does and to [`ViaOther`] (nothing to check)
/// otherwise.
#[doc(hidden)]
pub struct Probe<'a, T>(pub &'a T);

#[doc(hidden)]
pub trait ViaEventData {
    fn validate_nested(&self) -> Check;
}

impl<T: crate::EventData> ViaEventData for Probe<'_, T> {
    fn validate_nested(&self) -> Check {
        self.0.validate()
    }
}

#[doc(hidden)]
pub trait ViaOther {
    fn validate_nested(&self) -> Check;
}

impl<T> ViaOther for &Probe<'_, T> {
    fn validate_nested(&self) -> Check {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_nest() {
        let e = ValidationError::new("sku", "bad").at_index(2).at("items");
        assert_eq!(e.path(), "items[2].sku");
        assert_eq!(e.to_string(), "items[2].sku: bad");
        let e = ValidationError::new("", "bad").at("score");
        assert_eq!(e.to_string(), "score: bad");
        let e = ValidationError::new("zip", "bad").at("address");
        assert_eq!(e.path(), "address.zip");
    }

    #[test]
    fn formats() {
        for ok in [
            "ada@example.com",
            "first.last+tag@mail.example.org",
            "x@localhost",
        ] {
            assert!(format(ok, "email").is_ok(), "{ok}");
        }
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "ada@@example.com",
            "a da@example.com",
            ".ada@example.com",
            "ada..l@example.com",
            "ada@-example.com",
            "ada@example..com",
        ] {
            assert!(format(bad, "email").is_err(), "{bad:?} passed as an email");
        }
        assert_eq!(
            format("ada", "email").unwrap_err().message(),
            "must be a valid email, found \"ada\""
        );
        for ok in [
            "https://example.com/a?b=c#d",
            "urn:isbn:0451450523",
            "mailto:ada@example.com",
        ] {
            assert!(format(ok, "uri").is_ok(), "{ok}");
        }
        for bad in [
            "",
            "example.com",
            "/relative/path",
            "1http://x",
            "https://exa mple.com",
            "https:",
        ] {
            assert!(format(bad, "uri").is_err(), "{bad:?} passed as a uri");
        }
        assert!(format("0b8e4a52-54f4-4a5c-9d4e-3f1f2b0c9a11", "uuid").is_ok());
        assert!(format("0b8e4a52-54f4-4a5c-9d4e-3f1f2b0c9a1", "uuid").is_err());
        assert!(format("2026-03-27T10:30:00+02:00", "date-time").is_ok());
        assert!(format("2026-03-27", "date-time").is_err());
        assert!(format("2016-12-31T23:59:60Z", "date-time").is_err());
        assert!(format("2026-03-27", "date").is_ok());
        assert!(format("2026-02-30", "date").is_err());
        assert_eq!(
            format("x", "hostname").unwrap_err().message(),
            "unknown format \"hostname\": expected `email`, `uri`, `uuid`, `date-time` or `date`"
        );
    }

    #[test]
    fn json_types_and_values() {
        use serde_json::json;
        assert!(json_type(&json!(2.0), &["integer"]).is_ok());
        assert!(json_type(&json!(2.5), &["integer"]).is_err());
        assert!(json_type(&json!(2.5), &["number"]).is_ok());
        assert_eq!(
            json_type(&json!("x"), &["integer", "null"])
                .unwrap_err()
                .message(),
            "must be of type integer or null, found a string"
        );
        assert!(json_equal(
            &json!({"a": [1, {"b": 2}]}),
            &json!({"a": [1.0, {"b": 2.0}]})
        ));
        assert!(!json_equal(&json!([1, 2]), &json!([2, 1])));
        assert!(!json_equal(&json!({"a": 1}), &json!({"a": 1, "b": 1})));
        assert!(!json_equal(&json!(0), &json!(false)));
        static ONE: Values = Values::new("[null]");
        assert_eq!(
            one_of_values(&json!(0), &ONE).unwrap_err().message(),
            "must be null, found 0"
        );
        static BROKEN: Values = Values::new("[1,");
        assert!(one_of_values(&json!(1), &BROKEN).is_err());
    }

    #[test]
    fn bounds() {
        assert!(minimum(&0i32, 0).is_ok());
        assert_eq!(
            minimum(&-1i32, 0).unwrap_err().message(),
            "must be at least 0, found -1"
        );
        assert!(exclusive_minimum(&0.0f64, 0.0).is_err());
        assert!(exclusive_maximum(&9.99f64, 10.0).is_ok());
        assert!(max_length("héllo", 5).is_ok(), "characters, not bytes");
        assert!(max_items(&[1, 2, 3], 2).is_err());
        assert!(constant("EUR", "EUR").is_ok());
    }

    #[test]
    fn an_invalid_pattern_is_an_error_not_a_panic() {
        static BAD: Pattern = Pattern::new("([a-z");
        let err = pattern("abc", &BAD).unwrap_err();
        assert!(
            err.message()
                .starts_with("the pattern \"([a-z\" does not compile"),
            "{err}"
        );
    }
}
