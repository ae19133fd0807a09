//! Rust names for schema names: types, variants and fields, always valid
//! identifiers, never keywords, never a prelude name.

use heck::{ToLowerCamelCase, ToSnakeCase, ToUpperCamelCase};

/// Rust keywords (all editions) and reserved words.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield", "union",
];

/// Type names the generated code uses unqualified, or that would shadow a
/// prelude name in the user's module.
const RESERVED_TYPES: &[&str] = &[
    "Option",
    "Some",
    "None",
    "Result",
    "Ok",
    "Err",
    "String",
    "Vec",
    "Box",
    "Self",
    "Default",
    "Clone",
    "Copy",
    "Send",
    "Sync",
    "Sized",
    "Unpin",
    "Drop",
    "Fn",
    "FnMut",
    "FnOnce",
    "Iterator",
    "IntoIterator",
    "Extend",
    "ToString",
    "ToOwned",
    "From",
    "Into",
    "TryFrom",
    "TryInto",
    "AsRef",
    "AsMut",
    "PartialEq",
    "Eq",
    "PartialOrd",
    "Ord",
    "Debug",
    "Hash",
    "FromIterator",
    "DoubleEndedIterator",
    "ExactSizeIterator",
    "Event",
    "EventData",
    "OpenEnum",
    "Map",
    "Value",
    "Uuid",
    "OffsetDateTime",
    "Date",
    "BTreeMap",
];

/// Keeps ASCII letters and digits, so heck's word splitting sees the rest
/// as separators.
fn ascii_words(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect()
}

/// An `UpperCamelCase` type name for any text (`enrollment.completed` ->
/// `EnrollmentCompleted`).
pub(crate) fn type_ident(s: &str) -> String {
    let mut out = ascii_words(s).to_upper_camel_case();
    if out.is_empty() {
        out = "Unnamed".to_string();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'T');
    }
    out
}

/// The type name a schema's `title` gives, when the title reads as a name:
/// at most five words of letters, digits, `-` and `_` (`Money`, `push
/// event`, `GitHub Dependabot v2 config`). A title that reads as a sentence
/// or holds a version or an address (`JSON schema for Renovate 44.181.5
/// config files (https://renovatebot.com/)`) names nothing: such a name
/// would be long, and would change with every release of the schema; the
/// file's or the key's name is used instead.
pub(crate) fn title_ident(title: &str) -> Option<String> {
    let words = title.split_whitespace().count();
    let plain = title
        .chars()
        .all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == ' ');
    (plain && (1..=5).contains(&words)).then(|| type_ident(title))
}

/// A variant name for an enum value.
pub(crate) fn variant_ident(s: &str) -> String {
    let out = ascii_words(s).to_upper_camel_case();
    if out.is_empty() {
        return "Empty".to_string();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        return format!("V{out}");
    }
    if KEYWORDS.contains(&out.as_str()) {
        return format!("{out}Value");
    }
    out
}

/// A type name that does not shadow what the generated code relies on.
pub(crate) fn avoid_reserved(name: &str) -> String {
    if RESERVED_TYPES.contains(&name) || KEYWORDS.contains(&name) {
        format!("{name}Type")
    } else {
        name.to_string()
    }
}

/// A `snake_case` field name for a wire name, distinct from `taken`.
pub(crate) fn field_ident<'t>(wire: &str, taken: impl Iterator<Item = &'t str> + Clone) -> String {
    let mut base = ascii_words(wire).to_snake_case();
    if base.is_empty() {
        base = "field".to_string();
    }
    if base.starts_with(|c: char| c.is_ascii_digit()) {
        base.insert_str(0, "field_");
    }
    if KEYWORDS.contains(&base.as_str()) {
        base.push('_');
    }
    let mut ident = base.clone();
    let mut n = 2;
    while taken.clone().any(|t| t == ident) {
        ident = format!("{base}_{n}");
        n += 1;
    }
    ident
}

/// Whether the derive's default wire name for `ident` (its camelCase) is
/// `wire`. Names with digits are always spelled out: camelCase conversions
/// disagree about them.
pub(crate) fn round_trips(ident: &str, wire: &str) -> bool {
    !wire.bytes().any(|b| b.is_ascii_digit())
        && !ident.ends_with('_')
        && ident.to_lower_camel_case() == wire
}

/// The narrowest integer type for inclusive bounds, and its range.
pub(crate) fn int_width(lo: Option<i128>, hi: Option<i128>) -> (&'static str, i128, i128) {
    const UNSIGNED: [(&str, i128); 4] = [
        ("u8", u8::MAX as i128),
        ("u16", u16::MAX as i128),
        ("u32", u32::MAX as i128),
        ("u64", u64::MAX as i128),
    ];
    const SIGNED: [(&str, i128, i128); 4] = [
        ("i8", i8::MIN as i128, i8::MAX as i128),
        ("i16", i16::MIN as i128, i16::MAX as i128),
        ("i32", i32::MIN as i128, i32::MAX as i128),
        ("i64", i64::MIN as i128, i64::MAX as i128),
    ];
    match (lo, hi) {
        (Some(lo), Some(hi)) if lo >= 0 => UNSIGNED
            .iter()
            .find(|(_, max)| hi <= *max)
            .map_or(("u64", 0, u64::MAX as i128), |(t, max)| (*t, 0, *max)),
        (Some(lo), None) if lo >= 0 => ("u64", 0, u64::MAX as i128),
        (Some(lo), Some(hi)) => SIGNED
            .iter()
            .find(|(_, min, max)| lo >= *min && hi <= *max)
            .map_or(
                ("i64", i64::MIN as i128, i64::MAX as i128),
                |(t, min, max)| (*t, *min, *max),
            ),
        _ => ("i64", i64::MIN as i128, i64::MAX as i128),
    }
}

/// The range of an integer type by name (`u8` -> 0..=255).
pub(crate) fn int_width_named(name: &str) -> Option<(&'static str, i128, i128)> {
    [
        ("u8", 0, u8::MAX as i128),
        ("u16", 0, u16::MAX as i128),
        ("u32", 0, u32::MAX as i128),
        ("u64", 0, u64::MAX as i128),
        ("i8", i8::MIN as i128, i8::MAX as i128),
        ("i16", i16::MIN as i128, i16::MAX as i128),
        ("i32", i32::MIN as i128, i32::MAX as i128),
        ("i64", i64::MIN as i128, i64::MAX as i128),
    ]
    .into_iter()
    .find(|(n, _, _)| *n == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_identifiers() {
        assert_eq!(type_ident("enrollment.completed"), "EnrollmentCompleted");
        assert_eq!(type_ident("2fa-settings"), "T2faSettings");
        assert_eq!(type_ident("ü"), "Unnamed");
        assert_eq!(variant_ident("in_progress"), "InProgress");
        assert_eq!(variant_ident("self"), "SelfValue");
        assert_eq!(variant_ident("4k"), "V4k");
        assert_eq!(avoid_reserved("String"), "StringType");
        let none = [].into_iter();
        assert_eq!(field_ident("type", none.clone()), "type_");
        assert_eq!(field_ident("$id", none.clone()), "id");
        assert_eq!(field_ident("2fa", none.clone()), "field_2fa");
        assert_eq!(field_ident("", none), "field");
        assert_eq!(field_ident("user_id", ["user_id"].into_iter()), "user_id_2");
    }

    #[test]
    fn a_title_names_a_type_when_it_reads_as_a_name() {
        assert_eq!(title_ident("Money").as_deref(), Some("Money"));
        assert_eq!(title_ident("push event").as_deref(), Some("PushEvent"));
        assert_eq!(
            title_ident("GitHub Dependabot v2 config").as_deref(),
            Some("GitHubDependabotV2Config")
        );
        for sentence in [
            "JSON schema for Renovate 44.181.5 config files (https://renovatebot.com/)",
            "GitHub issue template chooser config file schema",
            "JSON Schema for meltano.yml",
            "AsyncAPI 3.0.0 schema.",
            "Cloud Pub/Sub Channel Schema",
            "",
        ] {
            assert_eq!(title_ident(sentence), None, "{sentence}");
        }
    }

    #[test]
    fn renames_only_when_needed() {
        assert!(round_trips("total_duration", "totalDuration"));
        assert!(!round_trips("total_duration", "total_duration"));
        assert!(!round_trips("type_", "type"));
        assert!(!round_trips("address_line1", "addressLine1"));
    }

    #[test]
    fn picks_the_narrowest_width() {
        assert_eq!(int_width(Some(0), Some(100)).0, "u8");
        assert_eq!(int_width(Some(0), Some(10_000_000)).0, "u32");
        assert_eq!(int_width(Some(0), None).0, "u64");
        assert_eq!(int_width(Some(-5), Some(5)).0, "i8");
        assert_eq!(int_width(None, Some(5)).0, "i64");
        assert_eq!(int_width(Some(-1), Some(u64::MAX as i128)).0, "i64");
    }
}
