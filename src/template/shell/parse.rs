//! A bash parser for the placeholder check: it turns a script into a syntax
//! tree (lists, pipelines, simple and compound commands, function bodies,
//! words, redirections, heredocs, here-strings, process and command
//! substitutions, assignments with compound arrays) and records every
//! `{{ }}` placeholder with the lexical context it stands in.
//!
//! It knows bash's grammar and nothing of drctl's rules: what may receive a
//! value is decided by [`super::policy`] from this tree. It is written for
//! scripts that contain placeholders (scripts without any are never parsed)
//! and is linear in the script's length; nesting is bounded so that a
//! hostile script cannot exhaust the stack.

use super::ShellTemplateError;

/// How deep `$( )`, `( )`, `{ }` and friends may nest.
const MAX_DEPTH: usize = 200;

/// The lexical context of a placeholder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quote {
    /// Unquoted shell text.
    Bare,
    /// Inside `"..."`.
    Double,
    /// Inside `'...'`.
    Single,
    /// The body of an unquoted heredoc (`<<EOF`).
    Heredoc,
    /// The body of a quoted heredoc (`<<'EOF'`): never expanded.
    QuotedHeredoc { open: usize },
    /// Inside `$'...'`.
    AnsiC { open: usize },
    /// Inside backticks.
    Backtick { open: usize },
    /// Inside `$(( ))`, `(( ))`, `$[ ]` or `for (( ))`.
    Arith { open: usize },
    /// Inside `${ }`.
    Param { open: usize },
}

/// One `{{ expr }}` as it stands in the script.
#[derive(Debug, Clone)]
pub struct Site {
    /// Byte offset of `{{`.
    pub offset: usize,
    /// Byte offset after `}}`.
    pub end: usize,
    pub expr: String,
    pub quote: Quote,
}

#[derive(Debug, Default, Clone)]
pub struct Script {
    pub pipelines: Vec<Pipeline>,
}

#[derive(Debug, Default, Clone)]
pub struct Pipeline {
    pub commands: Vec<Command>,
}

#[derive(Debug, Clone)]
pub enum Command {
    Simple(Simple),
    Compound {
        body: Compound,
        redirects: Vec<Redirect>,
    },
    Function {
        name: Word,
        body: Box<Command>,
    },
}

#[derive(Debug, Clone)]
pub enum Compound {
    /// `{ }`, `( )`, `if`, `while`, `until`: lists run with the command's stdin.
    Lists(Vec<Script>),
    /// `for NAME in WORDS; do ...; done` (also `select`).
    For {
        name: Word,
        words: Vec<Word>,
        body: Script,
    },
    /// `case WORD in PATTERN) LIST ;; esac`.
    Case {
        word: Word,
        arms: Vec<(Vec<Word>, Script)>,
    },
    /// `(( ))` and `for (( ))`: their placeholders are recorded as [`Quote::Arith`].
    Arith,
    /// `[[ ]]`: its operands and operators as words.
    Cond(Vec<Word>),
}

#[derive(Debug, Default, Clone)]
pub struct Simple {
    pub assignments: Vec<Assignment>,
    /// The command name and its arguments.
    pub words: Vec<Word>,
    pub redirects: Vec<Redirect>,
}

#[derive(Debug, Clone)]
pub struct Assignment {
    /// `name=`, `name+=` or `name[sub]=`, as a word (the subscript holds its parts).
    pub word: Word,
    pub name: String,
    /// `name=(...)`: the elements (each may be `[sub]=value`).
    pub array: Option<Vec<Word>>,
    /// An argument of `declare`, `local` ... rather than a prefix of the command.
    pub arg: bool,
}

#[derive(Debug, Clone)]
pub struct Redirect {
    /// The file descriptor written before the operator, if any.
    pub fd: Option<u32>,
    pub op: RedirOp,
    pub target: Target,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirOp {
    /// `<`, `<>`, `<&`, `<<`, `<<<`.
    Input,
    /// `>`, `>>`, `>|`, `&>`, `&>>`, `>&`.
    Output,
}

#[derive(Debug, Clone)]
pub enum Target {
    Word(Word),
    HereString(Word),
    /// Index into [`Parsed::heredocs`].
    Heredoc(usize),
}

#[derive(Debug, Default)]
pub struct Heredoc {
    pub quoted: bool,
    /// The placeholders in its body and its expansions, as parts.
    pub body: Vec<Part>,
    pub open: usize,
}

#[derive(Debug, Default, Clone)]
pub struct Word {
    pub parts: Vec<Part>,
    pub start: usize,
}

#[derive(Debug, Clone)]
pub enum Part {
    /// Text as written; `quoted` for '...', "...", $'...' and backslash escapes.
    Lit { text: String, quoted: bool },
    /// A placeholder: an index into [`Parsed::sites`].
    Template(usize),
    /// `$name`, `${...}`, `$1`, `$@` ... (`name` when it is a plain name or a
    /// positional parameter: `1`, `@`, `*`).
    Param { name: Option<String> },
    /// `$( )` or backticks (`None`: not parsed).
    CommandSubst(Option<Box<Script>>),
    /// `<( )` (`input`) or `>( )`.
    ProcSubst { input: bool, script: Box<Script> },
    /// `$(( ))` or `$[ ]`.
    Arith,
    /// `$'...'`: its decoded text is not computed.
    AnsiC,
}

impl Word {
    /// The word's text when it has no expansion and no placeholder.
    pub fn literal(&self) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Lit { text, .. } => out.push_str(text),
                _ => return None,
            }
        }
        Some(out)
    }

    fn push_lit(&mut self, s: &str, quoted: bool) {
        if let Some(Part::Lit { text, quoted: q }) = self.parts.last_mut()
            && *q == quoted
        {
            text.push_str(s);
            return;
        }
        self.parts.push(Part::Lit {
            text: s.to_owned(),
            quoted,
        });
    }

    /// `name=`, `name+=` or `name[...]=` at the start, unquoted: the name.
    pub fn assignment_name(&self) -> Option<String> {
        let Some(Part::Lit {
            text,
            quoted: false,
        }) = self.parts.first()
        else {
            return None;
        };
        let end = text
            .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
            .unwrap_or(text.len());
        let name = &text[..end];
        if !is_name(name) {
            return None;
        }
        let rest = &text[end..];
        let assigns = rest.starts_with('=')
            || rest.starts_with("+=")
            || (rest.starts_with('[')
                && self.parts.iter().any(|p| {
                    matches!(p, Part::Lit { text, quoted: false } if text.contains("]=") || text.contains("]+="))
                }));
        assigns.then(|| name.to_owned())
    }

    /// Indices of the parts inside the subscript of `name[...]=` or, for an
    /// array `element`, of `[...]=`.
    pub fn subscript(&self, element: bool) -> Vec<usize> {
        let mut depth = 0usize;
        let mut started = false;
        let mut inside = Vec::new();
        for (k, part) in self.parts.iter().enumerate() {
            match part {
                Part::Lit {
                    text,
                    quoted: false,
                } => {
                    for c in text.bytes() {
                        if depth == 0 {
                            if started {
                                return inside;
                            }
                            if c == b'[' {
                                depth = 1;
                                started = true;
                            } else if element || c == b'=' || c == b'+' {
                                return inside;
                            }
                            continue;
                        }
                        match c {
                            b'[' => depth += 1,
                            b']' => depth -= 1,
                            _ => {}
                        }
                    }
                    if depth > 0 {
                        inside.push(k);
                    }
                }
                _ if depth > 0 => inside.push(k),
                _ => return inside,
            }
        }
        inside
    }
}

pub fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// A parsed script with its placeholders.
#[derive(Debug, Default)]
pub struct Parsed {
    pub script: Script,
    pub sites: Vec<Site>,
    pub heredocs: Vec<Heredoc>,
    /// Variables whose *value* bash evaluates where they are used: names in
    /// arithmetic (`$(( x ))`, subscripts, `${x:off}`), indirect and prompt
    /// expansions (`${!x}`, `${x@P}`). The policy refuses these for a
    /// variable that holds a value.
    pub evals: Vec<Eval>,
}

/// A variable used where bash evaluates its value as code, a name or arithmetic.
#[derive(Debug, Clone)]
pub struct Eval {
    pub name: String,
    /// Byte offset of the expansion.
    pub offset: usize,
    /// The construct, for messages (`$(( ))`, `${!x}` ...).
    pub what: &'static str,
}

/// Names an arithmetic expression refers to, bare (`x`) or expanded (`$x`):
/// bash evaluates a bare name's value as arithmetic again, recursively.
pub fn arith_names(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'_' || b[i].is_ascii_alphabetic() {
            let start = i;
            while i < b.len() && (b[i] == b'_' || b[i].is_ascii_alphanumeric()) {
                i += 1;
            }
            // `0x1f`, `2#101`: digits of a number, not a name.
            let number = start > 0 && (b[start - 1].is_ascii_digit() || b[start - 1] == b'#');
            if !number {
                out.push(text[start..i].to_owned());
            }
        } else if b[i].is_ascii_digit() && i > 0 && b[i - 1] == b'$' {
            out.push(text[i..=i].to_owned());
            i += 1;
        } else {
            if b[i] == b'$' && matches!(b.get(i + 1), Some(b'@' | b'*')) {
                out.push(text[i + 1..i + 2].to_owned());
            }
            i += 1;
        }
    }
    out
}

/// The shape of a `${...}` body: the variables whose values it yields as
/// data, and the variables whose values it evaluates.
fn param_form(body: &str) -> (Vec<String>, Vec<(String, &'static str)>) {
    let mut evals = Vec::new();
    let (indirect, length, rest) = match body.as_bytes() {
        [b'!', _, ..] => (true, false, &body[1..]),
        [b'#', c, ..] if *c != b'}' && !b":-+=?%/".contains(c) => (false, true, &body[1..]),
        _ => (false, false, body),
    };
    let rb = rest.as_bytes();
    let mut n = rb
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
        .count();
    if n == 0 && matches!(rb.first(), Some(b'@' | b'*')) {
        n = 1;
    }
    let base = &rest[..n];
    let mut after = &rest[n..];
    if after.starts_with('[')
        && let Some(close) = after.find(']')
    {
        let sub = &after[1..close];
        if sub != "@" && sub != "*" {
            for name in arith_names(sub) {
                evals.push((name, "an array subscript"));
            }
        }
        after = &after[close + 1..];
    }
    if indirect {
        evals.push((base.to_owned(), "an indirect expansion ${!x}"));
    }
    if let Some(op) = after.strip_prefix('@')
        && !matches!(op, "Q" | "U" | "u" | "L")
    {
        evals.push((
            base.to_owned(),
            "a ${x@...} transformation (@P runs command substitutions)",
        ));
    }
    if let Some(off) = after.strip_prefix(':')
        && !off.starts_with(['-', '=', '+', '?'])
    {
        for name in arith_names(off) {
            evals.push((name, "the offset or length of ${x:offset:length}"));
        }
    }
    // Names in the default or replacement word carry their values too.
    let mut carried: Vec<String> = Vec::new();
    if !base.is_empty() && !indirect && !length {
        carried.push(base.to_owned());
    }
    let ab = after.as_bytes();
    for (i, _) in after.match_indices('$') {
        let from = &after[i + 1..];
        let from = from.strip_prefix('{').unwrap_or(from);
        let k = from
            .bytes()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
            .count();
        if k > 0 {
            carried.push(from[..k].to_owned());
        } else if matches!(ab.get(i + 1), Some(b'@' | b'*')) {
            carried.push(after[i + 1..i + 2].to_owned());
        }
    }
    (carried, evals)
}

pub fn parse(src: &str) -> Result<Parsed, ShellTemplateError> {
    let mut p = Parser {
        src,
        b: src.as_bytes(),
        pos: 0,
        depth: 0,
        out: Parsed::default(),
        pending: Vec::new(),
    };
    let script = p.list(&[])?;
    p.skip_space()?;
    if p.pos < p.b.len() {
        return Err(p.unexpected());
    }
    p.out.script = script;
    Ok(p.out)
}

struct Parser<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    depth: usize,
    out: Parsed,
    /// Heredocs whose bodies start after the next newline: (id, delimiter, strip tabs).
    pending: Vec<(usize, String, bool)>,
}

fn err(offset: usize, message: impl Into<String>, hint: impl Into<String>) -> ShellTemplateError {
    ShellTemplateError {
        offset,
        message: message.into(),
        hint: hint.into(),
    }
}

impl Parser<'_> {
    fn peek(&self, k: usize) -> Option<u8> {
        self.b.get(self.pos + k).copied()
    }

    fn starts(&self, s: &str) -> bool {
        self.b[self.pos..].starts_with(s.as_bytes())
    }

    fn unexpected(&self) -> ShellTemplateError {
        let what: String = self.src[self.pos..].chars().take(12).collect();
        let what = what.lines().next().unwrap_or("").to_owned();
        err(
            self.pos,
            if self.pos >= self.b.len() {
                "the script ends too early: the check for safe templates needs a script bash can parse".to_owned()
            } else {
                format!(
                    "syntax error near `{what}`: the check for safe templates needs a script bash can parse"
                )
            },
            "fix the shell syntax (try `bash -n` on the script)",
        )
    }

    fn enter(&mut self) -> Result<(), ShellTemplateError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err(
                self.pos,
                format!("the script nests more than {MAX_DEPTH} levels deep"),
                "split the script into simpler steps",
            ));
        }
        Ok(())
    }

    /// Blanks, line continuations and comments (not newlines). A placeholder
    /// in a comment has no effect and is left as it is.
    fn skip_space(&mut self) -> Result<(), ShellTemplateError> {
        loop {
            match self.peek(0) {
                Some(b' ' | b'\t' | b'\r') => self.pos += 1,
                Some(b'\\') if self.peek(1) == Some(b'\n') => self.pos += 2,
                Some(b'#') => {
                    let start = self.pos;
                    while self.pos < self.b.len() && self.b[self.pos] != b'\n' {
                        self.pos += 1;
                    }
                    self.block_or_comment_in(start, self.pos)?;
                }
                _ => return Ok(()),
            }
        }
    }

    /// A newline: heredoc bodies opened on the line start after it.
    fn newline(&mut self) -> Result<(), ShellTemplateError> {
        self.pos += 1;
        let pending = std::mem::take(&mut self.pending);
        for (id, delim, strip_tabs) in pending {
            self.heredoc_body(id, &delim, strip_tabs)?;
        }
        Ok(())
    }

    fn skip_newlines(&mut self) -> Result<(), ShellTemplateError> {
        loop {
            self.skip_space()?;
            if self.peek(0) == Some(b'\n') {
                self.newline()?;
            } else {
                return Ok(());
            }
        }
    }

    /// The unquoted literal word at the current position, without consuming it.
    fn peek_keyword(&self) -> Option<&str> {
        let rest = &self.src[self.pos..];
        let end = rest
            .find(|c: char| {
                matches!(
                    c,
                    ' ' | '\t' | '\r' | '\n' | ';' | '&' | '|' | '<' | '>' | '(' | ')'
                )
            })
            .unwrap_or(rest.len());
        let word = &rest[..end];
        (!word.is_empty() && !word.contains(['\'', '"', '\\', '$', '`']) && !word.contains("{{"))
            .then_some(word)
    }

    fn eat_keyword(&mut self, kw: &str) -> bool {
        if self.peek_keyword() == Some(kw) {
            self.pos += kw.len();
            true
        } else {
            false
        }
    }

    fn expect_keyword(&mut self, kw: &str) -> Result<(), ShellTemplateError> {
        self.skip_newlines()?;
        if self.eat_keyword(kw) {
            Ok(())
        } else {
            Err(err(
                self.pos,
                format!(
                    "syntax error: `{kw}` expected: the check for safe templates needs a script bash can parse"
                ),
                "fix the shell syntax (try `bash -n` on the script)",
            ))
        }
    }

    /// A list of pipelines, up to one of `ends` (keywords), `)` when `paren`,
    /// `;;`, or the end of the script.
    fn list(&mut self, ends: &[&str]) -> Result<Script, ShellTemplateError> {
        self.enter()?;
        let mut script = Script::default();
        loop {
            self.skip_newlines()?;
            let Some(c) = self.peek(0) else { break };
            if c == b')' || self.starts(";;") || self.starts(";&") {
                break;
            }
            if self.peek_keyword().is_some_and(|kw| ends.contains(&kw)) {
                break;
            }
            let pipeline = self.pipeline()?;
            script.pipelines.push(pipeline);
            self.skip_space()?;
            match self.peek(0) {
                Some(b';') if !self.starts(";;") && !self.starts(";&") => self.pos += 1,
                Some(b'&') if self.peek(1) == Some(b'&') => self.pos += 2,
                Some(b'|') if self.peek(1) == Some(b'|') => self.pos += 2,
                Some(b'&') if self.peek(1) != Some(b'>') => self.pos += 1,
                Some(b'\n') => self.newline()?,
                _ => {}
            }
        }
        self.depth -= 1;
        Ok(script)
    }

    fn pipeline(&mut self) -> Result<Pipeline, ShellTemplateError> {
        let mut pipeline = Pipeline::default();
        self.skip_space()?;
        loop {
            if self.eat_keyword("!") || self.eat_keyword("time") {
                self.skip_space()?;
                if self.peek_keyword() == Some("-p") {
                    self.pos += 2;
                }
                self.skip_space()?;
                continue;
            }
            break;
        }
        loop {
            let start = self.pos;
            let command = self.command()?;
            if self.pos == start {
                return Err(self.unexpected());
            }
            pipeline.commands.push(command);
            self.skip_space()?;
            if self.peek(0) == Some(b'|') && self.peek(1) != Some(b'|') {
                self.pos += if self.peek(1) == Some(b'&') { 2 } else { 1 };
                self.skip_newlines()?;
                continue;
            }
            return Ok(pipeline);
        }
    }

    fn command(&mut self) -> Result<Command, ShellTemplateError> {
        self.skip_space()?;
        let body = if self.starts("((") {
            let open = self.pos;
            self.pos += 2;
            self.arith_until(open, b'(', b')', 2)?;
            Some(Compound::Arith)
        } else if self.peek(0) == Some(b'(') {
            let open = self.pos;
            self.pos += 1;
            let script = self.list(&[])?;
            self.close_paren(open, "subshell (")?;
            Some(Compound::Lists(vec![script]))
        } else if let Some(kw) = self.peek_keyword().map(str::to_owned) {
            self.compound(&kw)?
        } else {
            None
        };
        if let Some(body) = body {
            let redirects = self.redirects_after()?;
            return Ok(Command::Compound { body, redirects });
        }
        if self.eat_keyword("function") {
            self.skip_space()?;
            let name = self.word()?.unwrap_or_default();
            self.skip_space()?;
            if self.starts("()") {
                self.pos += 2;
            }
            self.skip_newlines()?;
            let body = self.command()?;
            return Ok(Command::Function {
                name,
                body: Box::new(body),
            });
        }
        self.simple()
    }

    fn close_paren(&mut self, open: usize, what: &str) -> Result<(), ShellTemplateError> {
        self.skip_newlines()?;
        match self.peek(0) {
            Some(b')') => {
                self.pos += 1;
                Ok(())
            }
            None => Err(unterminated(open, what, ")")),
            Some(_) => Err(self.unexpected()),
        }
    }

    fn compound(&mut self, kw: &str) -> Result<Option<Compound>, ShellTemplateError> {
        let compound = match kw {
            "{" => {
                self.pos += 1;
                let body = self.list(&["}"])?;
                self.expect_keyword("}")?;
                Compound::Lists(vec![body])
            }
            "if" => {
                self.pos += 2;
                let mut lists = vec![self.list(&["then"])?];
                self.expect_keyword("then")?;
                lists.push(self.list(&["elif", "else", "fi"])?);
                loop {
                    self.skip_newlines()?;
                    if self.eat_keyword("elif") {
                        lists.push(self.list(&["then"])?);
                        self.expect_keyword("then")?;
                        lists.push(self.list(&["elif", "else", "fi"])?);
                    } else if self.eat_keyword("else") {
                        lists.push(self.list(&["fi"])?);
                    } else {
                        self.expect_keyword("fi")?;
                        break;
                    }
                }
                Compound::Lists(lists)
            }
            "while" | "until" => {
                self.pos += kw.len();
                let condition = self.list(&["do"])?;
                self.expect_keyword("do")?;
                let body = self.list(&["done"])?;
                self.expect_keyword("done")?;
                Compound::Lists(vec![condition, body])
            }
            "for" | "select" => {
                self.pos += kw.len();
                self.skip_space()?;
                if self.starts("((") {
                    let open = self.pos;
                    self.pos += 2;
                    self.arith_until(open, b'(', b')', 2)?;
                    self.skip_space()?;
                    if self.peek(0) == Some(b';') {
                        self.pos += 1;
                    }
                    let body = self.loop_body()?;
                    return Ok(Some(Compound::Lists(vec![body])));
                }
                let name = self.word()?.unwrap_or_default();
                let mut words = Vec::new();
                self.skip_newlines()?;
                if self.eat_keyword("in") {
                    loop {
                        self.skip_space()?;
                        match self.peek(0) {
                            Some(b';') => {
                                self.pos += 1;
                                break;
                            }
                            Some(b'\n') => {
                                self.newline()?;
                                break;
                            }
                            None => break,
                            _ => match self.word()? {
                                Some(w) => words.push(w),
                                None => return Err(self.unexpected()),
                            },
                        }
                    }
                } else if self.peek(0) == Some(b';') {
                    self.pos += 1;
                }
                let body = self.loop_body()?;
                Compound::For { name, words, body }
            }
            "case" => {
                self.pos += 4;
                self.skip_space()?;
                let word = self.word()?.unwrap_or_default();
                self.expect_keyword("in")?;
                let mut arms = Vec::new();
                loop {
                    self.skip_newlines()?;
                    if self.eat_keyword("esac") {
                        break;
                    }
                    if self.peek(0) == Some(b'(') {
                        self.pos += 1;
                    }
                    let mut patterns = Vec::new();
                    loop {
                        self.skip_space()?;
                        match self.word()? {
                            Some(w) => patterns.push(w),
                            None => return Err(self.unexpected()),
                        }
                        self.skip_space()?;
                        match self.peek(0) {
                            Some(b'|') => self.pos += 1,
                            Some(b')') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return Err(self.unexpected()),
                        }
                    }
                    let body = self.list(&["esac"])?;
                    arms.push((patterns, body));
                    self.skip_newlines()?;
                    for end in [";;&", ";;", ";&"] {
                        if self.starts(end) {
                            self.pos += end.len();
                            break;
                        }
                    }
                }
                Compound::Case { word, arms }
            }
            "[[" => {
                self.pos += 2;
                let mut words = Vec::new();
                loop {
                    self.skip_newlines()?;
                    if self.eat_keyword("]]") {
                        break;
                    }
                    match self.peek(0) {
                        None => return Err(self.unexpected()),
                        Some(c @ (b'(' | b')' | b'!' | b'<' | b'>' | b'&' | b'|')) => {
                            let len = if matches!(c, b'&' | b'|') && self.peek(1) == Some(c) {
                                2
                            } else {
                                1
                            };
                            words.push(Word {
                                parts: vec![Part::Lit {
                                    text: self.src[self.pos..self.pos + len].to_owned(),
                                    quoted: false,
                                }],
                                start: self.pos,
                            });
                            self.pos += len;
                        }
                        _ => match self.word()? {
                            Some(w) => words.push(w),
                            None => return Err(self.unexpected()),
                        },
                    }
                }
                Compound::Cond(words)
            }
            _ => return Ok(None),
        };
        Ok(Some(compound))
    }

    fn loop_body(&mut self) -> Result<Script, ShellTemplateError> {
        self.skip_newlines()?;
        if self.eat_keyword("{") {
            let body = self.list(&["}"])?;
            self.expect_keyword("}")?;
            return Ok(body);
        }
        self.expect_keyword("do")?;
        let body = self.list(&["done"])?;
        self.expect_keyword("done")?;
        Ok(body)
    }

    fn redirects_after(&mut self) -> Result<Vec<Redirect>, ShellTemplateError> {
        let mut redirects = Vec::new();
        loop {
            self.skip_space()?;
            match self.redirect()? {
                Some(r) => redirects.push(r),
                None => return Ok(redirects),
            }
        }
    }

    fn simple(&mut self) -> Result<Command, ShellTemplateError> {
        let mut simple = Simple::default();
        loop {
            self.skip_space()?;
            if let Some(r) = self.redirect()? {
                simple.redirects.push(r);
                continue;
            }
            match self.peek(0) {
                None | Some(b'\n' | b';' | b'&' | b'|' | b')') => break,
                Some(b'(') if simple.words.len() == 1 && simple.assignments.is_empty() => {
                    // `name() compound`: a function definition.
                    self.pos += 1;
                    self.skip_space()?;
                    if self.peek(0) != Some(b')') {
                        return Err(self.unexpected());
                    }
                    self.pos += 1;
                    self.skip_newlines()?;
                    let body = self.command()?;
                    return Ok(Command::Function {
                        name: simple.words.remove(0),
                        body: Box::new(body),
                    });
                }
                Some(b'(') => return Err(self.unexpected()),
                _ => {}
            }
            let Some(word) = self.word()? else {
                return Err(self.unexpected());
            };
            if simple.words.is_empty()
                && let Some(name) = word.assignment_name()
            {
                let array = self.array_after(&word)?;
                simple.assignments.push(Assignment {
                    word,
                    name,
                    array,
                    arg: false,
                });
                continue;
            }
            if !simple.words.is_empty()
                && word.assignment_name().is_some()
                && let Some(elements) = self.array_after(&word)?
            {
                // `declare -a arr=(...)`: keep the elements as words of the command.
                let name = word.assignment_name().unwrap_or_default();
                simple.assignments.push(Assignment {
                    word: word.clone(),
                    name,
                    array: Some(elements),
                    arg: true,
                });
                simple.words.push(word);
                continue;
            }
            simple.words.push(word);
        }
        Ok(Command::Simple(simple))
    }

    /// `name=(` just read: the elements up to `)`.
    fn array_after(&mut self, word: &Word) -> Result<Option<Vec<Word>>, ShellTemplateError> {
        let ends_with_eq = matches!(
            word.parts.last(),
            Some(Part::Lit { text, quoted: false }) if text.ends_with('=')
        );
        if !ends_with_eq || self.peek(0) != Some(b'(') {
            return Ok(None);
        }
        self.pos += 1;
        let mut elements = Vec::new();
        loop {
            self.skip_newlines()?;
            match self.peek(0) {
                Some(b')') => {
                    self.pos += 1;
                    return Ok(Some(elements));
                }
                None => return Err(self.unexpected()),
                _ => match self.word()? {
                    Some(w) => elements.push(w),
                    None => return Err(self.unexpected()),
                },
            }
        }
    }

    /// A redirection at the current position, with its optional fd number.
    fn redirect(&mut self) -> Result<Option<Redirect>, ShellTemplateError> {
        let start = self.pos;
        let digits = self.b[self.pos..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        let mut fd = None;
        let mut at = self.pos + digits;
        if digits > 0 {
            fd = self.src[self.pos..at].parse().ok();
        } else if self.peek(0) == Some(b'{') && self.peek(1) != Some(b'{') {
            // `{var}>file`
            if let Some(close) = self.src[self.pos..].find('}') {
                let name = &self.src[self.pos + 1..self.pos + close];
                if is_name(name) && matches!(self.b.get(self.pos + close + 1), Some(b'<' | b'>')) {
                    at = self.pos + close + 1;
                }
            }
        }
        let rest = &self.b[at..];
        let c = rest.first().copied();
        let is_redirect = match c {
            Some(b'<' | b'>') => rest.get(1) != Some(&b'('),
            Some(b'&') => digits == 0 && rest.get(1) == Some(&b'>'),
            _ => false,
        };
        if !is_redirect {
            self.pos = start;
            return Ok(None);
        }
        self.pos = at;
        let ops: [(&str, RedirOp); 12] = [
            ("<<<", RedirOp::Input),
            ("<<-", RedirOp::Input),
            ("<<", RedirOp::Input),
            ("&>>", RedirOp::Output),
            ("&>", RedirOp::Output),
            (">>", RedirOp::Output),
            (">|", RedirOp::Output),
            (">&", RedirOp::Output),
            ("<>", RedirOp::Input),
            ("<&", RedirOp::Input),
            (">", RedirOp::Output),
            ("<", RedirOp::Input),
        ];
        let (text, op) = ops
            .iter()
            .find(|(t, _)| self.starts(t))
            .copied()
            .unwrap_or((">", RedirOp::Output));
        let open = self.pos;
        self.pos += text.len();
        self.skip_space()?;
        if text == "<<" || text == "<<-" {
            let id = self.heredoc_start(open, text == "<<-")?;
            return Ok(Some(Redirect {
                fd,
                op,
                target: Target::Heredoc(id),
            }));
        }
        let Some(word) = self.word()? else {
            return Err(self.unexpected());
        };
        let target = if text == "<<<" {
            Target::HereString(word)
        } else {
            Target::Word(word)
        };
        Ok(Some(Redirect { fd, op, target }))
    }

    fn heredoc_start(
        &mut self,
        open: usize,
        strip_tabs: bool,
    ) -> Result<usize, ShellTemplateError> {
        let mut delim = String::new();
        let mut quoted = false;
        loop {
            match self.peek(0) {
                None
                | Some(b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>') => {
                    break;
                }
                Some(b'{') if matches!(self.peek(1), Some(b'{' | b'%' | b'#')) => {
                    return Err(err(
                        self.pos,
                        "a template cannot be a heredoc delimiter",
                        "write the delimiter literally, e.g. <<EOF",
                    ));
                }
                Some(q @ (b'\'' | b'"')) => {
                    quoted = true;
                    self.pos += 1;
                    loop {
                        match self.peek(0) {
                            None => {
                                return Err(err(
                                    open,
                                    "unterminated quote in heredoc delimiter",
                                    "close the quote",
                                ));
                            }
                            Some(c) if c == q => break,
                            Some(b'\\')
                                if q == b'"'
                                    && matches!(self.peek(1), Some(b'"' | b'\\' | b'$' | b'`')) =>
                            {
                                self.pos += 1;
                                self.push_char(&mut delim);
                            }
                            Some(_) => self.push_char(&mut delim),
                        }
                    }
                    self.pos += 1;
                }
                Some(b'\\') => {
                    quoted = true;
                    self.pos += 1;
                    if self.pos < self.b.len() {
                        self.push_char(&mut delim);
                    }
                }
                Some(_) => self.push_char(&mut delim),
            }
        }
        if delim.is_empty() && !quoted {
            return Err(self.unexpected());
        }
        let id = self.out.heredocs.len();
        self.out.heredocs.push(Heredoc {
            quoted,
            body: Vec::new(),
            open,
        });
        self.pending.push((id, delim, strip_tabs));
        Ok(id)
    }

    fn push_char(&mut self, s: &mut String) {
        let ch = self.src[self.pos..].chars().next().unwrap_or('\0');
        s.push(ch);
        self.pos += ch.len_utf8();
    }

    fn heredoc_body(
        &mut self,
        id: usize,
        delim: &str,
        strip_tabs: bool,
    ) -> Result<(), ShellTemplateError> {
        let quoted = self.out.heredocs[id].quoted;
        let open = self.out.heredocs[id].open;
        let mut body = Vec::new();
        loop {
            if self.pos >= self.b.len() {
                // bash accepts a heredoc ended by the end of the script.
                break;
            }
            let end = self.src[self.pos..]
                .find('\n')
                .map_or(self.b.len(), |n| self.pos + n);
            let line = &self.src[self.pos..end];
            let line = if strip_tabs {
                line.trim_start_matches('\t')
            } else {
                line
            };
            if line == delim {
                self.pos = (end + 1).min(self.b.len());
                break;
            }
            if quoted {
                self.block_or_comment_in(self.pos, end)?;
                let mut i = self.pos;
                while let Some(k) = self.src[i..end].find("{{") {
                    let at = i + k;
                    self.pos = at;
                    let site = self.template(Quote::QuotedHeredoc { open })?;
                    body.push(Part::Template(site));
                    i = self.pos;
                }
                self.pos = (end + 1).min(self.b.len());
                continue;
            }
            // Unquoted: expansions and placeholders, up to the end of the line
            // (an expansion may run over several lines).
            while let Some(c) = self.peek(0) {
                match c {
                    b'\n' => break,
                    b'\\' => {
                        if self.peek(1) == Some(b'{')
                            && matches!(self.peek(2), Some(b'{' | b'%' | b'#'))
                        {
                            return Err(backslash_before(self.pos));
                        }
                        self.pos += if self.peek(1) == Some(b'\n') { 1 } else { 2 };
                        self.pos = self.pos.min(self.b.len());
                    }
                    b'$' => {
                        let mut w = Word::default();
                        self.dollar(&mut w, Quote::Heredoc)?;
                        body.extend(
                            w.parts
                                .into_iter()
                                .filter(|p| !matches!(p, Part::Lit { .. })),
                        );
                    }
                    b'`' => {
                        let mut w = Word::default();
                        self.backtick(&mut w)?;
                        body.extend(w.parts);
                    }
                    b'{' if matches!(self.peek(1), Some(b'{' | b'%' | b'#')) => {
                        let site = self.template(Quote::Heredoc)?;
                        body.push(Part::Template(site));
                    }
                    _ => self.pos += 1,
                }
            }
            if self.pos < self.b.len() {
                self.pos += 1;
            }
        }
        self.out.heredocs[id].body = body;
        Ok(())
    }

    fn block_or_comment_in(&self, from: usize, to: usize) -> Result<(), ShellTemplateError> {
        for (k, w) in self.b[from..to].windows(2).enumerate() {
            if w[0] == b'{' && matches!(w[1], b'%' | b'#') {
                return Err(block_or_comment(from + k, Some(w[1])));
            }
        }
        Ok(())
    }

    /// One shell word, or `None` at a metacharacter.
    fn word(&mut self) -> Result<Option<Word>, ShellTemplateError> {
        let mut w = Word {
            parts: Vec::new(),
            start: self.pos,
        };
        while let Some(c) = self.peek(0) {
            match c {
                b' ' | b'\t' | b'\r' | b'\n' | b';' | b'&' | b'|' | b')' => break,
                b'(' => {
                    // extglob `@(...)` and friends inside a word.
                    let prev = self.pos.checked_sub(1).map(|i| self.b[i]);
                    if !w.parts.is_empty() && matches!(prev, Some(b'@' | b'!' | b'+' | b'*' | b'?'))
                    {
                        let start = self.pos;
                        self.balanced_parens()?;
                        let text = self.src[start..self.pos].to_owned();
                        w.push_lit(&text, false);
                        continue;
                    }
                    break;
                }
                b'<' | b'>' => {
                    if self.peek(1) == Some(b'(') {
                        let input = c == b'<';
                        let open = self.pos;
                        self.pos += 2;
                        self.enter()?;
                        let script = self.list(&[])?;
                        self.depth -= 1;
                        self.close_paren(open, "process substitution")?;
                        w.parts.push(Part::ProcSubst {
                            input,
                            script: Box::new(script),
                        });
                        continue;
                    }
                    break;
                }
                b'{' if matches!(self.peek(1), Some(b'{' | b'%' | b'#')) => {
                    let site = self.template(Quote::Bare)?;
                    w.parts.push(Part::Template(site));
                }
                b'\\' => match self.peek(1) {
                    Some(b'\n') => self.pos += 2,
                    Some(b'{') if matches!(self.peek(2), Some(b'{' | b'%' | b'#')) => {
                        return Err(backslash_before(self.pos));
                    }
                    Some(_) => {
                        self.pos += 1;
                        let mut s = String::new();
                        self.push_char(&mut s);
                        w.push_lit(&s, true);
                    }
                    None => {
                        self.pos += 1;
                        w.push_lit("\\", false);
                    }
                },
                b'\'' => {
                    let open = self.pos;
                    self.pos += 1;
                    let mut text = String::new();
                    loop {
                        match self.peek(0) {
                            None => return Err(unterminated(open, "single quote", "'")),
                            Some(b'\'') => {
                                self.pos += 1;
                                break;
                            }
                            Some(b'{') if matches!(self.peek(1), Some(b'{' | b'%' | b'#')) => {
                                w.push_lit(&std::mem::take(&mut text), true);
                                let site = self.template(Quote::Single)?;
                                w.parts.push(Part::Template(site));
                            }
                            Some(_) => self.push_char(&mut text),
                        }
                    }
                    w.push_lit(&text, true);
                }
                b'"' => self.double(&mut w)?,
                b'$' => self.dollar(&mut w, Quote::Bare)?,
                b'`' => self.backtick(&mut w)?,
                _ => {
                    // A run of ordinary characters at once.
                    let start = self.pos;
                    self.pos += 1;
                    while self.peek(0).is_some_and(|c| {
                        !matches!(
                            c,
                            b' ' | b'\t'
                                | b'\r'
                                | b'\n'
                                | b';'
                                | b'&'
                                | b'|'
                                | b'('
                                | b')'
                                | b'<'
                                | b'>'
                                | b'{'
                                | b'\\'
                                | b'\''
                                | b'"'
                                | b'$'
                                | b'`'
                        )
                    }) {
                        self.pos += 1;
                    }
                    while !self.src.is_char_boundary(self.pos) {
                        self.pos += 1;
                    }
                    w.push_lit(&self.src[start..self.pos], false);
                }
            }
        }
        Ok((self.pos > w.start).then_some(w))
    }

    fn balanced_parens(&mut self) -> Result<(), ShellTemplateError> {
        let open = self.pos;
        let mut depth = 0usize;
        while let Some(c) = self.peek(0) {
            match c {
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        self.pos += 1;
                        return Ok(());
                    }
                }
                b'\\' => self.pos += 1,
                b'{' if self.peek(1) == Some(b'{') => {
                    return Err(err(
                        self.pos,
                        "a template inside a glob pattern like @(...) is not supported",
                        "assign the value to a variable first and match it with [[ $x == ... ]]",
                    ));
                }
                _ => {}
            }
            self.pos += 1;
        }
        Err(unterminated(open, "pattern (", ")"))
    }

    /// `"..."`, at its opening quote.
    fn double(&mut self, w: &mut Word) -> Result<(), ShellTemplateError> {
        let open = self.pos;
        self.pos += 1;
        // An empty "" still makes the word quoted.
        w.push_lit("", true);
        loop {
            match self.peek(0) {
                None => return Err(unterminated(open, "double quote", "\"")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => match self.peek(1) {
                    Some(b'{') if matches!(self.peek(2), Some(b'{' | b'%' | b'#')) => {
                        return Err(backslash_before(self.pos));
                    }
                    Some(b'\n') => self.pos += 2,
                    Some(b'"' | b'\\' | b'$' | b'`') => {
                        self.pos += 1;
                        let mut s = String::new();
                        self.push_char(&mut s);
                        w.push_lit(&s, true);
                    }
                    _ => {
                        self.pos += 1;
                        w.push_lit("\\", true);
                    }
                },
                Some(b'$') => self.dollar(w, Quote::Double)?,
                Some(b'`') => self.backtick(w)?,
                Some(b'{') if matches!(self.peek(1), Some(b'{' | b'%' | b'#')) => {
                    let site = self.template(Quote::Double)?;
                    w.parts.push(Part::Template(site));
                }
                Some(_) => {
                    let start = self.pos;
                    self.pos += 1;
                    while self
                        .peek(0)
                        .is_some_and(|c| !matches!(c, b'"' | b'\\' | b'$' | b'`' | b'{'))
                    {
                        self.pos += 1;
                    }
                    while !self.src.is_char_boundary(self.pos) {
                        self.pos += 1;
                    }
                    w.push_lit(&self.src[start..self.pos], true);
                }
            }
        }
    }

    /// `$...` at the `$`, in `ctx` (bare, double quotes or a heredoc body).
    fn dollar(&mut self, w: &mut Word, ctx: Quote) -> Result<(), ShellTemplateError> {
        let open = self.pos;
        match self.peek(1) {
            Some(b'(') if self.peek(2) == Some(b'(') => {
                self.pos += 3;
                self.arith_until(open, b'(', b')', 2)?;
                w.parts.push(Part::Arith);
            }
            Some(b'(') => {
                self.pos += 2;
                self.enter()?;
                let script = self.list(&[])?;
                self.depth -= 1;
                self.close_paren(open, "command substitution $(")?;
                w.parts.push(Part::CommandSubst(Some(Box::new(script))));
            }
            Some(b'[') => {
                self.pos += 2;
                self.arith_until(open, b'[', b']', 1)?;
                w.parts.push(Part::Arith);
            }
            Some(b'{') => {
                if matches!(self.peek(2), Some(b'{' | b'%')) {
                    return Err(err(
                        open,
                        "a `$` right before a template makes the shell expand the value as a name",
                        "remove the `$`: the template already stands for the value",
                    ));
                }
                self.pos += 2;
                let start = self.pos;
                let mut inner = Word::default();
                self.param_until(
                    open,
                    matches!(ctx, Quote::Double | Quote::Heredoc),
                    &mut inner,
                )?;
                let (carried, evals) =
                    param_form(self.src.get(start..self.pos - 1).unwrap_or_default());
                for (name, what) in evals {
                    self.out.evals.push(Eval {
                        name,
                        offset: open,
                        what,
                    });
                }
                if carried.is_empty() {
                    w.parts.push(Part::Param { name: None });
                }
                for name in carried {
                    w.parts.push(Part::Param { name: Some(name) });
                }
                // `${x:-$(cmd)}`: the commands inside are checked like any other.
                w.parts.extend(
                    inner
                        .parts
                        .into_iter()
                        .filter(|p| matches!(p, Part::CommandSubst(_) | Part::ProcSubst { .. })),
                );
            }
            Some(b'\'') if ctx == Quote::Bare => {
                self.pos += 2;
                self.escaped_until(b'\'', open, "$'...' quote", Quote::AnsiC { open })?;
                w.parts.push(Part::AnsiC);
            }
            Some(b'"') if ctx == Quote::Bare => {
                self.pos += 1;
                self.double(w)?;
            }
            Some(c) if c.is_ascii_digit() || b"$#?!@*-".contains(&c) => {
                self.pos += 2;
                // Positional parameters by their name (`1`, `@`, `*`).
                let name = (c.is_ascii_digit() || c == b'@' || c == b'*')
                    .then(|| char::from(c).to_string());
                w.parts.push(Part::Param { name });
            }
            Some(c) if c == b'_' || c.is_ascii_alphabetic() => {
                self.pos += 1;
                let start = self.pos;
                while self
                    .peek(0)
                    .is_some_and(|c| c == b'_' || c.is_ascii_alphanumeric())
                {
                    self.pos += 1;
                }
                w.parts.push(Part::Param {
                    name: Some(self.src[start..self.pos].to_owned()),
                });
            }
            _ => {
                self.pos += 1;
                w.push_lit("$", ctx != Quote::Bare);
            }
        }
        Ok(())
    }

    /// Skips to the end of `${` opened at `open`, recording placeholders inside.
    fn param_until(
        &mut self,
        open: usize,
        in_double: bool,
        inner: &mut Word,
    ) -> Result<(), ShellTemplateError> {
        let first = self.out.sites.len();
        let result = self.param_body(open, in_double, inner);
        self.retag_from(first, Quote::Param { open });
        result
    }

    fn param_body(
        &mut self,
        open: usize,
        in_double: bool,
        inner: &mut Word,
    ) -> Result<(), ShellTemplateError> {
        let mut depth = 0usize;
        loop {
            match self.peek(0) {
                None => return Err(unterminated(open, "parameter expansion ${", "}")),
                Some(b'}') if depth == 0 => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'}') => {
                    depth -= 1;
                    self.pos += 1;
                }
                Some(b'{') if self.peek(1) == Some(b'{') => {
                    self.template(Quote::Param { open })?;
                }
                Some(b'$') if self.peek(1) == Some(b'{') => {
                    depth += 1;
                    self.pos += 2;
                }
                Some(b'$') if self.peek(1) == Some(b'(') => {
                    self.dollar(inner, Quote::Double)?;
                }
                Some(b'\\') => self.pos += 2,
                Some(b'\'') if !in_double => {
                    self.pos += 1;
                    while self.peek(0).is_some_and(|c| c != b'\'') {
                        if self.peek(0) == Some(b'{') && self.peek(1) == Some(b'{') {
                            self.template(Quote::Param { open })?;
                        } else {
                            self.pos += 1;
                        }
                    }
                    self.pos += 1;
                }
                Some(b'"') => self.double(inner)?,
                Some(b'`') => self.backtick(inner)?,
                Some(_) => self.pos += 1,
            }
        }
    }

    /// Placeholders recorded since `first` stand in `quote`, however deep:
    /// the value of anything inside `$(( ))` or `${ }` is evaluated there.
    fn retag_from(&mut self, first: usize, quote: Quote) {
        for site in &mut self.out.sites[first..] {
            site.quote = quote;
        }
    }

    /// Skips an arithmetic expression up to `close` repeated `n` times at depth zero.
    fn arith_until(
        &mut self,
        open: usize,
        open_c: u8,
        close_c: u8,
        n: usize,
    ) -> Result<(), ShellTemplateError> {
        let first = self.out.sites.len();
        let start = self.pos;
        let result = self.arith_body(open, open_c, close_c, n);
        self.retag_from(first, Quote::Arith { open });
        result?;
        for name in arith_names(self.src.get(start..self.pos).unwrap_or_default()) {
            self.out.evals.push(Eval {
                name,
                offset: open,
                what: "arithmetic",
            });
        }
        Ok(())
    }

    fn arith_body(
        &mut self,
        open: usize,
        open_c: u8,
        close_c: u8,
        n: usize,
    ) -> Result<(), ShellTemplateError> {
        let mut depth = 0usize;
        loop {
            match self.peek(0) {
                None => return Err(unterminated(open, "arithmetic expression", ")")),
                Some(c) if c == open_c => {
                    depth += 1;
                    self.pos += 1;
                }
                Some(c) if c == close_c => {
                    if depth > 0 {
                        depth -= 1;
                        self.pos += 1;
                    } else if n == 1 || self.peek(1) == Some(close_c) {
                        self.pos += n;
                        return Ok(());
                    } else {
                        self.pos += 1;
                    }
                }
                Some(b'{') if matches!(self.peek(1), Some(b'{' | b'%' | b'#')) => {
                    self.template(Quote::Arith { open })?;
                }
                Some(b'$') => {
                    let mut w = Word::default();
                    self.dollar(&mut w, Quote::Double)?;
                }
                Some(b'"') => {
                    let mut w = Word::default();
                    self.double(&mut w)?;
                }
                Some(b'`') => {
                    let mut w = Word::default();
                    self.backtick(&mut w)?;
                }
                Some(b'\\') => self.pos += 2,
                Some(_) => self.pos += 1,
            }
        }
    }

    /// Backticks: not parsed; placeholders inside are recorded as such.
    /// Skips to just past `close`, stepping over backslash escapes and
    /// recording each placeholder in `quote` (`$'...'` and backticks).
    fn escaped_until(
        &mut self,
        close: u8,
        open: usize,
        what: &str,
        quote: Quote,
    ) -> Result<(), ShellTemplateError> {
        loop {
            match self.peek(0) {
                None => return Err(unterminated(open, what, &char::from(close).to_string())),
                Some(c) if c == close => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => self.pos += 2,
                Some(b'{') if self.peek(1) == Some(b'{') => {
                    self.template(quote)?;
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    fn backtick(&mut self, w: &mut Word) -> Result<(), ShellTemplateError> {
        let open = self.pos;
        self.pos += 1;
        self.escaped_until(b'`', open, "backtick", Quote::Backtick { open })?;
        w.parts.push(Part::CommandSubst(None));
        Ok(())
    }

    /// `{{ ... }}` at the current position: records it and returns its index.
    fn template(&mut self, quote: Quote) -> Result<usize, ShellTemplateError> {
        let open = self.pos;
        if self.peek(1) != Some(b'{') {
            return Err(block_or_comment(open, self.peek(1)));
        }
        let (end, expr) = scan_expr(self.src, open)?;
        self.pos = end;
        self.out.sites.push(Site {
            offset: open,
            end,
            expr: expr.to_owned(),
            quote,
        });
        Ok(self.out.sites.len() - 1)
    }
}

fn unterminated(open: usize, what: &str, close: &str) -> ShellTemplateError {
    err(
        open,
        format!("unterminated {what}: the script cannot be checked for safe templates"),
        format!("close it with {close}"),
    )
}

fn backslash_before(offset: usize) -> ShellTemplateError {
    err(
        offset,
        "a backslash right before a template would escape part of the value",
        "remove the backslash; the value is inserted as data anyway",
    )
}

pub fn block_or_comment(offset: usize, second: Option<u8>) -> ShellTemplateError {
    if second == Some(b'#') {
        err(
            offset,
            "template comments ({# ... #}) are not supported in shell scripts",
            "use a shell comment (# ...) instead",
        )
    } else {
        err(
            offset,
            "template blocks ({% ... %}) are not supported in shell scripts",
            "use `when:` on the step, or pass values through `env:`",
        )
    }
}

/// Finds the end of the `{{ ... }}` opened at `open` the way minijinja's lexer
/// does: strings are skipped and `}}` only ends it outside brackets.
/// Returns the offset after `}}` and the trimmed expression.
fn scan_expr(src: &str, open: usize) -> Result<(usize, &str), ShellTemplateError> {
    let b = src.as_bytes();
    let unterminated = || {
        err(
            open,
            "unterminated template: `{{` without `}}`",
            "close it with }}; to write `{{` literally use {{ '{{' }}",
        )
    };
    let whitespace_control = || {
        err(
            open,
            "whitespace control ({{- or -}}) is not supported in shell scripts: it would change the script around the template",
            "remove the `-` or `+` next to the braces",
        )
    };
    let start = open + 2;
    if matches!(b.get(start), Some(b'-' | b'+')) {
        return Err(whitespace_control());
    }
    let mut i = start;
    let mut balance: isize = 0;
    loop {
        let Some(&c) = b.get(i) else {
            return Err(unterminated());
        };
        match c {
            b'"' | b'\'' => {
                i += 1;
                loop {
                    match b.get(i) {
                        None => return Err(unterminated()),
                        Some(&q) if q == c => break,
                        Some(b'\\') => i += 2,
                        Some(_) => i += 1,
                    }
                }
                i += 1;
            }
            b'(' | b'[' | b'{' => {
                balance += 1;
                i += 1;
            }
            b'}' if balance == 0 && b.get(i + 1) == Some(&b'}') => break,
            b')' | b']' | b'}' => {
                balance -= 1;
                i += 1;
            }
            b'-' | b'+' if balance == 0 && b[i + 1..].starts_with(b"}}") => {
                return Err(whitespace_control());
            }
            _ => i += 1,
        }
    }
    let expr = src[start..i].trim();
    if expr.is_empty() {
        return Err(err(
            open,
            "empty template `{{ }}`",
            "put an expression between the braces, e.g. {{ inputs.name }}",
        ));
    }
    Ok((i + 2, expr))
}
