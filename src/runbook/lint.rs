//! Warnings: YAML that loads, and probably does not say what its author
//! meant. They never make a runbook invalid; `validate` shows them.

use super::node::{Document, NodeId, NodeKind, Span};
use super::node_de::Problem;

/// Every warning of a parsed runbook.
pub fn warnings(document: &Document, text: &str) -> Vec<Problem> {
    let mut out = Vec::new();
    let NodeKind::Map(top) = &document.node(Document::ROOT).kind else {
        return out;
    };
    for &(key, value) in top {
        match key_text(document, key) {
            Some("title") => comment_in_title(document, value, text, &mut out),
            Some("steps") => {
                if let NodeKind::Seq(steps) = &document.node(value).kind {
                    for &step in steps {
                        if let NodeKind::Map(entries) = &document.node(step).kind {
                            for &(key, value) in entries {
                                if key_text(document, key) == Some("title") {
                                    comment_in_title(document, value, text, &mut out);
                                }
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn key_text(document: &Document, key: NodeId) -> Option<&str> {
    match &document.node(key).kind {
        NodeKind::Str(s) => Some(s),
        _ => None,
    }
}

/// `title: Restore # the primary` is the title `Restore`: in a plain
/// (unquoted) scalar, ` #` starts a comment.
fn comment_in_title(document: &Document, value: NodeId, text: &str, out: &mut Vec<Problem>) {
    let node = document.node(value);
    let NodeKind::Str(title) = &node.kind else {
        return;
    };
    let start = node.span.offset;
    let Some(rest) = text.get(start..) else {
        return;
    };
    // Quoted and block scalars keep `#`; only plain ones end at a comment.
    if !rest.starts_with(title.as_str()) || rest.starts_with(['"', '\'', '|', '>']) {
        return;
    }
    let line_rest = rest[title.len()..].split('\n').next().unwrap_or_default();
    let Some(hash) = line_rest.find('#') else {
        return;
    };
    if !line_rest[..hash].trim().is_empty() {
        return;
    }
    let offset = start + title.len() + hash;
    let column = node.span.column + u32::try_from(text[start..offset].chars().count()).unwrap_or(0);
    let comment = line_rest[hash..].trim_end();
    out.push(
        Problem::new(
            Span {
                line: node.span.line,
                column,
                offset,
            },
            format!("the title is `{title}`: the rest of the line, `{comment}`, is a YAML comment"),
        )
        .with_hint(format!(
            "quote the title to keep the `#`: title: \"{title} {}\"",
            comment.replace('"', "\\\"")
        )),
    );
}
