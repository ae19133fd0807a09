//! The keywords that have no typed form (`not`, `if`/`then`/`else`,
//! tuples, `patternProperties`, a property schema `false`, `multipleOf`,
//! ...), compiled to a [`Program`]: checks of the JSON value, emitted as
//! plain Rust and run on decode and by `EventData::validate`.
//!
//! A type keeps what its Rust type states (fields, items, bounds); the
//! program holds only the rest, its *residue*, so nothing is checked
//! twice and nothing is dropped. Subschemas of those keywords (the schema
//! of `not`, of a `patternProperties` entry) are compiled whole, since no
//! Rust type stands for them. Each schema object is compiled once per
//! program (`$ref`s to it share its function, which also ends cycles), and
//! a program has at most [`MAX_NODES`] of them.

use super::{ITEM_BOUNDS, LENGTH_BOUNDS, Lower};
use crate::diagnostic::Severity;
use crate::json::{Kind, Node, escape_token};
use crate::model::{Check, Constraint, Keyword, Num, Program, Sub, Ty};
use std::collections::HashMap;

/// Keywords of a schema object that the typed lowering leaves to the
/// program.
pub(super) const UNTYPED: &[&str] = &[
    "multipleOf",
    "uniqueItems",
    "contains",
    "minContains",
    "maxContains",
    "prefixItems",
    "additionalItems",
    "not",
    "if",
    "then",
    "else",
    "patternProperties",
    "propertyNames",
    "minProperties",
    "maxProperties",
    "dependentRequired",
    "dependentSchemas",
    "dependencies",
];

/// Keywords about the members of an object: in an event schema, whose type
/// keeps only the properties it declares, they cannot be checked.
const OBJECT_RULES: &[&str] = &[
    "patternProperties",
    "propertyNames",
    "minProperties",
    "maxProperties",
    "dependentRequired",
    "dependentSchemas",
    "dependencies",
    "not",
    "if",
];

/// Schema objects per program: a bound on generated code, whatever the
/// schema.
pub(super) const MAX_NODES: usize = 4096;

/// Schema objects compiled one inside the other.
const MAX_DEPTH: usize = 128;

/// A program being compiled.
#[derive(Default)]
pub(super) struct Builder {
    program: Program,
    /// The node of each schema object compiled whole.
    memo: HashMap<(usize, String), usize>,
    /// Reported once: the program is too large.
    full: bool,
    /// Schema objects being compiled, one inside the other (a chain of
    /// `$ref`s can be longer than a file can nest).
    depth: usize,
}

impl Builder {
    fn push(&mut self, check: Check) -> usize {
        self.program.nodes.push(check);
        self.program.nodes.len() - 1
    }

    /// A root node, to fill with [`Builder::root`].
    pub fn new_root() -> Builder {
        let mut b = Builder::default();
        b.push(Check::default());
        b
    }

    pub fn root(&mut self) -> &mut Check {
        &mut self.program.nodes[0]
    }

    /// The program, when its root checks anything.
    pub fn finish(self) -> Option<Program> {
        let root = self.program.nodes.first()?;
        let empty = root.types.is_empty()
            && root.values.is_empty()
            && root.constraints.is_empty()
            && root.keywords.is_empty();
        (!empty).then_some(self.program)
    }
}

/// Whether the array schema is a tuple: its items are typed by position.
pub(super) fn is_tuple(node: &Node) -> bool {
    node.get("prefixItems").is_some() || node.get("items").and_then(Node::as_array).is_some()
}

impl<'a> Lower<'a> {
    /// The whole schema `node` as a check of a JSON value.
    pub(super) fn full(
        &mut self,
        b: &mut Builder,
        file: usize,
        pointer: &str,
        node: &'a Node,
    ) -> Sub {
        match node.kind {
            Kind::Bool(true) => return Sub::Any,
            Kind::Bool(false) => return Sub::Nothing,
            Kind::Object(_) => {}
            _ => {
                self.not_a_schema(file, pointer, node);
                return Sub::Any;
            }
        }
        let key = (file, pointer.to_string());
        if let Some(&i) = b.memo.get(&key) {
            return Sub::Node(i);
        }
        if b.program.nodes.len() >= MAX_NODES || b.depth >= MAX_DEPTH {
            if !b.full {
                b.full = true;
                self.report(
                    Severity::Error,
                    "schema-too-large",
                    file,
                    pointer,
                    node.span.clone(),
                    format!("the checks of this schema's `not`, `if`, `patternProperties` and similar keywords reach more than {MAX_NODES} schema objects, or nest deeper than {MAX_DEPTH}"),
                    Some("split the schema, or give its parts types of their own in `$defs`"),
                );
            }
            return Sub::Any;
        }
        let i = b.push(Check::default());
        b.memo.insert(key, i);
        b.depth += 1;
        self.check_keywords(file, pointer, node);
        let mut check = Check::default();
        if let Some(r) = node.get("$ref") {
            if let Some((f, p, target)) = self.resolve(file, pointer, r) {
                let sub = self.full(b, f, &p, target);
                check.keywords.push(Keyword::AllOf(vec![sub]));
            }
        }
        self.scalar_checks(file, pointer, node, &mut check);
        for m in node.members() {
            self.keyword(b, file, pointer, node, &m.key, &mut check, true);
        }
        if node
            .get("unevaluatedProperties")
            .is_some_and(|u| u.kind == Kind::Bool(false))
        {
            // The members this schema, its `allOf` parts and its `$ref`s
            // evaluate, gathered as a struct gathers them; checked here as
            // `additionalProperties: false` is in a rule. Where that
            // depends on the value, it stays unapplied and is reported.
            let mut sealed = super::Sealed {
                file,
                pointer: pointer.to_string(),
                names: Vec::new(),
                patterns: Vec::new(),
            };
            let done = match self.evaluated(file, pointer, node, &mut sealed, &mut Vec::new()) {
                super::Evaluated::Some => {
                    check.keywords.push(Keyword::AdditionalProperties {
                        names: sealed.names,
                        patterns: sealed.patterns,
                        schema: Sub::Nothing,
                    });
                    true
                }
                super::Evaluated::All => true,
                super::Evaluated::Dynamic(..) => false,
            };
            if done {
                self.unevaluated_done
                    .insert((file, format!("{pointer}/unevaluatedProperties")));
            }
        }
        b.program.nodes[i] = check;
        b.depth -= 1;
        Sub::Node(i)
    }

    /// `type`, `enum`, `const` and the string, number and count
    /// constraints of `node`, as a `Value` newtype checks them.
    fn scalar_checks(&mut self, file: usize, pointer: &str, node: &'a Node, check: &mut Check) {
        const TYPES: &[&str] = &[
            "string", "integer", "number", "boolean", "object", "array", "null",
        ];
        if let Some(t) = node.get("type") {
            let listed: Vec<&Node> = match &t.kind {
                Kind::Array(v) => v.iter().collect(),
                _ => vec![t],
            };
            for x in listed {
                match x.as_str() {
                    Some(k) if TYPES.contains(&k) => check.types.push(k.to_string()),
                    _ => self.report(
                        Severity::Error,
                        "bad-type",
                        file,
                        &format!("{pointer}/type"),
                        x.span.clone(),
                        "`type` must be one of `string`, `integer`, `number`, `boolean`, `object`, `array`, `null`, or an array of them",
                        None,
                    ),
                }
            }
            if check.types.is_empty() {
                // `type: []` allows nothing.
                check.values.push("[]".to_string());
            }
        }
        let (listed, constant) = self.listed_values(file, pointer, node);
        check.values.extend(listed);
        check.values.extend(constant);
        self.counts(file, pointer, node, LENGTH_BOUNDS, &mut check.constraints);
        check.constraints.extend(self.pattern(file, pointer, node));
        if let Some(f) = node.get("format").and_then(Node::as_str) {
            // Unknown formats are annotations (the typed lowering warns).
            if super::FORMATS.contains(&f) {
                check.constraints.push(Constraint::Format(f.to_string()));
            }
        }
        for (key, bound) in [
            ("minimum", Constraint::Minimum as fn(Num) -> Constraint),
            ("maximum", Constraint::Maximum),
            ("exclusiveMinimum", Constraint::ExclusiveMinimum),
            ("exclusiveMaximum", Constraint::ExclusiveMaximum),
        ] {
            if let Some(v) = node.get(key) {
                match v.as_number().and_then(serde_json::Number::as_f64) {
                    Some(n) => check.constraints.push(bound(Num::Float(n))),
                    None => self.report(
                        Severity::Error,
                        "bad-keyword",
                        file,
                        &format!("{pointer}/{key}"),
                        v.span.clone(),
                        format!("`{key}` must be a number, found {}", v.describe()),
                        None,
                    ),
                }
            }
        }
        self.counts(file, pointer, node, ITEM_BOUNDS, &mut check.constraints);
    }

    /// The keyword `key` of `node` into `check`. With `whole`, every
    /// applicator (`properties`, `items`, `allOf`, ...) is compiled; without,
    /// only those of [`UNTYPED`] and tuples, which the typed lowering leaves.
    #[allow(clippy::too_many_arguments)]
    fn keyword(
        &mut self,
        b: &mut Builder,
        file: usize,
        pointer: &str,
        node: &'a Node,
        key: &str,
        check: &mut Check,
        whole: bool,
    ) {
        let Some(value) = node.get(key) else {
            return;
        };
        let at = format!("{pointer}/{}", escape_token(key));
        let kw = match key {
            "multipleOf" => match value.as_number().and_then(serde_json::Number::as_f64) {
                Some(n) if n > 0.0 => Some(Keyword::MultipleOf(n)),
                _ => {
                    self.bad(file, &at, value, "`multipleOf` must be a number above zero");
                    None
                }
            },
            "uniqueItems" => match value.kind {
                Kind::Bool(true) => Some(Keyword::UniqueItems),
                Kind::Bool(false) => None,
                _ => {
                    self.bad(file, &at, value, "`uniqueItems` must be a boolean");
                    None
                }
            },
            "minProperties" | "maxProperties" => self.count(file, pointer, key, value).map(|n| {
                if key == "minProperties" {
                    Keyword::MinProperties(n)
                } else {
                    Keyword::MaxProperties(n)
                }
            }),
            "contains" => {
                let schema = self.full(b, file, &at, value);
                let min = match node.get("minContains") {
                    Some(v) => self.count(file, pointer, "minContains", v).unwrap_or(1),
                    None => 1,
                };
                let max = node
                    .get("maxContains")
                    .and_then(|v| self.count(file, pointer, "maxContains", v));
                Some(Keyword::Contains { schema, min, max })
            }
            "not" => Some(Keyword::Not(self.full(b, file, &at, value))),
            "if" => {
                let cond = self.full(b, file, &at, value);
                let mut branch = |this: &mut Self, k: &str| match node.get(k) {
                    Some(s) => this.full(b, file, &format!("{pointer}/{k}"), s),
                    None => Sub::Any,
                };
                let then = branch(self, "then");
                let otherwise = branch(self, "else");
                Some(Keyword::If {
                    cond,
                    then,
                    otherwise,
                })
            }
            "patternProperties" => {
                let list = self.schema_map(b, file, &at, value, true);
                Some(Keyword::PatternProperties(list))
            }
            "propertyNames" => Some(Keyword::PropertyNames(self.full(b, file, &at, value))),
            "dependentRequired" => {
                let list = self.name_lists(file, &at, value, key);
                Some(Keyword::DependentRequired(list))
            }
            "dependentSchemas" => {
                let list = self.schema_map(b, file, &at, value, false);
                Some(Keyword::DependentSchemas(list))
            }
            "dependencies" => {
                // Draft 7: each value is a list of names or a schema.
                let mut names = Vec::new();
                let mut schemas = Vec::new();
                for m in value.members() {
                    let p = format!("{at}/{}", escape_token(&m.key));
                    match m.value.kind {
                        Kind::Array(_) => {
                            names.push((m.key.clone(), self.names(file, &p, &m.value)))
                        }
                        _ => schemas.push((m.key.clone(), self.full(b, file, &p, &m.value))),
                    }
                }
                if !matches!(value.kind, Kind::Object(_)) {
                    self.bad(file, &at, value, "`dependencies` must be an object");
                }
                check.keywords.push(Keyword::DependentRequired(names));
                Some(Keyword::DependentSchemas(schemas))
            }
            "prefixItems" => {
                let prefix = self.schema_list(b, file, &at, value);
                let rest = match node.get("items") {
                    Some(items) => self.full(b, file, &format!("{pointer}/items"), items),
                    None => Sub::Any,
                };
                Some(Keyword::Items { prefix, rest })
            }
            "items" if node.get("prefixItems").is_some() => None,
            "items" if value.as_array().is_some() => {
                let prefix = self.schema_list(b, file, &at, value);
                let rest = match node.get("additionalItems") {
                    Some(more) => self.full(b, file, &format!("{pointer}/additionalItems"), more),
                    None => Sub::Any,
                };
                Some(Keyword::Items { prefix, rest })
            }
            "items" if whole => Some(Keyword::Items {
                prefix: Vec::new(),
                rest: self.full(b, file, &at, value),
            }),
            "properties" if whole => {
                let list = self.schema_map(b, file, &at, value, false);
                Some(Keyword::Properties(list))
            }
            "required" if whole => Some(Keyword::Required(self.names(file, &at, value))),
            "additionalProperties" if whole => Some(self.additional(b, file, pointer, node)),
            "allOf" | "anyOf" | "oneOf" if whole => {
                let list = self.schema_list(b, file, &at, value);
                Some(match key {
                    "allOf" => Keyword::AllOf(list),
                    "anyOf" => Keyword::AnyOf(list),
                    _ => Keyword::OneOf(list),
                })
            }
            // Read with the keyword they belong to, or annotations.
            _ => None,
        };
        check.keywords.extend(kw);
    }

    /// `additionalProperties` of `node`, beside its own `properties` and
    /// `patternProperties` (the members they name are not additional).
    pub(super) fn additional(
        &mut self,
        b: &mut Builder,
        file: usize,
        pointer: &str,
        node: &'a Node,
    ) -> Keyword {
        let names = node
            .get("properties")
            .map(|p| p.members().iter().map(|m| m.key.clone()).collect())
            .unwrap_or_default();
        let patterns = node
            .get("patternProperties")
            .map(|p| {
                p.members()
                    .iter()
                    .filter(|m| super::pattern_regex(&m.key).is_ok())
                    .map(|m| m.key.clone())
                    .collect()
            })
            .unwrap_or_default();
        let schema = match node.get("additionalProperties") {
            Some(ap) => self.full(b, file, &format!("{pointer}/additionalProperties"), ap),
            None => Sub::Any,
        };
        Keyword::AdditionalProperties {
            names,
            patterns,
            schema,
        }
    }

    /// The residue of a schema at a use site whose Rust type is `ty`: the
    /// checks its type does not make. `None` when there are none, or when
    /// the type is a generated item, which checks itself.
    pub(super) fn residue(
        &mut self,
        b: &mut Builder,
        file: usize,
        pointer: &str,
        node: &'a Node,
        ty: &Ty,
        depth: usize,
    ) -> Option<Sub> {
        let ty = match ty {
            Ty::Option(t) | Ty::Box(t) => return self.residue(b, file, pointer, node, t, depth),
            t => t,
        };
        if matches!(ty, Ty::Named(_)) || depth > 64 || !matches!(node.kind, Kind::Object(_)) {
            return None;
        }
        if let Some(r) = node.get("$ref") {
            let (f, p, target) = self.resolve(file, pointer, r)?;
            return self.residue(b, f, &p, target, ty, depth + 1);
        }
        if b.program.nodes.len() >= MAX_NODES {
            return None;
        }
        let mut check = Check::default();
        for key in UNTYPED.iter().chain(&["items"]) {
            self.keyword(b, file, pointer, node, key, &mut check, false);
        }
        match (ty, node.get("items"), node.get("additionalProperties")) {
            (Ty::Vec(inner), Some(items), _) if !is_tuple(node) => {
                let at = format!("{pointer}/items");
                let rest = if self.checked_whole.contains(&(file, at.clone())) {
                    Some(self.full(b, file, &at, items))
                } else {
                    self.residue(b, file, &at, items, inner, depth + 1)
                };
                if let Some(rest) = rest {
                    check.keywords.push(Keyword::Items {
                        prefix: Vec::new(),
                        rest,
                    });
                }
            }
            // An object of no properties that the schema closes: a map
            // whose members are those its `patternProperties` allow.
            (Ty::Object, _, Some(ap)) if ap.kind == Kind::Bool(false) && self.closes(file) => {
                let closed = self.additional(b, file, pointer, node);
                check.keywords.push(closed);
            }
            (Ty::Map(inner), _, Some(ap)) => {
                let at = format!("{pointer}/additionalProperties");
                let schema = if self.checked_whole.contains(&(file, at.clone())) {
                    Some(self.full(b, file, &at, ap))
                } else {
                    self.residue(b, file, &at, ap, inner, depth + 1)
                };
                if let Some(schema) = schema {
                    check.keywords.push(Keyword::AdditionalProperties {
                        names: Vec::new(),
                        patterns: Vec::new(),
                        schema,
                    });
                }
            }
            _ => {}
        }
        if check.keywords.is_empty() {
            return None;
        }
        Some(Sub::Node(b.push(check)))
    }

    /// The rules of an object schema (and of its `allOf` parts) that its
    /// struct's fields do not state, added to the root of `b`: the members
    /// a property schema `false` forbids, `patternProperties`,
    /// `additionalProperties` with a schema, `propertyNames`, the property
    /// counts and dependencies, `not`, `if`. `lossless`: the struct keeps
    /// the members it does not name; an event's payload does not, so there
    /// these rules are refused, naming where they are allowed.
    pub(super) fn object_rules(
        &mut self,
        b: &mut Builder,
        file: usize,
        pointer: &str,
        node: &'a Node,
        lossless: bool,
        seen: &mut Vec<(usize, String)>,
    ) {
        if seen.contains(&(file, pointer.to_string())) || seen.len() > 64 {
            return;
        }
        seen.push((file, pointer.to_string()));
        let mut refused: Vec<(String, crate::json::Span)> = Vec::new();
        let mut check = Check::default();
        for key in OBJECT_RULES {
            if let Some(m) = node.member(key) {
                if lossless {
                    self.keyword(b, file, pointer, node, key, &mut check, false);
                } else {
                    refused.push((key.to_string(), m.key_span.clone()));
                }
            }
        }
        if let Some(m) = node.member("additionalProperties") {
            // A schema (`false` is a tolerated warning, `fields`): the
            // members this object's own `properties` and
            // `patternProperties` do not name, not those of `allOf` parts.
            if matches!(m.value.kind, Kind::Object(_)) {
                if lossless {
                    check.keywords.push(self.additional(b, file, pointer, node));
                } else {
                    refused.push(("additionalProperties".to_string(), m.key_span.clone()));
                }
            }
        }
        if let Some(props) = node.get("properties") {
            let absent: Vec<(String, Sub)> = props
                .members()
                .iter()
                .filter(|m| m.value.kind == Kind::Bool(false))
                .map(|m| (m.key.clone(), Sub::Nothing))
                .collect();
            for m in props
                .members()
                .iter()
                .filter(|m| m.value.kind == Kind::Bool(false))
            {
                if !lossless {
                    refused.push((
                        format!("properties/{}", escape_token(&m.key)),
                        m.value.span.clone(),
                    ));
                }
            }
            if lossless && !absent.is_empty() {
                check.keywords.push(Keyword::Properties(absent));
            }
        }
        for (key, span) in refused {
            let what = if key.starts_with("properties/") {
                "a property schema `false` (the property must be absent)".to_string()
            } else {
                format!("`{key}`")
            };
            self.report(
                Severity::Error,
                "unsupported-keyword",
                file,
                &format!("{pointer}/{key}"),
                span,
                format!("{what} is not checked in an event schema: an event's payload type keeps only the properties it declares"),
                Some("allowed in shared definitions (files without `x-event`), whose types keep every member; move the object into one and refer to it"),
            );
        }
        check
            .keywords
            .retain(|k| !matches!(k, Keyword::DependentRequired(v) if v.is_empty()));
        check
            .keywords
            .retain(|k| !matches!(k, Keyword::DependentSchemas(v) if v.is_empty()));
        b.root().keywords.extend(check.keywords);
        if let Some(parts) = node.get("allOf").and_then(Node::as_array) {
            for (i, part) in parts.iter().enumerate() {
                let ptr = format!("{pointer}/allOf/{i}");
                let (f, p, n) = match part.get("$ref") {
                    Some(r) => match self.resolve(file, &ptr, r) {
                        Some(t) => t,
                        None => continue,
                    },
                    None => (file, ptr, part),
                };
                self.object_rules(b, f, &p, n, lossless, seen);
            }
        }
        seen.pop();
    }

    /// Whether `node`, lowered to `ty`, has keywords that `ty` does not
    /// state (a program): an alternative of a union with such keywords
    /// becomes a type of its own, which runs them when it is read.
    pub(super) fn has_residue(
        &mut self,
        file: usize,
        pointer: &str,
        node: &'a Node,
        ty: &Ty,
    ) -> bool {
        let mut b = Builder::default();
        self.residue(&mut b, file, pointer, node, ty, 0).is_some()
    }

    fn bad(&mut self, file: usize, at: &str, value: &Node, message: &str) {
        self.report(
            Severity::Error,
            "bad-keyword",
            file,
            at,
            value.span.clone(),
            format!("{message}, found {}", value.to_value()),
            None,
        );
    }

    fn schema_list(&mut self, b: &mut Builder, file: usize, at: &str, value: &'a Node) -> Vec<Sub> {
        match value.as_array() {
            Some(list) => list
                .iter()
                .enumerate()
                .map(|(i, s)| self.full(b, file, &format!("{at}/{i}"), s))
                .collect(),
            None => {
                self.bad(file, at, value, "this keyword must be an array of schemas");
                Vec::new()
            }
        }
    }

    /// An object of schemas (`properties`, `patternProperties` with
    /// `patterns`, `dependentSchemas`).
    fn schema_map(
        &mut self,
        b: &mut Builder,
        file: usize,
        at: &str,
        value: &'a Node,
        patterns: bool,
    ) -> Vec<(String, Sub)> {
        if !matches!(value.kind, Kind::Object(_)) {
            self.bad(file, at, value, "this keyword must be an object of schemas");
            return Vec::new();
        }
        let mut out = Vec::new();
        for m in value.members() {
            let p = format!("{at}/{}", escape_token(&m.key));
            if patterns {
                if let Err(e) = super::pattern_regex(&m.key) {
                    let why = e
                        .to_string()
                        .lines()
                        .last()
                        .unwrap_or_default()
                        .trim()
                        .to_string();
                    self.report(
                        Severity::Error,
                        "bad-pattern",
                        file,
                        &p,
                        m.key_span.clone(),
                        format!("this `patternProperties` name is not a regular expression the runtime can run: {why}"),
                        None,
                    );
                    continue;
                }
            }
            out.push((m.key.clone(), self.full(b, file, &p, &m.value)));
        }
        out
    }

    fn names(&mut self, file: usize, at: &str, value: &Node) -> Vec<String> {
        let list = value.as_array().unwrap_or_default();
        if value.as_array().is_none() || list.iter().any(|n| n.as_str().is_none()) {
            self.bad(
                file,
                at,
                value,
                "this keyword must be an array of property names",
            );
        }
        list.iter()
            .filter_map(Node::as_str)
            .map(str::to_string)
            .collect()
    }

    fn name_lists(
        &mut self,
        file: usize,
        at: &str,
        value: &Node,
        key: &str,
    ) -> Vec<(String, Vec<String>)> {
        if !matches!(value.kind, Kind::Object(_)) {
            self.bad(
                file,
                at,
                value,
                &format!("`{key}` must be an object of arrays of names"),
            );
        }
        value
            .members()
            .iter()
            .map(|m| {
                let p = format!("{at}/{}", escape_token(&m.key));
                (m.key.clone(), self.names(file, &p, &m.value))
            })
            .collect()
    }

    /// The rules of a `Value` newtype that its types, values and scalar
    /// constraints do not state: the applicators and the keywords of
    /// [`UNTYPED`] of `node`, its `$ref`s and its `allOf` parts, added to the
    /// root of `b`.
    pub(super) fn value_rules(
        &mut self,
        b: &mut Builder,
        file: usize,
        pointer: &str,
        node: &'a Node,
        seen: &mut Vec<(usize, String)>,
    ) {
        if seen.contains(&(file, pointer.to_string())) || seen.len() > 64 {
            return;
        }
        if !matches!(node.kind, Kind::Object(_)) {
            return;
        }
        seen.push((file, pointer.to_string()));
        let mut check = Check::default();
        for m in node.members() {
            let k = m.key.as_str();
            if UNTYPED.contains(&k)
                || [
                    "items",
                    "properties",
                    "required",
                    "additionalProperties",
                    "oneOf",
                    "anyOf",
                ]
                .contains(&k)
            {
                self.keyword(b, file, pointer, node, k, &mut check, true);
            }
        }
        b.root().keywords.extend(check.keywords);
        if let Some(r) = node.get("$ref") {
            if let Some((f, p, target)) = self.resolve(file, pointer, r) {
                self.value_rules(b, f, &p, target, seen);
            }
        }
        if let Some(parts) = node.get("allOf").and_then(Node::as_array) {
            for (i, part) in parts.iter().enumerate() {
                self.value_rules(b, file, &format!("{pointer}/allOf/{i}"), part, seen);
            }
        }
        seen.pop();
    }
}
