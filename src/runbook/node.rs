//! The YAML document as a tree of nodes with source positions.
//!
//! The tree is built from the YAML parser's events ([`super::node_events`]);
//! a document that path does not take (anchors, aliases, merge keys, tags, a
//! syntax error, a breached limit) is parsed by serde-saphyr instead, with its
//! limits on size, depth and aliases and its messages. Either way the result
//! is plain nodes in an arena, each with the line and column it came from. Keeping the tree lets the loader turn each
//! step and input into its typed form separately, so one broken step does not
//! hide the problems of the others, and lets it see every key of a mapping
//! (including duplicates) before serde does.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned as SaphyrSpanned;

pub use crate::span::Span;

/// Index of a node in its [`Document`].
pub type NodeId = usize;

/// One YAML value.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<NodeId>),
    /// Entries in source order; duplicate keys are kept so the loader can report them.
    Map(Vec<(NodeId, NodeId)>),
}

impl NodeKind {
    /// How the value is named in "expected X, found Y" messages.
    pub fn describe(&self) -> &'static str {
        match self {
            NodeKind::Null => "nothing (null)",
            NodeKind::Bool(_) => "a boolean",
            NodeKind::Int(_) | NodeKind::UInt(_) => "an integer",
            NodeKind::Float(_) => "a number",
            NodeKind::Str(_) => "a string",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }

    /// The scalar as text, for keys and for string fields given a number.
    pub fn scalar_text(&self) -> Option<String> {
        match self {
            NodeKind::Str(s) => Some(s.clone()),
            NodeKind::Int(i) => Some(i.to_string()),
            NodeKind::UInt(u) => Some(u.to_string()),
            NodeKind::Float(f) => Some(f.to_string()),
            NodeKind::Bool(b) => Some(b.to_string()),
            NodeKind::Null | NodeKind::Seq(_) | NodeKind::Map(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

/// A parsed YAML document: all nodes, the root first.
#[derive(Debug, Default, PartialEq)]
pub struct Document {
    nodes: Vec<Node>,
}

impl Document {
    pub const ROOT: NodeId = 0;

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// Parses YAML text with drctl's strict options (see [`options`]).
    pub fn parse(text: &str) -> Result<Document, serde_saphyr::Error> {
        match super::node_events::build(text, &limits()) {
            Some(document) => Ok(document),
            None => Document::parse_with_serde(text),
        }
    }

    pub(super) fn from_nodes(nodes: Vec<Node>) -> Document {
        Document { nodes }
    }

    /// The slow path: serde-saphyr builds the tree, each value `Spanned`.
    pub fn parse_with_serde(text: &str) -> Result<Document, serde_saphyr::Error> {
        let tree: Tree = serde_saphyr::from_str_with_options(text, options())?;
        let mut document = Document { nodes: Vec::new() };
        document.push(tree);
        Ok(document)
    }

    fn push(&mut self, tree: Tree) -> NodeId {
        let id = self.nodes.len();
        let span = tree.span;
        self.nodes.push(Node {
            kind: NodeKind::Null,
            span,
        });
        let kind = match tree.kind {
            TreeKind::Scalar(kind) => kind,
            TreeKind::Seq(items) => {
                NodeKind::Seq(items.into_iter().map(|t| self.push(t)).collect())
            }
            TreeKind::Map(entries) => NodeKind::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| (self.push(k), self.push(v)))
                    .collect(),
            ),
        };
        self.nodes[id].kind = kind;
        id
    }
}

/// Parser options: YAML 1.1 booleans stay strings, `0755` stays a string,
/// duplicate keys reach the loader, and resource limits stop hostile input early.
fn options() -> serde_saphyr::Options {
    let mut alias_limits = serde_saphyr::options::AliasLimits::default();
    alias_limits.max_total_replayed_events = 100_000;
    serde_saphyr::options! {
        budget: Some(budget()),
        alias_limits: alias_limits,
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::PassThrough,
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        with_snippet: false,
    }
}

fn budget() -> serde_saphyr::Budget {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = 48;
    budget.max_events = 400_000;
    budget.max_aliases = 1_000;
    budget.max_nodes = 200_000;
    budget.max_total_scalar_bytes = 8 * 1024 * 1024;
    budget.max_documents = 1;
    budget
}

/// The same budget for the event-driven path, and the parser options
/// serde-saphyr derives from it (`Budget::parser_options`, crate-private):
/// the parser must accept and refuse exactly the same text on both paths.
fn limits() -> super::node_events::Limits {
    let budget = budget();
    let mut parser = serde_saphyr::granit_parser::Options::default();
    parser.simple_key_max_lookahead = budget.simple_key_max_lookahead;
    parser.flow_nesting_limit = budget.flow_nesting_limit;
    parser.block_nesting_limit = parser
        .block_nesting_limit
        .max(budget.max_depth.saturating_add(1));
    parser.emit_comments = false;
    parser.strict_indentation = false;
    super::node_events::Limits {
        max_depth: budget.max_depth,
        max_events: budget.max_events,
        max_nodes: budget.max_nodes,
        max_total_scalar_bytes: budget.max_total_scalar_bytes,
        parser,
    }
}

#[cfg(test)]
pub(super) fn limits_for_tests() -> super::node_events::Limits {
    limits()
}

/// The owned tree serde-saphyr builds; flattened into a [`Document`] right after.
struct Tree {
    kind: TreeKind,
    span: Span,
}

enum TreeKind {
    Scalar(NodeKind),
    Seq(Vec<Tree>),
    Map(Vec<(Tree, Tree)>),
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = SaphyrSpanned::<TreeKindDe>::deserialize(deserializer)?;
        Ok(Tree {
            kind: spanned.value.0,
            span: span_of(&spanned.referenced),
        })
    }
}

struct TreeKindDe(TreeKind);

impl<'de> Deserialize<'de> for TreeKindDe {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TreeVisitor).map(TreeKindDe)
    }
}

struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = TreeKind;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<TreeKind, E> {
        Ok(TreeKind::Scalar(NodeKind::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<TreeKind, E> {
        Ok(TreeKind::Scalar(NodeKind::Int(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<TreeKind, E> {
        Ok(TreeKind::Scalar(
            i64::try_from(v).map_or(NodeKind::UInt(v), NodeKind::Int),
        ))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<TreeKind, E> {
        Ok(TreeKind::Scalar(NodeKind::Str(v.to_string())))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<TreeKind, E> {
        Ok(TreeKind::Scalar(NodeKind::Str(v.to_string())))
    }
    fn visit_f64<E>(self, v: f64) -> Result<TreeKind, E> {
        Ok(TreeKind::Scalar(NodeKind::Float(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<TreeKind, E> {
        Ok(TreeKind::Scalar(NodeKind::Str(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<TreeKind, E> {
        Ok(TreeKind::Scalar(NodeKind::Str(v)))
    }
    fn visit_unit<E>(self) -> Result<TreeKind, E> {
        Ok(TreeKind::Scalar(NodeKind::Null))
    }
    fn visit_none<E>(self) -> Result<TreeKind, E> {
        Ok(TreeKind::Scalar(NodeKind::Null))
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<TreeKind, D::Error> {
        d.deserialize_any(TreeVisitor)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TreeKind, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Tree>()? {
            items.push(item);
        }
        Ok(TreeKind::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TreeKind, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Tree>()? {
            let value = map.next_value::<Tree>()?;
            entries.push((key, value));
        }
        Ok(TreeKind::Map(entries))
    }
}

/// Where a node of the YAML parser stands.
fn span_of(location: &serde_saphyr::Location) -> Span {
    Span {
        line: u32::try_from(location.line()).unwrap_or(u32::MAX),
        column: u32::try_from(location.column()).unwrap_or(u32::MAX),
        offset: location
            .span()
            .byte_offset()
            .and_then(|o| usize::try_from(o).ok())
            .unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_positions_and_duplicates() {
        let doc = Document::parse("a: 1\nb:\n  c: yes\n  c: [x, 0755]\n").unwrap();
        let NodeKind::Map(entries) = &doc.node(Document::ROOT).kind else {
            panic!("root is not a map")
        };
        let (b_key, b_value) = entries[1];
        assert_eq!(doc.node(b_key).span.line, 2);
        let NodeKind::Map(inner) = &doc.node(b_value).kind else {
            panic!("b is not a map")
        };
        assert_eq!(inner.len(), 2, "duplicate key kept");
        assert_eq!(doc.node(inner[0].1).kind, NodeKind::Str("yes".into()));
        assert_eq!(doc.node(inner[1].0).span.line, 4);
        assert_eq!(doc.node(inner[1].0).span.column, 3);
        let NodeKind::Seq(items) = &doc.node(inner[1].1).kind else {
            panic!("not a seq")
        };
        assert_eq!(doc.node(items[1]).kind, NodeKind::Str("0755".into()));
    }
}
