//! The generator's items to formatted Rust.

use crate::model::{
    Alias, Constraint, Field, Getter, Item, Newtype, Num, OpenEnum, Struct, Ty, Union,
};

mod layout;
mod program;

/// How the generated code names the runtime crate.
pub(crate) struct Emit {
    /// The path (`::event_runtime`), already checked to parse as a path.
    pub rt: String,
    /// The path as the user wrote it, for `#[event(crate = "...")]`; `None`
    /// for the default.
    pub crate_attr: Option<String>,
}

impl Emit {
    /// Formats the items. Large catalogs are split into one chunk per
    /// core: parsing and printing dominate generation, and top-level items
    /// print the same together or apart.
    pub fn file(&self, items: &[Item], header: &str) -> Result<String, String> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = if items.len() < 256 || threads < 2 {
            items.len().max(1)
        } else {
            items.len().div_ceil(threads)
        };
        // Only untagged unions read them.
        let untagged = items
            .iter()
            .any(|i| matches!(i, Item::Union(u) if u.tag.is_none()));
        let names = &if untagged { names(items) } else { Names::new() };
        let parts: Vec<Result<String, String>> = std::thread::scope(|scope| {
            let handles: Vec<_> = items
                .chunks(chunk)
                .map(|part| scope.spawn(move || self.format(part, names)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err("the formatter panicked".to_string()))
                })
                .collect()
        });
        let mut out = String::from(header);
        for part in parts {
            out.push_str(&part?);
        }
        Ok(out)
    }

    /// The typed routing of the catalog: `CatalogEvent` over every event
    /// type and major, and per service its `ProducedBy` impls and its
    /// inbound enum. The event structs carry their producer and consumers,
    /// so this is derived from them alone.
    pub fn routing(&self, items: &[Item]) -> Result<String, String> {
        use std::collections::BTreeMap;
        use std::fmt::Write;
        let rt = &self.rt;
        let events: Vec<(&str, &crate::model::EventAttrs)> = items
            .iter()
            .filter_map(|item| match item {
                Item::Struct(s) => s.event.as_ref().map(|e| (s.name.as_str(), e)),
                _ => None,
            })
            .collect();
        if events.is_empty() {
            return Ok(String::new());
        }
        // service -> (events it produces, events it consumes)
        let mut services: BTreeMap<&str, (Vec<&str>, Vec<&str>)> = BTreeMap::new();
        for (name, e) in &events {
            services
                .entry(e.producer.as_str())
                .or_default()
                .0
                .push(name);
            for (consumer, _) in &e.consumers {
                let consumed = &mut services.entry(consumer.as_str()).or_default().1;
                if !consumed.contains(name) {
                    consumed.push(name);
                }
            }
        }
        // Written indented by hand: prettyplease prints macro bodies as one
        // run of tokens. syn still parses it, so nothing malformed leaves.
        let mut out = String::from("\n");
        let catalog = |out: &mut String,
                       indent: &str,
                       doc: &str,
                       name: &str,
                       variants: &[&str],
                       path: &str| {
            let _ = writeln!(out, "{indent}{rt}::catalog! {{");
            let _ = writeln!(out, "{indent}    #[doc = {doc:?}]");
            let _ = writeln!(out, "{indent}    #[derive(Debug, Clone, PartialEq)]");
            let _ = writeln!(out, "{indent}    #[allow(clippy::large_enum_variant)]");
            let _ = writeln!(out, "{indent}    pub enum {name} {{");
            for v in variants {
                let _ = writeln!(out, "{indent}        {v}({path}{v}),");
            }
            let _ = writeln!(out, "{indent}    }}");
            let _ = writeln!(out, "{indent}}}");
        };
        let all: Vec<&str> = events.iter().map(|(name, _)| *name).collect();
        catalog(
            &mut out,
            "",
            " Every event of the catalog: one variant per event type and major version.",
            "CatalogEvent",
            &all,
            "",
        );
        out.push_str("\n/// The services of the catalog: what each may publish and what it must handle.\npub mod services {\n");
        let mut used = std::collections::HashSet::new();
        for (i, (service, (produced, consumed))) in services.iter().enumerate() {
            let mut ty = crate::naming::type_ident(service);
            while !used.insert(ty.clone()) {
                ty.push('_');
            }
            if i > 0 {
                out.push('\n');
            }
            let _ = writeln!(out, "    #[doc = {:?}]", format!(" `{service}`."));
            let _ = writeln!(out, "    #[derive(Debug, Clone, Copy, PartialEq, Eq)]");
            let _ = writeln!(out, "    pub struct {ty};");
            let _ = writeln!(out, "    impl {rt}::Service for {ty} {{");
            let _ = writeln!(out, "        const NAME: &'static str = {service:?};");
            let _ = writeln!(out, "    }}");
            for event in produced {
                let _ = writeln!(
                    out,
                    "    impl {rt}::ProducedBy<{ty}> for super::{event} {{}}"
                );
            }
            if !consumed.is_empty() {
                let doc = format!(" The events `{service}` consumes.");
                catalog(
                    &mut out,
                    "    ",
                    &doc,
                    &format!("{ty}Inbound"),
                    consumed,
                    "super::",
                );
            }
        }
        out.push_str("}\n");
        syn::parse_file(&out).map_err(|e| format!("generated routing does not parse: {e}"))?;
        Ok(out)
    }

    /// The items in their final layout: the common ones written in it
    /// directly (`layout`), each run of the others written as source text
    /// for `syn` to parse and prettyplease to print.
    fn format(&self, items: &[Item], names: &Names) -> Result<String, String> {
        let mut out = String::with_capacity(items.len() * 1024);
        let mut w = Writer {
            out: String::new(),
            rt: &self.rt,
            crate_attr: self.crate_attr.as_deref(),
            names,
        };
        let print = |source: &mut String, out: &mut String| -> Result<(), String> {
            if !source.is_empty() {
                let file = syn::parse_file(source)
                    .map_err(|e| format!("generated code does not parse: {e}"))?;
                out.push_str(&prettyplease::unparse(&file));
                source.clear();
            }
            Ok(())
        };
        for item in items {
            let start = out.len();
            if w.laid_out(item, &mut out) {
                if !w.out.is_empty() {
                    let laid = out.split_off(start);
                    print(&mut w.out, &mut out)?;
                    out.push_str(&laid);
                }
            } else {
                w.item(item);
            }
        }
        print(&mut w.out, &mut out)?;
        Ok(out)
    }
}

/// Writes the items as Rust source text for syn to parse and prettyplease
/// to print. Every user string goes out as an escaped literal (`{:?}` of a
/// `str` is a valid Rust string literal) and every identifier was made by
/// `naming`, so nothing in a schema can become code.
struct Writer<'a> {
    out: String,
    rt: &'a str,
    crate_attr: Option<&'a str>,
    /// What each generated type names at its top, for the unions that hold
    /// it ([`names`]).
    names: &'a Names,
}

/// What a type names at its top, as `wire::Names` says it to a union:
/// its properties, and the values of each property that is an `enum` of
/// strings.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Named {
    pub properties: Vec<String>,
    pub values: Vec<(String, Vec<String>)>,
}

/// [`Named`] of every struct, union and alias, by name.
pub(crate) type Names = std::collections::HashMap<String, Named>;

/// What every item names at its top. A struct names its fields' wire
/// names, and the values of those whose type is an open enum; a union
/// names what any of its alternatives names, and a property's values only
/// when every alternative naming it lists values (one that takes any
/// string makes the property free); an alias names what it stands for.
pub(crate) fn names(items: &[Item]) -> Names {
    let by_name: std::collections::HashMap<&str, &Item> =
        items.iter().map(|i| (i.name(), i)).collect();
    let mut names = Names::new();
    for item in items {
        let mut visiting = Vec::new();
        named(item, &by_name, &mut visiting, &mut 0, &mut names);
    }
    names
}

/// The generated item a value of `ty` is, through `Option` and `Box`.
fn held(ty: &Ty) -> Option<&str> {
    match ty {
        Ty::Option(t) | Ty::Box(t) => held(t),
        Ty::Named(n) => Some(n),
        _ => None,
    }
}

/// [`Named`] of `item`, from `done` when it was found already (so a type
/// that many unions hold is looked at once); a type that holds itself
/// names nothing more through itself.
fn named<'a>(
    item: &'a Item,
    by_name: &std::collections::HashMap<&str, &'a Item>,
    visiting: &mut Vec<&'a str>,
    cuts: &mut usize,
    done: &mut Names,
) -> Named {
    if let Some(found) = done.get(item.name()) {
        return found.clone();
    }
    if visiting.contains(&item.name()) {
        *cuts += 1;
        return Named::default();
    }
    let cuts_before = *cuts;
    visiting.push(item.name());
    let target = |ty: &Ty| -> Option<&'a Item> { held(ty).and_then(|n| by_name.get(n).copied()) };
    let found = match item {
        Item::Struct(s) => {
            let mut own = Named::default();
            for f in s.fields.iter().filter(|f| !f.unknown) {
                own.properties.push(f.wire.clone());
                if let Some(Item::Enum(e)) = target(&f.ty) {
                    let values = e.variants.iter().map(|(_, w)| w.clone()).collect();
                    own.values.push((f.wire.clone(), values));
                }
            }
            own
        }
        Item::Union(u) => {
            let mut own = Named::default();
            // Properties some alternative names without listing values.
            let mut free: Vec<String> = Vec::new();
            if let Some(tag) = &u.tag {
                own.properties.push(tag.clone());
                let tags = u
                    .variants
                    .iter()
                    .filter_map(|(_, w, _)| w.clone())
                    .collect();
                own.values.push((tag.clone(), tags));
            }
            for (_, _, ty) in &u.variants {
                let Some(inner) = target(ty) else {
                    continue;
                };
                let part = named(inner, by_name, visiting, cuts, done);
                for p in part.properties {
                    if !part.values.iter().any(|(v, _)| *v == p) {
                        free.push(p.clone());
                    }
                    if !own.properties.contains(&p) {
                        own.properties.push(p);
                    }
                }
                for (p, values) in part.values {
                    match own.values.iter_mut().find(|(v, _)| *v == p) {
                        Some((_, listed)) => {
                            for v in values {
                                if !listed.contains(&v) {
                                    listed.push(v);
                                }
                            }
                        }
                        None => own.values.push((p, values)),
                    }
                }
            }
            own.values.retain(|(p, _)| !free.contains(p));
            own
        }
        Item::Alias(a) => target(&a.ty)
            .map(|t| named(t, by_name, visiting, cuts, done))
            .unwrap_or_default(),
        Item::Enum(_) | Item::Newtype(_) => Named::default(),
    };
    visiting.pop();
    // A part found through a cycle cut short lacks what the cycle adds;
    // it is kept for the others only when complete (no cut below it, or
    // it is where the walk began).
    if visiting.is_empty() || *cuts == cuts_before {
        done.insert(item.name().to_string(), found.clone());
    }
    found
}

impl Writer<'_> {
    fn push(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn lit(&mut self, s: &str) {
        use std::fmt::Write;
        let _ = write!(self.out, "{s:?}");
    }

    fn doc(&mut self, doc: Option<&str>) {
        let Some(doc) = doc else {
            return;
        };
        for line in doc_lines(doc) {
            self.push("#[doc = ");
            self.lit(&format!(" {line}"));
            self.push("]\n");
        }
    }

    fn crate_attr(&mut self) {
        if let Some(c) = self.crate_attr {
            self.push("#[event(crate = ");
            self.lit(c);
            self.push(")]\n");
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Struct(s) => self.strukt(s),
            Item::Enum(e) => self.open_enum(e),
            Item::Union(u) => self.union(u),
            Item::Newtype(n) => self.newtype(n),
            Item::Alias(a) => self.alias(a),
        }
    }

    fn alias(&mut self, a: &Alias) {
        self.doc(a.doc.as_deref());
        let ty = self.ty(&a.ty);
        self.push(&format!("pub type {} = {ty};\n", a.name));
    }

    /// `pub struct Name(pub T);` with hand-written serde impls: the value is
    /// written as `T` is, and read as `T` then validated, so a value that
    /// breaks a constraint never decodes.
    fn newtype(&mut self, n: &Newtype) {
        self.doc(n.doc.as_deref());
        let rt = self.rt;
        let name = &n.name;
        let ty = self.ty(&n.ty);
        let serde = format!("{rt}::__private::serde");
        let v = format!("{rt}::__private::validate");
        // `time` types take the runtime's wire formats, as fields do.
        let with = match &n.ty {
            Ty::DateTime => Some("rfc3339"),
            Ty::Date => Some("date"),
            Ty::Option(t) if **t == Ty::DateTime => Some("rfc3339::option"),
            Ty::Option(t) if **t == Ty::Date => Some("date::option"),
            Ty::Vec(t) if **t == Ty::DateTime => Some("rfc3339_vec"),
            Ty::Vec(t) if **t == Ty::Date => Some("date_vec"),
            _ => None,
        };
        let (ser, de) = match with {
            Some(w) => (
                format!("{rt}::__private::wire::{w}::serialize(&self.0, serializer)"),
                format!("{rt}::__private::wire::{w}::deserialize(deserializer)?"),
            ),
            None => (
                format!("{serde}::Serialize::serialize(&self.0, serializer)"),
                if integral(&n.ty) {
                    format!("{rt}::__private::wire::integer::<_, {ty}>(deserializer)?")
                } else {
                    format!("<{ty} as {serde}::Deserialize>::deserialize(deserializer)?")
                },
            ),
        };
        self.push(&format!(
            "#[derive(Debug, Clone, PartialEq)]\npub struct {name}(pub {ty});\n\
             impl {name} {{\n\
             /// The value, when it satisfies the schema.\n\
             pub fn new(value: {ty}) -> ::core::result::Result<Self, {rt}::ValidationError> {{\n\
             let value = {name}(value);\n\
             {rt}::EventData::validate(&value)?;\n\
             ::core::result::Result::Ok(value)\n}}\n}}\n\
             impl {serde}::Serialize for {name} {{\n\
             fn serialize<S: {serde}::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {{\n{ser}\n}}\n}}\n\
             impl<'de> {serde}::Deserialize<'de> for {name} {{\n\
             fn deserialize<D: {serde}::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {{\n\
             let value = {name}({de});\n\
             {rt}::EventData::validate(&value).map_err(<D::Error as {serde}::de::Error>::custom)?;\n\
             ::core::result::Result::Ok(value)\n}}\n}}\n"
        ));
        let mut body = String::new();
        let mut statics = 0;
        if n.ty == Ty::Value {
            value_checks(
                &v,
                "self.0",
                &n.types,
                &n.values,
                &n.constraints,
                &mut body,
                &mut statics,
            );
        } else {
            checks(
                &v,
                &n.ty,
                "&self.0",
                &n.constraints,
                &mut body,
                &mut statics,
                0,
                "",
            );
        }
        if let Some(program) = &n.check {
            body.push_str("self.__rules()?;\n");
            let serialize = n.ty != Ty::Value;
            self.push(&program::emit(rt, name, program, serialize));
        }
        let mut nested = String::new();
        nested_validate(&v, &n.ty, "&self.0", &mut nested, 0, "");
        self.push(&format!(
            "impl {rt}::EventData for {name} {{\n\
             fn fields() -> &'static [{rt}::FieldInfo] {{\n&[]\n}}\n\
             #[allow(clippy::needless_borrow)]\n\
             fn validate(&self) -> ::core::result::Result<(), {rt}::ValidationError> {{\n\
             #[allow(unused_imports)]\n\
             use {v}::{{ViaEventData as _, ViaOther as _}};\n\
             {body}{nested}::core::result::Result::Ok(())\n}}\n}}\n"
        ));
    }

    fn strukt(&mut self, s: &Struct) {
        self.doc(s.doc.as_deref());
        let derive = if s.event.is_some() {
            "Event"
        } else {
            "EventData"
        };
        let rt = self.rt;
        self.push(&format!(
            "#[derive(Debug, Clone, PartialEq, {rt}::{derive})]\n"
        ));
        if let Some(e) = &s.event {
            self.push("#[event(type = ");
            self.lit(&e.type_name);
            self.push(", version = ");
            self.lit(&e.version);
            self.push(", producer = ");
            self.lit(&e.producer);
            if let Some(d) = &e.delivery {
                self.push(", delivery = ");
                self.lit(d);
            }
            if let Some(o) = &e.ordering {
                self.push(", ordering = ");
                self.lit(o);
            }
            if let Some(every) = &e.expected_every {
                self.push(", expected_every = ");
                self.lit(every);
            }
            self.push(")]\n");
            for (service, reason) in &e.consumers {
                self.push("#[event(consumer(service = ");
                self.lit(service);
                self.push(", reason = ");
                self.lit(reason);
                self.push("))]\n");
            }
        }
        self.crate_attr();
        let enforced = s.fields.iter().find(|f| f.enforce_closed);
        if enforced.is_some() {
            self.push("#[event(check = \"Self::__closed\")]\n");
        } else if s.check.is_some() {
            self.push("#[event(check = \"Self::__rules\")]\n");
        }
        self.push(&format!("pub struct {} {{\n", s.name));
        for f in &s.fields {
            self.field(&s.name, f);
        }
        self.push("}\n");
        if let Some(program) = &s.check {
            self.push(&program::emit(self.rt, &s.name, program, true));
        }
        if let Some(f) = enforced {
            let rt = self.rt;
            let allowed = if f.allowed.is_empty() {
                "::core::option::Option::None"
            } else {
                "::core::option::Option::Some(Self::__allowed)"
            };
            let rules = if s.check.is_some() {
                "self.__rules()"
            } else {
                "::core::result::Result::Ok(())"
            };
            self.push(&format!(
                "impl {name} {{\n\
                 /// The schema closes the object: no member beside the fields \
                 but those it allows.\n\
                 fn __closed(&self) -> ::core::result::Result<(), {rt}::ValidationError> {{\n\
                 {rt}::__private::validate::closed(&self.{field}, {allowed})?;\n\
                 {rules}\n}}\n}}\n",
                name = s.name,
                field = f.ident,
            ));
        }
        if let Some(f) = s.fields.iter().find(|f| f.closed && !f.allowed.is_empty()) {
            self.allowed(&s.name, &f.allowed);
        }
        // Defaults that are not the zero value: one function each, named in
        // the field's `#[serde(default = "...")]`.
        let defaults: Vec<&Field> = s
            .fields
            .iter()
            .filter(|f| f.default_value.is_some())
            .collect();
        let accessors: Vec<&Field> = s.fields.iter().filter(|f| f.accessor.is_some()).collect();
        if !defaults.is_empty() || !accessors.is_empty() {
            self.push(&format!("impl {} {{\n", s.name));
            for f in defaults {
                let ty = self.ty(&f.ty);
                let value = f.default_value.as_deref().unwrap_or_default();
                self.push(&format!(
                    "fn default_{}() -> {ty} {{\n{value}\n}}\n",
                    f.ident.trim_end_matches('_')
                ));
            }
            for f in accessors {
                self.accessor(f);
            }
            self.push("}\n");
        }
    }

    fn accessor(&mut self, f: &Field) {
        let (Some(a), Ty::Option(inner)) = (&f.accessor, &f.ty) else {
            return;
        };
        self.doc(Some(&format!(
            "`{}`, or the schema's default `{}` when the payload has none; the field itself stays missing, so it is not written back.",
            f.ident, a.default
        )));
        let id = &f.ident;
        let (ret, body) = match (a.getter, &a.value) {
            (Getter::Copied, Some(v)) => (self.ty(inner), format!("self.{id}.unwrap_or({v})")),
            (Getter::Copied, None) => (self.ty(inner), format!("self.{id}.unwrap_or_default()")),
            (Getter::Str, Some(v)) => (
                "&str".to_string(),
                format!("self.{id}.as_deref().unwrap_or({v})"),
            ),
            (Getter::Str, None) => (
                "&str".to_string(),
                format!("self.{id}.as_deref().unwrap_or_default()"),
            ),
            (Getter::Slice, _) => {
                let item = match &**inner {
                    Ty::Vec(t) => self.ty(t),
                    other => self.ty(other),
                };
                (
                    format!("&[{item}]"),
                    format!("self.{id}.as_deref().unwrap_or_default()"),
                )
            }
        };
        // The getter of a deprecated field is deprecated with it, and reads
        // the field without the warning a user's own read gets.
        if f.deprecated {
            self.push("#[deprecated]\n#[allow(deprecated)]\n");
        }
        self.push(&format!("pub fn {id}(&self) -> {ret} {{\n{body}\n}}\n"));
    }

    fn field(&mut self, owner: &str, f: &Field) {
        self.doc(f.doc.as_deref());
        if f.default_value.is_some() {
            let path = format!("{owner}::default_{}", f.ident.trim_end_matches('_'));
            self.push(&format!("#[serde(default = {path:?})]\n"));
        }
        if f.deprecated {
            self.push("#[deprecated]\n");
        }
        let args = field_args(f, integral(&f.ty));
        if !args.is_empty() {
            self.push(&format!("#[event({})]\n", args.join(", ")));
        }
        let ty = self.ty(&f.ty);
        self.push(&format!("pub {}: {ty},\n", f.ident));
    }

    fn open_enum(&mut self, e: &OpenEnum) {
        self.doc(e.doc.as_deref());
        let rt = self.rt;
        self.push(&format!(
            "#[derive(Debug, Clone, PartialEq, Eq, Hash, {rt}::OpenEnum)]\n"
        ));
        self.crate_attr();
        self.push(&format!("pub enum {} {{\n", e.name));
        for (ident, wire) in &e.variants {
            self.push(&format!("#[event(rename = {wire:?})]\n{ident},\n"));
        }
        self.push(&format!(
            "/// A value this version does not know, kept as written.\n#[event(other)]\n{}(String),\n}}\n",
            e.other
        ));
    }

    fn union(&mut self, u: &Union) {
        self.doc(u.doc.as_deref());
        let rt = self.rt;
        // An untagged union reads through `wire::union`, which tries every
        // variant (and, for `oneOf`, refuses a value that two match);
        // serde's `untagged` would take the first and could not tell.
        let derives = if u.tag.is_some() {
            format!("{rt}::__private::serde::Serialize, {rt}::__private::serde::Deserialize")
        } else {
            format!("{rt}::__private::serde::Serialize")
        };
        self.push(&format!("#[derive(Debug, Clone, PartialEq, {derives})]\n"));
        let serde_path = format!("{rt}::__private::serde");
        match &u.tag {
            Some(tag) => self.push(&format!(
                "#[serde(crate = {serde_path:?}, tag = {tag:?})]\n"
            )),
            None => self.push(&format!("#[serde(crate = {serde_path:?}, untagged)]\n")),
        }
        self.push(&format!("pub enum {} {{\n", u.name));
        for (ident, wire, ty) in &u.variants {
            if let Some(w) = wire {
                self.push(&format!("#[serde(rename = {w:?})]\n"));
            }
            if let Some((write, _)) = wire_format(ty) {
                self.push(&format!(
                    "#[serde(serialize_with = {:?})]\n",
                    format!("{rt}::__private::wire::{write}")
                ));
            }
            let ty = self.ty(ty);
            self.push(&format!("{ident}({ty}),\n"));
        }
        self.push("}\n");
        let checked = u.checks.iter().any(|c| !c.is_empty());
        if checked {
            self.variant_checks(u);
        }
        if u.tag.is_none() {
            self.untagged_deserialize(u);
        }
        // A union is a payload part like a struct: `Event::validate` reaches
        // the constraints of the variant it holds. The probe resolves to the
        // variant's own `EventData::validate`, or to nothing for a scalar.
        self.push(&format!(
            "impl {rt}::EventData for {name} {{\n\
             fn fields() -> &'static [{rt}::FieldInfo] {{\n&[]\n}}\n\
             #[allow(clippy::needless_borrow)]\n\
             fn validate(&self) -> ::core::result::Result<(), {rt}::ValidationError> {{\n\
             #[allow(unused_imports)]\n\
             use {rt}::validate::{{ViaEventData as _, ViaOther as _}};\n\
             {check}\
             match {subject} {{\n",
            name = u.name,
            check = if checked {
                "self.check_variant()?;\n"
            } else {
                ""
            },
            // A reference to an empty enum is not itself empty (E0004).
            subject = if u.variants.is_empty() {
                "*self"
            } else {
                "self"
            },
        ));
        for (ident, _, _) in &u.variants {
            self.push(&format!(
                "Self::{ident}(v) => (&{rt}::validate::Probe(v)).validate_nested(),\n"
            ));
        }
        self.push("}\n}\n}\n");
    }

    fn untagged_deserialize(&mut self, u: &Union) {
        let rt = self.rt;
        let p = format!("{rt}::__private");
        let keyword = if u.exclusive { "oneOf" } else { "anyOf" };
        // What each alternative names, when one names anything: the
        // tolerant pass does not let an alternative keep as unknown what
        // another one names (`wire::union_named`).
        let named: Vec<Named> = u
            .variants
            .iter()
            .map(|(_, _, ty)| {
                held(ty)
                    .and_then(|n| self.names.get(n))
                    .cloned()
                    .unwrap_or_default()
            })
            .collect();
        let told = named.len() > 1 && named.iter().any(|n| !n.properties.is_empty());
        self.push(&format!(
            "impl<'de> {p}::serde::Deserialize<'de> for {name} {{\n\
             fn deserialize<D: {p}::serde::Deserializer<'de>>(d: D) -> ::core::result::Result<Self, D::Error> {{\n\
             let value = {p}::wire::strict_value(d)?;\n\
             {p}::wire::{read}({keyword:?}, &value, &[\n",
            name = u.name,
            read = if told { "union_named" } else { "union" },
        ));
        for (i, (ident, _, ty)) in u.variants.iter().enumerate() {
            let read = match wire_format(ty) {
                Some((_, Some(read))) => format!("{p}::wire::{read}(v)"),
                _ if integral(ty) => format!("{p}::wire::integer::<_, {}>(v)", self.ty(ty)),
                _ => format!(
                    "<{} as {p}::serde::Deserialize>::deserialize(v)",
                    self.ty(ty)
                ),
            };
            if u.checks.get(i).is_some_and(|c| !c.is_empty()) {
                self.push(&format!(
                    "({ident:?}, |v| {{\nlet u = {read}.map(Self::{ident})?;\n\
                     u.check_variant().map_err(<{p}::serde_json::Error as {p}::serde::de::Error>::custom)?;\n\
                     Ok(u)\n}}),\n"
                ));
            } else {
                self.push(&format!("({ident:?}, |v| {read}.map(Self::{ident})),\n"));
            }
        }
        if told {
            self.push("], &[\n");
            for n in &named {
                self.push(&format!("{p}::wire::Names {{ properties: &["));
                for prop in &n.properties {
                    self.push(&format!("{prop:?}, "));
                }
                self.push("], values: &[");
                for (prop, values) in &n.values {
                    self.push(&format!("({prop:?}, &["));
                    for v in values {
                        self.push(&format!("{v:?}, "));
                    }
                    self.push("]), ");
                }
                self.push("] },\n");
            }
        }
        self.push(&format!(
            "]).map_err(<D::Error as {p}::serde::de::Error>::custom)\n}}\n}}\n"
        ));
    }

    /// `fn __allowed(name: &str) -> bool`: whether every schema that
    /// closes the struct allows a member that is not one of its fields,
    /// by name or by a `patternProperties` pattern (`#[event(unknown,
    /// closed = "Self::__allowed")]`).
    fn allowed(&mut self, name: &str, allowed: &[crate::model::Allowed]) {
        let v = format!("{}::__private::validate", self.rt);
        let mut statics = String::new();
        let mut all = Vec::new();
        let mut n = 0;
        for a in allowed {
            let mut any: Vec<String> = Vec::new();
            if !a.names.is_empty() {
                let names: Vec<String> = a.names.iter().map(|n| format!("{n:?}")).collect();
                any.push(format!("matches!(name, {})", names.join(" | ")));
            }
            for p in &a.patterns {
                statics.push_str(&format!(
                    "static PATTERN_{n}: {v}::Pattern = {v}::Pattern::new({p:?});
"
                ));
                any.push(format!("PATTERN_{n}.matches(name)"));
                n += 1;
            }
            all.push(if allowed.len() > 1 && any.len() > 1 {
                format!("({})", any.join(" || "))
            } else {
                any.join(" || ")
            });
        }
        self.push(&format!(
            "impl {name} {{\n\
             /// Whether the schema allows a member that is not a field, by\n\
             /// name or by a `patternProperties` pattern.\n\
             fn __allowed(name: &str) -> bool {{\n{statics}{}\n}}\n}}\n",
            all.join(" && ")
        ));
    }

    /// `check_variant`: the constraints of the variant held, as a struct
    /// field of the same schema would check them.
    fn variant_checks(&mut self, u: &Union) {
        let rt = self.rt;
        let v = format!("{rt}::__private::validate");
        self.push(&format!(
            "impl {} {{\n#[allow(irrefutable_let_patterns)]\nfn check_variant(&self) -> ::core::result::Result<(), {rt}::ValidationError> {{\n",
            u.name
        ));
        let mut statics = 0;
        for ((ident, _, ty), constraints) in u.variants.iter().zip(&u.checks) {
            if constraints.is_empty() {
                continue;
            }
            let mut body = format!("if let Self::{ident}(x) = self {{\n");
            checks(&v, ty, "x", constraints, &mut body, &mut statics, 0, "");
            body.push_str("}\n");
            self.push(&body);
        }
        self.push("Ok(())\n}\n}\n");
    }

    fn ty(&self, ty: &Ty) -> String {
        let rt = self.rt;
        match ty {
            Ty::String => "String".to_string(),
            Ty::Bool => "bool".to_string(),
            Ty::Int(w) => (*w).to_string(),
            Ty::F64 => "f64".to_string(),
            Ty::Uuid => format!("{rt}::Uuid"),
            Ty::DateTime => format!("{rt}::OffsetDateTime"),
            Ty::Date => format!("{rt}::__private::time::Date"),
            Ty::Value => format!("{rt}::Value"),
            Ty::Unit => "()".to_string(),
            Ty::Object => format!("{rt}::Map<String, {rt}::Value>"),
            Ty::Named(n) => n.clone(),
            Ty::Vec(t) => format!("Vec<{}>", self.ty(t)),
            Ty::Map(t) => format!("::std::collections::BTreeMap<String, {}>", self.ty(t)),
            Ty::Option(t) => format!("Option<{}>", self.ty(t)),
            Ty::Box(t) => format!("Box<{}>", self.ty(t)),
        }
    }
}

/// The lines of a doc comment as written: a bare carriage return ends a
/// line too (inside a `///` comment it is a lexer error, so a description
/// holding one would not compile), and fences are escaped so a description
/// cannot open a doctest.
fn doc_lines(doc: &str) -> impl Iterator<Item = String> + '_ {
    doc.lines().flat_map(|l| l.split('\r')).map(|line| {
        line.trim_start()
            .replace("```", "\\`\\`\\`")
            .replace("~~~", "\\~\\~\\~")
    })
}

/// The arguments of a field's `#[event(...)]`, in order; `integer` when
/// the values are JSON Schema integers.
fn field_args(f: &Field, integer: bool) -> Vec<String> {
    let mut args: Vec<String> = Vec::new();
    if f.rename {
        args.push(format!("rename = {:?}", f.wire));
    }
    if let Some(since) = &f.since {
        args.push(format!("since = {since:?}"));
    }
    for (on, word) in [
        (f.key, "key"),
        (f.partition, "partition"),
        (f.default, "default"),
        (f.not_sensitive, "not_sensitive"),
        (f.required, "required"),
        (f.non_null, "non_null"),
        (f.unknown, "unknown"),
        (
            f.closed && !f.enforce_closed && f.allowed.is_empty(),
            "closed",
        ),
        // JSON Schema's integers: `1.0` reads as `1`.
        (integer && !f.unknown, "integer"),
    ] {
        if on {
            args.push(word.to_string());
        }
    }
    if f.closed && !f.enforce_closed && !f.allowed.is_empty() {
        args.push("closed = \"Self::__allowed\"".to_string());
    }
    for c in &f.constraints {
        args.push(match c {
            Constraint::Minimum(n) => format!("minimum = {}", num(*n)),
            Constraint::Maximum(n) => format!("maximum = {}", num(*n)),
            Constraint::ExclusiveMinimum(n) => format!("exclusive_minimum = {}", num(*n)),
            Constraint::ExclusiveMaximum(n) => format!("exclusive_maximum = {}", num(*n)),
            Constraint::MinLength(n) => format!("min_length = {n}"),
            Constraint::MaxLength(n) => format!("max_length = {n}"),
            Constraint::MinItems(n) => format!("min_items = {n}"),
            Constraint::MaxItems(n) => format!("max_items = {n}"),
            Constraint::Pattern(p) => format!("pattern = {p:?}"),
            Constraint::Constant(c) => format!("constant = {c:?}"),
            Constraint::Format(f) => format!("format = {f:?}"),
        });
    }
    args
}

/// The checks of a JSON value `expr` (a `Value` or a reference to one):
/// its JSON types, its allowed values and the constraints of each type,
/// applied to values of that type, as JSON Schema reads them. One emitter
/// for `Value` newtypes and for every schema object of a [`Program`].
fn value_checks(
    v: &str,
    expr: &str,
    types: &[String],
    values: &[String],
    constraints: &[Constraint],
    body: &mut String,
    statics: &mut usize,
) {
    if !types.is_empty() {
        let list: Vec<String> = types.iter().map(|t| format!("{t:?}")).collect();
        body.push_str(&format!(
            "{v}::json_type(&{expr}, &[{}])?;\n",
            list.join(", ")
        ));
    }
    for (i, values) in values.iter().enumerate() {
        let name = if i == 0 {
            "VALUES".to_string()
        } else {
            format!("VALUES_{i}")
        };
        body.push_str(&format!(
                    "static {name}: {v}::Values = {v}::Values::new({values:?});\n{v}::one_of_values(&{expr}, &{name})?;\n"
                ));
    }
    let of = |c: &Constraint| match c {
        Constraint::MinLength(_)
        | Constraint::MaxLength(_)
        | Constraint::Pattern(_)
        | Constraint::Constant(_)
        | Constraint::Format(_) => 0,
        Constraint::Minimum(_)
        | Constraint::Maximum(_)
        | Constraint::ExclusiveMinimum(_)
        | Constraint::ExclusiveMaximum(_) => 1,
        Constraint::MinItems(_) | Constraint::MaxItems(_) => 2,
    };
    for (kind, get, scalar) in [
        (0, "as_str()", Ty::String),
        (1, "as_f64()", Ty::F64),
        (2, "as_array()", Ty::Vec(Box::new(Ty::Value))),
    ] {
        let these: Vec<Constraint> = constraints
            .iter()
            .filter(|c| of(c) == kind)
            .map(|c| match c {
                // Checked as `f64`: the bound is written as one.
                Constraint::Minimum(Num::Int(i)) => Constraint::Minimum(Num::Float(*i as f64)),
                Constraint::Maximum(Num::Int(i)) => Constraint::Maximum(Num::Float(*i as f64)),
                Constraint::ExclusiveMinimum(Num::Int(i)) => {
                    Constraint::ExclusiveMinimum(Num::Float(*i as f64))
                }
                Constraint::ExclusiveMaximum(Num::Int(i)) => {
                    Constraint::ExclusiveMaximum(Num::Float(*i as f64))
                }
                other => other.clone(),
            })
            .collect();
        if these.is_empty() {
            continue;
        }
        let (bind, arg) = if kind == 1 { ("x", "&x") } else { ("x", "x") };
        body.push_str(&format!("if let Some({bind}) = {expr}.{get} {{\n"));
        checks(v, &scalar, arg, &these, body, statics, 0, "");
        body.push_str("}\n");
    }
}

/// The checks of `constraints` on the value `expr` (a reference) of type
/// `ty`, as statements that return the first failure: an `Option` is
/// checked when it holds a value, the count constraints of a `Vec` on the
/// vector and the others on each element. `wrap` places an error inside
/// the elements being iterated.
#[allow(clippy::too_many_arguments)]
fn checks(
    v: &str,
    ty: &Ty,
    expr: &str,
    constraints: &[Constraint],
    out: &mut String,
    statics: &mut usize,
    depth: usize,
    wrap: &str,
) {
    if constraints.is_empty() {
        return;
    }
    match ty {
        Ty::Box(inner) => checks(
            v,
            inner,
            &format!("&**({expr})"),
            constraints,
            out,
            statics,
            depth + 1,
            wrap,
        ),
        Ty::Option(inner) => {
            let x = format!("x{depth}");
            out.push_str(&format!("if let Some({x}) = ({expr}).as_ref() {{\n"));
            checks(v, inner, &x, constraints, out, statics, depth + 1, wrap);
            out.push_str("}\n");
        }
        Ty::Vec(inner) => {
            let (counts, each): (Vec<&Constraint>, Vec<&Constraint>) = constraints
                .iter()
                .partition(|c| matches!(c, Constraint::MinItems(_) | Constraint::MaxItems(_)));
            for c in counts {
                let (f, n) = match c {
                    Constraint::MinItems(n) => ("min_items", n),
                    Constraint::MaxItems(n) => ("max_items", n),
                    _ => continue,
                };
                out.push_str(&format!("{v}::{f}({expr}, {n}){wrap}?;\n"));
            }
            if !each.is_empty() {
                let (i, x) = (format!("i{depth}"), format!("x{depth}"));
                out.push_str(&format!(
                    "for ({i}, {x}) in ({expr}).iter().enumerate() {{\n"
                ));
                let each: Vec<Constraint> = each.into_iter().cloned().collect();
                let wrap = format!(".map_err(|e| e.at_index({i})){wrap}");
                checks(v, inner, &x, &each, out, statics, depth + 1, &wrap);
                out.push_str("}\n");
            }
        }
        _ => {
            for c in constraints {
                let call = match c {
                    Constraint::Minimum(n) => format!("minimum({expr}, {})", num(*n)),
                    Constraint::Maximum(n) => format!("maximum({expr}, {})", num(*n)),
                    Constraint::ExclusiveMinimum(n) => {
                        format!("exclusive_minimum({expr}, {})", num(*n))
                    }
                    Constraint::ExclusiveMaximum(n) => {
                        format!("exclusive_maximum({expr}, {})", num(*n))
                    }
                    Constraint::MinLength(n) => format!("min_length({expr}, {n})"),
                    Constraint::MaxLength(n) => format!("max_length({expr}, {n})"),
                    Constraint::Pattern(p) => {
                        let name = format!("PATTERN_{statics}");
                        *statics += 1;
                        out.push_str(&format!(
                            "static {name}: {v}::Pattern = {v}::Pattern::new({p:?});\n"
                        ));
                        format!("pattern({expr}, &{name})")
                    }
                    Constraint::Constant(s) => format!("constant({expr}, {s:?})"),
                    Constraint::Format(f) => format!("format({expr}, {f:?})"),
                    Constraint::MinItems(n) => format!("min_items({expr}, {n})"),
                    Constraint::MaxItems(n) => format!("max_items({expr}, {n})"),
                };
                out.push_str(&format!("{v}::{call}{wrap}?;\n"));
            }
        }
    }
}

/// Validates the generated types inside a newtype's value.
fn nested_validate(v: &str, ty: &Ty, expr: &str, out: &mut String, depth: usize, wrap: &str) {
    fn has_named(ty: &Ty) -> bool {
        match ty {
            Ty::Named(_) => true,
            Ty::Vec(t) | Ty::Map(t) | Ty::Option(t) | Ty::Box(t) => has_named(t),
            _ => false,
        }
    }
    if !has_named(ty) {
        return;
    }
    let x = format!("x{depth}");
    match ty {
        Ty::Named(_) => out.push_str(&format!(
            "(&{v}::Probe({expr})).validate_nested(){wrap}?;\n"
        )),
        Ty::Box(inner) => nested_validate(v, inner, &format!("&**({expr})"), out, depth + 1, wrap),
        Ty::Option(inner) => {
            out.push_str(&format!("if let Some({x}) = ({expr}).as_ref() {{\n"));
            nested_validate(v, inner, &x, out, depth + 1, wrap);
            out.push_str("}\n");
        }
        Ty::Vec(inner) => {
            let i = format!("i{depth}");
            out.push_str(&format!(
                "for ({i}, {x}) in ({expr}).iter().enumerate() {{\n"
            ));
            let wrap = format!(".map_err(|e| e.at_index({i})){wrap}");
            nested_validate(v, inner, &x, out, depth + 1, &wrap);
            out.push_str("}\n");
        }
        Ty::Map(inner) => {
            let k = format!("k{depth}");
            out.push_str(&format!("for ({k}, {x}) in ({expr}).iter() {{\n"));
            let wrap = format!(".map_err(|e| e.at({k})){wrap}");
            nested_validate(v, inner, &x, out, depth + 1, &wrap);
            out.push_str("}\n");
        }
        _ => {}
    }
}

/// The runtime's writer and reader (paths under `wire::`) of a union
/// variant whose type has a wire format of its own, as a struct field of
/// that type has (`date-time` is RFC 3339, a whole `f64` an integer).
fn wire_format(ty: &Ty) -> Option<(&'static str, Option<&'static str>)> {
    match ty {
        Ty::DateTime => Some(("rfc3339::serialize", Some("rfc3339::deserialize"))),
        Ty::Date => Some(("date::serialize", Some("date::deserialize"))),
        Ty::Vec(t) if **t == Ty::DateTime => {
            Some(("rfc3339_vec::serialize", Some("rfc3339_vec::deserialize")))
        }
        Ty::Vec(t) if **t == Ty::Date => {
            Some(("date_vec::serialize", Some("date_vec::deserialize")))
        }
        Ty::F64 => Some(("float", None)),
        Ty::Vec(t) if **t == Ty::F64 => Some(("float", None)),
        _ => None,
    }
}

/// Whether the values of `ty` are integers (also inside `Option`, `Vec`
/// and maps): read through `wire::Integer`, which takes `1.0` for `1`, as
/// JSON Schema's `integer` does.
fn integral(ty: &Ty) -> bool {
    match ty {
        Ty::Int(_) => true,
        Ty::Option(t) | Ty::Vec(t) | Ty::Map(t) | Ty::Box(t) => integral(t),
        _ => false,
    }
}

/// A numeric literal as `proc_macro2` would print it unsuffixed.
fn num(n: Num) -> String {
    match n {
        Num::Int(i) => i.to_string(),
        Num::Float(f) if f.is_finite() => {
            let mut repr = f.to_string();
            if !repr.contains('.') {
                repr.push_str(".0");
            }
            repr
        }
        Num::Float(_) => "0.0".to_string(),
    }
}
