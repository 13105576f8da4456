//! Reading a playbook: a bounded read, then checks that it is text (UTF-8,
//! no NUL byte), and line endings made `\n` so that every later phase sees
//! one kind. A line index turns byte offsets into line numbers.

use std::io::Read;
use std::path::Path;

use super::error::ImportError;

/// The largest playbook read. Real ones are tens of kilobytes; the limit
/// keeps time and memory bounded, and matches what one runbook may hold.
pub const MAX_BYTES: u64 = crate::runbook::load::MAX_FILE_BYTES;

/// Playbook text with `\n` line endings, and where each line starts.
pub struct Source {
    pub file: String,
    pub text: String,
    line_starts: Vec<usize>,
}

impl Source {
    /// Reads `path`, refusing more than [`MAX_BYTES`] without reading it all.
    pub fn read(path: &Path, file: &str) -> Result<Source, ImportError> {
        let read_error = |source| ImportError::Read {
            path: path.to_owned(),
            source,
        };
        let handle = std::fs::File::open(path).map_err(read_error)?;
        let size = handle.metadata().map_err(read_error)?.len();
        let too_large = |size| ImportError::TooLarge {
            file: file.to_owned(),
            size,
            limit: MAX_BYTES,
        };
        if size > MAX_BYTES {
            return Err(too_large(size));
        }
        let mut bytes = Vec::new();
        handle
            .take(MAX_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(read_error)?;
        if bytes.len() as u64 > MAX_BYTES {
            return Err(too_large(bytes.len() as u64));
        }
        Source::from_bytes(file, &bytes)
    }

    /// Checks and normalises bytes already in memory.
    pub fn from_bytes(file: &str, bytes: &[u8]) -> Result<Source, ImportError> {
        let position = |offset: usize| {
            let before = &bytes[..offset];
            let line = before.split(|&b| b == b'\n').count();
            let line_start = before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            let column = String::from_utf8_lossy(&before[line_start..])
                .chars()
                .count()
                + 1;
            (line, column)
        };
        if let Some(offset) = bytes.iter().position(|&b| b == 0) {
            let (line, column) = position(offset);
            return Err(ImportError::Binary {
                file: file.to_owned(),
                line,
                column,
            });
        }
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let (line, column) = position(e.valid_up_to());
            ImportError::NotUtf8 {
                file: file.to_owned(),
                line,
                column,
            }
        })?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if text.trim().is_empty() {
            return Err(ImportError::Empty {
                file: file.to_owned(),
            });
        }
        Ok(Source::new(file, &normalize_newlines(text)))
    }

    pub fn new(file: &str, text: &str) -> Source {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Source {
            file: file.to_owned(),
            text: text.to_owned(),
            line_starts,
        }
    }

    /// The 1-based line of a byte offset.
    pub fn line(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset)
    }
}

/// `\r\n` and a lone `\r` (both line endings in `CommonMark`) become `\n`, so
/// that line numbers stay those an editor shows and no `\r` reaches a script.
fn normalize_newlines(text: &str) -> String {
    if !text.contains('\r') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings_become_newlines_and_lines_count_as_an_editor_does() {
        let source = Source::from_bytes("p.md", b"a\r\nb\rc\n").unwrap();
        assert_eq!(source.text, "a\nb\nc\n");
        assert_eq!(source.line(0), 1);
        assert_eq!(source.line(2), 2);
        assert_eq!(source.line(4), 3);
    }

    #[test]
    fn binary_and_bad_utf8_are_located() {
        let e = Source::from_bytes("p.md", b"ok\nab\0").err().unwrap();
        assert_eq!(
            e.to_string(),
            "p.md:2:3: a NUL byte: this is a binary file, not Markdown"
        );
        let e = Source::from_bytes("p.md", b"# T\n\xc3(").err().unwrap();
        assert_eq!(e.to_string(), "p.md:2:1: not valid UTF-8");
        assert!(matches!(
            Source::from_bytes("p.md", b" \n\n").err().unwrap(),
            ImportError::Empty { .. }
        ));
    }
}
