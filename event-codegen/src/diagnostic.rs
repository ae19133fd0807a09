//! Problems found in a schema catalog, each located by file, JSON pointer,
//! line and column, and rendered the way rustc renders errors.

use crate::json::Span;
use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, termcolor};
use std::fmt;
use std::path::{Path, PathBuf};

/// How serious a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Reported; generation still succeeds.
    Warning,
    /// Generation fails.
    Error,
}

/// A rule of the domain brief that event schemas are checked against.
/// Each is an error by default; [`crate::Config::lint`] lowers one to a
/// warning or turns it off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lint {
    /// The action of the type name is a past-tense fact (`course.published`,
    /// not `publish.course`).
    PastTense,
    /// Payload property names are camelCase.
    CamelCase,
    /// No property whose name marks a secret (password, token, card number).
    SensitiveField,
    /// A property that holds a date or time declares `format: date-time`
    /// (or `date`).
    DateFormat,
    /// The event and each of its properties carry a `description`.
    MissingDescription,
    /// The `x-event` block names the producing service.
    MissingProducer,
    /// The `x-event` block lists at least one consumer.
    MissingConsumer,
    /// The payload does not repeat an envelope field (`tenantId`,
    /// `correlationId`, `timestamp`, ...).
    EnvelopeField,
}

impl Lint {
    /// Every lint.
    pub const ALL: [Lint; 8] = [
        Lint::PastTense,
        Lint::CamelCase,
        Lint::SensitiveField,
        Lint::DateFormat,
        Lint::MissingDescription,
        Lint::MissingProducer,
        Lint::MissingConsumer,
        Lint::EnvelopeField,
    ];

    /// The lint's name, as the CLI and diagnostics spell it.
    pub const fn name(self) -> &'static str {
        match self {
            Lint::PastTense => "past-tense",
            Lint::CamelCase => "camel-case",
            Lint::SensitiveField => "sensitive-field",
            Lint::DateFormat => "date-format",
            Lint::MissingDescription => "missing-description",
            Lint::MissingProducer => "missing-producer",
            Lint::MissingConsumer => "missing-consumer",
            Lint::EnvelopeField => "envelope-field",
        }
    }

    /// The lint named `name`.
    ///
    /// ```
    /// use event_codegen::Lint;
    /// assert_eq!(Lint::from_name("camel-case"), Some(Lint::CamelCase));
    /// assert_eq!(Lint::from_name("camelCase"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Lint> {
        Lint::ALL.into_iter().find(|l| l.name() == name)
    }
}

impl fmt::Display for Lint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a user may set a lint to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LintLevel {
    /// Not checked.
    Allow,
    /// Reported as a warning.
    Warn,
    /// Reported as an error (the default).
    Deny,
}

/// One problem, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A stable name for the kind of problem (`unsupported-keyword`,
    /// `camel-case`).
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// The file, relative to the schema root.
    pub file: PathBuf,
    /// The JSON pointer of the offending value (`/properties/score`).
    pub pointer: String,
    /// The byte span in the file.
    pub span: Span,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// How to fix it.
    pub hint: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{level}[{}]: {}\n  --> {}:{}:{} (at `{}`)",
            self.code,
            self.message,
            display_path(&self.file),
            self.line,
            self.column,
            pointer_or_root(&self.pointer),
        )?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  = help: {hint}")?;
        }
        Ok(())
    }
}

fn pointer_or_root(pointer: &str) -> &str {
    if pointer.is_empty() { "#" } else { pointer }
}

/// A path with `/` separators on every platform, for stable output.
pub(crate) fn display_path(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// A schema file's text, kept to locate and render diagnostics.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub path: PathBuf,
    pub text: String,
    line_starts: Vec<usize>,
}

impl Source {
    pub fn new(path: PathBuf, text: String) -> Source {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Source {
            path,
            text,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1) - 1;
        let start = self.line_starts[line];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, column + 1)
    }
}

/// Every problem of a run, with the sources to render them.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    pub(crate) sources: Vec<Source>,
    pub(crate) list: Vec<Diagnostic>,
}

/// A file the collector knows, by index.
pub(crate) type FileId = usize;

impl Diagnostics {
    pub(crate) fn add_source(&mut self, path: PathBuf, text: String) -> FileId {
        self.sources.push(Source::new(path, text));
        self.sources.len() - 1
    }

    pub(crate) fn source(&self, file: FileId) -> &Source {
        &self.sources[file]
    }

    /// Records a problem at `span` of `file`.
    #[allow(
        clippy::too_many_arguments,
        reason = "every argument is a part of the diagnostic"
    )]
    pub(crate) fn push(
        &mut self,
        severity: Severity,
        code: &'static str,
        file: FileId,
        pointer: &str,
        span: Span,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        let source = &self.sources[file];
        let (line, column) = source.line_column(span.start);
        self.list.push(Diagnostic {
            severity,
            code,
            message: message.into(),
            file: source.path.clone(),
            pointer: pointer.to_string(),
            span,
            line,
            column,
            hint,
        });
    }

    /// Drops repeats: a definition used by several events is checked once
    /// per use.
    pub(crate) fn dedup(&mut self) {
        let mut seen = std::collections::HashSet::new();
        self.list.retain(|d| {
            seen.insert((
                d.file.clone(),
                d.pointer.clone(),
                d.code,
                d.message.clone(),
                d.span.clone(),
            ))
        });
    }

    /// Every diagnostic, in the order found (files in path order).
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.list.iter()
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.list.iter().any(|d| d.severity == Severity::Error)
    }

    /// How many errors and warnings there are.
    pub fn counts(&self) -> (usize, usize) {
        let errors = self
            .list
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        (errors, self.list.len() - errors)
    }

    /// Whether there is nothing to report.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Renders every diagnostic as rustc does, with the source line and a
    /// caret, into `out`.
    pub fn emit(&self, out: &mut dyn termcolor::WriteColor) -> std::io::Result<()> {
        let mut files = SimpleFiles::new();
        let ids: Vec<usize> = self
            .sources
            .iter()
            .map(|s| files.add(display_path(&s.path), s.text.as_str()))
            .collect();
        let config = term::Config::default();
        for d in &self.list {
            let Some(index) = self.sources.iter().position(|s| s.path == d.file) else {
                continue;
            };
            let severity = match d.severity {
                Severity::Error => cs::Severity::Error,
                Severity::Warning => cs::Severity::Warning,
            };
            let mut notes = Vec::new();
            if let Some(hint) = &d.hint {
                notes.push(format!("help: {hint}"));
            }
            let diagnostic = cs::Diagnostic::new(severity)
                .with_code(d.code)
                .with_message(&d.message)
                .with_label(
                    cs::Label::primary(ids[index], d.span.clone())
                        .with_message(format!("at `{}`", pointer_or_root(&d.pointer))),
                )
                .with_notes(notes);
            term::emit(out, &config, &files, &diagnostic).map_err(std::io::Error::other)?;
        }
        Ok(())
    }

    /// The rendering of [`Diagnostics::emit`] as plain text.
    pub fn render(&self) -> String {
        let mut out = termcolor::NoColor::new(Vec::new());
        // Writing into a Vec cannot fail; spans out of range fall back to
        // the plain form below.
        if self.emit(&mut out).is_err() {
            return self
                .list
                .iter()
                .map(|d| format!("{d}\n"))
                .collect::<String>();
        }
        String::from_utf8_lossy(&out.into_inner()).into_owned()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())?;
        let (errors, warnings) = self.counts();
        write!(f, "{errors} error(s), {warnings} warning(s)")
    }
}

impl std::error::Error for Diagnostics {}
