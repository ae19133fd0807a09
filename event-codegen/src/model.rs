//! What the generator emits, independent of JSON and of tokens: the items
//! of the generated module.

/// A Rust type of a generated field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ty {
    String,
    Bool,
    /// An integer of the named width (`u8`, `i64`).
    Int(&'static str),
    F64,
    Uuid,
    DateTime,
    Date,
    /// Any JSON value.
    Value,
    /// `()`: only `null` (`type: null`).
    Unit,
    /// A free-form JSON object.
    Object,
    /// A generated item, by name.
    Named(String),
    Vec(Box<Ty>),
    Map(Box<Ty>),
    Option(Box<Ty>),
    Box(Box<Ty>),
}

impl Ty {
    pub fn option(self) -> Ty {
        match self {
            Ty::Option(_) => self,
            other => Ty::Option(Box::new(other)),
        }
    }

    pub fn is_option(&self) -> bool {
        matches!(self, Ty::Option(_))
    }

    /// The named item a value of this type contains without indirection
    /// through a heap collection.
    pub fn direct_named(&self) -> Option<&str> {
        match self {
            Ty::Named(n) => Some(n),
            Ty::Option(inner) => inner.direct_named(),
            _ => None,
        }
    }

    /// Boxes the named item inside (`Option<T>` -> `Option<Box<T>>`).
    pub fn boxed(self) -> Ty {
        match self {
            Ty::Option(inner) => Ty::Option(Box::new(inner.boxed())),
            other => Ty::Box(Box::new(other)),
        }
    }
}

/// A numeric literal of a constraint.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    Int(i128),
    Float(f64),
}

/// A constraint on a field, as the derive spells it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Constraint {
    Minimum(Num),
    Maximum(Num),
    ExclusiveMinimum(Num),
    ExclusiveMaximum(Num),
    MinLength(u64),
    MaxLength(u64),
    Pattern(String),
    Constant(String),
    /// `email` or `uri`.
    Format(String),
    MinItems(u64),
    MaxItems(u64),
}

/// A field of a generated struct.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Field {
    pub ident: String,
    pub wire: String,
    /// Whether the wire name must be spelled out (it is not the camelCase
    /// of the identifier).
    pub rename: bool,
    pub ty: Ty,
    pub doc: Option<String>,
    pub since: Option<String>,
    pub constraints: Vec<Constraint>,
    pub deprecated: bool,
    pub key: bool,
    pub partition: bool,
    /// Missing on the wire means `Default::default()`.
    pub default: bool,
    /// A missing field takes this value (a Rust expression), through a
    /// generated function; for defaults that are not the zero value.
    pub default_value: Option<String>,
    /// The name looks sensitive and the schema says it is not.
    pub not_sensitive: bool,
    /// An `Option` that must be present: `None` is a `null` on the wire
    /// (`#[event(required)]`).
    pub required: bool,
    /// An `Option` that may be missing, whose schema does not allow
    /// `null`: a present `null` is refused (`#[event(non_null)]`).
    pub non_null: bool,
    /// The field keeps the properties the schema does not name
    /// (`#[event(unknown)]`).
    pub unknown: bool,
    /// With `unknown`: the schema closes the object
    /// (`#[event(unknown, closed)]`).
    pub closed: bool,
    /// With `closed`: the closure holds in every read, not only where a
    /// union tells its alternatives apart (the struct's check refuses a
    /// member it does not allow). Off with `Config::tolerate_closed_objects`.
    pub enforce_closed: bool,
    /// With `closed`: what each schema that closes the object allows
    /// beside the fields (`closed = "Self::__allowed"`); a member must be
    /// allowed by every one. Empty when one of them allows nothing more.
    pub allowed: Vec<Allowed>,
    /// A method named like the field that applies the schema's `default`
    /// to a missing value, which the field itself keeps missing.
    pub accessor: Option<Accessor>,
}

/// The members a closing schema (`additionalProperties: false`,
/// `unevaluatedProperties: false`) allows that are not fields of the
/// struct: names it defines that another closing schema leaves out, and
/// the patterns of its `patternProperties`.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Allowed {
    pub names: Vec<String>,
    pub patterns: Vec<String>,
}

/// `pub fn <field>(&self) -> ...`: the value, or the default when the
/// field is missing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Accessor {
    pub getter: Getter,
    /// The default as a Rust expression; `None` for the type's zero value
    /// (`unwrap_or_default`).
    pub value: Option<String>,
    /// The default as JSON, for the method's documentation.
    pub default: String,
}

/// How the accessor hands out the value of an `Option<T>` field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Getter {
    /// `T` by value (`bool`, integers, `f64`).
    Copied,
    /// `&str` of an `Option<String>`.
    Str,
    /// `&[T]` of an `Option<Vec<T>>`.
    Slice,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EventAttrs {
    pub type_name: String,
    pub version: String,
    pub producer: String,
    pub delivery: Option<String>,
    pub ordering: Option<String>,
    pub consumers: Vec<(String, String)>,
    pub expected_every: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Struct {
    pub name: String,
    pub doc: Option<String>,
    pub event: Option<EventAttrs>,
    pub fields: Vec<Field>,
    /// The schema's rules that no field states, checked on the value the
    /// struct writes (`#[event(check = ...)]`).
    pub check: Option<Program>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OpenEnum {
    pub name: String,
    pub doc: Option<String>,
    /// (variant identifier, wire value)
    pub variants: Vec<(String, String)>,
    /// The identifier of the variant that keeps unknown values.
    pub other: String,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Union {
    pub name: String,
    pub doc: Option<String>,
    /// The discriminating property of a tagged union.
    pub tag: Option<String>,
    /// (variant identifier, wire tag for tagged unions, payload type)
    pub variants: Vec<(String, Option<String>, Ty)>,
    /// `oneOf`: an untagged value must match exactly one variant; `anyOf`
    /// takes the first that matches.
    pub exclusive: bool,
    /// The constraints of each variant's value (parallel to `variants`):
    /// checked when the variant is read and by `validate`.
    pub checks: Vec<Vec<Constraint>>,
}

/// A schema that is not an object, an enum of strings or a union, given a
/// type of its own: `pub struct Name(pub T);` that checks its constraints
/// when it is decoded and validated.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Newtype {
    pub name: String,
    pub doc: Option<String>,
    /// The value held. `Ty::Value` for a schema that admits several JSON
    /// types; its constraints then apply to the values of their type.
    pub ty: Ty,
    pub constraints: Vec<Constraint>,
    /// The JSON types allowed (`type`), for `Ty::Value`; empty: any.
    pub types: Vec<String>,
    /// The values allowed (`enum`, `const`), each list as the JSON text of
    /// an array; a value must be in every list.
    pub values: Vec<String>,
    /// The schema's rules that `ty`, `types`, `values` and `constraints`
    /// do not state, checked on the JSON value.
    pub check: Option<Program>,
}

/// Another name for a generated type (a root `$ref`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Alias {
    pub name: String,
    pub doc: Option<String>,
    pub ty: Ty,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item {
    Struct(Struct),
    Enum(OpenEnum),
    Union(Union),
    Newtype(Newtype),
    Alias(Alias),
}

impl Item {
    pub fn name(&self) -> &str {
        match self {
            Item::Struct(s) => &s.name,
            Item::Enum(e) => &e.name,
            Item::Union(u) => &u.name,
            Item::Newtype(n) => &n.name,
            Item::Alias(a) => &a.name,
        }
    }
}

/// The keywords of a schema that have no typed form, compiled to checks of
/// the JSON value: one function per schema object, `nodes[0]` the one
/// called. A JSON Schema validator in generated Rust, for what the Rust
/// types cannot say (a property that must be absent, `patternProperties`,
/// tuples, `not`, `if`/`then`/`else`, ...).
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Program {
    pub nodes: Vec<Check>,
}

/// A subschema as a program refers to it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Sub {
    /// `true`, or a schema with nothing to check.
    Any,
    /// `false`: no value.
    Nothing,
    /// `Program::nodes[i]`.
    Node(usize),
}

/// The checks of one schema object on a JSON value: its types, values and
/// scalar constraints, as a `Value` newtype checks them, and its keywords.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Check {
    /// The JSON types allowed; empty: any.
    pub types: Vec<String>,
    /// Lists of allowed values (JSON arrays).
    pub values: Vec<String>,
    /// String, number and array-count constraints, on values of their type.
    pub constraints: Vec<Constraint>,
    pub keywords: Vec<Keyword>,
}

/// A keyword applied to a JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Keyword {
    MultipleOf(f64),
    UniqueItems,
    MinProperties(u64),
    MaxProperties(u64),
    Required(Vec<String>),
    Properties(Vec<(String, Sub)>),
    PatternProperties(Vec<(String, Sub)>),
    /// The members not named in `names` nor matched by `patterns`.
    AdditionalProperties {
        names: Vec<String>,
        patterns: Vec<String>,
        schema: Sub,
    },
    PropertyNames(Sub),
    DependentRequired(Vec<(String, Vec<String>)>),
    DependentSchemas(Vec<(String, Sub)>),
    /// Item `i` is checked by `prefix[i]`, the others by `rest`.
    Items {
        prefix: Vec<Sub>,
        rest: Sub,
    },
    Contains {
        schema: Sub,
        min: u64,
        max: Option<u64>,
    },
    Not(Sub),
    If {
        cond: Sub,
        then: Sub,
        otherwise: Sub,
    },
    AllOf(Vec<Sub>),
    AnyOf(Vec<Sub>),
    OneOf(Vec<Sub>),
}
