//! The common items written straight in prettyplease's layout: structs of
//! fields and attributes, and open enums. A catalog is mostly these, and
//! parsing then printing them was most of the generation time; the other
//! items (newtypes, unions, aliases, structs with rules, defaults,
//! accessors or a closure to check) still go through `syn` and prettyplease.
//!
//! Only layouts whose every choice is known are written here: a doc line
//! is `///` and the text without its trailing spaces, an attribute list
//! stays on one line when it fits in prettyplease's margin and otherwise
//! puts one argument per line, and an item with any other line that would
//! not fit (a long field type) is left to prettyplease. The output is the
//! same bytes either way: the tests below compare both paths over names,
//! types and literals of every length around the margin, and the golden
//! files did not change.

use super::{Writer, field_args, integral};
use crate::model::{Item, OpenEnum, Struct};

/// prettyplease's line width: a group that would end past it is broken.
const MARGIN: usize = 89;
/// prettyplease's indentation step.
const INDENT: usize = 4;

/// One argument of an attribute list: `key = "lit"` or `word`, or a list
/// of its own (`consumer(service = "a", reason = "b")`).
enum Arg<'a> {
    Plain(String),
    List(&'a str, Vec<String>),
}

impl Arg<'_> {
    fn one_line(&self) -> usize {
        match self {
            Arg::Plain(s) => s.len(),
            Arg::List(name, args) => name.len() + 2 + joined_len(args),
        }
    }
}

/// The length of `args` joined by `", "`.
fn joined_len(args: &[String]) -> usize {
    args.iter().map(String::len).sum::<usize>() + 2 * args.len().saturating_sub(1)
}

fn indent(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

/// `#[path(args)]` at `at` columns. prettyplease opens a consistent group
/// after `(`: it stays on one line when the whole line, up to the break
/// after it (the closing `)]`, or `),` of a nested list), fits in the
/// margin; otherwise every argument goes on a line of its own, without a
/// trailing comma. A nested list is a group of its own, laid out by the
/// same rule at its column.
fn attr(out: &mut String, at: usize, path: &str, args: &[Arg<'_>]) {
    let open = at + 2 + path.len() + 1;
    let content: usize =
        args.iter().map(Arg::one_line).sum::<usize>() + 2 * args.len().saturating_sub(1);
    indent(out, at);
    out.push_str("#[");
    out.push_str(path);
    out.push('(');
    if open + content + 2 <= MARGIN {
        for (i, arg) in args.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            match arg {
                Arg::Plain(s) => out.push_str(s),
                Arg::List(name, list) => {
                    out.push_str(name);
                    out.push('(');
                    out.push_str(&list.join(", "));
                    out.push(')');
                }
            }
        }
        out.push_str(")]\n");
        return;
    }
    out.push('\n');
    let inner = at + INDENT;
    for (i, arg) in args.iter().enumerate() {
        let last = i + 1 == args.len();
        match arg {
            Arg::Plain(s) => {
                indent(out, inner);
                out.push_str(s);
            }
            Arg::List(name, list) => {
                indent(out, inner);
                out.push_str(name);
                out.push('(');
                let close = if last { 1 } else { 2 };
                if inner + name.len() + 1 + joined_len(list) + close <= MARGIN {
                    out.push_str(&list.join(", "));
                } else {
                    out.push('\n');
                    for (j, a) in list.iter().enumerate() {
                        indent(out, inner + INDENT);
                        out.push_str(a);
                        if j + 1 < list.len() {
                            out.push(',');
                        }
                        out.push('\n');
                    }
                    indent(out, inner);
                }
                out.push(')');
            }
        }
        if !last {
            out.push(',');
        }
        out.push('\n');
    }
    indent(out, at);
    out.push_str(")]\n");
}

/// Doc lines as prettyplease prints `#[doc = " line"]`: `///` and the
/// value, trailing spaces trimmed. The lines are the ones
/// [`Writer::doc`] would write.
fn doc(out: &mut String, at: usize, doc: Option<&str>) {
    let Some(doc) = doc else {
        return;
    };
    for line in super::doc_lines(doc) {
        indent(out, at);
        out.push_str("///");
        out.push_str(format!(" {line}").trim_end_matches(' '));
        out.push('\n');
    }
}

/// A line at `at` columns, or `None` when it would pass the margin and
/// prettyplease might break it.
fn line(out: &mut String, at: usize, text: &str) -> Option<()> {
    if at + text.len() > MARGIN {
        return None;
    }
    indent(out, at);
    out.push_str(text);
    out.push('\n');
    Some(())
}

fn quoted(key: &str, value: &str) -> String {
    format!("{key} = {value:?}")
}

impl Writer<'_> {
    /// Appends `item` to `out` in its final layout, or leaves `out` as it
    /// was and returns `false` for an item prettyplease must lay out.
    pub(super) fn laid_out(&self, item: &Item, out: &mut String) -> bool {
        let start = out.len();
        let done = match item {
            Item::Struct(s) => self.struct_laid_out(s, out),
            Item::Enum(e) => self.enum_laid_out(e, out),
            _ => None,
        };
        if done.is_none() {
            out.truncate(start);
        }
        done.is_some()
    }

    fn crate_attr_laid_out(&self, out: &mut String, at: usize) {
        if let Some(c) = self.crate_attr {
            attr(out, at, "event", &[Arg::Plain(quoted("crate", c))]);
        }
    }

    fn struct_laid_out(&self, s: &Struct, out: &mut String) -> Option<()> {
        if s.check.is_some()
            || s.fields.is_empty()
            || s.fields.iter().any(|f| {
                f.default_value.is_some()
                    || f.accessor.is_some()
                    || !f.allowed.is_empty()
                    || f.enforce_closed
            })
        {
            return None;
        }
        let rt = self.rt;
        doc(out, 0, s.doc.as_deref());
        let derive = if s.event.is_some() {
            "Event"
        } else {
            "EventData"
        };
        attr(
            out,
            0,
            "derive",
            &[
                Arg::Plain("Debug".to_string()),
                Arg::Plain("Clone".to_string()),
                Arg::Plain("PartialEq".to_string()),
                Arg::Plain(format!("{rt}::{derive}")),
            ],
        );
        if let Some(e) = &s.event {
            let mut args = vec![
                Arg::Plain(quoted("type", &e.type_name)),
                Arg::Plain(quoted("version", &e.version)),
                Arg::Plain(quoted("producer", &e.producer)),
            ];
            if let Some(d) = &e.delivery {
                args.push(Arg::Plain(quoted("delivery", d)));
            }
            if let Some(o) = &e.ordering {
                args.push(Arg::Plain(quoted("ordering", o)));
            }
            if let Some(every) = &e.expected_every {
                args.push(Arg::Plain(quoted("expected_every", every)));
            }
            attr(out, 0, "event", &args);
            for (service, reason) in &e.consumers {
                attr(
                    out,
                    0,
                    "event",
                    &[Arg::List(
                        "consumer",
                        vec![quoted("service", service), quoted("reason", reason)],
                    )],
                );
            }
        }
        self.crate_attr_laid_out(out, 0);
        line(out, 0, &format!("pub struct {} {{", s.name))?;
        for f in &s.fields {
            doc(out, INDENT, f.doc.as_deref());
            if f.deprecated {
                line(out, INDENT, "#[deprecated]")?;
            }
            let args = field_args(f, integral(&f.ty));
            if !args.is_empty() {
                let args: Vec<Arg<'_>> = args.into_iter().map(Arg::Plain).collect();
                attr(out, INDENT, "event", &args);
            }
            line(
                out,
                INDENT,
                &format!("pub {}: {},", f.ident, self.ty(&f.ty)),
            )?;
        }
        out.push_str("}\n");
        Some(())
    }

    fn enum_laid_out(&self, e: &OpenEnum, out: &mut String) -> Option<()> {
        let rt = self.rt;
        doc(out, 0, e.doc.as_deref());
        let derives = ["Debug", "Clone", "PartialEq", "Eq", "Hash"];
        let mut args: Vec<Arg<'_>> = derives
            .iter()
            .map(|d| Arg::Plain((*d).to_string()))
            .collect();
        args.push(Arg::Plain(format!("{rt}::OpenEnum")));
        attr(out, 0, "derive", &args);
        self.crate_attr_laid_out(out, 0);
        line(out, 0, &format!("pub enum {} {{", e.name))?;
        for (ident, wire) in &e.variants {
            attr(out, INDENT, "event", &[Arg::Plain(quoted("rename", wire))]);
            line(out, INDENT, &format!("{ident},"))?;
        }
        line(
            out,
            INDENT,
            "/// A value this version does not know, kept as written.",
        )?;
        line(out, INDENT, "#[event(other)]")?;
        line(out, INDENT, &format!("{}(String),", e.other))?;
        out.push_str("}\n");
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Constraint, EventAttrs, Field, Num, Ty};

    fn field(ident: &str, ty: Ty) -> Field {
        Field {
            ident: ident.to_string(),
            wire: ident.to_string(),
            rename: false,
            ty,
            doc: None,
            since: None,
            constraints: Vec::new(),
            deprecated: false,
            key: false,
            partition: false,
            default: false,
            default_value: None,
            not_sensitive: false,
            required: false,
            non_null: false,
            unknown: false,
            closed: false,
            enforce_closed: false,
            allowed: Vec::new(),
            accessor: None,
        }
    }

    /// What the items printed before this module: source text through
    /// `syn` and prettyplease.
    fn printed(w: &mut Writer<'_>, item: &Item) -> String {
        w.out.clear();
        w.item(item);
        prettyplease::unparse(&syn::parse_file(&w.out).unwrap())
    }

    /// Strings of every length from 0 to `max`, with a non-ASCII
    /// character, quotes and a backslash in the longer ones (escaped in
    /// literals, counted in bytes by prettyplease).
    fn text(n: usize) -> String {
        let base = "ab\"c\\d é-f ";
        base.chars().cycle().take(n).collect()
    }

    fn items(n: usize) -> Vec<Item> {
        let name = format!("Type{}", "X".repeat(n));
        let mut rich = field(
            &format!("f{}", "g".repeat(n)),
            Ty::Option(Box::new(Ty::Vec(Box::new(Ty::Int("u16"))))),
        );
        rich.rename = true;
        rich.wire = text(n);
        rich.since = Some("1.2".to_string());
        rich.deprecated = n % 2 == 0;
        rich.doc = Some(format!(
            "{}  \n\n  second line {}\r{}```",
            text(n),
            text(n / 2),
            "~~~"
        ));
        rich.constraints = vec![
            Constraint::Minimum(Num::Int(-(n as i128))),
            Constraint::ExclusiveMaximum(Num::Float(n as f64 + 0.5)),
            Constraint::MinItems(1),
            Constraint::Pattern(text(n)),
            Constraint::Format("email".to_string()),
        ];
        rich.key = n % 3 == 0;
        rich.required = n % 5 == 0;
        let plain = field("id", Ty::Uuid);
        let mut map = field(
            "attributes",
            Ty::Option(Box::new(Ty::Map(Box::new(Ty::Named(name.clone()))))),
        );
        map.unknown = n % 2 == 1;
        map.closed = n % 4 == 1;
        let event = Struct {
            name: name.clone(),
            doc: Some(text(n)),
            event: Some(EventAttrs {
                type_name: format!("item{}.created", "x".repeat(n)),
                version: "1.0".to_string(),
                producer: format!("{}-service", "p".repeat(n / 2)),
                delivery: (n % 2 == 0).then(|| "at-least-once".to_string()),
                ordering: (n % 3 == 0).then(|| "per-entity".to_string()),
                consumers: vec![
                    (format!("{}-service", "c".repeat(n)), text(n)),
                    ("a-service".to_string(), text(2 * n)),
                ],
                expected_every: (n % 4 == 0).then(|| "5m".to_string()),
            }),
            fields: vec![plain.clone(), rich.clone(), map],
            check: None,
        };
        let shared = Struct {
            name: format!("{name}Shared"),
            doc: None,
            event: None,
            fields: vec![rich, plain],
            check: None,
        };
        let open = OpenEnum {
            name: format!("{name}Level"),
            doc: Some(format!(" {}", text(n))),
            variants: vec![
                ("Low".to_string(), text(n)),
                (format!("V{}", "v".repeat(n)), "high".to_string()),
            ],
            other: "Other".to_string(),
        };
        vec![Item::Struct(event), Item::Struct(shared), Item::Enum(open)]
    }

    #[test]
    fn laid_out_items_are_what_prettyplease_prints() {
        let mut laid = 0;
        let mut total = 0;
        for rt in [
            "::event_runtime",
            "::a_runtime_crate_renamed_to_something_much_longer",
        ] {
            let crate_attr = (rt != "::event_runtime").then_some(rt);
            let names = crate::emit::Names::new();
            let mut w = Writer {
                out: String::new(),
                rt,
                crate_attr,
                names: &names,
            };
            for n in 0..100 {
                for item in items(n) {
                    total += 1;
                    let mut out = String::new();
                    if !w.laid_out(&item, &mut out) {
                        assert!(out.is_empty(), "an item not laid out left text");
                        continue;
                    }
                    laid += 1;
                    let expected = printed(&mut w, &item);
                    assert_eq!(out, expected, "length {n}, runtime {rt}");
                }
            }
        }
        // Only items with a line past the margin (a long field name and
        // type) are left to prettyplease.
        assert!(laid * 2 > total, "{laid} of {total} items laid out");
    }

    #[test]
    fn attribute_lists_break_where_prettyplease_breaks() {
        // One line, ending exactly at the margin and one column past it.
        for width in [MARGIN - 1, MARGIN, MARGIN + 1, MARGIN + 2, MARGIN + 3] {
            let value = "v".repeat(width - "#[event(key = \"\")".len());
            let consumer =
                "w".repeat(width - "#[event(consumer(service = \"\", reason = \"r\")".len());
            for args in [
                vec![Arg::Plain(quoted("key", &value))],
                vec![
                    Arg::Plain("key".to_string()),
                    Arg::Plain(quoted("k", &value)),
                ],
                vec![Arg::List(
                    "consumer",
                    vec![quoted("service", &consumer), quoted("reason", "r")],
                )],
            ] {
                let mut out = String::new();
                attr(&mut out, 0, "event", &args);
                let source = format!("{out}struct S;");
                let expected = prettyplease::unparse(&syn::parse_file(&source).unwrap());
                assert_eq!(format!("{out}struct S;\n"), expected, "width {width}");
            }
        }
    }

    #[test]
    fn structs_with_rules_defaults_or_no_fields_are_left_to_prettyplease() {
        let names = crate::emit::Names::new();
        let w = Writer {
            out: String::new(),
            rt: "::event_runtime",
            crate_attr: None,
            names: &names,
        };
        let mut defaulted = field("count", Ty::Int("u8"));
        defaulted.default_value = Some("5".to_string());
        for fields in [vec![], vec![defaulted]] {
            let s = Struct {
                name: "S".to_string(),
                doc: None,
                event: None,
                fields,
                check: None,
            };
            let mut out = String::new();
            assert!(!w.laid_out(&Item::Struct(s), &mut out));
            assert!(out.is_empty());
        }
    }
}
