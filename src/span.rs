//! A position in a source file, shared by the loader, templates and
//! diagnostics: a leaf, so that each can name it without the others.

/// A position in a source file: 1-based line and column, and the byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub line: u32,
    pub column: u32,
    pub offset: usize,
}
