//! Tokens: the trait impls, the wire format and the static metadata.
//!
//! Everything is wrapped in `const _: () = { ... };` and reaches the runtime
//! through its hidden `__private` module by absolute path. Writing is
//! serde's own: a private mirror of the struct derives `Serialize` as a
//! `remote` of the user's type. Reading is the derive's own `Deserialize`
//! ([`expand_deserialize`]): one `visit_map` whose per-member work is a call
//! into the runtime's generic `wire::members`, which type-checks and
//! compiles in a fraction of serde's derived visitor (issue 14) and reads
//! what it read, with its messages. A struct whose fields carry a
//! `#[serde(...)]` only serde's derive understands (`alias`, `skip`, ...)
//! is read by serde's derive on the mirror, as before.

use crate::ast::{Enum, Field, Input, Scalar, Shape};
use crate::attr::{self, Constraint, ConstraintKind, Derive};
use crate::ctxt::Ctxt;
use crate::valid;
use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::DeriveInput;

/// Expands one derive. Errors come out as `compile_error!`s next to the
/// impls, which are still written (from what could be read) so that one
/// mistake does not cascade into errors about missing traits.
pub fn derive(node: &DeriveInput, derive: Derive) -> TokenStream {
    let cx = Ctxt::new();
    let expanded = match derive {
        Derive::OpenEnum => Enum::from_syn(&cx, node).map(|e| {
            valid_enum(&cx, &e);
            expand_enum(&e)
        }),
        Derive::Event | Derive::EventData => Input::from_syn(&cx, node, derive).map(|mut input| {
            valid::check(&cx, &input, derive);
            // Reported above; expanded, they would only add type errors.
            valid::drop_mistyped(&mut input);
            expand_struct(&input, derive)
        }),
    };
    let errors = cx.check().err();
    let body = expanded.unwrap_or_else(|| fallback(node, derive));
    let errors = errors.map(|e| e.to_compile_error());
    quote! {
        #errors
        #body
    }
}

fn runtime(krate: &Option<syn::Path>) -> TokenStream {
    match krate {
        Some(path) => quote!(#path),
        None => quote!(::event_runtime),
    }
}

fn serde_crate(krate: &TokenStream) -> String {
    format!("{krate}::__private::serde").replace(' ', "")
}

/// Impls that compile whatever the input, for shapes the derive refuses
/// (an enum, a tuple struct, ...): they keep the rest of the crate free of
/// follow-on errors and fail, without panicking, if ever called.
fn fallback(node: &DeriveInput, derive: Derive) -> TokenStream {
    if !node.generics.params.is_empty() {
        return TokenStream::new();
    }
    let ident = &node.ident;
    let rt = quote!(::event_runtime);
    let p = quote!(#rt::__private);
    let serde_impls = quote! {
        #[automatically_derived]
        impl #p::serde::Serialize for #ident {
            fn serialize<__S: #p::serde::Serializer>(&self, _: __S) -> #p::core::result::Result<__S::Ok, __S::Error> {
                #p::core::result::Result::Err(<__S::Error as #p::serde::ser::Error>::custom("this type has an invalid event contract"))
            }
        }
        #[automatically_derived]
        impl<'de> #p::serde::Deserialize<'de> for #ident {
            fn deserialize<__D: #p::serde::Deserializer<'de>>(_: __D) -> #p::core::result::Result<Self, __D::Error> {
                #p::core::result::Result::Err(<__D::Error as #p::serde::de::Error>::custom("this type has an invalid event contract"))
            }
        }
    };
    let trait_impl = match derive {
        Derive::Event => quote! {
            #[automatically_derived]
            impl #rt::Event for #ident {
                const TYPE: &'static str = "invalid.contract";
                const VERSION: #rt::Version = #rt::Version::new(1, 0);
                const PRODUCER: &'static str = "";
            }
        },
        Derive::EventData => quote! {
            #[automatically_derived]
            impl #rt::EventData for #ident {
                fn fields() -> &'static [#rt::FieldInfo] { &[] }
                fn validate(&self) -> #p::core::result::Result<(), #rt::ValidationError> {
                    #p::core::result::Result::Ok(())
                }
            }
        },
        Derive::OpenEnum => TokenStream::new(),
    };
    quote! {
        const _: () = {
            #serde_impls
            #trait_impl
        };
    }
}

fn rust_type(ty: &syn::Type) -> String {
    let mut s = quote!(#ty).to_string();
    for (from, to) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" < ", "<"),
        ("< ", "<"),
        (" <", "<"),
        (" >", ">"),
        (" ,", ","),
        ("& ", "&"),
    ] {
        s = s.replace(from, to);
    }
    s
}

fn bound_tokens(n: &attr::Number, float_field: bool) -> TokenStream {
    let lit = match (&n.lit, float_field) {
        (syn::Lit::Int(int), true) => {
            let value: f64 = int.base10_digits().parse().unwrap_or(0.0);
            let mut lit = Literal::f64_unsuffixed(value);
            lit.set_span(int.span());
            quote!(#lit)
        }
        (lit, _) => quote!(#lit),
    };
    if n.negative { quote!(-#lit) } else { lit }
}

/// The checks of one constraint on a single value `__x` (or, for array
/// constraints, on the array `__v`).
fn constraint_tokens(c: &Constraint, shape: &Shape, v: &TokenStream) -> TokenStream {
    let float = shape.scalar == Scalar::Float;
    // Errors point at the attribute; `__x` and `__v` resolve where the
    // derive runs, also in a struct a `macro_rules!` writes.
    let span = c.span.resolved_at(Span::call_site());
    match &c.kind {
        ConstraintKind::Minimum(n) => {
            let b = bound_tokens(n, float);
            quote_spanned!(span=> #v::minimum(__x, #b)?;)
        }
        ConstraintKind::Maximum(n) => {
            let b = bound_tokens(n, float);
            quote_spanned!(span=> #v::maximum(__x, #b)?;)
        }
        ConstraintKind::ExclusiveMinimum(n) => {
            let b = bound_tokens(n, float);
            quote_spanned!(span=> #v::exclusive_minimum(__x, #b)?;)
        }
        ConstraintKind::ExclusiveMaximum(n) => {
            let b = bound_tokens(n, float);
            quote_spanned!(span=> #v::exclusive_maximum(__x, #b)?;)
        }
        ConstraintKind::MinLength(n) => quote_spanned!(span=> #v::min_length(__x, #n)?;),
        ConstraintKind::MaxLength(n) => quote_spanned!(span=> #v::max_length(__x, #n)?;),
        ConstraintKind::Constant(s) => quote_spanned!(span=> #v::constant(__x, #s)?;),
        ConstraintKind::Format(s) => quote_spanned!(span=> #v::format(__x, #s)?;),
        ConstraintKind::Pattern(s) => quote_spanned! {span=>
            {
                static __PATTERN: #v::Pattern = #v::Pattern::new(#s);
                #v::pattern(__x, &__PATTERN)?;
            }
        },
        ConstraintKind::MinItems(n) => quote_spanned!(span=> #v::min_items(__v, #n)?;),
        ConstraintKind::MaxItems(n) => quote_spanned!(span=> #v::max_items(__v, #n)?;),
    }
}

/// For a field with constraints: `__scalar_N` (the checks of one value),
/// `__items_N` (the checks of the array as a whole) and `__check_N` (all of
/// them on the field's value, for `validate`).
fn check_fn(field: &Field, index: usize, rt: &TokenStream) -> Option<TokenStream> {
    let constraints = &field.attrs.constraints;
    if constraints.is_empty() {
        return None;
    }
    let p = quote!(#rt::__private);
    let v = quote!(#p::validate);
    let check = format_ident!("__check_{}", index);
    let scalar_name = format_ident!("__scalar_{}", index);
    let items_name = format_ident!("__items_{}", index);
    let ty = field.ty;
    let inner = field.shape.inner;
    let shape = &field.shape;
    let result = quote!(#p::core::result::Result<(), #rt::ValidationError>);
    let scalar: Vec<TokenStream> = constraints
        .iter()
        .filter(|c| !c.on_array())
        .map(|c| constraint_tokens(c, shape, &v))
        .collect();
    let array: Vec<TokenStream> = constraints
        .iter()
        .filter(|c| c.on_array())
        .map(|c| constraint_tokens(c, shape, &v))
        .collect();
    let scalar_fn = (!scalar.is_empty()).then(|| {
        quote! {
            fn #scalar_name(__x: &#inner) -> #result {
                #(#scalar)*
                #p::core::result::Result::Ok(())
            }
        }
    });
    let items_fn = (!array.is_empty()).then(|| {
        quote! {
            fn #items_name(__v: &#p::std::vec::Vec<#inner>) -> #result {
                #(#array)*
                #p::core::result::Result::Ok(())
            }
        }
    });
    let items = (!array.is_empty()).then(|| quote!(#items_name(__v)?;));
    // The loops and the `Option`s are the runtime's generic code: per field
    // the derive writes the checks of one value and at most one call.
    let elements = (!scalar.is_empty()).then(|| quote!(#v::elements(__v, #scalar_name)?;));
    let some_v = some_pattern(shape, quote!(__v), &p);
    let body = match (shape.option, shape.vec) {
        (true, true) => quote! {
            if let #some_v = __v {
                #items
                #elements
            }
            #p::core::result::Result::Ok(())
        },
        (false, true) => quote! {
            #items
            #elements
            #p::core::result::Result::Ok(())
        },
        (true, false) if shape.nullable => quote!(#v::some_some(__v, #scalar_name)),
        (true, false) => quote!(#v::some(__v, #scalar_name)),
        // The value's own checks are the field's: no second function.
        (false, false) => {
            return Some(quote! {
                #scalar_fn
                #items_fn
            });
        }
    };
    Some(quote! {
        #scalar_fn
        #items_fn
        fn #check(__v: &#ty) -> #result {
            #body
        }
    })
}

/// The function that checks a constrained field's whole value: `__check_N`,
/// or `__scalar_N` itself for a field that is one value (no `Option`, no
/// array), for which [`check_fn`] writes no `__check_N`.
fn check_name(field: &Field, index: usize) -> syn::Ident {
    if field.shape.option || field.shape.vec {
        format_ident!("__check_{}", index)
    } else {
        format_ident!("__scalar_{}", index)
    }
}

/// `Some(binding)`, or `Some(Some(binding))` for an `Option<Option<_>>`:
/// the value a constraint applies to is the innermost one.
fn some_pattern(shape: &Shape, binding: TokenStream, p: &TokenStream) -> TokenStream {
    let some = quote!(#p::core::option::Option::Some);
    if shape.nullable {
        quote!(#some(#some(#binding)))
    } else {
        quote!(#some(#binding))
    }
}

/// How a field that needs no check is read, when serde's own reading of
/// its type is not what the wire means: `null` as `Some(None)` for an
/// `Option<Option<_>>`, as `Some(())` for an `Option<()>`; an
/// `#[event(required)]` `Option` that must be present.
///
/// The runtime's function, for serde's `deserialize_with`, and the reading
/// of `wire::members` that calls it, for the derive's own `Deserialize`.
fn plain_read(field: &Field) -> Option<(&'static str, &'static str)> {
    let shape = &field.shape;
    if shape.nullable {
        Some(("wire::double_option", "DoubleOption"))
    } else if shape.option && !shape.vec && shape.scalar == Scalar::Unit {
        Some(("wire::present", "Present"))
    } else if shape.option && field.attrs.required.is_some() {
        Some(("wire::required_option", "RequiredOption"))
    } else if shape.option && field.attrs.non_null.is_some() {
        Some(("wire::present", "Present"))
    } else {
        None
    }
}

/// The runtime's wire format of a date field (`with`), and the reading of
/// `wire::members` that reads it.
fn date_format(field: &Field) -> Option<(&'static str, &'static str)> {
    let shape = &field.shape;
    Some(match (shape.scalar, shape.option, shape.vec) {
        (Scalar::DateTime, true, false) if shape.nullable => {
            ("wire::rfc3339::double_option", "Rfc3339DoubleOption")
        }
        (Scalar::Date, true, false) if shape.nullable => {
            ("wire::date::double_option", "IsoDateDoubleOption")
        }
        (Scalar::DateTime | Scalar::Date, _, _) if shape.nullable => return None,
        (Scalar::DateTime, true, false) if field.attrs.non_null.is_some() => {
            ("wire::rfc3339::present", "Rfc3339Present")
        }
        (Scalar::Date, true, false) if field.attrs.non_null.is_some() => {
            ("wire::date::present", "IsoDatePresent")
        }
        (Scalar::DateTime, false, false) => ("wire::rfc3339", "Rfc3339"),
        (Scalar::DateTime, true, false) => ("wire::rfc3339::option", "Rfc3339Option"),
        (Scalar::DateTime, false, true) => ("wire::rfc3339_vec", "Rfc3339Vec"),
        (Scalar::Date, false, false) => ("wire::date", "IsoDate"),
        (Scalar::Date, true, false) => ("wire::date::option", "IsoDateOption"),
        (Scalar::Date, false, true) => ("wire::date_vec", "IsoDateVec"),
        _ => return None,
    })
}

/// serde_json keeps the last of a repeated key in a `Value`; the payload
/// refuses it, as it does a repeated field: the runtime's strict reading of
/// a JSON field without constraints, and the reading of `wire::members`
/// that calls it.
fn strict_read(field: &Field) -> Option<(&'static str, &'static str)> {
    let shape = &field.shape;
    if !field.attrs.constraints.is_empty() {
        return None;
    }
    Some(match (shape.scalar, shape.option, shape.vec) {
        _ if shape.nullable => return None,
        (Scalar::Json, false, false) => ("wire::strict_value", "StrictValue"),
        (Scalar::Json, true, false) if field.attrs.non_null.is_some() => {
            ("wire::strict_present_value", "StrictPresentValue")
        }
        (Scalar::Json, true, false) => ("wire::strict_option_value", "StrictOptionValue"),
        (Scalar::JsonMap, false, false) => ("wire::strict_map", "StrictMap"),
        _ => return None,
    })
}

/// Types that are never `EventData`: no nested check is written for them.
const LEAF_TYPES: &[&str] = &[
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "usize",
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "isize",
    "f32",
    "f64",
    "bool",
    "char",
    "String",
    "str",
    "Uuid",
    "OffsetDateTime",
    "Date",
    "Value",
    "Map",
];

/// The check of a nested `EventData` value (or of each element), for a
/// field whose type may be one.
fn nested_check(field: &Field, rt: &TokenStream) -> Option<TokenStream> {
    if field.attrs.unknown.is_some() {
        return None;
    }
    if let syn::Type::Path(path) = field.shape.inner {
        let last = path.path.segments.last()?;
        if LEAF_TYPES.iter().any(|t| last.ident == t) {
            return None;
        }
    }
    let p = quote!(#rt::__private);
    let member = field.ident;
    let wire = field.wire_name();
    let one = quote!((&#p::validate::Probe(__x)).validate_nested());
    let each = quote! {
        for (__i, __x) in __v.iter().enumerate() {
            #p::validate::at_element(#one, __i, #wire)?;
        }
    };
    let some_v = some_pattern(&field.shape, quote!(__v), &p);
    let some_x = some_pattern(&field.shape, quote!(__x), &p);
    Some(match (field.shape.option, field.shape.vec) {
        (true, true) => quote! {
            if let #some_v = &self.#member { #each }
        },
        (false, true) => quote! { { let __v = &self.#member; #each } },
        (true, false) => quote! {
            if let #some_x = &self.#member {
                #p::validate::at(#one, #wire)?;
            }
        },
        (false, false) => quote! {
            { let __x = &self.#member; #p::validate::at(#one, #wire)?; }
        },
    })
}

/// `__deserialize_N`: decodes a constrained field and checks it while the
/// field is being decoded, so that the runtime's JSON path names it. The
/// elements of an array are checked as each is decoded (`data.tags[1]`).
fn de_fn(field: &Field, index: usize, rt: &TokenStream) -> TokenStream {
    let p = quote!(#rt::__private);
    let name = format_ident!("__deserialize_{}", index);
    let scalar_name = format_ident!("__scalar_{}", index);
    let items_name = format_ident!("__items_{}", index);
    let ty = field.ty;
    let constraints = &field.attrs.constraints;
    let has_scalar = constraints.iter().any(|c| !c.on_array());
    let has_items = constraints.iter().any(|c| c.on_array());
    let mut d = quote!(__d);
    // JSON Schema's integers: `1.0` is `1`.
    if field.attrs.integer.is_some() {
        d = quote!(#p::wire::Integer(#d));
    }
    // `#[event(non_null)]`: a present `null` reaches the value's type.
    if field.attrs.non_null.is_some() {
        d = quote!(#p::wire::NonNull(#d));
    }
    let signature = quote! {
        fn #name<'de, __D: #p::serde::Deserializer<'de>>(__d: __D) -> #p::core::result::Result<#ty, __D::Error>
    };
    if field.shape.vec && has_scalar && !field.shape.nullable {
        let read = if field.shape.option {
            quote!(#p::wire::checked_option_vec(#d, #scalar_name))
        } else {
            quote!(#p::wire::checked_vec(#d, #scalar_name))
        };
        if !has_items {
            return quote!(#signature { #read });
        }
        let items = if field.shape.option {
            quote! {
                match &__v {
                    #p::core::option::Option::Some(__a) => #items_name(__a),
                    #p::core::option::Option::None => #p::core::result::Result::Ok(()),
                }
            }
        } else {
            quote!(#items_name(&__v))
        };
        return quote! {
            #signature {
                let __v: #ty = #read?;
                match #items {
                    #p::core::result::Result::Ok(()) => #p::core::result::Result::Ok(__v),
                    #p::core::result::Result::Err(__e) => #p::core::result::Result::Err(
                        <__D::Error as #p::serde::de::Error>::custom(__e),
                    ),
                }
            }
        };
    }
    let read = match plain_read(field).map(|(path, _)| path) {
        Some(path) => {
            let path: syn::Path = syn::parse_str(&format!("{p}::{path}").replace(' ', ""))
                .unwrap_or_else(|_| syn::parse_quote!(#p::serde::Deserialize::deserialize));
            quote!(#path(#d))
        }
        None => quote!(<#ty as #p::serde::Deserialize<'de>>::deserialize(#d)),
    };
    if constraints.is_empty() {
        // Only `integer`: the read, through the runtime's integers.
        return quote!(#signature { #read });
    }
    let check = check_name(field, index);
    quote!(#signature { #p::wire::checked(#read, #check) })
}

/// How the derive's own `Deserialize` reads a missing member.
enum Missing {
    /// `Default::default()`: an `Option`, `#[event(default)]`, a bare
    /// `#[serde(default)]`.
    Default,
    /// `#[serde(default = "path")]`.
    Path(syn::ExprPath),
    /// What `T` makes of nothing (`wire::members::take`), for a member read
    /// by `T::deserialize`.
    Take,
    /// `missing field`, for a member read otherwise (serde's
    /// `deserialize_with`).
    TakeRead,
}

/// How the derive's own `Deserialize` reads one field: the `wire::members`
/// reading (or the field's own `__read_N`, which this writes for a
/// `#[serde(with/deserialize_with)]` of the user's), and a missing member.
/// The same choices as the serde attributes of [`mirror_field`], in the
/// same order, so that both derives read the same wire format.
fn field_read(
    field: &Field,
    index: usize,
    serde: &crate::ast::SerdeRead,
    rt: &TokenStream,
) -> (TokenStream, Missing, Option<TokenStream>) {
    let p = quote!(#rt::__private);
    let m = quote!(#p::wire::members);
    let reader = |name: &str| {
        let name = syn::Ident::new(name, Span::call_site());
        quote!(#m::#name)
    };
    let mut marker = None;
    let (read, plain) = if field.custom_serde() {
        match &serde.read {
            Some(path) => {
                let name = format_ident!("__read_{}", index);
                let ty = field.ty;
                marker = Some(quote! {
                    struct #name;
                    impl<'de> #m::Read<'de, #ty> for #name {
                        fn read<__D: #p::serde::Deserializer<'de>>(self, __d: __D) -> #p::core::result::Result<#ty, __D::Error> {
                            #path(__d)
                        }
                    }
                });
                (quote!(#name), false)
            }
            None => (quote!(#m::Plain), true),
        }
    } else if let Some((_, read)) = date_format(field).or_else(|| strict_read(field)) {
        (reader(read), false)
    } else if !field.attrs.constraints.is_empty() || field.attrs.integer.is_some() {
        (checked_read(field, index, &m), false)
    } else if let Some((_, read)) = plain_read(field) {
        (reader(read), false)
    } else {
        (quote!(#m::Plain), true)
    };
    let absent_is_none = field.shape.option && field.attrs.required.is_none();
    let missing = match &serde.default {
        Some(Some(path)) => Missing::Path(path.clone()),
        Some(None) => Missing::Default,
        None if absent_is_none || field.attrs.default.is_some() => Missing::Default,
        None if plain => Missing::Take,
        None => Missing::TakeRead,
    };
    (read, missing, marker)
}

/// The reading of a field with constraints or `integer`: what
/// `__deserialize_N` ([`de_fn`]) does, composed of `wire::members`'
/// generic readings and the field's check functions.
fn checked_read(field: &Field, index: usize, m: &TokenStream) -> TokenStream {
    let scalar_name = format_ident!("__scalar_{}", index);
    let items_name = format_ident!("__items_{}", index);
    let constraints = &field.attrs.constraints;
    let has_scalar = constraints.iter().any(|c| !c.on_array());
    let has_items = constraints.iter().any(|c| c.on_array());
    // `integer` and `non_null` change the deserializer the value is read
    // from: `NonNull(Integer(d))`, as `__deserialize_N` wraps it.
    let wrap = |mut read: TokenStream| {
        if field.attrs.non_null.is_some() {
            read = quote!(#m::NonNull(#read));
        }
        if field.attrs.integer.is_some() {
            read = quote!(#m::Integer(#read));
        }
        read
    };
    if field.shape.vec && has_scalar && !field.shape.nullable {
        let read = wrap(quote!(#m::Elements(#scalar_name)));
        return match (has_items, field.shape.option) {
            (false, _) => read,
            (true, false) => quote!(#m::Checked(#read, #items_name)),
            (true, true) => quote!(#m::CheckedSome(#read, #items_name)),
        };
    }
    let base = match plain_read(field) {
        Some((_, name)) => {
            let name = syn::Ident::new(name, Span::call_site());
            quote!(#m::#name)
        }
        None => quote!(#m::Plain),
    };
    let read = wrap(base);
    if constraints.is_empty() {
        return read;
    }
    let check = check_name(field, index);
    quote!(#m::Checked(#read, #check))
}

/// The derive's own `Deserialize` of a struct, in place of serde's on the
/// wire mirror: one visitor with one `visit_map` (no `visit_seq`: an array
/// is refused by `wire::ObjectOnly` before it reaches the visitor), the
/// keys matched by `wire::members::Fields`, each member read by one call.
/// `reads` are the fields' `#[serde(...)]` ([`Field::serde_read`]).
fn expand_deserialize(
    input: &Input,
    reads: &[crate::ast::SerdeRead],
    rt: &TokenStream,
    decode: impl FnOnce(TokenStream) -> TokenStream,
) -> TokenStream {
    let p = quote!(#rt::__private);
    let m = quote!(#p::wire::members);
    let ident = input.ident;
    let expecting = format!("struct {ident}");
    let mut names = Vec::new();
    let mut slots = Vec::new();
    let mut arms = Vec::new();
    let mut values = Vec::new();
    let mut markers = Vec::new();
    let mut unknown = None;
    for (index, (field, serde)) in input.fields.iter().zip(reads).enumerate() {
        let member = field.ident;
        let ty = field.ty;
        if field.attrs.unknown.is_some() {
            unknown = Some((member, ty));
            continue;
        }
        let name = field.wire_name();
        let slot = format_ident!("__f{}", index);
        let (read, missing, marker) = field_read(field, index, serde, rt);
        markers.extend(marker);
        let key = names.len();
        // Errors about the field's type point at it; the derive's own names
        // (`__map`, the slot) still resolve where the derive runs, also in a
        // struct a `macro_rules!` writes.
        let span = syn::spanned::Spanned::span(ty).resolved_at(Span::call_site());
        slots.push(
            quote!(let mut #slot: #p::core::option::Option<#ty> = #p::core::option::Option::None;),
        );
        let arm = match unknown_mode(input) {
            true => quote!(#m::Key::Field(#key)),
            false => quote!(#key),
        };
        arms.push(
            quote_spanned!(span=> #arm => #m::member(&mut __map, &mut #slot, #name, #read)?,),
        );
        let value = match missing {
            Missing::Default => quote!(#p::core::option::Option::unwrap_or_default(#slot)),
            Missing::Path(path) => quote! {
                match #slot {
                    #p::core::option::Option::Some(__v) => __v,
                    #p::core::option::Option::None => #path(),
                }
            },
            Missing::Take => quote_spanned!(span=> #m::take::<__A::Error, _>(#slot, #name)?),
            Missing::TakeRead => quote!(#m::take_read::<__A::Error, _>(#slot, #name)?),
        };
        values.push(quote!(#member: #value));
        names.push(name);
    }
    let (seed, rest, other, dispatch) = match unknown {
        Some((member, ty)) => {
            values.push(quote!(#member: __unknown));
            (
                quote!(#m::Keep::new(__WIRE_NAMES)),
                quote!(let mut __unknown: #ty = #p::core::default::Default::default();),
                quote! {
                    #m::Key::Unknown(__name) => #m::keep(&mut __map, &mut __unknown, __name)?,
                    #m::Key::Field(_) => #m::skip(&mut __map)?,
                },
                quote!(#p::serde::Deserializer::deserialize_map(#p::wire::ObjectOnly(__deserializer), __Visitor)),
            )
        }
        None => {
            // serde's derive names the struct it derives: the mirror.
            let mirror = format!("__{ident}Wire");
            (
                quote!(#m::Fields::new(__WIRE_NAMES)),
                TokenStream::new(),
                quote!(_ => #m::skip(&mut __map)?,),
                quote!(#p::serde::Deserializer::deserialize_struct(#p::wire::ObjectOnly(__deserializer), #mirror, __WIRE_NAMES, __Visitor)),
            )
        }
    };
    let body = decode(dispatch);
    quote! {
        const __WIRE_NAMES: &[&str] = &[#(#names),*];

        struct __Visitor;

        impl<'de> #p::serde::de::Visitor<'de> for __Visitor {
            type Value = #ident;

            fn expecting(&self, __f: &mut #p::core::fmt::Formatter) -> #p::core::fmt::Result {
                #p::core::fmt::Formatter::write_str(__f, #expecting)
            }

            #[inline]
            fn visit_map<__A: #p::serde::de::MapAccess<'de>>(self, mut __map: __A) -> #p::core::result::Result<#ident, __A::Error> {
                #(#slots)*
                #rest
                let mut __keys = #seed;
                while let #p::core::option::Option::Some(__key) = #p::serde::de::MapAccess::next_key_seed(&mut __map, &mut __keys)? {
                    match __key {
                        #(#arms)*
                        #other
                    }
                }
                #p::core::result::Result::Ok(#ident { #(#values),* })
            }
        }

        #(#markers)*

        #[automatically_derived]
        impl<'de> #p::serde::Deserialize<'de> for #ident {
            fn deserialize<__D: #p::serde::Deserializer<'de>>(__deserializer: __D) -> #p::core::result::Result<Self, __D::Error> {
                #body
            }
        }
    }
}

/// Whether the struct keeps unknown members (an `unknown` field).
fn unknown_mode(input: &Input) -> bool {
    input.fields.iter().any(|f| f.attrs.unknown.is_some())
}

/// The fields' `#[serde(...)]` if the derive's own `Deserialize` reads the
/// struct: every attribute is one it understands, and an `unknown` field is
/// a `Map<String, Value>` without attributes of its own. Otherwise serde's
/// derive reads it, as before.
fn own_reads(input: &Input) -> Option<Vec<crate::ast::SerdeRead>> {
    input
        .fields
        .iter()
        .map(|f| {
            if f.attrs.unknown.is_some() {
                let is_map = matches!(f.ty, syn::Type::Path(path)
                    if path.qself.is_none() && path.path.segments.last().is_some_and(|s| s.ident == "Map"));
                return (is_map && f.serde.is_empty()).then(Default::default);
            }
            f.serde_read()
        })
        .collect()
}

/// The field of the wire mirror, with the serde attributes that make the
/// wire format; those of reading it only if serde's derive reads it (`de`).
fn mirror_field(field: &Field, index: usize, rt: &TokenStream, de: bool) -> TokenStream {
    let ident = field.ident;
    let ty = field.ty;
    let user = &field.serde;
    let p = format!("{rt}::__private").replace(' ', "");
    let mut attrs = Vec::new();
    if field.attrs.unknown.is_some() {
        attrs.push(quote!(#[serde(flatten)]));
        return quote!(#(#user)* #(#attrs)* #ident: #ty);
    }
    if !field.serde_has(&["rename"]) {
        let wire = field.wire_name();
        attrs.push(quote!(#[serde(rename = #wire)]));
    }
    let absent_is_none = field.shape.option && field.attrs.required.is_none();
    let needs_default = absent_is_none || field.attrs.default.is_some();
    if de && needs_default && !field.serde_has(&["default"]) {
        attrs.push(quote!(#[serde(default)]));
    }
    if absent_is_none && !field.serde_has(&["skip_serializing_if", "skip_serializing", "skip"]) {
        attrs.push(quote!(#[serde(skip_serializing_if = "::core::option::Option::is_none")]));
    }
    if !field.custom_serde() {
        if let Some((with, _)) = date_format(field) {
            let path = format!("{p}::{with}");
            attrs.push(quote!(#[serde(with = #path)]));
        } else if !de {
        } else if let Some((strict, _)) = strict_read(field) {
            let path = format!("{p}::{strict}");
            attrs.push(quote!(#[serde(deserialize_with = #path)]));
        } else if !field.attrs.constraints.is_empty() || field.attrs.integer.is_some() {
            let name = format!("__deserialize_{index}");
            attrs.push(quote!(#[serde(deserialize_with = #name)]));
        } else if let Some((read, _)) = plain_read(field) {
            let path = format!("{p}::{read}");
            attrs.push(quote!(#[serde(deserialize_with = #path)]));
        }
        // A whole `f64` is written as an integer (`39652351`, not
        // `39652351.0`): what most producers wrote, and the same number.
        if crate::ast::floats(field.ty) && !field.serde_has(&["skip", "skip_serializing"]) {
            let path = format!("{p}::wire::float");
            attrs.push(quote!(#[serde(serialize_with = #path)]));
        }
    }
    quote!(#(#user)* #(#attrs)* #ident: #ty)
}

fn field_info(field: &Field, rt: &TokenStream) -> TokenStream {
    let name = field.ident.to_string();
    let wire = field.wire_name();
    let rust = rust_type(field.ty);
    let optional = field.optional();
    let since = match field.attrs.since.as_ref().and_then(|s| s.value) {
        Some((major, minor)) => {
            quote!(::core::option::Option::Some(#rt::Version::new(#major, #minor)))
        }
        None => quote!(::core::option::Option::None),
    };
    let doc = &field.doc;
    let deprecated = field.deprecated;
    let constraints = field.attrs.constraints.iter().map(|c| {
        let (keyword, value) = c.schema();
        quote!(#rt::ConstraintInfo { keyword: #keyword, value: #value })
    });
    quote! {
        #rt::FieldInfo {
            name: #name,
            wire_name: #wire,
            rust_type: #rust,
            optional: #optional,
            since: #since,
            doc: #doc,
            deprecated: #deprecated,
            constraints: &[#(#constraints),*],
        }
    }
}

fn expand_struct(input: &Input, derive: Derive) -> TokenStream {
    let rt = runtime(&input.attrs.krate);
    let p = quote!(#rt::__private);
    let ident = input.ident;
    let serde_path = serde_crate(&rt);
    let remote = ident.to_string();
    let mirror = format_ident!("__{}Wire", ident);

    let fields = &input.fields;
    // The derive's own `Deserialize`, unless a field's `#[serde(...)]`
    // asks for what only serde's derive does.
    let own = own_reads(input);
    let serde_de = own.is_none();
    let mirror_fields = fields
        .iter()
        .enumerate()
        .map(|(i, f)| mirror_field(f, i, &rt, serde_de));
    let checks: Vec<TokenStream> = fields
        .iter()
        .enumerate()
        .filter_map(|(i, f)| check_fn(f, i, &rt))
        .collect();
    let de_fns = fields
        .iter()
        .enumerate()
        .filter(|_| serde_de)
        .filter(|(_, f)| {
            (!f.attrs.constraints.is_empty() || f.attrs.integer.is_some()) && !f.custom_serde()
        })
        .filter(|(_, f)| !matches!(f.shape.scalar, Scalar::Date | Scalar::DateTime))
        .map(|(i, f)| de_fn(f, i, &rt));
    let validations = fields
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.attrs.constraints.is_empty())
        .map(|(i, f)| {
            let check = check_name(f, i);
            let member = f.ident;
            let wire = f.wire_name();
            quote!(#p::validate::at(#check(&self.#member), #wire)?;)
        });
    let nested: Vec<TokenStream> = fields.iter().filter_map(|f| nested_check(f, &rt)).collect();
    let nested_use =
        (!nested.is_empty()).then(|| quote!(use #p::validate::{ViaEventData as _, ViaOther as _};));
    let whole = input.attrs.check.as_ref().map(|path| quote!(#path(self)?;));
    let validate_body = quote! {
        #nested_use
        #(#validations)*
        #(#nested)*
        #whole
        #p::core::result::Result::Ok(())
    };
    let infos: Vec<TokenStream> = fields
        .iter()
        .filter(|f| f.attrs.unknown.is_none())
        .map(|f| field_info(f, &rt))
        .collect();

    // The rules of the whole value hold once it is decoded, as a field's
    // constraints hold while it is read. A closed object (`#[event(unknown,
    // closed)]`) keeps unknown properties when read tolerantly, and refuses
    // them inside a union read exactly (`wire::exact`), so the union can
    // tell it from an alternative that names them.
    let closed = fields
        .iter()
        .find(|f| f.attrs.unknown.is_some() && f.attrs.closed.is_some())
        .map(|f| {
            let member = f.ident;
            match &f.attrs.allowed {
                Some(allowed) => quote!(#p::wire::closed_except(&__value.#member, #allowed).map_err(<__D::Error as #p::serde::de::Error>::custom)?;),
                None => quote!(#p::wire::closed(&__value.#member).map_err(<__D::Error as #p::serde::de::Error>::custom)?;),
            }
        });
    let rules = input.attrs.check.as_ref().map(
        |path| quote!(#path(&__value).map_err(<__D::Error as #p::serde::de::Error>::custom)?;),
    );
    let decode = |read: TokenStream| {
        if closed.is_none() && rules.is_none() {
            read
        } else {
            quote! {
                let __value = #read?;
                #closed
                #rules
                #p::core::result::Result::Ok(__value)
            }
        }
    };
    let serialize = quote! {
        #[automatically_derived]
        impl #p::serde::Serialize for #ident {
            fn serialize<__S: #p::serde::Serializer>(&self, __serializer: __S) -> #p::core::result::Result<__S::Ok, __S::Error> {
                #mirror::serialize(self, __serializer)
            }
        }
    };
    let serde_impls = match &own {
        Some(reads) => {
            let deserialize = expand_deserialize(input, reads, &rt, decode);
            quote! {
                #[derive(#p::serde::Serialize)]
                #[serde(crate = #serde_path, remote = #remote)]
                struct #mirror {
                    #(#mirror_fields,)*
                }

                #serialize
                #deserialize
            }
        }
        None => {
            let decode = decode(quote!(#mirror::deserialize(#p::wire::ObjectOnly(__deserializer))));
            quote! {
                #[derive(#p::serde::Serialize, #p::serde::Deserialize)]
                #[serde(crate = #serde_path, remote = #remote)]
                struct #mirror {
                    #(#mirror_fields,)*
                }

                #serialize

                #[automatically_derived]
                impl<'de> #p::serde::Deserialize<'de> for #ident {
                    fn deserialize<__D: #p::serde::Deserializer<'de>>(__deserializer: __D) -> #p::core::result::Result<Self, __D::Error> {
                        #decode
                    }
                }
            }
        }
    };

    let trait_impl = match derive {
        Derive::Event => expand_event_impl(input, &rt, &infos, &validate_body),
        _ => quote! {
            #[automatically_derived]
            impl #rt::EventData for #ident {
                fn fields() -> &'static [#rt::FieldInfo] {
                    static __FIELDS: &[#rt::FieldInfo] = &[#(#infos),*];
                    __FIELDS
                }

                fn validate(&self) -> #p::core::result::Result<(), #rt::ValidationError> {
                    #validate_body
                }
            }
        },
    };

    quote! {
        #[doc(hidden)]
        #[allow(
            deprecated,
            dead_code,
            non_camel_case_types,
            non_snake_case,
            unused_qualifications,
            clippy::all,
            clippy::pedantic
        )]
        const _: () = {
            #serde_impls
            #(#checks)*
            #(#de_fns)*
            #trait_impl
        };
    }
}

fn expand_event_impl(
    input: &Input,
    rt: &TokenStream,
    infos: &[TokenStream],
    validate_body: &TokenStream,
) -> TokenStream {
    let p = quote!(#rt::__private);
    let ident = input.ident;
    let attrs = &input.attrs;
    let ty = attrs.ty.as_ref().map(|l| l.value()).unwrap_or_default();
    let (major, minor) = attrs
        .version
        .as_ref()
        .and_then(|v| v.value)
        .unwrap_or((1, 0));
    let producer = attrs
        .producer
        .as_ref()
        .map(|l| l.value())
        .unwrap_or_default();
    let delivery = match attrs.delivery.as_ref().map(|d| d.value) {
        Some(attr::Delivery::AtMostOnce) => quote!(AtMostOnce),
        Some(attr::Delivery::ExactlyOnceEffect) => quote!(ExactlyOnceEffect),
        _ => quote!(AtLeastOnce),
    };
    let ordering = match attrs.ordering.as_ref().map(|o| o.value) {
        Some(attr::Ordering::PerEntity) => quote!(PerEntity),
        Some(attr::Ordering::Global) => quote!(Global),
        _ => quote!(Unordered),
    };
    let doc = &input.doc;
    let consumers = attrs.consumers.iter().map(|c| {
        let service = &c.service;
        let reason = &c.reason;
        quote!(#rt::ConsumerInfo { service: #service, reason: #reason })
    });
    let keys: Vec<&Field> = input
        .fields
        .iter()
        .filter(|f| f.attrs.key.is_some())
        .collect();
    let key_names = keys.iter().map(|f| f.wire_name());
    let partition = input
        .fields
        .iter()
        .find(|f| f.attrs.partition.is_some() && !f.shape.option);
    let partition_name = match partition {
        Some(f) => {
            let wire = f.wire_name();
            quote!(#p::core::option::Option::Some(#wire))
        }
        None => quote!(#p::core::option::Option::None),
    };
    let expected_every = match &attrs.expected_every {
        Some(lit) => quote!(#p::core::option::Option::Some(#lit)),
        None => quote!(#p::core::option::Option::None),
    };
    // A key part as text: date-times as RFC 3339 in UTC, so one instant is
    // one key; everything else by `Display`.
    let key_part = |f: &Field, span: Span| {
        let member = f.ident;
        if f.shape.scalar == Scalar::DateTime && !f.shape.option && !f.shape.vec {
            quote_spanned!(span=> #p::wire::key_datetime(&self.#member))
        } else {
            quote_spanned!(span=> #p::std::string::ToString::to_string(&self.#member))
        }
    };
    let natural_key = match keys.as_slice() {
        [] => TokenStream::new(),
        [one] => {
            let value = key_part(one, one.attrs.key.unwrap_or_else(Span::call_site));
            quote! {
                fn natural_key(&self) -> #p::core::option::Option<#p::std::string::String> {
                    #p::core::option::Option::Some(#value)
                }
            }
        }
        many => {
            let parts = many
                .iter()
                .map(|f| key_part(f, f.attrs.key.unwrap_or_else(Span::call_site)));
            quote! {
                fn natural_key(&self) -> #p::core::option::Option<#p::std::string::String> {
                    #p::core::option::Option::Some(#p::wire::composite_key(&[#(#parts),*]))
                }
            }
        }
    };
    let partition_key = partition.map(|f| {
        let value = key_part(f, f.attrs.partition.unwrap_or_else(Span::call_site));
        quote! {
            fn partition_key(&self) -> #p::core::option::Option<#p::std::string::String> {
                #p::core::option::Option::Some(#value)
            }
        }
    });
    quote! {
        #[automatically_derived]
        impl #rt::Event for #ident {
            const TYPE: &'static str = #ty;
            const VERSION: #rt::Version = #rt::Version::new(#major, #minor);
            const PRODUCER: &'static str = #producer;
            const DELIVERY: #rt::Delivery = #rt::Delivery::#delivery;
            const ORDERING: #rt::Ordering = #rt::Ordering::#ordering;

            fn contract() -> &'static #rt::Contract {
                static __FIELDS: &[#rt::FieldInfo] = &[#(#infos),*];
                static __CONTRACT: #rt::Contract = #rt::Contract {
                    doc: #doc,
                    fields: __FIELDS,
                    consumers: &[#(#consumers),*],
                    key_fields: &[#(#key_names),*],
                    partition_field: #partition_name,
                    expected_every: #expected_every,
                };
                &__CONTRACT
            }

            #natural_key
            #partition_key

            fn validate(&self) -> #p::core::result::Result<(), #rt::ValidationError> {
                #validate_body
            }
        }
    }
}

fn is_string(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.qself.is_none() && p.path.segments.last().is_some_and(|s| s.ident == "String" && s.arguments.is_empty()))
}

fn is_other_string(fields: &syn::Fields) -> bool {
    matches!(fields, syn::Fields::Unnamed(f) if f.unnamed.len() == 1 && f.unnamed.first().is_some_and(|f| is_string(&f.ty)))
}

fn valid_enum(cx: &Ctxt, e: &Enum) {
    use heck::ToSnakeCase;
    let mut others = 0;
    let mut seen = std::collections::BTreeMap::new();
    for variant in &e.variants {
        if let Some(span) = variant.attrs.other {
            others += 1;
            if others > 1 {
                cx.error_at(
                    span,
                    "a second `other` variant: one variant keeps the unknown values",
                );
            }
            if !is_other_string(variant.fields) {
                cx.error_spanned_by(
                    variant.ident,
                    format!(
                        "the `other` variant keeps the raw value: write it `{}(String)`",
                        variant.ident
                    ),
                );
            }
            if let Some(rename) = &variant.attrs.rename {
                cx.error_spanned_by(
                    rename,
                    "the `other` variant has no wire value of its own; remove `rename`",
                );
            }
            continue;
        }
        if !matches!(variant.fields, syn::Fields::Unit) {
            cx.error_spanned_by(variant.fields, format!("`{}` must be a unit variant: an open enum is a set of strings (only the `#[event(other)]` variant holds the raw `String`)", variant.ident));
        }
        let wire = variant
            .attrs
            .rename
            .as_ref()
            .map(|l| l.value())
            .unwrap_or_else(|| variant.ident.to_string().to_snake_case());
        if let Some(first) = seen.insert(wire.clone(), variant.ident) {
            cx.error_spanned_by(variant.ident, format!("`{}` and `{first}` have the same wire value {wire:?}: rename one with `#[event(rename = \"...\")]`", variant.ident));
        }
    }
    if others == 0 {
        cx.error_spanned_by(e.ident, format!("`{}` needs a variant that keeps unknown values, so that a value added by a newer producer still decodes: add `#[event(other)] Other(String)`", e.ident));
    }
}

fn expand_enum(e: &Enum) -> TokenStream {
    use heck::ToSnakeCase;
    let rt = runtime(&e.attrs.krate);
    let p = quote!(#rt::__private);
    let ident = e.ident;
    let other = e
        .variants
        .iter()
        // Only a well-formed `Other(String)` is used, so that a malformed
        // one is reported once, by `valid_enum`, not again as type errors.
        .find(|v| v.attrs.other.is_some() && is_other_string(v.fields));
    let known: Vec<(&syn::Ident, String)> = e
        .variants
        .iter()
        .filter(|v| v.attrs.other.is_none() && matches!(v.fields, syn::Fields::Unit))
        .map(|v| {
            let wire = v
                .attrs
                .rename
                .as_ref()
                .map(|l| l.value())
                .unwrap_or_else(|| v.ident.to_string().to_snake_case());
            (v.ident, wire)
        })
        .collect();
    let names: Vec<&syn::Ident> = known.iter().map(|(i, _)| *i).collect();
    let wires: Vec<&String> = known.iter().map(|(_, w)| w).collect();
    let (other_arm, unknown_str, unknown_string) = match other {
        Some(v) => {
            let o = v.ident;
            // Inside a union read exactly (`wire::exact`), an unknown
            // value is refused, as JSON Schema's `enum` refuses it, so the
            // union picks the alternative that lists it.
            // An enum of one value is a `const`: as an alternative of a
            // union it names that alternative, so it refuses another value
            // in the tolerant pass too (`wire::in_union`), and a value with
            // another `action` is not read as this alternative.
            let refuse = if known.len() == 1 {
                quote!(#p::wire::in_union())
            } else {
                quote!(#p::wire::exact())
            };
            (
                quote!(#ident::#o(__v) => __v.as_str(), _ => "",),
                quote!({
                    if #refuse {
                        return #p::core::result::Result::Err(<__E as #p::serde::de::Error>::unknown_variant(__v, &[#(#wires),*]));
                    }
                    #ident::#o(#p::std::borrow::ToOwned::to_owned(__v))
                }),
                quote!({
                    if #refuse {
                        return #p::core::result::Result::Err(<__E as #p::serde::de::Error>::unknown_variant(&__v, &[#(#wires),*]));
                    }
                    #ident::#o(__v)
                }),
            )
        }
        None => (
            quote!(_ => "",),
            quote!(return #p::core::result::Result::Err(<__E as #p::serde::de::Error>::unknown_variant(__v, &[#(#wires),*]))),
            quote!(return #p::core::result::Result::Err(<__E as #p::serde::de::Error>::unknown_variant(&__v, &[#(#wires),*]))),
        ),
    };
    quote! {
        #[doc(hidden)]
        #[allow(deprecated, unused_qualifications, unreachable_patterns, clippy::all, clippy::pedantic)]
        const _: () = {
            #[automatically_derived]
            impl #p::core::convert::AsRef<str> for #ident {
                fn as_ref(&self) -> &str {
                    match self {
                        #(#ident::#names => #wires,)*
                        #other_arm
                    }
                }
            }

            #[automatically_derived]
            impl #p::serde::Serialize for #ident {
                fn serialize<__S: #p::serde::Serializer>(&self, __serializer: __S) -> #p::core::result::Result<__S::Ok, __S::Error> {
                    __serializer.serialize_str(#p::core::convert::AsRef::<str>::as_ref(self))
                }
            }

            struct __Visitor;

            impl<'de> #p::serde::de::Visitor<'de> for __Visitor {
                type Value = #ident;

                fn expecting(&self, __f: &mut #p::core::fmt::Formatter) -> #p::core::fmt::Result {
                    __f.write_str("a string")
                }

                fn visit_str<__E: #p::serde::de::Error>(self, __v: &str) -> #p::core::result::Result<#ident, __E> {
                    #p::core::result::Result::Ok(match __v {
                        #(#wires => #ident::#names,)*
                        _ => #unknown_str,
                    })
                }

                fn visit_string<__E: #p::serde::de::Error>(self, __v: #p::std::string::String) -> #p::core::result::Result<#ident, __E> {
                    #p::core::result::Result::Ok(match __v.as_str() {
                        #(#wires => #ident::#names,)*
                        _ => #unknown_string,
                    })
                }
            }

            #[automatically_derived]
            impl<'de> #p::serde::Deserialize<'de> for #ident {
                fn deserialize<__D: #p::serde::Deserializer<'de>>(__deserializer: __D) -> #p::core::result::Result<Self, __D::Error> {
                    __deserializer.deserialize_str(__Visitor)
                }
            }
        };
    }
}
