//! Where a byte of a scalar's value is in the file, so that a problem inside
//! a script (a template, a refused flow) is shown on its own line with the
//! caret under it, not at the start of the `run:` block.

use crate::span::Span;

/// The position of byte `offset` of `value`, the text of the scalar at
/// `scalar` in `source`. Exact when the value's lines stand in the file as
/// they are, one per line (literal `|` blocks; plain and quoted scalars on
/// one line without escapes); otherwise the scalar's own position.
pub fn inside(source: &str, scalar: Span, value: &str, offset: usize) -> Span {
    locate(source, scalar, value, offset).unwrap_or(scalar)
}

fn locate(source: &str, scalar: Span, value: &str, offset: usize) -> Option<Span> {
    let offset = offset.min(value.len());
    let target_line = value.get(..offset)?.matches('\n').count();
    let mut line_start = scalar.offset;
    let mut found = None;
    for (index, text) in value.split('\n').enumerate().take(target_line + 1) {
        if index > 0 {
            line_start += source.get(line_start..)?.find('\n')? + 1;
        }
        let line_end = source
            .get(line_start..)?
            .find('\n')
            .map_or(source.len(), |e| line_start + e);
        let from = if index == 0 {
            scalar.offset
        } else {
            line_start
        };
        if text.is_empty() {
            found = Some(from);
            continue;
        }
        let at = from + source.get(from..line_end)?.find(text)?;
        found = Some(at);
        if index == 0 {
            // Later lines of a block start at the beginning of a file line.
            line_start = source.get(..at)?.rfind('\n').map_or(0, |n| n + 1);
        }
    }
    let value_line_start = value.get(..offset)?.rfind('\n').map_or(0, |n| n + 1);
    let at = found? + (offset - value_line_start);
    // Each value line was found on the file line after the one before.
    let file_line_start = source.get(..at)?.rfind('\n').map_or(0, |n| n + 1);
    let line = scalar.line.checked_add(u32::try_from(target_line).ok()?)?;
    let column = u32::try_from(source.get(file_line_start..at)?.chars().count() + 1).ok()?;
    Some(Span {
        line,
        column,
        offset: at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The span of the first character of `needle` in `source`.
    fn span_of(source: &str, needle: &str) -> Span {
        let at = source.find(needle).unwrap();
        let start = source[..at].rfind('\n').map_or(0, |n| n + 1);
        Span {
            line: u32::try_from(source[..at].matches('\n').count() + 1).unwrap(),
            column: u32::try_from(source[start..at].chars().count() + 1).unwrap(),
            offset: at,
        }
    }

    #[test]
    fn a_line_of_a_literal_block() {
        let source =
            "steps:\n  - shell:\n      run: |\n        echo a\n\n        echo {{ x | f }}\n";
        let value = "echo a\n\necho {{ x | f }}\n";
        let scalar = span_of(source, "echo a");
        let got = inside(source, scalar, value, value.find("{{").unwrap());
        assert_eq!(got, span_of(source, "{{"));
        assert_eq!((got.line, got.column), (6, 14));
    }

    #[test]
    fn a_one_line_quoted_scalar() {
        let source = "run: \"echo é {{ x }}\"\n";
        let value = "echo é {{ x }}";
        let got = inside(
            source,
            span_of(source, "\"echo"),
            value,
            value.find("{{").unwrap(),
        );
        assert_eq!(got, span_of(source, "{{"));
    }

    #[test]
    fn a_folded_or_escaped_value_falls_back_to_the_scalar() {
        let source = "run: \"echo \\\"{{ x }}\\\"\"\n";
        let value = "echo \"{{ x }}\"";
        let scalar = span_of(source, "\"echo");
        assert_eq!(
            inside(source, scalar, value, value.find("{{").unwrap()),
            scalar
        );
        assert_eq!(inside(source, scalar, value, 999), scalar);
    }
}
