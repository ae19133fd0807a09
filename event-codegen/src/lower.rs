//! JSON Schema to the generator's items: keyword checks, `$ref`
//! resolution, naming, the union of an event's minor versions.
//!
//! Every problem is a diagnostic and lowering goes on with a stand-in
//! (`Value`), so one run reports every problem of a catalog.

use crate::diagnostic::{Diagnostics, FileId, Severity};
use crate::json::{Kind, Node, Span, escape_token};
use crate::model::{
    Accessor, Alias, Allowed, Constraint, EventAttrs, Field, Getter, Item, Keyword, Newtype, Num,
    OpenEnum, Program, Struct, Sub, Ty, Union,
};
use crate::naming;
use crate::resolve::{self as uri, Moved, Registry};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

mod keywords;
use keywords::Builder;

/// A schema location: (file, pointer).
type Place = (usize, String);

/// A schema at its location: (file, pointer, node).
type Located<'a> = (usize, String, &'a Node);

/// One parsed schema file.
#[derive(Debug, Clone)]
pub(crate) struct SchemaFile {
    pub id: FileId,
    pub path: PathBuf,
    pub root: Node,
}

/// The `x-event` block of an event schema, checked.
#[derive(Debug, Clone)]
pub(crate) struct EventMeta {
    pub file: usize,
    pub type_name: String,
    pub major: u32,
    pub minor: u32,
    pub producer: String,
    pub consumers: Vec<(String, String)>,
    pub delivery: Option<String>,
    pub ordering: Option<String>,
    pub partition_key: Option<(String, Span)>,
    pub idempotency_key: Vec<(String, Span)>,
    /// `x-event.expectedEvery`, when it is a valid duration.
    pub expected_every: Option<String>,
}

/// What the user allows beyond the keywords and formats the generator
/// knows, in shared definitions.
#[derive(Debug, Clone, Default)]
pub(crate) struct Vocabulary {
    /// Vendor keywords allowed by name.
    pub keywords: HashSet<String>,
    /// Unknown formats whose warning is silenced.
    pub formats: HashSet<String>,
    /// `additionalProperties: false` and `unevaluatedProperties: false`
    /// in shared definitions close the object only where a union tells its
    /// alternatives apart, as event payloads read (a warning says so).
    pub tolerate_closed: bool,
}

/// An event type at one major version, as generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSummary {
    /// `enrollment.completed`
    pub type_name: String,
    /// The major version.
    pub major: u32,
    /// The minor versions found, ascending.
    pub minors: Vec<u32>,
    /// The generated type.
    pub rust_name: String,
    /// The schema files, relative to the root.
    pub files: Vec<PathBuf>,
}

/// A pair of count keywords and the constraints they become.
type CountBounds = [(&'static str, fn(u64) -> Constraint); 2];

/// The string length keywords and the constraints they become.
const LENGTH_BOUNDS: CountBounds = [
    ("minLength", Constraint::MinLength),
    ("maxLength", Constraint::MaxLength),
];

/// The array length keywords and the constraints they become.
const ITEM_BOUNDS: CountBounds = [
    ("minItems", Constraint::MinItems),
    ("maxItems", Constraint::MaxItems),
];

/// Keywords read by the generator.
const SUPPORTED: &[&str] = &[
    "type",
    "properties",
    "required",
    "enum",
    "const",
    "format",
    "$ref",
    "$defs",
    "definitions",
    "oneOf",
    "anyOf",
    "allOf",
    "additionalProperties",
    "items",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "default",
    "description",
    "title",
    "deprecated",
];

/// Annotations that change nothing in the generated code.
const ANNOTATIONS: &[&str] = &[
    "$schema",
    "$id",
    "$anchor",
    "$comment",
    "examples",
    "readOnly",
    "writeOnly",
];

/// Keywords next to `$ref` that annotate the use site rather than change
/// the type.
const REF_SIBLINGS: &[&str] = &[
    "$ref",
    // Containers of definitions, not constraints on this schema.
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
];

const FORMATS: &[&str] = &["date-time", "date", "uuid", "uri", "email"];

/// The type of a schema at one use site.
#[derive(Clone)]
struct Lowered {
    ty: Ty,
    nullable: bool,
    constraints: Vec<Constraint>,
}

impl Lowered {
    fn plain(ty: Ty) -> Lowered {
        Lowered {
            ty,
            nullable: false,
            constraints: Vec::new(),
        }
    }
}

/// What an `allOf` part makes of a property's type
/// ([`Lower::narrowed_to_part`]).
enum Narrowed {
    /// The part is the intersection.
    To(Lowered),
    /// The part allows every value of the first (`null` aside).
    Unchanged,
    /// The part allows only `null`, which the first does not.
    Empty,
}

/// What a `Value` newtype checks, gathered over `allOf` parts.
#[derive(Default)]
struct ValueChecks {
    /// The JSON types allowed; `None`: no part says.
    types: Option<Vec<String>>,
    /// Where the types were last narrowed (file, pointer of `type`).
    types_at: Option<(usize, String)>,
    /// Lists of allowed values (JSON arrays); the value is in each.
    values: Vec<String>,
    constraints: Vec<Constraint>,
}

/// What a schema evaluates of an object's members, for
/// `unevaluatedProperties` ([`Lower::evaluated`]).
enum Evaluated {
    /// The names and patterns gathered.
    Some,
    /// Every member (an `additionalProperties` in the subtree).
    All,
    /// It depends on the value: the keyword (file, pointer of its schema).
    Dynamic(usize, String, &'static str),
}

impl Evaluated {
    fn and(self, other: Evaluated) -> Evaluated {
        match (self, other) {
            (d @ Evaluated::Dynamic(..), _) | (_, d @ Evaluated::Dynamic(..)) => d,
            (Evaluated::All, _) | (_, Evaluated::All) => Evaluated::All,
            _ => Evaluated::Some,
        }
    }
}

/// A named item waiting to be lowered.
struct Pending {
    file: usize,
    pointer: String,
    name: String,
    /// For a tagged-union variant: the discriminator property to leave out.
    skip: Option<String>,
    /// For the intersection of object schemas at a property (`allOf`
    /// parts that each define it as an object): the other schemas (file,
    /// pointer, after `$ref`s), intersected with the one at `pointer`.
    parts: Vec<(usize, String)>,
}

/// A property of an object, wherever `allOf` found it.
struct Prop<'a> {
    file: usize,
    pointer: String,
    wire: String,
    key_span: Span,
    node: &'a Node,
    /// Other `allOf` parts that define the property too: (file, pointer,
    /// schema), each narrowing the first.
    also: Vec<(usize, String, &'a Node)>,
}

#[derive(Default)]
struct Shape<'a> {
    props: Vec<Prop<'a>>,
    required: Vec<String>,
    /// Where each name of `required` was found (file, pointer, span), in
    /// the object or in one of its `allOf` parts.
    required_at: Vec<(String, usize, String, Span)>,
    /// The schemas of the object and its `allOf` parts that say
    /// `additionalProperties: false` (file, pointer): each allows only the
    /// members its own `properties` and `patternProperties` name.
    closed: Vec<(usize, String, &'a Node)>,
    /// The schemas of the object and its `allOf` parts that say
    /// `unevaluatedProperties: false` (file, pointer), each with the
    /// members it allows: the `properties` (names) and `patternProperties`
    /// of its own subtree (itself, its `allOf` parts, its `$ref`s).
    sealed: Vec<Sealed>,
    /// `allOf` parts that are the schema `false` (directly or through a
    /// `$ref`): no value satisfies the object (file, pointer, span).
    nothing: Vec<(usize, String, Span)>,
}

/// An `unevaluatedProperties: false` whose subtree is known statically.
#[derive(Clone)]
struct Sealed {
    file: usize,
    pointer: String,
    names: Vec<String>,
    patterns: Vec<String>,
}

pub(crate) struct Lower<'a> {
    files: &'a [SchemaFile],
    /// Where each `$id` and each `$anchor` points.
    registry: Registry,
    /// The `$ref`s `resolve::normalise` moved into an `allOf` part.
    moved: &'a Moved,
    /// Files under the root that are symbolic links, which are not read.
    symlinks: &'a HashSet<PathBuf>,
    vocabulary: &'a Vocabulary,
    pub diags: &'a mut Diagnostics,
    /// Names given to schema locations (file, pointer).
    names: HashMap<(usize, String), String>,
    /// Names given to intersections of object schemas: the first schema
    /// and the others, each (file, pointer) after `$ref`s.
    intersections: HashMap<(Place, Vec<Place>), String>,
    used: HashSet<String>,
    pending: Vec<Pending>,
    /// `$ref`s being followed, to find cycles.
    stack: Vec<(usize, String)>,
    pub items: Vec<Item>,
    pub events: Vec<EventSummary>,
    /// Event files, to lint and to find the struct name of a file.
    owner: HashMap<usize, String>,
    /// Every `unevaluatedProperties: false` met (file, pointer of the
    /// keyword, span), and those a struct applied; the others are
    /// reported at the end of the run, never dropped.
    unevaluated: Vec<(usize, String, Span)>,
    /// The `additionalProperties` schemas of maps and the `items` schemas
    /// of arrays (file, pointer) whose values have constraints their
    /// container's type cannot carry (a map's values, an inner array's
    /// items or counts): checked whole as rules (`keywords::residue`).
    checked_whole: HashSet<(usize, String)>,
    /// The `allOf` definitions of a property (file, pointer, as written)
    /// that its type, from its first definition, cannot narrow to (a
    /// union defined twice, other `items`, a second `pattern`): checked
    /// whole as rules of the property, so both hold.
    whole_parts: HashSet<(usize, String)>,
    unevaluated_done: HashSet<(usize, String)>,
}

impl<'a> Lower<'a> {
    pub fn new(
        files: &'a [SchemaFile],
        moved: &'a Moved,
        symlinks: &'a HashSet<PathBuf>,
        vocabulary: &'a Vocabulary,
        diags: &'a mut Diagnostics,
    ) -> Lower<'a> {
        let registry = Registry::build(files, diags);
        Lower {
            files,
            registry,
            moved,
            symlinks,
            vocabulary,
            diags,
            names: HashMap::new(),
            intersections: HashMap::new(),
            used: HashSet::new(),
            pending: Vec::new(),
            stack: Vec::new(),
            items: Vec::new(),
            events: Vec::new(),
            owner: HashMap::new(),
            unevaluated: Vec::new(),
            checked_whole: HashSet::new(),
            whole_parts: HashSet::new(),
            unevaluated_done: HashSet::new(),
        }
    }

    /// Reports a schema that is neither an object nor a boolean.
    fn not_a_schema(&mut self, file: usize, pointer: &str, node: &Node) {
        self.report(
            Severity::Error,
            "bad-schema",
            file,
            pointer,
            node.span.clone(),
            format!("a schema must be an object, found {}", node.describe()),
            None,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn report(
        &mut self,
        severity: Severity,
        code: &'static str,
        file: usize,
        pointer: &str,
        span: Span,
        message: impl Into<String>,
        hint: Option<&str>,
    ) {
        let id = self.files[file].id;
        let hint = hint.map(str::to_string);
        let pointer = self.moved.original(file, pointer);
        self.diags
            .push(severity, code, id, &pointer, span, message, hint);
    }

    /// Lowers the catalog: every event type and major, then every shared
    /// definition file, then whatever they reference.
    pub fn run(&mut self, metas: &[EventMeta]) {
        let mut groups: BTreeMap<(String, u32), Vec<&EventMeta>> = BTreeMap::new();
        for meta in metas {
            groups
                .entry((meta.type_name.clone(), meta.major))
                .or_default()
                .push(meta);
        }
        let event_files: HashSet<usize> = metas.iter().map(|m| m.file).collect();
        // Claim the event names first, so nested types never take them.
        let mut planned = Vec::new();
        for ((type_name, major), mut group) in groups {
            group.sort_by_key(|m| m.minor);
            let Some(newest) = group.last().copied() else {
                continue;
            };
            let root = &self.files[newest.file].root;
            let base = root
                .get("title")
                .and_then(Node::as_str)
                .and_then(naming::title_ident)
                .unwrap_or_else(|| naming::type_ident(&type_name));
            let name = self.claim(&format!("{base}V{major}"), None);
            for m in &group {
                self.owner.insert(m.file, name.clone());
            }
            planned.push((name, group));
        }
        // Shared definitions: every file without `x-event`.
        for i in 0..self.files.len() {
            if event_files.contains(&i) {
                continue;
            }
            // Every shared definition is a type of its own, whatever its
            // root: a struct, an enum, a union, a newtype or, for a root
            // `$ref`, an alias (`lower_named`).
            self.named(i, "");
        }
        for (name, group) in planned {
            self.event(name, &group);
        }
        // First queued, first emitted: a type comes after its first user.
        let mut next = 0;
        while next < self.pending.len() {
            let p = std::mem::replace(
                &mut self.pending[next],
                Pending {
                    file: 0,
                    pointer: String::new(),
                    name: String::new(),
                    skip: None,
                    parts: Vec::new(),
                },
            );
            next += 1;
            self.lower_named(p);
        }
        self.pending.clear();
        self.box_cycles();
        self.unapplied_unevaluated();
    }

    /// The shared definition files and the names of their types.
    pub fn shared_names(&self) -> Vec<(PathBuf, String)> {
        let mut out: Vec<(PathBuf, String)> = self
            .names
            .iter()
            .filter(|((f, p), _)| p.is_empty() && !self.owner.contains_key(f))
            .map(|((f, _), n)| (self.files[*f].path.clone(), n.clone()))
            .collect();
        out.sort();
        out
    }

    fn event(&mut self, name: String, group: &[&EventMeta]) {
        let Some(newest) = group.last().copied() else {
            return;
        };
        let file = newest.file;
        let root = &self.files[file].root;
        let doc = root
            .get("description")
            .and_then(Node::as_str)
            .map(str::to_string);
        if root.get("oneOf").is_some() || root.get("anyOf").is_some() || root.get("enum").is_some()
        {
            self.report(Severity::Error, "event-payload",
                file,
                "",
                root.span.clone(),
                "the payload of an event must be an object with `properties`",
                Some("wrap the alternatives in a property: `{ \"properties\": { \"detail\": { \"oneOf\": [...] } } }`"),
            );
        }
        let (mut fields, check) = self.fields(file, "", root, &name, &[], &[]);
        // Fields of older minors that the newest no longer lists.
        let first_minor = group.first().map_or(0, |m| m.minor);
        let mut since: HashMap<String, u32> = HashMap::new();
        for m in group {
            let r = &self.files[m.file].root;
            for p in self.collect_shape(m.file, "", r).props {
                since.entry(p.wire.clone()).or_insert(m.minor);
            }
        }
        for m in group.iter().rev().skip(1) {
            let r = &self.files[m.file].root;
            let known: Vec<String> = fields.iter().map(|f| f.wire.clone()).collect();
            // The rules of an older minor are its own; the newest's hold.
            let (older, _) = self.fields(m.file, "", r, &name, &known, &[]);
            for f in older {
                if !fields.iter().any(|x| x.wire == f.wire) {
                    let mut f = f;
                    f.default_value = None;
                    f.required = false;
                    f.ty = f.ty.option();
                    fields.push(f);
                }
            }
        }
        for f in &mut fields {
            if let Some(&minor) = since.get(&f.wire) {
                if minor > first_minor {
                    f.since = Some(format!("{}.{minor}", newest.major));
                    f.default_value = None;
                    f.required = false;
                    f.ty = std::mem::replace(&mut f.ty, Ty::Value).option();
                }
            }
        }
        // The contract's key and partition fields.
        if let Some((key, span)) = &newest.partition_key {
            match fields.iter_mut().find(|f| &f.wire == key) {
                Some(f) if f.ty.is_option() => {
                    let (key, span) = (key.clone(), span.clone());
                    self.report(
                        Severity::Error,
                        "partition-key",
                        file,
                        "/x-event/partitionKey",
                        span,
                        format!("partition key `{key}` is optional; every event must carry it"),
                        Some("list it in `required`"),
                    );
                }
                Some(f) => f.partition = true,
                None => {
                    let (key, span) = (key.clone(), span.clone());
                    self.report(
                        Severity::Error,
                        "partition-key",
                        file,
                        "/x-event/partitionKey",
                        span,
                        format!("partition key `{key}` is not a property of the payload"),
                        None,
                    );
                }
            }
        }
        for (i, (key, span)) in newest.idempotency_key.iter().enumerate() {
            match fields.iter_mut().find(|f| &f.wire == key) {
                Some(f) => f.key = true,
                None => {
                    let (key, span) = (key.clone(), span.clone());
                    self.report(
                        Severity::Error,
                        "idempotency-key",
                        file,
                        &format!("/x-event/idempotencyKey/{i}"),
                        span,
                        format!("idempotency key field `{key}` is not a property of the payload"),
                        None,
                    );
                }
            }
        }
        self.events.push(EventSummary {
            type_name: newest.type_name.clone(),
            major: newest.major,
            minors: group.iter().map(|m| m.minor).collect(),
            rust_name: name.clone(),
            files: group
                .iter()
                .map(|m| self.files[m.file].path.clone())
                .collect(),
        });
        self.items.push(Item::Struct(Struct {
            name,
            doc,
            event: Some(EventAttrs {
                type_name: newest.type_name.clone(),
                version: format!("{}.{}", newest.major, newest.minor),
                producer: newest.producer.clone(),
                delivery: newest.delivery.clone(),
                ordering: newest.ordering.clone(),
                consumers: newest.consumers.clone(),
                expected_every: newest.expected_every.clone(),
            }),
            fields,
            check,
        }));
    }

    /// Claims a type name; `prefix` is tried before a number when the
    /// name is taken.
    fn claim(&mut self, base: &str, prefix: Option<&str>) -> String {
        let base = naming::avoid_reserved(base);
        let mut candidate = base.clone();
        if self.used.contains(&candidate) {
            if let Some(prefix) = prefix {
                candidate = format!("{prefix}{base}");
            }
        }
        let mut n = 2;
        while self.used.contains(&candidate) {
            candidate = format!("{base}{n}");
            n += 1;
        }
        self.used.insert(candidate.clone());
        candidate
    }

    /// The name of the item for the schema at (file, pointer), claimed and
    /// queued the first time.
    fn named(&mut self, file: usize, pointer: &str) -> String {
        self.named_as(file, pointer, None, None)
    }

    fn named_as(
        &mut self,
        file: usize,
        pointer: &str,
        hint: Option<&str>,
        skip: Option<String>,
    ) -> String {
        let key = (file, pointer.to_string());
        if skip.is_none() {
            if let Some(name) = self.names.get(&key) {
                return name.clone();
            }
        }
        let node = self.files[file].root.pointer(pointer);
        let base = match hint {
            Some(h) => h.to_string(),
            None => {
                let last = pointer.rsplit('/').next().unwrap_or_default();
                let title = node.and_then(|n| n.get("title")).and_then(Node::as_str);
                if pointer.is_empty() {
                    title.and_then(naming::title_ident).unwrap_or_else(|| {
                        let stem = self.files[file]
                            .path
                            .file_stem()
                            .map(|s| s.to_string_lossy().into_owned())
                            .unwrap_or_default();
                        // A file named by a version (`3.0.0.json`) names
                        // nothing either: then even a long title does.
                        match title {
                            Some(title) if !stem.starts_with(char::is_alphabetic) => {
                                naming::type_ident(title)
                            }
                            _ => naming::type_ident(&stem),
                        }
                    })
                } else {
                    naming::type_ident(key_stem(&last.replace("~1", "/").replace("~0", "~")))
                }
            }
        };
        let prefix = self.owner.get(&file).cloned();
        let name = self.claim(&base, prefix.as_deref());
        if skip.is_none() {
            self.names.insert(key, name.clone());
        }
        self.pending.push(Pending {
            file,
            pointer: pointer.to_string(),
            name: name.clone(),
            skip,
            parts: Vec::new(),
        });
        name
    }

    fn lower_named(&mut self, p: Pending) {
        let Some(node) = self.files[p.file].root.pointer(&p.pointer) else {
            return;
        };
        let doc = doc_of(node);
        let root = p.pointer.is_empty();
        if node.kind == Kind::Bool(false) {
            // A file that is the schema `false`, or a definition named
            // through a `$ref`: no value matches it.
            self.report(
                Severity::Warning,
                "accepts-nothing",
                p.file,
                &p.pointer,
                node.span.clone(),
                format!("the schema `false` accepts no value: the type `{}` never decodes", p.name),
                Some("remove the schema and the `$ref`s to it, or give it a schema that accepts a value"),
            );
            self.items.push(Item::Newtype(Newtype {
                name: p.name,
                doc,
                ty: Ty::Value,
                constraints: Vec::new(),
                types: Vec::new(),
                values: vec!["[]".to_string()],
                check: None,
            }));
            return;
        }
        if node.kind == Kind::Bool(true) {
            // A file or definition that is the schema `true`: any value,
            // read and written back unchanged, as a `true` alternative is.
            self.items.push(Item::Newtype(Newtype {
                name: p.name,
                doc,
                ty: Ty::Value,
                constraints: Vec::new(),
                types: Vec::new(),
                values: Vec::new(),
                check: None,
            }));
            return;
        }
        if !p.parts.is_empty() {
            // The intersection of object schemas at a property: one struct
            // of every part's properties, each narrowed by the others.
            let (fields, check) = self.fields(p.file, &p.pointer, node, &p.name, &[], &p.parts);
            self.items.push(Item::Struct(Struct {
                name: p.name,
                doc,
                event: None,
                fields,
                check,
            }));
        } else if node.get("$ref").is_some() {
            // A root `$ref`: the referenced type itself when it would take
            // the file's name (`{"$ref": "#/$defs/Money", ...}` in
            // `money.json` is `Money`, not `Money2` and an alias), else
            // another name for it, or a newtype of a referenced plain value.
            let (f, tp, target) = self.deref(p.file, &p.pointer, node);
            let natural = target
                .get("title")
                .and_then(Node::as_str)
                .and_then(naming::title_ident)
                .unwrap_or_else(|| {
                    let last = tp.rsplit('/').next().unwrap_or_default();
                    naming::type_ident(&last.replace("~1", "/").replace("~0", "~"))
                });
            if target.get("$ref").is_none()
                && Self::is_item(target)
                && !tp.is_empty()
                && naming::avoid_reserved(&natural) == p.name
                && !self.names.contains_key(&(f, tp.clone()))
            {
                self.check_keywords(p.file, &p.pointer, node);
                self.names.insert((f, tp.clone()), p.name.clone());
                self.pending.push(Pending {
                    file: f,
                    pointer: tp,
                    name: p.name,
                    skip: None,
                    parts: Vec::new(),
                });
                return;
            }
            let lowered = self.ty_of(p.file, &p.pointer, node, &p.name);
            let mut rules = Builder::new_root();
            if let Some(sub) = self.residue(&mut rules, p.file, &p.pointer, node, &lowered.ty, 0) {
                rules.root().keywords.push(Keyword::AllOf(vec![sub]));
            }
            let check = rules.finish();
            let ty = if lowered.nullable {
                lowered.ty.option()
            } else {
                lowered.ty
            };
            if matches!(ty, Ty::Named(_)) && lowered.constraints.is_empty() && check.is_none() {
                self.items.push(Item::Alias(Alias {
                    name: p.name,
                    doc,
                    ty,
                }));
            } else {
                self.items.push(Item::Newtype(Newtype {
                    name: p.name,
                    doc,
                    ty,
                    constraints: lowered.constraints,
                    types: Vec::new(),
                    values: Vec::new(),
                    check,
                }));
            }
        } else if let Some(alts) = node.get("oneOf").or_else(|| node.get("anyOf")) {
            self.union(p.file, &p.pointer, node, alts, p.name, doc);
        } else if node
            .get("enum")
            .is_some_and(|values| Self::is_open_enum(values, root))
        {
            self.open_enum(p.file, &p.pointer, node, p.name, doc);
        } else if node.get("enum").is_some()
            || node.get("const").is_some()
            || !self.is_struct(p.file, &p.pointer, node)
        {
            self.newtype(p.file, &p.pointer, node, p.name, doc);
        } else {
            let skip: Vec<String> = p.skip.into_iter().collect();
            let (fields, check) = self.fields(p.file, &p.pointer, node, &p.name, &skip, &[]);
            self.items.push(Item::Struct(Struct {
                name: p.name,
                doc,
                event: None,
                fields,
                check,
            }));
        }
    }

    fn open_enum(
        &mut self,
        file: usize,
        pointer: &str,
        node: &'a Node,
        name: String,
        doc: Option<String>,
    ) {
        let mut variants: Vec<(String, String)> = Vec::new();
        let values = node
            .get("enum")
            .and_then(Node::as_array)
            .unwrap_or_default();
        for value in values {
            if let Some(s) = value.as_str() {
                if variants.iter().any(|(_, w)| w == s) {
                    continue;
                }
                let mut ident = naming::variant_ident(s);
                if ident == "Other" {
                    ident = "OtherValue".to_string();
                }
                let base = ident.clone();
                let mut n = 2;
                while variants.iter().any(|(v, _)| *v == ident) {
                    ident = format!("{base}{n}");
                    n += 1;
                }
                variants.push((ident, s.to_string()));
            }
        }
        let _ = (file, pointer);
        self.items.push(Item::Enum(OpenEnum {
            name,
            doc,
            variants,
            other: "Other".to_string(),
        }));
    }

    /// A named schema that is not an object, an open enum or a union: a
    /// newtype. One JSON type (and maybe `null`) without `enum`/`const`
    /// holds its Rust type with the constraints a field of that type
    /// would carry; anything else (no `type`, several types, `enum` or
    /// `const` of any values) holds a `Value`, checked against the types,
    /// the values and the constraints of each type, as JSON Schema reads
    /// them. A keyword that neither form can check is an error.
    fn newtype(
        &mut self,
        file: usize,
        pointer: &str,
        node: &'a Node,
        name: String,
        doc: Option<String>,
    ) {
        let types = type_names(node);
        let kinds: Vec<&str> = types.iter().copied().filter(|t| *t != "null").collect();
        let values = node.get("enum").is_some() || node.get("const").is_some();
        // As for a property: `items` without `type` is an array, an
        // `additionalProperties` schema a map.
        let inferred = kinds.is_empty()
            && (node.get("items").is_some()
                || node
                    .get("additionalProperties")
                    .is_some_and(|ap| matches!(ap.kind, Kind::Object(_))));
        if (kinds.len() == 1 || inferred)
            && !values
            && node.get("allOf").is_none()
            && matches!(node.kind, Kind::Object(_))
        {
            let lowered = self.ty_of(file, pointer, node, &name);
            let mut rules = Builder::new_root();
            if let Some(sub) = self.residue(&mut rules, file, pointer, node, &lowered.ty, 0) {
                rules.root().keywords.push(Keyword::AllOf(vec![sub]));
            }
            let ty = if lowered.nullable {
                lowered.ty.option()
            } else {
                lowered.ty
            };
            self.items.push(Item::Newtype(Newtype {
                name,
                doc,
                ty,
                constraints: lowered.constraints,
                types: Vec::new(),
                values: Vec::new(),
                check: rules.finish(),
            }));
            return;
        }
        let mut acc = ValueChecks::default();
        let mut seen = Vec::new();
        self.value_checks(file, pointer, node, &mut acc, &mut seen);
        // What the types, values and scalar constraints do not say: the
        // schemas of the parts, `not`, tuples, ... (`keywords`).
        let mut rules = Builder::new_root();
        self.value_rules(&mut rules, file, pointer, node, &mut Vec::new());
        self.items.push(Item::Newtype(Newtype {
            name,
            doc,
            ty: Ty::Value,
            constraints: acc.constraints,
            types: acc.types.unwrap_or_default(),
            values: acc.values,
            check: rules.finish(),
        }));
    }

    /// The checks of a `Value` newtype for `node`, added to `acc`: its
    /// types, values and constraints, and those of each `allOf` part, all
    /// of which must hold (the types allowed are the intersection).
    fn value_checks(
        &mut self,
        file: usize,
        pointer: &str,
        node: &'a Node,
        acc: &mut ValueChecks,
        seen: &mut Vec<(usize, String)>,
    ) {
        match node.kind {
            Kind::Bool(true) => return,
            Kind::Bool(false) => {
                self.report(
                    Severity::Warning,
                    "accepts-nothing",
                    file,
                    pointer,
                    node.span.clone(),
                    "the schema `false` accepts no value: the type never decodes",
                    Some("remove it, or the schema it is part of"),
                );
                acc.values.push("[]".to_string());
                return;
            }
            Kind::Object(_) => {}
            _ => {
                self.not_a_schema(file, pointer, node);
                return;
            }
        }
        if seen.contains(&(file, pointer.to_string())) || seen.len() > 64 {
            self.report(
                Severity::Error,
                "ref-cycle",
                file,
                pointer,
                node.span.clone(),
                "this `allOf` refers back to a schema that contains it, so it never reaches a type",
                Some("an `allOf` part must be another schema; remove the part that refers back"),
            );
            return;
        }
        seen.push((file, pointer.to_string()));
        if let Some(r) = node.get("$ref") {
            self.check_keywords(file, pointer, node);
            if let Some((f, p, target)) = self.resolve(file, pointer, r) {
                self.value_checks(f, &p, target, acc, seen);
            }
            seen.pop();
            return;
        }
        if let Some(parts) = node.get("allOf") {
            match parts.as_array() {
                Some(parts) => {
                    for (i, part) in parts.iter().enumerate() {
                        self.value_checks(file, &format!("{pointer}/allOf/{i}"), part, acc, seen);
                    }
                }
                None => self.report(
                    Severity::Error,
                    "bad-keyword",
                    file,
                    &format!("{pointer}/allOf"),
                    parts.span.clone(),
                    format!(
                        "`allOf` must be an array of schemas, found {}",
                        parts.describe()
                    ),
                    None,
                ),
            }
        }
        // A `oneOf` or `anyOf` of a part is a rule of the newtype
        // (`value_rules`), its alternatives checked whole.
        self.check_keywords(file, pointer, node);
        let mut allowed: Vec<String> = Vec::new();
        if let Some(t) = node.get("type") {
            const TYPES: &[&str] = &[
                "string", "integer", "number", "boolean", "object", "array", "null",
            ];
            let listed: Vec<&Node> = match &t.kind {
                Kind::Array(v) => v.iter().collect(),
                _ => vec![t],
            };
            for x in listed {
                match x.as_str() {
                    Some(k) if TYPES.contains(&k) => allowed.push(k.to_string()),
                    _ => self.report(
                        Severity::Error,
                        "bad-type",
                        file,
                        &format!("{pointer}/type"),
                        x.span.clone(),
                        match x.as_str() {
                            Some(b) => format!("unknown type `{b}`"),
                            None => "`type` must be a string or an array of strings".to_string(),
                        },
                        Some("one of `string`, `integer`, `number`, `boolean`, `object`, `array`, `null`"),
                    ),
                }
            }
        }
        if node.get("type").is_some() {
            let type_span = node
                .get("type")
                .map(|t| t.span.clone())
                .unwrap_or(node.span.clone());
            acc.types = Some(match acc.types.take() {
                None => allowed.clone(),
                Some(before) => {
                    // `integer` is a `number`: their intersection is `integer`.
                    let both: Vec<String> = before
                        .iter()
                        .filter(|t| {
                            allowed.contains(t)
                                || (t.as_str() == "integer"
                                    && allowed.iter().any(|a| a == "number"))
                        })
                        .cloned()
                        .chain(
                            allowed
                                .iter()
                                .filter(|a| {
                                    a.as_str() == "integer"
                                        && before.iter().any(|b| b == "number")
                                        && !before.iter().any(|b| b == "integer")
                                })
                                .cloned(),
                        )
                        .collect();
                    if both.is_empty() {
                        self.report(
                            Severity::Error,
                            "allof-conflict",
                            file,
                            &format!("{pointer}/type"),
                            type_span,
                            format!(
                                "`allOf` parts disagree on the type: {} here, {} at `{}`{}; no value is both",
                                allowed.join(", "),
                                before.join(", "),
                                acc.types_at.as_ref().map_or(String::new(), |(_, p)| p.clone()),
                                acc.types_at
                                    .as_ref()
                                    .filter(|(f, _)| *f != file)
                                    .map_or(String::new(), |(f, _)| format!(
                                        " in `{}`",
                                        self.files[*f].path.display()
                                    )),
                            ),
                            Some("remove one of the parts, or make their types agree"),
                        );
                    }
                    both
                }
            });
            acc.types_at = Some((file, format!("{pointer}/type")));
        }
        let (mut listed_values, constant) = self.listed_values(file, pointer, node);
        if let (Some(c), Some(one)) = (node.get("const"), constant) {
            // With both, a value must be in the enum and be the const.
            listed_values = match listed_values {
                Some(_)
                    if !node
                        .get("enum")
                        .and_then(Node::as_array)
                        .is_some_and(|v| v.iter().any(|x| x.to_value() == c.to_value())) =>
                {
                    self.report(
                        Severity::Error,
                        "empty-range",
                        file,
                        &format!("{pointer}/const"),
                        c.span.clone(),
                        "the `const` is not one of the `enum` values, so no value is valid",
                        Some("remove one of the two"),
                    );
                    Some(one)
                }
                _ => Some(one),
            };
        }
        let mut constraints = Vec::new();
        // String keywords.
        self.counts(file, pointer, node, LENGTH_BOUNDS, &mut constraints);
        constraints.extend(self.pattern(file, pointer, node));
        if let Some(fmt) = node.get("format") {
            match fmt.as_str() {
                Some(f) if FORMATS.contains(&f) => {
                    constraints.push(Constraint::Format(f.to_string()))
                }
                Some(other) if !self.owner.contains_key(&file) => {
                    if !self.vocabulary.formats.contains(other) {
                        let other = other.to_string();
                        self.report(
                            Severity::Warning,
                            "unknown-format",
                            file,
                            &format!("{pointer}/format"),
                            fmt.span.clone(),
                            format!("format `{other}` is not checked: it is an annotation"),
                            Some(&format!("silence this with `--allow-format {other}` (`Config::allow_format`); checked formats: {}", FORMATS.join(", "))),
                        );
                    }
                }
                _ => self.report(
                    Severity::Error,
                    "bad-keyword",
                    file,
                    &format!("{pointer}/format"),
                    fmt.span.clone(),
                    format!(
                        "`format` must be one of {}, found {}",
                        FORMATS.join(", "),
                        fmt.to_value()
                    ),
                    None,
                ),
            }
        }
        // Number keywords.
        for (key, bound) in [
            ("minimum", Constraint::Minimum as fn(Num) -> Constraint),
            ("maximum", Constraint::Maximum),
            ("exclusiveMinimum", Constraint::ExclusiveMinimum),
            ("exclusiveMaximum", Constraint::ExclusiveMaximum),
        ] {
            if let Some(v) = node.get(key) {
                match v.as_number().and_then(serde_json::Number::as_f64) {
                    Some(n) => constraints.push(bound(Num::Float(n))),
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
        // Array keywords.
        self.counts(file, pointer, node, ITEM_BOUNDS, &mut constraints);
        // The schemas of the parts (`items`, `properties`, ...) are checked
        // by the newtype's rules (`keywords::value_rules`).
        let _ = &allowed;
        acc.constraints.extend(constraints);
        acc.values.extend(listed_values);
        seen.pop();
    }

    fn union(
        &mut self,
        file: usize,
        pointer: &str,
        node: &'a Node,
        alts: &'a Node,
        name: String,
        doc: Option<String>,
    ) {
        let key = if node.get("oneOf").is_some() {
            "oneOf"
        } else {
            "anyOf"
        };
        let Some(alts) = alts.as_array() else {
            return;
        };
        // Resolve each alternative, leaving out `{"type": "null"}` (the
        // union's `null`) and the schema `false`, which matches nothing and
        // so changes neither `oneOf` nor `anyOf`. The schema `true` matches
        // everything: a `Value` variant.
        let mut resolved = Vec::new();
        let mut null = false;
        for (i, alt) in alts.iter().enumerate() {
            let alt_ptr = format!("{pointer}/{key}/{i}");
            if is_null_schema(alt) {
                null = true;
                continue;
            }
            if alt.kind == Kind::Bool(false) {
                continue;
            }
            let (f, p, n) = self.deref(file, &alt_ptr, alt);
            resolved.push((alt_ptr, alt, f, p, n));
        }
        if resolved.is_empty() && !null {
            // Every alternative is `false`: no value matches one.
            self.report(
                Severity::Warning,
                "accepts-nothing",
                file,
                &format!("{pointer}/{key}"),
                node.get(key).map_or_else(|| node.span.clone(), |n| n.span.clone()),
                format!("every alternative of `{key}` is `false`, so no value matches: the type never decodes"),
                Some("remove the schema, or give it an alternative that accepts a value"),
            );
            self.items.push(Item::Newtype(Newtype {
                name,
                doc,
                ty: Ty::Value,
                constraints: Vec::new(),
                types: Vec::new(),
                values: vec!["[]".to_string()],
                check: None,
            }));
            return;
        }
        if resolved.is_empty() {
            // Only `null`: an enum without variants could hold nothing, so
            // the type is a value that must be `null`.
            self.items.push(Item::Newtype(Newtype {
                name,
                doc,
                ty: Ty::Value,
                constraints: Vec::new(),
                types: vec!["null".to_string()],
                values: Vec::new(),
                check: None,
            }));
            return;
        }
        // A tagged union: every alternative an object with one common
        // property holding a string `const`, a different one in each (two
        // alternatives of the same tag value are told apart by their other
        // members, which only the untagged reading looks at).
        let consts: Vec<Vec<(String, String)>> = resolved
            .iter()
            .map(|(_, _, f, p, n)| {
                self.collect_shape(*f, p, n)
                    .props
                    .iter()
                    .filter_map(|q| {
                        Some((q.wire.clone(), q.node.get("const")?.as_str()?.to_string()))
                    })
                    .collect()
            })
            .collect();
        let tag = consts.first().and_then(|first| {
            first.iter().map(|(wire, _)| wire.clone()).find(|wire| {
                let mut values = HashSet::new();
                consts.iter().all(|c| {
                    c.iter()
                        .find(|(w, _)| w == wire)
                        .is_some_and(|(_, v)| values.insert(v.as_str()))
                })
            })
        });
        let mut variants: Vec<(String, Option<String>, Ty)> = Vec::new();
        let mut checks: Vec<Vec<Constraint>> = Vec::new();
        for (i, (alt_ptr, alt, f, p, n)) in resolved.into_iter().enumerate() {
            let mut check = Vec::new();
            let (ident, wire, ty) = match &tag {
                Some(tag) => {
                    let value = consts[i]
                        .iter()
                        .find(|(w, _)| w == tag)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default();
                    let ident = naming::variant_ident(&value);
                    let item =
                        self.named_as(f, &p, Some(&format!("{name}{ident}")), Some(tag.clone()));
                    (ident, Some(value), Ty::Named(item))
                }
                None => {
                    let base = alt
                        .get("$ref")
                        .and_then(Node::as_str)
                        .map(|r| {
                            r.rsplit(['/', '#'])
                                .next()
                                .unwrap_or(r)
                                .trim_end_matches(".json")
                                .to_string()
                        })
                        .or_else(|| {
                            n.get("title")
                                .and_then(Node::as_str)
                                .filter(|t| naming::title_ident(t).is_some())
                                .map(str::to_string)
                        })
                        .map(|s| naming::variant_ident(&s));
                    let hint = base.clone().unwrap_or_else(|| format!("Variant{}", i + 1));
                    let lowered = self.ty_of(file, &alt_ptr, alt, &format!("{name}{hint}"));
                    let base = base.unwrap_or_else(|| variant_for(&lowered.ty));
                    if self.has_residue(file, &alt_ptr, alt, &lowered.ty) {
                        // Keywords without a typed form (`uniqueItems`,
                        // `propertyNames`, ...): the alternative becomes a
                        // type of its own, whose decode runs them, so the
                        // union reads the variant only when they hold.
                        let item =
                            self.named_as(file, &alt_ptr, Some(&format!("{name}{hint}")), None);
                        (base, None, Ty::Named(item))
                    } else {
                        // Checked as a struct field's are: when the variant
                        // is read (so `oneOf` counts only the variants
                        // whose constraints hold) and by `validate`.
                        check = lowered.constraints;
                        (base, None, lowered.ty)
                    }
                }
            };
            let mut ident = ident;
            let base = ident.clone();
            let mut k = 2;
            while variants.iter().any(|(v, _, _)| *v == ident) {
                ident = format!("{base}{k}");
                k += 1;
            }
            variants.push((ident, wire, ty));
            checks.push(check);
        }
        self.items.push(Item::Union(Union {
            name,
            doc,
            tag,
            variants,
            exclusive: key == "oneOf",
            checks,
        }));
    }

    /// Follows `$ref`s to the schema that defines a type (file, pointer,
    /// node); reports bad or cyclic references and stops at them.
    fn deref(&mut self, file: usize, pointer: &str, node: &'a Node) -> (usize, String, &'a Node) {
        let (mut f, mut p, mut n) = (file, pointer.to_string(), node);
        let mut seen: Vec<(usize, String)> = Vec::new();
        while let Some(r) = n.get("$ref") {
            if seen.contains(&(f, p.clone())) {
                break;
            }
            seen.push((f, p.clone()));
            match self.resolve(f, &p, r) {
                Some((f2, p2, n2)) => {
                    if seen.contains(&(f2, p2.clone())) {
                        break;
                    }
                    (f, p, n) = (f2, p2, n2);
                }
                None => break,
            }
        }
        (f, p, n)
    }

    /// Resolves the `$ref` value `r` found in `file` at `pointer`, by the
    /// rules of `docs/schema-format.md` ("How `$ref` is resolved"):
    ///
    /// 1. against the base URI in force (the nearest `$id`, else where
    ///    the file lies under the root), looked up among the `$id`s and
    ///    the files of the catalog;
    /// 2. failing that, the reference as written, from the schema root,
    ///    looked up among the `$id`s as written (how ajv-style catalogs
    ///    refer to each other);
    /// 3. failing that, the reference against where the file lies under
    ///    the root (a file whose `$id` names another place);
    /// 4. failing that, an error naming each target tried.
    fn resolve(
        &mut self,
        file: usize,
        pointer: &str,
        r: &'a Node,
    ) -> Option<(usize, String, &'a Node)> {
        let at = format!("{pointer}/$ref");
        let Some(text) = r.as_str() else {
            self.report(
                Severity::Error,
                "bad-ref",
                file,
                &at,
                r.span.clone(),
                format!("`$ref` must be a string, found {}", r.describe()),
                None,
            );
            return None;
        };
        let (path_part, fragment) = text.split_once('#').unwrap_or((text, ""));
        let base = self.registry.base_at(file, pointer).to_string();
        let resource = if path_part.is_empty() {
            self.registry.resources.get(&base).cloned()
        } else {
            let Some(by_spec) = uri::join(&base, path_part) else {
                self.report(
                    Severity::Error,
                    "ref-outside-root",
                    file,
                    &at,
                    r.span.clone(),
                    format!("`$ref` to `{text}` leaves the schema root"),
                    Some("only files under the schema root may be referenced"),
                );
                return None;
            };
            let by_id = uri::join(uri::ROOT, path_part);
            // Rule 3: against the file's own place under the root, for a
            // file whose `$id` names another place than where it lies
            // (CycloneDX's `bom-1.6.SNAPSHOT.schema.json`, `$id`
            // `.../bom-1.6.schema.json`, refers to the file beside it).
            let own = format!(
                "{}{}",
                uri::ROOT,
                self.files[file].path.to_string_lossy().replace('\\', "/")
            );
            let by_file = uri::join(&own, path_part).filter(|u| *u != by_spec);
            let found = self
                .registry
                .resources
                .get(&by_spec)
                .cloned()
                .or_else(|| {
                    by_id
                        .as_ref()
                        .and_then(|u| self.registry.as_written.get(u).cloned())
                })
                .or_else(|| {
                    by_file
                        .as_ref()
                        .and_then(|u| self.registry.resources.get(u).cloned())
                });
            match found {
                Some(t) => Some(t),
                None if !by_spec.starts_with(uri::ROOT) => {
                    self.report(Severity::Error, "remote-ref",
                        file,
                        &at,
                        r.span.clone(),
                        format!("`$ref` to `{text}` is not a file under the schema root nor an `$id` of the catalog; remote references are not fetched"),
                        Some("copy the schema into the catalog and refer to it by a relative path"),
                    );
                    return None;
                }
                None => {
                    let local = &by_spec[uri::ROOT.len()..];
                    if self.symlinks.contains(Path::new(local)) {
                        self.report(
                            Severity::Error,
                            "ref-not-found",
                            file,
                            &at,
                            r.span.clone(),
                            format!("`$ref` to `{text}`: `{local}` is a symbolic link, and symbolic links are not followed"),
                            Some("copy the file into the schema root, or point the `$ref` at the file itself"),
                        );
                        return None;
                    }
                    let mut tried = format!(
                        "`$ref` to `{text}`: no such schema file or `$id`; tried `{}` (from the base `{}`)",
                        uri::show(&by_spec),
                        uri::show(&base)
                    );
                    if let Some(u) = by_id.as_ref().filter(|u| **u != by_spec) {
                        tried.push_str(&format!(
                            " and `{}` (an `$id` as written, from the schema root)",
                            uri::show(u)
                        ));
                    }
                    if let Some(u) = by_file.filter(|u| Some(u) != by_id.as_ref()) {
                        tried.push_str(&format!(
                            " and `{}` (from the file's place under the root)",
                            uri::show(&u)
                        ));
                    }
                    self.report(
                        Severity::Error,
                        "ref-not-found",
                        file,
                        &at,
                        r.span.clone(),
                        tried,
                        None,
                    );
                    return None;
                }
            }
        };
        let Some((target, res_ptr)) = resource else {
            self.report(
                Severity::Error,
                "ref-not-found",
                file,
                &at,
                r.span.clone(),
                format!("`$ref` to `{text}` points at nothing"),
                None,
            );
            return None;
        };
        let full = if fragment.is_empty() || fragment.starts_with('/') {
            format!("{res_ptr}{}", percent_decode(fragment))
        } else {
            let name = percent_decode(fragment);
            match self.registry.anchors.get(&(target, res_ptr.clone(), name)) {
                Some(p) => p.clone(),
                None => {
                    self.report(
                        Severity::Error,
                        "ref-not-found",
                        file,
                        &at,
                        r.span.clone(),
                        format!(
                            "`$ref` to `{text}`: no `$anchor` named `{fragment}` in `{}`",
                            self.files[target].path.display()
                        ),
                        Some("declare it with `\"$anchor\"`, or use a JSON pointer such as `#/$defs/Name`"),
                    );
                    return None;
                }
            }
        };
        match self.files[target].root.pointer(&full) {
            Some(node) => {
                if full.is_empty() && target != file && self.owner.contains_key(&target) {
                    self.report(
                        Severity::Error,
                        "bad-ref",
                        file,
                        &at,
                        r.span.clone(),
                        format!("`$ref` to the event schema `{text}`"),
                        Some("move what both events share into a shared definition file"),
                    );
                    return None;
                }
                Some((target, full, node))
            }
            None => {
                self.report(
                    Severity::Error,
                    "ref-not-found",
                    file,
                    &at,
                    r.span.clone(),
                    format!("`$ref` to `{text}` points at nothing"),
                    None,
                );
                None
            }
        }
    }

    /// Whether the schema becomes an item of its own: an object, a union,
    /// an `enum` (of strings: an open enum; of other values: a newtype that
    /// accepts exactly them) or a `const` that is not a string or a number
    /// (those are field constraints).
    fn is_item(node: &Node) -> bool {
        let object = !typed_other_than_object(node);
        node.get("oneOf").is_some()
            || node.get("anyOf").is_some()
            || node.get("allOf").is_some()
            || (object && node.get("properties").is_some())
            // `{"required": ["a"]}`: an object, as `properties` makes one.
            || (object
                && node
                    .get("required")
                    .and_then(Node::as_array)
                    .is_some_and(|r| !r.is_empty()))
            || node.get("enum").is_some()
            || node
                .get("const")
                .is_some_and(|c| !matches!(c.kind, Kind::String(_) | Kind::Number(_)))
    }

    /// Whether the item made for `node` (see [`Self::is_item`]) leaves
    /// `null` to the field that holds it: its `type` lists `null`, its
    /// `enum` holds `null`, or an alternative of its union allows `null`
    /// (`null` is read by the field's `Option` before the union sees it),
    /// directly or through a `$ref`.
    fn item_nullable(&mut self, file: usize, pointer: &str, node: &'a Node, depth: usize) -> bool {
        if type_names(node).contains(&"null")
            || node
                .get("enum")
                .and_then(Node::as_array)
                .is_some_and(|v| v.iter().any(|x| x.kind == Kind::Null))
        {
            return true;
        }
        let key = if node.get("oneOf").is_some() {
            "oneOf"
        } else {
            "anyOf"
        };
        let Some(alts) = node.get(key).and_then(Node::as_array) else {
            return false;
        };
        for (i, alt) in alts.iter().enumerate() {
            if is_null_schema(alt) || type_names(alt).contains(&"null") {
                return true;
            }
            if alt.get("$ref").is_some() && depth < 16 {
                let at = format!("{pointer}/{key}/{i}");
                let (f, p, target) = self.deref(file, &at, alt);
                if target.get("$ref").is_none()
                    && (is_null_schema(target) || self.item_nullable(f, &p, target, depth + 1))
                {
                    return true;
                }
            }
        }
        false
    }

    /// Whether a named schema becomes a struct: it has properties, it is
    /// an `allOf` with a part that is an object (after `$ref`s), or it is
    /// an object that is not a map.
    fn is_struct(&mut self, file: usize, pointer: &str, node: &'a Node) -> bool {
        let mut seen = Vec::new();
        self.object_like(file, pointer, node, &mut seen, true)
    }

    fn object_like(
        &mut self,
        file: usize,
        pointer: &str,
        node: &'a Node,
        seen: &mut Vec<(usize, String)>,
        top: bool,
    ) -> bool {
        if seen.contains(&(file, pointer.to_string())) || seen.len() > 64 {
            // A cycle: reported where the struct is shaped.
            return true;
        }
        seen.push((file, pointer.to_string()));
        let types = type_names(node);
        let ap = node.get("additionalProperties");
        // `properties` beside another single `type` (`"type": "array"`)
        // does not make an object: JSON Schema ignores it there, and the
        // lowering of that type reports it (`misplaced-keyword`).
        let other = typed_other_than_object(node);
        let mut object = ((node.get("properties").is_some() || node.get("required").is_some())
            && !other)
            || (types == ["object"] && !ap.is_some_and(|ap| matches!(ap.kind, Kind::Object(_))))
            || (types.is_empty() && ap.is_some_and(|ap| ap.kind == Kind::Bool(false)));
        if !top {
            // Inside an `allOf`, any object keyword makes the whole an object.
            object |= ap.is_some() || types.contains(&"object");
        }
        if top && other {
            // `"type": "array"` (or another type) says what the value is:
            // object keywords in its `allOf` parts or its `$ref` have no
            // effect on it either (a union's beside-keywords put
            // `properties` into each alternative's `allOf`, GitLab CI).
            seen.pop();
            return false;
        }
        if !object {
            if let Some(r) = node.get("$ref") {
                object = match self.resolve(file, pointer, r) {
                    Some((f, p, target)) => self.object_like(f, &p, target, seen, false),
                    // Reported again, and once, where it is lowered.
                    None => true,
                };
            }
        }
        if !object {
            if let Some(parts) = node.get("allOf").and_then(Node::as_array) {
                for (i, part) in parts.iter().enumerate() {
                    if matches!(part.kind, Kind::Object(_))
                        && self.object_like(
                            file,
                            &format!("{pointer}/allOf/{i}"),
                            part,
                            seen,
                            false,
                        )
                    {
                        object = true;
                        break;
                    }
                }
            }
        }
        seen.pop();
        object
    }

    /// Whether an `enum` becomes an open enum: its values are strings (and,
    /// where the use site makes the field an `Option`, `null`).
    fn is_open_enum(values: &Node, root: bool) -> bool {
        let Some(values) = values.as_array() else {
            return false;
        };
        values.iter().any(|v| v.as_str().is_some())
            && values
                .iter()
                .all(|v| v.as_str().is_some() || (!root && v.kind == Kind::Null))
    }

    /// Checks the keywords of a schema object.
    fn check_keywords(&mut self, file: usize, pointer: &str, node: &'a Node) {
        let has_ref = node.get("$ref").is_some();
        for m in node.members() {
            let k = m.key.as_str();
            let at = format!("{pointer}/{}", escape_token(k));
            if k == "x-event" && pointer.is_empty() {
                continue;
            }
            if has_ref
                && !REF_SIBLINGS.contains(&k)
                && !ANNOTATIONS.contains(&k)
                && !k.starts_with("x-")
            {
                self.report(
                    Severity::Error,
                    "ref-sibling",
                    file,
                    &at,
                    m.key_span.clone(),
                    format!("`{k}` next to `$ref` is not merged into the referenced schema"),
                    Some("combine the two with `allOf: [{ \"$ref\": ... }, { ... }]`"),
                );
                continue;
            }
            if SUPPORTED.contains(&k)
                || ANNOTATIONS.contains(&k)
                || keywords::UNTYPED.contains(&k)
                || k.starts_with("x-")
            {
                continue;
            }
            if k == "unevaluatedProperties" {
                match m.value.kind {
                    // Every member is allowed: nothing to enforce.
                    Kind::Bool(true) => {}
                    // Applied by the struct the schema becomes (`fields`);
                    // reported at the end of the run otherwise.
                    Kind::Bool(false) => {
                        if !self.unevaluated.iter().any(|(f, p, _)| *f == file && *p == at) {
                            self.unevaluated.push((file, at, m.key_span.clone()));
                        }
                    }
                    _ => self.report(
                        Severity::Error,
                        "unsupported-keyword",
                        file,
                        &at,
                        m.key_span.clone(),
                        "`unevaluatedProperties` with a schema is not supported: only `false` (and `true`) on an object whose properties are known",
                        Some("use `additionalProperties` with the schema, listing every property in `properties`"),
                    ),
                }
                continue;
            }
            let (code, hint) = match k {
                "contentEncoding" | "contentMediaType" | "contentSchema" => {
                    // Annotations in 2020-12 and draft 7 alike: a validator
                    // need not decode the content, and the type does not.
                    if !self.vocabulary.keywords.contains(k) {
                        self.report(
                            Severity::Warning,
                            "content-annotation",
                            file,
                            &at,
                            m.key_span.clone(),
                            format!(
                                "`{k}` is an annotation: the value is read as it is, its content is not decoded or checked"
                            ),
                            Some(&format!(
                                "check the content in the consumer; silence this with `--allow-keyword {k}` (`Config::allow_keyword`)"
                            )),
                        );
                    }
                    continue;
                }
                "unevaluatedItems" | "$anchor" | "$dynamicRef" | "$dynamicAnchor"
                | "$recursiveRef" | "$recursiveAnchor" | "$vocabulary" => (
                    "unsupported-keyword",
                    "the generated types cannot express it; remove it or state the rule in `description`",
                ),
                _ if !self.owner.contains_key(&file) => {
                    // A shared definition, maybe written for another tool:
                    // its vendor keywords are reported, not fatal.
                    if !self.vocabulary.keywords.contains(k) {
                        self.report(
                            Severity::Warning,
                            "unknown-keyword",
                            file,
                            &at,
                            m.key_span.clone(),
                            format!("unknown keyword `{k}` is ignored"),
                            Some(&format!("if it is a vendor keyword, allow it with `--allow-keyword {k}` (`Config::allow_keyword`)")),
                        );
                    }
                    continue;
                }
                _ => (
                    "unknown-keyword",
                    "not a JSON Schema keyword; extension keywords start with `x-`",
                ),
            };
            let message = if code == "unsupported-keyword" {
                format!("keyword `{k}` is not supported")
            } else {
                format!("unknown keyword `{k}`")
            };
            self.report(
                Severity::Error,
                code,
                file,
                &at,
                m.key_span.clone(),
                message,
                Some(hint),
            );
        }
    }

    /// The type of the schema `node` at one use site; `hint` names an item
    /// made for it.
    fn ty_of(&mut self, file: usize, pointer: &str, node: &'a Node, hint: &str) -> Lowered {
        match &node.kind {
            Kind::Bool(true) => return Lowered::plain(Ty::Value),
            Kind::Bool(false) => {
                self.report(
                    Severity::Error,
                    "bad-schema",
                    file,
                    pointer,
                    node.span.clone(),
                    "the schema `false` accepts no value, so no field can have it",
                    Some("remove the property"),
                );
                return Lowered::plain(Ty::Value);
            }
            Kind::Object(_) => {}
            _ => {
                self.not_a_schema(file, pointer, node);
                return Lowered::plain(Ty::Value);
            }
        }
        self.check_keywords(file, pointer, node);
        if let Some(r) = node.get("$ref") {
            let Some((f, p, target)) = self.resolve(file, pointer, r) else {
                return Lowered::plain(Ty::Value);
            };
            if target.kind == Kind::Bool(false) {
                // A definition that is the schema `false`: a type that never
                // decodes, with an `accepts-nothing` warning where it is
                // defined, as a union of nothing but `false` is.
                return Lowered::plain(Ty::Named(self.named(f, &p)));
            }
            if Self::is_item(target) {
                // The referenced schema's `null` is the use site's too: a
                // definition `type: ["object", "null"]`, or a union with a
                // `null` alternative, makes the field an `Option`, as the
                // same schema written inline does.
                let nullable = self.item_nullable(f, &p, target, 0);
                return Lowered {
                    ty: Ty::Named(self.named(f, &p)),
                    nullable,
                    constraints: Vec::new(),
                };
            }
            if self.stack.contains(&(f, p.clone())) || self.stack.len() > 64 {
                self.report(
                    Severity::Error,
                    "ref-cycle",
                    file,
                    &format!("{pointer}/$ref"),
                    r.span.clone(),
                    "this `$ref` cycle never reaches a type",
                    Some("a cycle must pass through an object (`properties`) to become a type"),
                );
                return Lowered::plain(Ty::Value);
            }
            self.stack.push((f, p.clone()));
            let lowered = self.ty_of(f, &p, target, hint);
            self.stack.pop();
            return lowered;
        }
        if is_null_schema(node) {
            // `{"type": "null"}`, or a union of nothing else: the value
            // `null` itself, which a required property must hold.
            let kind = if type_names(node).is_empty() {
                ""
            } else {
                "null"
            };
            if !kind.is_empty() {
                self.check_misplaced(file, pointer, node, kind);
            }
            return Lowered::plain(Ty::Unit);
        }
        if Self::is_item(node) {
            let name = self.named_as(file, pointer, Some(hint), None);
            let nullable = self.item_nullable(file, pointer, node, 0);
            return Lowered {
                ty: Ty::Named(name),
                nullable,
                constraints: Vec::new(),
            };
        }
        let types = type_names(node);
        let nullable = types.contains(&"null");
        let mut kinds: Vec<&str> = types.iter().copied().filter(|t| *t != "null").collect();
        if let Some(t) = node.get("type") {
            let ok = match &t.kind {
                Kind::String(_) => true,
                Kind::Array(v) => v.iter().all(|x| x.as_str().is_some()),
                _ => false,
            };
            let bad = kinds.iter().find(|k| {
                !["string", "integer", "number", "boolean", "object", "array"].contains(k)
            });
            if !ok || bad.is_some() {
                self.report(Severity::Error, "bad-type",
                    file,
                    &format!("{pointer}/type"),
                    t.span.clone(),
                    match bad {
                        Some(b) => format!("unknown type `{b}`"),
                        None => "`type` must be a string or an array of strings".to_string(),
                    },
                    Some("one of `string`, `integer`, `number`, `boolean`, `object`, `array`, `null`"),
                );
                return Lowered::plain(Ty::Value);
            }
        }
        if kinds.len() > 1
            && !self.owner.contains_key(&file)
            && node.get("properties").is_none()
            && node.get("required").is_none()
        {
            // A value of several types (`["string", "number"]`) in a shared
            // definition: a `Value` newtype of its own, checked against the
            // types and each type's constraints, as a root of several types
            // is. An event schema says it as a `oneOf`, which is typed.
            let name = self.named_as(file, pointer, Some(hint), None);
            return Lowered {
                ty: Ty::Named(name),
                nullable,
                constraints: Vec::new(),
            };
        }
        if kinds.len() > 1 {
            let t = node
                .get("type")
                .map(|t| t.span.clone())
                .unwrap_or(node.span.clone());
            self.report(
                Severity::Error,
                "unsupported-keyword",
                file,
                &format!("{pointer}/type"),
                t,
                format!(
                    "a value of several types ({}) has no Rust type",
                    kinds.join(", ")
                ),
                Some("use `oneOf` with one schema per type"),
            );
            return Lowered::plain(Ty::Value);
        }
        if kinds.is_empty() {
            if node.get("items").is_some() {
                kinds.push("array");
            } else if node.get("additionalProperties").is_some() {
                kinds.push("object");
            } else if let Some(c) = node.get("const") {
                kinds.push(match c.kind {
                    Kind::String(_) => "string",
                    Kind::Number(ref n) if n.is_f64() => "number",
                    Kind::Number(_) => "integer",
                    _ => "",
                });
            } else if node.get("format").is_some()
                || node.get("pattern").is_some()
                || node.get("minLength").is_some()
                || node.get("maxLength").is_some()
            {
                kinds.push("string");
            }
        }
        if kinds.is_empty()
            && [
                "minimum",
                "maximum",
                "exclusiveMinimum",
                "exclusiveMaximum",
                "minItems",
                "maxItems",
            ]
            .iter()
            .any(|k| node.get(k).is_some())
        {
            // Bounds without `type`: each applies to values of its type and
            // other types pass, as JSON Schema reads it; a checked `Value`.
            let name = self.named_as(file, pointer, Some(hint), None);
            return Lowered {
                ty: Ty::Named(name),
                nullable: false,
                constraints: Vec::new(),
            };
        }
        let mut out = match kinds.first().copied() {
            Some("string") => self.string(file, pointer, node),
            Some("integer") => self.number(file, pointer, node, true),
            Some("number") => self.number(file, pointer, node, false),
            Some("boolean") => Lowered::plain(Ty::Bool),
            Some("array") => self.array(file, pointer, node, hint),
            Some("object") => self.object(file, pointer, node, hint),
            _ => {
                if let Some(c) = node.get("const") {
                    self.report(
                        Severity::Error,
                        "unsupported-keyword",
                        file,
                        &format!("{pointer}/const"),
                        c.span.clone(),
                        format!("`const` of {} is not supported", c.describe()),
                        Some("`const` works on strings and numbers"),
                    );
                }
                Lowered::plain(Ty::Value)
            }
        };
        out.nullable |= nullable;
        self.check_misplaced(file, pointer, node, kinds.first().copied().unwrap_or(""));
        out
    }

    /// Keywords that do not apply to the schema's type are mistakes, not
    /// silent no-ops.
    fn check_misplaced(&mut self, file: usize, pointer: &str, node: &'a Node, kind: &str) {
        let applies = |k: &str| match k {
            "minLength" | "maxLength" | "pattern" | "format" => kind == "string",
            "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" => {
                kind == "integer" || kind == "number"
            }
            "items" | "minItems" | "maxItems" => kind == "array",
            "properties" | "required" | "additionalProperties" => kind == "object",
            _ => true,
        };
        for m in node.members() {
            if !applies(&m.key) {
                let at = format!("{pointer}/{}", escape_token(&m.key));
                let what = if kind.is_empty() {
                    "a schema without `type`".to_string()
                } else {
                    format!("a value of type `{kind}`")
                };
                // JSON Schema ignores such a keyword, and so does the
                // type; in an event schema it is a mistake in the
                // contract, in someone else's schema a warning.
                let (severity, effect) = if self.owner.contains_key(&file) {
                    (Severity::Error, "")
                } else {
                    (Severity::Warning, ", so it has no effect")
                };
                self.report(
                    severity,
                    "misplaced-keyword",
                    file,
                    &at,
                    m.key_span.clone(),
                    format!("`{}` does not apply to {what}{effect}", m.key),
                    Some("check the `type` of this schema"),
                );
            }
        }
    }

    fn string(&mut self, file: usize, pointer: &str, node: &'a Node) -> Lowered {
        let mut constraints = Vec::new();
        let mut ty = Ty::String;
        if let Some(fmt) = node.get("format") {
            let at = format!("{pointer}/format");
            match fmt.as_str() {
                Some("uuid") => ty = Ty::Uuid,
                Some("date-time") => ty = Ty::DateTime,
                Some("date") => ty = Ty::Date,
                Some(f @ ("uri" | "email")) => constraints.push(Constraint::Format(f.to_string())),
                Some(other) if !self.owner.contains_key(&file) => {
                    // 2020-12: an unknown format is an annotation.
                    if !self.vocabulary.formats.contains(other) {
                        let other = other.to_string();
                        self.report(
                            Severity::Warning,
                            "unknown-format",
                            file,
                            &at,
                            fmt.span.clone(),
                            format!("format `{other}` is not checked: it is an annotation, and the value a plain `String`"),
                            Some(&format!("silence this with `--allow-format {other}` (`Config::allow_format`); checked formats: {}", FORMATS.join(", "))),
                        );
                    }
                }
                Some(other) => {
                    let other = other.to_string();
                    self.report(
                        Severity::Error,
                        "unsupported-format",
                        file,
                        &at,
                        fmt.span.clone(),
                        format!("format `{other}` is not supported"),
                        Some(&format!("supported formats: {}", FORMATS.join(", "))),
                    );
                }
                None => self.report(
                    Severity::Error,
                    "bad-keyword",
                    file,
                    &at,
                    fmt.span.clone(),
                    format!("`format` must be a string, found {}", fmt.describe()),
                    None,
                ),
            }
        }
        self.counts(file, pointer, node, LENGTH_BOUNDS, &mut constraints);
        constraints.extend(self.pattern(file, pointer, node));
        if let Some(c) = node.get("const") {
            match c.as_str() {
                Some(s) => constraints.push(Constraint::Constant(s.to_string())),
                None => self.report(
                    Severity::Error,
                    "bad-keyword",
                    file,
                    &format!("{pointer}/const"),
                    c.span.clone(),
                    format!(
                        "`const` of a string schema must be a string, found {}",
                        c.describe()
                    ),
                    None,
                ),
            }
        }
        if ty != Ty::String && !constraints.is_empty() {
            self.report(Severity::Warning, "ignored-constraint",
                file,
                pointer,
                node.span.clone(),
                "length, pattern and const constraints do not apply to a typed `format` (uuid, date-time, date); the format itself is checked",
                Some("remove them, or drop `format` to keep a checked string"),
            );
            constraints.clear();
        }
        Lowered {
            ty,
            nullable: false,
            constraints,
        }
    }

    /// The `pattern` of `node`, compiled with the runtime's engine; a
    /// pattern it cannot run is reported.
    fn pattern(&mut self, file: usize, pointer: &str, node: &'a Node) -> Option<Constraint> {
        if let Some(p) = node.get("pattern") {
            let at = format!("{pointer}/pattern");
            match p.as_str() {
                Some(s) => {
                    match pattern_regex(s) {
                        Ok(_) => return Some(Constraint::Pattern(s.to_string())),
                        Err(e) => {
                            let first = e
                                .to_string()
                                .lines()
                                .last()
                                .unwrap_or_default()
                                .trim()
                                .trim_start_matches("error: ")
                                .to_string();
                            self.report(Severity::Error, "bad-pattern",
                            file,
                            &at,
                            p.span.clone(),
                            format!("`pattern` is not a regular expression the runtime can run: {first}"),
                            Some("the `regex` crate's syntax: no look-around, no back-references"),
                        );
                        }
                    }
                }
                None => self.report(
                    Severity::Error,
                    "bad-keyword",
                    file,
                    &at,
                    p.span.clone(),
                    format!("`pattern` must be a string, found {}", p.describe()),
                    None,
                ),
            }
        }
        None
    }

    /// The count keywords of `node` (`minLength`, `maxItems`, ...) as
    /// constraints; a value that is not a count is reported and skipped.
    fn counts(
        &mut self,
        file: usize,
        pointer: &str,
        node: &'a Node,
        bounds: CountBounds,
        out: &mut Vec<Constraint>,
    ) {
        for (key, constraint) in bounds {
            if let Some(n) = node
                .get(key)
                .and_then(|v| self.count(file, pointer, key, v))
            {
                out.push(constraint(n));
            }
        }
    }

    fn count(&mut self, file: usize, pointer: &str, key: &str, v: &'a Node) -> Option<u64> {
        // JSON Schema counts `2.0` as an integer: only the value matters.
        let whole = |n: &serde_json::Number| {
            n.as_u64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u64::MAX as f64)
                    .map(|f| f as u64)
            })
        };
        match v.as_number().and_then(whole) {
            Some(n) => Some(n),
            None => {
                self.report(
                    Severity::Error,
                    "bad-keyword",
                    file,
                    &format!("{pointer}/{key}"),
                    v.span.clone(),
                    format!(
                        "`{key}` must be a non-negative integer, found {}",
                        v.describe()
                    ),
                    None,
                );
                None
            }
        }
    }

    fn number(&mut self, file: usize, pointer: &str, node: &'a Node, integer: bool) -> Lowered {
        let get = |this: &mut Self, key: &str| -> Option<f64> {
            let v = node.get(key)?;
            match v.as_number().and_then(serde_json::Number::as_f64) {
                Some(n) => Some(n),
                None => {
                    let hint = if v.kind == Kind::Bool(true) || v.kind == Kind::Bool(false) {
                        Some(
                            "a boolean `exclusiveMinimum` is draft-04; since draft-06 it is the bound itself",
                        )
                    } else {
                        None
                    };
                    this.report(
                        Severity::Error,
                        "bad-keyword",
                        file,
                        &format!("{pointer}/{key}"),
                        v.span.clone(),
                        format!("`{key}` must be a number, found {}", v.describe()),
                        hint,
                    );
                    None
                }
            }
        };
        let min = get(self, "minimum");
        let max = get(self, "maximum");
        let xmin = get(self, "exclusiveMinimum");
        let xmax = get(self, "exclusiveMaximum");
        let konst = node
            .get("const")
            .and_then(|c| c.as_number())
            .and_then(serde_json::Number::as_f64);
        if let Some(c) = node.get("const") {
            if c.as_number().is_none() {
                self.report(
                    Severity::Error,
                    "bad-keyword",
                    file,
                    &format!("{pointer}/const"),
                    c.span.clone(),
                    format!(
                        "`const` of a number schema must be a number, found {}",
                        c.describe()
                    ),
                    None,
                );
            }
        }
        let (min, max) = (min.or(konst), max.or(konst));
        if !integer {
            let mut constraints = Vec::new();
            if let Some(v) = min {
                constraints.push(Constraint::Minimum(Num::Float(v)));
            }
            if let Some(v) = max {
                constraints.push(Constraint::Maximum(Num::Float(v)));
            }
            if let Some(v) = xmin {
                constraints.push(Constraint::ExclusiveMinimum(Num::Float(v)));
            }
            if let Some(v) = xmax {
                constraints.push(Constraint::ExclusiveMaximum(Num::Float(v)));
            }
            return Lowered {
                ty: Ty::F64,
                nullable: false,
                constraints,
            };
        }
        // Integer bounds, inclusive, clamped to what JSON integers can be here.
        let clamp = |v: f64| v.clamp(i64::MIN as f64, u64::MAX as f64) as i128;
        let lo = [
            min.map(|v| clamp(v.ceil())),
            xmin.map(|v| clamp(v.floor()) + 1),
        ]
        .into_iter()
        .flatten()
        .max();
        let hi = [
            max.map(|v| clamp(v.floor())),
            xmax.map(|v| clamp(v.ceil()) - 1),
        ]
        .into_iter()
        .flatten()
        .min();
        if let (Some(lo), Some(hi)) = (lo, hi) {
            if lo > hi {
                self.report(
                    Severity::Error,
                    "empty-range",
                    file,
                    pointer,
                    node.span.clone(),
                    format!("no integer is at least {lo} and at most {hi}"),
                    Some("check `minimum` and `maximum`"),
                );
            }
        }
        let (width, tmin, tmax) = naming::int_width(lo, hi);
        let mut constraints = Vec::new();
        if let Some(lo) = lo.filter(|&l| l > tmin) {
            constraints.push(Constraint::Minimum(Num::Int(lo)));
        }
        if let Some(hi) = hi.filter(|&h| h < tmax) {
            constraints.push(Constraint::Maximum(Num::Int(hi)));
        }
        Lowered {
            ty: Ty::Int(width),
            nullable: false,
            constraints,
        }
    }

    fn array(&mut self, file: usize, pointer: &str, node: &'a Node, hint: &str) -> Lowered {
        let mut constraints = Vec::new();
        self.counts(file, pointer, node, ITEM_BOUNDS, &mut constraints);
        let item = match node.get("items") {
            None => Ty::Value,
            // A tuple: items typed by position are checked as JSON values
            // (`keywords`); `false` allows no item at all.
            Some(_) if keywords::is_tuple(node) => Ty::Value,
            Some(items) if items.kind == Kind::Bool(false) => {
                constraints.push(Constraint::MaxItems(0));
                Ty::Value
            }
            Some(items) => {
                let inner = self.ty_of(
                    file,
                    &format!("{pointer}/items"),
                    items,
                    &format!("{hint}Item"),
                );
                if !inner.constraints.is_empty() {
                    if matches!(inner.ty, Ty::Vec(_) | Ty::Map(_))
                        || inner
                            .constraints
                            .iter()
                            .any(|c| matches!(c, Constraint::MinItems(_) | Constraint::MaxItems(_)))
                    {
                        // The element type holds no constraint of its own
                        // items or counts: the items schema is a rule of
                        // the array, checked whole on each element.
                        self.checked_whole
                            .insert((file, format!("{pointer}/items")));
                    } else {
                        constraints.extend(inner.constraints);
                    }
                }
                if inner.nullable {
                    Ty::Option(Box::new(inner.ty))
                } else {
                    inner.ty
                }
            }
        };
        Lowered {
            ty: Ty::Vec(Box::new(item)),
            nullable: false,
            constraints,
        }
    }

    fn object(&mut self, file: usize, pointer: &str, node: &'a Node, hint: &str) -> Lowered {
        match node.get("additionalProperties") {
            Some(ap) if matches!(ap.kind, Kind::Object(_)) => {
                let inner = self.ty_of(
                    file,
                    &format!("{pointer}/additionalProperties"),
                    ap,
                    &format!("{hint}Value"),
                );
                if !inner.constraints.is_empty() {
                    // The map's type holds no constraint of its values:
                    // they are the map's rules, its value schema checked
                    // whole on each value.
                    self.checked_whole
                        .insert((file, format!("{pointer}/additionalProperties")));
                }
                let ty = if inner.nullable {
                    Ty::Option(Box::new(inner.ty))
                } else {
                    inner.ty
                };
                Lowered::plain(Ty::Map(Box::new(ty)))
            }
            Some(ap) => {
                if ap.kind == Kind::Bool(false) {
                    // Closed in a shared definition: a rule of the use site
                    // (`keywords::residue`); otherwise said.
                    self.not_enforced(file, pointer, node, "additionalProperties");
                }
                Lowered::plain(Ty::Object)
            }
            None => Lowered::plain(Ty::Object),
        }
    }

    /// The properties and required names of an object schema, `allOf`
    /// merged.
    fn collect_shape(&mut self, file: usize, pointer: &str, node: &'a Node) -> Shape<'a> {
        let mut shape = Shape::default();
        let mut seen = Vec::new();
        self.collect_into(file, pointer, node, &mut shape, &mut seen);
        shape
    }

    fn collect_into(
        &mut self,
        file: usize,
        pointer: &str,
        node: &'a Node,
        shape: &mut Shape<'a>,
        seen: &mut Vec<(usize, String)>,
    ) {
        if seen.len() > 64 {
            return;
        }
        seen.push((file, pointer.to_string()));
        if node
            .get("additionalProperties")
            .is_some_and(|ap| ap.kind == Kind::Bool(false))
        {
            shape.closed.push((file, pointer.to_string(), node));
        }
        if node
            .get("unevaluatedProperties")
            .is_some_and(|up| up.kind == Kind::Bool(false))
        {
            self.seal(file, pointer, node, shape);
        }
        if let Some(props) = node.get("properties") {
            for m in props.members() {
                let wire = m.key.clone();
                let ptr = format!("{pointer}/properties/{}", escape_token(&wire));
                if let Some(i) = shape.props.iter().position(|p| p.wire == wire) {
                    // The same property in another part: an intersection,
                    // applied when the field is lowered (`narrow`).
                    if shape.props[i].node.to_value() != m.value.to_value() {
                        shape.props[i].also.push((file, ptr, &m.value));
                    }
                    continue;
                }
                shape.props.push(Prop {
                    file,
                    pointer: ptr,
                    wire,
                    key_span: m.key_span.clone(),
                    node: &m.value,
                    also: Vec::new(),
                });
            }
        }
        if let Some(req) = node.get("required").and_then(Node::as_array) {
            for (i, r) in req.iter().enumerate() {
                if let Some(s) = r.as_str() {
                    if !shape.required.iter().any(|x| x == s) {
                        shape.required.push(s.to_string());
                        shape.required_at.push((
                            s.to_string(),
                            file,
                            format!("{pointer}/required/{i}"),
                            r.span.clone(),
                        ));
                    }
                }
            }
        }
        if let Some(parts) = node.get("allOf").and_then(Node::as_array) {
            for (i, part) in parts.iter().enumerate() {
                let ptr = format!("{pointer}/allOf/{i}");
                let (f, p, n) = if part.get("$ref").is_some() {
                    // Through every `$ref` of a chain; the schema reached
                    // is lowered nowhere else, so its keywords are checked
                    // here.
                    let (f, p, n) = self.deref(file, &ptr, part);
                    if n.get("$ref").is_some() {
                        continue;
                    }
                    self.check_keywords(f, &p, n);
                    (f, p, n)
                } else {
                    // Checked here too: a part of a part is lowered nowhere
                    // else (the object's own parts are also checked by
                    // `check_object`; repeats are dropped).
                    if matches!(part.kind, Kind::Object(_)) {
                        self.check_keywords(file, &ptr, part);
                    }
                    (file, ptr.clone(), part)
                };
                if n.kind == Kind::Bool(false) {
                    shape.nothing.push((f, p, n.span.clone()));
                    continue;
                }
                // `seen` is the path from the object being shaped: meeting
                // a schema on it again is an `allOf` that contains itself.
                if seen.contains(&(f, p.clone())) {
                    let span = part
                        .get("$ref")
                        .map_or(part.span.clone(), |r| r.span.clone());
                    self.report(
                        Severity::Error,
                        "ref-cycle",
                        file,
                        &format!("{ptr}/$ref"),
                        span,
                        "this `allOf` refers back to a schema that contains it, so it never reaches a type",
                        Some("an `allOf` part must be another schema; remove the part that refers back"),
                    );
                    continue;
                }
                self.collect_into(f, &p, n, shape, seen);
            }
        }
        seen.pop();
    }

    /// The checks of an object schema that a struct is made of: its
    /// keywords, its `type`, its direct `allOf` parts, a `required` that is
    /// not a list of names, and the `additionalProperties: false` that is
    /// not enforced on its own.
    fn check_object(&mut self, file: usize, pointer: &str, node: &'a Node) {
        self.check_keywords(file, pointer, node);
        if let Some(t) = node.get("type") {
            if t.as_str().is_some_and(|t| t != "object") {
                self.report(
                    Severity::Error,
                    "bad-type",
                    file,
                    &format!("{pointer}/type"),
                    t.span.clone(),
                    "an object with `properties` must have `type: object`",
                    None,
                );
            }
        }
        if let Some(parts) = node.get("allOf") {
            if let Some(parts) = parts.as_array() {
                for (i, part) in parts.iter().enumerate() {
                    if part.get("$ref").is_none() {
                        let at = format!("{pointer}/allOf/{i}");
                        self.check_keywords(file, &at, part);
                        // A part of an object is about the object: a
                        // keyword of another type is reported, not dropped.
                        let types = type_names(part);
                        if let Some(t) = part
                            .get("type")
                            .filter(|_| !types.is_empty() && !types.contains(&"object"))
                        {
                            self.report(
                                Severity::Error,
                                "allof-conflict",
                                file,
                                &format!("{at}/type"),
                                t.span.clone(),
                                format!(
                                    "this `allOf` part is of type {}, and the schema at `{}` is an object; no value is both",
                                    types.join(", "),
                                    if pointer.is_empty() { "#" } else { pointer }
                                ),
                                Some("remove the part, or make it describe the object"),
                            );
                        } else if matches!(part.kind, Kind::Object(_)) {
                            self.check_misplaced(file, &at, part, "object");
                        }
                    }
                }
            }
        }
        if let Some(ap) = node.get("additionalProperties") {
            // With a schema next to `properties`: checked on the members
            // the struct keeps in `additional_properties` (`object_rules`).
            if ap.kind == Kind::Bool(false) {
                self.not_enforced(file, pointer, node, "additionalProperties");
            }
        }
        if let Some(req) = node.get("required") {
            match req.as_array() {
                Some(items) => {
                    for (i, r) in items.iter().enumerate() {
                        let at = format!("{pointer}/required/{i}");
                        match r.as_str() {
                            Some(_) => {}
                            None => self.report(
                                Severity::Error,
                                "bad-required",
                                file,
                                &at,
                                r.span.clone(),
                                format!("`required` must list strings, found {}", r.describe()),
                                None,
                            ),
                        }
                    }
                }
                None => self.report(
                    Severity::Error,
                    "bad-required",
                    file,
                    &format!("{pointer}/required"),
                    req.span.clone(),
                    format!(
                        "`required` must be an array of strings, found {}",
                        req.describe()
                    ),
                    None,
                ),
            }
        }
    }

    /// What each schema that closes the object allows that is not one of
    /// `fields`: the names of its `properties` that another closing schema
    /// leaves out (so they have no field), and its `patternProperties`.
    /// Empty when one of them allows nothing beyond the fields: then the
    /// closed check needs no more than the fields.
    fn allowed(
        &self,
        closed: &[(usize, String, &'a Node)],
        sealed: &[Sealed],
        fields: &[Field],
    ) -> Vec<Allowed> {
        let beside = |names: Vec<String>| -> Vec<String> {
            names
                .into_iter()
                .filter(|n| !fields.iter().any(|f| !f.unknown && f.wire == *n))
                .collect()
        };
        // A property whose schema is `false` must be absent: a rule says so.
        let keys = |node: &Node, keyword: &str| -> Vec<String> {
            node.get(keyword)
                .map(|p| {
                    p.members()
                        .iter()
                        .filter(|m| m.value.kind != Kind::Bool(false))
                        .map(|m| m.key.clone())
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut allowed: Vec<Allowed> = Vec::new();
        for (_, _, node) in closed {
            allowed.push(Allowed {
                names: beside(keys(node, "properties")),
                patterns: keys(node, "patternProperties"),
            });
        }
        for sealed in sealed {
            allowed.push(Allowed {
                names: beside(sealed.names.clone()),
                patterns: sealed.patterns.clone(),
            });
        }
        if allowed
            .iter()
            .any(|a| a.names.is_empty() && a.patterns.is_empty())
        {
            allowed.clear();
        }
        allowed
    }

    /// Applies every `additionalProperties: false` of an object and its
    /// `allOf` parts to the properties the other parts define: each allows
    /// only the members its own `properties` and `patternProperties` name,
    /// as the spec says. A property it does not name must be absent, so it
    /// gets no field (read tolerantly, a shared definition keeps such a
    /// member in `additional_properties`). When a part requires it, no
    /// value satisfies the object: an `accepts-nothing` warning naming
    /// both places, and the name is returned, for a rule that refuses the
    /// property (so the type never decodes, as the schema says).
    fn forbid_unnamed(&mut self, shape: &mut Shape<'a>) -> Vec<String> {
        let mut forbidden = Vec::new();
        for (cf, cp, cn) in shape.closed.clone() {
            let names: Vec<&str> = cn
                .get("properties")
                .map(|p| p.members().iter().map(|m| m.key.as_str()).collect())
                .unwrap_or_default();
            let patterns: Vec<regex::Regex> = cn
                .get("patternProperties")
                .map(|p| {
                    p.members()
                        .iter()
                        .filter_map(|m| pattern_regex(&m.key).ok())
                        .collect()
                })
                .unwrap_or_default();
            let named = |w: &str| names.contains(&w) || patterns.iter().any(|r| r.is_match(w));
            let closed_at = format!("{cp}/additionalProperties");
            let mut refused = Vec::new();
            for (name, f, at, span) in &shape.required_at {
                if !named(name) {
                    refused.push((name.clone(), *f, at.clone(), span.clone()));
                }
            }
            for (name, f, at, span) in refused {
                let closed_place = self.place(f, cf, &closed_at);
                self.report(
                    Severity::Warning,
                    "accepts-nothing",
                    f,
                    &at,
                    span,
                    format!(
                        "`{name}` is required here, and `{closed_place}` is `false` without naming it in `properties`: no value has both, so the type never decodes"
                    ),
                    Some("add the property to the closed schema, or do not require it"),
                );
                if !forbidden.contains(&name) {
                    forbidden.push(name);
                }
            }
            let required = &shape.required;
            shape
                .props
                .retain(|p| named(&p.wire) || required.contains(&p.wire));
        }
        for sealed in shape.sealed.clone() {
            let patterns: Vec<regex::Regex> = sealed
                .patterns
                .iter()
                .filter_map(|p| pattern_regex(p).ok())
                .collect();
            let named = |w: &str| {
                sealed.names.iter().any(|n| n == w) || patterns.iter().any(|r| r.is_match(w))
            };
            let at = format!("{}/unevaluatedProperties", sealed.pointer);
            let mut refused = Vec::new();
            for (name, f, req_at, span) in &shape.required_at {
                if !named(name) {
                    refused.push((name.clone(), *f, req_at.clone(), span.clone()));
                }
            }
            for (name, f, req_at, span) in refused {
                let sealed_place = self.place(f, sealed.file, &at);
                self.report(
                    Severity::Warning,
                    "accepts-nothing",
                    f,
                    &req_at,
                    span,
                    format!(
                        "`{name}` is required here, and `{sealed_place}` is `false` without its schema evaluating it (its `properties`, `allOf` parts and `$ref`s do not name it): no value has both, so the type never decodes"
                    ),
                    Some("add the property to the schema that says `unevaluatedProperties: false`, or do not require it"),
                );
                if !forbidden.contains(&name) {
                    forbidden.push(name);
                }
            }
            let required = &shape.required;
            shape
                .props
                .retain(|p| named(&p.wire) || required.contains(&p.wire));
        }
        forbidden
    }

    /// An `unevaluatedProperties: false` of an object that becomes a
    /// struct: when what its schema evaluates is known statically (its own
    /// `properties` and `patternProperties`, those of its `allOf` parts and
    /// `$ref`s, recursively), it closes the object as `additionalProperties:
    /// false` does, over those names. Beside a keyword whose evaluation
    /// depends on the value (`oneOf`, `anyOf`, `if`, `dependentSchemas`,
    /// ...) it is an error naming both. An `additionalProperties` in the
    /// subtree evaluates every member: nothing is left to close.
    fn seal(&mut self, file: usize, pointer: &str, node: &'a Node, shape: &mut Shape<'a>) {
        let at = format!("{pointer}/unevaluatedProperties");
        if shape
            .sealed
            .iter()
            .any(|s| s.file == file && s.pointer == pointer)
        {
            return;
        }
        self.unevaluated_done.insert((file, at.clone()));
        let mut sealed = Sealed {
            file,
            pointer: pointer.to_string(),
            names: Vec::new(),
            patterns: Vec::new(),
        };
        let mut seen = Vec::new();
        match self.evaluated(file, pointer, node, &mut sealed, &mut seen) {
            Evaluated::Some => {
                // Read tolerantly, as `additionalProperties: false` is.
                self.not_enforced(file, pointer, node, "unevaluatedProperties");
                shape.sealed.push(sealed);
            }
            Evaluated::All => {}
            Evaluated::Dynamic(f, p, keyword) => {
                let span = node
                    .member("unevaluatedProperties")
                    .map_or(node.span.clone(), |m| m.key_span.clone());
                let place = self.place(file, f, &format!("{p}/{}", escape_token(keyword)));
                self.report(
                    Severity::Error,
                    "unsupported-keyword",
                    file,
                    &at,
                    span,
                    format!(
                        "`unevaluatedProperties` is not supported where the properties it sees depend on the value: `{place}` (`{keyword}`) evaluates some members only for some values"
                    ),
                    Some("list every property in `properties` (or in an `allOf` part) and close the object with `unevaluatedProperties: false` there, or state the rule in `description`"),
                );
            }
        }
    }

    /// Whether a closed object (`additionalProperties: false`,
    /// `unevaluatedProperties: false`) of `file` refuses the members it
    /// does not allow wherever it is read: in a shared definition, unless
    /// closed objects are read tolerantly; never in an event schema.
    pub(super) fn closes(&self, file: usize) -> bool {
        !self.owner.contains_key(&file) && !self.vocabulary.tolerate_closed
    }

    /// The warning that `keyword: false` (`additionalProperties` or
    /// `unevaluatedProperties`) of the object schema at `pointer` closes
    /// the type only where a union reads it exactly, where the object is
    /// read tolerantly ([`closes`](Self::closes) is false): a property it
    /// does not know is ignored (an event) or kept and written back (a
    /// shared definition read with `--tolerate-closed-objects`), never
    /// refused. Said rather than dropped in silence, wherever the keyword
    /// is (the object or one of its `allOf` parts); nothing to say where
    /// the object closes.
    fn not_enforced(&mut self, file: usize, pointer: &str, node: &Node, keyword: &str) {
        if self.closes(file) {
            // Held: the struct's check refuses what the object does not
            // allow (`validate::closed`).
            return;
        }
        let (message, hint) = if self.owner.contains_key(&file) {
            (
                format!(
                    "`{keyword}: false` is not enforced: the generated type ignores properties it does not know"
                ),
                "remove it; readers of a later minor version must accept the properties it adds",
            )
        } else {
            (
                format!(
                    "`{keyword}: false` is not enforced on its own: the generated type keeps properties it does not know and writes them back; as an alternative of a `oneOf` or `anyOf` it is held, to tell the alternatives apart"
                ),
                "with `--tolerate-closed-objects` (`Config::tolerate_closed_objects`) a shared definition reads tolerantly and forwards what it read; the properties are in its `additional_properties` field; without it the object is closed",
            )
        };
        let span = node
            .get(keyword)
            .map_or(node.span.clone(), |v| v.span.clone());
        self.report(
            Severity::Warning,
            "ignored-constraint",
            file,
            &format!("{pointer}/{keyword}"),
            span,
            message,
            Some(hint),
        );
    }

    /// Gathers into `sealed` what the schema `node` evaluates of an
    /// object's members, for `unevaluatedProperties`.
    fn evaluated(
        &mut self,
        file: usize,
        pointer: &str,
        node: &'a Node,
        sealed: &mut Sealed,
        seen: &mut Vec<(usize, String)>,
    ) -> Evaluated {
        const DYNAMIC: &[&str] = &[
            "oneOf",
            "anyOf",
            "if",
            "then",
            "else",
            "dependentSchemas",
            "dependencies",
            "$dynamicRef",
            "$recursiveRef",
        ];
        if seen.contains(&(file, pointer.to_string())) || seen.len() > 64 {
            return Evaluated::Some;
        }
        match node.kind {
            Kind::Object(_) => {}
            // `false` accepts nothing, `true` evaluates nothing.
            _ => return Evaluated::Some,
        }
        seen.push((file, pointer.to_string()));
        if let Some(k) = DYNAMIC.iter().find(|k| node.get(k).is_some()) {
            return Evaluated::Dynamic(file, pointer.to_string(), k);
        }
        if node.get("additionalProperties").is_some() {
            return Evaluated::All;
        }
        if let Some(props) = node.get("properties") {
            for m in props.members() {
                if !sealed.names.contains(&m.key) {
                    sealed.names.push(m.key.clone());
                }
            }
        }
        if let Some(props) = node.get("patternProperties") {
            for m in props.members() {
                sealed.patterns.push(m.key.clone());
            }
        }
        let mut out = Evaluated::Some;
        if let Some(r) = node.get("$ref") {
            if let Some((f, p, target)) = self.resolve(file, pointer, r) {
                out = out.and(self.evaluated(f, &p, target, sealed, seen));
            }
        }
        if let Some(parts) = node.get("allOf").and_then(Node::as_array) {
            for (i, part) in parts.iter().enumerate() {
                let at = format!("{pointer}/allOf/{i}");
                out = out.and(self.evaluated(file, &at, part, sealed, seen));
            }
        }
        seen.pop();
        out
    }

    /// Reports every `unevaluatedProperties: false` that no struct applied
    /// (on a schema that is not an object with properties, or inside the
    /// rules of `not`, `if`, ...): never dropped in silence.
    fn unapplied_unevaluated(&mut self) {
        for (file, at, span) in std::mem::take(&mut self.unevaluated) {
            if self.unevaluated_done.contains(&(file, at.clone())) {
                continue;
            }
            self.report(
                Severity::Error,
                "unsupported-keyword",
                file,
                &at,
                span,
                "`unevaluatedProperties: false` is supported on an object that becomes a struct (its properties known from `properties`, `allOf` parts and `$ref`s); here it would not be enforced",
                Some("give the schema `type: object` and its `properties`, or use `additionalProperties: false`"),
            );
        }
    }

    /// A schema location as a diagnostic at `here` names it: the pointer
    /// in the same file, else the file and the pointer.
    fn place(&self, here: usize, file: usize, pointer: &str) -> String {
        let pointer = self.moved.original(file, pointer);
        let pointer = if pointer.is_empty() { "#" } else { &*pointer };
        if here == file {
            pointer.to_string()
        } else {
            format!(
                "{}#{}",
                self.files[file].path.display(),
                pointer.trim_start_matches('#')
            )
        }
    }

    /// The fields of an object schema; `skip` leaves out a tagged union's
    /// discriminator. `parts` are the other schemas of an
    /// intersection at a property, each (file, pointer) after `$ref`s.
    fn fields(
        &mut self,
        file: usize,
        pointer: &str,
        node: &'a Node,
        owner: &str,
        skip: &[String],
        parts: &[(usize, String)],
    ) -> (Vec<Field>, Option<Program>) {
        if !matches!(node.kind, Kind::Object(_)) {
            self.not_a_schema(file, pointer, node);
            return (Vec::new(), None);
        }
        // The schemas intersected: the object's own, and for an
        // intersection at a property, the other parts that define it.
        let mut roots = vec![(file, pointer.to_string(), node)];
        for (f, p) in parts {
            if let Some(n) = self.files[*f].root.pointer(p) {
                roots.push((*f, p.clone(), n));
            }
        }
        for (f, p, n) in &roots {
            self.check_object(*f, p, n);
        }
        let mut shape = self.collect_shape(file, pointer, node);
        for (f, p, n) in roots.iter().skip(1) {
            let mut seen = Vec::new();
            self.collect_into(*f, p, n, &mut shape, &mut seen);
        }
        // Closed in an `allOf` part: said as where the object itself is.
        for (f, p, n) in shape.closed.clone() {
            self.not_enforced(f, &p, n, "additionalProperties");
        }
        // A shared definition reads and writes back a payload unchanged
        // (docs/schema-format.md, "Lossless round trip"); an event payload
        // is the contract of its minor versions.
        let lossless = roots.iter().all(|(f, ..)| !self.owner.contains_key(f));
        // A closed shared definition keeps unknown properties when read on
        // its own, and refuses them as an alternative of a union read
        // exactly (`#[event(unknown, closed)]`). Closed is closed wherever
        // it is said: in the object or in any of its `allOf` parts.
        let closed = lossless && !(shape.closed.is_empty() && shape.sealed.is_empty());
        let forbidden = if lossless {
            self.forbid_unnamed(&mut shape)
        } else {
            Vec::new()
        };
        // A name in `required` that `properties` does not define: in a
        // shared definition, a property of any value that must be present;
        // in an event schema, a mistake.
        let mut undeclared: Vec<String> = Vec::new();
        for (name, f, at, span) in &shape.required_at {
            if shape.props.iter().any(|p| &p.wire == name) || skip.contains(name) {
                continue;
            }
            if lossless {
                self.report(
                    Severity::Warning,
                    "required-undeclared",
                    *f,
                    at,
                    span.clone(),
                    format!("`{name}` is required but not in `properties`: it is a field of any JSON value that must be present"),
                    Some("define it in `properties` to give it a type"),
                );
                undeclared.push(name.clone());
            } else {
                self.report(
                    Severity::Error,
                    "bad-required",
                    *f,
                    at,
                    span.clone(),
                    format!("`{name}` is required but is not a property"),
                    Some("add it to `properties` or remove it from `required`"),
                );
            }
        }
        let mut fields: Vec<Field> = Vec::new();
        // The rules no field states (`keywords`): per property, then of the
        // object itself.
        let mut rules = Builder::new_root();
        let mut residues = Vec::new();
        for mut prop in shape.props {
            if annotation_only(prop.node) {
                // Annotations never narrow: the first definition that says
                // more is the one the others narrow.
                if let Some(i) = prop.also.iter().position(|(_, _, n)| !annotation_only(n)) {
                    let (f, p, n) = prop.also.remove(i);
                    let first = (
                        prop.file,
                        std::mem::replace(&mut prop.pointer, p),
                        prop.node,
                    );
                    prop.file = f;
                    prop.node = n;
                    prop.also.insert(0, first);
                }
            }
            if skip.contains(&prop.wire) {
                continue;
            }
            if prop.node.kind == Kind::Bool(false) {
                // Must be absent: no field, a rule of the object.
                continue;
            }
            if prop.wire.is_empty() {
                self.report(
                    Severity::Error,
                    "bad-property-name",
                    prop.file,
                    &prop.pointer,
                    prop.key_span.clone(),
                    "the property name `\"\"` is empty, so no field can carry it",
                    Some("give the property a name"),
                );
                continue;
            }
            let hint = format!("{owner}{}", naming::type_ident(&prop.wire));
            let lowered = match self.intersect_objects(&prop, &hint) {
                Some((lowered, rest)) => self.narrow(lowered, &prop, &rest, &hint),
                None => {
                    let lowered = self.ty_of(prop.file, &prop.pointer, prop.node, &hint);
                    self.narrow(lowered, &prop, &prop.also, &hint)
                }
            };
            for (f, p, n) in std::iter::once((prop.file, prop.pointer.clone(), prop.node))
                .chain(prop.also.iter().cloned())
            {
                let sub = if self.whole_parts.contains(&(f, p.clone())) {
                    Some(self.full(&mut rules, f, &p, n))
                } else {
                    self.residue(&mut rules, f, &p, n, &lowered.ty, 0)
                };
                if let Some(sub) = sub {
                    residues.push((prop.wire.clone(), sub));
                }
            }
            let required = shape.required.contains(&prop.wire);
            let default_node = prop.node.get("default");
            let mut default = false;
            let mut default_value = None;
            let mut accessor = None;
            let mut ty = lowered.ty;
            if let Some(d) = default_node {
                // A default is an annotation (JSON Schema does not check
                // it): in an event schema, one that breaks its schema is a
                // mistake in the contract, an error; in a shared
                // definition, someone else's schema, it is reported and
                // not applied, and the field reads a missing property as
                // `None`.
                let severity = if lossless {
                    Severity::Warning
                } else {
                    Severity::Error
                };
                let not_applied = if lossless {
                    ", so it is not applied: a missing property reads as `None`"
                } else {
                    ""
                };
                let broken = default_breaks(&lowered.constraints, d);
                if let Some(broken) = broken {
                    self.report_default(
                        &prop,
                        d,
                        severity,
                        "bad-default",
                        format!(
                            "`default` {} breaks this property's own `{broken}`{not_applied}",
                            d.to_value()
                        ),
                        "a default must satisfy the schema it belongs to",
                    );
                }
                if broken.is_some() && lossless {
                    // Reported above.
                } else if lowered.nullable {
                    self.report_default(
                        &prop,
                        d,
                        Severity::Warning,
                        "default-not-applied",
                        "a `default` on a nullable property is not applied; a missing field reads as `None`",
                        "the value is kept in the field's documentation",
                    );
                } else if lossless && !required && default_writable(&ty, d) {
                    // Applied when read through the accessor; the field
                    // keeps the property missing, so it is not written back.
                    accessor = accessor_of(&ty, d);
                } else if is_type_default(&ty, d) {
                    default = true;
                } else if let Some(value) = default_expr(&ty, d) {
                    default_value = Some(value);
                } else if required {
                    // Never missing, so never applied; it is an annotation
                    // only (an `allOf` part may have narrowed the type it
                    // was written for: `default: false` of a boolean that
                    // another part fixes to `true`).
                    self.report_default(
                        &prop,
                        d,
                        Severity::Warning,
                        "default-not-applied",
                        "a `default` on a required property is never applied",
                        "the value is kept in the field's documentation",
                    );
                } else if matches!(ty, Ty::String | Ty::Bool | Ty::Int(_) | Ty::F64) {
                    self.report_default(
                        &prop,
                        d,
                        severity,
                        "bad-default",
                        format!(
                            "`default` {} is not a value of this property's type{not_applied}",
                            d.to_value()
                        ),
                        "a default must satisfy the schema it belongs to",
                    );
                } else {
                    // An enum, a union, an object, an array with items:
                    // a value the generator does not write as Rust.
                    self.report_default(
                        &prop,
                        d,
                        Severity::Warning,
                        "default-not-applied",
                        format!(
                            "`default` {} is not applied on a property of this type (an enum, a union, an object or a non-empty array); a missing field reads as `None`",
                            d.to_value()
                        ),
                        "the value is kept in the field's documentation",
                    );
                }
            }
            let mut required_option = false;
            let mut non_null = false;
            if ty == Ty::Unit {
                // `null` itself: `()`, and `Option<()>` when it may be
                // missing (the derive reads a present `null` as `Some(())`).
                if !required {
                    ty = Ty::Option(Box::new(Ty::Unit));
                }
            } else if lowered.nullable && required {
                // Present, and maybe `null`: written back as `null`.
                ty = ty.option();
                required_option = true;
            } else if lowered.nullable && lossless {
                // Missing, `null` or a value: three states, each written
                // back as read.
                ty = Ty::Option(Box::new(ty.option()));
            } else if lowered.nullable || (!required && !default && default_value.is_none()) {
                // A shared definition's property that may be missing but
                // whose schema refuses `null`: a `null` is refused rather
                // than read as missing and written back as missing.
                non_null = lossless && !lowered.nullable;
                ty = ty.option();
            }
            let ident = naming::field_ident(&prop.wire, fields.iter().map(|f| f.ident.as_str()));
            let rename = !naming::round_trips(&ident, &prop.wire);
            // The first definition's description, else that of an `allOf`
            // part that defines the property again.
            let mut doc = doc_of(prop.node).or_else(|| {
                prop.also
                    .iter()
                    .find_map(|(_, _, n)| annotation_only(n).then(|| doc_of(n)).flatten())
            });
            if doc.is_none() && prop.node.get("$ref").is_some() {
                // A `$ref` to a plain value (`Currency`) has no item to carry
                // its description: the field does.
                let (_, _, target) = self.deref(prop.file, &prop.pointer, prop.node);
                if !Self::is_item(target) {
                    doc = doc_of(target);
                }
            }
            if let (Some(d), false) = (default_node, default) {
                // Documented whether or not it is applied: a reader of the
                // generated type sees what a missing field means.
                let text = format!("Default: `{}`.", d.to_value());
                doc = Some(match doc {
                    Some(doc) => format!("{doc}\n\n{text}"),
                    None => text,
                });
            }
            // The lint refused a sensitive name unless the schema marks it
            // (or the user lowered the lint): say so to the derive.
            let not_sensitive = event_rules::fields::sensitive_field(&prop.wire).is_some();
            let deprecated = std::iter::once(prop.node)
                .chain(prop.also.iter().map(|(_, _, n)| *n))
                .any(|n| {
                    n.get("deprecated")
                        .is_some_and(|d| d.kind == Kind::Bool(true))
                });
            let _ = prop.key_span;
            fields.push(Field {
                ident,
                wire: prop.wire,
                rename,
                ty,
                doc,
                since: None,
                constraints: lowered.constraints,
                deprecated,
                key: false,
                partition: false,
                default,
                default_value,
                not_sensitive,
                required: required_option,
                non_null,
                unknown: false,
                closed: false,
                enforce_closed: false,
                allowed: Vec::new(),
                accessor,
            });
        }
        for name in undeclared {
            let ident = naming::field_ident(&name, fields.iter().map(|f| f.ident.as_str()));
            let rename = !naming::round_trips(&ident, &name);
            fields.push(Field {
                ident,
                wire: name,
                rename,
                ty: Ty::Value,
                doc: Some("Required by the schema, which does not say of what type.".to_string()),
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
            });
        }
        // What the closing schemas allow beside the fields, for the closed
        // check of a union read exactly: a member that matches a closing
        // schema's `patternProperties` is not unknown to it.
        let allowed = if closed {
            self.allowed(&shape.closed, &shape.sealed, &fields)
        } else {
            Vec::new()
        };
        if lossless {
            // Closed wherever read (`validate::closed`), or only where a
            // union reads exactly (`wire::closed`).
            let enforce = closed && self.closes(file);
            let ident = naming::field_ident(
                "additional_properties",
                fields.iter().map(|f| f.ident.as_str()),
            );
            fields.push(Field {
                ident,
                wire: String::new(),
                rename: false,
                ty: Ty::Object,
                doc: Some(
                    match (enforce, allowed.is_empty()) {
                        (false, _) => "The properties the schema does not name, kept as read and written back.",
                        (true, true) => "Empty: the schema closes the object, and a property it does not name is refused.",
                        (true, false) => "The properties the schema's `patternProperties` allow beside the named ones, kept as read and written back; the object is closed to any other.",
                    }
                    .to_string(),
                ),
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
                unknown: true,
                closed,
                enforce_closed: enforce,
                allowed,
                accessor: None,
            });
        }
        for name in forbidden {
            residues.push((name, Sub::Nothing));
        }
        for (i, (f, p, span)) in shape.nothing.iter().enumerate() {
            // As a `Value` newtype's `false` part: a warning, and a type
            // that refuses every value.
            self.report(
                Severity::Warning,
                "accepts-nothing",
                *f,
                p,
                span.clone(),
                "the schema `false` is a part of this object's `allOf`, so no value matches: the type never decodes",
                Some("remove the part, or the schema it is part of"),
            );
            if i == 0 {
                rules
                    .root()
                    .keywords
                    .push(Keyword::AllOf(vec![Sub::Nothing]));
            }
        }
        if !residues.is_empty() {
            rules.root().keywords.push(Keyword::Properties(residues));
        }
        self.object_rules(&mut rules, file, pointer, node, lossless, &mut Vec::new());
        (fields, rules.finish())
    }

    /// The intersection of a property's type with an `allOf` part that
    /// says nothing but `type`, `format`, `enum` or `const` (and
    /// annotations), where it can be read off without building a new
    /// schema: a part whose values all lie within the first's is the
    /// intersection itself (`{"type": "null"}` narrowing a nullable
    /// property, `enum: [true]` a boolean, `format: date-time` a string
    /// without constraints); a part that allows every value of the first
    /// leaves it as it is, `null` aside (the caller has narrowed that).
    /// `None`: the general narrowing decides.
    fn narrowed_to_part(
        &mut self,
        lowered: &Lowered,
        (pf, pp, first): (usize, &str, &'a Node),
        (f, p, part): (usize, &str, &'a Node),
        hint: &str,
    ) -> Option<Narrowed> {
        const SIMPLE: &[&str] = &[
            "type",
            "format",
            "enum",
            "const",
            "description",
            "title",
            "deprecated",
            "default",
        ];
        let simple = |node: &Node| {
            node.members().iter().all(|m| {
                let k = m.key.as_str();
                SIMPLE.contains(&k) || ANNOTATIONS.contains(&k) || k.starts_with("x-")
            })
        };
        // The first's alternatives: a part that is one of them, or that
        // allows only types each of which one plain `{"type": ...}`
        // alternative allows, is the intersection (A and (A or B) is A).
        let mut alternatives = Vec::new();
        for keyword in ["oneOf", "anyOf"] {
            for (i, alternative) in first
                .get(keyword)
                .and_then(Node::as_array)
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                let at = format!("{pp}/{keyword}/{i}");
                let (af, ap, resolved) = self.deref(pf, &at, alternative);
                alternatives.push((at, alternative, (af, ap), resolved));
            }
        }
        let bare = |node: &Node| {
            let mut value = node.to_value();
            if let serde_json::Value::Object(map) = &mut value {
                map.retain(|k, _| {
                    !ANNOTATIONS.contains(&k.as_str())
                        && !matches!(k.as_str(), "description" | "title")
                });
            }
            value
        };
        for (at, alternative, (af, ap), resolved) in &alternatives {
            if (*af, ap.as_str()) == (f, p) || bare(resolved) == bare(part) {
                // Through the alternative as written, so a `$ref` keeps its
                // named type.
                return Some(Narrowed::To(self.ty_of(pf, at, alternative, hint)));
            }
        }
        if !simple(part) {
            return None;
        }
        let plain_types: Vec<&str> = alternatives
            .iter()
            .filter(|(.., resolved)| simple(resolved) && resolved.get("enum").is_none())
            .filter(|(.., resolved)| {
                resolved.get("const").is_none() && resolved.get("format").is_none()
            })
            .flat_map(|(.., resolved)| type_names(resolved))
            .collect();
        let part_types = type_names(part);
        if !plain_types.is_empty()
            && part.get("enum").is_none()
            && part.get("const").is_none()
            && part.get("format").is_none()
            && !part_types.is_empty()
            && part_types.iter().all(|t| plain_types.contains(t))
        {
            return Some(Narrowed::To(self.ty_of(f, p, part, hint)));
        }
        let values: Option<Vec<serde_json::Value>> = match (part.get("enum"), part.get("const")) {
            (Some(e), _) => Some(e.as_array()?.iter().map(Node::to_value).collect()),
            (None, Some(c)) => Some(vec![c.to_value()]),
            (None, None) => None,
        };
        let first_null = self.accepts_null(lowered, pf, pp, first);
        let only_null = match &values {
            Some(v) => !v.is_empty() && v.iter().all(serde_json::Value::is_null),
            None => part_types == ["null"],
        };
        if only_null {
            return Some(if first_null {
                Narrowed::To(self.ty_of(f, p, part, hint))
            } else {
                Narrowed::Empty
            });
        }
        // The JSON type of the first's values other than `null`, when it
        // is one plain type.
        let kind = match &lowered.ty {
            Ty::String | Ty::DateTime | Ty::Date | Ty::Uuid => "string",
            Ty::Bool => "boolean",
            Ty::Int(_) => "integer",
            Ty::F64 => "number",
            _ => return None,
        };
        let unconstrained = lowered.constraints.is_empty()
            && first.get("enum").is_none()
            && first.get("const").is_none();
        let types_fit = part_types.is_empty()
            || part_types
                .iter()
                .any(|t| *t == kind || (kind == "integer" && *t == "number"));
        if !types_fit {
            return None;
        }
        if let Some(values) = values {
            // Integers and numbers are left to the general narrowing, which
            // knows the widths and bounds.
            let fits = |v: &serde_json::Value| match v {
                serde_json::Value::Null => first_null,
                serde_json::Value::Bool(_) => kind == "boolean",
                serde_json::Value::String(_) => lowered.ty == Ty::String,
                _ => false,
            };
            if unconstrained && !values.is_empty() && values.iter().all(fits) {
                let mut l = self.ty_of(f, p, part, hint);
                l.nullable &= first_null;
                return Some(Narrowed::To(l));
            }
            return None;
        }
        let format = part.get("format").and_then(Node::as_str);
        let first_format = first.get("format").and_then(Node::as_str);
        match format {
            None => Some(Narrowed::Unchanged),
            Some(fm) if Some(fm) == first_format => Some(Narrowed::Unchanged),
            Some(_) if lowered.ty == Ty::String && unconstrained && first_format.is_none() => {
                let mut l = self.ty_of(f, p, part, hint);
                l.nullable &= lowered.nullable;
                Some(Narrowed::To(l))
            }
            Some(_) => None,
        }
    }

    /// Whether the schema `first`, lowered as `lowered`, accepts `null`.
    fn accepts_null(
        &mut self,
        lowered: &Lowered,
        file: usize,
        pointer: &str,
        first: &'a Node,
    ) -> bool {
        if lowered.nullable
            || matches!(lowered.ty, Ty::Unit | Ty::Option(_) | Ty::Value)
            || type_names(first).contains(&"null")
        {
            return true;
        }
        let is_null = |n: &Node| matches!(n.kind, Kind::Null);
        if first
            .get("enum")
            .and_then(Node::as_array)
            .is_some_and(|v| v.iter().any(is_null))
            || first.get("const").is_some_and(is_null)
        {
            return true;
        }
        for keyword in ["oneOf", "anyOf"] {
            let Some(alternatives) = first.get(keyword).and_then(Node::as_array) else {
                continue;
            };
            for (i, alternative) in alternatives.iter().enumerate() {
                let at = format!("{pointer}/{keyword}/{i}");
                let (_, _, alternative) = self.deref(file, &at, alternative);
                if type_names(alternative) == ["null"]
                    || alternative.get("const").is_some_and(is_null)
                {
                    return true;
                }
            }
        }
        false
    }

    /// The values `enum` and `const` allow, each as the JSON text of an
    /// array a value must be in; an `enum` that is not an array is a
    /// `bad-keyword` error.
    fn listed_values(
        &mut self,
        file: usize,
        pointer: &str,
        node: &Node,
    ) -> (Option<String>, Option<String>) {
        let listed = node.get("enum").and_then(|e| match e.as_array() {
            Some(_) => Some(e.to_value().to_string()),
            None => {
                self.report(
                    Severity::Error,
                    "bad-keyword",
                    file,
                    &format!("{pointer}/enum"),
                    e.span.clone(),
                    format!("`enum` must be an array, found {}", e.describe()),
                    None,
                );
                None
            }
        });
        let constant = node
            .get("const")
            .map(|c| serde_json::Value::Array(vec![c.to_value()]).to_string());
        (listed, constant)
    }

    /// The intersection of a property that `allOf` parts define as
    /// objects: when the first definition (after `$ref`s) is a struct and
    /// other parts define the property as an object too, one struct of
    /// both (`intersection`), named after the property. Returns its type
    /// and the parts left to `narrow` (those that are not objects); `None`
    /// when no part is an object, or the first is not a struct. A part
    /// that says no more than `type: object` and annotations narrows only
    /// `null` away.
    fn intersect_objects(
        &mut self,
        prop: &Prop<'a>,
        hint: &str,
    ) -> Option<(Lowered, Vec<Located<'a>>)> {
        if prop.also.is_empty() {
            return None;
        }
        let plain_object = |this: &mut Self, f: usize, p: &str, n: &'a Node| {
            matches!(n.kind, Kind::Object(_))
                && ["oneOf", "anyOf", "enum", "const", "not", "if"]
                    .iter()
                    .all(|k| n.get(k).is_none())
                && this.is_struct(f, p, n)
        };
        let (pf, pp, first) = self.deref(prop.file, &prop.pointer, prop.node);
        if first.get("$ref").is_some() || !plain_object(self, pf, &pp, first) {
            return None;
        }
        // `type: object` and annotations: nothing to intersect.
        let adds_nothing = |n: &Node| {
            n.members().iter().all(|m| {
                let k = m.key.as_str();
                ANNOTATIONS.contains(&k)
                    || k.starts_with("x-")
                    || matches!(k, "description" | "title" | "deprecated" | "default")
                    || (k == "type" && type_names(n).contains(&"object"))
            })
        };
        // `type: ["object", "null"]` makes the property nullable, written
        // inline or in the definition a `$ref` names.
        let mut nullable = type_names(first).contains(&"null");
        let mut parts = Vec::new();
        let mut rest = Vec::new();
        for (f, p, part) in &prop.also {
            let (df, dp, dn) = self.deref(*f, p, part);
            if (df, dp.as_str()) == (pf, pp.as_str()) {
                continue;
            }
            if dn.get("$ref").is_none() && plain_object(self, df, &dp, dn) {
                self.check_keywords(df, &dp, dn);
                let types = type_names(dn);
                if !types.is_empty() && !types.contains(&"null") {
                    nullable = false;
                }
                if !adds_nothing(dn) && !parts.contains(&(df, dp.clone())) {
                    parts.push((df, dp));
                }
            } else {
                rest.push((*f, p.clone(), *part));
            }
        }
        if parts.is_empty() && rest.len() == prop.also.len() {
            return None;
        }
        let ty = if parts.is_empty() {
            self.ty_of(prop.file, &prop.pointer, prop.node, hint).ty
        } else {
            Ty::Named(self.intersection((pf, pp), parts, hint))
        };
        Some((
            Lowered {
                ty,
                nullable,
                constraints: Vec::new(),
            },
            rest,
        ))
    }

    /// The name of the struct that intersects the object schema `first`
    /// with `parts` (each (file, pointer) after `$ref`s), claimed from
    /// `hint` and queued the first time.
    fn intersection(
        &mut self,
        first: (usize, String),
        parts: Vec<(usize, String)>,
        hint: &str,
    ) -> String {
        let key = (first, parts);
        if let Some(name) = self.intersections.get(&key) {
            return name.clone();
        }
        let ((file, pointer), parts) = key.clone();
        let prefix = self.owner.get(&file).cloned();
        let name = self.claim(hint, prefix.as_deref());
        self.intersections.insert(key, name.clone());
        self.pending.push(Pending {
            file,
            pointer,
            name: name.clone(),
            skip: None,
            parts,
        });
        name
    }

    /// Narrows the type of a property by the other `allOf` parts that
    /// define it: their bounds, lengths and counts tighten the first's, a
    /// smaller `enum` of strings replaces it, a `type` without `null` makes
    /// it required to be non-null. A part that no value of the first can
    /// satisfy (another type, disjoint values) is an `allof-conflict`
    /// naming both places; a narrowing the types cannot express is an
    /// error too, never dropped.
    /// Reports a problem of the `default` `d` of `prop`, at the default.
    fn report_default(
        &mut self,
        prop: &Prop<'a>,
        d: &Node,
        severity: Severity,
        code: &'static str,
        message: impl Into<String>,
        hint: &str,
    ) {
        self.report(
            severity,
            code,
            prop.file,
            &format!("{}/default", prop.pointer),
            d.span.clone(),
            message,
            Some(hint),
        );
    }

    fn narrow(
        &mut self,
        mut lowered: Lowered,
        prop: &Prop<'a>,
        also: &[(usize, String, &'a Node)],
        hint: &str,
    ) -> Lowered {
        if also.is_empty() {
            return lowered;
        }
        let (pf, pp, first) = self.deref(prop.file, &prop.pointer, prop.node);
        let wire = prop.wire.clone();
        let first_at = prop.pointer.clone();
        for (f, p, part) in also.iter().cloned() {
            let written = (f, p.clone());
            let (f, p, node) = self.deref(f, &p, part);
            if (f, p.as_str()) == (pf, pp.as_str()) {
                continue;
            }
            let conflict = |this: &mut Self, message: String, hint: &str| {
                this.report(
                    Severity::Error,
                    "allof-conflict",
                    f,
                    &p,
                    node.span.clone(),
                    message,
                    Some(hint),
                );
            };
            match node.kind {
                Kind::Bool(true) => continue,
                Kind::Object(_) => {}
                _ => {
                    conflict(
                        self,
                        format!(
                            "property `{wire}` is defined again by `allOf` with a schema that accepts nothing"
                        ),
                        "define it in one place",
                    );
                    continue;
                }
            }
            self.check_keywords(f, &p, node);
            if annotation_only(node) {
                // `description`, `examples`, ...: no value is refused, so
                // the first stands (its documentation is the field's).
                continue;
            }
            let types = type_names(node);
            if !types.is_empty() && !types.contains(&"null") {
                lowered.nullable = false;
            }
            match self.narrowed_to_part(&lowered, (pf, &pp, first), (f, &p, node), hint) {
                Some(Narrowed::To(l)) => {
                    lowered = l;
                    continue;
                }
                Some(Narrowed::Unchanged) => continue,
                Some(Narrowed::Empty) => {
                    conflict(
                        self,
                        format!(
                            "property `{wire}` is only `null` here, and `{first_at}` does not allow `null`; no value is both"
                        ),
                        "remove one of the definitions, or allow `null` in the first",
                    );
                    continue;
                }
                None => {}
            }
            if let Some(values) = node.get("enum") {
                let wide: Option<Vec<serde_json::Value>> = first
                    .get("enum")
                    .and_then(Node::as_array)
                    .map(|v| v.iter().map(Node::to_value).collect());
                let narrow: Vec<serde_json::Value> = values
                    .as_array()
                    .map(|v| v.iter().map(Node::to_value).collect())
                    .unwrap_or_default();
                let strings =
                    |v: &[serde_json::Value]| v.iter().all(|x| x.is_string() || x.is_null());
                match wide {
                    Some(wide) if strings(&wide) && strings(&narrow) => {
                        let outside: Vec<String> = narrow
                            .iter()
                            .filter(|v| !wide.contains(v))
                            .map(|v| v.to_string())
                            .collect();
                        if outside.is_empty() {
                            let name = self.named_as(f, &p, Some(hint), None);
                            lowered.ty = Ty::Named(name);
                        } else {
                            conflict(
                                self,
                                format!(
                                    "property `{wire}` is narrowed by `allOf` to values that `{first_at}` does not allow: {}",
                                    outside.join(", ")
                                ),
                                "list only values that both parts allow",
                            );
                        }
                    }
                    // Not an intersection the type can state: the part
                    // is checked whole beside it.
                    _ => {
                        self.whole_parts.insert(written);
                    }
                }
                continue;
            }
            let kind = match &lowered.ty {
                Ty::String => "string",
                Ty::Int(_) => "integer",
                Ty::F64 => "number",
                Ty::Bool => "boolean",
                Ty::Vec(_) => "array",
                _ => "",
            };
            let part_kinds: Vec<&str> = types.iter().copied().filter(|t| *t != "null").collect();
            if kind.is_empty() {
                // An object, a union or a formatted string, defined again:
                // the type follows the first definition, and this one is
                // checked whole beside it.
                self.whole_parts.insert(written);
                continue;
            }
            let agrees = part_kinds.is_empty()
                || part_kinds.contains(&kind)
                || (kind == "integer" && part_kinds.contains(&"number"));
            if !agrees {
                conflict(
                    self,
                    format!(
                        "property `{wire}` is of type {kind} at `{first_at}` and {} here; no value is both",
                        part_kinds.join(", ")
                    ),
                    "remove one of the definitions, or make their types agree",
                );
                continue;
            }
            self.check_misplaced(f, &p, node, kind);
            let mut more = Vec::new();
            match kind {
                "string" => {
                    let l = self.string(f, &p, node);
                    if l.ty != Ty::String {
                        self.whole_parts.insert(written);
                        continue;
                    }
                    more = l.constraints;
                }
                "number" => more = self.number(f, &p, node, false).constraints,
                "array" => {
                    self.counts(f, &p, node, ITEM_BOUNDS, &mut more);
                    if let Some(items) = node.get("items") {
                        if first.get("items").map(Node::to_value) != Some(items.to_value()) {
                            // The items of both hold: this part's are
                            // checked whole beside the first's type.
                            self.whole_parts.insert(written.clone());
                        }
                    }
                }
                "integer" => {
                    let Ty::Int(width) = lowered.ty.clone() else {
                        continue;
                    };
                    let Some((_, tmin, tmax)) = naming::int_width_named(width) else {
                        continue;
                    };
                    let bound = |c: &[Constraint], min: bool| {
                        c.iter().find_map(|c| match (c, min) {
                            (Constraint::Minimum(Num::Int(n)), true)
                            | (Constraint::Maximum(Num::Int(n)), false) => Some(*n),
                            _ => None,
                        })
                    };
                    let unbounded = |w: &str| w == "i64" || w == "u64";
                    let mut lo = bound(&lowered.constraints, true)
                        .or((width.starts_with('u') || !unbounded(width)).then_some(tmin));
                    let mut hi =
                        bound(&lowered.constraints, false).or((!unbounded(width)).then_some(tmax));
                    let part = self.number(f, &p, node, true);
                    let (_, pmin, pmax) = match &part.ty {
                        Ty::Int(w) => naming::int_width_named(w).unwrap_or(("i64", tmin, tmax)),
                        _ => ("i64", tmin, tmax),
                    };
                    let plo = bound(&part.constraints, true).or(match &part.ty {
                        Ty::Int(w) if w.starts_with('u') || !unbounded(w) => Some(pmin),
                        _ => None,
                    });
                    let phi = bound(&part.constraints, false).or(match &part.ty {
                        Ty::Int(w) if !unbounded(w) => Some(pmax),
                        _ => None,
                    });
                    lo = [lo, plo].into_iter().flatten().max();
                    hi = [hi, phi].into_iter().flatten().min();
                    if let (Some(l), Some(h)) = (lo, hi) {
                        if l > h {
                            conflict(
                                self,
                                format!(
                                    "property `{wire}`: no integer is at least {l} and at most {h}, the bounds of `{first_at}` and of this `allOf` part"
                                ),
                                "check `minimum` and `maximum` of both parts",
                            );
                            continue;
                        }
                    }
                    let (w, nmin, nmax) = naming::int_width(lo, hi);
                    lowered.ty = Ty::Int(w);
                    lowered
                        .constraints
                        .retain(|c| !matches!(c, Constraint::Minimum(_) | Constraint::Maximum(_)));
                    if let Some(l) = lo.filter(|&l| l > nmin) {
                        lowered.constraints.push(Constraint::Minimum(Num::Int(l)));
                    }
                    if let Some(h) = hi.filter(|&h| h < nmax) {
                        lowered.constraints.push(Constraint::Maximum(Num::Int(h)));
                    }
                }
                _ => {}
            }
            for c in more {
                let second_pattern = matches!(&c, Constraint::Pattern(p)
                    if lowered.constraints.iter().any(|x| matches!(x, Constraint::Pattern(q) if q != p)));
                if second_pattern {
                    // Two patterns both hold: the field checks the first,
                    // and this part, checked whole, the second.
                    self.whole_parts.insert(written.clone());
                    continue;
                }
                if let Err(why) = tighten(&mut lowered.constraints, c) {
                    conflict(
                        self,
                        format!(
                            "property `{wire}`: {why}, between `{first_at}` and this `allOf` part"
                        ),
                        "define the property in one place",
                    );
                }
            }
        }
        lowered
    }

    /// Boxes the fields through which a type contains itself; a required
    /// field of the struct's own type can hold no finite value.
    fn box_cycles(&mut self) {
        let mut edges: HashMap<String, Vec<String>> = HashMap::new();
        for item in &self.items {
            let targets = match item {
                Item::Struct(s) => s
                    .fields
                    .iter()
                    .filter_map(|f| f.ty.direct_named().map(str::to_string))
                    .collect(),
                Item::Union(u) => u
                    .variants
                    .iter()
                    .filter_map(|v| v.2.direct_named().map(str::to_string))
                    .collect(),
                Item::Newtype(n) => {
                    n.ty.direct_named()
                        .map(str::to_string)
                        .into_iter()
                        .collect()
                }
                Item::Alias(a) => {
                    a.ty.direct_named()
                        .map(str::to_string)
                        .into_iter()
                        .collect()
                }
                Item::Enum(_) => Vec::new(),
            };
            edges.insert(item.name().to_string(), targets);
        }
        let reaches = |from: &str, to: &str| -> bool {
            let mut stack = vec![from.to_string()];
            let mut seen = HashSet::new();
            while let Some(n) = stack.pop() {
                if n == to {
                    return true;
                }
                if seen.insert(n.clone()) {
                    if let Some(next) = edges.get(&n) {
                        stack.extend(next.iter().cloned());
                    }
                }
            }
            false
        };
        for item in &mut self.items {
            match item {
                Item::Struct(s) => {
                    let name = s.name.clone();
                    for f in &mut s.fields {
                        if let Some(t) = f.ty.direct_named() {
                            if reaches(t, &name) {
                                f.ty = std::mem::replace(&mut f.ty, Ty::Value).boxed();
                            }
                        }
                    }
                }
                Item::Union(u) => {
                    let name = u.name.clone();
                    for v in &mut u.variants {
                        if let Some(t) = v.2.direct_named() {
                            if reaches(t, &name) {
                                v.2 = std::mem::replace(&mut v.2, Ty::Value).boxed();
                            }
                        }
                    }
                }
                Item::Newtype(n) => {
                    if let Some(t) = n.ty.direct_named() {
                        if reaches(t, &n.name) {
                            n.ty = std::mem::replace(&mut n.ty, Ty::Value).boxed();
                        }
                    }
                }
                Item::Enum(_) | Item::Alias(_) => {}
            }
        }
    }
}

/// Adds `c` to `constraints`, keeping one constraint per keyword: the
/// tighter bound or length; two different patterns, constants or formats
/// cannot be one attribute and are an error.
fn tighten(constraints: &mut Vec<Constraint>, c: Constraint) -> Result<(), String> {
    use std::mem::discriminant;
    let value = |n: &Num| match *n {
        Num::Int(i) => i as f64,
        Num::Float(f) => f,
    };
    let Some(i) = constraints
        .iter()
        .position(|x| discriminant(x) == discriminant(&c))
    else {
        constraints.push(c);
        return Ok(());
    };
    let old = &mut constraints[i];
    let tighter = match (&*old, &c) {
        (Constraint::Minimum(a), Constraint::Minimum(b))
        | (Constraint::ExclusiveMinimum(a), Constraint::ExclusiveMinimum(b)) => value(b) > value(a),
        (Constraint::Maximum(a), Constraint::Maximum(b))
        | (Constraint::ExclusiveMaximum(a), Constraint::ExclusiveMaximum(b)) => value(b) < value(a),
        (Constraint::MinLength(a), Constraint::MinLength(b))
        | (Constraint::MinItems(a), Constraint::MinItems(b)) => b > a,
        (Constraint::MaxLength(a), Constraint::MaxLength(b))
        | (Constraint::MaxItems(a), Constraint::MaxItems(b)) => b < a,
        (a, b) if a == b => false,
        (Constraint::Pattern(_), _) => {
            return Err("two different `pattern`s cannot both be checked".to_string());
        }
        (Constraint::Constant(_), _) => {
            return Err("two different `const` values: no value is both".to_string());
        }
        (Constraint::Format(_), _) => {
            return Err("two different `format`s: no value is both".to_string());
        }
        _ => false,
    };
    if tighter {
        *old = c;
    }
    Ok(())
}

/// The description of a schema, and its title when both are given.
/// Whether the schema says nothing but annotations (`description`,
/// `title`, `examples`, `$comment`, `deprecated`, `readOnly`, `x-*`, ...),
/// so it accepts every value: narrowing by it changes nothing.
fn annotation_only(node: &Node) -> bool {
    matches!(node.kind, Kind::Object(_))
        && node.members().iter().all(|m| {
            let k = m.key.as_str();
            (ANNOTATIONS.contains(&k) && !matches!(k, "$id" | "$anchor"))
                || matches!(k, "description" | "title" | "deprecated")
                || k.starts_with("x-")
        })
}

fn doc_of(node: &Node) -> Option<String> {
    // The title names the type; it is the doc only when nothing else is.
    node.get("description")
        .or_else(|| node.get("title"))
        .and_then(Node::as_str)
        .map(str::to_string)
}

/// A schema's `pattern` (or `patternProperties` key) compiled as the
/// runtime compiles it: ECMA-262's meaning in the `regex` crate's syntax
/// (`event_rules::pattern::to_rust`).
pub(crate) fn pattern_regex(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::Regex::new(&event_rules::pattern::to_rust(pattern))
}

/// A variant name for an untagged alternative, from what it holds.
fn variant_for(ty: &Ty) -> String {
    match ty {
        Ty::String => "String".to_string(),
        Ty::Bool => "Boolean".to_string(),
        Ty::Int(_) => "Integer".to_string(),
        Ty::F64 => "Number".to_string(),
        Ty::Uuid => "Uuid".to_string(),
        Ty::DateTime => "DateTime".to_string(),
        Ty::Date => "Date".to_string(),
        Ty::Value => "Value".to_string(),
        Ty::Unit => "Null".to_string(),
        Ty::Object | Ty::Map(_) => "Object".to_string(),
        Ty::Named(n) => n.clone(),
        Ty::Vec(_) => "Array".to_string(),
        Ty::Option(t) | Ty::Box(t) => variant_for(t),
    }
}

/// Whether the schema accepts `null` and nothing else: `type: null`, or a
/// `oneOf`/`anyOf` whose every alternative is such a schema.
fn is_null_schema(node: &Node) -> bool {
    if type_names(node) == ["null"] {
        return true;
    }
    if node.get("type").is_some() || node.get("properties").is_some() {
        return false;
    }
    node.get("oneOf")
        .or_else(|| node.get("anyOf"))
        .and_then(Node::as_array)
        .is_some_and(|alts| !alts.is_empty() && alts.iter().all(is_null_schema))
}

fn type_names(node: &Node) -> Vec<&str> {
    match node.get("type").map(|t| &t.kind) {
        Some(Kind::String(s)) => vec![s.as_str()],
        Some(Kind::Array(v)) => v.iter().filter_map(Node::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Whether `node` has one `type` and it is not `object` (`"type":
/// "array"`): then `properties` and `required` beside it have no effect,
/// and it is no object, whatever its parts say.
fn typed_other_than_object(node: &Node) -> bool {
    matches!(type_names(node).as_slice(), [t] if *t != "object")
}

/// What names the type of a `$defs` entry: its key, or, for a key that is
/// a URI or a path (bundled catalogs key each definition by its `$id`:
/// `http://asyncapi.com/definitions/3.0.0/channel.json`), its last segment
/// without the file extension (`channel`). Falls back to the key when that
/// leaves nothing.
fn key_stem(key: &str) -> &str {
    if !key.contains('/') {
        return key;
    }
    let last = key
        .trim_end_matches(['/', '#'])
        .rsplit('/')
        .next()
        .unwrap_or(key);
    let last = last.split('#').next().unwrap_or(last);
    let stem = last
        .strip_suffix(".schema.json")
        .or_else(|| last.strip_suffix(".json"))
        .unwrap_or(last);
    if stem.chars().any(char::is_alphanumeric) {
        stem
    } else {
        key
    }
}

/// The Rust expression of a `default` that is not the type's zero value,
/// when it is a value of the type: scalars only.
fn default_expr(ty: &Ty, d: &Node) -> Option<String> {
    match (ty, &d.kind) {
        (Ty::String, Kind::String(s)) => Some(format!("String::from({s:?})")),
        (Ty::Bool, Kind::Bool(b)) => Some(b.to_string()),
        (Ty::Int(w), Kind::Number(n)) => {
            let v = i128::from(n.as_i64()?);
            let (_, lo, hi) = naming::int_width_named(w)?;
            (lo <= v && v <= hi).then(|| v.to_string())
        }
        (Ty::F64, Kind::Number(n)) => {
            let f = n.as_f64()?;
            let mut repr = f.to_string();
            if !repr.contains('.') && !repr.contains('e') {
                repr.push_str(".0");
            }
            Some(repr)
        }
        _ => None,
    }
}

/// Whether a default on a property of type `ty` has an accessor
/// ([`accessor_of`]); the others are applied on read as in an event.
fn default_writable(ty: &Ty, d: &Node) -> bool {
    accessor_of(ty, d).is_some()
}

/// The accessor that applies the default `d` to a missing property of
/// type `ty`: scalars and strings, and arrays whose default is `[]`.
fn accessor_of(ty: &Ty, d: &Node) -> Option<Accessor> {
    let zero = is_type_default(ty, d);
    let getter = match ty {
        Ty::String => Getter::Str,
        Ty::Bool | Ty::Int(_) | Ty::F64 => Getter::Copied,
        Ty::Vec(_) if zero => Getter::Slice,
        _ => return None,
    };
    let value = if zero {
        None
    } else {
        Some(default_expr(ty, d)?)
    };
    let value = match (getter, value) {
        // `&str`: the literal itself, not a `String`.
        (Getter::Str, Some(_)) => Some(format!("{:?}", d.as_str()?)),
        (_, v) => v,
    };
    Some(Accessor {
        getter,
        value,
        default: d.to_value().to_string(),
    })
}

/// Whether a `default` is what `Default::default()` gives for `ty`.
fn is_type_default(ty: &Ty, d: &Node) -> bool {
    match (ty, &d.kind) {
        (Ty::String, Kind::String(s)) => s.is_empty(),
        (Ty::Bool, Kind::Bool(b)) => !b,
        (Ty::Int(_), Kind::Number(n)) => n.as_i64() == Some(0) || n.as_u64() == Some(0),
        (Ty::F64, Kind::Number(n)) => n.as_f64() == Some(0.0),
        (Ty::Vec(_), Kind::Array(v)) => v.is_empty(),
        (Ty::Map(_) | Ty::Object, Kind::Object(m)) => m.is_empty(),
        _ => false,
    }
}

/// The keyword of `constraints` that the default `d` breaks, if any.
fn default_breaks(constraints: &[Constraint], d: &Node) -> Option<&'static str> {
    let num = |n: &Num| match *n {
        Num::Int(i) => i as f64,
        Num::Float(f) => f,
    };
    let value = d.to_value();
    let (text, number) = (value.as_str(), value.as_f64());
    let chars = text.map(|t| t.chars().count() as u64);
    for c in constraints {
        let broken = match c {
            Constraint::Minimum(n) => number.is_some_and(|v| v < num(n)),
            Constraint::Maximum(n) => number.is_some_and(|v| v > num(n)),
            Constraint::ExclusiveMinimum(n) => number.is_some_and(|v| v <= num(n)),
            Constraint::ExclusiveMaximum(n) => number.is_some_and(|v| v >= num(n)),
            Constraint::MinLength(n) => chars.is_some_and(|l| l < *n),
            Constraint::MaxLength(n) => chars.is_some_and(|l| l > *n),
            Constraint::Pattern(p) => {
                text.is_some_and(|t| pattern_regex(p).is_ok_and(|re| !re.is_match(t)))
            }
            Constraint::MinItems(n) => value.as_array().is_some_and(|a| (a.len() as u64) < *n),
            Constraint::MaxItems(n) => value.as_array().is_some_and(|a| (a.len() as u64) > *n),
            Constraint::Constant(_) | Constraint::Format(_) => false,
        };
        if broken {
            return Some(match c {
                Constraint::Minimum(_) => "minimum",
                Constraint::Maximum(_) => "maximum",
                Constraint::ExclusiveMinimum(_) => "exclusiveMinimum",
                Constraint::ExclusiveMaximum(_) => "exclusiveMaximum",
                Constraint::MinLength(_) => "minLength",
                Constraint::MaxLength(_) => "maxLength",
                Constraint::Pattern(_) => "pattern",
                Constraint::MinItems(_) => "minItems",
                Constraint::MaxItems(_) => "maxItems",
                Constraint::Constant(_) | Constraint::Format(_) => "const",
            });
        }
    }
    None
}

/// Decodes `%XX` escapes of a URI fragment.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(s.get(i + 1..i + 3).unwrap_or("zz"), 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}
