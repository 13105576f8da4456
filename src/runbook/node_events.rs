//! Builds a [`Document`] straight from the YAML parser's events: the fast
//! path of [`Document::parse`].
//!
//! serde-saphyr wraps every value in `Spanned` and walks serde's visitor
//! machinery for it; reading granit-parser's events here does the same work
//! without that, for the documents runbooks are: no anchors, aliases, merge
//! keys or tags. Anything else — those features, a parse error, a breached
//! limit — returns `None`, and the caller parses the text again with
//! serde-saphyr, whose results and messages stay the reference. The limits
//! are counted here the way serde-saphyr's budget counts them, so that no
//! document gets past this path that serde-saphyr would refuse.

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, Span as ParserSpan};

use super::node::{Document, Node, NodeId, NodeKind, Span};
use super::scalar::resolve_plain;

/// serde-saphyr's limits, as drctl sets them ([`super::node`]'s `options`).
pub struct Limits {
    pub max_depth: usize,
    pub max_events: usize,
    pub max_nodes: usize,
    pub max_total_scalar_bytes: usize,
    pub parser: serde_saphyr::granit_parser::Options,
}

/// A mapping or sequence still open: its node and the children so far.
enum Open {
    Seq(NodeId, Vec<NodeId>),
    /// Entries so far, and the key waiting for its value.
    Map(NodeId, Vec<(NodeId, NodeId)>, Option<NodeId>),
}

impl Open {
    /// True when the next node is a mapping key.
    fn wants_key(&self) -> bool {
        matches!(self, Open::Map(_, _, None))
    }
}

/// The document, or `None` when serde-saphyr must have the last word.
pub fn build(text: &str, limits: &Limits) -> Option<Document> {
    let mut nodes: Vec<Node> = Vec::new();
    let mut open: Vec<Open> = Vec::new();
    let mut root_done = false;
    let (mut events, mut scalar_bytes, mut documents) = (0usize, 0usize, 0usize);
    for item in Parser::new_from_str_with_options(text, limits.parser.clone()) {
        let (event, span) = item.ok()?;
        events += 1;
        if events > limits.max_events {
            return None;
        }
        let kind = match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => continue,
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return None;
                }
                continue;
            }
            Event::Scalar(value, style, 0, None) => {
                scalar_bytes += value.len();
                if scalar_bytes > limits.max_total_scalar_bytes
                    // A merge key, quoted or not, is serde-saphyr's to expand.
                    || (value == "<<" && open.last().is_some_and(Open::wants_key))
                {
                    return None;
                }
                if style == ScalarStyle::Plain {
                    resolve_plain(&value)?
                } else {
                    NodeKind::Str(value.into_owned())
                }
            }
            Event::SequenceStart(_, 0, None) | Event::MappingStart(_, 0, None) => {
                // A non-scalar key, or nesting past the limit.
                if open.last().is_some_and(Open::wants_key) || open.len() >= limits.max_depth {
                    return None;
                }
                let id = push(&mut nodes, &span, NodeKind::Null, limits)?;
                open.push(if matches!(event, Event::SequenceStart(..)) {
                    Open::Seq(id, Vec::new())
                } else {
                    Open::Map(id, Vec::new(), None)
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (id, kind) = match open.pop()? {
                    Open::Seq(id, items) => (id, NodeKind::Seq(items)),
                    Open::Map(id, entries, None) => (id, NodeKind::Map(entries)),
                    Open::Map(_, _, Some(_)) => return None,
                };
                nodes[id].kind = kind;
                root_done |= open.is_empty();
                attach(&mut open, id);
                continue;
            }
            // Anchors, aliases, tags, comments: serde-saphyr's path.
            _ => return None,
        };
        let id = push(&mut nodes, &span, kind, limits)?;
        root_done |= open.is_empty();
        attach(&mut open, id);
    }
    // An empty stream is serde-saphyr's to describe.
    (root_done && open.is_empty()).then(|| Document::from_nodes(nodes))
}

/// Adds a node (counted against the limit) where the parser's span says.
fn push(
    nodes: &mut Vec<Node>,
    span: &ParserSpan,
    kind: NodeKind,
    limits: &Limits,
) -> Option<NodeId> {
    if nodes.len() >= limits.max_nodes {
        return None;
    }
    nodes.push(Node {
        kind,
        span: span_of(span),
    });
    Some(nodes.len() - 1)
}

/// Makes `id` the next child of the innermost open container.
fn attach(open: &mut [Open], id: NodeId) {
    match open.last_mut() {
        Some(Open::Seq(_, items)) => items.push(id),
        Some(Open::Map(_, _, key @ None)) => *key = Some(id),
        Some(Open::Map(_, entries, key @ Some(_))) => {
            entries.push((key.take().expect("matched Some"), id));
        }
        None => {}
    }
}

/// The position serde-saphyr reports for a node: 1-based line and column, byte offset.
fn span_of(span: &ParserSpan) -> Span {
    Span {
        line: u32::try_from(span.start.line()).unwrap_or(u32::MAX),
        column: u32::try_from(span.start.col() + 1).unwrap_or(u32::MAX),
        offset: span.start.byte_offset().unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runbook::node::limits_for_tests as limits;

    /// Both paths agree wherever the fast one answers; `fast` says whether it must.
    fn agree(text: &str, fast: bool) {
        let built = build(text, &limits());
        assert_eq!(built.is_some(), fast, "fast path taken for {text:?}");
        same_answer(text);
    }

    /// Whichever path `text` takes, the tree or the error is serde-saphyr's.
    fn same_answer(text: &str) {
        let built = build(text, &limits());
        let reference = Document::parse_with_serde(text);
        if let Some(built) = built {
            assert_eq!(Some(&built), reference.as_ref().ok(), "tree of {text:?}");
        }
        // The public entry gives serde-saphyr's answer either way.
        match (Document::parse(text), reference) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{text:?}"),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{text:?}"),
            (a, b) => panic!("{text:?}: {a:?} against {b:?}"),
        }
    }

    #[test]
    fn scalars_mean_what_serde_saphyr_says() {
        let plain = [
            "~",
            "null",
            "Null",
            "NULL",
            "nULL",
            "true",
            "True",
            "TRUE",
            "tRUE",
            "false",
            "yes",
            "no",
            "on",
            "off",
            "y",
            "n",
            "0",
            "-0",
            "+0",
            "00",
            "0755",
            "-0755",
            "+0755",
            "1",
            "-1",
            "+1",
            "12_345",
            "1__2",
            "_1",
            "1_",
            "0x1F",
            "0X1f",
            "-0x10",
            "0o17",
            "0O7",
            "0b101",
            "0B2",
            "0x",
            "0x_1",
            "0_1",
            "-0_1",
            "9223372036854775807",
            "9223372036854775808",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "340282366920938463463374607431768211456",
            "-0x8000000000000000",
            "1.5",
            "-1.5",
            "+1.5",
            ".5",
            "1.",
            "1e3",
            "1E3",
            "1e-3",
            "-1e3",
            "1.5e+3",
            "1_000.5",
            "inf",
            "-inf",
            "infinity",
            "Infinity",
            "nan",
            "NaN",
            "1.0.0",
            "1e",
            "e3",
            "0.0",
            "-0.0",
            "1,5",
            "abc",
            "a b",
            "127.0.0.1",
            "10m",
            "2h",
            "1:30",
            "0x1p3",
            "٣",
            "١٢",
            "+-1",
            "--1",
            "-+1",
            "+",
            ".",
            "0x-1",
            "0b",
            "1e-400",
            "INF",
            "Inf",
            "NAN",
            "nan5",
            "Infinityx",
            "E5",
            "x1",
            "yes",
            "No",
            "ON",
            "off",
            "y",
            "Null_",
            "truex",
            "ä1",
        ];
        for case in plain {
            agree(&format!("v: {case}\n"), true);
            same_answer(&format!("[{case}]\n"));
            agree(&format!("v: '{case}'\n"), true);
            agree(&format!("v: \"{case}\"\n"), true);
            agree(&format!("v: |\n  {case}\n"), true);
            same_answer(&format!("{case}: key\n"));
        }
        agree("v:\n", true);
        agree("v: \n", true);
        agree("? \n: x\n", true);
        // Non-finite floats are serde-saphyr's error.
        for case in [
            ".inf", "-.inf", "+.Inf", ".nan", ".NaN", "-.NAN", "1e999", "-9e400", "1e400",
        ] {
            agree(&format!("v: {case}\n"), false);
            agree(&format!("v: '{case}'\n"), true);
        }
    }

    #[test]
    fn structure_and_positions_match() {
        for text in [
            "a: 1\nb:\n  c: yes\n  c: [x, 0755]\n",
            "- a\n- - b\n  - c\n- {d: e, f: [g, {h: i}]}\n",
            "a: |\n  line\n   more\nb: >-\n  folded\n  text\nc: \"esc\\t\\u00e9\"\n",
            "# comment\na: 1 # trailing\n\n\nb: 'it''s'\n",
            "\u{feff}a: 1\n",
            "---\na: 1\n...\n",
            "é: ünïcödé\nkey with spaces: x\n\"quoted key\": y\n",
            "a: {}\nb: []\nc: [[], {}]\n",
            "plain\n",
            "[a, b]\n",
            "a:\n- 1\n- 2\n",
            "a: b\r\nc: d\r\n",
        ] {
            agree(text, true);
        }
    }

    #[test]
    fn what_this_path_does_not_take_goes_to_serde_saphyr() {
        for text in [
            // anchors, aliases, merge keys, tags
            "a: &x 1\nb: *x\n",
            "base: &b {k: v}\nuse:\n  <<: *b\n",
            "a:\n  '<<': 1\n",
            "a: !!str 1\n",
            "a: !custom x\n",
            "!!map {a: 1}\n",
            "? [a, b]\n: c\n",
            "? {a: b}\n: c\n",
            // errors
            "",
            "# only a comment\n",
            "a: 1\n---\nb: 2\n",
            "a: [1, 2\n",
            "a: b: c\n",
            "a:\n\t- b\n",
            "a: 'unclosed\n",
            "a: *nope\n",
            "- a\nb: c\n",
        ] {
            agree(text, false);
        }
    }

    #[test]
    fn limits_are_the_same_on_both_paths() {
        let nested = |depth: usize| "[".repeat(depth) + &"]".repeat(depth) + "\n";
        agree(&nested(48), true);
        agree(&nested(49), false);
        let mut block = String::new();
        for level in 0..48 {
            block.push_str(&" ".repeat(level * 2));
            block.push_str("k:\n");
        }
        agree(&block, true);
        let mut deeper = block.clone();
        deeper.push_str(&" ".repeat(96));
        deeper.push_str("k: v\n");
        agree(&deeper, false);
        let list = |n: usize| format!("[{}]\n", vec!["1"; n].join(","));
        // 200,000 nodes: the list and its items.
        agree(&list(199_999), true);
        agree(&list(200_000), false);
    }

    /// Every runbook the project ships or tests with parses the same on both paths.
    #[test]
    fn every_yaml_file_in_the_repository_agrees() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut stack = vec![
            root.join("tests"),
            root.join("examples"),
            root.join("runbooks"),
        ];
        let (mut fast, mut all) = (0, 0);
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml")
                    && let Ok(text) = std::fs::read_to_string(&path)
                {
                    all += 1;
                    let built = build(&text, &limits());
                    if let Some(built) = built {
                        fast += 1;
                        let reference = Document::parse_with_serde(&text);
                        assert_eq!(Some(&built), reference.as_ref().ok(), "{}", path.display());
                    }
                }
            }
        }
        assert!(
            all > 50 && fast * 2 > all,
            "{fast} of {all} files took the fast path"
        );
    }
}
