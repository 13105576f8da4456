//! Markdown for text the report did not write itself (titles, notes,
//! errors, outputs, commands): each helper makes such text inert, so that
//! it reads as what it is and can neither close the structure around it
//! nor become HTML in a Markdown viewer.

use std::collections::HashSet;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::output::words::inline;

/// Text on one line that stays text: a `<` can open no tag, a `[` no link
/// or image (a `javascript:` URL in a note is never a link).
pub(super) fn text(raw: &str) -> String {
    inline(raw).replace('<', "&lt;").replace('[', "\\[")
}

/// A Markdown table cell: one line, no HTML, and a `|` does not end it.
pub(super) fn cell(raw: &str) -> String {
    text(raw).replace('|', "\\|")
}

/// A code span holding `raw` on one line, whatever backticks it has: the
/// fence is longer than its longest run of them. Backslashes are literal in
/// code spans, so a `|` inside one is escaped by the table, not here.
pub(super) fn code(raw: &str) -> String {
    let one_line = inline(raw);
    if one_line.is_empty() {
        return "—".to_owned();
    }
    let longest = longest_backtick_run(&one_line);
    let fence = "`".repeat(longest + 1);
    let pad = if one_line.starts_with('`') || one_line.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{one_line}{pad}{fence}")
}

/// A code span in a table cell.
pub(super) fn code_cell(raw: &str) -> String {
    code(raw).replace('|', "\\|")
}

/// A fenced block long enough not to be closed by backticks in the text.
pub(super) fn fenced(out: &mut String, raw: &str) {
    let fence = "`".repeat(longest_backtick_run(raw).max(2) + 1);
    let _ = writeln!(out, "{fence}text\n{}\n{fence}\n", raw.trim_end());
}

fn longest_backtick_run(raw: &str) -> usize {
    raw.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

pub(super) fn full_time(ts: DateTime<Utc>) -> String {
    ts.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// In first-seen order; a set keeps it linear however many runs there are.
pub(super) fn distinct(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = HashSet::new();
    items.filter(|item| seen.insert(item.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_stays_text() {
        assert_eq!(
            text("<script>alert(1)</script>"),
            "&lt;script>alert(1)&lt;/script>"
        );
        assert_eq!(
            text("[x](javascript:alert(1))"),
            "\\[x](javascript:alert(1))"
        );
        assert_eq!(cell("a | b\n## c"), "a \\| b ## c");
        assert_eq!(code("a ` b"), "``a ` b``");
        assert_eq!(code("`x`"), "`` `x` ``");
        assert_eq!(code_cell("a|b"), "`a\\|b`");
        let mut out = String::new();
        fenced(&mut out, "```\nrm -rf /\n```");
        assert!(out.starts_with("````text\n"), "{out}");
    }
}
