//! The first step of lowering: where every `$id` and `$anchor` of the
//! catalog points, and how a reference is joined to its base URI.
//!
//! A file's own base URI is `root:/<path under the schema root>`; an `$id`
//! is resolved against the base in force where it appears, and becomes the
//! base of the subschema it names. Remote URIs are registered only as the
//! names the catalog gives its own schemas; nothing is fetched.
//!
//! Before that, [`normalise`] reads the keywords beside a `$ref` as the
//! file's dialect says: draft 7 ignores them (with a warning naming them),
//! 2019-09 and 2020-12 apply them beside the reference, which is an `allOf`
//! of the reference and the rest of the schema.

use crate::diagnostic::{Diagnostics, Severity};
use crate::json::{Kind, Member, Node, escape_token};
use crate::lower::SchemaFile;
use std::borrow::Cow;
use std::collections::HashMap;

/// The JSON Schema dialect a file is read in: its `$schema`, else the
/// default of the run ([`crate::Config::default_dialect`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// Draft 7 (and drafts 4 and 6): the keywords beside a `$ref`,
    /// `$id` included, are ignored.
    Draft7,
    /// Draft 2020-12 (and 2019-09): the keywords beside a `$ref` apply
    /// beside the referenced schema. The default.
    #[default]
    Draft2020_12,
}

impl Dialect {
    /// The dialect a `$schema` URI names, if it is one this reads.
    pub fn from_schema_uri(uri: &str) -> Option<Dialect> {
        let uri = uri.trim_end_matches('#');
        if ["draft-03", "draft-04", "draft-06", "draft-07"]
            .iter()
            .any(|d| uri.contains(d))
        {
            Some(Dialect::Draft7)
        } else if uri.contains("2019-09") || uri.contains("2020-12") {
            Some(Dialect::Draft2020_12)
        } else {
            None
        }
    }
}

/// Keywords beside a `$ref` that every dialect keeps: annotations, and
/// containers of definitions (which other references point into).
const BESIDE_REF: &[&str] = &[
    "$ref",
    "$defs",
    "definitions",
    "description",
    "title",
    "deprecated",
    "default",
    "$comment",
    "examples",
    "readOnly",
    "writeOnly",
    "$schema",
    "$anchor",
];

/// Keywords whose value is a schema.
const SCHEMA_KEYWORDS: &[&str] = &[
    "items",
    "additionalProperties",
    "additionalItems",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contentSchema",
];

/// Keywords whose value is an array of schemas.
const SCHEMA_ARRAYS: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems", "items"];

/// Keywords whose value is an object of schemas.
const SCHEMA_MAPS: &[&str] = &[
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
    "dependencies",
];

/// Whether the value of `key`, a member of a schema object that is no
/// keyword of JSON Schema, may be a schema that a `$ref` points to by its
/// JSON pointer, as published catalogs do (`"$ref":
/// "#/$defs/plugins/orchestrators"`, where `plugins` groups definitions):
/// normalised as one, so that what is read there is read as it would be in
/// `$defs`. Values that are data (`const`, `default`, `enum`, `examples`,
/// `x-*`) and the keywords this file names are left as written.
fn holds_schemas(key: &str) -> bool {
    !(key.starts_with('$')
        || key.starts_with("x-")
        || KNOWN.contains(&key)
        || SCHEMA_MAPS.contains(&key)
        || SCHEMA_ARRAYS.contains(&key)
        || SCHEMA_KEYWORDS.contains(&key))
}

/// Keywords whose value is not a schema, nor an object or array of them.
const KNOWN: &[&str] = &[
    "type",
    "enum",
    "const",
    "default",
    "examples",
    "required",
    "format",
    "pattern",
    "description",
    "title",
    "dependentRequired",
    "discriminator",
    "xml",
    "externalDocs",
    "example",
];

/// The pointers [`normalise`] changed: per file, (pointer in the
/// normalised tree, pointer as written), so that a diagnostic names the
/// place the user wrote.
#[derive(Debug, Default, Clone)]
pub(crate) struct Moved {
    rewrites: HashMap<usize, Vec<(String, String)>>,
}

impl Moved {
    /// The pointer the user wrote for a pointer of the normalised tree.
    pub fn original<'p>(&self, file: usize, pointer: &'p str) -> Cow<'p, str> {
        let Some(rewrites) = self.rewrites.get(&file) else {
            return Cow::Borrowed(pointer);
        };
        let mut out = Cow::Borrowed(pointer);
        // A rewrite may lead into a copy that was itself rewritten: follow
        // the longest matching prefix until none matches.
        for _ in 0..16 {
            let best = rewrites
                .iter()
                .filter(|(from, _)| {
                    out.strip_prefix(from.as_str())
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
                })
                .max_by_key(|(from, _)| from.len());
            match best {
                Some((from, to)) => out = Cow::Owned(format!("{to}{}", &out[from.len()..])),
                None => break,
            }
        }
        out
    }
}

/// The files as lowering reads them:
///
/// - for each `$ref` with keywords beside it that are not annotations, a
///   draft-7 file drops them (a `ref-sibling-ignored` warning names them),
///   and a 2020-12 file moves the `$ref` into an `allOf` part of its own,
///   so that the reference and the keywords both apply;
/// - the keywords beside a `oneOf` (or `anyOf`) apply to every
///   alternative: they are copied into each (into its `allOf` when they
///   would read each other's keywords, or when the alternative has the same
///   keyword), so that the union's variants check them.
///
/// `None` when no file changes.
pub(crate) fn normalise(
    files: &[SchemaFile],
    default: Dialect,
    max_schema_bytes: usize,
    diags: &mut Diagnostics,
) -> Option<(Vec<SchemaFile>, Moved)> {
    let budget = copy_budget(max_schema_bytes);
    let mut out: Option<Vec<SchemaFile>> = None;
    let mut moved = Moved::default();
    for (i, f) in files.iter().enumerate() {
        if !needs_normalising(&f.root) {
            continue;
        }
        let dialect = f
            .root
            .get("$schema")
            .and_then(Node::as_str)
            .and_then(Dialect::from_schema_uri)
            .unwrap_or(default);
        let copy = out.get_or_insert_with(|| files.iter().map(SchemaFile::clone).collect());
        let mut n = Normalise {
            dialect,
            id: f.id,
            diags,
            rewrites: Vec::new(),
            copied: 0,
            budget,
        };
        n.schema(&mut copy[i].root, &mut String::new(), 0);
        if !n.rewrites.is_empty() {
            moved.rewrites.insert(i, n.rewrites);
        }
    }
    out.map(|files| (files, moved))
}

/// Whether any object of the tree has a `$ref` beside a keyword that is
/// not kept beside it, or a union beside keywords (a quick test before
/// copying the file).
fn needs_normalising(node: &Node) -> bool {
    match &node.kind {
        Kind::Object(members) => {
            let beside = |keep: &dyn Fn(&str) -> bool| {
                members
                    .iter()
                    .any(|m| !keep(&m.key) && !m.key.starts_with("x-"))
            };
            (node.get("$ref").is_some() && beside(&|k| BESIDE_REF.contains(&k)))
                || ((node.get("oneOf").is_some() || node.get("anyOf").is_some())
                    && beside(&|k| UNION_KEPT.contains(&k) || k == "oneOf" || k == "anyOf"))
                || members.iter().any(|m| needs_normalising(&m.value))
        }
        Kind::Array(items) => items.iter().any(needs_normalising),
        _ => false,
    }
}

/// Keywords beside a union that are not copied into its alternatives:
/// annotations, identifiers and containers of definitions.
const UNION_KEPT: &[&str] = &[
    "$defs",
    "definitions",
    "description",
    "title",
    "deprecated",
    "default",
    "$comment",
    "examples",
    "readOnly",
    "writeOnly",
    "$schema",
    "$id",
    "$anchor",
    "$dynamicAnchor",
];

/// Keywords whose meaning depends on others beside them (`properties` for
/// `additionalProperties`, `if` for `then`): copied into an `allOf` part,
/// never among an alternative's own keywords.
const ADJACENT: &[&str] = &[
    "$ref",
    "$dynamicRef",
    "$recursiveRef",
    "properties",
    "patternProperties",
    "additionalProperties",
    "unevaluatedProperties",
    "items",
    "prefixItems",
    "additionalItems",
    "unevaluatedItems",
    "contains",
    "minContains",
    "maxContains",
    "if",
    "then",
    "else",
    "allOf",
];

struct Normalise<'d> {
    dialect: Dialect,
    id: crate::diagnostic::FileId,
    diags: &'d mut Diagnostics,
    rewrites: Vec<(String, String)>,
    /// JSON values copied into alternatives so far: unions nested in
    /// unions multiply the copies, and a file may not grow without bound.
    copied: usize,
    /// The most values the copies of this file may hold.
    budget: usize,
}

/// The most JSON values the copies of one file may hold at the default
/// size limit (a schema file of at most 1 MiB, a few hundred thousand
/// values).
const COPY_BUDGET: usize = 200_000;

/// The copy budget under a file size limit of `max_schema_bytes`: in
/// proportion to it, never below [`COPY_BUDGET`], so a raised limit lets a
/// larger file copy as much per byte, and the copies stay bounded by the
/// limit the user chose.
fn copy_budget(max_schema_bytes: usize) -> usize {
    let scale = max_schema_bytes / crate::MAX_SCHEMA_BYTES;
    COPY_BUDGET.saturating_mul(scale.max(1))
}

/// The number of JSON values in `node`.
fn size(node: &Node) -> usize {
    1 + match &node.kind {
        Kind::Object(members) => members.iter().map(|m| size(&m.value)).sum(),
        Kind::Array(items) => items.iter().map(size).sum(),
        _ => 0,
    }
}

impl Normalise<'_> {
    fn schema(&mut self, node: &mut Node, ptr: &mut String, depth: usize) {
        if depth > crate::json::MAX_DEPTH || !matches!(node.kind, Kind::Object(_)) {
            return;
        }
        // The keywords beside a union go into its alternatives first, so
        // that what is copied is normalised with them.
        self.distribute(node, ptr);
        let Kind::Object(members) = &mut node.kind else {
            return;
        };
        // The subschemas: their pointers do not change.
        for m in members.iter_mut() {
            let key = m.key.as_str();
            let len = ptr.len();
            ptr.push('/');
            ptr.push_str(&escape_token(key));
            if SCHEMA_MAPS.contains(&key) {
                if let Kind::Object(entries) = &mut m.value.kind {
                    for e in entries.iter_mut() {
                        let l = ptr.len();
                        ptr.push('/');
                        ptr.push_str(&escape_token(&e.key));
                        self.schema(&mut e.value, ptr, depth + 1);
                        ptr.truncate(l);
                    }
                }
            } else if SCHEMA_ARRAYS.contains(&key) && matches!(m.value.kind, Kind::Array(_)) {
                if let Kind::Array(items) = &mut m.value.kind {
                    for (j, item) in items.iter_mut().enumerate() {
                        let l = ptr.len();
                        ptr.push_str(&format!("/{j}"));
                        self.schema(item, ptr, depth + 1);
                        ptr.truncate(l);
                    }
                }
            } else if SCHEMA_KEYWORDS.contains(&key) || holds_schemas(key) {
                self.schema(&mut m.value, ptr, depth + 1);
            }
            ptr.truncate(len);
        }
        self.reference(node, ptr, false);
    }

    /// The `$ref` of `node`, read as the dialect says; with `force`, moved
    /// into an `allOf` part even without keywords beside it (so that more
    /// parts can be added).
    fn reference(&mut self, node: &mut Node, ptr: &str, force: bool) {
        let Kind::Object(members) = &mut node.kind else {
            return;
        };
        let Some(mut at) = members.iter().position(|m| m.key == "$ref") else {
            return;
        };
        let dialect = self.dialect;
        let siblings: Vec<usize> = (0..members.len())
            .filter(|&j| {
                let k = members[j].key.as_str();
                // 2020-12 reads a `$ref` against the `$id` beside it; draft
                // 7 ignores that `$id` too.
                let id_kept = k == "$id" && dialect == Dialect::Draft2020_12;
                !BESIDE_REF.contains(&k) && !k.starts_with("x-") && !id_kept
            })
            .collect();
        if dialect == Dialect::Draft7 && !siblings.is_empty() {
            let first = siblings[0];
            let names: Vec<String> = siblings
                .iter()
                .map(|&j| format!("`{}`", members[j].key))
                .collect();
            self.diags.push(
                Severity::Warning,
                "ref-sibling-ignored",
                self.id,
                &format!("{ptr}/{}", escape_token(&members[first].key)),
                members[first].key_span.clone(),
                format!(
                    "draft 7 ignores the keywords beside `$ref`: {} {} not applied",
                    names.join(", "),
                    if names.len() == 1 { "is" } else { "are" }
                ),
                Some(
                    "to apply them, write `allOf: [{ \"$ref\": ... }, { ... }]`, or declare `\"$schema\": \"https://json-schema.org/draft/2020-12/schema\"`, where they apply beside the reference"
                        .to_string(),
                ),
            );
            let mut j = 0;
            members.retain(|_| {
                let keep = !siblings.contains(&j);
                j += 1;
                keep
            });
            at = members.iter().position(|m| m.key == "$ref").unwrap_or(0);
        }
        if !(force || (dialect == Dialect::Draft2020_12 && !siblings.is_empty())) {
            return;
        }
        let reference = members[at].clone();
        let part = Node {
            span: reference.key_span.start..reference.value.span.end,
            kind: Kind::Object(vec![reference.clone()]),
        };
        match members.iter().position(|m| m.key == "allOf") {
            Some(a) => {
                let Kind::Array(parts) = &mut members[a].value.kind else {
                    // An `allOf` that is not an array: lowering reports it;
                    // the `$ref` stays where it is.
                    return;
                };
                self.rewrites
                    .push((format!("{ptr}/allOf/{}", parts.len()), ptr.to_string()));
                parts.push(part);
                members.remove(at);
            }
            None => {
                self.rewrites
                    .push((format!("{ptr}/allOf/0"), ptr.to_string()));
                self.rewrites
                    .push((format!("{ptr}/allOf"), format!("{ptr}/$ref")));
                members[at] = Member {
                    key: "allOf".to_string(),
                    key_span: reference.key_span.clone(),
                    value: Node {
                        span: part.span.clone(),
                        kind: Kind::Array(vec![part]),
                    },
                };
            }
        }
    }

    /// Copies the keywords beside a `oneOf` (else `anyOf`) into each of its
    /// alternatives.
    fn distribute(&mut self, node: &mut Node, ptr: &str) {
        let key = if node.get("oneOf").is_some() {
            "oneOf"
        } else if node.get("anyOf").is_some() {
            "anyOf"
        } else {
            return;
        };
        let Kind::Object(members) = &node.kind else {
            return;
        };
        let beside: Vec<Member> = members
            .iter()
            .filter(|m| {
                m.key != key && !UNION_KEPT.contains(&m.key.as_str()) && !m.key.starts_with("x-")
            })
            .cloned()
            .collect();
        if beside.is_empty() {
            return;
        }
        let unevaluated: Vec<&Member> = beside
            .iter()
            .filter(|m| {
                matches!(m.key.as_str(), "unevaluatedProperties" | "unevaluatedItems")
                    && m.value.kind != Kind::Bool(true)
            })
            .collect();
        if !unevaluated.is_empty() {
            // What it sees depends on the alternative that matches: copied
            // into each, it would see less, and refuse what the schema
            // allows.
            for m in unevaluated {
                self.diags.push(
                    Severity::Error,
                    "unsupported-keyword",
                    self.id,
                    &format!("{ptr}/{}", escape_token(&m.key)),
                    m.key_span.clone(),
                    format!("`{}` beside `{key}` is not supported: what it sees depends on the alternative that matches", m.key),
                    Some(format!("close each alternative of `{key}` itself, listing there what is beside `{key}` too")),
                );
            }
            let Kind::Object(members) = &mut node.kind else {
                return;
            };
            members.retain(|m| {
                !(matches!(m.key.as_str(), "unevaluatedProperties" | "unevaluatedItems")
                    && m.value.kind != Kind::Bool(true))
            });
            return self.distribute(node, ptr);
        }
        if let Some(m) = beside.iter().find(|m| declares_id(&m.value)) {
            // A copy would declare the `$id` twice.
            self.diags.push(
                Severity::Error,
                "unsupported-keyword",
                self.id,
                &format!("{ptr}/{}", escape_token(&m.key)),
                m.key_span.clone(),
                format!("`{}` beside `{key}` declares an `$id` or `$anchor`, so it cannot be applied to each alternative", m.key),
                Some(format!("move the keywords beside `{key}` into a `$defs` entry and refer to it from each alternative")),
            );
            return;
        }
        let each: usize = beside.iter().map(|m| size(&m.value) + 1).sum();
        let alternatives = node
            .get(key)
            .and_then(Node::as_array)
            .map_or(0, <[Node]>::len);
        if self.copied + each * alternatives > self.budget {
            self.diags.push(
                Severity::Error,
                "schema-too-large",
                self.id,
                &format!("{ptr}/{key}"),
                node.member(key).map_or(node.span.clone(), |m| m.key_span.clone()),
                format!("the keywords beside `{key}` apply to each alternative, and with the unions around it they would be copied into more than {} values", self.budget),
                Some(format!("move the keywords beside `{key}` into a `$defs` entry and refer to it from each alternative; for a published file you trust, a higher `--max-schema-bytes` (`Config::max_schema_bytes`) raises this bound in proportion")),
            );
            return;
        }
        self.copied += each * alternatives;
        let only_type = beside.len() == 1 && beside[0].key == "type";
        let span = beside
            .first()
            .map_or(node.span.clone(), |m| m.key_span.clone());
        let Kind::Object(members) = &mut node.kind else {
            return;
        };
        let Some(alts) =
            members
                .iter_mut()
                .find(|m| m.key == key)
                .and_then(|m| match &mut m.value.kind {
                    Kind::Array(alts) => Some(alts),
                    _ => None,
                })
        else {
            return;
        };
        for (i, alt) in alts.iter_mut().enumerate() {
            let at = format!("{ptr}/{key}/{i}");
            if alt.kind == Kind::Bool(true) {
                *alt = Node {
                    span: alt.span.clone(),
                    kind: Kind::Object(Vec::new()),
                };
            }
            let Kind::Object(own) = &alt.kind else {
                // `false` accepts nothing, whatever is beside it.
                continue;
            };
            // `{"type": "null"}` is the union's `null`, which the field
            // reads; a type beside a referenced alternative is the
            // referenced schema's own, in the common case.
            let null = own.len() == 1 && alt.get("type").and_then(Node::as_str) == Some("null");
            let said = only_type
                && (alt.get("$ref").is_some()
                    || (alt.get("type").is_some() && same_types(alt, &beside[0].value)));
            if null || said {
                continue;
            }
            let clash = own.iter().any(|m| {
                ADJACENT.contains(&m.key.as_str()) || beside.iter().any(|b| b.key == m.key)
            }) || beside.iter().any(|b| ADJACENT.contains(&b.key.as_str()));
            if !clash {
                // Disjoint, independent keywords: the alternative's own.
                if let Kind::Object(own) = &mut alt.kind {
                    for b in &beside {
                        self.rewrites.push((
                            format!("{at}/{}", escape_token(&b.key)),
                            format!("{ptr}/{}", escape_token(&b.key)),
                        ));
                        own.push(b.clone());
                    }
                }
                continue;
            }
            // Otherwise an `allOf` part of the alternative.
            if alt.get("$ref").is_some() {
                self.reference(alt, &at, true);
            }
            let part = Node {
                span: span.clone(),
                kind: Kind::Object(beside.clone()),
            };
            let Kind::Object(own) = &mut alt.kind else {
                continue;
            };
            match own.iter_mut().find(|m| m.key == "allOf") {
                Some(m) => {
                    let Kind::Array(parts) = &mut m.value.kind else {
                        continue;
                    };
                    self.rewrites
                        .push((format!("{at}/allOf/{}", parts.len()), ptr.to_string()));
                    parts.push(part);
                }
                None => {
                    self.rewrites
                        .push((format!("{at}/allOf/0"), ptr.to_string()));
                    self.rewrites.push((format!("{at}/allOf"), at.clone()));
                    own.push(Member {
                        key: "allOf".to_string(),
                        key_span: span.clone(),
                        value: Node {
                            span: span.clone(),
                            kind: Kind::Array(vec![part]),
                        },
                    });
                }
            }
        }
    }
}

/// Whether a schema declares an `$id` or an anchor anywhere inside it.
fn declares_id(node: &Node) -> bool {
    match &node.kind {
        Kind::Object(members) => members.iter().any(|m| {
            (matches!(m.key.as_str(), "$id" | "$anchor" | "$dynamicAnchor")
                && m.value.as_str().is_some())
                || (!DATA.contains(&m.key.as_str()) && declares_id(&m.value))
        }),
        Kind::Array(items) => items.iter().any(declares_id),
        _ => false,
    }
}

/// Whether the alternative's `type` is within `types` (`integer` within
/// `number`): a `type` beside the union says nothing more.
fn same_types(alt: &Node, types: &Node) -> bool {
    let list = |n: &Node| -> Vec<String> {
        match &n.kind {
            Kind::String(s) => vec![s.clone()],
            Kind::Array(v) => v
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    };
    let outer = list(types);
    let inner = alt.get("type").map(list).unwrap_or_default();
    !inner.is_empty()
        && inner
            .iter()
            .all(|t| outer.contains(t) || (t == "integer" && outer.iter().any(|o| o == "number")))
}

/// Where the catalog's resources and anchors are: (file, JSON pointer).
#[derive(Default)]
pub(crate) struct Registry {
    /// Every resource by its URI (without fragment): each file by its
    /// place under the root, each `$id` resolved against its base.
    pub resources: HashMap<String, (usize, String)>,
    /// Each `$id` as written, joined to the schema root: what ajv-style
    /// catalogs refer to.
    pub as_written: HashMap<String, (usize, String)>,
    /// `(file, pointer of the resource, name)` to the pointer of the
    /// subschema that declares `$anchor` (or a draft-07 `$id: "#name"`).
    pub anchors: HashMap<(usize, String, String), String>,
    /// Per file, the subschemas that set a base URI: (pointer, base),
    /// the file root first.
    bases: Vec<Vec<(String, String)>>,
}

/// Members whose values are data, not schemas: an `$id` in them names
/// nothing.
const DATA: &[&str] = &["const", "enum", "default", "examples", "x-event"];

impl Registry {
    pub fn build(files: &[SchemaFile], diags: &mut Diagnostics) -> Registry {
        let mut reg = Registry::default();
        for (i, f) in files.iter().enumerate() {
            let own = format!("{ROOT}{}", f.path.to_string_lossy().replace('\\', "/"));
            reg.resources.insert(own.clone(), (i, String::new()));
            reg.bases.push(vec![(String::new(), own.clone())]);
            let mut w = Walk {
                reg: &mut reg,
                files,
                file: i,
                diags,
            };
            w.node(&f.root, &mut String::new(), &own, "");
        }
        reg
    }

    /// The base URI in force at `pointer` in `file`.
    pub fn base_at(&self, file: usize, pointer: &str) -> &str {
        let mut best = "";
        let mut len = 0;
        for (p, base) in &self.bases[file] {
            let inside = pointer == p
                || (pointer.starts_with(p.as_str()) && pointer[p.len()..].starts_with('/'));
            if inside && (p.len() >= len || best.is_empty()) {
                best = base;
                len = p.len();
            }
        }
        best
    }
}

struct Walk<'r, 'f> {
    reg: &'r mut Registry,
    files: &'f [SchemaFile],
    file: usize,
    diags: &'r mut Diagnostics,
}

impl Walk<'_, '_> {
    fn node(&mut self, node: &Node, ptr: &mut String, base: &str, resource: &str) {
        match &node.kind {
            Kind::Object(_) => {}
            Kind::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = ptr.len();
                    ptr.push_str(&format!("/{i}"));
                    self.node(item, ptr, base, resource);
                    ptr.truncate(len);
                }
                return;
            }
            _ => return,
        }
        let mut base = base.to_string();
        let mut resource = resource.to_string();
        if let Some(id) = node.get("$id").and_then(Node::as_str) {
            let (path, anchor) = id.split_once('#').unwrap_or((id, ""));
            if !path.is_empty() {
                if let Some(uri) = join(&base, path) {
                    self.register(&uri, ptr, node);
                    if let Some(written) = join(ROOT, path) {
                        self.reg
                            .as_written
                            .entry(written)
                            .or_insert((self.file, ptr.clone()));
                    }
                    base = uri;
                    resource = ptr.clone();
                    if !ptr.is_empty() {
                        self.reg.bases[self.file].push((ptr.clone(), base.clone()));
                    } else {
                        self.reg.bases[self.file][0].1 = base.clone();
                    }
                }
            }
            if !anchor.is_empty() && !anchor.starts_with('/') {
                self.anchor(&resource, anchor, ptr);
            }
        }
        if let Some(a) = node.get("$anchor").and_then(Node::as_str) {
            self.anchor(&resource, a, ptr);
        }
        for m in node.members() {
            if DATA.contains(&m.key.as_str()) {
                continue;
            }
            let len = ptr.len();
            ptr.push('/');
            ptr.push_str(&escape_token(&m.key));
            self.node(&m.value, ptr, &base, &resource);
            ptr.truncate(len);
        }
    }

    fn anchor(&mut self, resource: &str, name: &str, ptr: &str) {
        self.reg
            .anchors
            .entry((self.file, resource.to_string(), name.to_string()))
            .or_insert_with(|| ptr.to_string());
    }

    fn register(&mut self, uri: &str, ptr: &str, node: &Node) {
        let here = (self.file, ptr.to_string());
        match self.reg.resources.get(uri) {
            Some(other) if *other != here => {
                let span = node.get("$id").map(|n| n.span.clone()).unwrap_or(0..0);
                let id = self.files[self.file].id;
                let first = format!("{}#{}", self.files[other.0].path.display(), other.1);
                self.diags.push(
                    Severity::Error,
                    "duplicate-id",
                    id,
                    &format!("{ptr}/$id"),
                    span,
                    format!("`$id` `{}` is already the `$id` of `{first}`", show(uri)),
                    Some("give each schema its own `$id`".to_string()),
                );
            }
            Some(_) => {}
            None => {
                self.reg.resources.insert(uri.to_string(), here);
            }
        }
    }
}

/// The base URI of the schema root.
pub(crate) const ROOT: &str = "root:/";

/// A URI as a user reads it: a path under the root, or the URI itself.
pub(crate) fn show(uri: &str) -> &str {
    uri.strip_prefix(ROOT).unwrap_or(uri)
}

/// The scheme of an absolute URI.
fn scheme(s: &str) -> Option<&str> {
    let (scheme, _) = s.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(scheme)
}

/// Resolves `reference` (without fragment) against `base`, as RFC 3986
/// section 5.2 does. `None` when a reference climbs above the schema root,
/// or is an absolute path under it.
pub(crate) fn join(base: &str, reference: &str) -> Option<String> {
    if scheme(reference).is_some() || reference.starts_with("//") {
        return Some(reference.to_string());
    }
    let Some(sch) = scheme(base) else {
        return Some(reference.to_string());
    };
    let rest = &base[sch.len() + 1..];
    let (authority, path) = match rest.strip_prefix("//") {
        Some(r) => {
            let end = r.find('/').unwrap_or(r.len());
            (&rest[..end + 2], &r[end..])
        }
        None => ("", rest),
    };
    let local = base.starts_with(ROOT);
    if reference.is_empty() {
        return Some(base.to_string());
    }
    if authority.is_empty() && !path.starts_with('/') {
        // A base with a rootless path (`urn:uuid:...`, `tag:...`): the
        // reference replaces what follows the last `/`, or the whole path
        // (RFC 3986 section 5.2.3); there are no segments to climb.
        let dir = path.rfind('/').map_or("", |i| &path[..=i]);
        return Some(format!("{sch}:{dir}{reference}"));
    }
    let merged = if reference.starts_with('/') {
        if local {
            return None;
        }
        reference.to_string()
    } else {
        let dir = path.rfind('/').map_or("/", |i| &path[..=i]);
        format!("{dir}{reference}")
    };
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = merged.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." => {
                if i == last {
                    out.push("");
                }
            }
            ".." => {
                if out.pop().is_none() && local {
                    return None;
                }
                if i == last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    Some(format!("{sch}:{authority}/{}", out.join("/")))
}

#[cfg(test)]
mod tests {
    use super::join;

    #[test]
    fn references_join_their_base_as_rfc_3986_says() {
        let b = "root:/push/event.json";
        assert_eq!(
            join(b, "common/user.json").unwrap(),
            "root:/push/common/user.json"
        );
        assert_eq!(
            join(b, "../common/user.json").unwrap(),
            "root:/common/user.json"
        );
        assert_eq!(join(b, "./a.json").unwrap(), "root:/push/a.json");
        assert_eq!(join(b, "../../a.json"), None);
        assert_eq!(join(b, "/etc/passwd"), None);
        assert_eq!(
            join("root:/push/push$event", "c.json").unwrap(),
            "root:/push/c.json"
        );
        assert_eq!(
            join("https://example.com/s/a.json", "../b.json").unwrap(),
            "https://example.com/b.json"
        );
        assert_eq!(
            join("https://example.com/s/a.json", "/b.json").unwrap(),
            "https://example.com/b.json"
        );
        assert_eq!(join(b, "https://x.org/y").unwrap(), "https://x.org/y");
        // A URN base: no hierarchy, so a relative reference replaces the
        // path, and an absolute one is itself.
        let urn = "urn:uuid:deadbeef-1234-ffff-ffff-4321feebdaed";
        assert_eq!(join(urn, "").unwrap(), urn);
        assert_eq!(join(urn, "other.json").unwrap(), "urn:other.json");
        assert_eq!(join(urn, "urn:example:x").unwrap(), "urn:example:x");
        assert_eq!(
            join("tag:a.org,2026:s/x", "y").unwrap(),
            "tag:a.org,2026:s/y"
        );
        assert_eq!(join(b, "//x.org/y").unwrap(), "//x.org/y");
    }
}
