//! Injection-proof `{{ }}` placeholders in `shell.run` scripts.
//!
//! A rendered value never enters the script text. [`rewrite`] replaces every
//! placeholder with a reference to an environment variable (`DRCTL_T0`,
//! `DRCTL_T1`, ... in order of appearance); the runtime renders each
//! [`Placeholder::expr`] with minijinja and passes the result in that variable.
//! The reference is written so that it fits the lexical context where the
//! placeholder stands:
//!
//! | context                                  | rewritten to            |
//! |------------------------------------------|-------------------------|
//! | bare word (also inside `$( )`, `<( )`)   | `"${DRCTL_T0}"`         |
//! | inside `"..."`                           | `${DRCTL_T0}`           |
//! | inside `'...'`                           | `'"${DRCTL_T0}"'`       |
//! | body of an unquoted heredoc (`<<EOF`)    | `${DRCTL_T0}`           |
//!
//! The result of a quoted parameter expansion is never parsed again by the
//! shell, except where bash evaluates it as an arithmetic expression or a
//! variable name (where `a[$(cmd)]` runs `cmd`) or as code. Those places are
//! rejected: `$(( ))`, `(( ))`, `$[ ]`, `[[ ]]`, `${ }`, array subscripts,
//! `let`, `declare`/`local`/`typeset`/`readonly`/`export` outside a plain
//! `name=value`, `read`/`mapfile`/`unset`/`getopts`, `printf -v`, `test -v`,
//! `eval`/`trap`/`alias`, the script argument of `sh -c` (also behind `sudo`,
//! `xargs` ...), the remote command of `ssh`, and values piped or heredoc-fed
//! into a shell that reads its script from stdin. Also rejected: `$'...'`,
//! backticks, quoted heredocs (nothing expands there), a template as heredoc
//! delimiter, a backslash or `$` right before `{{`, whitespace control
//! (`{{-`, `-}}`), and `{% %}` / `{# #}` anywhere (except bash's `${#name}`).
//!
//! A placeholder inside a shell comment has no effect: it is left untouched
//! and not counted. The rewritten script must therefore be handed to the
//! shell as it is, never rendered as a template.
//!
//! Not covered (the value is data for this shell, but another program may
//! parse it): a value starting with `-` becomes an option of the command it is
//! passed to (write `--` before it); a variable declared with `declare -i` or
//! `declare -n` earlier in the script evaluates a later plain assignment;
//! programs that interpret their arguments as code in their own language
//! (`awk`, `jq`, `psql -c`, `python -c`) are not recognised.

use std::mem;

/// A shell script whose placeholders were replaced by environment-variable references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellTemplate {
    /// The script to hand to the shell.
    pub script: String,
    /// Placeholders in order of appearance.
    pub placeholders: Vec<Placeholder>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    /// The expression between `{{` and `}}`, trimmed.
    pub expr: String,
    /// Name of the environment variable that carries the rendered value (`DRCTL_T0`, ...).
    pub var: String,
    /// Byte offset of the opening `{{` in the original script.
    pub offset: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ShellTemplateError {
    /// Byte offset in the original script where the problem is.
    pub offset: usize,
    /// What is wrong (lowercase fragment), e.g. "a template inside single-quoted heredoc is never expanded".
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

/// Prefix of the environment variables that carry rendered values.
pub const VAR_PREFIX: &str = "DRCTL_T";

/// Rewrites every `{{ expr }}` of `script` into an environment-variable reference.
pub fn rewrite(script: &str) -> Result<ShellTemplate, ShellTemplateError> {
    if !crate::template::is_template(script) {
        return Ok(ShellTemplate {
            script: script.to_owned(),
            placeholders: Vec::new(),
        });
    }
    Rewriter::new(script).run()
}

const HINT_ENV: &str = "pass the value through `env:` and use \"$NAME\" in the script";
const HINT_VALIDATE: &str = "assign it to a variable first (x={{ ... }}) and validate it, e.g. \
     [ \"$x\" -eq \"$x\" ] 2>/dev/null || exit 1, before using \"$x\" there";

/// Programs that run their `-c` argument, or their stdin, as shell code.
const SHELLS: &[&str] = &[
    "sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "busybox", "fish", "su", "runuser",
];

/// ssh options that take an argument (OpenSSH).
const SSH_ARG_OPTS: &str = "BbcDEeFIiJLlmOoPpQRSWw";

/// Marks an expansion or a placeholder inside a word's text, so the word never
/// matches a command name.
const MARK: &str = "\0";

fn err(offset: usize, message: impl Into<String>, hint: impl Into<String>) -> ShellTemplateError {
    ShellTemplateError {
        offset,
        message: message.into(),
        hint: hint.into(),
    }
}

/// One shell word as far as it has been read: its text without quotes, with
/// [`MARK`] for expansions.
#[derive(Debug, Default, Clone)]
struct Word {
    text: String,
    /// Length of `text` when the first quoted character arrived.
    quoted_at: Option<usize>,
    /// The word is the target of a redirection, not an argument.
    redirect: bool,
}

impl Word {
    fn unquoted_prefix(&self) -> &str {
        &self.text[..self.quoted_at.unwrap_or(self.text.len())]
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        self.quoted_at.is_none() && self.text == keyword
    }

    /// `name=`, `name+=` or `name[sub]=` with the `=` unquoted.
    fn is_assignment(&self) -> bool {
        let prefix = self.unquoted_prefix();
        let Some(eq) = prefix.find('=') else {
            return false;
        };
        let name = prefix[..eq].strip_suffix('+').unwrap_or(&prefix[..eq]);
        match name.find('[') {
            Some(open) if name.ends_with(']') => is_name(&name[..open]),
            Some(_) => false,
            None => is_name(name),
        }
    }

    /// `name=` without a subscript: only the value follows.
    fn is_plain_assignment(&self) -> bool {
        self.is_assignment()
            && !self
                .unquoted_prefix()
                .split('=')
                .next()
                .unwrap_or("")
                .contains('[')
    }

    /// `name[` with an unquoted `[` and no `]` yet: bash evaluates what follows
    /// as an arithmetic subscript.
    fn in_subscript(&self) -> bool {
        let prefix = self.unquoted_prefix();
        prefix
            .find('[')
            .is_some_and(|open| is_name(&prefix[..open]) && !self.text[open..].contains(']'))
    }
}

/// Unquoted shell text: the top level, or the inside of `$( )` and `<( )`.
#[derive(Debug, Default)]
struct Bare {
    /// Offset of the opening `$(` (zero for the top level).
    open: usize,
    /// Closed by `)`.
    subst: bool,
    parens: usize,
    /// Open `case` statements: their patterns end with an unbalanced `)`.
    cases: usize,
    dbracket: bool,
    redirect_next: bool,
    /// Finished words of the current simple command.
    words: Vec<Word>,
    cur: Option<Word>,
    /// Finished simple commands of the current pipeline.
    pipeline: Vec<Vec<Word>>,
    /// Placeholders in the current pipeline: (index of their command, offset).
    pipeline_templates: Vec<(usize, usize)>,
}

#[derive(Debug)]
struct Heredoc {
    delim: String,
    strip_tabs: bool,
    expanding: bool,
    /// The body is read by a shell as code.
    code: bool,
    open: usize,
}

#[derive(Debug)]
struct PendingHeredoc {
    heredoc: Heredoc,
    /// Stack index of the `Bare` frame the `<<` stands in.
    frame: usize,
    /// Index of its command in that frame's pipeline.
    cmd_index: usize,
    decided: bool,
}

#[derive(Debug)]
enum Frame {
    Bare(Bare),
    Double {
        open: usize,
    },
    Single {
        open: usize,
    },
    AnsiC {
        open: usize,
    },
    Backtick {
        open: usize,
    },
    /// `$(( ))` and `(( ))`, or `$[ ]` when `bracket`.
    Arith {
        open: usize,
        depth: usize,
        bracket: bool,
    },
    /// `${ }`; single quotes are literal inside it when it stands in double quotes.
    Param {
        open: usize,
        in_double: bool,
    },
    HeredocBody {
        heredoc: Heredoc,
        at_line_start: bool,
    },
}

/// Where a `$` stands, which decides what follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DollarCtx {
    Bare,
    Double,
    Heredoc,
    Arith,
    Param { in_double: bool },
}

/// How a placeholder is written, from the frame it stands in.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Bare,
    Double,
    Single,
    Heredoc,
}

struct Rewriter<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    out: String,
    placeholders: Vec<Placeholder>,
    stack: Vec<Frame>,
    pending: Vec<PendingHeredoc>,
}

impl<'a> Rewriter<'a> {
    fn new(src: &'a str) -> Self {
        Self {
            src,
            b: src.as_bytes(),
            pos: 0,
            out: String::with_capacity(src.len() + 32),
            placeholders: Vec::new(),
            stack: vec![Frame::Bare(Bare::default())],
            pending: Vec::new(),
        }
    }

    fn peek(&self, k: usize) -> Option<u8> {
        self.b.get(self.pos + k).copied()
    }

    fn at_template(&self) -> bool {
        self.peek(0) == Some(b'{') && matches!(self.peek(1), Some(b'{' | b'%' | b'#'))
    }

    /// Copies `n` bytes to the output, or up to the end of the character
    /// they end in (a backslash may escape a multi-byte character).
    fn copy(&mut self, n: usize) {
        let mut end = (self.pos + n).min(self.b.len());
        while !self.src.is_char_boundary(end) {
            end += 1;
        }
        self.out.push_str(&self.src[self.pos..end]);
        self.pos = end;
    }

    /// Copies one character and returns it.
    fn copy_char(&mut self) -> char {
        let ch = self.src[self.pos..].chars().next().unwrap_or('\0');
        self.copy(ch.len_utf8().max(1));
        ch
    }

    fn bare(&mut self, idx: usize) -> &mut Bare {
        match &mut self.stack[idx] {
            Frame::Bare(b) => b,
            // Only called with indices of `Bare` frames.
            _ => unreachable!("frame {idx} is not bare"),
        }
    }

    /// Appends to the word being read, when the innermost frame belongs to one.
    fn word_append(&mut self, s: &str, quoted: bool) {
        let n = self.stack.len();
        let (idx, quoted) = match self.stack.last() {
            Some(Frame::Bare(_)) => (n - 1, quoted),
            Some(Frame::Double { .. } | Frame::Single { .. } | Frame::AnsiC { .. })
                if n >= 2 && matches!(self.stack[n - 2], Frame::Bare(_)) =>
            {
                (n - 2, true)
            }
            _ => return,
        };
        let word = self.bare(idx).cur.get_or_insert_with(Word::default);
        if quoted && word.quoted_at.is_none() {
            word.quoted_at = Some(word.text.len());
        }
        word.text.push_str(s);
    }

    fn run(mut self) -> Result<ShellTemplate, ShellTemplateError> {
        loop {
            if self.pos >= self.b.len() {
                let top = self.stack.len() - 1;
                match self.stack.last() {
                    Some(Frame::HeredocBody { .. }) => {
                        // bash accepts a heredoc ended by the end of the script.
                        self.stack.pop();
                        continue;
                    }
                    Some(Frame::Bare(b)) if !b.subst => {
                        self.end_pipeline(top)?;
                        break;
                    }
                    Some(frame) => return Err(unterminated(frame)),
                    None => break,
                }
            }
            let top = self.stack.len() - 1;
            match &self.stack[top] {
                Frame::Bare(_) => self.step_bare(top)?,
                Frame::Double { .. } => self.step_double()?,
                Frame::Single { .. } => self.step_single()?,
                Frame::AnsiC { .. } | Frame::Backtick { .. } => self.step_ansic_backtick()?,
                Frame::Arith { .. } => self.step_arith(top)?,
                &Frame::Param { in_double, .. } => self.step_param(in_double)?,
                Frame::HeredocBody { .. } => self.step_heredoc(top)?,
            }
        }
        Ok(ShellTemplate {
            script: self.out,
            placeholders: self.placeholders,
        })
    }

    fn step_bare(&mut self, idx: usize) -> Result<(), ShellTemplateError> {
        if self.at_template() {
            return self.template();
        }
        let c = self.b[self.pos];
        let dbracket = self.bare(idx).dbracket;
        match c {
            b'#' if self.bare(idx).cur.is_none() => self.comment()?,
            b'\\' => match self.peek(1) {
                Some(b'\n') => self.copy(2),
                Some(b'{') if matches!(self.peek(2), Some(b'{' | b'%' | b'#')) => {
                    return Err(backslash_before(self.pos));
                }
                Some(_) => {
                    self.copy(1);
                    self.word_append("", true);
                    let ch = self.copy_char();
                    self.word_append(ch.encode_utf8(&mut [0; 4]), true);
                }
                None => self.copy(1),
            },
            b'\'' => {
                self.word_append("", true);
                self.stack.push(Frame::Single { open: self.pos });
                self.copy(1);
            }
            b'"' => {
                self.word_append("", true);
                self.stack.push(Frame::Double { open: self.pos });
                self.copy(1);
            }
            b'`' => {
                self.word_append(MARK, false);
                self.stack.push(Frame::Backtick { open: self.pos });
                self.copy(1);
            }
            b'$' => self.dollar(DollarCtx::Bare)?,
            b' ' | b'\t' => {
                self.finish_word(idx, false);
                self.copy(1);
            }
            b'\n' if dbracket => {
                self.finish_word(idx, false);
                self.copy(1);
            }
            b'\n' => {
                self.end_pipeline(idx)?;
                self.copy(1);
                self.start_heredocs();
            }
            b';' => {
                self.end_pipeline(idx)?;
                self.copy(1);
            }
            b'&' | b'|' if self.peek(1) == Some(c) => {
                if dbracket {
                    self.finish_word(idx, false);
                } else {
                    self.end_pipeline(idx)?;
                }
                self.copy(2);
            }
            b'&' if self.peek(1) == Some(b'>') && !dbracket => self.redirect(idx)?,
            b'&' => {
                if dbracket {
                    self.finish_word(idx, false);
                } else {
                    self.end_pipeline(idx)?;
                }
                self.copy(1);
            }
            b'|' => {
                if dbracket {
                    self.finish_word(idx, false);
                } else {
                    self.end_command(idx);
                }
                self.copy(if self.peek(1) == Some(b'&') { 2 } else { 1 });
            }
            b'(' => {
                if !dbracket && self.bare(idx).cur.is_none() && self.peek(1) == Some(b'(') {
                    self.stack.push(Frame::Arith {
                        open: self.pos,
                        depth: 0,
                        bracket: false,
                    });
                    self.copy(2);
                } else {
                    self.finish_word(idx, false);
                    if !dbracket {
                        self.end_command(idx);
                    }
                    self.bare(idx).parens += 1;
                    self.copy(1);
                }
            }
            b')' => {
                // First, so that an `esac` right before closes its `case`.
                self.finish_word(idx, false);
                let b = self.bare(idx);
                if b.subst && b.parens == 0 && b.cases == 0 {
                    self.end_pipeline(idx)?;
                    self.stack.pop();
                    self.copy(1);
                } else {
                    b.parens = b.parens.saturating_sub(1);
                    if !dbracket {
                        self.end_command(idx);
                    }
                    self.copy(1);
                }
            }
            b'<' | b'>' if !dbracket => self.redirect(idx)?,
            _ => {
                let ch = self.copy_char();
                self.word_append(ch.encode_utf8(&mut [0; 4]), false);
            }
        }
        Ok(())
    }

    fn step_double(&mut self) -> Result<(), ShellTemplateError> {
        if self.at_template() {
            return self.template();
        }
        match self.b[self.pos] {
            b'"' => {
                self.stack.pop();
                self.copy(1);
            }
            b'\\' => match self.peek(1) {
                Some(b'"' | b'\\' | b'$' | b'`' | b'\n') => {
                    self.copy(2);
                    self.word_append(MARK, true);
                }
                Some(b'{') if matches!(self.peek(2), Some(b'{' | b'%' | b'#')) => {
                    return Err(backslash_before(self.pos));
                }
                _ => {
                    self.copy(1);
                    self.word_append("\\", true);
                }
            },
            b'$' => self.dollar(DollarCtx::Double)?,
            b'`' => {
                self.word_append(MARK, true);
                self.stack.push(Frame::Backtick { open: self.pos });
                self.copy(1);
            }
            _ => {
                let ch = self.copy_char();
                self.word_append(ch.encode_utf8(&mut [0; 4]), true);
            }
        }
        Ok(())
    }

    fn step_single(&mut self) -> Result<(), ShellTemplateError> {
        if self.at_template() {
            return self.template();
        }
        if self.b[self.pos] == b'\'' {
            self.stack.pop();
            self.copy(1);
        } else {
            let ch = self.copy_char();
            self.word_append(ch.encode_utf8(&mut [0; 4]), true);
        }
        Ok(())
    }

    /// `$'...'` and backticks: placeholders are rejected, so only the end matters.
    fn step_ansic_backtick(&mut self) -> Result<(), ShellTemplateError> {
        if self.at_template() {
            return self.template();
        }
        let close = match self.stack.last() {
            Some(Frame::Backtick { .. }) => b'`',
            _ => b'\'',
        };
        match self.b[self.pos] {
            b'\\' => {
                self.copy(1);
                if self.pos < self.b.len() {
                    self.copy_char();
                }
            }
            c if c == close => {
                self.stack.pop();
                self.copy(1);
            }
            _ => {
                self.copy_char();
            }
        }
        Ok(())
    }

    fn step_arith(&mut self, idx: usize) -> Result<(), ShellTemplateError> {
        if self.at_template() {
            return self.template();
        }
        let Frame::Arith { depth, bracket, .. } = &mut self.stack[idx] else {
            return Ok(());
        };
        let (open_c, close_c) = if *bracket { (b'[', b']') } else { (b'(', b')') };
        match self.b[self.pos] {
            c if c == open_c => {
                *depth += 1;
                self.copy(1);
            }
            c if c == close_c => {
                if *depth > 0 {
                    *depth -= 1;
                    self.copy(1);
                } else {
                    let closing_twice = !*bracket && self.peek(1) == Some(b')');
                    self.stack.pop();
                    self.copy(if closing_twice { 2 } else { 1 });
                }
            }
            b'$' => self.dollar(DollarCtx::Arith)?,
            b'\\' => self.copy(2),
            b'\'' => {
                self.stack.push(Frame::Single { open: self.pos });
                self.copy(1);
            }
            b'"' => {
                self.stack.push(Frame::Double { open: self.pos });
                self.copy(1);
            }
            b'`' => {
                self.stack.push(Frame::Backtick { open: self.pos });
                self.copy(1);
            }
            _ => {
                self.copy_char();
            }
        }
        Ok(())
    }

    fn step_param(&mut self, in_double: bool) -> Result<(), ShellTemplateError> {
        if self.at_template() {
            return self.template();
        }
        match self.b[self.pos] {
            b'}' => {
                self.stack.pop();
                self.copy(1);
            }
            b'$' => self.dollar(DollarCtx::Param { in_double })?,
            b'\\' => self.copy(2),
            b'"' => {
                self.stack.push(Frame::Double { open: self.pos });
                self.copy(1);
            }
            b'\'' if !in_double => {
                self.stack.push(Frame::Single { open: self.pos });
                self.copy(1);
            }
            b'`' => {
                self.stack.push(Frame::Backtick { open: self.pos });
                self.copy(1);
            }
            _ => {
                self.copy_char();
            }
        }
        Ok(())
    }

    fn step_heredoc(&mut self, idx: usize) -> Result<(), ShellTemplateError> {
        let Frame::HeredocBody {
            heredoc,
            at_line_start,
        } = &mut self.stack[idx]
        else {
            return Ok(());
        };
        if mem::take(at_line_start) {
            let end = self.src[self.pos..]
                .find('\n')
                .map_or(self.b.len(), |n| self.pos + n);
            let line = &self.src[self.pos..end];
            let line = if heredoc.strip_tabs {
                line.trim_start_matches('\t')
            } else {
                line
            };
            if line == heredoc.delim {
                self.stack.pop();
                self.copy(end + 1 - self.pos);
                return Ok(());
            }
        }
        let expanding = heredoc.expanding;
        if self.at_template() {
            return self.template();
        }
        match self.b[self.pos] {
            b'\n' => {
                if let Frame::HeredocBody { at_line_start, .. } = &mut self.stack[idx] {
                    *at_line_start = true;
                }
                self.copy(1);
            }
            b'\\' if expanding => match self.peek(1) {
                Some(b'\\' | b'$' | b'`' | b'\n') => self.copy(2),
                Some(b'{') if matches!(self.peek(2), Some(b'{' | b'%' | b'#')) => {
                    return Err(backslash_before(self.pos));
                }
                _ => self.copy(1),
            },
            b'$' if expanding => self.dollar(DollarCtx::Heredoc)?,
            b'`' if expanding => {
                self.stack.push(Frame::Backtick { open: self.pos });
                self.copy(1);
            }
            _ => {
                self.copy_char();
            }
        }
        Ok(())
    }

    fn dollar(&mut self, ctx: DollarCtx) -> Result<(), ShellTemplateError> {
        let open = self.pos;
        let quoted = ctx != DollarCtx::Bare;
        match self.peek(1) {
            Some(b'(') => {
                self.word_append(MARK, quoted);
                if self.peek(2) == Some(b'(') {
                    self.stack.push(Frame::Arith {
                        open,
                        depth: 0,
                        bracket: false,
                    });
                    self.copy(3);
                } else {
                    self.stack.push(Frame::Bare(Bare {
                        open,
                        subst: true,
                        ..Bare::default()
                    }));
                    self.copy(2);
                }
            }
            Some(b'[') => {
                self.word_append(MARK, quoted);
                self.stack.push(Frame::Arith {
                    open,
                    depth: 0,
                    bracket: true,
                });
                self.copy(2);
            }
            Some(b'{') => {
                if matches!(self.peek(2), Some(b'{' | b'%')) {
                    return Err(err(
                        open,
                        "a `$` right before a template makes the shell expand the value as a name",
                        "remove the `$`: the template already stands for the value",
                    ));
                }
                self.word_append(MARK, quoted);
                let in_double = matches!(
                    ctx,
                    DollarCtx::Double | DollarCtx::Heredoc | DollarCtx::Param { in_double: true }
                );
                self.stack.push(Frame::Param { open, in_double });
                self.copy(2);
            }
            Some(b'\'')
                if matches!(
                    ctx,
                    DollarCtx::Bare | DollarCtx::Arith | DollarCtx::Param { in_double: false }
                ) =>
            {
                self.word_append(MARK, true);
                self.stack.push(Frame::AnsiC { open });
                self.copy(2);
            }
            Some(b'"') if ctx == DollarCtx::Bare => {
                self.word_append("", true);
                self.stack.push(Frame::Double { open });
                self.copy(2);
            }
            Some(c) if c.is_ascii_digit() || b"$#?!@*-".contains(&c) => {
                self.word_append(MARK, quoted);
                self.copy(2);
            }
            _ => {
                self.word_append("$", quoted);
                self.copy(1);
            }
        }
        Ok(())
    }

    /// A `#` at the start of a word: the rest of the line is a comment, where a
    /// placeholder has no effect, so it is left as it is.
    fn comment(&mut self) -> Result<(), ShellTemplateError> {
        while self.pos < self.b.len() && self.b[self.pos] != b'\n' {
            if self.peek(0) == Some(b'{') && matches!(self.peek(1), Some(b'%' | b'#')) {
                return Err(block_or_comment(self.pos, self.peek(1)));
            }
            self.copy_char();
        }
        Ok(())
    }

    fn redirect(&mut self, idx: usize) -> Result<(), ShellTemplateError> {
        self.finish_word(idx, true);
        if self.b[self.pos..].starts_with(b"<<<") {
            self.copy(3);
            self.bare(idx).redirect_next = true;
            return Ok(());
        }
        if self.b[self.pos..].starts_with(b"<<") {
            return self.heredoc(idx);
        }
        if matches!(self.peek(0), Some(b'<' | b'>')) && self.peek(1) == Some(b'(') {
            self.word_append(MARK, false);
            self.stack.push(Frame::Bare(Bare {
                open: self.pos,
                subst: true,
                ..Bare::default()
            }));
            self.copy(2);
            return Ok(());
        }
        let ops: [&[u8]; 9] = [b"&>>", b"&>", b">>", b"<>", b">|", b"<&", b">&", b">", b"<"];
        let len = ops
            .iter()
            .find(|op| self.b[self.pos..].starts_with(op))
            .map_or(1, |op| op.len());
        self.copy(len);
        self.bare(idx).redirect_next = true;
        Ok(())
    }

    fn heredoc(&mut self, idx: usize) -> Result<(), ShellTemplateError> {
        let open = self.pos;
        self.copy(2);
        let strip_tabs = self.peek(0) == Some(b'-');
        if strip_tabs {
            self.copy(1);
        }
        while matches!(self.peek(0), Some(b' ' | b'\t')) {
            self.copy(1);
        }
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
                    self.copy(1);
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
                                self.copy(1);
                                delim.push(self.copy_char());
                            }
                            Some(_) => delim.push(self.copy_char()),
                        }
                    }
                    self.copy(1);
                }
                Some(b'\\') => {
                    quoted = true;
                    self.copy(1);
                    if self.pos < self.b.len() {
                        delim.push(self.copy_char());
                    }
                }
                Some(_) => delim.push(self.copy_char()),
            }
        }
        if delim.is_empty() && !quoted {
            // `<<` without a word is a syntax error the shell reports itself.
            return Ok(());
        }
        let cmd_index = self.bare(idx).pipeline.len();
        self.pending.push(PendingHeredoc {
            heredoc: Heredoc {
                delim,
                strip_tabs,
                expanding: !quoted,
                code: false,
                open,
            },
            frame: idx,
            cmd_index,
            decided: false,
        });
        Ok(())
    }

    /// Bodies of the heredocs opened on the line just ended start now, in order.
    fn start_heredocs(&mut self) {
        let pending = mem::take(&mut self.pending);
        for mut p in pending.into_iter().rev() {
            if !p.decided
                && let Some(Frame::Bare(b)) = self.stack.get(p.frame)
            {
                let words = b.words.clone();
                p.heredoc.code = b
                    .pipeline
                    .iter()
                    .skip(p.cmd_index)
                    .chain(std::iter::once(&words))
                    .any(|c| runs_stdin_as_code(c));
            }
            self.stack.push(Frame::HeredocBody {
                heredoc: p.heredoc,
                at_line_start: true,
            });
        }
    }

    fn finish_word(&mut self, idx: usize, before_redirect: bool) {
        let b = self.bare(idx);
        let Some(mut word) = b.cur.take() else {
            return;
        };
        if b.redirect_next {
            b.redirect_next = false;
            word.redirect = true;
            b.words.push(word);
            return;
        }
        if before_redirect && !word.text.is_empty() && word.text.bytes().all(|c| c.is_ascii_digit())
        {
            // The file descriptor of `2>file`.
            return;
        }
        if b.dbracket {
            if word.is_keyword("]]") {
                b.dbracket = false;
            }
            return;
        }
        let command_position = b.words.iter().all(|w| w.redirect || w.is_assignment());
        if command_position && word.quoted_at.is_none() {
            match word.text.as_str() {
                "[[" => {
                    b.dbracket = true;
                    return;
                }
                "if" | "then" | "else" | "elif" | "fi" | "do" | "done" | "while" | "until"
                | "!" | "{" | "}" | "time" => return,
                "esac" => {
                    b.cases = b.cases.saturating_sub(1);
                    return;
                }
                "case" => b.cases += 1,
                _ => {}
            }
        }
        b.words.push(word);
    }

    fn end_command(&mut self, idx: usize) {
        self.finish_word(idx, false);
        let b = self.bare(idx);
        let words = mem::take(&mut b.words);
        b.pipeline.push(words);
        b.dbracket = false;
        b.redirect_next = false;
    }

    fn end_pipeline(&mut self, idx: usize) -> Result<(), ShellTemplateError> {
        self.end_command(idx);
        let b = self.bare(idx);
        let pipeline = mem::take(&mut b.pipeline);
        let templates = mem::take(&mut b.pipeline_templates);
        for (cmd_index, offset) in templates {
            if pipeline
                .iter()
                .skip(cmd_index + 1)
                .any(|c| runs_stdin_as_code(c))
            {
                return Err(err(
                    offset,
                    "the value is piped into a shell that runs it as code",
                    format!(
                        "{HINT_ENV}, or pass it as an argument: bash -c '... \"$1\"' _ {{{{ ... }}}}"
                    ),
                ));
            }
        }
        for p in &mut self.pending {
            if p.frame == idx && !p.decided {
                p.decided = true;
                p.heredoc.code = pipeline
                    .iter()
                    .skip(p.cmd_index)
                    .any(|c| runs_stdin_as_code(c));
            }
        }
        Ok(())
    }

    /// `{{ ... }}` (or `{%`, `{#`) at the current position.
    fn template(&mut self) -> Result<(), ShellTemplateError> {
        let open = self.pos;
        if self.peek(1) != Some(b'{') {
            return Err(block_or_comment(open, self.peek(1)));
        }
        let (end, expr) = scan_expr(self.src, open)?;
        self.word_append(MARK, false);
        let kind = self.check_context(open)?;
        let var = format!("{VAR_PREFIX}{}", self.placeholders.len());
        let reference = match kind {
            Kind::Bare => format!("\"${{{var}}}\""),
            Kind::Double | Kind::Heredoc => format!("${{{var}}}"),
            Kind::Single => format!("'\"${{{var}}}\"'"),
        };
        self.out.push_str(&reference);
        // Every enclosing command whose current word holds this value, except
        // the one that owns a heredoc body: its pipeline has already ended.
        let mut owns_heredoc = false;
        for frame in self.stack.iter_mut().rev() {
            match frame {
                Frame::HeredocBody { .. } => owns_heredoc = true,
                Frame::Bare(b) => {
                    if !owns_heredoc {
                        b.pipeline_templates.push((b.pipeline.len(), open));
                    }
                    owns_heredoc = false;
                }
                _ => {}
            }
        }
        self.placeholders.push(Placeholder {
            expr: expr.to_owned(),
            var,
            offset: open,
        });
        self.pos = end;
        Ok(())
    }

    /// Decides how the placeholder at `open` is written, or why it cannot be.
    fn check_context(&self, open: usize) -> Result<Kind, ShellTemplateError> {
        let top = self.stack.len() - 1;
        let kind = match &self.stack[top] {
            Frame::Bare(_) => Kind::Bare,
            Frame::Double { .. } => Kind::Double,
            Frame::Single { .. } => Kind::Single,
            Frame::HeredocBody { heredoc, .. } if !heredoc.expanding => {
                return Err(err(
                    open,
                    "a template inside a quoted heredoc (<<'EOF') is never expanded",
                    format!(
                        "use an unquoted delimiter (<<EOF, the heredoc opened at byte {}) or {HINT_ENV}",
                        heredoc.open
                    ),
                ));
            }
            Frame::HeredocBody { .. } => Kind::Heredoc,
            frame => return Err(inside(open, frame)),
        };
        for frame in self.stack.iter().rev() {
            match frame {
                Frame::Bare(b) => check_command(b, open)?,
                Frame::Double { .. } | Frame::Single { .. } => {}
                Frame::HeredocBody { heredoc, .. } => {
                    if heredoc.code {
                        return Err(err(
                            open,
                            "a template inside a heredoc that a shell runs as code",
                            format!("{HINT_ENV}; the shell reading the heredoc inherits it"),
                        ));
                    }
                }
                frame => return Err(inside(open, frame)),
            }
        }
        Ok(kind)
    }
}

/// Rejects placeholders in words of commands that evaluate them.
fn check_command(b: &Bare, open: usize) -> Result<(), ShellTemplateError> {
    if b.dbracket {
        return Err(err(
            open,
            "a template inside [[ ]] can run code: bash evaluates operands of -eq, -lt ... as arithmetic, where a[$(cmd)] runs cmd",
            HINT_VALIDATE,
        ));
    }
    let Some(cur) = &b.cur else {
        return Ok(());
    };
    if b.redirect_next {
        return Ok(());
    }
    let words: Vec<&Word> = b.words.iter().filter(|w| !w.redirect).collect();
    for (k, w) in words.iter().enumerate() {
        let name = basename(&w.text);
        if SHELLS.contains(&name) {
            let previous = words[k + 1..].iter().rev().find(|w| w.text != "--");
            if previous.is_some_and(|p| is_c_option(&p.text)) {
                return Err(err(
                    open,
                    format!("a template in the script of `{name} -c` is run as code by that shell"),
                    format!(
                        "pass the value as an argument: {name} -c '... \"$1\" ...' _ {{{{ ... }}}}, or {HINT_ENV}"
                    ),
                ));
            }
        }
        if name == "ssh" {
            let args: Vec<&str> = words[k + 1..].iter().map(|w| w.text.as_str()).collect();
            if ssh_host_index(&args).is_some() {
                return Err(err(
                    open,
                    "a template in the remote command of `ssh` is run as code by the remote shell",
                    "send the value on stdin (printf '%s' {{ ... }} | ssh host 'read -r v; ...') or through SendEnv",
                ));
            }
        }
    }
    let Some(mut i) = words.iter().position(|w| !w.is_assignment()) else {
        if cur.in_subscript() {
            return Err(err(
                open,
                "a template inside an array subscript can run code: bash evaluates it as arithmetic, where a[$(cmd)] runs cmd",
                HINT_VALIDATE,
            ));
        }
        return Ok(());
    };
    while i < words.len() && matches!(words[i].text.as_str(), "builtin" | "command") {
        i += 1;
    }
    let Some(cmd) = words.get(i) else {
        return Ok(());
    };
    let args = &words[i + 1..];
    let names_hint = "read the value into a variable with a fixed name instead, e.g. x={{ ... }}";
    match cmd.text.as_str() {
        c @ ("eval" | "trap" | "alias") => Err(err(
            open,
            format!("`{c}` runs its arguments as shell code"),
            format!("{HINT_ENV}, and do not pass it to `{c}`"),
        )),
        "let" => Err(err(
            open,
            "`let` evaluates its arguments as arithmetic, where a[$(cmd)] runs cmd",
            HINT_VALIDATE,
        )),
        c @ ("declare" | "typeset" | "local" | "readonly" | "export") => {
            let options = args.iter().any(|w| w.text.starts_with(['-', '+']));
            if options || !cur.is_plain_assignment() {
                Err(err(
                    open,
                    format!(
                        "a template in `{c}` can run code: bash evaluates names, subscripts, -a/-i values as code or arithmetic"
                    ),
                    format!(
                        "only `{c} name={{{{ ... }}}}` without options is allowed; or assign first and declare after"
                    ),
                ))
            } else {
                Ok(())
            }
        }
        c @ ("read" | "mapfile" | "readarray" | "unset" | "getopts") => Err(err(
            open,
            format!("`{c}` takes variable names, where bash evaluates a[$(cmd)] subscripts"),
            names_hint,
        )),
        c @ ("printf" | "wait")
            if args
                .iter()
                .any(|w| w.text.starts_with(if c == "printf" { "-v" } else { "-p" })) =>
        {
            Err(err(
                open,
                format!(
                    "`{c}` with a variable-name option can run code: bash evaluates a[$(cmd)] subscripts"
                ),
                names_hint,
            ))
        }
        "test" | "["
            if args
                .last()
                .is_some_and(|w| w.text == "-v" || w.text == "-R") =>
        {
            Err(err(
                open,
                "`test -v` takes a variable name, where bash evaluates a[$(cmd)] subscripts",
                names_hint,
            ))
        }
        _ => Ok(()),
    }
}

fn inside(open: usize, frame: &Frame) -> ShellTemplateError {
    match frame {
        Frame::AnsiC { open: at } => err(
            open,
            format!("a template inside $'...' (opened at byte {at}) is not supported"),
            "put the template outside the $'...' quotes, or in '...' or \"...\"",
        ),
        Frame::Backtick { open: at } => err(
            open,
            format!("a template inside backticks (opened at byte {at}) is not supported"),
            "use $( ... ) instead of backticks",
        ),
        Frame::Arith { open: at, .. } => err(
            open,
            format!(
                "a template inside an arithmetic expression (opened at byte {at}) can run code: bash evaluates the value as arithmetic, where a[$(cmd)] runs cmd"
            ),
            HINT_VALIDATE,
        ),
        Frame::Param { open: at, .. } => err(
            open,
            format!(
                "a template inside a ${{...}} parameter expansion (opened at byte {at}) is not supported"
            ),
            "assign the template to a variable first (x={{ ... }}) and use ${x...}",
        ),
        _ => err(open, "a template is not allowed here", HINT_ENV),
    }
}

fn unterminated(frame: &Frame) -> ShellTemplateError {
    let (open, what, close) = match frame {
        Frame::Bare(b) => (b.open, "command substitution $(", ")"),
        Frame::Double { open } => (*open, "double quote", "\""),
        Frame::Single { open } => (*open, "single quote", "'"),
        Frame::AnsiC { open } => (*open, "$'...' quote", "'"),
        Frame::Backtick { open } => (*open, "backtick", "`"),
        Frame::Arith { open, bracket, .. } => (
            *open,
            "arithmetic expression",
            if *bracket { "]" } else { "))" },
        ),
        Frame::Param { open, .. } => (*open, "parameter expansion ${", "}"),
        Frame::HeredocBody { heredoc, .. } => (heredoc.open, "heredoc", "the delimiter line"),
    };
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

fn block_or_comment(offset: usize, second: Option<u8>) -> ShellTemplateError {
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

fn basename(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// `-c`, or a cluster like `-ec`, or `--command`.
fn is_c_option(word: &str) -> bool {
    word == "--command"
        || (word.len() >= 2
            && word.starts_with('-')
            && !word.starts_with("--")
            && word[1..].bytes().all(|c| c.is_ascii_alphabetic())
            && word[1..].contains('c'))
}

/// Index of the host among ssh's arguments, if it is there.
fn ssh_host_index(args: &[&str]) -> Option<usize> {
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if *a == "--" {
            return (i + 1 < args.len()).then_some(i + 1);
        }
        if a.len() > 1 && a.starts_with('-') {
            let opts = &a[1..];
            if opts
                .find(|c| SSH_ARG_OPTS.contains(c))
                .is_some_and(|p| p + 1 == opts.len())
            {
                i += 1;
            }
            i += 1;
            continue;
        }
        return Some(i);
    }
    None
}

/// The command reads shell code from its stdin: a shell without `-c` or a
/// script file, `su`, `xargs sh -c`, or ssh without a remote command or with
/// a shell as remote command.
fn runs_stdin_as_code(words: &[Word]) -> bool {
    let ws: Vec<&str> = words
        .iter()
        .filter(|w| !w.redirect)
        .map(|w| w.text.as_str())
        .collect();
    for (k, w) in ws.iter().enumerate() {
        let name = basename(w);
        let rest = &ws[k + 1..];
        if matches!(name, "source" | ".")
            && rest
                .first()
                .is_some_and(|f| matches!(*f, "/dev/stdin" | "/proc/self/fd/0" | "/dev/fd/0"))
        {
            return true;
        }
        if name == "xargs" && rest.iter().any(|a| SHELLS.contains(&basename(a))) {
            return true;
        }
        if matches!(name, "su" | "runuser") {
            return !rest
                .iter()
                .any(|a| is_c_option(a) || a.starts_with("--command"));
        }
        if SHELLS.contains(&name) {
            let mut j = 0;
            let mut stdin = true;
            while let Some(a) = rest.get(j) {
                if is_c_option(a) {
                    stdin = false;
                    break;
                }
                if matches!(*a, "-o" | "+o" | "-O" | "+O") {
                    j += 2;
                    continue;
                }
                if a.starts_with(['-', '+']) {
                    if a.len() > 1
                        && a[1..].bytes().all(|c| c.is_ascii_alphabetic())
                        && a.contains('s')
                    {
                        break;
                    }
                    // `-euo pipefail`: the option cluster ends with one that takes an argument.
                    j += if a.ends_with(['o', 'O']) { 2 } else { 1 };
                    continue;
                }
                // A script file operand: stdin is data for it.
                stdin = false;
                break;
            }
            if stdin {
                return true;
            }
        }
        if name == "ssh" {
            return match ssh_host_index(rest) {
                None => true,
                Some(h) => rest
                    .get(h + 1)
                    .is_none_or(|c| SHELLS.contains(&basename(c))),
            };
        }
    }
    false
}

#[cfg(test)]
mod tests;
