//! Contract evolution: which schema changes a minor version may make, and
//! which published versions changed.
//!
//! Readers are tolerant (unknown fields ignored, missing optional fields are
//! `None`, enums are open), so a minor version is compatible with the one
//! before it when a reader of either reads the events of the other. The rule
//! table is in `docs/compatibility.md`; [`diff`] implements it, recursively
//! through nested objects, arrays, `$ref`ed definitions and `oneOf`
//! variants.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Component, Path, PathBuf};

/// What a schema change requires of the version number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bump {
    /// Documentation only (`description`, `title`, `examples`,
    /// `deprecated`): any version, even the same one.
    None,
    /// Readers of either version read the other's events: a minor bump.
    Minor,
    /// Some reader of one version cannot read the other's events: a new
    /// major.
    Major,
}

/// One difference between two schemas, located in the newer one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// JSON pointer into the newer schema (into the older one for a removal).
    pub pointer: String,
    /// What changed, in words.
    pub what: String,
    /// What the change requires.
    pub bump: Bump,
}

/// A schema document and the files it may `$ref`.
#[derive(Debug, Clone, Copy)]
pub struct SchemaRef<'a> {
    /// All schema files by their path relative to the schema root.
    pub files: &'a BTreeMap<PathBuf, Value>,
    /// The file of the event schema.
    pub file: &'a Path,
}

impl SchemaRef<'_> {
    fn root(&self) -> Option<&Value> {
        self.files.get(self.file)
    }
}

/// Compares two schemas of one event type and lists every change, each with
/// the bump it requires. The payload schemas are compared, and the contract
/// fields of the `x-event` block that change what consumers rely on.
pub fn diff(old: SchemaRef<'_>, new: SchemaRef<'_>) -> Vec<Change> {
    let mut cx = Diff {
        changes: Vec::new(),
        old_files: old.files,
        new_files: new.files,
        depth: 0,
    };
    match (old.root(), new.root()) {
        (Some(o), Some(n)) => {
            cx.event_block(o.get("x-event"), n.get("x-event"));
            let o = Node {
                value: o,
                file: old.file.to_path_buf(),
            };
            let n = Node {
                value: n,
                file: new.file.to_path_buf(),
            };
            cx.schema(&o, &n, "", Presence::Payload);
        }
        _ => cx.push("", "schema file missing", Bump::Major),
    }
    cx.changes
}

/// The largest bump a list of changes requires.
pub fn required_bump(changes: &[Change]) -> Bump {
    changes.iter().map(|c| c.bump).max().unwrap_or(Bump::None)
}

#[derive(Clone)]
struct Node<'a> {
    value: &'a Value,
    file: PathBuf,
}

/// Where a schema sits, which decides what nullability changes mean.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Presence {
    Payload,
    Required,
    Optional,
    Item,
}

struct Diff<'a> {
    changes: Vec<Change>,
    old_files: &'a BTreeMap<PathBuf, Value>,
    new_files: &'a BTreeMap<PathBuf, Value>,
    depth: usize,
}

/// `$ref` chains and nesting deeper than this are reported, not followed.
const MAX_DEPTH: usize = 64;

/// Keywords that only document; changing them changes no reader.
const DOC_KEYWORDS: &[&str] = &[
    "description",
    "title",
    "examples",
    "$comment",
    "deprecated",
    "$id",
    "$schema",
];

/// Keywords this module compares itself; any other keyword that differs is
/// reported as a major change, since its effect is unknown.
const COMPARED: &[&str] = &[
    "type",
    "properties",
    "required",
    "enum",
    "const",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "items",
    "additionalProperties",
    "oneOf",
    "anyOf",
    "allOf",
    "$ref",
    "$defs",
    "definitions",
    "default",
    "x-event",
];

impl<'a> Diff<'a> {
    fn push(&mut self, pointer: &str, what: impl Into<String>, bump: Bump) {
        self.changes.push(Change {
            pointer: if pointer.is_empty() {
                "/".to_owned()
            } else {
                pointer.to_owned()
            },
            what: what.into(),
            bump,
        });
    }

    fn event_block(&mut self, old: Option<&Value>, new: Option<&Value>) {
        let (Some(old), Some(new)) = (old, new) else {
            return;
        };
        for (key, default) in [
            ("producer", Value::Null),
            ("delivery", Value::String("at-least-once".into())),
            ("ordering", Value::String("unordered".into())),
            ("partitionKey", Value::Null),
            ("idempotencyKey", Value::Null),
        ] {
            let o = old.get(key).unwrap_or(&default);
            let n = new.get(key).unwrap_or(&default);
            if o != n {
                self.push(
                    &format!("/x-event/{key}"),
                    format!("`x-event.{key}` changed from {o} to {n}; consumers rely on it"),
                    Bump::Major,
                );
            }
        }
    }

    fn resolve(&mut self, node: &Node<'a>, old_side: bool, pointer: &str) -> Option<Node<'a>> {
        let mut node = node.clone();
        let mut hops = 0;
        while let Some(reference) = node.value.get("$ref").and_then(Value::as_str) {
            hops += 1;
            if hops > MAX_DEPTH {
                self.push(
                    pointer,
                    format!("`$ref` chain at {reference} does not end"),
                    Bump::Major,
                );
                return None;
            }
            let files = if old_side {
                self.old_files
            } else {
                self.new_files
            };
            match resolve_ref(files, &node.file, reference) {
                Some((file, value)) => node = Node { value, file },
                None => {
                    self.push(
                        pointer,
                        format!("`$ref` {reference} cannot be resolved"),
                        Bump::Major,
                    );
                    return None;
                }
            }
        }
        Some(node)
    }

    fn schema(&mut self, old: &Node<'a>, new: &Node<'a>, pointer: &str, presence: Presence) {
        if self.depth > MAX_DEPTH {
            self.push(pointer, "schema nested too deeply to compare", Bump::Major);
            return;
        }
        self.depth += 1;
        if let (Some(o), Some(n)) = (
            self.resolve(old, true, pointer),
            self.resolve(new, false, pointer),
        ) {
            let o_merged = merge_all_of(&o, self.old_files);
            let n_merged = merge_all_of(&n, self.new_files);
            self.compare(&o_merged, &n_merged, pointer, presence);
        }
        self.depth -= 1;
    }

    fn compare(&mut self, old: &Merged<'a>, new: &Merged<'a>, pointer: &str, presence: Presence) {
        self.types(old, new, pointer, presence);
        self.enums(old, new, pointer);
        self.constraints(old, new, pointer);
        self.objects(old, new, pointer);
        if let (Some(o), Some(n)) = (old.get("items"), new.get("items")) {
            let o = Node {
                value: o.0,
                file: o.1.clone(),
            };
            let n = Node {
                value: n.0,
                file: n.1.clone(),
            };
            self.schema(&o, &n, &format!("{pointer}/items"), Presence::Item);
        }
        for keyword in ["oneOf", "anyOf"] {
            self.variants(old, new, pointer, keyword);
        }
        if old.get("default").map(|v| v.0) != new.get("default").map(|v| v.0) {
            self.push(
                &format!("{pointer}/default"),
                "`default` changed",
                Bump::Minor,
            );
        }
        let keys: BTreeSet<&str> = old.keys().chain(new.keys()).collect();
        for key in keys {
            if COMPARED.contains(&key) || DOC_KEYWORDS.contains(&key) || key.starts_with("x-") {
                continue;
            }
            if old.get(key).map(|v| v.0) != new.get(key).map(|v| v.0) {
                self.push(
                    &format!("{pointer}/{}", escape(key)),
                    format!("keyword `{key}` changed; its effect on readers is unknown"),
                    Bump::Major,
                );
            }
        }
    }

    fn types(&mut self, old: &Merged<'a>, new: &Merged<'a>, pointer: &str, presence: Presence) {
        let (o, n) = (old.types(), new.types());
        if o == n {
            return;
        }
        let o_plain: BTreeSet<_> = o.iter().filter(|t| *t != "null").cloned().collect();
        let n_plain: BTreeSet<_> = n.iter().filter(|t| *t != "null").cloned().collect();
        let at = format!("{pointer}/type");
        if o_plain == n_plain {
            if n.contains("null") {
                // New events may carry `null`: readers of an optional field
                // read it as `None`, readers of a required one refuse it.
                let bump = if presence == Presence::Optional {
                    Bump::Minor
                } else {
                    Bump::Major
                };
                self.push(&at, "now accepts `null`", bump);
            } else {
                self.push(&at, "no longer accepts `null`", Bump::Major);
            }
        } else {
            self.push(
                &at,
                format!("type changed from {} to {}", show_types(&o), show_types(&n)),
                Bump::Major,
            );
        }
    }

    fn enums(&mut self, old: &Merged<'a>, new: &Merged<'a>, pointer: &str) {
        let values = |m: &Merged<'a>| -> Option<Vec<&'a Value>> {
            m.get("enum")
                .and_then(|v| v.0.as_array())
                .map(|a| a.iter().collect())
        };
        match (values(old), values(new)) {
            (Some(o), Some(n)) => {
                for v in &o {
                    if !n.contains(v) {
                        self.push(
                            &format!("{pointer}/enum"),
                            format!("enum value {v} removed"),
                            Bump::Major,
                        );
                    }
                }
                for v in &n {
                    if !o.contains(v) {
                        self.push(
                            &format!("{pointer}/enum"),
                            format!("enum value {v} added; enums are open, so older readers keep it as an unknown value"),
                            Bump::Minor,
                        );
                    }
                }
            }
            (None, Some(_)) => self.push(&format!("{pointer}/enum"), "`enum` added", Bump::Major),
            (Some(_), None) => self.push(&format!("{pointer}/enum"), "`enum` removed", Bump::Minor),
            (None, None) => {}
        }
        match (old.get("const").map(|v| v.0), new.get("const").map(|v| v.0)) {
            (Some(o), Some(n)) if o != n => self.push(
                &format!("{pointer}/const"),
                format!("`const` changed from {o} to {n}"),
                Bump::Major,
            ),
            (None, Some(n)) => self.push(
                &format!("{pointer}/const"),
                format!("`const` {n} added"),
                Bump::Major,
            ),
            (Some(_), None) => {
                self.push(&format!("{pointer}/const"), "`const` removed", Bump::Minor)
            }
            _ => {}
        }
    }

    fn constraints(&mut self, old: &Merged<'a>, new: &Merged<'a>, pointer: &str) {
        // (keyword, true when a larger value is tighter)
        for (keyword, larger_is_tighter) in [
            ("minimum", true),
            ("exclusiveMinimum", true),
            ("minLength", true),
            ("minItems", true),
            ("maximum", false),
            ("exclusiveMaximum", false),
            ("maxLength", false),
            ("maxItems", false),
        ] {
            let o = old.get(keyword).and_then(|v| v.0.as_f64());
            let n = new.get(keyword).and_then(|v| v.0.as_f64());
            let at = format!("{pointer}/{keyword}");
            match (o, n) {
                (None, Some(n)) => self.push(
                    &at,
                    format!("`{keyword}: {n}` added, a tighter constraint"),
                    Bump::Major,
                ),
                (Some(o), None) => self.push(
                    &at,
                    format!("`{keyword}: {o}` removed, a relaxed constraint"),
                    Bump::Minor,
                ),
                (Some(o), Some(n)) if o != n => {
                    if (n > o) == larger_is_tighter {
                        self.push(
                            &at,
                            format!("`{keyword}` tightened from {o} to {n}"),
                            Bump::Major,
                        );
                    } else {
                        self.push(
                            &at,
                            format!("`{keyword}` relaxed from {o} to {n}"),
                            Bump::Minor,
                        );
                    }
                }
                _ => {}
            }
        }
        for keyword in ["pattern", "format"] {
            let o = old.get(keyword).map(|v| v.0);
            let n = new.get(keyword).map(|v| v.0);
            let at = format!("{pointer}/{keyword}");
            match (o, n) {
                (None, Some(n)) => self.push(
                    &at,
                    format!("`{keyword}` {n} added, a tighter constraint"),
                    Bump::Major,
                ),
                (Some(o), None) => self.push(
                    &at,
                    format!("`{keyword}` {o} removed, a relaxed constraint"),
                    Bump::Minor,
                ),
                (Some(o), Some(n)) if o != n => self.push(
                    &at,
                    format!("`{keyword}` changed from {o} to {n}"),
                    Bump::Major,
                ),
                _ => {}
            }
        }
    }

    fn objects(&mut self, old: &Merged<'a>, new: &Merged<'a>, pointer: &str) {
        let o_props = old.properties();
        let n_props = new.properties();
        let o_req = old.required();
        let n_req = new.required();
        for (name, _) in &o_props {
            if !n_props.iter().any(|(n, _)| n == name) {
                self.push(
                    &format!("{pointer}/properties/{}", escape(name)),
                    format!("property `{name}` removed (a rename is a removal too)"),
                    Bump::Major,
                );
            }
        }
        for (name, schema) in &n_props {
            let at = format!("{pointer}/properties/{}", escape(name));
            match o_props.iter().find(|(o, _)| o == name) {
                None => {
                    if n_req.contains(name.as_str()) {
                        self.push(
                            &at,
                            format!("required property `{name}` added"),
                            Bump::Major,
                        );
                    } else {
                        self.push(
                            &at,
                            format!("optional property `{name}` added"),
                            Bump::Minor,
                        );
                    }
                }
                Some((_, old_schema)) => {
                    let was = o_req.contains(name.as_str());
                    let is = n_req.contains(name.as_str());
                    if !was && is {
                        self.push(&at, format!("property `{name}` made required"), Bump::Major);
                    } else if was && !is {
                        self.push(
                            &at,
                            format!("property `{name}` made optional, which readers of the older version refuse when it is missing"),
                            Bump::Major,
                        );
                    }
                    let presence = if was && is {
                        Presence::Required
                    } else {
                        Presence::Optional
                    };
                    self.schema(old_schema, schema, &at, presence);
                }
            }
        }
        let at = format!("{pointer}/additionalProperties");
        match (
            old.get("additionalProperties"),
            new.get("additionalProperties"),
        ) {
            (Some(o), Some(n)) if o.0.is_object() && n.0.is_object() => {
                let o = Node {
                    value: o.0,
                    file: o.1.clone(),
                };
                let n = Node {
                    value: n.0,
                    file: n.1.clone(),
                };
                self.schema(&o, &n, &at, Presence::Item);
            }
            (o, n) => {
                let closed = |v: &Option<(&Value, PathBuf)>| {
                    v.as_ref().is_some_and(|v| v.0 == &Value::Bool(false))
                };
                match (closed(&o), closed(&n)) {
                    (false, true) => {
                        self.push(&at, "`additionalProperties: false` added", Bump::Major)
                    }
                    (true, false) => {
                        self.push(&at, "`additionalProperties: false` removed", Bump::Minor)
                    }
                    _ => {
                        if o.as_ref().map(|v| v.0) != n.as_ref().map(|v| v.0) {
                            self.push(&at, "`additionalProperties` changed", Bump::Major);
                        }
                    }
                }
            }
        }
    }

    fn variants(&mut self, old: &Merged<'a>, new: &Merged<'a>, pointer: &str, keyword: &str) {
        let list = |m: &Merged<'a>| -> Vec<Node<'a>> {
            m.get(keyword)
                .and_then(|v| v.0.as_array().map(|a| (a, v.1.clone())))
                .map(|(a, file)| {
                    a.iter()
                        .map(|value| Node {
                            value,
                            file: file.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let (o, n) = (list(old), list(new));
        if o.is_empty() && n.is_empty() {
            return;
        }
        let o_tags: Vec<Option<String>> = o.iter().map(|v| self.tag(v, true)).collect();
        let n_tags: Vec<Option<String>> = n.iter().map(|v| self.tag(v, false)).collect();
        let tagged = o_tags.iter().chain(&n_tags).all(Option::is_some);
        let mut matched_new = vec![false; n.len()];
        for (i, ov) in o.iter().enumerate() {
            let j = if tagged {
                n_tags.iter().position(|t| *t == o_tags[i])
            } else {
                (i < n.len()).then_some(i)
            };
            match j {
                Some(j) => {
                    matched_new[j] = true;
                    self.schema(
                        ov,
                        &n[j],
                        &format!("{pointer}/{keyword}/{j}"),
                        Presence::Item,
                    );
                }
                None => {
                    let name = o_tags[i].clone().unwrap_or_else(|| format!("#{i}"));
                    self.push(
                        &format!("{pointer}/{keyword}"),
                        format!(
                            "variant {name} removed; readers of the newer version cannot read it"
                        ),
                        Bump::Major,
                    );
                }
            }
        }
        for (j, matched) in matched_new.iter().enumerate() {
            if !matched {
                let name = n_tags[j].clone().unwrap_or_else(|| format!("#{j}"));
                self.push(
                    &format!("{pointer}/{keyword}/{j}"),
                    format!("variant {name} added; readers of the older version cannot read it"),
                    Bump::Major,
                );
            }
        }
    }

    /// The discriminating `const` of a variant, if it has one.
    fn tag(&mut self, variant: &Node<'a>, old_side: bool) -> Option<String> {
        let files = if old_side {
            self.old_files
        } else {
            self.new_files
        };
        let node = self.resolve(variant, old_side, "")?;
        let merged = merge_all_of(&node, files);
        merged.properties().into_iter().find_map(|(name, schema)| {
            let c = schema.value.get("const")?;
            Some(format!("{name}={c}"))
        })
    }
}

/// A schema with its `allOf` members merged in, each keyword remembering the
/// file it came from (for `$ref`s inside it).
struct Merged<'a> {
    entries: Vec<(&'a str, &'a Value, PathBuf)>,
}

impl<'a> Merged<'a> {
    fn get(&self, key: &str) -> Option<(&'a Value, PathBuf)> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _, _)| *k == key)
            .map(|(_, v, f)| (*v, f.clone()))
    }

    fn keys(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.entries.iter().map(|(k, _, _)| *k)
    }

    fn types(&self) -> BTreeSet<String> {
        let mut set = BTreeSet::new();
        match self.get("type").map(|v| v.0) {
            Some(Value::String(t)) => {
                set.insert(t.clone());
            }
            Some(Value::Array(ts)) => {
                set.extend(ts.iter().filter_map(Value::as_str).map(str::to_owned))
            }
            _ => {}
        }
        set
    }

    fn properties(&self) -> Vec<(String, Node<'a>)> {
        let mut out: Vec<(String, Node<'a>)> = Vec::new();
        for (k, v, f) in &self.entries {
            if *k != "properties" {
                continue;
            }
            if let Some(map) = v.as_object() {
                for (name, schema) in map {
                    let node = Node {
                        value: schema,
                        file: f.clone(),
                    };
                    match out.iter_mut().find(|(n, _)| n == name) {
                        Some(slot) => slot.1 = node,
                        None => out.push((name.clone(), node)),
                    }
                }
            }
        }
        out
    }

    fn required(&self) -> BTreeSet<&'a str> {
        self.entries
            .iter()
            .filter(|(k, _, _)| *k == "required")
            .filter_map(|(_, v, _)| v.as_array())
            .flatten()
            .filter_map(Value::as_str)
            .collect()
    }
}

fn merge_all_of<'a>(node: &Node<'a>, files: &'a BTreeMap<PathBuf, Value>) -> Merged<'a> {
    let mut merged = Merged {
        entries: Vec::new(),
    };
    collect(node, files, &mut merged, 0);
    merged
}

fn collect<'a>(
    node: &Node<'a>,
    files: &'a BTreeMap<PathBuf, Value>,
    out: &mut Merged<'a>,
    depth: usize,
) {
    let Some(map) = node.value.as_object() else {
        return;
    };
    if depth > MAX_DEPTH {
        return;
    }
    for (k, v) in map {
        if k == "allOf" {
            for member in v.as_array().into_iter().flatten() {
                let mut member = Node {
                    value: member,
                    file: node.file.clone(),
                };
                let mut hops = 0;
                while let Some(r) = member.value.get("$ref").and_then(Value::as_str) {
                    hops += 1;
                    match resolve_ref(files, &member.file, r) {
                        Some((file, value)) if hops <= MAX_DEPTH => member = Node { value, file },
                        _ => break,
                    }
                }
                collect(&member, files, out, depth + 1);
            }
        } else {
            out.entries.push((k.as_str(), v, node.file.clone()));
        }
    }
}

/// Resolves `reference` written in `from`: `#/json/pointer`, `other.json`,
/// or `other.json#/json/pointer`, relative to `from`'s folder and never
/// outside the schema root.
pub fn resolve_ref<'a>(
    files: &'a BTreeMap<PathBuf, Value>,
    from: &Path,
    reference: &str,
) -> Option<(PathBuf, &'a Value)> {
    let (file_part, fragment) = match reference.split_once('#') {
        Some((f, p)) => (f, p),
        None => (reference, ""),
    };
    let file = if file_part.is_empty() {
        from.to_path_buf()
    } else {
        normalize(&from.parent().unwrap_or(Path::new("")).join(file_part))?
    };
    let root = files.get(&file)?;
    let value = if fragment.is_empty() {
        root
    } else {
        root.pointer(fragment)?
    };
    Some((file, value))
}

/// Removes `.` and `..` from a relative path; `None` if it leaves the root.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(c) => out.push(c),
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out.iter().collect())
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn show_types(types: &BTreeSet<String>) -> String {
    match types.len() {
        0 => "(any)".to_owned(),
        1 => format!(
            "`{}`",
            types.iter().next().map(String::as_str).unwrap_or_default()
        ),
        _ => format!(
            "[{}]",
            types
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Removes what only documents from an event schema: the documentation
/// keywords everywhere and the consumer list of the `x-event` block. A
/// published version may change these and nothing else.
pub fn strip_docs(value: &Value) -> Value {
    let mut stripped = strip_doc_keywords(value);
    if let Some(block) = stripped.get_mut("x-event").and_then(Value::as_object_mut) {
        block.remove("consumers");
    }
    stripped
}

fn strip_doc_keywords(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !DOC_KEYWORDS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), strip_doc_keywords(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip_doc_keywords).collect()),
        other => other.clone(),
    }
}

/// The first JSON pointer at which two values differ.
pub fn first_difference(old: &Value, new: &Value, pointer: &str) -> Option<String> {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            let keys: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
            for key in keys {
                let at = format!("{pointer}/{}", escape(key));
                match (o.get(key), n.get(key)) {
                    (Some(a), Some(b)) => {
                        if let Some(p) = first_difference(a, b, &at) {
                            return Some(p);
                        }
                    }
                    _ => return Some(at),
                }
            }
            None
        }
        (Value::Array(o), Value::Array(n)) => {
            for i in 0..o.len().max(n.len()) {
                let at = format!("{pointer}/{i}");
                match (o.get(i), n.get(i)) {
                    (Some(a), Some(b)) => {
                        if let Some(p) = first_difference(a, b, &at) {
                            return Some(p);
                        }
                    }
                    _ => return Some(at),
                }
            }
            None
        }
        (a, b) if a == b => None,
        _ => Some(if pointer.is_empty() {
            "/".to_owned()
        } else {
            pointer.to_owned()
        }),
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bump = match self.bump {
            Bump::None => "documentation",
            Bump::Minor => "minor",
            Bump::Major => "major",
        };
        write!(f, "{}: {} ({bump})", self.pointer, self.what)
    }
}

/// A version of an event type, `MAJOR.MINOR`.
pub type Version = (u32, u32);

/// The event schemas of a catalog: (type, version) to file.
pub fn event_files(files: &BTreeMap<PathBuf, Value>) -> BTreeMap<(String, Version), PathBuf> {
    let mut out = BTreeMap::new();
    for (path, value) in files {
        let Some(block) = value.get("x-event") else {
            continue;
        };
        let ty = block.get("type").and_then(Value::as_str);
        let version = block
            .get("version")
            .and_then(Value::as_str)
            .and_then(event_rules::version::parse_version);
        if let (Some(ty), Some(version)) = (ty, version) {
            out.insert((ty.to_owned(), version), path.clone());
        }
    }
    out
}

/// A compatibility problem in a catalog, with where it is and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The event type.
    pub event_type: String,
    /// The older version compared (the previous release's, for a changed
    /// published version).
    pub from: Version,
    /// The newer version compared.
    pub to: Version,
    /// The file of the newer version (of the older one for a removal).
    pub file: PathBuf,
    /// JSON pointer into that file.
    pub pointer: String,
    /// What is wrong.
    pub what: String,
    /// How to fix it.
    pub fix: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.event_type)?;
        if self.from == self.to {
            write!(f, "{}.{}", self.to.0, self.to.1)?;
        } else {
            write!(
                f,
                "{}.{} -> {}.{}",
                self.from.0, self.from.1, self.to.0, self.to.1
            )?;
        }
        write!(f, ": {}", self.file.display())?;
        if self.pointer != "/" {
            write!(f, "#{}", self.pointer)?;
        }
        write!(f, ": {}; {}", self.what, self.fix)
    }
}

/// Checks that each minor version of every event type is compatible with the
/// minor before it, both ways, under tolerant readers.
pub fn check_evolution(files: &BTreeMap<PathBuf, Value>) -> Vec<Finding> {
    let events = event_files(files);
    let mut findings = Vec::new();
    let keys: Vec<&(String, Version)> = events.keys().collect();
    for pair in keys.windows(2) {
        let ((t0, v0), (t1, v1)) = (pair[0], pair[1]);
        if t0 != t1 || v0.0 != v1.0 {
            continue;
        }
        let old = SchemaRef {
            files,
            file: &events[pair[0]],
        };
        let new = SchemaRef {
            files,
            file: &events[pair[1]],
        };
        for change in diff(old, new) {
            if change.bump != Bump::Major {
                continue;
            }
            findings.push(Finding {
                event_type: t1.clone(),
                from: *v0,
                to: *v1,
                file: events[pair[1]].clone(),
                pointer: change.pointer.clone(),
                fix: fix_for(&change, *v1),
                what: change.what,
            });
        }
    }
    findings
}

fn fix_for(change: &Change, to: Version) -> String {
    let major = format!("{}.0", to.0 + 1);
    let what = &change.what;
    if let Some(rest) = what.strip_prefix("required property `") {
        let name = rest.split('`').next().unwrap_or_default();
        return format!("bump to {major}, or make `{name}` optional");
    }
    if let Some(rest) = what.strip_prefix("property `") {
        let name = rest.split('`').next().unwrap_or_default();
        if what.contains("made required") {
            return format!("bump to {major}, or keep `{name}` optional");
        }
        if what.contains("made optional") {
            return format!("bump to {major}, or keep `{name}` required");
        }
        if what.contains("removed") {
            return format!("bump to {major}, or keep `{name}`");
        }
    }
    format!("bump to {major}, or revert the change")
}

/// Checks a catalog against the previous release's: a published version may
/// change only its descriptions, and no event type or version may disappear.
pub fn check_against(
    previous: &BTreeMap<PathBuf, Value>,
    current: &BTreeMap<PathBuf, Value>,
) -> Vec<Finding> {
    let before = event_files(previous);
    let now = event_files(current);
    let mut findings = Vec::new();
    for ((ty, version), old_file) in &before {
        let next_minor = format!("{}.{}", version.0, version.1 + 1);
        let next_major = format!("{}.0", version.0 + 1);
        match now.get(&(ty.clone(), *version)) {
            None => {
                let type_gone = !now.keys().any(|(t, _)| t == ty);
                findings.push(Finding {
                    event_type: ty.clone(),
                    from: *version,
                    to: *version,
                    file: old_file.clone(),
                    pointer: "/".to_owned(),
                    what: if type_gone {
                        "published event type removed".to_owned()
                    } else {
                        format!("published version {}.{} removed", version.0, version.1)
                    },
                    fix: "restore the schema: consumers of a published version may still receive its events; retire it by deprecating it instead".to_owned(),
                });
            }
            Some(new_file) => {
                let old = strip_docs(&previous[old_file]);
                let new = strip_docs(&current[new_file]);
                let mut changed = first_difference(&old, &new, "");
                // A `$ref`ed definition that changed changes the version too.
                if changed.is_none() {
                    let o = SchemaRef {
                        files: previous,
                        file: old_file,
                    };
                    let n = SchemaRef {
                        files: current,
                        file: new_file,
                    };
                    changed = diff(o, n)
                        .into_iter()
                        .find(|c| c.bump != Bump::None)
                        .map(|c| c.pointer);
                }
                if let Some(pointer) = changed {
                    findings.push(Finding {
                        event_type: ty.clone(),
                        from: *version,
                        to: *version,
                        file: new_file.clone(),
                        pointer,
                        what: format!("published version {}.{} changed", version.0, version.1),
                        fix: format!(
                            "revert it and publish the change as {next_minor} (if compatible) or {next_major}; only descriptions of a published version may change"
                        ),
                    });
                }
            }
        }
    }
    findings
}

/// Reads every `*.json` file under `root` into a map by relative path.
/// Symbolic links are not followed, as in generation.
pub fn load_dir(root: &Path) -> Result<BTreeMap<PathBuf, Value>, String> {
    load_dir_within(root, crate::MAX_SCHEMA_BYTES)
}

/// [`load_dir`], refusing files over `limit` bytes instead of
/// [`MAX_SCHEMA_BYTES`](crate::MAX_SCHEMA_BYTES).
pub fn load_dir_within(root: &Path, limit: usize) -> Result<BTreeMap<PathBuf, Value>, String> {
    // The same walk as generation's, so that every view of a catalog reads
    // the same files: symbolic links are not followed (a link could lead
    // out of the root, or round in a loop), and a file over the size limit
    // is refused before it is parsed.
    let (sources, _symlinks, too_large) =
        crate::read_dir(root, limit).map_err(|e| e.to_string())?;
    if let Some((rel, size)) = too_large.first() {
        return Err(format!(
            "{}: the file is {size} bytes, larger than {limit}, the limit for a schema file",
            root.join(rel).display(),
        ));
    }
    let mut out = BTreeMap::new();
    for (rel, bytes) in sources {
        let path = root.join(&rel);
        let value: Value =
            serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        out.insert(rel, value);
    }
    Ok(out)
}
