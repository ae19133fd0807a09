//! The first step of lowering: where every `$id` and `$anchor` of the
//! catalog points, and how a reference is joined to its base URI.
//!
//! A file's own base URI is `root:/<path under the schema root>`; an `$id`
//! is resolved against the base in force where it appears, and becomes the
//! base of the subschema it names. Remote URIs are registered only as the
//! names the catalog gives its own schemas; nothing is fetched.

use crate::diagnostic::{Diagnostics, Severity};
use crate::json::{Kind, Node, escape_token};
use crate::lower::SchemaFile;
use std::collections::HashMap;

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
        assert_eq!(join(b, "//x.org/y").unwrap(), "//x.org/y");
    }
}
