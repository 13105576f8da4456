//! SQL templates: `{{ expr }}` placeholders in a runbook's SQL become bind parameters, never SQL text.
//!
//! A runbook writes `INSERT INTO notes(body) VALUES ({{ inputs.note }})`; [`parse`] lexes the SQL the way
//! Postgres does and [`SqlTemplate::render`] turns every placeholder into `$1`, `$2`, ... with the values
//! beside it. The only way to put a value into the SQL text is the explicit `| ident` filter, which
//! splices a double-quoted identifier quoted by [`quote_ident`].
//!
//! Placeholders inside string literals, dollar-quoted bodies, quoted identifiers and comments are
//! rejected: there a value could only be pasted as text, which is exactly the injection this module
//! exists to prevent. The lexer assumes `standard_conforming_strings = on` (the default since
//! Postgres 9.1): backslashes escape only inside `E'...'` strings. The Postgres adapter forces the
//! setting on for every session, and SQL with placeholders that mentions it (or `backslash_quote`)
//! is refused, so the server always reads quotes the way this lexer does.
//!
//! The same lexer serves the Postgres adapter, which splits rendered scripts into statements
//! ([`split_statements`]) and renumbers their parameters ([`renumber_params`]).

/// One piece of a parsed SQL template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlSegment {
    /// SQL text, sent as written.
    Text(String),
    /// `{{ expr }}`: the value is sent as a bind parameter. `offset` is the byte offset of `expr` in the SQL.
    Bind { expr: String, offset: usize },
    /// `{{ expr | ident }}`: the value is spliced as a quoted identifier. `expr` excludes the filter.
    Ident { expr: String, offset: usize },
}

/// A parsed SQL template: text and placeholders in source order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlTemplate {
    pub segments: Vec<SqlSegment>,
}

/// Why a SQL template was rejected; `offset` is the byte offset of the offending construct.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SqlTemplateError {
    pub offset: usize,
    pub message: String,
    pub hint: String,
}

/// Why rendering a parsed template failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderSqlError<E> {
    /// The expression could not be evaluated.
    #[error("cannot evaluate `{expr}` in the sql: {source}")]
    Eval {
        expr: String,
        offset: usize,
        #[source]
        source: E,
    },
    /// An `ident` value that is not a usable identifier.
    #[error("`{expr} | ident` must be a non-empty string without NUL characters, got {got}")]
    Ident {
        expr: String,
        offset: usize,
        got: String,
    },
}

const BIND_HINT: &str = "write {{ x }} without quotes: it is sent as a bind parameter";

/// Parse SQL with `{{ }}` placeholders.
pub fn parse(sql: &str) -> Result<SqlTemplate, SqlTemplateError> {
    let tokens = lex(sql, true)?;
    let mut segments = Vec::new();
    let mut text = String::new();
    for tok in &tokens {
        let src = &sql[tok.start..tok.end];
        match tok.kind {
            TokenKind::Placeholder => {
                if !text.is_empty() {
                    segments.push(SqlSegment::Text(std::mem::take(&mut text)));
                }
                segments.push(placeholder_segment(sql, tok)?);
            }
            TokenKind::Param => {
                return Err(SqlTemplateError {
                    offset: tok.start,
                    message: format!("positional parameter `{src}` written in the sql text"),
                    hint: "placeholders are numbered automatically and would collide with it: \
                           write {{ expr }} where the value goes"
                        .to_owned(),
                });
            }
            TokenKind::Code | TokenKind::Semicolon => text.push_str(src),
            kind => {
                if let Some(pos) = find_template_marker(src) {
                    return Err(SqlTemplateError {
                        offset: tok.start + pos,
                        message: format!("template placeholder inside {}", kind.describe()),
                        hint: format!(
                            "{BIND_HINT}; for literal braces in a string, split them: '{{' || '{{...'"
                        ),
                    });
                }
                text.push_str(src);
            }
        }
    }
    if !text.is_empty() {
        segments.push(SqlSegment::Text(text));
    }
    // drctl's sessions start with standard_conforming_strings on; SQL that changes it (or
    // backslash_quote) would make the server read quotes differently from this lexer.
    if segments.iter().any(|s| !matches!(s, SqlSegment::Text(_))) {
        let lower = sql.to_ascii_lowercase();
        for setting in ["standard_conforming_strings", "backslash_quote"] {
            if let Some(at) = lower.find(setting) {
                return Err(SqlTemplateError {
                    offset: at,
                    message: format!(
                        "sql with placeholders must not change {setting}: the server would read the quotes around them differently"
                    ),
                    hint: "move the setting to a step without placeholders, or drop it; drctl runs every session with standard_conforming_strings on".to_owned(),
                });
            }
        }
    }
    Ok(SqlTemplate { segments })
}

impl SqlTemplate {
    /// Expressions in order (for static checking), with their offsets.
    pub fn expressions(&self) -> impl Iterator<Item = (&str, usize)> {
        self.segments.iter().filter_map(|s| match s {
            SqlSegment::Text(_) => None,
            SqlSegment::Bind { expr, offset } | SqlSegment::Ident { expr, offset } => {
                Some((expr.as_str(), *offset))
            }
        })
    }

    /// Produce the final SQL text and the parameter list, given a function that renders an expression
    /// to a JSON value.
    ///
    /// Binds become `$N` (from 1, in order of first appearance; an expression written twice is
    /// evaluated once and reuses its parameter). Idents become quoted identifiers. A space is put
    /// between a placeholder and adjacent text where the two would otherwise lex as one token
    /// (`a{{x}}` would be the identifier `a$1`, `{{x}}1` the parameter `$11`).
    pub fn render<E>(
        &self,
        mut eval: impl FnMut(&str) -> Result<serde_json::Value, E>,
    ) -> Result<(String, Vec<serde_json::Value>), RenderSqlError<E>> {
        let mut out = String::new();
        let mut params = Vec::new();
        let mut numbered: Vec<(&str, usize)> = Vec::new();
        let mut after_placeholder = false;
        for seg in &self.segments {
            match seg {
                SqlSegment::Text(t) => {
                    if after_placeholder {
                        push_separated(&mut out, t);
                    } else {
                        out.push_str(t);
                    }
                    after_placeholder = false;
                }
                SqlSegment::Bind { expr, offset } => {
                    let n = if let Some(&(_, n)) = numbered.iter().find(|(e, _)| e == expr) {
                        n
                    } else {
                        let value = eval(expr).map_err(|source| RenderSqlError::Eval {
                            expr: expr.clone(),
                            offset: *offset,
                            source,
                        })?;
                        params.push(value);
                        numbered.push((expr, params.len()));
                        params.len()
                    };
                    push_separated(&mut out, &format!("${n}"));
                    after_placeholder = true;
                }
                SqlSegment::Ident { expr, offset } => {
                    let value = eval(expr).map_err(|source| RenderSqlError::Eval {
                        expr: expr.clone(),
                        offset: *offset,
                        source,
                    })?;
                    let name = match &value {
                        serde_json::Value::String(s) if !s.is_empty() && !s.contains('\0') => s,
                        other => {
                            return Err(RenderSqlError::Ident {
                                expr: expr.clone(),
                                offset: *offset,
                                got: describe_json(other),
                            });
                        }
                    };
                    push_separated(&mut out, &quote_ident(name));
                    after_placeholder = true;
                }
            }
        }
        Ok((out, params))
    }
}

/// Quote `name` as a Postgres identifier: always double-quoted, embedded `"` doubled.
#[must_use]
pub fn quote_ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Split rendered SQL into statements at top-level semicolons (not inside quotes, dollar-quoted
/// bodies or comments). Statements made only of whitespace and comments are dropped; each returned
/// statement excludes its semicolon.
///
/// Limitation: SQL-standard function bodies (`BEGIN ATOMIC ... END`) contain semicolons and are split
/// wrongly; run such scripts without parameters (they are then sent whole).
#[must_use]
pub fn split_statements(sql: &str) -> Vec<&str> {
    // In non-template mode the lexer never fails.
    let tokens = lex(sql, false).unwrap_or_default();
    let mut out = Vec::new();
    let mut start = 0;
    let mut has_code = false;
    for tok in &tokens {
        match tok.kind {
            TokenKind::Semicolon => {
                if has_code {
                    out.push(&sql[start..tok.start]);
                }
                start = tok.end;
                has_code = false;
            }
            TokenKind::LineComment | TokenKind::BlockComment => {}
            TokenKind::Code => has_code |= !sql[tok.start..tok.end].trim().is_empty(),
            _ => has_code = true,
        }
    }
    if has_code {
        out.push(&sql[start..]);
    }
    out
}

/// Renumber the `$N` parameters of one statement from 1, in order of first appearance.
///
/// Returns the new text and, for each new parameter, the 0-based index of the original one
/// (`$3 ... $1` becomes `$1 ... $2` with `[2, 0]`).
#[must_use]
pub fn renumber_params(stmt: &str) -> (String, Vec<usize>) {
    let tokens = lex(stmt, false).unwrap_or_default();
    let mut out = String::with_capacity(stmt.len());
    let mut order: Vec<usize> = Vec::new();
    for tok in &tokens {
        let src = &stmt[tok.start..tok.end];
        if tok.kind == TokenKind::Param {
            // `$0` or an absurdly large number cannot be renumbered; leave it for the server to reject.
            match src[1..].parse::<usize>() {
                Ok(n) if n >= 1 => {
                    let idx = n - 1;
                    let local = if let Some(p) = order.iter().position(|&o| o == idx) {
                        p + 1
                    } else {
                        order.push(idx);
                        order.len()
                    };
                    out.push('$');
                    out.push_str(&local.to_string());
                }
                _ => out.push_str(src),
            }
        } else {
            out.push_str(src);
        }
    }
    (out, order)
}

fn placeholder_segment(sql: &str, tok: &Token) -> Result<SqlSegment, SqlTemplateError> {
    let mut inner_start = tok.start + 2;
    let mut inner_end = tok.end - 2;
    // `{{-` / `-}}` (and `+`) are minijinja whitespace control; meaningless here, but `{{- x }}`
    // must not evaluate `- x`.
    if inner_start < inner_end && matches!(sql.as_bytes()[inner_start], b'-' | b'+') {
        inner_start += 1;
    }
    if inner_start < inner_end && matches!(sql.as_bytes()[inner_end - 1], b'-' | b'+') {
        inner_end -= 1;
    }
    let raw = &sql[inner_start..inner_end];
    let expr = raw.trim();
    let offset = inner_start + (raw.len() - raw.trim_start().len());
    if expr.is_empty() {
        return Err(SqlTemplateError {
            offset: tok.start,
            message: "empty `{{ }}` placeholder in the sql".to_owned(),
            hint: "write the value's expression inside, e.g. {{ inputs.name }}".to_owned(),
        });
    }
    match find_ident_filter(expr) {
        None => Ok(SqlSegment::Bind {
            expr: expr.to_owned(),
            offset,
        }),
        Some((pipe, true)) => {
            let base = expr[..pipe].trim_end();
            if base.is_empty() {
                return Err(SqlTemplateError {
                    offset,
                    message: "`| ident` needs an expression before it".to_owned(),
                    hint: "write {{ inputs.table | ident }}".to_owned(),
                });
            }
            Ok(SqlSegment::Ident {
                expr: base.to_owned(),
                offset,
            })
        }
        Some((pipe, false)) => Err(SqlTemplateError {
            offset: offset + pipe,
            message: "the `ident` filter must be the last thing in the placeholder".to_owned(),
            hint: "apply other filters first: {{ x | lower | ident }}".to_owned(),
        }),
    }
}

/// Find a `| ident` filter outside string literals: its pipe offset, and whether it ends the expression.
fn find_ident_filter(expr: &str) -> Option<(usize, bool)> {
    let b = expr.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"') => i = skip_jinja_string(b, i, q),
            b'|' => {
                let mut j = i + 1;
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                let name_end = j + b[j..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                    .count();
                if &expr[j..name_end] == "ident" {
                    return Some((i, expr[name_end..].trim().is_empty()));
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// Skip a minijinja string literal starting at the quote `b[i]`; returns the index after it.
fn skip_jinja_string(b: &[u8], mut i: usize, quote: u8) -> usize {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

fn find_template_marker(s: &str) -> Option<usize> {
    ["{{", "{%", "{#"].iter().filter_map(|m| s.find(m)).min()
}

/// Append `piece`, with a space first if the last character and the first one would fuse into one token.
fn push_separated(out: &mut String, piece: &str) {
    let fuses =
        |c: char| c.is_alphanumeric() || matches!(c, '_' | '$' | '"' | '\'' | '&') || !c.is_ascii();
    if let (Some(a), Some(b)) = (out.chars().last(), piece.chars().next())
        && fuses(a)
        && fuses(b)
    {
        out.push(' ');
    }
    out.push_str(piece);
}

fn describe_json(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "null".to_owned(),
        serde_json::Value::Bool(b) => format!("the boolean {b}"),
        serde_json::Value::Number(n) => format!("the number {n}"),
        serde_json::Value::String(s) if s.is_empty() => "an empty string".to_owned(),
        serde_json::Value::String(_) => "a string containing a NUL character".to_owned(),
        serde_json::Value::Array(_) => "a list".to_owned(),
        serde_json::Value::Object(_) => "a map".to_owned(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    /// Ordinary SQL: keywords, identifiers, operators, whitespace.
    Code,
    /// `'...'` (also `B'..'`, `X'..'`, `U&'..'`: the prefix stays in the preceding code).
    Str,
    /// `E'...'`, where backslash escapes.
    EscapeStr,
    /// `$tag$...$tag$`.
    DollarStr,
    /// `"..."`.
    QuotedIdent,
    LineComment,
    BlockComment,
    /// `$N`.
    Param,
    Semicolon,
    /// `{{ ... }}` (template mode only).
    Placeholder,
}

impl TokenKind {
    fn describe(self) -> &'static str {
        match self {
            TokenKind::Str => "a string literal '...'",
            TokenKind::EscapeStr => "an escape string literal E'...'",
            TokenKind::DollarStr => "a dollar-quoted string $$...$$",
            TokenKind::QuotedIdent => "a quoted identifier \"...\"",
            TokenKind::LineComment => "a -- comment",
            TokenKind::BlockComment => "a /* */ comment",
            _ => "sql text",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: TokenKind,
    start: usize,
    end: usize,
}

/// Bytes that continue an identifier (non-ASCII letters are allowed in identifiers).
fn is_ident_cont(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

/// Lex SQL into tokens covering the whole input. In template mode `{{ }}` placeholders are tokens,
/// `{%`/`{#` and unterminated quotes are errors; otherwise the lexer never fails and an unterminated
/// construct runs to the end (the server reports it).
fn lex(sql: &str, templates: bool) -> Result<Vec<Token>, SqlTemplateError> {
    let b = sql.as_bytes();
    let mut tokens = Vec::new();
    let mut code_start = 0;
    let mut i = 0;
    let unterminated = |what: &str, start: usize| SqlTemplateError {
        offset: start,
        message: format!("unterminated {what} in the sql"),
        hint: "close it; placeholders cannot appear inside it anyway".to_owned(),
    };
    while i < b.len() {
        let next = b.get(i + 1).copied();
        let (kind, end) = match b[i] {
            b'\'' => {
                // E'..' only when the E starts a token (`date'2020-01-01'` is a typed literal).
                let escape = i >= 1
                    && matches!(b[i - 1], b'E' | b'e')
                    && (i < 2 || !is_ident_cont(b[i - 2]));
                match end_of_quoted(b, i, b'\'', escape) {
                    Some(end) => (
                        if escape {
                            TokenKind::EscapeStr
                        } else {
                            TokenKind::Str
                        },
                        end,
                    ),
                    None if templates => return Err(unterminated("string literal", i)),
                    None => (TokenKind::Str, b.len()),
                }
            }
            b'"' => match end_of_quoted(b, i, b'"', false) {
                Some(end) => (TokenKind::QuotedIdent, end),
                None if templates => return Err(unterminated("quoted identifier", i)),
                None => (TokenKind::QuotedIdent, b.len()),
            },
            b'-' if next == Some(b'-') => {
                let end = b[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(b.len(), |p| i + p);
                (TokenKind::LineComment, end)
            }
            b'/' if next == Some(b'*') => match end_of_block_comment(b, i) {
                Some(end) => (TokenKind::BlockComment, end),
                None if templates => return Err(unterminated("/* comment", i)),
                None => (TokenKind::BlockComment, b.len()),
            },
            b'$' if i == 0 || !is_ident_cont(b[i - 1]) => {
                if next.is_some_and(|c| c.is_ascii_digit()) {
                    let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
                    (TokenKind::Param, i + 1 + digits)
                } else if let Some(tag_end) = dollar_tag_end(b, i) {
                    let tag = &b[i..tag_end];
                    match find_bytes(&b[tag_end..], tag) {
                        Some(p) => (TokenKind::DollarStr, tag_end + p + tag.len()),
                        None if templates => return Err(unterminated("dollar-quoted string", i)),
                        None => (TokenKind::DollarStr, b.len()),
                    }
                } else {
                    i += 1;
                    continue;
                }
            }
            b';' => (TokenKind::Semicolon, i + 1),
            b'{' if templates && next == Some(b'{') => {
                (TokenKind::Placeholder, end_of_placeholder(b, i)?)
            }
            b'{' if templates && matches!(next, Some(b'%' | b'#')) => {
                let what = if next == Some(b'%') {
                    "`{%` blocks"
                } else {
                    "`{#` comments"
                };
                return Err(SqlTemplateError {
                    offset: i,
                    message: format!("{what} are not supported in sql"),
                    hint: format!(
                        "only {{{{ expr }}}} placeholders are allowed; {BIND_HINT}; \
                         build conditional sql with separate steps"
                    ),
                });
            }
            _ => {
                i += 1;
                continue;
            }
        };
        if code_start < i {
            tokens.push(Token {
                kind: TokenKind::Code,
                start: code_start,
                end: i,
            });
        }
        tokens.push(Token {
            kind,
            start: i,
            end,
        });
        i = end;
        code_start = end;
    }
    if code_start < b.len() {
        tokens.push(Token {
            kind: TokenKind::Code,
            start: code_start,
            end: b.len(),
        });
    }
    Ok(tokens)
}

/// End (exclusive) of a quoted token opened by `b[start] == quote`; a doubled quote escapes it,
/// and with `backslash` so does `\`.
fn end_of_quoted(b: &[u8], start: usize, quote: u8, backslash: bool) -> Option<usize> {
    let mut i = start + 1;
    while i < b.len() {
        if backslash && b[i] == b'\\' {
            i += 2;
        } else if b[i] == quote {
            if b.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return Some(i + 1);
            }
        } else {
            i += 1;
        }
    }
    None
}

/// Block comments nest in Postgres.
fn end_of_block_comment(b: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    while i + 1 < b.len() {
        if b[i] == b'/' && b[i + 1] == b'*' {
            depth += 1;
            i += 2;
        } else if b[i] == b'*' && b[i + 1] == b'/' {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return Some(i);
            }
        } else {
            i += 1;
        }
    }
    None
}

/// If `b[start..]` opens a dollar quote (`$$` or `$tag$`), the end of the opening delimiter.
fn dollar_tag_end(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    if b.get(i).is_some_and(|&c| is_ident_start(c)) {
        while b.get(i).is_some_and(|&c| is_ident_cont(c) && c != b'$') {
            i += 1;
        }
    }
    (b.get(i) == Some(&b'$')).then_some(i + 1)
}

fn find_bytes(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// End (exclusive) of the `{{ ... }}` opened at `start`: the first `}}` outside string literals and
/// outside braces opened inside the expression (a map literal `{'a': {'b': 1}}` stays whole).
fn end_of_placeholder(b: &[u8], start: usize) -> Result<usize, SqlTemplateError> {
    let mut i = start + 2;
    let mut depth = 0usize;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"') => i = skip_jinja_string(b, i, q),
            b'}' if depth == 0 && b.get(i + 1) == Some(&b'}') => return Ok(i + 2),
            b'{' => {
                depth += 1;
                i += 1;
            }
            b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            _ => i += 1,
        }
    }
    Err(SqlTemplateError {
        offset: start,
        message: "unclosed `{{` placeholder in the sql".to_owned(),
        hint: "close it with }}".to_owned(),
    })
}

#[cfg(test)]
mod tests;
