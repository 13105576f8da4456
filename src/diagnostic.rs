//! Problems in a file, rendered for people (`path:line:column`, the source
//! line and a caret), for tools (JSON) and for GitHub annotations.

use std::fmt::Write as _;

use serde::Serialize;

use crate::runbook::node::Span;
use crate::runbook::node_de::Problem;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub file: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub message: String,
    pub hint: Option<String>,
    #[serde(skip)]
    pub source_line: Option<String>,
}

impl Diagnostic {
    pub fn from_problem(file: &str, source: &str, problem: Problem) -> Self {
        let span = problem.span.filter(|s| s.line > 0);
        Diagnostic {
            file: file.to_owned(),
            line: span.map(|s| s.line),
            column: span.map(|s| s.column),
            source_line: span.and_then(|s| line_of(source, s)),
            message: problem.message,
            hint: problem.hint.filter(|h| !h.is_empty()),
        }
    }

    /// A problem about the file as a whole (unreadable, too large).
    pub fn whole_file(file: &str, message: impl Into<String>, hint: Option<String>) -> Self {
        Diagnostic {
            file: file.to_owned(),
            line: None,
            column: None,
            message: message.into(),
            hint,
            source_line: None,
        }
    }

    pub fn location(&self) -> String {
        match (self.line, self.column) {
            (Some(line), Some(column)) => format!("{}:{line}:{column}", self.file),
            _ => self.file.clone(),
        }
    }

    /// The human form: `error: …`, the position, the source line with a caret, the hint.
    pub fn render(&self, style: &crate::output::Style) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}: {}",
            style.error("error"),
            style.bold(&self.message)
        );
        let _ = writeln!(out, "  {} {}", style.dim("-->"), self.location());
        if let (Some(line), Some(column), Some(text)) = (self.line, self.column, &self.source_line)
        {
            let number = line.to_string();
            let pad = " ".repeat(number.len());
            let caret_start = column.saturating_sub(1) as usize;
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
                style.error(&"^".repeat(width))
            );
        }
        if let Some(hint) = &self.hint {
            let _ = writeln!(out, "  {} {hint}", style.hint("hint:"));
        }
        out
    }

    /// `::error file=…,line=…,col=…::message` for GitHub Actions.
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
        format!("::error {properties}::{}", escape(&message))
    }
}

fn line_of(source: &str, span: Span) -> Option<String> {
    source
        .lines()
        .nth(span.line.checked_sub(1)? as usize)
        .map(|l| l.trim_end().to_owned())
}

/// Underline the token at the caret: a key, a word, or a quoted string.
fn caret_width(line: &str, start: usize) -> usize {
    let rest: Vec<char> = line.chars().skip(start).collect();
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
