//! A [`Program`] (the keywords without a typed form) to Rust: one
//! associated function per schema object, `fn __rules_N(v: &Value)`, that
//! returns the first rule the JSON value breaks, with its path.

use super::{num, value_checks};
use crate::model::{Keyword, Program, Sub};

/// `impl Name { fn __rules(&self) ... fn __rules_N(v: &Value) ... }`:
/// `__rules` checks the value `self` writes (`serialize`: a struct, or a
/// newtype of a typed value) or `self.0` itself (a `Value` newtype).
pub(super) fn emit(rt: &str, name: &str, program: &Program, serialize: bool) -> String {
    let v = format!("{rt}::__private::validate");
    let value = format!("{rt}::Value");
    let err = format!("{rt}::ValidationError");
    let mut out = format!("impl {name} {{\n");
    out.push_str("/// The schema's rules that the fields' types do not state.\n");
    if serialize {
        out.push_str(&format!(
            "fn __rules(&self) -> ::core::result::Result<(), {err}> {{\n\
             let value = {rt}::__private::serde_json::to_value(self).map_err(|e| {err}::new(\"\", e.to_string()))?;\n\
             Self::__rules_0(&value)\n}}\n"
        ));
    } else {
        out.push_str(&format!(
            "fn __rules(&self) -> ::core::result::Result<(), {err}> {{\nSelf::__rules_0(&self.0)\n}}\n"
        ));
    }
    for (i, check) in program.nodes.iter().enumerate() {
        let mut body = String::new();
        let mut statics = 0;
        value_checks(
            &v,
            "v",
            &check.types,
            &check.values,
            &check.constraints,
            &mut body,
            &mut statics,
        );
        for k in &check.keywords {
            keyword(&v, k, &mut body, &mut statics);
        }
        out.push_str(&format!(
            "#[allow(unused_variables, unreachable_code, clippy::all)]\n\
             fn __rules_{i}(v: &{value}) -> ::core::result::Result<(), {err}> {{\n{body}::core::result::Result::Ok(())\n}}\n"
        ));
    }
    out.push_str("}\n");
    out
}

/// A statement that checks `x` against `sub`; `at` places the error
/// (`.at(k)`), `why` is the message when `sub` is `false`.
fn apply(v: &str, sub: Sub, x: &str, at: &str, why: &str) -> String {
    match sub {
        Sub::Any => String::new(),
        Sub::Nothing => format!("return ::core::result::Result::Err({v}::rule({why:?}){at});\n"),
        Sub::Node(i) => format!("Self::__rules_{i}({x}){}?;\n", map_at(at)),
    }
}

fn map_at(at: &str) -> String {
    if at.is_empty() {
        String::new()
    } else {
        format!(".map_err(|e| e{at})")
    }
}

/// An expression: whether `x` satisfies `sub`.
fn holds(sub: Sub, x: &str) -> String {
    match sub {
        Sub::Any => "true".to_string(),
        Sub::Nothing => "false".to_string(),
        Sub::Node(i) => format!("Self::__rules_{i}({x}).is_ok()"),
    }
}

fn strs(names: &[String]) -> String {
    let list: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    format!("&[{}]", list.join(", "))
}

fn keyword(v: &str, k: &Keyword, out: &mut String, statics: &mut usize) {
    const ABSENT: &str = "must be absent: the schema of this property is `false`";
    let mut pattern = |out: &mut String, source: &str| {
        let name = format!("PATTERN_{statics}");
        *statics += 1;
        out.push_str(&format!(
            "static {name}: {v}::Pattern = {v}::Pattern::new({source:?});\n"
        ));
        name
    };
    match k {
        Keyword::MultipleOf(by) => {
            out.push_str(&format!("{v}::multiple_of(v, {})?;\n", num(crate::model::Num::Float(*by))));
        }
        Keyword::UniqueItems => out.push_str(&format!(
            "if let Some(a) = v.as_array() {{\n{v}::unique_items(a)?;\n}}\n"
        )),
        Keyword::MinProperties(n) => out.push_str(&format!(
            "if let Some(o) = v.as_object() {{\n{v}::min_properties(o, {n})?;\n}}\n"
        )),
        Keyword::MaxProperties(n) => out.push_str(&format!(
            "if let Some(o) = v.as_object() {{\n{v}::max_properties(o, {n})?;\n}}\n"
        )),
        Keyword::Required(names) if !names.is_empty() => out.push_str(&format!(
            "if let Some(o) = v.as_object() {{\n{v}::required(o, {})?;\n}}\n",
            strs(names)
        )),
        Keyword::Required(_) => {}
        Keyword::Properties(list) => {
            out.push_str("if let Some(o) = v.as_object() {\n");
            for (name, sub) in list {
                if *sub == Sub::Any {
                    continue;
                }
                out.push_str(&format!("if let Some(x) = o.get({name:?}) {{\n"));
                out.push_str(&apply(v, *sub, "x", &format!(".at({name:?})"), ABSENT));
                out.push_str("}\n");
            }
            out.push_str("}\n");
        }
        Keyword::PatternProperties(list) => {
            out.push_str("if let Some(o) = v.as_object() {\n");
            for (source, sub) in list {
                let p = pattern(out, source);
                out.push_str(&format!("for (k, x) in o {{\nif {p}.matches(k) {{\n"));
                out.push_str(&apply(
                    v,
                    *sub,
                    "x",
                    ".at(k)",
                    &format!("must be absent: properties matching {source:?} are not allowed"),
                ));
                out.push_str("}\n}\n");
            }
            out.push_str("}\n");
        }
        Keyword::AdditionalProperties {
            names,
            patterns,
            schema,
        } => {
            if *schema == Sub::Any {
                return;
            }
            out.push_str("if let Some(o) = v.as_object() {\n");
            let mut tests = vec![format!("!{}.contains(&k.as_str())", strs(names))];
            for source in patterns {
                let p = pattern(out, source);
                tests.push(format!("!{p}.matches(k)"));
            }
            out.push_str(&format!("for (k, x) in o {{\nif {} {{\n", tests.join(" && ")));
            out.push_str(&apply(
                v,
                *schema,
                "x",
                ".at(k)",
                "is not allowed: the schema allows no properties beyond those it names",
            ));
            out.push_str("}\n}\n}\n");
        }
        Keyword::PropertyNames(sub) => {
            if *sub == Sub::Any {
                return;
            }
            out.push_str("if let Some(o) = v.as_object() {\nfor k in o.keys() {\n");
            if *sub != Sub::Nothing {
                // The name as a JSON string, for the name's schema.
                out.push_str("let name = ::core::convert::From::from(k.as_str());\n");
            }
            out.push_str(&apply(
                v,
                *sub,
                "&name",
                ".at(k)",
                "is not an allowed property name: `propertyNames` is `false`",
            ));
            out.push_str("}\n}\n");
        }
        Keyword::DependentRequired(list) => {
            if list.is_empty() {
                return;
            }
            out.push_str("if let Some(o) = v.as_object() {\n");
            for (name, needed) in list {
                out.push_str(&format!(
                    "if o.contains_key({name:?}) {{\n{v}::required(o, {})?;\n}}\n",
                    strs(needed)
                ));
            }
            out.push_str("}\n");
        }
        Keyword::DependentSchemas(list) => {
            if list.is_empty() {
                return;
            }
            out.push_str("if let Some(o) = v.as_object() {\n");
            for (name, sub) in list {
                out.push_str(&format!("if o.contains_key({name:?}) {{\n"));
                out.push_str(&apply(
                    v,
                    *sub,
                    "v",
                    "",
                    &format!("must not have {name:?}: its dependent schema is `false`"),
                ));
                out.push_str("}\n");
            }
            out.push_str("}\n");
        }
        Keyword::Items { prefix, rest } => {
            if prefix.iter().all(|s| *s == Sub::Any) && *rest == Sub::Any {
                return;
            }
            out.push_str(
                "if let Some(a) = v.as_array() {\nfor (i, x) in a.iter().enumerate() {\nmatch i {\n",
            );
            for (i, sub) in prefix.iter().enumerate() {
                out.push_str(&format!("{i} => {{\n"));
                out.push_str(&apply(
                    v,
                    *sub,
                    "x",
                    ".at_index(i)",
                    "must be absent: the schema of this item is `false`",
                ));
                out.push_str("}\n");
            }
            out.push_str("_ => {\n");
            out.push_str(&apply(
                v,
                *rest,
                "x",
                ".at_index(i)",
                "is not allowed: the array has more items than the schema allows",
            ));
            out.push_str("}\n}\n}\n}\n");
        }
        Keyword::Contains { schema, min, max } => {
            let count = match schema {
                Sub::Any => "a.len()".to_string(),
                Sub::Nothing => "0".to_string(),
                Sub::Node(_) => format!("a.iter().filter(|x| {}).count()", holds(*schema, "x")),
            };
            let max = match max {
                Some(m) => format!("::core::option::Option::Some({m})"),
                None => "::core::option::Option::None".to_string(),
            };
            out.push_str(&format!(
                "if let Some(a) = v.as_array() {{\n{v}::contains({count}, {min}, {max})?;\n}}\n"
            ));
        }
        Keyword::Not(sub) => out.push_str(&format!(
            "if {} {{\nreturn ::core::result::Result::Err({v}::rule(\"must not match the schema of `not`\"));\n}}\n",
            holds(*sub, "v")
        )),
        Keyword::If {
            cond,
            then,
            otherwise,
        } => {
            let then = apply(v, *then, "v", "", "must not match the schema of `if`: `then` is `false`");
            let otherwise = apply(v, *otherwise, "v", "", "must match the schema of `if`: `else` is `false`");
            if then.is_empty() && otherwise.is_empty() {
                return;
            }
            out.push_str(&format!(
                "if {} {{\n{then}}} else {{\n{otherwise}}}\n",
                holds(*cond, "v")
            ));
        }
        Keyword::AllOf(list) => {
            for sub in list {
                out.push_str(&apply(v, *sub, "v", "", "matches no value: a part of `allOf` is `false`"));
            }
        }
        Keyword::AnyOf(list) => {
            let any: Vec<String> = list.iter().map(|s| holds(*s, "v")).collect();
            let any = if any.is_empty() { "false".to_string() } else { any.join(" || ") };
            out.push_str(&format!(
                "if !({any}) {{\nreturn ::core::result::Result::Err({v}::rule(\"must match at least one schema of `anyOf`\"));\n}}\n"
            ));
        }
        Keyword::OneOf(list) => {
            let each: Vec<String> = list.iter().map(|s| format!("{} as usize", holds(*s, "v"))).collect();
            let sum = if each.is_empty() { "0".to_string() } else { each.join(" + ") };
            out.push_str(&format!("{v}::one_of({sum})?;\n"));
        }
    }
}
