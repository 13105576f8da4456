//! Serde deserialization from a [`Document`] node, with positions in every error.
//!
//! Deserializing from the node tree instead of straight from the text gives
//! three things serde alone cannot: every unknown and duplicate key of a
//! mapping is reported (not only the first), each error carries the line and
//! column of the value it is about, and the loader can turn steps and inputs
//! into their typed form one by one (see [`NodeRef`]), collecting errors.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde::forward_to_deserialize_any;

use super::node::{Document, NodeId, NodeKind, Span};
use super::spanned::SPANNED_MARKER;

/// The marker name under which [`NodeRef`] asks for the node itself.
const NODE_REF_MARKER: &str = "$drctl::NodeRef";

pub use crate::diagnostic::Problem;

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {}

impl de::Error for Problem {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Problem {
            span: None,
            message: msg.to_string(),
            hint: None,
        }
    }

    fn missing_field(field: &'static str) -> Self {
        Problem {
            span: None,
            message: format!("missing key `{field}`"),
            hint: Some(format!("add `{field}:` to this mapping")),
        }
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        unknown_key(Span::default(), field, expected).without_span()
    }

    fn invalid_type(unexpected: de::Unexpected, expected: &dyn de::Expected) -> Self {
        let expected = describe_expected(expected);
        let problem: Problem = de::Error::custom(format_args!(
            "expected {expected}, found {}",
            describe_unexpected(&unexpected)
        ));
        match unexpected {
            de::Unexpected::Str(text)
                if expected.contains("number") && text.trim().parse::<f64>().is_ok() =>
            {
                problem.with_hint(format!("write the number without quotes: {}", text.trim()))
            }
            _ => problem,
        }
    }

    fn invalid_value(unexpected: de::Unexpected, expected: &dyn de::Expected) -> Self {
        let expected = describe_expected(expected);
        de::Error::custom(format_args!(
            "expected {expected}, found {}",
            describe_unexpected(&unexpected)
        ))
    }
}

/// Serde names primitive types the Rust way (`u32`); runbook authors think in YAML values.
fn describe_expected(expected: &dyn de::Expected) -> String {
    let text = expected.to_string();
    match text.as_str() {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number (0 or more)".to_owned(),
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number".to_owned(),
        "f32" | "f64" => "a number".to_owned(),
        _ => text,
    }
}

fn describe_unexpected(unexpected: &de::Unexpected) -> String {
    match unexpected {
        de::Unexpected::Str(s) => format!("the string `{s}`"),
        de::Unexpected::Unsigned(n) => format!("the number {n}"),
        de::Unexpected::Signed(n) => format!("the number {n}"),
        de::Unexpected::Float(n) => format!("the number {n}"),
        de::Unexpected::Bool(b) => format!("the boolean {b}"),
        de::Unexpected::Seq => "a list".to_owned(),
        de::Unexpected::Map => "a mapping".to_owned(),
        de::Unexpected::Unit => "nothing (null)".to_owned(),
        other => other.to_string(),
    }
}

/// A reference to a node, deserialized without looking inside it; the loader
/// turns it into a typed value later with [`Loader::load`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeRef(pub NodeId);

impl<'de> de::Deserialize<'de> for NodeRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NodeRefVisitor;
        impl Visitor<'_> for NodeRefVisitor {
            type Value = NodeRef;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a runbook node")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<NodeRef, E> {
                usize::try_from(v)
                    .map(NodeRef)
                    .map_err(|_| E::custom("internal: node index out of range"))
            }
        }
        deserializer.deserialize_newtype_struct(NODE_REF_MARKER, NodeRefVisitor)
    }
}

/// Deserializes typed values from a document and collects the errors that
/// do not stop deserialization (unknown and duplicate keys).
pub struct Loader<'doc> {
    document: &'doc Document,
    errors: RefCell<Vec<Problem>>,
}

impl<'doc> Loader<'doc> {
    pub fn new(document: &'doc Document) -> Self {
        Loader {
            document,
            errors: RefCell::new(Vec::new()),
        }
    }

    /// Deserializes the node as `T`. On error the error is recorded and
    /// `None` returned, so the caller can go on with the next item.
    pub fn load<T: de::DeserializeOwned>(&self, node: NodeRef) -> Option<T> {
        let de = NodeDe {
            loader: self,
            id: node.0,
        };
        match T::deserialize(de) {
            Ok(value) => Some(value),
            Err(error) => {
                self.errors
                    .borrow_mut()
                    .push(error.or_span(self.document.node(node.0).span));
                None
            }
        }
    }

    pub fn span(&self, node: NodeRef) -> Span {
        self.document.node(node.0).span
    }

    pub fn push(&self, error: Problem) {
        self.errors.borrow_mut().push(error);
    }

    pub fn into_errors(self) -> Vec<Problem> {
        self.errors.into_inner()
    }
}

#[derive(Clone, Copy)]
struct NodeDe<'a, 'doc> {
    loader: &'a Loader<'doc>,
    id: NodeId,
}

impl<'a, 'doc> NodeDe<'a, 'doc> {
    fn kind(&self) -> &'a NodeKind
    where
        'doc: 'a,
    {
        &self.loader.document.node(self.id).kind
    }

    fn span(&self) -> Span {
        self.loader.document.node(self.id).span
    }

    fn child(&self, id: NodeId) -> Self {
        NodeDe {
            loader: self.loader,
            id,
        }
    }

    fn error(&self, message: impl Into<String>) -> Problem {
        Problem::new(self.span(), message)
    }

    fn expected(&self, what: &str) -> Problem {
        let found = self.kind().describe();
        let error = self.error(format!("expected {what}, found {found}"));
        match self.kind() {
            // `url: {{ x }}` parses as a mapping whose only key is another mapping.
            NodeKind::Map(entries)
                if what.contains("string")
                    && matches!(entries.as_slice(), [(key, _)] if matches!(self.loader.document.node(*key).kind, NodeKind::Map(_))) =>
            {
                error.with_hint("a value starting with `{{` must be quoted, else YAML reads it as a mapping: \"{{ x }}\"")
            }
            NodeKind::Map(_) | NodeKind::Seq(_) if what.contains("string") => {
                error.with_hint("write the value as text; use `|` for text of several lines")
            }
            NodeKind::Bool(b) if what.contains("string") => {
                error.with_hint(format!("quote it to make it a string: \"{b}\""))
            }
            _ => error,
        }
    }

    /// The mapping's entries after dropping (and reporting) duplicate keys and,
    /// when `fields` is given, keys that are not among them.
    fn checked_entries(
        &self,
        entries: &[(NodeId, NodeId)],
        fields: Option<&[&str]>,
    ) -> Vec<(NodeId, NodeId)> {
        let document = self.loader.document;
        // Keys are borrowed from the tree: a runbook has tens of thousands.
        let mut seen: Vec<(Cow<'_, str>, Span)> = Vec::with_capacity(entries.len());
        let mut kept = Vec::with_capacity(entries.len());
        for &(key, value) in entries {
            let key_node = document.node(key);
            let text = match &key_node.kind {
                NodeKind::Str(text) => Some(Cow::Borrowed(text.as_str())),
                other => other.scalar_text().map(Cow::Owned),
            };
            let Some(text) = text else {
                self.loader.push(Problem::new(
                    key_node.span,
                    format!("expected a string key, found {}", key_node.kind.describe()),
                ));
                continue;
            };
            if let Some((_, first)) = seen.iter().find(|(seen_key, _)| *seen_key == text) {
                self.loader.push(
                    Problem::new(key_node.span, format!("duplicate key `{text}`")).with_hint(
                        format!(
                            "`{text}` is already set at line {}; remove one of them",
                            first.line
                        ),
                    ),
                );
                continue;
            }
            if let Some(fields) = fields
                && !fields.contains(&text.as_ref())
            {
                self.loader.push(unknown_key(key_node.span, &text, fields));
                continue;
            }
            seen.push((text, key_node.span));
            kept.push((key, value));
        }
        kept
    }
}

/// Keys people write from habit (other tools, other formats) and the drctl key they mean.
const KEY_ALIASES: &[(&str, &str)] = &[
    ("command", "run"),
    ("comand", "run"),
    ("cmd", "run"),
    ("script", "run"),
    ("exec", "run"),
    ("sql", "query"),
    ("uri", "url"),
    ("endpoint", "url"),
    ("depends_on", "needs"),
    ("depends", "needs"),
    ("requires", "needs"),
    ("after", "needs"),
    ("if", "when"),
    ("condition", "when"),
    ("retries", "retry"),
    ("timeout_seconds", "timeout"),
    ("environment", "env"),
    ("workdir", "cwd"),
    ("working_directory", "cwd"),
];

fn unknown_key(span: Span, key: &str, fields: &[&str]) -> Problem {
    let error = Problem::new(span, format!("unknown key `{key}`"));
    if key == "expect" && fields.contains(&"shell") {
        return error.with_hint(
            "`expect` belongs inside the action: under `shell:`, `http:`, `postgres:` or `ssh:`",
        );
    }
    if let Some((_, field)) = KEY_ALIASES
        .iter()
        .find(|(alias, field)| *alias == key && fields.contains(field))
    {
        return error.with_hint(format!("did you mean `{field}`?"));
    }
    match super::suggest::closest(key, fields.iter().copied()) {
        Some(field) => error.with_hint(format!("did you mean `{field}`?")),
        None => error.with_hint(key_list(fields)),
    }
}

/// `expected one of: a, b, …`, wrapped before 100 characters a line, the
/// lines after the first indented under the first (as printed after
/// `  hint: `): the lists grow with the format, a terminal line does not.
fn key_list(fields: &[&str]) -> String {
    const WIDTH: usize = 100;
    let mut out = String::from("expected one of:");
    let mut line = out.len();
    for (i, field) in fields.iter().enumerate() {
        let word = if i + 1 < fields.len() {
            format!("{field},")
        } else {
            (*field).to_owned()
        };
        if line + 1 + word.len() > WIDTH {
            out.push_str("\n       ");
            line = 7;
        }
        out.push(' ');
        out.push_str(&word);
        line += 1 + word.len();
    }
    out
}

/// Words YAML 1.1 read as booleans; drctl (YAML 1.2) reads them as text.
pub(crate) const YAML11_BOOLEANS: &[&str] = &[
    "yes", "no", "on", "off", "y", "n", "Yes", "No", "On", "Off", "YES", "NO", "ON", "OFF", "True",
    "False", "TRUE", "FALSE",
];

impl<'de> Deserializer<'de> for NodeDe<'_, '_> {
    type Error = Problem;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Problem> {
        let result = match self.kind() {
            NodeKind::Null => visitor.visit_unit(),
            NodeKind::Bool(b) => visitor.visit_bool(*b),
            NodeKind::Int(i) => visitor.visit_i64(*i),
            NodeKind::UInt(u) => visitor.visit_u64(*u),
            NodeKind::Float(f) => visitor.visit_f64(*f),
            NodeKind::Str(s) => visitor.visit_str(s),
            NodeKind::Seq(items) => visitor.visit_seq(SeqDe {
                parent: self,
                items: items.iter(),
            }),
            NodeKind::Map(entries) => {
                let entries = self.checked_entries(entries, None);
                visitor.visit_map(MapDe::new(self, entries))
            }
        };
        result.map_err(|e| e.or_span(self.span()))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Problem> {
        match self.kind() {
            NodeKind::Bool(b) => visitor.visit_bool(*b),
            NodeKind::Str(s) if YAML11_BOOLEANS.contains(&s.as_str()) => Err(self
                .error(format!("expected true or false, found `{s}`"))
                .with_hint("drctl reads YAML 1.2: only `true` and `false` are booleans")),
            _ => Err(self.expected("true or false")),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Problem> {
        match self.kind() {
            NodeKind::Str(s) => visitor.visit_str(s),
            NodeKind::Int(_) | NodeKind::UInt(_) | NodeKind::Float(_) => {
                visitor.visit_string(self.kind().scalar_text().unwrap_or_default())
            }
            _ => Err(self.expected("a string")),
        }
        .map_err(|e| e.or_span(self.span()))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Problem> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Problem> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Problem> {
        match self.kind() {
            NodeKind::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Problem> {
        match self.kind() {
            NodeKind::Seq(items) => visitor
                .visit_seq(SeqDe {
                    parent: self,
                    items: items.iter(),
                })
                .map_err(|e| e.or_span(self.span())),
            _ => Err(self.expected("a list")),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Problem> {
        match self.kind() {
            NodeKind::Map(entries) => {
                let entries = self.checked_entries(entries, None);
                visitor
                    .visit_map(MapDe::new(self, entries))
                    .map_err(|e| e.or_span(self.span()))
            }
            _ => Err(self.expected("a mapping")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Problem> {
        match self.kind() {
            NodeKind::Map(entries) => {
                let entries = self.checked_entries(entries, Some(fields));
                visitor
                    .visit_map(MapDe::new(self, entries))
                    .map_err(|e| e.or_span(self.span()))
            }
            _ => Err(self.expected("a mapping")),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Problem> {
        match name {
            SPANNED_MARKER => {
                let span = self.span();
                visitor.visit_seq(SpannedSeq {
                    parts: [
                        u64::from(span.line),
                        u64::from(span.column),
                        span.offset as u64,
                    ],
                    next: 0,
                    value: self,
                })
            }
            NODE_REF_MARKER => visitor.visit_u64(self.id as u64),
            _ => visitor.visit_newtype_struct(self),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Problem> {
        match self.kind() {
            NodeKind::Str(s) => visitor
                .visit_enum(s.as_str().into_deserializer())
                .map_err(|e: Problem| e.or_span(self.span())),
            _ => Err(self.expected("a string")),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Problem> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf unit unit_struct
        tuple tuple_struct
    }
}

struct SeqDe<'a, 'doc, I> {
    parent: NodeDe<'a, 'doc>,
    items: I,
}

impl<'de, 'a, I: Iterator<Item = &'a NodeId>> SeqAccess<'de> for SeqDe<'a, '_, I> {
    type Error = Problem;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Problem> {
        match self.items.next() {
            Some(&id) => {
                let child = self.parent.child(id);
                seed.deserialize(child)
                    .map(Some)
                    .map_err(|e| e.or_span(child.span()))
            }
            None => Ok(None),
        }
    }
}

struct MapDe<'a, 'doc> {
    parent: NodeDe<'a, 'doc>,
    entries: std::vec::IntoIter<(NodeId, NodeId)>,
    value: Option<NodeId>,
}

impl<'a, 'doc> MapDe<'a, 'doc> {
    fn new(parent: NodeDe<'a, 'doc>, entries: Vec<(NodeId, NodeId)>) -> Self {
        MapDe {
            parent,
            entries: entries.into_iter(),
            value: None,
        }
    }
}

impl<'de> MapAccess<'de> for MapDe<'_, '_> {
    type Error = Problem;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Problem> {
        match self.entries.next() {
            Some((key, value)) => {
                self.value = Some(value);
                let child = self.parent.child(key);
                seed.deserialize(child)
                    .map(Some)
                    .map_err(|e| e.or_span(child.span()))
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Problem> {
        let id = self
            .value
            .take()
            .ok_or_else(|| de::Error::custom("internal: value requested before key"))?;
        let child = self.parent.child(id);
        seed.deserialize(child).map_err(|e| e.or_span(child.span()))
    }
}

/// Hands line, column and offset to [`super::spanned::Spanned`], then the value.
struct SpannedSeq<'a, 'doc> {
    parts: [u64; 3],
    next: usize,
    value: NodeDe<'a, 'doc>,
}

impl<'de> SeqAccess<'de> for SpannedSeq<'_, '_> {
    type Error = Problem;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Problem> {
        let index = self.next;
        self.next += 1;
        match index {
            0..=2 => seed
                .deserialize(self.parts[index].into_deserializer())
                .map(Some),
            3 => seed.deserialize(self.value).map(Some),
            _ => Ok(None),
        }
    }
}
