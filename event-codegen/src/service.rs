//! Service names in the `x-event` blocks: each checked against the shared
//! rule of `event_rules::service`, and the whole catalog's names checked for
//! two services that would become the same Rust name in the generated
//! routing (`pub mod services`: a marker type per service and its
//! `...Inbound` enum).

use crate::diagnostic::{Diagnostics, Severity, display_path};
use crate::json::{Node, Span};
use crate::lower::{EventMeta, SchemaFile};
use std::collections::HashMap;

/// The diagnostic code of a service name that breaks the rule.
pub(crate) const NAME: &str = "service-name";
/// The diagnostic code of two services with one Rust name.
pub(crate) const COLLISION: &str = "service-name-collision";

/// Checks every service name written in the `x-event` block of each file
/// against the rule, at its JSON string. A producer or consumer that is not
/// a non-empty string is left to `contract.rs` and the `missing-producer`
/// lint, which report it.
pub(crate) fn check_names(files: &[SchemaFile], diags: &mut Diagnostics) {
    for file in files {
        let Some(block) = file.root.get("x-event") else {
            continue;
        };
        let mut names = Vec::new();
        if let Some(p) = block.get("producer") {
            names.push(("producer", p, "/x-event/producer".to_string()));
        }
        if let Some(list) = block.get("consumers").and_then(Node::as_array) {
            for (i, c) in list.iter().enumerate() {
                if let Some(s) = c.get("service") {
                    names.push(("consumer", s, format!("/x-event/consumers/{i}/service")));
                }
            }
        }
        for (role, node, pointer) in names {
            let Some(name) = node.as_str().filter(|s| !s.is_empty()) else {
                continue;
            };
            let Err(e) = event_rules::service::check_service_name(name) else {
                // `self` is a valid name whose Rust name, `Self`, is a keyword.
                let ty = crate::naming::type_ident(name);
                if syn::parse_str::<syn::Ident>(&ty).is_err() {
                    diags.push(
                        Severity::Error,
                        NAME,
                        file.id,
                        &pointer,
                        node.span.clone(),
                        format!("{role} service name {name:?} becomes `{ty}` in the generated `services` module, a Rust keyword"),
                        Some(format!("name the service for what it does, like `{name}-service`")),
                    );
                }
                continue;
            };
            let hint = match event_rules::service::suggest_service_name(name) {
                Some(s) => format!(
                    "name the service in lower-case kebab case, `domain-service` style: `{s}`"
                ),
                None => "name the service in lower-case kebab case, `domain-service` style, like `enrollment-service`".to_string(),
            };
            diags.push(
                Severity::Error,
                NAME,
                file.id,
                &pointer,
                node.span.clone(),
                format!("invalid {role} service name {name:?}: {e}"),
                Some(hint),
            );
        }
    }
}

/// Where a service name is written: its file, pointer and span.
struct Place<'a> {
    file: &'a SchemaFile,
    pointer: String,
    span: Span,
}

/// Every valid service name of the catalog's event files, in file order,
/// with where it is written.
fn places<'a>(files: &'a [SchemaFile], metas: &[EventMeta]) -> Vec<(&'a str, Place<'a>)> {
    let mut out = Vec::new();
    for m in metas {
        let file = &files[m.file];
        let Some(block) = file.root.get("x-event") else {
            continue;
        };
        let mut push = |node: &'a Node, pointer: String| {
            if let Some(name) = node.as_str() {
                if event_rules::service::check_service_name(name).is_ok() {
                    out.push((
                        name,
                        Place {
                            file,
                            pointer,
                            span: node.span.clone(),
                        },
                    ));
                }
            }
        };
        if let Some(p) = block.get("producer") {
            push(p, "/x-event/producer".to_string());
        }
        if let Some(list) = block.get("consumers").and_then(Node::as_array) {
            for (i, c) in list.iter().enumerate() {
                if let Some(s) = c.get("service") {
                    push(s, format!("/x-event/consumers/{i}/service"));
                }
            }
        }
    }
    out
}

/// Reports every service whose Rust names (its marker type, its inbound
/// enum) are taken by another service, at the first place the later name
/// is written, naming the place of the earlier one.
pub(crate) fn check_collisions(files: &[SchemaFile], metas: &[EventMeta], diags: &mut Diagnostics) {
    // Rust name -> (service, where it was first written).
    let mut taken: HashMap<String, (&str, Place<'_>)> = HashMap::new();
    let mut seen: HashMap<&str, ()> = HashMap::new();
    let mut reported: Vec<(&str, &str)> = Vec::new();
    for (name, place) in places(files, metas) {
        if seen.insert(name, ()).is_some() {
            continue;
        }
        let ty = crate::naming::type_ident(name);
        let idents = [ty.clone(), format!("{ty}Inbound")];
        let mut clash = None;
        for ident in &idents {
            if let Some((other, at)) = taken.get(ident.as_str()) {
                clash = Some((ident.clone(), *other, at));
                break;
            }
        }
        if let Some((ident, other, at)) = clash {
            if !reported.contains(&(other, name)) {
                reported.push((other, name));
                diags.push(
                    Severity::Error,
                    COLLISION,
                    place.file.id,
                    &place.pointer,
                    place.span.clone(),
                    format!(
                        "services `{other}` and `{name}` both become the Rust name `{ident}` in the generated `services` module; `{other}` is named at `{}#{}`",
                        display_path(&at.file.path),
                        at.pointer
                    ),
                    Some(format!(
                        "give one of them a name that differs in its words, not only in its hyphens or case (services become `{ty}` and `{ty}Inbound`)"
                    )),
                );
            }
            continue;
        }
        for ident in idents {
            taken.insert(
                ident,
                (
                    name,
                    Place {
                        file: place.file,
                        pointer: place.pointer.clone(),
                        span: place.span.clone(),
                    },
                ),
            );
        }
    }
}
