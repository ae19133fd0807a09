//! The generator's items to formatted Rust.

use crate::model::{Constraint, Field, Item, Num, OpenEnum, Struct, Ty, Union};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

/// How the generated code names the runtime crate.
pub(crate) struct Emit {
    /// The path (`::event_runtime`), checked to parse as a path; tokens are
    /// made per thread.
    pub rt: String,
    /// The path as the user wrote it, for `#[event(crate = "...")]`; `None`
    /// for the default.
    pub crate_attr: Option<String>,
}

impl Emit {
    /// Formats the items. Large catalogs are split into one chunk per
    /// core: building tokens, parsing and printing them dominate generation,
    /// and top-level items print the same together or apart.
    pub fn file(&self, items: &[Item], header: &str) -> Result<String, String> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = if items.len() < 256 || threads < 2 {
            items.len().max(1)
        } else {
            items.len().div_ceil(threads)
        };
        let parts: Vec<Result<String, String>> = std::thread::scope(|scope| {
            let handles: Vec<_> = items
                .chunks(chunk)
                .map(|part| scope.spawn(move || self.format(part)))
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

    fn format(&self, items: &[Item]) -> Result<String, String> {
        let rt: TokenStream = self
            .rt
            .parse()
            .map_err(|e| format!("runtime crate path `{}`: {e}", self.rt))?;
        let tokens = Tokens {
            rt,
            crate_attr: self.crate_attr.clone(),
        };
        let items: Vec<TokenStream> = items.iter().map(|i| tokens.item(i)).collect();
        let tokens = quote! { #(#items)* };
        let file: syn::File =
            syn::parse2(tokens).map_err(|e| format!("generated code does not parse: {e}"))?;
        Ok(prettyplease::unparse(&file))
    }
}

/// The token writer of one thread.
struct Tokens {
    rt: TokenStream,
    crate_attr: Option<String>,
}

impl Tokens {
    fn item(&self, item: &Item) -> TokenStream {
        match item {
            Item::Struct(s) => self.strukt(s),
            Item::Enum(e) => self.open_enum(e),
            Item::Union(u) => self.union(u),
        }
    }

    fn crate_attr(&self) -> Option<TokenStream> {
        self.crate_attr
            .as_ref()
            .map(|c| quote! { #[event(crate = #c)] })
    }

    fn strukt(&self, s: &Struct) -> TokenStream {
        let rt = &self.rt;
        let name = format_ident!("{}", s.name);
        let doc = doc_attrs(s.doc.as_deref());
        let krate = self.crate_attr();
        let fields = s.fields.iter().map(|f| self.field(f));
        let (derive, contract) = match &s.event {
            Some(e) => {
                let type_name = &e.type_name;
                let version = &e.version;
                let producer = &e.producer;
                let delivery = e.delivery.as_ref().map(|d| quote! { , delivery = #d });
                let ordering = e.ordering.as_ref().map(|o| quote! { , ordering = #o });
                let consumers = e
                    .consumers
                    .iter()
                    .map(|(service, reason)| quote! { #[event(consumer(service = #service, reason = #reason))] });
                (
                    quote! { #rt::Event },
                    quote! {
                        #[event(type = #type_name, version = #version, producer = #producer #delivery #ordering)]
                        #(#consumers)*
                    },
                )
            }
            None => (quote! { #rt::EventData }, quote! {}),
        };
        quote! {
            #doc
            #[derive(Debug, Clone, PartialEq, #derive)]
            #contract
            #krate
            pub struct #name {
                #(#fields,)*
            }
        }
    }

    fn field(&self, f: &Field) -> TokenStream {
        let ident = format_ident!("{}", f.ident);
        let ty = self.ty(&f.ty);
        let doc = doc_attrs(f.doc.as_deref());
        let mut args: Vec<TokenStream> = Vec::new();
        if f.rename {
            let wire = &f.wire;
            args.push(quote! { rename = #wire });
        }
        if let Some(since) = &f.since {
            args.push(quote! { since = #since });
        }
        if f.key {
            args.push(quote! { key });
        }
        if f.partition {
            args.push(quote! { partition });
        }
        if f.default {
            args.push(quote! { default });
        }
        if f.not_sensitive {
            args.push(quote! { not_sensitive });
        }
        for c in &f.constraints {
            args.push(match c {
                Constraint::Minimum(n) => {
                    let n = num(*n);
                    quote! { minimum = #n }
                }
                Constraint::Maximum(n) => {
                    let n = num(*n);
                    quote! { maximum = #n }
                }
                Constraint::ExclusiveMinimum(n) => {
                    let n = num(*n);
                    quote! { exclusive_minimum = #n }
                }
                Constraint::ExclusiveMaximum(n) => {
                    let n = num(*n);
                    quote! { exclusive_maximum = #n }
                }
                Constraint::MinLength(n) => {
                    let n = Literal::u64_unsuffixed(*n);
                    quote! { min_length = #n }
                }
                Constraint::MaxLength(n) => {
                    let n = Literal::u64_unsuffixed(*n);
                    quote! { max_length = #n }
                }
                Constraint::MinItems(n) => {
                    let n = Literal::u64_unsuffixed(*n);
                    quote! { min_items = #n }
                }
                Constraint::MaxItems(n) => {
                    let n = Literal::u64_unsuffixed(*n);
                    quote! { max_items = #n }
                }
                Constraint::Pattern(p) => quote! { pattern = #p },
                Constraint::Constant(c) => quote! { constant = #c },
            });
        }
        let attr = (!args.is_empty()).then(|| quote! { #[event(#(#args),*)] });
        let deprecated = f.deprecated.then(|| quote! { #[deprecated] });
        quote! {
            #doc
            #deprecated
            #attr
            pub #ident: #ty
        }
    }

    fn open_enum(&self, e: &OpenEnum) -> TokenStream {
        let rt = &self.rt;
        let name = format_ident!("{}", e.name);
        let doc = doc_attrs(e.doc.as_deref());
        let krate = self.crate_attr();
        let other = format_ident!("{}", e.other);
        let variants = e.variants.iter().map(|(ident, wire)| {
            let ident = format_ident!("{}", ident);
            quote! { #[event(rename = #wire)] #ident }
        });
        quote! {
            #doc
            #[derive(Debug, Clone, PartialEq, Eq, Hash, #rt::OpenEnum)]
            #krate
            pub enum #name {
                #(#variants,)*
                /// A value this version does not know, kept as written.
                #[event(other)]
                #other(String),
            }
        }
    }

    fn union(&self, u: &Union) -> TokenStream {
        let rt = &self.rt;
        let name = format_ident!("{}", u.name);
        let doc = doc_attrs(u.doc.as_deref());
        let serde_path = format!("{}::__private::serde", self.rt_string());
        let serde_attr = match &u.tag {
            Some(tag) => quote! { #[serde(crate = #serde_path, tag = #tag)] },
            None => quote! { #[serde(crate = #serde_path, untagged)] },
        };
        let variants = u.variants.iter().map(|(ident, wire, ty)| {
            let ident = format_ident!("{}", ident);
            let ty = self.ty(ty);
            let rename = wire.as_ref().map(|w| quote! { #[serde(rename = #w)] });
            quote! { #rename #ident(#ty) }
        });
        quote! {
            #doc
            #[derive(Debug, Clone, PartialEq, #rt::__private::serde::Serialize, #rt::__private::serde::Deserialize)]
            #serde_attr
            pub enum #name {
                #(#variants,)*
            }
        }
    }

    fn rt_string(&self) -> String {
        self.crate_attr
            .clone()
            .unwrap_or_else(|| "::event_runtime".to_string())
    }

    fn ty(&self, ty: &Ty) -> TokenStream {
        let rt = &self.rt;
        match ty {
            Ty::String => quote! { String },
            Ty::Bool => quote! { bool },
            Ty::Int(w) => {
                let w = format_ident!("{}", w);
                quote! { #w }
            }
            Ty::F64 => quote! { f64 },
            Ty::Uuid => quote! { #rt::Uuid },
            Ty::DateTime => quote! { #rt::OffsetDateTime },
            Ty::Date => quote! { #rt::__private::time::Date },
            Ty::Value => quote! { #rt::Value },
            Ty::Object => quote! { #rt::Map<String, #rt::Value> },
            Ty::Named(n) => {
                let n = format_ident!("{}", n);
                quote! { #n }
            }
            Ty::Vec(t) => {
                let t = self.ty(t);
                quote! { Vec<#t> }
            }
            Ty::Map(t) => {
                let t = self.ty(t);
                quote! { ::std::collections::BTreeMap<String, #t> }
            }
            Ty::Option(t) => {
                let t = self.ty(t);
                quote! { Option<#t> }
            }
            Ty::Box(t) => {
                let t = self.ty(t);
                quote! { Box<#t> }
            }
        }
    }
}

fn num(n: Num) -> Literal {
    match n {
        Num::Int(i) => Literal::i128_unsuffixed(i),
        Num::Float(f) if f.is_finite() => Literal::f64_unsuffixed(f),
        Num::Float(_) => Literal::f64_unsuffixed(0.0),
    }
}

/// Doc attributes for a description. The text is Markdown that rustdoc
/// reads: code fences and indented blocks would become doctests that run
/// in the user's crate, so they are neutralised; everything else is kept.
fn doc_attrs(doc: Option<&str>) -> TokenStream {
    let Some(doc) = doc else {
        return TokenStream::new();
    };
    let lines = doc.lines().map(|line| {
        let line = line
            .trim_start()
            .replace("```", "\\`\\`\\`")
            .replace("~~~", "\\~\\~\\~");
        let line = format!(" {line}");
        quote! { #[doc = #line] }
    });
    quote! { #(#lines)* }
}
