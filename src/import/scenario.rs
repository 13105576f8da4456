//! Markdown blocks → scenarios. A scenario is a heading that holds steps:
//!
//! - a heading whose own content (before its first subheading) has a shell
//!   or SQL code block, or a numbered list, is a scenario of its own;
//! - a heading whose subheadings are numbered (`### 1. Stop writes`,
//!   `### Step 2: …`) and hold the steps is one scenario, its subheadings
//!   its groups of steps;
//! - headings about contacts, escalation or the table of contents are never
//!   scenarios: they are kept as comments.
//!
//! So the level is chosen per part of the document, by what it contains: a
//! playbook with `### Scenario N` sections gets one runbook per section, one
//! with a script under each `####` gets one per script.
//!
//! Inside a scenario, in document order: each item of a numbered (or
//! bulleted) list is a task (its code blocks, or its text as a manual
//! instruction); a code block outside lists is a task; paragraphs, and
//! bulleted lists introduced by a label such as `Symptoms:`, are the
//! description; everything else (tables, code in other languages, HTML) is
//! kept as a comment where it stood.

use super::facts;
use super::markdown::{Block, Item, Kind};

/// A scenario, ready to be turned into a runbook.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub title: String,
    pub line: usize,
    pub description: Vec<String>,
    pub severity: Option<String>,
    pub rto: Option<String>,
    pub rpo: Option<String>,
    pub tasks: Vec<Task>,
    /// Parts of the playbook outside every scenario, kept with this one.
    pub appendix: Vec<Kept>,
}

/// One thing to do, or to keep, in document order.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub line: usize,
    /// The list item's or subheading's words; `None` for a lone code block.
    pub title: Option<String>,
    /// The heading it is under, for a title of last resort.
    pub heading: String,
    pub body: Body,
    /// For the items of a list that says its steps run in parallel: the
    /// list (its line) and the item (its line).
    pub parallel: Option<(usize, usize)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Shell(String),
    Sql(String),
    Manual(String),
    /// Not translated: kept as a comment.
    Kept(Kept),
}

/// What a [`Kept`] heading with nothing under it says it is.
pub const HEADING: &str = "heading";

/// A part of the playbook that is not translated, kept as a comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Kept {
    pub line: usize,
    /// What it is, for the summary: `table`, `json code block`, `prose` …
    pub what: String,
    pub text: String,
}

/// What a code block is taken for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    Shell,
    Sql,
    Other,
}

pub fn classify(lang: &str, text: &str) -> CodeKind {
    match lang {
        "bash" | "sh" | "shell" => CodeKind::Shell,
        "sql" | "psql" | "postgres" | "postgresql" | "pgsql" => CodeKind::Sql,
        "" if reads_as_shell(text) => CodeKind::Shell,
        _ => CodeKind::Other,
    }
}

/// An unlabelled block is shell unless it reads as text: a line that ends
/// with `:` (`Primary On-Call:`), starts as a list (`- Name: …`) or a
/// placeholder (`[Name]`), or starts with a non-ASCII character (box drawing).
fn reads_as_shell(text: &str) -> bool {
    let mut commands = 0;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let first = line.chars().next().unwrap_or(' ');
        if !first.is_ascii()
            || line.ends_with(':')
            || line.starts_with("- ")
            || line.starts_with("* ")
            || "[|+=<>-*".contains(first)
        {
            return false;
        }
        commands += 1;
    }
    commands > 0
}

/// A heading and what is under it up to the next heading, with its subheadings.
struct Section {
    level: usize,
    title: String,
    line: usize,
    blocks: Vec<Block>,
    children: Vec<Section>,
}

/// What the document turns into, in order.
pub enum Part {
    Scenario(Scenario),
    Kept(Kept),
}

/// Splits the document into scenarios and the parts outside them.
pub fn parts(blocks: Vec<Block>, file_title: &str) -> Vec<Part> {
    let tables: Vec<facts::TableRow> = all_tables(&blocks)
        .iter()
        .flat_map(|rows| facts::objectives_table(rows))
        .collect();
    let root = sections(blocks, file_title);
    let mut out = Vec::new();
    walk(root, &mut out);
    for part in &mut out {
        if let Part::Scenario(s) = part {
            for row in &tables {
                if facts::names_system(&s.title, &row.system) {
                    s.rto = s.rto.take().or_else(|| row.rto.clone());
                    s.rpo = s.rpo.take().or_else(|| row.rpo.clone());
                }
            }
        }
    }
    out
}

fn all_tables(blocks: &[Block]) -> Vec<&Vec<Vec<String>>> {
    flattened(blocks)
        .into_iter()
        .filter_map(|block| match &block.kind {
            Kind::Table(rows) => Some(rows),
            _ => None,
        })
        .collect()
}

/// Every block in document order, those inside quotes and list items too.
fn flattened(blocks: &[Block]) -> Vec<&Block> {
    let mut out = Vec::new();
    for block in blocks {
        match &block.kind {
            Kind::Quote(inner) => out.extend(flattened(inner)),
            Kind::List { items, .. } => {
                for item in items {
                    out.extend(flattened(&item.blocks));
                }
            }
            _ => out.push(block),
        }
    }
    out
}

fn sections(blocks: Vec<Block>, file_title: &str) -> Section {
    let mut stack = vec![Section {
        level: 0,
        title: file_title.to_owned(),
        line: 1,
        blocks: Vec::new(),
        children: Vec::new(),
    }];
    for block in blocks {
        if let Kind::Heading { level, text } = &block.kind {
            while stack.last().is_some_and(|s| s.level >= *level) {
                let done = stack.pop().expect("checked");
                stack
                    .last_mut()
                    .expect("the root stays")
                    .children
                    .push(done);
            }
            stack.push(Section {
                level: *level,
                title: text.clone(),
                line: block.line,
                blocks: Vec::new(),
                children: Vec::new(),
            });
        } else {
            stack.last_mut().expect("the root stays").blocks.push(block);
        }
    }
    while stack.len() > 1 {
        let done = stack.pop().expect("checked");
        stack
            .last_mut()
            .expect("the root stays")
            .children
            .push(done);
    }
    stack.pop().expect("the root")
}

fn walk(section: Section, out: &mut Vec<Part>) {
    let lower = section.title.to_lowercase();
    if ["contact", "escalation", "contents"]
        .iter()
        .any(|w| lower.contains(w))
    {
        keep_all(section, out);
        return;
    }
    if !section.children.is_empty()
        && section
            .children
            .iter()
            .all(|c| numbered(&c.title) && c.children.is_empty())
        && section.children.iter().any(|c| holds_steps(&c.blocks))
    {
        let mut groups = vec![(None, section.blocks)];
        groups.extend(
            section
                .children
                .into_iter()
                .map(|c| (Some(c.title), c.blocks)),
        );
        out.push(Part::Scenario(scenario(
            &section.title,
            section.line,
            groups,
        )));
        return;
    }
    if holds_steps(&section.blocks) {
        out.push(Part::Scenario(scenario(
            &section.title,
            section.line,
            vec![(None, section.blocks)],
        )));
    } else {
        keep_blocks(
            &section.title,
            section.level,
            section.line,
            &section.blocks,
            out,
        );
    }
    for child in section.children {
        walk(child, out);
    }
}

fn keep_all(section: Section, out: &mut Vec<Part>) {
    keep_blocks(
        &section.title,
        section.level,
        section.line,
        &section.blocks,
        out,
    );
    for child in section.children {
        keep_all(child, out);
    }
}

/// Keeps a section that is not a scenario: its heading and its text.
fn keep_blocks(title: &str, level: usize, line: usize, blocks: &[Block], out: &mut Vec<Part>) {
    let mut text = if level > 0 {
        format!("{} {title}\n", "#".repeat(level))
    } else {
        String::new()
    };
    let body = render(blocks);
    if !body.is_empty() {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&body);
    }
    if !text.trim().is_empty() {
        let mut kinds: Vec<String> = Vec::new();
        for block in blocks {
            let kind = match &block.kind {
                Kind::Paragraph(_) | Kind::Heading { .. } => "prose".to_owned(),
                Kind::List { .. } => "list".to_owned(),
                Kind::Table(_) => "table".to_owned(),
                Kind::Code { lang, .. } if lang.is_empty() => "text block".to_owned(),
                Kind::Code { lang, .. } => format!("{lang} code block"),
                Kind::Quote(_) => "quote".to_owned(),
                Kind::Html(_) => "HTML".to_owned(),
                Kind::FrontMatter(_) => "front matter".to_owned(),
            };
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        let what = if kinds.is_empty() {
            HEADING.to_owned()
        } else {
            format!("`{title}`: {}", kinds.join(", "))
        };
        out.push(Part::Kept(Kept { line, what, text }));
    }
}

/// `1. Stop writes`, `2) …`, `Step 3: …`.
fn numbered(title: &str) -> bool {
    let rest = title
        .strip_prefix("Step ")
        .or_else(|| title.strip_prefix("step "))
        .unwrap_or(title);
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && rest[digits..].starts_with(['.', ')', ':', ' '])
}

fn holds_steps(blocks: &[Block]) -> bool {
    blocks.iter().any(|block| match &block.kind {
        Kind::Code { lang, text } => classify(lang, text) != CodeKind::Other,
        Kind::List { ordered, items } => *ordered || items.iter().any(|i| has_code(&i.blocks)),
        _ => false,
    })
}

fn has_code(blocks: &[Block]) -> bool {
    !codes(blocks).is_empty()
}

/// Every code block, at any depth, in order.
fn codes(blocks: &[Block]) -> Vec<&Block> {
    flattened(blocks)
        .into_iter()
        .filter(|block| matches!(block.kind, Kind::Code { .. }))
        .collect()
}

const LABELS: &[&str] = &[
    "symptom",
    "impact",
    "example",
    "sign",
    "indicator",
    "trigger",
    "note",
    "cause",
    "context",
    "background",
    "overview",
    "affected",
    "prerequisite",
    "requirement",
    "detection",
    "alert",
    "when to",
    "scope",
];

const PARALLEL: &[&str] = &[
    "in parallel",
    "parallel:",
    "simultaneously",
    "at the same time",
    "concurrently",
];

fn scenario(title: &str, line: usize, groups: Vec<(Option<String>, Vec<Block>)>) -> Scenario {
    let mut s = Scenario {
        title: title.to_owned(),
        line,
        description: Vec::new(),
        severity: None,
        rto: None,
        rpo: None,
        tasks: Vec::new(),
        appendix: Vec::new(),
    };
    for (group_title, blocks) in groups {
        let heading = group_title.clone().unwrap_or_else(|| title.to_owned());
        let mut lead_in: Option<String> = None;
        let mut iter = blocks.into_iter().peekable();
        while let Some(block) = iter.next() {
            let next_is_list = iter
                .peek()
                .is_some_and(|b| matches!(b.kind, Kind::List { .. }));
            let next_is_code = iter
                .peek()
                .is_some_and(|b| matches!(b.kind, Kind::Code { .. }));
            match block.kind {
                Kind::Paragraph(text) => {
                    read_objectives(&mut s, &text);
                    if (next_is_list || next_is_code) && text.ends_with(':') {
                        lead_in = Some(text.clone());
                    }
                    if !(next_is_code && text.ends_with(':') && text.len() <= 120) {
                        s.description.push(text);
                    }
                    continue;
                }
                Kind::List { ordered, items } => {
                    let lead = lead_in.take().unwrap_or_default().to_lowercase();
                    if !ordered
                        && LABELS.iter().any(|l| lead.contains(l))
                        && !items.iter().any(|i| has_code(&i.blocks))
                    {
                        let text = render(&[Block {
                            line: block.line,
                            kind: Kind::List { ordered, items },
                        }]);
                        for line in text.lines() {
                            read_objectives(&mut s, line);
                        }
                        s.description.push(text);
                        continue;
                    }
                    let parallel = PARALLEL.iter().any(|p| lead.contains(p));
                    for item in items {
                        let group = parallel.then_some((block.line, item.line));
                        s.tasks.extend(item_tasks(&item, &heading, group));
                    }
                }
                Kind::Code { lang, text } => {
                    let title = lead_in
                        .take()
                        .map(|t| t.trim_end_matches(':').trim().to_owned());
                    let title = title.or_else(|| group_title.clone());
                    s.tasks
                        .push(code_task(block.line, title, &heading, &lang, text, None));
                }
                Kind::Table(rows) => {
                    let text = render(&[Block {
                        line: block.line,
                        kind: Kind::Table(rows.clone()),
                    }]);
                    if facts::objectives_table(&rows).is_empty() {
                        s.tasks.push(kept(block.line, &heading, "table", text));
                    } else {
                        s.description.push(text);
                    }
                }
                Kind::Quote(inner) => s.description.push(render(&inner)),
                Kind::Heading { level, text } => {
                    s.description.push(format!("{} {text}", "#".repeat(level)));
                }
                Kind::Html(text) => s.tasks.push(kept(block.line, &heading, "HTML", text)),
                Kind::FrontMatter(text) => {
                    s.tasks
                        .push(kept(block.line, &heading, "front matter", text));
                }
            }
            lead_in = None;
        }
        if let Some(t) = &group_title {
            s.description.retain(|d| d != t);
        }
    }
    let mut words = s.title.clone();
    for d in &s.description {
        words.push('\n');
        words.push_str(d);
    }
    s.severity = facts::severity(&s.title).or_else(|| facts::severity(&words));
    s
}

fn read_objectives(s: &mut Scenario, text: &str) {
    for line in text.lines() {
        for (objective, duration) in facts::objectives_in_line(line) {
            let slot = match objective {
                facts::Objective::Rto => &mut s.rto,
                facts::Objective::Rpo => &mut s.rpo,
            };
            slot.get_or_insert(duration);
        }
    }
}

fn kept(line: usize, heading: &str, what: &str, text: String) -> Task {
    Task {
        line,
        title: None,
        heading: heading.to_owned(),
        body: Body::Kept(Kept {
            line,
            what: what.to_owned(),
            text,
        }),
        parallel: None,
    }
}

fn code_task(
    line: usize,
    title: Option<String>,
    heading: &str,
    lang: &str,
    text: String,
    parallel: Option<(usize, usize)>,
) -> Task {
    let body = match classify(lang, &text) {
        CodeKind::Shell => Body::Shell(text),
        CodeKind::Sql => Body::Sql(text),
        CodeKind::Other => {
            let what = if lang.is_empty() {
                "code block (not shell)".to_owned()
            } else {
                format!("{lang} code block")
            };
            Body::Kept(Kept {
                line,
                what,
                text: format!("```{lang}\n{text}```"),
            })
        }
    };
    Task {
        line,
        title,
        heading: heading.to_owned(),
        body,
        parallel,
    }
}

/// One list item: its code blocks as tasks (its other words kept as a
/// comment before them), or, without code, one manual instruction.
fn item_tasks(item: &Item, heading: &str, parallel: Option<(usize, usize)>) -> Vec<Task> {
    let (title, rest) = match item.blocks.split_first() {
        Some((
            Block {
                kind: Kind::Paragraph(text),
                ..
            },
            rest,
        )) => {
            let (first, more) = text.split_once('\n').unwrap_or((text, ""));
            let mut rest_text = more.trim().to_owned();
            let others = render_without_code(rest);
            if !others.is_empty() {
                if !rest_text.is_empty() {
                    rest_text.push_str("\n\n");
                }
                rest_text.push_str(&others);
            }
            (
                Some(first.trim().trim_end_matches(':').trim().to_owned()),
                rest_text,
            )
        }
        _ => (None, render_without_code(&item.blocks)),
    };
    let code = codes(&item.blocks);
    if code.is_empty() {
        let text = match (&title, rest.is_empty()) {
            (Some(t), true) => t.clone(),
            (Some(t), false) => format!("{t}\n\n{rest}"),
            (None, _) => rest,
        };
        return vec![Task {
            line: item.line,
            title: title.clone(),
            heading: heading.to_owned(),
            body: Body::Manual(text),
            parallel,
        }];
    }
    let mut tasks = Vec::new();
    if !rest.is_empty() {
        tasks.push(Task {
            parallel,
            ..kept(item.line, heading, "instructions beside code", rest)
        });
    }
    let count = code.len();
    for (i, block) in code.into_iter().enumerate() {
        let Kind::Code { lang, text } = &block.kind else {
            continue;
        };
        let title = title.as_ref().map(|t| {
            if count > 1 {
                format!("{t} ({}/{count})", i + 1)
            } else {
                t.clone()
            }
        });
        tasks.push(code_task(
            block.line,
            title,
            heading,
            lang,
            text.clone(),
            parallel,
        ));
    }
    tasks
}

fn render_without_code(blocks: &[Block]) -> String {
    let mut out = Vec::new();
    for block in blocks {
        match &block.kind {
            Kind::Code { .. } => {}
            Kind::List { ordered, items } => {
                let items: Vec<Item> = items
                    .iter()
                    .map(|i| Item {
                        line: i.line,
                        blocks: i
                            .blocks
                            .iter()
                            .filter(|b| !matches!(b.kind, Kind::Code { .. }))
                            .cloned()
                            .collect(),
                    })
                    .filter(|i| !i.blocks.is_empty())
                    .collect();
                if !items.is_empty() {
                    out.push(render(&[Block {
                        line: block.line,
                        kind: Kind::List {
                            ordered: *ordered,
                            items,
                        },
                    }]));
                }
            }
            _ => out.push(render(std::slice::from_ref(block))),
        }
    }
    out.retain(|s| !s.is_empty());
    out.join("\n\n")
}

/// Blocks as plain text, close to the Markdown they came from.
pub fn render(blocks: &[Block]) -> String {
    let mut parts = Vec::new();
    for block in blocks {
        let text = match &block.kind {
            Kind::Heading { level, text } => format!("{} {text}", "#".repeat(*level)),
            Kind::Paragraph(text) | Kind::Html(text) => text.trim_end().to_owned(),
            Kind::FrontMatter(text) => format!("---\n{text}---"),
            Kind::Code { lang, text } => format!("```{lang}\n{text}```"),
            Kind::Table(rows) => rows
                .iter()
                .map(|r| format!("| {} |", r.join(" | ")))
                .collect::<Vec<_>>()
                .join("\n"),
            Kind::Quote(inner) => render(inner)
                .lines()
                .map(|l| {
                    if l.is_empty() {
                        ">".to_owned()
                    } else {
                        format!("> {l}")
                    }
                })
                .collect::<Vec<_>>()
                .join("\n"),
            Kind::List { ordered, items } => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let marker = if *ordered {
                        format!("{}. ", i + 1)
                    } else {
                        "- ".to_owned()
                    };
                    let pad = " ".repeat(marker.len());
                    let body = render(&item.blocks);
                    let mut lines = body.lines();
                    let mut out = format!("{marker}{}", lines.next().unwrap_or(""));
                    for line in lines {
                        out.push('\n');
                        if !line.is_empty() {
                            out.push_str(&pad);
                            out.push_str(line);
                        }
                    }
                    out
                })
                .collect::<Vec<_>>()
                .join("\n"),
        };
        parts.push(text);
    }
    parts.retain(|p| !p.is_empty());
    parts.join("\n\n")
}
