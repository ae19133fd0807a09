//! The event catalog as Markdown: an index by domain, one page per event
//! type, producer/consumer diagrams in Mermaid, and a sample envelope per
//! version synthesized from the schema.
//!
//! Works on the raw schema files ([`crate::compat::load_dir`]), so it
//! documents exactly what the files say, including versions the code
//! generator has not been run on.
//!
//! ```
//! use std::collections::BTreeMap;
//! use std::path::PathBuf;
//!
//! let schema = serde_json::json!({
//!     "description": "A user completed a course.",
//!     "x-event": {
//!         "type": "enrollment.completed",
//!         "version": "1.0",
//!         "producer": "enrollment-service",
//!         "consumers": [{ "service": "certificate-service", "reason": "issues the certificate" }]
//!     },
//!     "type": "object",
//!     "properties": {
//!         "enrollmentId": { "type": "string", "format": "uuid", "description": "The enrollment." }
//!     },
//!     "required": ["enrollmentId"]
//! });
//! let files = BTreeMap::from([(PathBuf::from("enrollment/enrollment.completed.v1.0.json"), schema)]);
//! let pages = event_codegen::docs::render_catalog(&files).unwrap();
//! let page = &pages[&PathBuf::from("enrollment/enrollment.completed.md")];
//! assert!(page.contains("| `enrollmentId` | `string` (uuid) | yes | 1.0 | The enrollment. |  |"));
//! assert!(pages[&PathBuf::from("README.md")].contains("certificate-service"));
//! ```

use crate::compat::{self, Bump, SchemaRef, Version};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Nesting (and `$ref` hops) deeper than this is reported, not followed.
const MAX_DEPTH: usize = 32;

/// The fixed envelope values of every sample, so the output is stable.
pub(crate) const SAMPLE_ID: &str = "evt_01J9Z3K7Q8R2M4N6P8S0T2V4W6";
pub(crate) const SAMPLE_TIMESTAMP: &str = "2026-03-27T10:30:00.000Z";
/// The instant of a sample's deadlines and end dates, 30 days on.
const SAMPLE_LATER: &str = "2026-04-26T10:30:00.000Z";
pub(crate) const SAMPLE_TENANT: &str = "tenant_7f3c";
pub(crate) const SAMPLE_CORRELATION: &str = "req_xyz789";

/// Renders the Markdown catalog of the event schemas in `files` (by path
/// relative to the schema root, as [`compat::load_dir`] returns them).
///
/// Returns the pages by path relative to the output folder: `README.md`
/// (the index by domain and the whole catalog's diagram) and
/// `<domain>/<type>.md` for each event type. Every problem found in the
/// `x-event` blocks or `$ref`s is reported, each with its file and JSON
/// pointer, one per line.
pub fn render_catalog(
    files: &BTreeMap<PathBuf, Value>,
) -> Result<BTreeMap<PathBuf, String>, String> {
    let contracts = contracts(files)?;
    let mut by_type: BTreeMap<&str, Vec<&Contract<'_>>> = BTreeMap::new();
    for c in &contracts {
        by_type.entry(c.event_type.as_str()).or_default().push(c);
    }
    let alerts = crate::alerts::alerts_of(files, &crate::alerts::AlertConfig::default())?;
    let mut out = BTreeMap::new();
    let mut problems = Vec::new();
    for (ty, versions) in &by_type {
        match event_page(
            files,
            versions,
            &crate::alerts::catalog_section(ty, &alerts),
        ) {
            Ok(page) => {
                out.insert(page_path(ty), page);
            }
            Err(e) => problems.push(e),
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    out.insert(PathBuf::from("README.md"), index_page(&by_type));
    Ok(out)
}

/// Writes `pages` under `out`, each only when its text changed (so file
/// times move only for real changes), and removes the `*.md` files under
/// `out` that no page produces any more, so a removed event type leaves no
/// stale page behind. Returns how many files were written or removed.
pub fn write_pages(out: &Path, pages: &BTreeMap<PathBuf, String>) -> Result<usize, String> {
    // Symbolic links are neither followed nor removed: a link could lead
    // out of `out`.
    fn existing(root: &Path, dir: &Path, found: &mut BTreeSet<PathBuf>) -> Result<(), String> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(format!("{}: {e}", dir.display())),
        };
        for entry in entries {
            let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
            let path = entry.path();
            let kind = entry
                .file_type()
                .map_err(|e| format!("{}: {e}", path.display()))?;
            if kind.is_dir() {
                existing(root, &path, found)?;
            } else if kind.is_file() && path.extension().is_some_and(|e| e == "md") {
                found.insert(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
            }
        }
        Ok(())
    }
    // Every name is checked before anything is written or removed.
    let mut names = Vec::with_capacity(pages.len());
    for (rel, text) in pages {
        let name = rel
            .to_str()
            .map(|s| s.replace(std::path::MAIN_SEPARATOR, "/"))
            .ok_or_else(|| format!("refusing to write {}: not UTF-8", rel.display()))?;
        crate::outpath::join(out, &name).map_err(|e| e.to_string())?;
        names.push((name, text));
    }
    let mut found = BTreeSet::new();
    existing(out, out, &mut found)?;
    let mut touched = 0;
    for stale in found.iter().filter(|p| !pages.contains_key(*p)) {
        let path = out.join(stale);
        std::fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        touched += 1;
    }
    for (name, text) in names {
        if crate::outpath::write_if_changed(out, &name, text.as_bytes())
            .map_err(|e| e.to_string())?
        {
            touched += 1;
        }
    }
    Ok(touched)
}

// ---------------------------------------------------------------------------
// The contract of one event version, read from its `x-event` block.

/// A consumer of an event and why it consumes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Consumer {
    pub service: String,
    pub reason: String,
}

/// What the `x-event` block of one event schema declares.
#[derive(Debug, Clone)]
pub(crate) struct Contract<'a> {
    pub file: &'a Path,
    pub schema: &'a Value,
    pub event_type: String,
    pub version: Version,
    pub producer: String,
    pub consumers: Vec<Consumer>,
    pub delivery: String,
    pub ordering: String,
    pub partition_key: Option<String>,
    pub idempotency_key: Option<Vec<String>>,
}

impl Contract<'_> {
    pub fn version_string(&self) -> String {
        format!("{}.{}", self.version.0, self.version.1)
    }

    pub fn domain(&self) -> &str {
        domain(&self.event_type)
    }

    pub fn description(&self) -> &str {
        self.schema
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

pub(crate) fn domain(event_type: &str) -> &str {
    event_type.split('.').next().unwrap_or(event_type)
}

fn page_path(event_type: &str) -> PathBuf {
    PathBuf::from(format!("{}/{event_type}.md", domain(event_type)))
}

/// Reads the `x-event` block of every event schema, sorted by type and
/// version; all problems of the catalog are reported together.
pub(crate) fn contracts(files: &BTreeMap<PathBuf, Value>) -> Result<Vec<Contract<'_>>, String> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (file, schema) in files {
        let Some(block) = schema.get("x-event") else {
            continue;
        };
        let mut p = |pointer: &str, what: &str| {
            problems.push(format!("{}#/x-event{pointer}: {what}", file.display()));
        };
        if !block.is_object() {
            p("", "expected an object");
            continue;
        }
        let string = |key: &str| block.get(key).and_then(Value::as_str).map(str::to_owned);
        let mut event_type = string("type");
        match &event_type {
            None => p("/type", "missing, or not a string"),
            Some(t) => {
                if let Err(e) = event_rules::naming::check_syntax(t) {
                    p("/type", &format!("invalid event type {t:?}: {e}"));
                    event_type = None;
                }
            }
        }
        let version = string("version").and_then(|v| event_rules::version::parse_version(&v));
        if version.is_none() {
            p("/version", "missing, or not a `MAJOR.MINOR` string");
        }
        let mut producer = string("producer");
        match &producer {
            None => p("/producer", "missing, or not a string"),
            Some(name) => {
                if let Some(why) = bad_service_name("producer", name) {
                    p("/producer", &why);
                    producer = None;
                }
            }
        }
        let mut consumers = Vec::new();
        match block.get("consumers").and_then(Value::as_array) {
            None => p("/consumers", "missing, or not an array"),
            Some(list) if list.is_empty() => {
                p("/consumers", "an event needs at least one consumer")
            }
            Some(list) => {
                for (i, entry) in list.iter().enumerate() {
                    let service = entry.get("service").and_then(Value::as_str);
                    let reason = entry.get("reason").and_then(Value::as_str);
                    match (service, reason) {
                        (Some(s), Some(r)) => match bad_service_name("consumer", s) {
                            Some(why) => p(&format!("/consumers/{i}/service"), &why),
                            None => consumers.push(Consumer {
                                service: s.to_owned(),
                                reason: r.to_owned(),
                            }),
                        },
                        (None, _) => p(
                            &format!("/consumers/{i}/service"),
                            "missing, or not a string",
                        ),
                        (_, None) => p(
                            &format!("/consumers/{i}/reason"),
                            "missing, or not a string",
                        ),
                    }
                }
            }
        }
        let delivery = string("delivery").unwrap_or_else(|| "at-least-once".to_owned());
        if !["at-most-once", "at-least-once", "exactly-once-effect"].contains(&delivery.as_str()) {
            p("/delivery", &format!("unknown delivery `{delivery}`"));
        }
        let ordering = string("ordering").unwrap_or_else(|| "unordered".to_owned());
        if !["unordered", "per-entity", "global"].contains(&ordering.as_str()) {
            p("/ordering", &format!("unknown ordering `{ordering}`"));
        }
        let partition_key = string("partitionKey");
        if block.get("partitionKey").is_some() && partition_key.is_none() {
            p("/partitionKey", "not a string");
        }
        let idempotency_key = match block.get("idempotencyKey") {
            None => None,
            Some(Value::Array(keys)) if keys.iter().all(Value::is_string) && !keys.is_empty() => {
                Some(
                    keys.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect(),
                )
            }
            Some(_) => {
                p("/idempotencyKey", "not a non-empty array of strings");
                None
            }
        };
        if let (Some(event_type), Some(version), Some(producer)) = (event_type, version, producer) {
            out.push(Contract {
                file,
                schema,
                event_type,
                version,
                producer,
                consumers,
                delivery,
                ordering,
                partition_key,
                idempotency_key,
            });
        }
    }
    out.sort_by(|a, b| (&a.event_type, a.version).cmp(&(&b.event_type, b.version)));
    for pair in out.windows(2) {
        if pair[0].event_type == pair[1].event_type && pair[0].version == pair[1].version {
            problems.push(format!(
                "{}: {} {} is also declared by {}",
                pair[1].file.display(),
                pair[1].event_type,
                pair[1].version_string(),
                pair[0].file.display()
            ));
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems.join("\n"))
    }
}

/// Who produces and who consumes one event version, as its `x-event`
/// block declares: what a broker topology is derived from, without
/// generating code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The schema file, relative to the root.
    pub file: PathBuf,
    /// `enrollment.completed`.
    pub event_type: String,
    /// The major version.
    pub major: u32,
    /// The minor version.
    pub minor: u32,
    /// The producing service.
    pub producer: String,
    /// The consuming services, as listed.
    pub consumers: Vec<String>,
    /// `at-least-once` (the default), `at-most-once`, `exactly-once-effect`.
    pub delivery: String,
    /// `unordered` (the default), `per-entity`, `global`.
    pub ordering: String,
}

/// The route of every event schema in `files` (as
/// [`compat::load_dir`] returns them), sorted by type and version. Every
/// problem of the `x-event` blocks is reported, each with its file and
/// JSON pointer, one per line.
///
/// ```
/// use std::collections::BTreeMap;
/// use std::path::PathBuf;
///
/// let schema = serde_json::json!({
///     "x-event": {
///         "type": "enrollment.completed", "version": "1.1",
///         "producer": "enrollment-service",
///         "consumers": [{ "service": "certificate-service", "reason": "issues the certificate" }]
///     }
/// });
/// let files = BTreeMap::from([(PathBuf::from("enrollment/enrollment.completed.v1.1.json"), schema)]);
/// let routes = event_codegen::docs::routes(&files).unwrap();
/// assert_eq!((routes[0].major, routes[0].minor), (1, 1));
/// assert_eq!(routes[0].consumers, ["certificate-service"]);
/// ```
pub fn routes(files: &BTreeMap<PathBuf, Value>) -> Result<Vec<Route>, String> {
    Ok(contracts(files)?
        .into_iter()
        .map(|c| Route {
            file: c.file.to_path_buf(),
            major: c.version.0,
            minor: c.version.1,
            producer: c.producer,
            consumers: c.consumers.into_iter().map(|c| c.service).collect(),
            delivery: c.delivery,
            ordering: c.ordering,
            event_type: c.event_type,
        })
        .collect())
}

/// Why `name` is not a service name (the rule of `event_rules::service`,
/// which `check` applies too), with a suggested name; `None` if it is one.
fn bad_service_name(role: &str, name: &str) -> Option<String> {
    let e = event_rules::service::check_service_name(name).err()?;
    let hint = match event_rules::service::suggest_service_name(name) {
        Some(s) => format!("; name it in lower-case kebab case, like `{s}`"),
        None => "; name it in lower-case kebab case, like `enrollment-service`".to_string(),
    };
    Some(format!("invalid {role} service name {name:?}: {e}{hint}"))
}

// ---------------------------------------------------------------------------
// Pages.

fn index_page(by_type: &BTreeMap<&str, Vec<&Contract<'_>>>) -> String {
    let mut md = String::new();
    md.push_str(
        "<!-- @generated by `event-codegen catalog`; edit the schemas, not this file. -->\n\n",
    );
    md.push_str("# Event catalog\n\n");
    let services: BTreeSet<&str> = by_type
        .values()
        .flatten()
        .flat_map(|c| {
            std::iter::once(c.producer.as_str())
                .chain(c.consumers.iter().map(|k| k.service.as_str()))
        })
        .collect();
    let _ = writeln!(
        md,
        "{} event types in {} domains, {} services. Each page lists the event's contract: producer, consumers and why they consume it, delivery, ordering, idempotency key, fields, a sample envelope and the version history.\n",
        by_type.len(),
        by_type
            .keys()
            .map(|t| domain(t))
            .collect::<BTreeSet<_>>()
            .len(),
        services.len()
    );
    md.push_str("## Who produces and consumes what\n\n");
    md.push_str(&catalog_diagram(by_type));
    let mut domains: BTreeMap<&str, Vec<(&str, &Vec<&Contract<'_>>)>> = BTreeMap::new();
    for (ty, versions) in by_type {
        domains.entry(domain(ty)).or_default().push((ty, versions));
    }
    for (domain, types) in domains {
        let _ = writeln!(md, "\n## {domain}\n");
        md.push_str(
            "| Event | Versions | Producer | Consumers | Description |\n|---|---|---|---|---|\n",
        );
        for (ty, versions) in types {
            let Some(latest) = versions.last() else {
                continue;
            };
            let consumers: BTreeSet<&str> = versions
                .iter()
                .flat_map(|c| c.consumers.iter().map(|k| k.service.as_str()))
                .collect();
            let _ = writeln!(
                md,
                "| [`{ty}`]({}) | {} | `{}` | {} | {} |",
                page_path(ty).display(),
                versions
                    .iter()
                    .map(|c| c.version_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                latest.producer,
                consumers
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                cell(first_sentence(latest.description()))
            );
        }
    }
    md
}

fn catalog_diagram(by_type: &BTreeMap<&str, Vec<&Contract<'_>>>) -> String {
    let mut services = BTreeSet::new();
    let mut edges = BTreeSet::new();
    for (ty, versions) in by_type {
        for c in versions {
            services.insert(c.producer.as_str());
            edges.insert((Node::Service(c.producer.as_str()), Node::Event(ty)));
            for k in &c.consumers {
                services.insert(k.service.as_str());
                edges.insert((Node::Event(ty), Node::Service(k.service.as_str())));
            }
        }
    }
    let service_ids: BTreeMap<&str, String> = services
        .iter()
        .enumerate()
        .map(|(i, s)| (*s, format!("s{i}")))
        .collect();
    let event_ids: BTreeMap<&str, String> = by_type
        .keys()
        .enumerate()
        .map(|(i, t)| (*t, format!("e{i}")))
        .collect();
    let id = |n: &Node<'_>| match n {
        Node::Service(s) => service_ids[s].clone(),
        Node::Event(t) => event_ids[t].clone(),
    };
    let mut md = String::from("```mermaid\nflowchart LR\n");
    for (s, i) in &service_ids {
        let _ = writeln!(md, "    {i}[\"{}\"]", label(s));
    }
    let mut domains: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for t in by_type.keys() {
        domains.entry(domain(t)).or_default().push(t);
    }
    // Numbered ids: a domain called `end` or `graph` must not read as a
    // Mermaid keyword.
    for (i, (d, types)) in domains.into_iter().enumerate() {
        let _ = writeln!(md, "    subgraph d{i}[\"{}\"]", label(d));
        for t in types {
            let _ = writeln!(md, "        {}([\"{}\"])", event_ids[t], label(t));
        }
        md.push_str("    end\n");
    }
    for (from, to) in &edges {
        let _ = writeln!(md, "    {} --> {}", id(from), id(to));
    }
    md.push_str("```\n");
    md
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Node<'a> {
    Service(&'a str),
    Event(&'a str),
}

/// One event type's page: all its versions, newest major first.
fn event_page(
    files: &BTreeMap<PathBuf, Value>,
    versions: &[&Contract<'_>],
    observability: &str,
) -> Result<String, String> {
    let Some(latest) = versions.last() else {
        return Ok(String::new());
    };
    let ty = &latest.event_type;
    let mut md = String::new();
    md.push_str(
        "<!-- @generated by `event-codegen catalog`; edit the schemas, not this file. -->\n\n",
    );
    let _ = writeln!(md, "# `{ty}`\n");
    let _ = writeln!(md, "{}\n", latest.description());
    let _ = writeln!(
        md,
        "Versions: {}. Domain: [{}](../README.md#{}).\n",
        versions
            .iter()
            .map(|c| c.version_string())
            .collect::<Vec<_>>()
            .join(", "),
        latest.domain(),
        latest.domain()
    );
    let mut majors: BTreeMap<u32, Vec<&Contract<'_>>> = BTreeMap::new();
    for c in versions {
        majors.entry(c.version.0).or_default().push(c);
    }
    for (major, minors) in majors.iter().rev() {
        let Some(newest) = minors.last() else {
            continue;
        };
        let _ = writeln!(
            md,
            "## Version {major}.x (newest: {})\n",
            newest.version_string()
        );
        if newest.description() != latest.description() {
            let _ = writeln!(md, "{}\n", newest.description());
        }
        md.push_str(&contract_table(newest));
        md.push_str("\n### Producer and consumers\n\n");
        md.push_str(&event_diagram(newest));
        md.push_str("\n| Consumer | Why it consumes the event |\n|---|---|\n");
        for k in &newest.consumers {
            let _ = writeln!(md, "| `{}` | {} |", k.service, cell(&k.reason));
        }
        md.push_str("\n### Fields\n\n");
        md.push_str(&field_table(files, minors)?);
        let _ = writeln!(
            md,
            "\n### Sample\n\nA {} event in its envelope, every optional field filled in to show its shape:\n",
            newest.version_string()
        );
        let data = sample_data(files, newest.file)?;
        md.push_str("```json\n");
        md.push_str(&envelope(newest, data).to_json());
        md.push_str("\n```\n\n");
    }
    md.push_str(observability);
    md.push_str("## Version history\n\n");
    md.push_str(&history(files, versions));
    Ok(md)
}

fn contract_table(c: &Contract<'_>) -> String {
    let ordering = match (&c.ordering[..], &c.partition_key) {
        ("per-entity", Some(key)) => format!("per entity, partition key `{key}`"),
        ("per-entity", None) => "per entity (no partition key declared)".to_owned(),
        (other, _) => other.to_owned(),
    };
    let idempotency = match &c.idempotency_key {
        Some(keys) => format!(
            "{} (natural key: the same fact published twice under two event ids is processed once)",
            keys.iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(" + ")
        ),
        None => "the event id".to_owned(),
    };
    let mut md = String::from("| | |\n|---|---|\n");
    let _ = writeln!(md, "| Producer | `{}` |", c.producer);
    let _ = writeln!(md, "| Delivery | {} |", c.delivery);
    let _ = writeln!(md, "| Ordering | {ordering} |");
    let _ = writeln!(md, "| Idempotency key | {idempotency} |");
    let _ = writeln!(md, "| Schema | `{}` |", c.file.display());
    md
}

fn event_diagram(c: &Contract<'_>) -> String {
    let mut md = String::from("```mermaid\nflowchart LR\n");
    let _ = writeln!(
        md,
        "    p[\"{}\"] --> e([\"{} v{}\"])",
        label(&c.producer),
        label(&c.event_type),
        c.version.0
    );
    for (i, k) in c.consumers.iter().enumerate() {
        let _ = writeln!(
            md,
            "    e -->|\"{}\"| c{i}[\"{}\"]",
            label(&k.reason),
            label(&k.service)
        );
    }
    md.push_str("```\n");
    md
}

fn history(files: &BTreeMap<PathBuf, Value>, versions: &[&Contract<'_>]) -> String {
    let mut md = String::new();
    if let Some(first) = versions.first() {
        let _ = writeln!(md, "### {}\n\nFirst version.\n", first.version_string());
    }
    for pair in versions.windows(2) {
        let (old, new) = (pair[0], pair[1]);
        let mut changes = compat::diff(
            SchemaRef {
                files,
                file: old.file,
            },
            SchemaRef {
                files,
                file: new.file,
            },
        );
        // By pointer, so the order does not hang on the map order
        // `serde_json` was built with.
        changes.sort_by(|a, b| a.pointer.cmp(&b.pointer));
        let needed = compat::required_bump(&changes);
        let made = if old.version.0 != new.version.0 {
            Bump::Major
        } else {
            Bump::Minor
        };
        let _ = writeln!(
            md,
            "### {} → {} ({})\n",
            old.version_string(),
            new.version_string(),
            bump_word(made)
        );
        if changes.is_empty() {
            md.push_str("No change to the contract.\n\n");
            continue;
        }
        if needed > made {
            md.push_str("**These changes need a new major version; `event-codegen check` rejects them.**\n\n");
        }
        for change in &changes {
            let _ = writeln!(
                md,
                "- `{}`: {} ({})",
                change.pointer,
                change.what,
                bump_word(change.bump)
            );
        }
        md.push('\n');
    }
    md
}

fn bump_word(b: Bump) -> &'static str {
    match b {
        Bump::None => "documentation",
        Bump::Minor => "minor",
        Bump::Major => "major",
    }
}

// ---------------------------------------------------------------------------
// Field tables.

/// A schema as seen from where it is used: the `$ref` target, with the
/// annotations written beside the `$ref` taking precedence.
#[derive(Clone)]
struct View<'a> {
    file: PathBuf,
    pointer: String,
    /// The schema at the use site (may be only a `$ref` and a description).
    site: &'a Value,
    /// The schema the `$ref` chain ends at (the site itself without `$ref`).
    target: &'a Value,
    /// The `title` of a `$ref`ed definition, to name the type.
    ref_title: Option<&'a str>,
}

impl<'a> View<'a> {
    fn new(
        files: &'a BTreeMap<PathBuf, Value>,
        file: &Path,
        pointer: String,
        site: &'a Value,
    ) -> Result<Self, String> {
        let mut target = site;
        let mut target_file = file.to_path_buf();
        let mut target_pointer = pointer;
        let mut ref_title = None;
        let mut hops = 0;
        while let Some(reference) = target.get("$ref").and_then(Value::as_str) {
            hops += 1;
            let at = format!("{}#{target_pointer}/$ref", target_file.display());
            if hops > MAX_DEPTH {
                return Err(format!("{at}: `$ref` chain at {reference} does not end"));
            }
            let (f, v) = compat::resolve_ref(files, &target_file, reference).ok_or_else(|| {
                format!("{at}: `$ref` {reference} cannot be resolved under the schema root")
            })?;
            // From here on, pointers are into the file the `$ref` led to.
            target_pointer = reference
                .split_once('#')
                .map(|(_, p)| p.to_owned())
                .unwrap_or_default();
            target_file = f;
            target = v;
            ref_title = target.get("title").and_then(Value::as_str).or(ref_title);
        }
        Ok(View {
            file: target_file,
            pointer: target_pointer,
            site,
            target,
            ref_title,
        })
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.site
            .get(key)
            .filter(|_| key != "$ref")
            .or_else(|| self.target.get(key))
    }

    fn str(&self, key: &str) -> Option<&'a str> {
        self.get(key).and_then(Value::as_str)
    }

    fn types(&self) -> Vec<&'a str> {
        match self.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// The object's properties in table order (the `required` list's order,
    /// then the optional ones by name), through `allOf` members.
    fn properties(
        &self,
        files: &'a BTreeMap<PathBuf, Value>,
    ) -> Result<Vec<(String, View<'a>, bool)>, String> {
        let mut props: BTreeMap<String, View<'a>> = BTreeMap::new();
        let mut required: Vec<String> = Vec::new();
        self.collect_properties(files, &mut props, &mut required, 0)?;
        let mut out = Vec::new();
        for name in &required {
            if let Some(v) = props.remove(name) {
                out.push((name.clone(), v, true));
            }
        }
        out.extend(props.into_iter().map(|(n, v)| (n, v, false)));
        Ok(out)
    }

    fn collect_properties(
        &self,
        files: &'a BTreeMap<PathBuf, Value>,
        props: &mut BTreeMap<String, View<'a>>,
        required: &mut Vec<String>,
        depth: usize,
    ) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "{}#{}: `allOf` nested too deeply",
                self.file.display(),
                self.pointer
            ));
        }
        for (k, value) in [("target", self.target), ("site", self.site)] {
            if k == "site" && std::ptr::eq(self.site, self.target) {
                continue;
            }
            if let Some(map) = value.get("properties").and_then(Value::as_object) {
                for (name, schema) in map {
                    let pointer = format!("{}/properties/{}", self.pointer, escape(name));
                    props.insert(name.clone(), View::new(files, &self.file, pointer, schema)?);
                }
            }
            for name in value
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(name) = name.as_str().filter(|n| !required.iter().any(|r| r == n)) {
                    required.push(name.to_owned());
                }
            }
            for (i, member) in value
                .get("allOf")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let pointer = format!("{}/allOf/{i}", self.pointer);
                View::new(files, &self.file, pointer, member)?.collect_properties(
                    files,
                    props,
                    required,
                    depth + 1,
                )?;
            }
        }
        Ok(())
    }

    fn variants(&self, files: &'a BTreeMap<PathBuf, Value>) -> Result<Vec<View<'a>>, String> {
        let mut out = Vec::new();
        for keyword in ["oneOf", "anyOf"] {
            if let Some(list) = self.get(keyword).and_then(Value::as_array) {
                for (i, v) in list.iter().enumerate() {
                    out.push(View::new(
                        files,
                        &self.file,
                        format!("{}/{keyword}/{i}", self.pointer),
                        v,
                    )?);
                }
            }
        }
        Ok(out)
    }
}

struct Row {
    path: String,
    ty: String,
    required: String,
    description: String,
    constraints: String,
}

/// The fields table of the newest minor of one major, with the minor each
/// field first appeared in.
fn field_table(
    files: &BTreeMap<PathBuf, Value>,
    minors: &[&Contract<'_>],
) -> Result<String, String> {
    let Some(newest) = minors.last() else {
        return Ok(String::new());
    };
    let rows = rows_of(files, newest)?;
    let mut earlier: Vec<(String, BTreeSet<String>)> = Vec::new();
    for c in minors {
        let paths = rows_of(files, c)?.into_iter().map(|r| r.path).collect();
        earlier.push((c.version_string(), paths));
    }
    if rows.is_empty() {
        return Ok("The payload has no fields.\n".to_owned());
    }
    let mut md = String::from(
        "| Field | Type | Required | Since | Description | Constraints |\n|---|---|---|---|---|---|\n",
    );
    for row in rows {
        let since = earlier
            .iter()
            .find(|(_, paths)| paths.contains(&row.path))
            .map(|(v, _)| v.as_str())
            .unwrap_or("");
        let _ = writeln!(
            md,
            "| `{}` | {} | {} | {since} | {} | {} |",
            row.path.replace('|', "\\|"),
            row.ty,
            row.required,
            cell(&row.description),
            row.constraints
        );
    }
    Ok(md)
}

fn rows_of(files: &BTreeMap<PathBuf, Value>, c: &Contract<'_>) -> Result<Vec<Row>, String> {
    let root = View::new(files, c.file, String::new(), c.schema)?;
    let mut rows = Vec::new();
    object_rows(files, &root, "", None, &mut rows, 0)?;
    Ok(rows)
}

fn object_rows<'a>(
    files: &'a BTreeMap<PathBuf, Value>,
    view: &View<'a>,
    prefix: &str,
    variant: Option<&str>,
    rows: &mut Vec<Row>,
    depth: usize,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "{}#{}: schema nested too deeply to document",
            view.file.display(),
            view.pointer
        ));
    }
    for (name, prop, required) in view.properties(files)? {
        let path = format!("{prefix}{name}");
        let mut description = prop.str("description").unwrap_or("").to_owned();
        if let Some(v) = variant {
            description = if description.is_empty() {
                format!("*{v}*")
            } else {
                format!("*{v}:* {description}")
            };
        }
        rows.push(Row {
            path: path.clone(),
            ty: type_of(files, &prop)?,
            required: if required { "yes" } else { "no" }.to_owned(),
            description,
            constraints: constraints(&prop),
        });
        nested_rows(files, &prop, &path, rows, depth + 1)?;
    }
    Ok(())
}

/// Rows for what a field contains: an object's properties, an array's
/// items, each variant's properties.
fn nested_rows<'a>(
    files: &'a BTreeMap<PathBuf, Value>,
    view: &View<'a>,
    path: &str,
    rows: &mut Vec<Row>,
    depth: usize,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "{}#{}: schema nested too deeply to document",
            view.file.display(),
            view.pointer
        ));
    }
    object_rows(files, view, &format!("{path}."), None, rows, depth)?;
    if let Some(items) = view.get("items").filter(|i| i.is_object()) {
        let items = View::new(files, &view.file, format!("{}/items", view.pointer), items)?;
        let item_path = format!("{path}[]");
        let has_inner = !items.properties(files)?.is_empty() || !items.variants(files)?.is_empty();
        if has_inner {
            nested_rows(files, &items, &item_path, rows, depth + 1)?;
        } else {
            rows.push(Row {
                path: item_path,
                ty: type_of(files, &items)?,
                required: "each item".to_owned(),
                description: items.str("description").unwrap_or("").to_owned(),
                constraints: constraints(&items),
            });
        }
    }
    for (i, variant) in view.variants(files)?.iter().enumerate() {
        let name = variant_name(variant, i);
        object_rows(
            files,
            variant,
            &format!("{path}."),
            Some(&name),
            rows,
            depth + 1,
        )?;
    }
    Ok(())
}

fn variant_name(v: &View<'_>, i: usize) -> String {
    v.str("title")
        .map(str::to_owned)
        .unwrap_or_else(|| format!("variant {}", i + 1))
}

fn type_of<'a>(files: &'a BTreeMap<PathBuf, Value>, v: &View<'a>) -> Result<String, String> {
    let variants = v.variants(files)?;
    if !variants.is_empty() {
        let names: Vec<String> = variants
            .iter()
            .enumerate()
            .map(|(i, x)| format!("`{}`", variant_name(x, i)))
            .collect();
        return Ok(format!("one of {}", names.join(", ")));
    }
    let mut types: Vec<String> = v
        .types()
        .into_iter()
        .map(|t| match t {
            "array" => match v.get("items").filter(|i| i.is_object()) {
                Some(items) => {
                    match View::new(files, &v.file, format!("{}/items", v.pointer), items) {
                        Ok(items) => match type_of(files, &items) {
                            Ok(inner) => format!("`array` of {inner}"),
                            Err(_) => "`array`".to_owned(),
                        },
                        Err(_) => "`array`".to_owned(),
                    }
                }
                None => "`array`".to_owned(),
            },
            "string" => match v.str("format") {
                Some(f) => format!("`string` ({f})"),
                None => "`string`".to_owned(),
            },
            other => format!("`{other}`"),
        })
        .collect();
    if types.is_empty() {
        if let Some(c) = v.get("const") {
            types.push(format!("`{}`", json_type(c)));
        } else if v.get("properties").is_some() {
            types.push("`object`".to_owned());
        } else {
            types.push("any".to_owned());
        }
    }
    let mut out = types.join(" or ");
    if let Some(title) = v.ref_title {
        out.push_str(&format!(" ({title})"));
    }
    Ok(out.replace('|', "\\|"))
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn constraints(v: &View<'_>) -> String {
    let mut out = Vec::new();
    if let Some(values) = v.get("enum").and_then(Value::as_array) {
        out.push(format!(
            "one of {}",
            values
                .iter()
                .map(|x| format!("`{x}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(c) = v.get("const") {
        out.push(format!("always `{c}`"));
    }
    for keyword in [
        "minimum",
        "exclusiveMinimum",
        "maximum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
        "default",
    ] {
        if let Some(x) = v.get(keyword) {
            out.push(format!("`{keyword}: {x}`"));
        }
    }
    if v.get("additionalProperties") == Some(&Value::Bool(false)) {
        out.push("no other properties".to_owned());
    }
    if v.get("deprecated") == Some(&Value::Bool(true)) {
        out.push("**deprecated**".to_owned());
    }
    out.join(", ").replace('|', "\\|").replace('\n', " ")
}

/// Makes text safe for one Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Makes text safe inside a quoted Mermaid label.
fn label(s: &str) -> String {
    s.replace('"', "#quot;")
}

fn first_sentence(s: &str) -> &str {
    match s.find(". ") {
        Some(i) => &s[..=i],
        None => s,
    }
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

// ---------------------------------------------------------------------------
// Samples.

/// A JSON value whose object keys keep the order they were written in, so
/// a sample reads in the envelope's and the schema's order whatever the
/// `serde_json` features.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Sample {
    Scalar(Value),
    Array(Vec<Sample>),
    Object(Vec<(String, Sample)>),
}

impl Sample {
    /// Pretty JSON, two spaces per level.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out
    }

    fn write(&self, out: &mut String, indent: usize) {
        let pad = |n: usize| "  ".repeat(n);
        match self {
            Sample::Scalar(v) => out.push_str(&v.to_string()),
            Sample::Array(items) if items.is_empty() => out.push_str("[]"),
            Sample::Object(fields) if fields.is_empty() => out.push_str("{}"),
            Sample::Array(items) => {
                out.push_str("[\n");
                for (i, item) in items.iter().enumerate() {
                    out.push_str(&pad(indent + 1));
                    item.write(out, indent + 1);
                    out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(indent));
                out.push(']');
            }
            Sample::Object(fields) => {
                out.push_str("{\n");
                for (i, (k, v)) in fields.iter().enumerate() {
                    out.push_str(&pad(indent + 1));
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push_str(": ");
                    v.write(out, indent + 1);
                    out.push_str(if i + 1 < fields.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(indent));
                out.push('}');
            }
        }
    }

    /// The sample as a `serde_json` value.
    pub fn to_value(&self) -> Value {
        match self {
            Sample::Scalar(v) => v.clone(),
            Sample::Array(items) => Value::Array(items.iter().map(Sample::to_value).collect()),
            Sample::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_value()))
                    .collect::<Map<_, _>>(),
            ),
        }
    }
}

/// The sample event in the envelope of the domain rules, with fixed id,
/// timestamp, tenant and correlation id.
pub(crate) fn envelope(c: &Contract<'_>, data: Sample) -> Sample {
    let s = |v: &str| Sample::Scalar(Value::String(v.to_owned()));
    Sample::Object(vec![
        ("id".into(), s(SAMPLE_ID)),
        ("type".into(), s(&c.event_type)),
        ("version".into(), s(&c.version_string())),
        ("timestamp".into(), s(SAMPLE_TIMESTAMP)),
        ("source".into(), s(&c.producer)),
        ("tenantId".into(), s(SAMPLE_TENANT)),
        ("correlationId".into(), s(SAMPLE_CORRELATION)),
        ("data".into(), data),
        (
            "metadata".into(),
            Sample::Object(vec![("triggeredBy".into(), s("usr_42"))]),
        ),
    ])
}

/// A payload valid against the event schema in `file`, built from its
/// `examples`, `default`, `const`, `enum`, `format` and bounds; the same
/// schema always gives the same sample.
pub(crate) fn sample_data(files: &BTreeMap<PathBuf, Value>, file: &Path) -> Result<Sample, String> {
    let schema = files
        .get(file)
        .ok_or_else(|| format!("{}: no such schema file", file.display()))?;
    let view = View::new(files, file, String::new(), schema)?;
    sample_of(files, &view, "data", 0)
}

fn sample_of<'a>(
    files: &'a BTreeMap<PathBuf, Value>,
    v: &View<'a>,
    path: &str,
    depth: usize,
) -> Result<Sample, String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "{}#{}: schema nested too deeply for a sample",
            v.file.display(),
            v.pointer
        ));
    }
    // A value the schema gives, in order of authority: `const`, the first
    // of `examples`, `default`, the first `enum` value.
    let first = |key: &str| v.get(key).and_then(Value::as_array).and_then(|a| a.first());
    let given = v
        .get("const")
        .or_else(|| first("examples"))
        .or_else(|| v.get("default"))
        .or_else(|| first("enum"));
    if let Some(x) = given {
        return Ok(Sample::Scalar(x.clone()));
    }
    if let Some(first) = v.variants(files)?.first() {
        return sample_of(files, first, path, depth + 1);
    }
    let types = v.types();
    let ty = types
        .iter()
        .copied()
        .find(|t| *t != "null")
        .or(types.first().copied())
        .unwrap_or_else(|| {
            if v.get("properties").is_some() || v.get("allOf").is_some() {
                "object"
            } else {
                "string"
            }
        });
    // The field's name: an array item is named for its array.
    let last = path.rsplit('.').next().unwrap_or(path);
    let name = last.split('[').next().unwrap_or(last);
    Ok(match ty {
        "object" => {
            let mut fields = Vec::new();
            for (prop, schema, required) in v.properties(files)? {
                // Optional fields of deeply nested (possibly recursive)
                // schemas are left out so the sample ends.
                if !required && depth > 8 {
                    continue;
                }
                let value = sample_of(files, &schema, &format!("{path}.{prop}"), depth + 1)?;
                fields.push((prop, value));
            }
            Sample::Object(fields)
        }
        "array" => {
            let min = v
                .get("minItems")
                .and_then(Value::as_u64)
                .unwrap_or(1)
                .max(1);
            let count = match v.get("maxItems").and_then(Value::as_u64) {
                Some(max) => min.min(max),
                None => min,
            };
            let mut items = Vec::new();
            if let Some(schema) = v.get("items").filter(|i| i.is_object()) {
                let item = View::new(files, &v.file, format!("{}/items", v.pointer), schema)?;
                let distinct = item.get("enum").and_then(Value::as_array);
                for i in 0..count {
                    match distinct.and_then(|d| d.get(i as usize)) {
                        Some(x) => items.push(Sample::Scalar(x.clone())),
                        None => {
                            items.push(sample_of(files, &item, &format!("{path}[{i}]"), depth + 1)?)
                        }
                    }
                }
            }
            Sample::Array(items)
        }
        "integer" | "number" => Sample::Scalar(number(v, name, ty == "integer")),
        "boolean" => Sample::Scalar(Value::Bool(true)),
        "null" => Sample::Scalar(Value::Null),
        _ => Sample::Scalar(Value::String(string(v, name, path)?)),
    })
}

fn number(v: &View<'_>, name: &str, integer: bool) -> Value {
    let lower = name.to_ascii_lowercase();
    let hint: f64 = if lower.contains("score") || lower == "points" {
        85.0
    } else if lower.starts_with("max") {
        100.0
    } else if lower.contains("duration") || lower.contains("minutes") {
        320.0
    } else if lower.contains("amount") || lower.contains("price") {
        4900.0
    } else if lower.contains("percent") {
        60.0
    } else if lower.starts_with("total") {
        12.0
    } else if lower.contains("revision")
        || lower.contains("count")
        || lower.contains("version")
        || lower.starts_with("completed")
    {
        3.0
    } else {
        1.0
    };
    let num = |k: &str| v.get(k).and_then(Value::as_f64);
    let step = if integer { 1.0 } else { 0.5 };
    let mut x = hint;
    if let Some(m) = num("minimum") {
        x = x.max(m);
    }
    if let Some(m) = num("exclusiveMinimum").filter(|m| x <= *m) {
        x = m + step;
    }
    if let Some(m) = num("maximum") {
        x = x.min(m);
    }
    if let Some(m) = num("exclusiveMaximum").filter(|m| x >= *m) {
        x = m - step;
    }
    if integer {
        let mut x = x.ceil();
        if num("maximum").is_some_and(|m| x > m) {
            x -= 1.0;
        }
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x)
            .map(Value::Number)
            .unwrap_or(Value::from(0))
    }
}

fn string(v: &View<'_>, name: &str, path: &str) -> Result<String, String> {
    let lower = name.to_ascii_lowercase();
    let candidate = match v.str("format") {
        Some("uuid") => uuid(path),
        // A deadline or an end sits after the event, the rest at it.
        Some("date-time")
            if ["expires", "until", "deadline", "ends"]
                .iter()
                .any(|k| lower.contains(k)) =>
        {
            SAMPLE_LATER.to_owned()
        }
        Some("date-time") => SAMPLE_TIMESTAMP.to_owned(),
        Some("date") => SAMPLE_TIMESTAMP[..10].to_owned(),
        Some("time") => "10:30:00Z".to_owned(),
        Some("email" | "idn-email") => "ada.lovelace@example.com".to_owned(),
        Some("uri" | "iri" | "uri-reference" | "iri-reference" | "url") => {
            format!("https://example.com/{}", heck_kebab(name))
        }
        Some("hostname" | "idn-hostname") => "example.com".to_owned(),
        Some("ipv4") => "192.0.2.10".to_owned(),
        Some("ipv6") => "2001:db8::10".to_owned(),
        Some("duration") => "PT1H30M".to_owned(),
        _ => {
            let by_name = [
                ("currency", "EUR"),
                ("locale", "en"),
                ("language", "en"),
                ("timezone", "Europe/Paris"),
                ("slug", "event-driven-design"),
                ("title", "Event-Driven Design"),
                ("displayname", "Ada Lovelace"),
                ("name", "Ada Lovelace"),
                ("country", "FR"),
                ("reason", "requested by the user"),
            ];
            by_name
                .iter()
                .find(|(k, _)| lower.contains(k))
                .map(|(_, s)| (*s).to_owned())
                .unwrap_or_else(|| {
                    // An array's item is named for one of it (`tags[0]`: tag).
                    let one = if path.ends_with(']') {
                        name.strip_suffix('s').unwrap_or(name)
                    } else {
                        name
                    };
                    format!("example {}", heck_kebab(one))
                })
        }
    };
    let Some(pattern) = v.str("pattern") else {
        return Ok(fit_length(v, candidate));
    };
    let re = crate::lower::pattern_regex(pattern)
        .map_err(|e| format!("{}#{}/pattern: {e}", v.file.display(), v.pointer))?;
    if re.is_match(&candidate) {
        return Ok(candidate);
    }
    let generated = from_pattern(pattern)
        .filter(|s| re.is_match(s))
        .ok_or_else(|| {
            format!(
                "{}#{}/pattern: cannot build a sample string matching {pattern:?}",
                v.file.display(),
                v.pointer
            )
        })?;
    Ok(generated)
}

fn fit_length(v: &View<'_>, mut s: String) -> String {
    let min = v.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
    let max = v
        .get("maxLength")
        .and_then(Value::as_u64)
        .map(|m| m as usize);
    while s.chars().count() < min {
        s.push('x');
    }
    if let Some(max) = max {
        s = s.chars().take(max).collect();
    }
    s
}

/// The shortest string the pattern's syntax tree spells when every choice
/// takes its first branch and every repetition its minimum.
fn from_pattern(pattern: &str) -> Option<String> {
    use regex_syntax::hir::{Class, Hir, HirKind};
    fn walk(h: &Hir, out: &mut String) -> Option<()> {
        match h.kind() {
            HirKind::Empty | HirKind::Look(_) => {}
            HirKind::Literal(l) => out.push_str(std::str::from_utf8(&l.0).ok()?),
            HirKind::Class(Class::Unicode(c)) => {
                let r = c.ranges().first()?;
                // Prefer a letter or digit from the class over punctuation.
                let pick = c
                    .ranges()
                    .iter()
                    .flat_map(|r| [r.start(), r.end()])
                    .find(|ch| ch.is_ascii_alphanumeric())
                    .unwrap_or(r.start());
                out.push(pick);
            }
            HirKind::Class(Class::Bytes(c)) => {
                let b = c.ranges().first()?.start();
                out.push(char::from(b).is_ascii().then_some(char::from(b))?);
            }
            HirKind::Repetition(r) => {
                for _ in 0..r.min.min(64) {
                    walk(&r.sub, out)?;
                }
            }
            HirKind::Capture(c) => walk(&c.sub, out)?,
            HirKind::Concat(hs) => {
                for h in hs {
                    walk(h, out)?;
                }
            }
            HirKind::Alternation(hs) => walk(hs.first()?, out)?,
        }
        Some(())
    }
    let hir = regex_syntax::parse(pattern).ok()?;
    let mut out = String::new();
    walk(&hir, &mut out)?;
    Some(out)
}

fn heck_kebab(name: &str) -> String {
    heck::ToKebabCase::to_kebab_case(name)
}

/// A version-4-shaped UUID derived from the field's path, so each field of
/// a sample has its own id and the sample never changes.
fn uuid(path: &str) -> String {
    let fnv = |seed: u64| {
        path.bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    let hi = fnv(0xcbf2_9ce4_8422_2325);
    let lo = fnv(hi ^ 0x9e37_79b9_7f4a_7c15);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&hi.to_be_bytes());
    bytes[8..].copy_from_slice(&lo.to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}
