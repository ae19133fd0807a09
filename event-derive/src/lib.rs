//! `#[derive(Event)]`, `#[derive(EventData)]` and `#[derive(OpenEnum)]`:
//! event contracts checked at compile time.
//!
//! Use them through `event-runtime`, which re-exports them. The attribute
//! grammar is in `ATTRIBUTES.md`; the rules behind the refusals are in
//! `event-rules`.
//!
//! The derive runs in three passes: `ast.rs` and `attr.rs` read the input,
//! `valid.rs` checks the contract and `expand.rs` writes the tokens. Every
//! mistake of a type is reported in one build.

mod ast;
mod attr;
mod ctxt;
mod expand;
mod valid;

use attr::Derive;
use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// An event contract: `event_runtime::Event`, serde's `Serialize` and
/// `Deserialize` with the event wire format, and the contract's static
/// metadata. See `ATTRIBUTES.md`.
#[proc_macro_derive(Event, attributes(event, serde))]
pub fn derive_event(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input, Derive::Event).into()
}

/// A payload part (nested object, shared definition): `Serialize`,
/// `Deserialize` with the event wire format, and `event_runtime::EventData`
/// (fields and validation).
#[proc_macro_derive(EventData, attributes(event, serde))]
pub fn derive_event_data(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input, Derive::EventData).into()
}

/// An open string enum: unit variants plus one `#[event(other)]
/// Other(String)` variant that keeps values this version does not know.
#[proc_macro_derive(OpenEnum, attributes(event))]
pub fn derive_open_enum(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input, Derive::OpenEnum).into()
}
