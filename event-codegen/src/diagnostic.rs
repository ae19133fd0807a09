//! Problems found in a schema catalog, each located by file, JSON pointer,
//! line and column, and rendered the way rustc renders errors.

use crate::json::Span;
use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::{self, Files, Location};
use codespan_reporting::term::{self, termcolor};
use std::fmt;
use std::ops::Range;
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
        let line = self.line_of(offset);
        let start = self.line_starts[line];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, column + 1)
    }

    /// The 0-based line of a byte offset (the last line past the end).
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset).max(1) - 1
    }

    /// The bytes of a 0-based line: where its text ends (before `\n` or
    /// `\r\n`) and where the line ends (after them).
    fn line_bounds(&self, line: usize) -> (Range<usize>, usize) {
        let start = self.line_starts[line];
        let end = self
            .line_starts
            .get(line + 1)
            .copied()
            .unwrap_or(self.text.len());
        let content = self.text[start..end].trim_end_matches('\n');
        let content = content.strip_suffix('\r').unwrap_or(content);
        (start..start + content.len(), end)
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
    /// caret, into `out`. A line longer than 512 characters (a minified
    /// schema) is shown as a window around the span.
    pub fn emit(&self, out: &mut dyn termcolor::WriteColor) -> std::io::Result<()> {
        let config = term::Config::default();
        for d in &self.list {
            let Some(source) = self.sources.iter().find(|s| s.path == d.file) else {
                continue;
            };
            let excerpt = Excerpt::new(source, &d.span);
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
                    cs::Label::primary((), excerpt.span.clone())
                        .with_message(format!("at `{}`", pointer_or_root(&d.pointer))),
                )
                .with_notes(notes);
            term::emit(out, &config, &excerpt, &diagnostic).map_err(std::io::Error::other)?;
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

/// A source line longer than this, in characters, is shown as a window
/// around the span instead of whole: far above any hand-formatted line,
/// far below a minified schema's one line.
const MAX_LINE: usize = 512;
/// The characters of a long line kept around the span: [`CONTEXT_BEFORE`]
/// before it and the rest after, or more before when the line ends sooner.
const CONTEXT: usize = 70;
const CONTEXT_BEFORE: usize = 40;
/// A span longer than this on a long line keeps its first [`SPAN_HEAD`] and
/// last [`SPAN_TAIL`] characters. A window is then at most 2 + [`CONTEXT`] +
/// [`MAX_SPAN`] characters (112), a terminal's width.
const MAX_SPAN: usize = 40;
const SPAN_HEAD: usize = 29;
const SPAN_TAIL: usize = 10;
/// Stands for the text left out of a long line.
const ELLIPSIS: &str = "\u{2026}";

/// The lines of one diagnostic's span, as codespan renders them: the lines
/// of the file, each longer than [`MAX_LINE`] characters cut to a window
/// around the span with [`ELLIPSIS`] where text was left out. The line
/// numbers, and the line and column of the header, are the file's.
struct Excerpt<'a> {
    source: &'a Source,
    name: String,
    text: String,
    line_starts: Vec<usize>,
    /// The 0-based line of the file that is the excerpt's first.
    first_line: usize,
    /// The runs of the file copied into `text`, in order.
    pieces: Vec<Piece>,
    /// The span, in `text`.
    span: Range<usize>,
}

/// `len` bytes of the file at `file` are those of the excerpt at `text`.
#[derive(Debug, Clone, Copy)]
struct Piece {
    text: usize,
    file: usize,
    len: usize,
}

impl<'a> Excerpt<'a> {
    fn new(source: &'a Source, span: &Span) -> Excerpt<'a> {
        let start = floor_char_boundary(&source.text, span.start);
        let end = floor_char_boundary(&source.text, span.end).max(start);
        let first_line = source.line_of(start);
        let last_line = source.line_of(end);
        let mut excerpt = Excerpt {
            source,
            name: display_path(&source.path),
            text: String::new(),
            line_starts: Vec::new(),
            first_line,
            pieces: Vec::new(),
            span: 0..0,
        };
        for line in first_line..=last_line {
            let (content, line_end) = source.line_bounds(line);
            // The part of the span on this line; the whole line for a line
            // inside a span of several.
            let focus_start = if line == first_line {
                start
            } else {
                content.start
            };
            let focus_end = if line == last_line { end } else { content.end };
            excerpt.push_line(
                content.clone(),
                focus_start.min(content.end)..focus_end.min(content.end),
            );
            excerpt.copy(content.end..line_end);
        }
        excerpt.line_starts = files::line_starts(&excerpt.text).collect();
        excerpt.span = excerpt.to_excerpt(start)..excerpt.to_excerpt(end);
        excerpt
    }

    /// Appends the text of a line (without its line break), or, for a long
    /// line, the window of it around `focus`.
    fn push_line(&mut self, content: Range<usize>, focus: Range<usize>) {
        let text = &self.source.text;
        let line = &text[content.clone()];
        if line.len() <= MAX_LINE || line.chars().nth(MAX_LINE).is_none() {
            self.copy(content);
            return;
        }
        let focused = &text[focus.clone()];
        let cut = match (
            focused.char_indices().nth(SPAN_HEAD),
            focused.char_indices().rev().nth(SPAN_TAIL - 1),
        ) {
            (Some((head, _)), Some((tail, _))) if focused.chars().nth(MAX_SPAN).is_some() => {
                Some((focus.start + head, focus.start + tail))
            }
            _ => None,
        };
        let after_available = text[focus.end..content.end].chars().take(CONTEXT).count();
        let window_start = chars_back(
            &text[content.start..focus.start],
            CONTEXT_BEFORE.max(CONTEXT - after_available),
        ) + content.start;
        let before = text[window_start..focus.start].chars().count();
        let window_end = chars_forward(&text[focus.end..content.end], CONTEXT - before) + focus.end;

        if window_start > content.start {
            self.text.push_str(ELLIPSIS);
        }
        match cut {
            Some((head_end, tail_start)) => {
                self.copy(window_start..head_end);
                self.text.push_str(ELLIPSIS);
                self.copy(tail_start..window_end);
            }
            None => self.copy(window_start..window_end),
        }
        if window_end < content.end {
            self.text.push_str(ELLIPSIS);
        }
    }

    /// Appends `range` of the file.
    fn copy(&mut self, range: Range<usize>) {
        if range.is_empty() {
            return;
        }
        let text = self.text.len();
        self.text.push_str(&self.source.text[range.clone()]);
        match self.pieces.last_mut() {
            Some(last) if last.text + last.len == text && last.file + last.len == range.start => {
                last.len += range.len();
            }
            _ => self.pieces.push(Piece {
                text,
                file: range.start,
                len: range.len(),
            }),
        }
    }

    /// The excerpt offset of a file offset: where the file's text at it
    /// is, or the end of what was kept before it.
    fn to_excerpt(&self, file: usize) -> usize {
        let i = self.pieces.partition_point(|p| p.file <= file);
        match i.checked_sub(1).map(|i| self.pieces[i]) {
            Some(p) => p.text + (file - p.file).min(p.len),
            None => 0,
        }
    }

    /// The file offset of an excerpt offset: an offset in an ellipsis is
    /// that of the text it stands for.
    fn to_file(&self, text: usize) -> usize {
        let i = self.pieces.partition_point(|p| p.text <= text);
        match i.checked_sub(1).map(|i| self.pieces[i]) {
            Some(p) => p.file + (text - p.text).min(p.len),
            None => self.source.line_starts[self.first_line],
        }
    }
}

impl<'a> Files<'a> for Excerpt<'_> {
    type FileId = ();
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, (): ()) -> Result<&'a str, files::Error> {
        Ok(&self.name)
    }

    fn source(&'a self, (): ()) -> Result<&'a str, files::Error> {
        Ok(&self.text)
    }

    fn line_index(&'a self, (): (), byte_index: usize) -> Result<usize, files::Error> {
        Ok(self
            .line_starts
            .partition_point(|&s| s <= byte_index)
            .max(1)
            - 1)
    }

    fn line_number(&'a self, (): (), line_index: usize) -> Result<usize, files::Error> {
        Ok(self.first_line + line_index + 1)
    }

    fn line_range(&'a self, (): (), line_index: usize) -> Result<Range<usize>, files::Error> {
        let start = *self
            .line_starts
            .get(line_index)
            .ok_or(files::Error::LineTooLarge {
                given: line_index,
                max: self.line_starts.len() - 1,
            })?;
        let end = self
            .line_starts
            .get(line_index + 1)
            .copied()
            .unwrap_or(self.text.len());
        Ok(start..end)
    }

    /// The location in the file, not in the excerpt: the header names the
    /// true line and column of the span.
    fn location(&'a self, (): (), byte_index: usize) -> Result<Location, files::Error> {
        let (line_number, column_number) = self.source.line_column(self.to_file(byte_index));
        Ok(Location {
            line_number,
            column_number,
        })
    }
}

/// The largest char boundary of `text` at or before `index`.
fn floor_char_boundary(text: &str, index: usize) -> usize {
    let mut index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// The byte offset in `text` of the `n`th character from its end (0 when
/// it has fewer).
fn chars_back(text: &str, n: usize) -> usize {
    match n.checked_sub(1) {
        Some(k) => text.char_indices().rev().nth(k).map_or(0, |(i, _)| i),
        None => text.len(),
    }
}

/// The byte offset in `text` after its first `n` characters (its length
/// when it has fewer).
fn chars_forward(text: &str, n: usize) -> usize {
    text.char_indices().nth(n).map_or(text.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rendering of one error at `span` of a file `f.json` holding
    /// `text`.
    fn render(text: &str, span: Span) -> String {
        let mut d = Diagnostics::default();
        let file = d.add_source("f.json".into(), text.to_string());
        d.push(Severity::Error, "e", file, "/p", span, "m", None);
        d.render()
    }

    /// The text of a rendering's source row from above its first caret on.
    fn under_caret(out: &str) -> String {
        let lines: Vec<&str> = out.lines().collect();
        let carets = lines.iter().position(|l| l.contains('^')).unwrap();
        let caret = lines[carets].chars().position(|c| c == '^').unwrap();
        lines[carets - 1].chars().skip(caret).collect()
    }

    fn longest(out: &str) -> usize {
        out.lines().map(|l| l.chars().count()).max().unwrap()
    }

    /// 2-, 3- and 4-byte characters, each one column wide.
    const WIDE: &str = "é€𝒜";

    #[test]
    fn a_long_line_of_multibyte_characters_is_cut_on_character_boundaries() {
        let line = format!("\"{}\"", WIDE.repeat(400));
        let middle = 1 + WIDE.len() * 200;
        let end = line.len() - 1;
        for (span, column, under) in [
            (middle..middle + WIDE.len(), 1 + 1 + 600, WIDE),
            (0..1, 1, "\"é€"),
            (end..line.len(), 1 + 1 + 1200, "\""),
            (line.len()..line.len(), 1 + 1 + 1200 + 1, ""),
        ] {
            let out = render(&line, span.clone());
            assert!(out.contains(&format!("f.json:1:{column}\n")), "{out}");
            assert!(longest(&out) <= 140, "{out}");
            assert!(under_caret(&out).starts_with(under), "{span:?}:\n{out}");
        }
    }

    #[test]
    fn no_span_of_a_long_multibyte_line_panics() {
        let text = format!("{{\n\t\"{}\"\r\n{}\n}}", WIDE.repeat(300), WIDE.repeat(200));
        for start in 0..=text.len() + 2 {
            for end in [0, start, start + 1, start + 5, start + 700, text.len() + 3] {
                let out = render(&text, start..end);
                assert!(out.starts_with("error[e]: m\n"), "{start}..{end}:\n{out}");
                assert!(longest(&out) <= 140, "{start}..{end}:\n{out}");
                assert!(!out.contains('\r'), "{start}..{end}:\n{out}");
            }
        }
    }

    #[test]
    fn a_long_span_keeps_its_first_and_last_characters() {
        let text = format!("[{}]", "1,".repeat(1000) + "2");
        let out = render(&text, 0..text.len());
        let under = under_caret(&out);
        let lines: Vec<&str> = out.lines().collect();
        assert!(under.starts_with("[1,1,"), "{out}");
        assert!(lines[3].ends_with(",1,1,2]"), "{out}");
        let carets = lines[4].chars().filter(|&c| c == '^').count();
        assert_eq!(carets, SPAN_HEAD + 1 + SPAN_TAIL, "{out}");
        assert_eq!(lines[3].chars().filter(|&c| c == '…').count(), 1, "{out}");
    }

    #[test]
    fn tabs_and_crlf_keep_the_caret_under_the_span() {
        let line = format!("\t\t{}\"needle\"{}", "x".repeat(600), "\ty".repeat(300));
        let text = format!("{{\r\n{line}\r\n}}\r\n");
        let start = text.find("\"needle\"").unwrap();
        let out = render(&text, start..start + 8);
        assert!(out.contains("f.json:2:603\n"), "{out}");
        assert!(under_caret(&out).starts_with("\"needle\""), "{out}");
        assert!(!out.contains('\r'), "{out}");
    }

    #[test]
    fn a_span_over_several_long_lines_is_windowed_on_each() {
        let long = "a".repeat(1000);
        let text = format!("{long}{{\n{long}\n{long}\n{long}}}{long}\n");
        let start = text.find('{').unwrap();
        let end = text.find('}').unwrap() + 1;
        let out = render(&text, start..end);
        assert!(out.contains("f.json:1:1001\n"), "{out}");
        assert!(longest(&out) <= 140, "{out}");
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines[3].starts_with("1 │   …aaa") && lines[3].ends_with("a{"),
            "{out}"
        );
        assert_eq!(
            lines[6],
            format!("3 │ │ {}…{}", "a".repeat(29), "a".repeat(10))
        );
        let (head, tail, after) = ("a".repeat(29), "a".repeat(9), "a".repeat(70));
        assert_eq!(lines[7], format!("4 │ │ {head}…{tail}}}{after}…"));
        let caret = lines[8].chars().position(|c| c == '^').unwrap();
        assert_eq!(lines[7].chars().nth(caret), Some('}'), "{out}");
    }

    #[test]
    fn a_line_within_the_bound_is_shown_whole() {
        let line = format!("\"{}\"", "é".repeat(MAX_LINE - 2));
        let out = render(&line, 5..7);
        assert!(out.contains(&format!("1 │ {line}\n")), "{out}");
    }
}
