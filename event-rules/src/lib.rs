//! The rules of an event contract that do not depend on how the contract is
//! written down: what a valid event type name looks like, which field names
//! belong to the envelope, which payload fields look sensitive.
//!
//! `event-derive` checks a Rust struct against them at compile time,
//! `event-codegen` checks a JSON Schema against them at build time, and
//! `event-runtime` checks the syntax of type names it decodes. Keeping them in
//! one crate is what makes the three agree.

pub mod fields;
pub mod naming;
pub mod pattern;
pub mod service;
pub mod tense;
pub mod version;
