//! Markdown → a tree of blocks with their source lines, using pulldown-cmark
//! (`CommonMark`, plus tables and YAML front matter). Only structure is kept:
//! inline markup becomes plain text (`code` keeps its backticks, a link its
//! address), because what follows reads titles, instructions and code.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

use super::error::ImportError;
use super::source::Source;

/// Deeper nesting than this (list items and quotes inside each other) is
/// refused: no playbook needs it, and it keeps every later walk shallow.
pub const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// 1-based line where the block starts (a code block: its opening fence).
    pub line: usize,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Heading {
        level: usize,
        text: String,
    },
    Paragraph(String),
    /// `lang` is the first word of the info string, lowercased (empty when unlabelled).
    Code {
        lang: String,
        text: String,
    },
    List {
        ordered: bool,
        items: Vec<Item>,
    },
    Table(Vec<Vec<String>>),
    Quote(Vec<Block>),
    Html(String),
    FrontMatter(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub line: usize,
    pub blocks: Vec<Block>,
}

enum Frame {
    /// The document, a block quote or a list item.
    Blocks {
        line: usize,
        item: bool,
        blocks: Vec<Block>,
    },
    List {
        line: usize,
        ordered: bool,
        items: Vec<Item>,
    },
    /// A paragraph or heading; `implicit` for the text of a tight list item.
    Inline {
        line: usize,
        heading: Option<usize>,
        text: String,
        implicit: bool,
    },
    Code {
        line: usize,
        lang: String,
        text: String,
    },
    Table {
        line: usize,
        rows: Vec<Vec<String>>,
        row: Vec<String>,
        cell: Option<String>,
    },
    Raw {
        line: usize,
        front_matter: bool,
        text: String,
    },
}

/// Parses the playbook into its top-level blocks.
pub fn parse(source: &Source) -> Result<Vec<Block>, ImportError> {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS;
    let mut builder = Builder {
        stack: vec![Frame::Blocks {
            line: 1,
            item: false,
            blocks: Vec::new(),
        }],
        links: Vec::new(),
    };
    for (event, range) in Parser::new_ext(&source.text, options).into_offset_iter() {
        let line = source.line(range.start);
        builder.event(event, line);
        // Levels are block containers: a list item or a quote (the document is not one).
        let depth = builder
            .stack
            .iter()
            .filter(|f| matches!(f, Frame::Blocks { .. }))
            .count()
            - 1;
        if depth > MAX_DEPTH {
            return Err(ImportError::TooDeep {
                file: source.file.clone(),
                line,
                limit: MAX_DEPTH,
            });
        }
    }
    while builder.stack.len() > 1 {
        builder.close();
    }
    match builder.stack.pop() {
        Some(Frame::Blocks { blocks, .. }) => Ok(blocks),
        _ => Ok(Vec::new()),
    }
}

struct Builder {
    stack: Vec<Frame>,
    /// Open links: their address and where their text starts.
    links: Vec<(String, usize)>,
}

impl Builder {
    fn event(&mut self, event: Event<'_>, line: usize) {
        match event {
            Event::Start(tag) => self.start(tag, line),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => self.text(&text, line),
            Event::Code(code) => self.text(&format!("`{code}`"), line),
            Event::Html(html) | Event::InlineHtml(html) => self.text(&html, line),
            Event::InlineMath(m) | Event::DisplayMath(m) => self.text(&m, line),
            Event::FootnoteReference(name) => self.text(&format!("[^{name}]"), line),
            Event::SoftBreak | Event::HardBreak => self.text("\n", line),
            Event::Rule => {}
            Event::TaskListMarker(done) => self.text(if done { "[x] " } else { "[ ] " }, line),
        }
    }

    fn start(&mut self, tag: Tag<'_>, line: usize) {
        let inline = matches!(
            tag,
            Tag::Emphasis
                | Tag::Strong
                | Tag::Strikethrough
                | Tag::Superscript
                | Tag::Subscript
                | Tag::Link { .. }
                | Tag::Image { .. }
        );
        if !inline {
            self.close_implicit();
        }
        let frame = match tag {
            Tag::Paragraph => inline_frame(line, None),
            Tag::Heading { level, .. } => inline_frame(line, Some(level as usize)),
            Tag::BlockQuote(_) => Frame::Blocks {
                line,
                item: false,
                blocks: Vec::new(),
            },
            Tag::CodeBlock(kind) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => info
                        .split(|c: char| c.is_whitespace() || c == ',' || c == '{')
                        .next()
                        .unwrap_or("")
                        .to_lowercase(),
                    CodeBlockKind::Indented => String::new(),
                };
                Frame::Code {
                    line,
                    lang,
                    text: String::new(),
                }
            }
            Tag::HtmlBlock => Frame::Raw {
                line,
                front_matter: false,
                text: String::new(),
            },
            Tag::MetadataBlock(_) => Frame::Raw {
                line,
                front_matter: true,
                text: String::new(),
            },
            Tag::List(first) => Frame::List {
                line,
                ordered: first.is_some(),
                items: Vec::new(),
            },
            Tag::Item => Frame::Blocks {
                line,
                item: true,
                blocks: Vec::new(),
            },
            Tag::Table(_) => Frame::Table {
                line,
                rows: Vec::new(),
                row: Vec::new(),
                cell: None,
            },
            Tag::TableCell => {
                if let Some(Frame::Table { cell, .. }) = self.stack.last_mut() {
                    *cell = Some(String::new());
                }
                return;
            }
            Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => {
                let at = self.inline_len();
                self.links.push((dest_url.to_string(), at));
                return;
            }
            // Heads and rows are handled at their end; the rest is inline markup
            // (kept as its text) or not enabled.
            _ => return,
        };
        self.stack.push(frame);
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Link | TagEnd::Image => {
                if let Some((url, at)) = self.links.pop() {
                    let shown = self.inline_text().map(|t| t[at.min(t.len())..].to_owned());
                    if shown
                        .as_deref()
                        .is_some_and(|s| s != url && !url.starts_with('#'))
                    {
                        self.text(&format!(" <{url}>"), 0);
                    }
                }
            }
            TagEnd::TableCell => {
                if let Some(Frame::Table { row, cell, .. }) = self.stack.last_mut() {
                    row.push(cell.take().unwrap_or_default().trim().to_owned());
                }
            }
            TagEnd::TableHead | TagEnd::TableRow => {
                if let Some(Frame::Table { rows, row, .. }) = self.stack.last_mut() {
                    rows.push(std::mem::take(row));
                }
            }
            TagEnd::Paragraph
            | TagEnd::Heading(_)
            | TagEnd::BlockQuote(_)
            | TagEnd::CodeBlock
            | TagEnd::HtmlBlock
            | TagEnd::MetadataBlock(_)
            | TagEnd::List(_)
            | TagEnd::Item
            | TagEnd::Table => {
                if matches!(tag, TagEnd::Item | TagEnd::List(_) | TagEnd::BlockQuote(_)) {
                    self.close_implicit();
                }
                self.close();
            }
            _ => {}
        }
    }

    fn text(&mut self, text: &str, line: usize) {
        if matches!(self.stack.last(), Some(Frame::Blocks { .. })) {
            self.stack.push(Frame::Inline {
                line,
                heading: None,
                text: String::new(),
                implicit: true,
            });
        }
        match self.stack.last_mut() {
            Some(
                Frame::Inline { text: t, .. }
                | Frame::Code { text: t, .. }
                | Frame::Raw { text: t, .. },
            ) => t.push_str(text),
            Some(Frame::Table {
                cell: Some(cell), ..
            }) => cell.push_str(text),
            _ => {}
        }
    }

    fn inline_text(&self) -> Option<&str> {
        match self.stack.last() {
            Some(Frame::Inline { text, .. }) => Some(text),
            Some(Frame::Table {
                cell: Some(cell), ..
            }) => Some(cell),
            _ => None,
        }
    }

    fn inline_len(&self) -> usize {
        self.inline_text().map_or(0, str::len)
    }

    fn close_implicit(&mut self) {
        if matches!(
            self.stack.last(),
            Some(Frame::Inline { implicit: true, .. })
        ) {
            self.close();
        }
    }

    /// Pops the innermost frame and adds what it built to its parent.
    fn close(&mut self) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        match frame {
            Frame::Blocks {
                line,
                item: true,
                blocks,
            } => {
                if let Some(Frame::List { items, .. }) = self.stack.last_mut() {
                    items.push(Item { line, blocks });
                }
            }
            Frame::Blocks {
                line,
                item: false,
                blocks,
            } => self.push(line, Kind::Quote(blocks)),
            Frame::List {
                line,
                ordered,
                items,
            } => self.push(line, Kind::List { ordered, items }),
            Frame::Inline {
                line,
                heading,
                text,
                ..
            } => {
                let text = text.trim().to_owned();
                match heading {
                    Some(level) => self.push(line, Kind::Heading { level, text }),
                    None if text.is_empty() => {}
                    None => self.push(line, Kind::Paragraph(text)),
                }
            }
            Frame::Code { line, lang, text } => self.push(line, Kind::Code { lang, text }),
            Frame::Table { line, rows, .. } => self.push(line, Kind::Table(rows)),
            Frame::Raw {
                line,
                front_matter: true,
                text,
            } => self.push(line, Kind::FrontMatter(text)),
            Frame::Raw {
                line,
                front_matter: false,
                text,
            } => self.push(line, Kind::Html(text)),
        }
    }

    fn push(&mut self, line: usize, kind: Kind) {
        if let Some(Frame::Blocks { blocks, .. }) = self.stack.last_mut() {
            blocks.push(Block { line, kind });
        }
    }
}

fn inline_frame(line: usize, heading: Option<usize>) -> Frame {
    Frame::Inline {
        line,
        heading,
        text: String::new(),
        implicit: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(text: &str) -> Vec<Block> {
        parse(&Source::new("t.md", text)).unwrap()
    }

    #[test]
    fn headings_lists_and_code_inside_lists_keep_their_lines() {
        let doc = blocks(
            "# Title\n\n1. **Check** it\n   ```bash\n   ls -l\n   ```\n2. Done\n   - nested\n",
        );
        assert_eq!(
            doc[0],
            Block {
                line: 1,
                kind: Kind::Heading {
                    level: 1,
                    text: "Title".into()
                }
            }
        );
        let Kind::List {
            ordered: true,
            items,
        } = &doc[1].kind
        else {
            panic!("{doc:?}")
        };
        assert_eq!(items[0].line, 3);
        assert_eq!(items[0].blocks[0].kind, Kind::Paragraph("Check it".into()));
        assert_eq!(
            items[0].blocks[1],
            Block {
                line: 4,
                kind: Kind::Code {
                    lang: "bash".into(),
                    text: "ls -l\n".into()
                }
            }
        );
        assert_eq!(items[1].blocks[0].kind, Kind::Paragraph("Done".into()));
        assert!(matches!(
            items[1].blocks[1].kind,
            Kind::List { ordered: false, .. }
        ));
    }

    #[test]
    fn tables_front_matter_links_and_inline_code() {
        let doc = blocks(
            "---\ntitle: x\n---\n\n| a | b |\n|---|---|\n| 1 | `2` |\n\nSee [docs](https://x.example/d) and <https://y.example>.\n",
        );
        assert_eq!(doc[0].kind, Kind::FrontMatter("title: x\n".into()));
        assert_eq!(
            doc[1].kind,
            Kind::Table(vec![
                vec!["a".into(), "b".into()],
                vec!["1".into(), "`2`".into()]
            ])
        );
        assert_eq!(
            doc[2].kind,
            Kind::Paragraph("See docs <https://x.example/d> and https://y.example.".into())
        );
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = ">".repeat(100) + " x\n";
        let e = parse(&Source::new("t.md", &text)).unwrap_err();
        assert!(matches!(e, ImportError::TooDeep { line: 1, .. }), "{e}");
        // 32 levels of lists are fine; a 33rd is not.
        let lists = |n: usize| {
            let mut text = String::new();
            for i in 0..n {
                text.push_str(&"  ".repeat(i));
                text.push_str("- x\n");
            }
            text
        };
        assert!(parse(&Source::new("t.md", &lists(32))).is_ok());
        assert!(parse(&Source::new("t.md", &lists(33))).is_err());
    }
}
