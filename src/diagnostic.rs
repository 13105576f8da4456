//! Problems in a file, rendered for people (`path:line:column`, the source
//! line and a caret), for tools (JSON) and for GitHub annotations.
//!
//! Bad input stays cheap to report: at most [`MAX_PER_FILE`] problems are
//! shown per file (then how many more there are), and at most
//! [`SNIPPET_CHARS`] characters of source around the caret, however long the
//! line.

use std::fmt::Write as _;

use serde::Serialize;

use crate::span::Span;

/// A problem found while turning nodes into typed values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub span: Option<Span>,
    pub message: String,
    pub hint: Option<String>,
}

impl Problem {
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Problem {
            span: Some(span),
            message: message.into(),
            hint: None,
        }
    }

    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub(crate) fn without_span(mut self) -> Self {
        self.span = None;
        self
    }

    pub(crate) fn or_span(mut self, span: Span) -> Self {
        self.span.get_or_insert(span);
        self
    }
}

/// Problems reported per file; the rest are counted in one last diagnostic.
pub const MAX_PER_FILE: usize = 100;

/// Characters of the source line shown around the caret.
pub const SNIPPET_CHARS: usize = 120;

/// An error makes the file invalid; a warning points at something that is
/// valid YAML but probably not what was meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub message: String,
    pub hint: Option<String>,
    #[serde(skip)]
    pub snippet: Option<Snippet>,
    /// Problems left out after this one (only on the last diagnostic of a
    /// file that had more than [`MAX_PER_FILE`]).
    #[serde(skip_serializing_if = "is_zero")]
    pub omitted: usize,
}

/// At most [`SNIPPET_CHARS`] characters of a source line, and where the
/// caret goes in them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    pub text: String,
    /// Index in characters of the caret in `text`.
    pub caret: usize,
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Diagnostic {
    /// The diagnostics of one file's problems, in the order given: the first
    /// [`MAX_PER_FILE`], then one saying how many more there were.
    pub fn from_problems(file: &str, source: &str, problems: Vec<Problem>) -> Vec<Self> {
        let total = problems.len();
        let lines = LineIndex::new(source);
        let mut out: Vec<Diagnostic> = problems
            .into_iter()
            .take(MAX_PER_FILE)
            .map(|problem| Diagnostic::from_problem(file, &lines, problem))
            .collect();
        if total > MAX_PER_FILE {
            let more = total - MAX_PER_FILE;
            let mut last = Diagnostic::whole_file(
                file,
                format!(
                    "{more} more problem{} in this file (only the first {MAX_PER_FILE} are shown)",
                    if more == 1 { "" } else { "s" }
                ),
                Some("fix these and validate again".to_owned()),
            );
            last.omitted = more;
            out.push(last);
        }
        out
    }

    fn from_problem(file: &str, lines: &LineIndex, problem: Problem) -> Self {
        let span = problem.span.filter(|s| s.line > 0);
        Diagnostic {
            severity: Severity::Error,
            file: file.to_owned(),
            line: span.map(|s| s.line),
            column: span.map(|s| s.column),
            snippet: span.and_then(|s| lines.snippet(s)),
            message: clip_middle(problem.message),
            hint: problem.hint.filter(|h| !h.is_empty()).map(clip_middle),
            omitted: 0,
        }
    }

    /// The warnings of one file (never more than [`MAX_PER_FILE`] are kept).
    pub fn warnings(file: &str, source: &str, problems: Vec<Problem>) -> Vec<Self> {
        if problems.is_empty() {
            return Vec::new();
        }
        let lines = LineIndex::new(source);
        problems
            .into_iter()
            .take(MAX_PER_FILE)
            .map(|problem| Diagnostic {
                severity: Severity::Warning,
                ..Diagnostic::from_problem(file, &lines, problem)
            })
            .collect()
    }

    /// How many problems this stands for: itself, and those it counts.
    pub fn problems(&self) -> usize {
        if self.omitted > 0 { self.omitted } else { 1 }
    }

    /// A problem about the file as a whole (unreadable, too large).
    pub fn whole_file(file: &str, message: impl Into<String>, hint: Option<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: file.to_owned(),
            line: None,
            column: None,
            message: message.into(),
            hint,
            snippet: None,
            omitted: 0,
        }
    }

    pub fn location(&self) -> String {
        match (self.line, self.column) {
            (Some(line), Some(column)) => format!("{}:{line}:{column}", self.file),
            _ => self.file.clone(),
        }
    }

    /// The human form: `error: …`, the position, the source line with a caret, the hint.
    pub fn render(&self, style: &crate::style::Style) -> String {
        let mut out = String::new();
        let (label, paint): (&str, fn(&crate::style::Style, &str) -> String) = match self.severity {
            Severity::Error => ("error", crate::style::Style::error),
            Severity::Warning => ("warning", crate::style::Style::warn),
        };
        let _ = writeln!(
            out,
            "{}: {}",
            paint(style, label),
            style.bold(&self.message)
        );
        let _ = writeln!(out, "  {} {}", style.dim("-->"), self.location());
        if let (Some(line), Some(snippet)) = (self.line, &self.snippet) {
            let number = line.to_string();
            let pad = " ".repeat(number.len());
            let text = &snippet.text;
            let caret_start = snippet.caret;
            let width = caret_width(text, caret_start);
            let prefix: String = text
                .chars()
                .take(caret_start)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let _ = writeln!(out, "  {pad} {}", style.dim("|"));
            let _ = writeln!(out, "  {number} {} {text}", style.dim("|"));
            let _ = writeln!(
                out,
                "  {pad} {} {prefix}{}",
                style.dim("|"),
                paint(style, &"^".repeat(width))
            );
        }
        if let Some(hint) = &self.hint {
            let _ = writeln!(out, "  {} {}", style.hint("hint:"), wrap(hint));
        }
        out
    }

    /// `::error file=…,line=…,col=…::message` (or `::warning`) for GitHub Actions.
    pub fn github(&self) -> String {
        let escape = |s: &str| {
            s.replace('%', "%25")
                .replace('\r', "%0D")
                .replace('\n', "%0A")
        };
        let escape_property = |s: &str| escape(s).replace(':', "%3A").replace(',', "%2C");
        let mut properties = format!("file={}", escape_property(&self.file));
        if let (Some(line), Some(column)) = (self.line, self.column) {
            let _ = write!(properties, ",line={line},col={column}");
        }
        let message = match &self.hint {
            Some(hint) => format!("{} (hint: {hint})", self.message),
            None => self.message.clone(),
        };
        let command = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        format!("::{command} {properties}::{}", escape(&message))
    }
}

/// A hint on lines of at most [`HINT_WIDTH`] characters (broken at spaces,
/// continued under its first word): a hint that lists what is allowed grows
/// with the format, and a terminal line should not.
fn wrap(hint: &str) -> String {
    const HINT_WIDTH: usize = 150;
    let mut out = String::with_capacity(hint.len());
    let mut width = 0;
    for word in hint.split(' ') {
        let length = word.chars().count();
        if width > 0 && width + 1 + length > HINT_WIDTH {
            out.push_str("\n        ");
            width = 0;
        } else if width > 0 {
            out.push(' ');
            width += 1;
        }
        out.push_str(word);
        width += length;
    }
    out
}

/// Messages quote names from the file (unknown key `…`); a name that is
/// itself kilobytes long is shown by its two ends.
fn clip_middle(text: String) -> String {
    const MAX: usize = 2 * SNIPPET_CHARS;
    let length = text.chars().count();
    if length <= MAX {
        return text;
    }
    let head: String = text.chars().take(MAX / 2).collect();
    let tail: String = text.chars().skip(length - MAX / 4).collect();
    format!("{head}…{tail}")
}

/// Where each line of a source starts, so that finding a problem's line
/// costs the same for the first problem and the thousandth.
struct LineIndex<'a> {
    source: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(source: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { source, starts }
    }

    /// The part of the span's line around its column (columns count
    /// characters): at most [`SNIPPET_CHARS`], `…` marking what is cut.
    fn snippet(&self, span: Span) -> Option<Snippet> {
        let index = span.line.checked_sub(1)? as usize;
        let start = *self.starts.get(index)?;
        let end = self
            .starts
            .get(index + 1)
            .map_or(self.source.len(), |&e| e - 1);
        let line = self.source.get(start..end)?.trim_end();
        let caret = span.column.saturating_sub(1) as usize;
        let length = line.chars().count();
        if length <= SNIPPET_CHARS {
            return Some(Snippet {
                text: line.to_owned(),
                caret,
            });
        }
        // A quarter of the window before the caret, the rest after it (the
        // token it points at), the window kept full at the line's end.
        let first = caret
            .saturating_sub(SNIPPET_CHARS / 4)
            .min(length - SNIPPET_CHARS);
        let mut chars = line.char_indices().skip(first);
        let from = chars.next().map_or(line.len(), |(i, _)| i);
        let to = chars.nth(SNIPPET_CHARS - 2).map_or(line.len(), |(i, _)| i);
        let mut text = String::with_capacity(to - from + 6);
        let mut caret = caret.saturating_sub(first);
        if first > 0 {
            text.push('…');
            caret += 1;
        }
        text.push_str(&line[from..to]);
        if to < line.len() {
            text.push('…');
        }
        Some(Snippet { text, caret })
    }
}

/// Underline the token at the caret: a key, a word, or a quoted string.
fn caret_width(line: &str, start: usize) -> usize {
    let rest: Vec<char> = line.chars().skip(start).take(61).collect();
    let width = match rest.first() {
        Some(&q @ ('"' | '\'')) => rest
            .iter()
            .skip(1)
            .position(|&c| c == q)
            .map_or(rest.len(), |p| p + 2),
        Some(_) => rest
            .iter()
            .position(|&c| c.is_whitespace() || c == ':' || c == ',' || c == ']' || c == '}')
            .unwrap_or(rest.len()),
        None => 1,
    };
    width.clamp(1, 60)
}
