//! The derive input read into plain structs: the named fields of a struct,
//! the variants of an enum, their docs and attributes.

use crate::attr::{self, ContainerAttrs, Derive, FieldAttrs, VariantAttrs};
use crate::ctxt::Ctxt;
use syn::{Attribute, Data, DeriveInput, Fields, GenericArgument, Ident, PathArguments, Type};

/// A struct with named fields.
pub struct Input<'a> {
    pub ident: &'a Ident,
    pub attrs: ContainerAttrs,
    pub doc: String,
    pub fields: Vec<Field<'a>>,
}

pub struct Field<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
    pub attrs: FieldAttrs,
    pub doc: String,
    pub deprecated: bool,
    /// The user's own `#[serde(...)]` attributes, copied to the wire mirror.
    pub serde: Vec<&'a Attribute>,
    pub shape: Shape<'a>,
}

/// How constraints reach the values of a field.
pub struct Shape<'a> {
    pub option: bool,
    /// `Option<Option<T>>`: a missing field is the outer `None`, a `null`
    /// is `Some(None)`, so both read back as they were written.
    pub nullable: bool,
    pub vec: bool,
    /// The type inside `Option` / `Vec`.
    pub inner: &'a Type,
    pub scalar: Scalar,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    DateTime,
    Date,
    Float,
    /// `serde_json::Value` (by its name), read refusing repeated keys.
    Json,
    /// `serde_json::Map<String, Value>` (by its name), likewise.
    JsonMap,
    /// `()`: the value `null` (a schema of `type: null`).
    Unit,
    Other,
}

/// An enum of the `OpenEnum` derive.
pub struct Enum<'a> {
    pub ident: &'a Ident,
    pub attrs: ContainerAttrs,
    pub variants: Vec<Variant<'a>>,
}

pub struct Variant<'a> {
    pub ident: &'a Ident,
    pub attrs: VariantAttrs,
    pub fields: &'a Fields,
}

/// The single generic argument of `Wrapper<T>` if `ty` is one (by its last
/// path segment).
fn unwrap<'a>(ty: &'a Type, wrapper: &str) -> Option<&'a Type> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let segment = path.path.segments.last()?;
    if segment.ident != wrapper {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    if args.args.len() != 1 {
        return None;
    }
    match args.args.first()? {
        GenericArgument::Type(inner) => Some(inner),
        _ => None,
    }
}

fn last_ident(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

impl<'a> Shape<'a> {
    pub fn of(ty: &'a Type) -> Self {
        let (option, ty) = match unwrap(ty, "Option") {
            Some(inner) => (true, inner),
            None => (false, ty),
        };
        let (nullable, ty) = match unwrap(ty, "Option").filter(|_| option) {
            Some(inner) => (true, inner),
            None => (false, ty),
        };
        let (vec, inner) = match unwrap(ty, "Vec") {
            Some(inner) => (true, inner),
            None => (false, ty),
        };
        let scalar = match last_ident(inner).as_deref() {
            Some("OffsetDateTime") => Scalar::DateTime,
            Some("Date") => Scalar::Date,
            Some("f32" | "f64") => Scalar::Float,
            Some("Value") => Scalar::Json,
            Some("Map") => Scalar::JsonMap,
            _ if matches!(inner, Type::Tuple(t) if t.elems.is_empty()) => Scalar::Unit,
            _ => Scalar::Other,
        };
        Shape {
            option,
            nullable,
            vec,
            inner,
            scalar,
        }
    }
}

/// Whether `ty` is `f32` or `f64` inside any nesting of `Option` and `Vec`
/// (`Vec<Vec<f64>>`, a GeoJSON position list): a type that
/// `wire::float` writes, a whole number as an integer.
pub fn floats(ty: &Type) -> bool {
    match unwrap(ty, "Option").or_else(|| unwrap(ty, "Vec")) {
        Some(inner) => floats(inner),
        None => matches!(last_ident(ty).as_deref(), Some("f32" | "f64")),
    }
}

/// The doc comment: the `#[doc = "..."]` lines, one leading space trimmed.
pub fn doc(attrs: &[Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let syn::Meta::NameValue(nv) = &attr.meta {
            if let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
            {
                let line = s.value();
                lines.push(
                    line.strip_prefix(' ')
                        .unwrap_or(&line)
                        .trim_end()
                        .to_owned(),
                );
            }
        }
    }
    lines.join("\n").trim().to_owned()
}

impl<'a> Input<'a> {
    /// Reads a struct with named fields; anything else is an error at the
    /// token that makes it so. Returns `None` when there is nothing to
    /// expand.
    pub fn from_syn(cx: &Ctxt, node: &'a DeriveInput, derive: Derive) -> Option<Self> {
        let what = match derive {
            Derive::Event => "an event",
            _ => "a payload part",
        };
        let name = match derive {
            Derive::Event => "Event",
            _ => "EventData",
        };
        let mut ok = true;
        if let Some(param) = node.generics.params.first() {
            cx.error_spanned_by(
                &node.generics,
                format!(
                    "`#[derive({name})]` does not support generic parameters: {what} is a fixed contract with one schema; use concrete types{}",
                    match param {
                        syn::GenericParam::Lifetime(_) => " (owned types like `String` instead of borrowed ones)",
                        _ => "",
                    }
                ),
            );
            ok = false;
        }
        let fields = match &node.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => Some(named),
                Fields::Unnamed(unnamed) => {
                    cx.error_spanned_by(unnamed, format!("`#[derive({name})]` needs named fields: the names are the wire names of {what}'s payload; write `struct {} {{ field: Type, .. }}`", node.ident));
                    None
                }
                Fields::Unit => {
                    cx.error_spanned_by(&node.ident, format!("`#[derive({name})]` needs named fields: {what} without fields carries no facts; add the ids of the entities concerned"));
                    None
                }
            },
            Data::Enum(data) => {
                cx.error_spanned_by(data.enum_token, format!("`#[derive({name})]` works on a struct with named fields, not an enum: make one struct per event type (for a string enum inside a payload, use `#[derive(OpenEnum)]`)"));
                None
            }
            Data::Union(data) => {
                cx.error_spanned_by(
                    data.union_token,
                    format!("`#[derive({name})]` works on a struct with named fields, not a union"),
                );
                None
            }
        };
        let attrs = attr::container(cx, &node.attrs, derive);
        let fields = fields?;
        let fields = fields
            .named
            .iter()
            .filter_map(|f| {
                let ident = f.ident.as_ref()?;
                Some(Field {
                    ident,
                    ty: &f.ty,
                    attrs: attr::field(cx, &f.attrs, derive),
                    doc: doc(&f.attrs),
                    deprecated: f.attrs.iter().any(|a| a.path().is_ident("deprecated")),
                    serde: f
                        .attrs
                        .iter()
                        .filter(|a| a.path().is_ident("serde"))
                        .collect(),
                    shape: Shape::of(&f.ty),
                })
            })
            .collect();
        let input = Input {
            ident: &node.ident,
            attrs,
            doc: doc(&node.attrs),
            fields,
        };
        ok.then_some(input)
    }
}

impl<'a> Enum<'a> {
    pub fn from_syn(cx: &Ctxt, node: &'a DeriveInput) -> Option<Self> {
        let attrs = attr::container(cx, &node.attrs, Derive::OpenEnum);
        if !node.generics.params.is_empty() {
            cx.error_spanned_by(&node.generics, "`#[derive(OpenEnum)]` does not support generic parameters: an open enum is a set of strings");
            return None;
        }
        let Data::Enum(data) = &node.data else {
            cx.error_spanned_by(&node.ident, "`#[derive(OpenEnum)]` works on an enum of unit variants plus one `#[event(other)] Other(String)` variant");
            return None;
        };
        let variants = data
            .variants
            .iter()
            .map(|v| Variant {
                ident: &v.ident,
                attrs: attr::variant(cx, &v.attrs),
                fields: &v.fields,
            })
            .collect();
        Some(Enum {
            ident: &node.ident,
            attrs,
            variants,
        })
    }
}

impl Field<'_> {
    /// The name on the wire: the `rename`, or the field name in camelCase.
    pub fn wire_name(&self) -> String {
        match &self.attrs.rename {
            Some(lit) => lit.value(),
            None => {
                use heck::ToLowerCamelCase;
                let name = self.ident.to_string();
                name.strip_prefix("r#")
                    .unwrap_or(&name)
                    .to_lower_camel_case()
            }
        }
    }

    /// Whether a missing value is accepted: an `Option`, `default`, or a
    /// serde `default` of the user's own.
    pub fn optional(&self) -> bool {
        (self.shape.option && self.attrs.required.is_none())
            || self.attrs.default.is_some()
            || self.serde_has(&["default"])
    }

    /// Whether the user's `#[serde(...)]` attributes name one of `keys`.
    pub fn serde_has(&self, keys: &[&str]) -> bool {
        self.serde
            .iter()
            .any(|attr| self.serde_attr_has(attr, keys))
    }

    /// Whether one `#[serde(...)]` attribute names one of `keys`.
    pub fn serde_attr_has(&self, attr: &Attribute, keys: &[&str]) -> bool {
        let mut found = false;
        let _ = attr.parse_nested_meta(|meta| {
            if keys.iter().any(|k| meta.path.is_ident(k)) {
                found = true;
            }
            skip_value(&meta)
        });
        found
    }

    /// Whether the user decides how the field is (de)serialized.
    pub fn custom_serde(&self) -> bool {
        self.serde_has(&["with", "serialize_with", "deserialize_with"])
    }

    /// What the user's `#[serde(...)]` attributes say about reading the
    /// field, when the derive's own `Deserialize` can do what they say:
    /// `with`, `deserialize_with`, `default` (and the keys that only
    /// concern writing). `None` for any other key (`alias`, `skip`,
    /// `borrow`, ...), a repeated one or one that does not parse: serde's
    /// derive then reads the struct, and reports what is wrong.
    pub fn serde_read(&self) -> Option<SerdeRead> {
        let mut out = SerdeRead::default();
        for attr in &self.serde {
            let mut understood = true;
            let parsed = attr.parse_nested_meta(|meta| {
                let path = |meta: &syn::meta::ParseNestedMeta| -> syn::Result<syn::ExprPath> {
                    meta.value()?.parse::<syn::LitStr>()?.parse()
                };
                if meta.path.is_ident("with") {
                    let mut module = path(&meta)?;
                    module
                        .path
                        .segments
                        .push(Ident::new("deserialize", proc_macro2::Span::call_site()).into());
                    understood &= out.read.replace(module).is_none();
                } else if meta.path.is_ident("deserialize_with") {
                    understood &= out.read.replace(path(&meta)?).is_none();
                } else if meta.path.is_ident("default") {
                    let default = if meta.input.peek(syn::Token![=]) {
                        Some(path(&meta)?)
                    } else {
                        None
                    };
                    understood &= out.default.replace(default).is_none();
                } else if meta.path.is_ident("serialize_with")
                    || meta.path.is_ident("skip_serializing_if")
                {
                    let _ = meta.value()?.parse::<syn::LitStr>()?;
                } else if !meta.path.is_ident("skip_serializing") {
                    understood = false;
                    skip_value(&meta)?;
                }
                Ok(())
            });
            if parsed.is_err() || !understood {
                return None;
            }
        }
        Some(out)
    }
}

/// The user's `#[serde(...)]` on a field, as far as reading it goes.
#[derive(Default)]
pub struct SerdeRead {
    /// `deserialize_with = "path"`, or `with = "module"` as
    /// `module::deserialize`.
    pub read: Option<syn::ExprPath>,
    /// `default` (`Some(None)`) or `default = "path"`.
    pub default: Option<Option<syn::ExprPath>>,
}

/// Steps over the value of a `#[serde(...)]` key the caller does not read
/// (`key = expr` or `key(...)`), so the next key parses.
fn skip_value(meta: &syn::meta::ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        let _: syn::Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _ = meta.parse_nested_meta(|m| {
            if m.input.peek(syn::Token![=]) {
                let _: syn::Expr = m.value()?.parse()?;
            }
            Ok(())
        });
    }
    Ok(())
}
