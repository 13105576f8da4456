//! Where a `{{ }}` value may go in a shell script: drctl's policy, applied to
//! the syntax tree from [`super::parse`]. This module is meant to be read on
//! its own by a security reviewer; docs/security.md ("Values never become
//! code") is its user-facing twin, and a test keeps the two in agreement.
//!
//! # The rule
//!
//! A placeholder is rewritten to a quoted environment-variable reference, so
//! bash itself never parses the value. What remains is what the *receiver*
//! does with it. For each placeholder the policy follows its flow — an
//! argument word of a command, the command's standard input (pipe,
//! here-string, heredoc), a file the command reads (process substitution,
//! `/dev/stdin`, `/dev/fd/N`), an assignment value, a subscript, a command
//! name, a `case` word, a `[[ ]]` operand — through command substitutions
//! and pipes, and accepts it only where that flow is known to be data:
//!
//! - **Lexical context.** Only bare words, `"..."`, `'...'` and unquoted
//!   heredoc bodies carry values. Arithmetic, `${ }`, `$'...'`, backticks and
//!   quoted heredocs are refused wherever they are.
//! - **Command names** must be literal when a value reaches the command; a
//!   value is never a command name.
//! - **Wrappers** ([`WRAPPERS`]) are looked through to the command they run;
//!   a value among a wrapper's own options is refused (it could become one).
//! - **Evaluators** ([`EVALUATORS`]): shells, `eval`, `source`, interpreters
//!   and the like. A value is refused where it is program text, names the
//!   program file, or reaches the standard input or file the program is read
//!   from; it is accepted where the evaluator takes data (`bash -c '...' _ V`,
//!   `awk -v x=V`, `jq --arg x V`, the files after a program).
//! - **Builtins that take names or arithmetic** (`let`, `read`, `unset`,
//!   `printf -v`, `declare -i` ...) are evaluators of their own kind.
//! - **Variables and files carry values**, flow-insensitively: a variable
//!   assigned a value anywhere (`x={{ v }}`, `read x` from it, `for x in`)
//!   holds it wherever `$x` is used, and a file the script writes a value
//!   into (`> f`, `tee f`) holds it wherever it is read or run.
//! - **Every other command** receives its arguments as data: bash passes each
//!   value as one argv entry, byte for byte, and the command is not known to
//!   run its arguments as code. Its standard input is data too. This is the
//!   one place the policy trusts the outside world; the catalog lists the
//!   commands known to break that trust, and it is deliberately broad.
//!
//! Anything the parser cannot see through is refused when a value reaches it.

use std::collections::{HashMap, HashSet};

mod catalog;
mod files;
mod options;
mod remote;
mod stdin;

use super::ShellTemplateError;
use super::parse::{
    Command, Compound, Parsed, Part, Quote, RedirOp, Redirect, Script, Simple, Target, Word,
};
pub use catalog::{
    CODE_VARIABLES, DATA_READERS, EVALUATORS, Evaluator, First, STDIN_ON_REQUEST, WRAPPERS, Wrapper,
};
use catalog::{HINT_SHELL, canonical, lookup_evaluator, lookup_wrapper};

/// The offset of the placeholder whose value flows somewhere.
type Taint = usize;

pub(super) const HINT_ENV: &str = "pass the value through `env:` and use \"$NAME\" in the script";
pub(super) const HINT_VALIDATE: &str = "assign it to a variable first (x={{ ... }}) and validate it with a case \
     pattern, e.g. case $x in ''|*[!0-9]*) exit 1;; esac, before using $x there";
pub(super) const HINT_NAMES: &str =
    "read the value into a variable with a fixed name instead, e.g. x={{ ... }}";

/// How the value reaches a command's input.
#[derive(Debug, Clone, Copy)]
enum Via {
    Pipe,
    HereString,
    Heredoc,
    ProcSubst,
    NamedFile,
    WrittenFile,
}

impl Via {
    fn words(self) -> &'static str {
        match self {
            Via::Pipe => "a pipe",
            Via::HereString => "a here-string",
            Via::Heredoc => "a heredoc",
            Via::ProcSubst => "a process substitution",
            Via::NamedFile => "a redirection from a file the value names",
            Via::WrittenFile => "a file the script writes the value into",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Input {
    fd: u32,
    taint: Taint,
    via: Via,
}

/// One argument word as the policy sees it.
#[derive(Debug, Clone, Default)]
struct Arg {
    literal: Option<String>,
    /// The word's text holds a value.
    value: Option<Taint>,
    /// The word names a file (`<( )`) whose content holds a value.
    file: Option<Taint>,
    /// The word starts with a value, so it may start with `-`.
    leading: bool,
    /// The literal text before the first expansion or value.
    prefix: String,
    /// A literal file name the script writes a value into.
    written: bool,
}

impl Arg {
    fn taint(&self) -> Option<Taint> {
        self.value.or(self.file)
    }
    fn lit(&self) -> Option<&str> {
        self.literal.as_deref()
    }
}

fn refuse(
    offset: usize,
    message: impl Into<String>,
    hint: impl Into<String>,
) -> ShellTemplateError {
    ShellTemplateError {
        offset,
        message: message.into(),
        hint: hint.into(),
    }
}

/// Checks every placeholder of a parsed script.
pub fn check(parsed: &Parsed) -> Result<(), ShellTemplateError> {
    for site in &parsed.sites {
        lexical(site.offset, site.quote)?;
    }
    let Some(first) = parsed.sites.first() else {
        return Ok(());
    };
    let mut checker = Checker::new(parsed, first.offset);
    let outer: Vec<(String, Taint)> = checker
        .vars
        .iter()
        .filter(|(n, _)| is_var(n))
        .map(|(n, t)| (n.clone(), *t))
        .collect();
    let _outer = Outer::set(outer);
    checker.script(&parsed.script, None)?;
    // Function bodies again, for the calls that feed them a value on stdin.
    let mut done = HashSet::new();
    loop {
        let pending: Vec<(String, Taint)> = checker
            .stdin_calls
            .iter()
            .filter(|(name, _)| !done.contains(*name))
            .map(|(n, t)| (n.clone(), *t))
            .collect();
        if pending.is_empty() {
            // Last, so that a more specific refusal above is the one reported.
            files::check(&checker.vars, &parsed.script)?;
            return checker.evaluated_vars();
        }
        for (name, taint) in pending {
            done.insert(name.clone());
            if let Some(body) = checker.functions.get(&name).copied() {
                checker.command(body, Some(taint))?;
            }
        }
    }
}

/// Only bare words, double and single quotes and unquoted heredocs carry a value.
fn lexical(offset: usize, quote: Quote) -> Result<(), ShellTemplateError> {
    match quote {
        Quote::Bare | Quote::Double | Quote::Single | Quote::Heredoc => Ok(()),
        Quote::QuotedHeredoc { open } => Err(refuse(
            offset,
            "a template inside a quoted heredoc (<<'EOF') is never expanded",
            format!(
                "use an unquoted delimiter (<<EOF, the heredoc opened at byte {open}) or {HINT_ENV}"
            ),
        )),
        Quote::AnsiC { open } => Err(refuse(
            offset,
            format!("a template inside $'...' (opened at byte {open}) is not supported"),
            "put the template outside the $'...' quotes, or in '...' or \"...\"",
        )),
        Quote::Backtick { open } => Err(refuse(
            offset,
            format!("a template inside backticks (opened at byte {open}) is not supported"),
            "use $( ... ) instead of backticks",
        )),
        Quote::Arith { open } => Err(refuse(
            offset,
            format!(
                "a template inside an arithmetic expression (opened at byte {open}) can run code: bash evaluates the value as arithmetic, where a[$(cmd)] runs cmd"
            ),
            HINT_VALIDATE,
        )),
        Quote::Param { open } => Err(refuse(
            offset,
            format!(
                "a template inside a ${{...}} parameter expansion (opened at byte {open}) is not supported"
            ),
            "assign the template to a variable first (x={{ ... }}) and use ${x...}",
        )),
    }
}

struct Checker<'a> {
    parsed: &'a Parsed,
    /// Names declared `-i`: a plain assignment evaluates arithmetic.
    integers: HashSet<String>,
    /// Names declared `-a`, `-A`, `-i`, `-n` or assigned an array: `declare`
    /// or `local` of them re-parses the value.
    typed: HashSet<String>,
    functions: HashMap<String, &'a Command>,
    /// Functions called with a value on their standard input.
    stdin_calls: HashMap<String, Taint>,
    first: Taint,
    /// `exec < ...` with a value: every later command reads it on stdin.
    exec_stdin: Option<Taint>,
    /// Variables assigned a value anywhere in the script (`x={{ v }}`,
    /// `read x` from a value, `for x in {{ v }}`): `$x` carries it.
    vars: HashMap<String, Taint>,
    /// Whether any file receives a value (most scripts: none).
    files: bool,
    /// Names declared `-n` (namerefs): assigning one sets the name it refers to.
    namerefs: HashSet<String>,
    /// The script defines an alias.
    aliases: bool,
    /// The standard input of the whole script (`bash -c '...' <<< {{ v }}`).
    stdin: Option<Taint>,
}

#[derive(Default)]
struct WordInfo<'a> {
    arg: Arg,
    writes: Vec<&'a Script>,
}

#[derive(Default)]
struct Redirs<'a> {
    inputs: Vec<Input>,
    writes: Vec<&'a Script>,
    stdin_replaced: bool,
    names: Option<Taint>,
}

impl<'a> Checker<'a> {
    fn new(parsed: &'a Parsed, first: Taint) -> Self {
        let mut checker = Checker {
            parsed,
            integers: HashSet::new(),
            typed: HashSet::new(),
            functions: HashMap::new(),
            stdin_calls: HashMap::new(),
            first,
            exec_stdin: None,
            vars: HashMap::new(),
            files: false,
            namerefs: HashSet::new(),
            aliases: false,
            stdin: None,
        };
        checker.collect(&parsed.script);
        checker.taint_vars();
        checker.files = checker.vars.keys().any(|k| k.starts_with('\0'));
        checker
    }

    /// Where a variable holding a value is used in a way that evaluates it,
    /// anywhere in the script (flow-insensitive, like the taint itself).
    fn evaluated_vars(&self) -> Result<(), ShellTemplateError> {
        if self.aliases {
            return Err(refuse(
                self.first,
                "a template in a script that defines an `alias`: with alias expansion on (shopt -s expand_aliases, set -o posix) any command name may stand for eval",
                "use a function instead of the alias",
            ));
        }
        for e in &self.parsed.evals {
            if let Some(&t) = self.vars.get(&e.name) {
                return Err(evaluated(t, &e.name, e.what));
            }
        }
        for (name, &t) in &self.vars {
            if self.namerefs.contains(name) {
                return Err(refuse(
                    t,
                    format!(
                        "the value is assigned to {name}, a nameref (declare -n): it becomes the name of the variable {name} refers to, and expanding it evaluates a[$(cmd)]"
                    ),
                    "assign it to a plain variable",
                ));
            }
            if CODE_VARIABLES.contains(&name.as_str()) {
                return Err(code_variable(t, name));
            }
        }
        Ok(())
    }

    fn site(&self, id: usize) -> Taint {
        self.parsed.sites[id].offset
    }

    /// A pass over the whole tree for what later checks need: typed names,
    /// function bodies, `exec` redirections of stdin.
    fn collect(&mut self, script: &'a Script) {
        for pipeline in &script.pipelines {
            for command in &pipeline.commands {
                self.collect_command(command);
            }
        }
    }

    fn collect_command(&mut self, command: &'a Command) {
        match command {
            Command::Simple(s) => {
                for a in &s.assignments {
                    if a.array.is_some() {
                        self.typed.insert(a.name.clone());
                    }
                }
                let lits: Vec<Option<String>> = s.words.iter().map(Word::literal).collect();
                if let Some(Some(name)) = lits.first() {
                    match name.as_str() {
                        "declare" | "typeset" | "local" | "readonly" | "export" => {
                            let opts: String = lits[1..]
                                .iter()
                                .flatten()
                                .filter(|w| w.starts_with('-'))
                                .flat_map(|w| w.chars().skip(1))
                                .collect();
                            if opts.contains(['a', 'A', 'i', 'n']) {
                                for (w, l) in s.words[1..].iter().zip(&lits[1..]) {
                                    let n = w
                                        .assignment_name()
                                        .or_else(|| l.clone().filter(|l| super::parse::is_name(l)));
                                    if let Some(n) = n {
                                        if opts.contains('i') {
                                            self.integers.insert(n.clone());
                                        }
                                        if opts.contains('n') {
                                            self.namerefs.insert(n.clone());
                                        }
                                        self.typed.insert(n);
                                    }
                                }
                            }
                        }
                        "alias" => self.aliases = true,
                        "read" | "mapfile" | "readarray" => {
                            for l in lits[1..].iter().flatten() {
                                if super::parse::is_name(l) {
                                    self.typed.insert(l.clone());
                                }
                            }
                        }
                        "exec" if s.words.len() == 1 => {
                            for r in &s.redirects {
                                // Any input fd: `exec 3<<< ...; source /dev/fd/3`.
                                let fd0 = r.op == RedirOp::Input;
                                let parts: &[Part] = match &r.target {
                                    Target::Word(w) | Target::HereString(w) => &w.parts,
                                    Target::Heredoc(id) => &self.parsed.heredocs[*id].body,
                                };
                                if fd0 && !parts.is_empty() {
                                    self.exec_stdin = self.exec_stdin.or(Some(self.first));
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            Command::Compound { body, .. } => match body {
                Compound::Lists(lists) => lists.iter().for_each(|l| self.collect(l)),
                Compound::For { body, .. } => self.collect(body),
                Compound::Case { arms, .. } => arms.iter().for_each(|(_, l)| self.collect(l)),
                Compound::Arith | Compound::Cond(_) => {}
            },
            Command::Function { name, body } => {
                if let Some(n) = name.literal() {
                    self.functions.insert(n, body);
                }
                self.collect_command(body);
            }
        }
    }

    /// Which variables hold a value, to a fixpoint (`y=$x` after `x={{ v }}`).
    /// Flow-insensitive: a variable assigned a value anywhere holds it everywhere.
    fn taint_vars(&mut self) {
        // Each pass finds at least one more variable; a long chain of
        // assignments written backwards would take as many passes as links,
        // so after a few every assigned variable is taken to hold a value.
        const PASSES: usize = 16;
        for _ in 0..PASSES {
            let before = self.vars.len();
            let mut found = Vec::new();
            self.vars_in(&self.parsed.script, self.stdin, &mut found);
            for (name, taint) in found {
                self.vars.entry(name).or_insert(taint);
            }
            if self.vars.len() == before {
                return;
            }
        }
        let mut all = Vec::new();
        assigned_names(&self.parsed.script, &mut all);
        for name in all {
            self.vars.entry(name).or_insert(self.first);
        }
    }

    /// A shallow taint of a word: placeholders, tainted variables, and
    /// command substitutions holding either, however deep.
    fn word_taint(&self, word: &Word) -> Option<Taint> {
        word.parts.iter().find_map(|p| self.part_taint(p))
    }

    fn part_taint(&self, part: &Part) -> Option<Taint> {
        match part {
            Part::Template(id) => Some(self.site(*id)),
            Part::Param { name: Some(n) } => self.vars.get(n).copied(),
            Part::CommandSubst(Some(s)) | Part::ProcSubst { script: s, .. } => self.script_taint(s),
            _ => None,
        }
    }

    fn script_taint(&self, script: &Script) -> Option<Taint> {
        script
            .pipelines
            .iter()
            .flat_map(|p| &p.commands)
            .find_map(|c| self.command_taint(c))
    }

    fn command_taint(&self, command: &Command) -> Option<Taint> {
        match command {
            Command::Simple(s) => s
                .words
                .iter()
                .chain(s.assignments.iter().map(|a| &a.word))
                .chain(s.assignments.iter().flat_map(|a| a.array.iter().flatten()))
                .find_map(|w| self.word_taint(w))
                .or_else(|| s.redirects.iter().find_map(|r| self.redirect_taint(r)))
                .or_else(|| self.substituted(s)),
            Command::Compound { body, redirects } => redirects
                .iter()
                .find_map(|r| self.redirect_taint(r))
                .or_else(|| match body {
                    Compound::Lists(lists) => lists.iter().find_map(|l| self.script_taint(l)),
                    Compound::For { words, body, .. } => words
                        .iter()
                        .find_map(|w| self.word_taint(w))
                        .or_else(|| self.script_taint(body)),
                    Compound::Case { word, arms } => self
                        .word_taint(word)
                        .or_else(|| arms.iter().find_map(|(_, l)| self.script_taint(l))),
                    Compound::Cond(words) => words.iter().find_map(|w| self.word_taint(w)),
                    Compound::Arith => None,
                }),
            Command::Function { body, .. } => self.command_taint(body),
        }
    }

    fn redirect_taint(&self, r: &Redirect) -> Option<Taint> {
        match &r.target {
            Target::Word(w) | Target::HereString(w) => self.word_taint(w),
            Target::Heredoc(id) => self.parsed.heredocs[*id]
                .body
                .iter()
                .find_map(|p| self.part_taint(p)),
        }
    }

    fn vars_in(&self, script: &Script, stdin: Option<Taint>, found: &mut Vec<(String, Taint)>) {
        for pipeline in &script.pipelines {
            let mut input = stdin;
            for command in &pipeline.commands {
                self.vars_in_command(command, input, found);
                input = input.or(self.command_taint(command));
            }
        }
    }

    fn vars_in_command(
        &self,
        command: &Command,
        stdin: Option<Taint>,
        found: &mut Vec<(String, Taint)>,
    ) {
        let nested = |w: &Word, found: &mut Vec<(String, Taint)>| {
            for p in &w.parts {
                if let Part::CommandSubst(Some(s)) | Part::ProcSubst { script: s, .. } = p {
                    self.vars_in(s, stdin, found);
                }
            }
        };
        match command {
            Command::Simple(s) => {
                let input = stdin.or_else(|| {
                    s.redirects
                        .iter()
                        .find(|r| r.op == RedirOp::Input)
                        .and_then(|r| self.redirect_taint(r))
                });
                for a in &s.assignments {
                    nested(&a.word, found);
                    let t = self
                        .word_taint(&a.word)
                        .or_else(|| a.array.iter().flatten().find_map(|w| self.word_taint(w)));
                    if let Some(t) = t {
                        found.push((a.name.clone(), t));
                    }
                }
                for w in &s.words {
                    nested(w, found);
                }
                let name = s.words.first().and_then(Word::literal);
                // A function called with a value: its positional parameters hold it.
                if name
                    .as_ref()
                    .is_some_and(|n| self.functions.contains_key(n))
                    && let Some(t) = s.words[1..].iter().find_map(|w| self.word_taint(w))
                {
                    found.extend(POSITIONAL.iter().map(|p| ((*p).to_owned(), t)));
                }
                self.writes_in(s, input, found);
                let arg_taint = s.words.iter().skip(1).find_map(|w| self.word_taint(w));
                match (name.as_deref(), arg_taint) {
                    // `export X={{ v }}`, `declare -x X=...`, `local X=...`.
                    (Some("declare" | "typeset" | "local" | "readonly" | "export" | "env"), _) => {
                        for w in s.words.iter().skip(1) {
                            if let (Some(n), Some(t)) = (w.assignment_name(), self.word_taint(w)) {
                                found.push((n, t));
                            }
                        }
                    }
                    // `set -- {{ v }}`: the positional parameters.
                    (Some("set"), Some(t)) => {
                        found.extend(POSITIONAL.iter().map(|p| ((*p).to_owned(), t)));
                    }
                    // `printf -v NAME ... {{ v }}`.
                    (Some("printf"), Some(t)) => {
                        for pair in s.words.windows(2) {
                            if pair[0].literal().as_deref() == Some("-v")
                                && let Some(n) = pair[1].literal()
                            {
                                found.push((n, t));
                            }
                        }
                    }
                    _ => {}
                }
                if let (Some("read" | "mapfile" | "readarray"), Some(t)) = (name.as_deref(), input)
                {
                    for w in &s.words[1..] {
                        if let Some(l) = w.literal().filter(|l| super::parse::is_name(l)) {
                            found.push((l, t));
                        }
                    }
                }
            }
            Command::Compound { body, redirects } => {
                let input = stdin.or_else(|| {
                    redirects
                        .iter()
                        .find(|r| r.op == RedirOp::Input)
                        .and_then(|r| self.redirect_taint(r))
                });
                match body {
                    Compound::Lists(lists) => {
                        for l in lists {
                            self.vars_in(l, input, found);
                        }
                    }
                    Compound::For { name, words, body } => {
                        // `for a; do` loops over "$@".
                        let t = if words.is_empty() {
                            self.vars.get("@").copied()
                        } else {
                            words.iter().find_map(|w| self.word_taint(w))
                        };
                        if let (Some(n), Some(t)) = (name.literal(), t) {
                            found.push((n, t));
                        }
                        self.vars_in(body, input, found);
                    }
                    Compound::Case { arms, .. } => {
                        for (_, l) in arms {
                            self.vars_in(l, input, found);
                        }
                    }
                    Compound::Cond(_) | Compound::Arith => {}
                }
            }
            Command::Function { body, .. } => self.vars_in_command(body, None, found),
        }
    }

    /// Files a simple command writes a value into, or whose name a value
    /// chooses ([`files`]): `> f`, `tee f`, `dd of=f`, `curl -o f`, and the
    /// operands of `cp`, `mv`, `ln`, `install`, `rsync`, `dd`.
    fn writes_in(&self, s: &Simple, input: Option<Taint>, found: &mut Vec<(String, Taint)>) {
        let content = input.or_else(|| self.command_taint_simple(s));
        let write = |w: &Word, t: Taint, found: &mut Vec<(String, Taint)>| {
            // A computed name (`> $f`): any computed name may be that file.
            let path = w.literal().unwrap_or_else(|| ANY_FILE.to_owned());
            found.push((written(&path), t));
            found.push((files::target(&files::path_text(w)), t));
        };
        for r in &s.redirects {
            if let (RedirOp::Output, Target::Word(w)) = (r.op, &r.target) {
                if let Some(t) = self.word_taint(w) {
                    found.push((files::PATH_FLOW.to_owned(), t));
                    found.push((files::target(&files::path_text(w)), t));
                }
                if let Some(t) = content {
                    write(w, t, found);
                }
            }
        }
        let Some(k) = files::effective(&s.words) else {
            return;
        };
        let Some(name) = s.words[k].literal() else {
            return;
        };
        let name = canonical(basename(&name));
        let operands = &s.words[k + 1..];
        match name {
            "tee" | "sponge" => {
                for w in operands
                    .iter()
                    .filter(|w| !w.literal().is_some_and(|l| l.starts_with('-')))
                {
                    if let Some(t) = self.word_taint(w) {
                        found.push((files::PATH_FLOW.to_owned(), t));
                    }
                    if let Some(t) = input.or_else(|| self.word_taint(w)) {
                        write(w, t, found);
                    }
                }
            }
            "curl" | "wget" => {
                // `curl -o f URL`, `wget -O f URL`: f holds what the URL serves.
                let Some(t) = content else { return };
                for (i, w) in operands.iter().enumerate() {
                    let Some(l) = w.literal() else { continue };
                    let next = operands.get(i + 1);
                    let flag = if name == "curl" {
                        matches!(l.as_str(), "-o" | "--output")
                    } else {
                        matches!(l.as_str(), "-O" | "--output-document")
                    };
                    if flag && let Some(f) = next {
                        write(f, t, found);
                    } else if (name == "curl"
                        && matches!(l.as_str(), "-O" | "--remote-name" | "--remote-name-all"))
                        || (name == "wget" && !l.starts_with('-'))
                        || l.starts_with("--output")
                        || (l.starts_with("-o") || l.starts_with("-O")) && l.len() > 2
                    {
                        // A file named after the URL, or by attached text.
                        found.push((written(ANY_FILE), t));
                        found.push((files::PATH_FLOW.to_owned(), t));
                    }
                }
            }
            "cp" | "mv" | "ln" | "install" | "rsync" | "dd" | "tar" | "unzip" | "scp" => {
                // A value in an operand, a file holding one, or stdin read
                // as a file: every file named may hold it.
                let t = operands.iter().find_map(|w| {
                    self.word_taint(w).or_else(|| {
                        let l = w.literal()?;
                        let l = l.strip_prefix("if=").unwrap_or(&l);
                        if l == "-" || l.contains("/dev/stdin") || l.ends_with("/fd/0") {
                            return input;
                        }
                        self.vars.get(&written(l)).copied()
                    })
                });
                let t = t.or(if name == "dd" || name == "tar" {
                    input
                } else {
                    None
                });
                if let Some(t) = t {
                    found.push((files::PATH_FLOW.to_owned(), t));
                    for w in operands {
                        if let Some(l) = w.literal() {
                            if l.starts_with('-') {
                                continue;
                            }
                            let path = l.strip_prefix("of=").unwrap_or(&l);
                            found.push((written(path), t));
                            found.push((files::target(path), t));
                        } else {
                            write(w, t, found);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// `envsubst` prints the values of the (exported) variables it is given.
    fn substituted(&self, s: &Simple) -> Option<Taint> {
        let name = s.words.first().and_then(Word::literal)?;
        if basename(&name) != "envsubst" {
            return None;
        }
        self.vars
            .iter()
            .filter(|(n, _)| is_var(n))
            .map(|(_, t)| *t)
            .min()
    }

    fn command_taint_simple(&self, s: &Simple) -> Option<Taint> {
        s.words
            .iter()
            .chain(s.assignments.iter().map(|a| &a.word))
            .find_map(|w| self.word_taint(w))
            .or_else(|| {
                s.redirects
                    .iter()
                    .filter(|r| r.op == RedirOp::Input)
                    .find_map(|r| self.redirect_taint(r))
            })
    }

    /// Checks a list; returns whether its output may hold a value.
    fn script(
        &mut self,
        script: &'a Script,
        stdin: Option<Taint>,
    ) -> Result<Option<Taint>, ShellTemplateError> {
        let mut out = None;
        for pipeline in &script.pipelines {
            let mut input = stdin;
            for command in &pipeline.commands {
                input = self.command(command, input)?;
            }
            out = out.or(input);
        }
        Ok(out)
    }

    fn command(
        &mut self,
        command: &'a Command,
        stdin: Option<Taint>,
    ) -> Result<Option<Taint>, ShellTemplateError> {
        let stdin = stdin.or(self.exec_stdin);
        match command {
            Command::Simple(s) => self.simple(s, stdin),
            Command::Function { name, body } => {
                if let Some(t) = self.word(name, None)?.arg.value {
                    return Err(refuse(t, "a template as a function name", HINT_NAMES));
                }
                self.command(body, None)?;
                Ok(None)
            }
            Command::Compound { body, redirects } => {
                let r = self.redirects(redirects, stdin)?;
                let inner = r
                    .inputs
                    .iter()
                    .find(|i| i.fd == 0)
                    .map(|i| i.taint)
                    .or(if r.stdin_replaced { None } else { stdin });
                let out = match body {
                    Compound::Lists(lists) => {
                        let mut out = None;
                        for list in lists {
                            out = out.or(self.script(list, inner)?);
                        }
                        out
                    }
                    Compound::For { name, words, body } => {
                        if let Some(t) = self.word(name, inner)?.arg.taint() {
                            return Err(refuse(
                                t,
                                "a template as the variable name of `for`",
                                HINT_NAMES,
                            ));
                        }
                        let mut value = if words.is_empty() {
                            self.vars.get("@").copied()
                        } else {
                            None
                        };
                        for w in words {
                            value = value.or(self.word(w, inner)?.arg.taint());
                        }
                        self.script(body, inner)?.or(value)
                    }
                    Compound::Case { word, arms } => {
                        let mut out = self.word(word, inner)?.arg.taint();
                        for (patterns, body) in arms {
                            for p in patterns {
                                self.word(p, inner)?;
                            }
                            out = out.or(self.script(body, inner)?);
                        }
                        out
                    }
                    Compound::Arith => None,
                    Compound::Cond(words) => {
                        self.cond(words, inner, "[[ ]]")?;
                        None
                    }
                };
                let out = out.or(r.inputs.first().map(|i| i.taint)).or(r.names);
                for w in r.writes {
                    self.script(w, out)?;
                }
                Ok(out)
            }
        }
    }

    fn word(
        &mut self,
        word: &'a Word,
        stdin: Option<Taint>,
    ) -> Result<WordInfo<'a>, ShellTemplateError> {
        let mut info = WordInfo::default();
        let mut first = true;
        let mut prefix_open = true;
        for part in &word.parts {
            if !matches!(part, Part::Lit { .. }) {
                prefix_open = false;
            }
            let taint = match part {
                Part::Lit { text, .. } => {
                    if !text.is_empty() {
                        first = false;
                    }
                    if info.arg.value.is_none() && info.arg.file.is_none() && prefix_open {
                        info.arg.prefix.push_str(text);
                    }
                    continue;
                }
                Part::Template(id) => Some(self.site(*id)),
                Part::CommandSubst(Some(script)) => self.script(script, stdin)?,
                Part::ProcSubst {
                    input: true,
                    script,
                } => {
                    info.arg.file = info.arg.file.or(self.script(script, stdin)?);
                    None
                }
                Part::ProcSubst {
                    input: false,
                    script,
                } => {
                    info.writes.push(script);
                    None
                }
                Part::Param { name: Some(n) } => self.vars.get(n).copied(),
                Part::CommandSubst(None) | Part::Param { .. } | Part::Arith | Part::AnsiC => None,
            };
            if taint.is_some() && first {
                info.arg.leading = true;
            }
            first = false;
            info.arg.value = info.arg.value.or(taint);
        }
        info.arg.literal = word.literal();
        let path = info
            .arg
            .literal
            .clone()
            .unwrap_or_else(|| ANY_FILE.to_owned());
        if self.files
            && let Some(&t) = self.vars.get(&written(&path))
        {
            // A file the script writes a value into: its content holds the value.
            info.arg.file = info.arg.file.or(Some(t));
            info.arg.written = true;
        }
        Ok(info)
    }

    fn heredoc(
        &mut self,
        id: usize,
        stdin: Option<Taint>,
    ) -> Result<Option<Taint>, ShellTemplateError> {
        let mut taint = None;
        for part in &self.parsed.heredocs[id].body {
            let t = match part {
                Part::Template(site) => Some(self.site(*site)),
                Part::CommandSubst(Some(script)) => self.script(script, stdin)?,
                Part::Param { name: Some(n) } => self.vars.get(n).copied(),
                _ => None,
            };
            taint = taint.or(t);
        }
        Ok(taint)
    }

    fn redirects(
        &mut self,
        redirects: &'a [Redirect],
        stdin: Option<Taint>,
    ) -> Result<Redirs<'a>, ShellTemplateError> {
        let mut r = Redirs::default();
        for redirect in redirects {
            let fd = redirect
                .fd
                .unwrap_or(u32::from(redirect.op == RedirOp::Output));
            if redirect.op == RedirOp::Input && fd == 0 {
                r.stdin_replaced = true;
            }
            match &redirect.target {
                Target::HereString(w) => {
                    let info = self.word(w, stdin)?;
                    if let Some(taint) = info.arg.taint() {
                        r.inputs.push(Input {
                            fd,
                            taint,
                            via: Via::HereString,
                        });
                    }
                }
                Target::Heredoc(id) => {
                    if let Some(taint) = self.heredoc(*id, stdin)? {
                        r.inputs.push(Input {
                            fd,
                            taint,
                            via: Via::Heredoc,
                        });
                    }
                }
                Target::Word(w) => {
                    let info = self.word(w, stdin)?;
                    let dup = info
                        .arg
                        .lit()
                        .is_some_and(|l| l.bytes().all(|c| c.is_ascii_digit()));
                    if redirect.op == RedirOp::Input {
                        if let (true, Some(taint)) = (dup, self.exec_stdin) {
                            // `exec 3<<< {{ v }}; bash <&3`: a descriptor the
                            // script opened on a value (`< 3` is taken the same).
                            r.inputs.push(Input {
                                fd,
                                taint,
                                via: Via::Pipe,
                            });
                        } else if let Some(taint) = info.arg.file {
                            let via = if info.arg.written {
                                Via::WrittenFile
                            } else {
                                Via::ProcSubst
                            };
                            r.inputs.push(Input { fd, taint, via });
                        } else if let Some(taint) = info.arg.value {
                            r.inputs.push(Input {
                                fd,
                                taint,
                                via: Via::NamedFile,
                            });
                        }
                    }
                    r.names = r.names.or(info.arg.value);
                    r.writes.extend(info.writes);
                }
            }
        }
        Ok(r)
    }

    fn simple(
        &mut self,
        s: &'a Simple,
        stdin: Option<Taint>,
    ) -> Result<Option<Taint>, ShellTemplateError> {
        let r = self.redirects(&s.redirects, stdin)?;
        let mut inputs = r.inputs;
        if !r.stdin_replaced
            && let Some(taint) = stdin
        {
            inputs.push(Input {
                fd: 0,
                taint,
                via: Via::Pipe,
            });
        }
        let mut assigned = None;
        for a in &s.assignments {
            let taint = self.assignment(a, stdin)?;
            if !a.arg {
                assigned = assigned.or(taint);
            }
        }
        let mut args = Vec::with_capacity(s.words.len());
        let mut writes = r.writes;
        for w in &s.words {
            let info = self.word(w, stdin)?;
            writes.extend(info.writes);
            args.push(info.arg);
        }
        let function = args
            .first()
            .and_then(Arg::lit)
            .is_some_and(|n| self.functions.contains_key(n));
        // A function's standard input reaches the commands of its body,
        // checked with it below (`stdin_calls`).
        invoke(&args, if function { &[] } else { &inputs }, 0)?;
        self.typed_declaration(s, &args)?;
        if OUTER.with_borrow(|o| !o.is_empty()) {
            // A value may reach a `sh -c 'LITERAL'` through its environment,
            // whatever else reaches the command.
            for (k, pair) in args.windows(2).enumerate() {
                if let (Some(flag), Some(text)) = (pair[0].lit(), pair[1].lit())
                    && flag.starts_with('-')
                    && !flag.starts_with("--")
                    && flag.ends_with('c')
                    && super::parse::parse(text).is_ok()
                {
                    let shell = args[..k]
                        .iter()
                        .filter_map(Arg::lit)
                        .rfind(|l| !l.starts_with('-') && !l.contains('='))
                        .map_or("sh", basename);
                    nested_shell(text, None, None, shell)?;
                }
            }
        }
        if args.first().and_then(Arg::lit) == Some("let") {
            for a in &args[1..] {
                if let Some(l) = a.lit() {
                    self.arith_literal(l, "`let`")?;
                }
            }
        }
        let substituted = self.substituted(s);
        let out = args
            .iter()
            .find_map(Arg::taint)
            .or(inputs.first().map(|i| i.taint))
            .or(assigned)
            .or(r.names)
            .or(substituted);
        let exec_only = s.words.len() == 1 && args[0].lit() == Some("exec");
        for w in writes {
            // `exec > >(cmd)`: everything the script prints from here on.
            let feed = if exec_only { Some(self.first) } else { out };
            self.script(w, feed)?;
        }
        if let Some(name) = args.first().and_then(Arg::lit)
            && self.functions.contains_key(name)
            && let Some(i) = inputs.iter().find(|i| i.fd == 0)
        {
            self.stdin_calls.entry(name.to_owned()).or_insert(i.taint);
        }
        Ok(out)
    }

    /// A prefix assignment or an assignment argument of `declare` & co.
    fn assignment(
        &mut self,
        a: &'a super::parse::Assignment,
        stdin: Option<Taint>,
    ) -> Result<Option<Taint>, ShellTemplateError> {
        self.subscript(&a.word, false)?;
        let mut value = if a.arg {
            None
        } else {
            self.word(&a.word, stdin)?.arg.taint()
        };
        if let Some(elements) = &a.array {
            for e in elements {
                self.subscript(e, true)?;
                value = value.or(self.word(e, stdin)?.arg.taint());
            }
        }
        if a.arg
            && let Some(t) = self.word_taint(&a.word)
            && CODE_VARIABLES.contains(&a.name.as_str())
        {
            return Err(code_variable(t, &a.name));
        }
        if self.integers.contains(&a.name)
            && let Some(lit) = a.word.literal()
        {
            // `declare -i y; y=x`: the value `x` is evaluated, and x's value with it.
            self.arith_literal(&lit, "an assignment to an integer variable")?;
        }
        if !a.arg
            && let Some(t) = value
        {
            if CODE_VARIABLES.contains(&a.name.as_str()) {
                return Err(code_variable(t, &a.name));
            }
            if self.integers.contains(&a.name) {
                return Err(refuse(
                    t,
                    format!(
                        "a template assigned to {}, declared as an integer (declare -i): bash evaluates the value as arithmetic, where a[$(cmd)] runs cmd",
                        a.name
                    ),
                    HINT_VALIDATE,
                ));
            }
        }
        Ok(value)
    }

    /// Variables named in literal arithmetic text (`let y=x`) must not hold a value.
    fn arith_literal(&self, text: &str, what: &'static str) -> Result<(), ShellTemplateError> {
        for name in super::parse::arith_names(text) {
            if let Some(&t) = self.vars.get(&name) {
                return Err(evaluated(t, &name, what));
            }
        }
        Ok(())
    }

    fn subscript(&mut self, word: &'a Word, element: bool) -> Result<(), ShellTemplateError> {
        // `a[x]=1`: the literal subscript before `=` (its names are evaluated too).
        if let Some(Part::Lit { text, .. }) = word.parts.first()
            && let Some(open) = text.find('[')
            && text.find('=').is_none_or(|eq| open < eq)
        {
            let sub = &text[open + 1..];
            self.arith_literal(sub.split(']').next().unwrap_or(sub), "an array subscript")?;
        }
        for k in word.subscript(element) {
            let taint = match &word.parts[k] {
                Part::Template(id) => Some(self.site(*id)),
                Part::CommandSubst(Some(script)) => self.script(script, None)?,
                Part::Param { name: Some(n) } => self.vars.get(n).copied(),
                Part::Lit { text, .. } if k > 0 => {
                    self.arith_literal(text, "an array subscript")?;
                    None
                }
                _ => None,
            };
            if let Some(t) = taint {
                return Err(refuse(
                    t,
                    "a template inside an array subscript can run code: bash evaluates it as arithmetic, where a[$(cmd)] runs cmd",
                    HINT_VALIDATE,
                ));
            }
        }
        Ok(())
    }

    /// `declare x={{ v }}` (also `local`, `typeset` ...) where `x` is an array,
    /// an integer or a nameref somewhere in the script: bash re-parses the
    /// value as a compound assignment, arithmetic or a name.
    fn typed_declaration(&self, s: &Simple, args: &[Arg]) -> Result<(), ShellTemplateError> {
        let Some(name) = args.first().and_then(Arg::lit) else {
            return Ok(());
        };
        if !matches!(
            name,
            "declare" | "typeset" | "local" | "readonly" | "export"
        ) {
            return Ok(());
        }
        for (w, a) in s.words.iter().zip(args).skip(1) {
            if let (Some(t), Some(n)) = (a.taint(), w.assignment_name())
                && self.typed.contains(&n)
            {
                return Err(refuse(
                    t,
                    format!(
                        "a template in `{name} {n}=...`, where {n} is an array, integer or nameref: bash re-parses the value as code"
                    ),
                    format!(
                        "assign it to a plain variable instead: v={{{{ ... }}}}; {n}[0]=\"$v\""
                    ),
                ));
            }
        }
        Ok(())
    }

    /// `[[ ]]`, `test` and `[`: a value is only an operand of a string or file test.
    fn cond(
        &mut self,
        words: &'a [Word],
        stdin: Option<Taint>,
        what: &str,
    ) -> Result<(), ShellTemplateError> {
        let mut args = Vec::with_capacity(words.len());
        for w in words {
            args.push(self.word(w, stdin)?.arg);
        }
        cond_args(&args, what, true)
    }
}

fn evaluated(t: Taint, name: &str, what: &str) -> ShellTemplateError {
    refuse(
        t,
        format!(
            "the variable {name} holds the value and is used in {what}, where bash evaluates its value as code, a name or arithmetic (a[$(cmd)] runs cmd)"
        ),
        format!("expand it only as \"${name}\"; {HINT_VALIDATE}"),
    )
}

fn code_variable(t: Taint, name: &str) -> ShellTemplateError {
    refuse(
        t,
        format!("a template assigned to {name}, which bash or the programs it runs take as code"),
        format!("assign it to a variable of your own; {HINT_ENV}"),
    )
}

/// Whether a [`Checker::vars`] key is a variable (not a file or a flow).
fn is_var(key: &str) -> bool {
    !key.starts_with(['\0', '\u{1}', '\u{2}'])
}

/// The file name that stands for every computed name (`> "$f"`), as
/// [`written`] takes it: no literal path is empty.
const ANY_FILE: &str = "";

/// The positional parameters, as [`Part::Param`] names them.
const POSITIONAL: &[&str] = &["1", "2", "3", "4", "5", "6", "7", "8", "9", "@", "*"];

/// The key under which [`Checker::vars`] records a file that receives a
/// value (no variable name holds a NUL).
fn written(path: &str) -> String {
    let mut p = path;
    while let Some(rest) = p.strip_prefix("./") {
        p = rest;
    }
    format!("\0{p}")
}

/// Every variable the script assigns, reads into or loops over.
fn assigned_names(script: &Script, out: &mut Vec<String>) {
    for command in script.pipelines.iter().flat_map(|p| &p.commands) {
        match command {
            Command::Simple(s) => {
                out.extend(s.assignments.iter().map(|a| a.name.clone()));
                let reads = matches!(
                    s.words.first().and_then(Word::literal).as_deref(),
                    Some("read" | "mapfile" | "readarray")
                );
                if reads {
                    out.extend(s.words[1..].iter().filter_map(Word::literal));
                }
            }
            Command::Compound { body, .. } => match body {
                Compound::Lists(lists) => {
                    for l in lists {
                        assigned_names(l, out);
                    }
                }
                Compound::For { name, body, .. } => {
                    out.extend(name.literal());
                    assigned_names(body, out);
                }
                Compound::Case { arms, .. } => {
                    for (_, l) in arms {
                        assigned_names(l, out);
                    }
                }
                Compound::Cond(_) | Compound::Arith => {}
            },
            Command::Function { body, .. } => {
                let body = Script {
                    pipelines: vec![super::parse::Pipeline {
                        commands: vec![(**body).clone()],
                    }],
                };
                assigned_names(&body, out);
            }
        }
    }
}

/// `arith`: the operands of `-eq` ... are evaluated as arithmetic (in `[[ ]]`;
/// `test` and `[` only accept integers there).
fn cond_args(args: &[Arg], what: &str, arith: bool) -> Result<(), ShellTemplateError> {
    const ARITH: &[&str] = &["-eq", "-ne", "-lt", "-le", "-gt", "-ge"];
    const NAMES: &[&str] = &["-v", "-R"];
    const BINARY: &[&str] = &["=", "==", "!=", "<", ">", "=~", "-nt", "-ot", "-ef"];
    const UNARY: &[&str] = &[
        "-n", "-z", "-a", "-b", "-c", "-d", "-e", "-f", "-g", "-h", "-k", "-p", "-r", "-s", "-t",
        "-u", "-w", "-x", "-G", "-L", "-N", "-O", "-S",
    ];
    let operands = args.iter().filter(|a| a.lit() != Some("]")).count();
    for (i, a) in args.iter().enumerate() {
        let Some(t) = a.taint() else { continue };
        let prev = i.checked_sub(1).and_then(|p| args[p].lit());
        let next = args.get(i + 1).and_then(Arg::lit);
        let near_arith =
            prev.is_some_and(|p| ARITH.contains(&p)) || next.is_some_and(|n| ARITH.contains(&n));
        if near_arith && arith {
            return Err(refuse(
                t,
                format!(
                    "a template as an operand of an arithmetic comparison in {what}: bash evaluates it as arithmetic, where a[$(cmd)] runs cmd"
                ),
                "use [ \"{{ ... }}\" -eq 1 ] instead: `[` takes integers only and evaluates nothing",
            ));
        }
        if prev.is_some_and(|p| NAMES.contains(&p)) {
            return Err(refuse(
                t,
                format!(
                    "a template after -v in {what} is a variable name, where bash evaluates a[$(cmd)] subscripts"
                ),
                HINT_NAMES,
            ));
        }
        let safe = operands == 1
            || near_arith
            || prev.is_some_and(|p| BINARY.contains(&p) || UNARY.contains(&p))
            || next.is_some_and(|n| BINARY.contains(&n));
        if !safe {
            return Err(refuse(
                t,
                format!(
                    "a template in {what} that is not the operand of a literal string or file test: a value like -v would become an operator"
                ),
                "compare it with a literal operator, e.g. [ \"{{ ... }}\" = expected ] or [ -n \"{{ ... }}\" ]",
            ));
        }
    }
    Ok(())
}

fn basename(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// Where the value is, for messages about a resolved command.
fn computed(t: Taint, what: &str) -> ShellTemplateError {
    refuse(
        t,
        format!(
            "the command name {what} is computed, so drctl cannot tell what it does with the value"
        ),
        "write the command name literally",
    )
}

/// The command `args[0]` with the values that reach it (`inputs` are its
/// redirections and pipe).
fn invoke(args: &[Arg], inputs: &[Input], depth: usize) -> Result<(), ShellTemplateError> {
    let Some(first) = args.first() else {
        return Ok(());
    };
    let any = args
        .iter()
        .find_map(Arg::taint)
        .or(inputs.iter().map(|i| i.taint).next());
    let Some(any) = any else { return Ok(()) };
    if let (Some(t), true) = (first.file, first.written) {
        return Err(refuse(
            t,
            "the command runs a file the script writes the value into",
            "keep values out of files that are run; pass the value as an argument instead",
        ));
    }
    let Some(full) = first.lit() else {
        if let Some(t) = first.taint() {
            return Err(refuse(
                t,
                "a template as the command name runs the value as a program",
                "write the command name literally and pass the value as an argument",
            ));
        }
        return Err(computed(any, "(an expansion)"));
    };
    if depth > 32 {
        return Err(refuse(
            any,
            "too many nested command wrappers",
            "simplify the command",
        ));
    }
    let name = canonical(basename(full));
    if name == "perl" {
        perl_argv(args)?;
    }
    if matches!(name, "deno" | "bun")
        && let Some(sub) = args.get(1).and_then(Arg::lit)
    {
        // `deno run FILE`, `deno eval CODE`, `bun x PACKAGE`: the node-like
        // command line after the subcommand.
        let (head, program): (&str, Option<&str>) = match sub {
            "run" | "test" | "serve" | "task" | "repl" | "bench" => (name, None),
            "eval" => (name, Some("-e")),
            "x" | "exec" => ("bunx", None),
            _ => ("", None),
        };
        if !head.is_empty() {
            let mut inner = vec![Arg {
                literal: Some(head.to_owned()),
                ..Arg::default()
            }];
            inner.extend(program.map(|p| Arg {
                literal: Some(p.to_owned()),
                ..Arg::default()
            }));
            inner.extend_from_slice(&args[2..]);
            return invoke(&inner, inputs, depth + 1);
        }
    }
    if name == "yq"
        && matches!(
            args.get(1).and_then(Arg::lit),
            Some("eval" | "e" | "eval-all" | "ea")
        )
    {
        // `yq eval PROGRAM FILE`: the jq-like command line after the subcommand.
        let mut inner = vec![args[0].clone()];
        inner.extend_from_slice(&args[2..]);
        return invoke(&inner, inputs, depth + 1);
    }
    if matches!(name, "mlr" | "miller" | "dasel")
        && let Some(t) = args[1..].iter().find_map(Arg::taint)
    {
        // Miller's `put`/`filter` DSL has system() and exec(), its
        // `--prepipe` runs a command; dasel's selectors are its programs.
        return Err(refuse(
            t,
            format!(
                "a template in the arguments of `{name}`, which takes a program (its DSL or selector) and options that run commands among them"
            ),
            "pass the value through `env:` and read it in the program (ENV[\"NAME\"] in Miller)",
        ));
    }
    remote::check(name, args)?;
    options::check(name, args)?;
    match name {
        "declare" | "typeset" | "local" | "readonly" | "export" => {
            return declare(name, &args[1..]);
        }
        "test" | "[" => return cond_args(&args[1..], &format!("`{name}`"), false),
        // `find -exec` commands do not read find's standard input.
        "find" => return find(args, depth),
        "kubectl" | "oc" => return kubectl(args, inputs, depth),
        "docker" | "podman" | "nerdctl" => return docker(args, inputs, depth),
        "ssh" => return ssh(args, inputs),
        "xargs" => return xargs(args, inputs, depth),
        "flock" => {
            // `flock [options] file -c command`: -c may follow the file.
            for (k, a) in args.iter().enumerate() {
                let code = match a.lit() {
                    Some("-c" | "--command") => args.get(k + 1).and_then(Arg::taint),
                    Some(l) if l.starts_with("--command=") => a.taint(),
                    _ => None,
                };
                if let Some(t) = code {
                    return Err(refuse(
                        t,
                        "the value is part of the command line that `flock -c` runs with a shell",
                        HINT_SHELL,
                    ));
                }
            }
        }
        "env" => return env(args, inputs, depth),
        "watch"
            if args[1..]
                .iter()
                .any(|a| matches!(a.lit(), Some("-x" | "--exec"))) =>
        {
            let start = args[1..]
                .iter()
                .position(|a| !a.lit().is_some_and(|l| l.starts_with('-')))
                .map_or(args.len(), |p| p + 1);
            return option_area(name, &args[1..start])
                .and_then(|()| invoke(&args[start..], inputs, depth + 1));
        }
        "command"
            if args[1..]
                .iter()
                .any(|a| matches!(a.lit(), Some("-v" | "-V"))) =>
        {
            return Ok(());
        }
        _ => {}
    }
    if name == "runuser"
        && args[1..].iter().any(|a| {
            a.lit()
                .is_some_and(|l| l == "-u" || l == "--user" || l.starts_with("--user="))
        })
    {
        return wrapper(&catalog::RUNUSER_USER, name, args, inputs, depth);
    }
    if name == "capsh"
        && let Some(dd) = args.iter().position(|a| a.lit() == Some("--"))
    {
        // `capsh [options] -- ARGS` runs `bash ARGS` (`capsh -- -c V` is `bash -c V`).
        option_area(name, &args[1..dd])?;
        let mut inner = vec![Arg {
            literal: Some("bash".to_owned()),
            ..Arg::default()
        }];
        inner.extend_from_slice(&args[dd + 1..]);
        return invoke(&inner, inputs, depth + 1);
    }
    if name == "bwrap"
        && let Some(t) = args[1..].iter().find_map(Arg::taint)
    {
        return Err(refuse(
            t,
            "a template in the arguments of `bwrap`, whose options take one to three arguments before the command it runs: the value may be that command or one of its options",
            "pass the value through `env:` and read it in the sandboxed command as \"$NAME\"",
        ));
    }
    // `perf record CMD`, `ip netns exec NS CMD`: subcommands that run a command.
    for n in [1, 2] {
        let Some(words) = args
            .get(1..=n)
            .and_then(|w| w.iter().map(Arg::lit).collect::<Option<Vec<_>>>())
        else {
            break;
        };
        let sub = format!("{name} {}", words.join(" "));
        if let Some(w) = catalog::WRAPPERS
            .iter()
            .find(|w| w.names.contains(&sub.as_str()))
        {
            return wrapper(w, &sub, &args[n..], inputs, depth);
        }
    }
    if let Some(w) = lookup_wrapper(name) {
        return wrapper(w, name, args, inputs, depth);
    }
    if let Some(e) = lookup_evaluator(name) {
        return evaluator(e, name, args, inputs);
    }
    // Not in the catalog: arguments are data; standard input and files
    // only for the known data readers.
    stdin::check(name, args, inputs)
}

/// A value among a wrapper's options could become an option itself.
fn option_area(name: &str, args: &[Arg]) -> Result<(), ShellTemplateError> {
    if let Some(t) = args.iter().find_map(Arg::taint) {
        return Err(refuse(
            t,
            format!(
                "a template among the options of `{name}`, where a value starting with `-` would change what runs"
            ),
            format!("put the value in the arguments of the command that `{name}` runs"),
        ));
    }
    Ok(())
}

/// Splits `args` (after the command name) into options and the rest: the
/// index of the first operand, whether a shell flag was seen, and the
/// argument of a code option if one was.
struct Options {
    end: usize,
    shell_flag: bool,
    code: Option<(String, Option<Taint>)>,
}

#[expect(
    clippy::many_single_char_names,
    reason = "i, o, a, l, s: index, result, word, text, letter"
)]
fn options(args: &[Arg], takes_arg: &[&str], shell: &[&str], code: &[&str]) -> Options {
    let mut i = 0;
    let mut o = Options {
        end: args.len(),
        shell_flag: false,
        code: None,
    };
    while let Some(a) = args.get(i) {
        let Some(l) = a.lit() else {
            o.end = i;
            return o;
        };
        if l == "--" {
            o.end = i + 1;
            return o;
        }
        if !l.starts_with('-')
            || l == "-"
            || l.chars().nth(1).is_some_and(|c| c.is_ascii_digit())
                && !l.starts_with("--")
                && l.len() > 1
                && l[1..].bytes().all(|c| c.is_ascii_digit())
        {
            if l.starts_with('-') && l.len() > 1 {
                // `nice -10`
                i += 1;
                continue;
            }
            o.end = i;
            return o;
        }
        if let Some(long) = l.strip_prefix("--") {
            let (n, attached) = long
                .split_once('=')
                .map_or((long, false), |(n, _)| (n, true));
            if shell.contains(&n) {
                o.shell_flag = true;
            }
            if code.contains(&n) {
                let t = if attached {
                    a.value
                } else {
                    args.get(i + 1).and_then(Arg::taint)
                };
                o.code = Some((format!("--{n}"), t));
            }
            i += if !attached && (takes_arg.contains(&n) || code.contains(&n)) {
                2
            } else {
                1
            };
            continue;
        }
        let mut skip = 1;
        for (k, c) in l[1..].char_indices() {
            let s = &l[1 + k..1 + k + c.len_utf8()];
            if shell.contains(&s) {
                o.shell_flag = true;
            }
            let rest = &l[1 + k + c.len_utf8()..];
            if code.contains(&s) {
                let t = if rest.is_empty() {
                    args.get(i + 1).and_then(Arg::taint)
                } else {
                    a.value
                };
                o.code = Some((format!("-{s}"), t));
            }
            if takes_arg.contains(&s) || code.contains(&s) {
                if rest.is_empty() {
                    skip = 2;
                }
                break;
            }
        }
        i += skip;
    }
    o
}

fn wrapper(
    w: &Wrapper,
    name: &str,
    args: &[Arg],
    inputs: &[Input],
    depth: usize,
) -> Result<(), ShellTemplateError> {
    let o = options(&args[1..], w.args, w.shell, w.code);
    let mut start = 1 + o.end;
    if let Some((opt, t)) = o.code {
        if let Some(t) = t {
            return Err(refuse(
                t,
                format!(
                    "the value is part of the command line that `{name} {opt}` runs with a shell"
                ),
                HINT_SHELL,
            ));
        }
        option_area(name, &args[1..start])?;
        return Ok(());
    }
    option_area(name, &args[1..start.min(args.len())])?;
    // The operands before the command (a duration, a lock file, a root
    // directory) are data for the wrapper.
    start = (start + w.operands).min(args.len());
    if w.operands > 0 && args.get(start).and_then(Arg::lit) == Some("--") {
        // `lxc exec c -- CMD`
        start += 1;
    }
    if o.shell_flag {
        if let Some(t) = args[start..]
            .iter()
            .find_map(Arg::taint)
            .or(inputs.first().map(|i| i.taint))
        {
            return Err(refuse(
                t,
                format!(
                    "`{name}` with a shell option runs its command line with a shell, so the value would be code"
                ),
                HINT_SHELL,
            ));
        }
        return Ok(());
    }
    invoke(&args[start..], inputs, depth + 1)
}

#[expect(
    clippy::many_single_char_names,
    reason = "e, a, i, l, t: the catalog entry, word, index, text, taint"
)]
fn evaluator(
    e: &Evaluator,
    name: &str,
    args: &[Arg],
    inputs: &[Input],
) -> Result<(), ShellTemplateError> {
    let program = |t: Taint, how: String| {
        refuse(
            t,
            format!("the value {how}: `{name}` takes it as {}", e.what),
            e.hint,
        )
    };
    let mut program_given = false;
    // The literal programs given (`awk '{ system($0) }'`), for [`runs_data`].
    let mut programs: Vec<String> = Vec::new();
    let mut literal_script: Option<String> = None;
    let mut code_flag = false;
    let mut stdin_program = false;
    let mut operands = 0usize;
    let mut i = 1;
    let mut ended = false;
    let matches = |set: &[&str], s: &str| set.contains(&s);
    let stdin_path = std::cell::RefCell::new(None::<String>);
    let check_file = |path: &Arg,
                      inputs: &[Input],
                      how: &str|
     -> Result<bool, ShellTemplateError> {
        // Returns true when the program comes from standard input.
        if let Some(t) = path.file {
            return Err(program(
                t,
                format!(
                    "reaches the program file of `{name}` through a process substitution or a file the script writes it into ({how})"
                ),
            ));
        }
        if let Some(t) = path.value {
            return Err(program(
                t,
                format!("names the program file of `{name}` ({how})"),
            ));
        }
        let Some(l) = path.lit() else {
            return Ok(false);
        };
        let mut norm = String::with_capacity(l.len());
        for c in l.chars() {
            if !(c == '/' && norm.ends_with('/')) {
                norm.push(c);
            }
        }
        let norm = norm.replace("/./", "/");
        if norm == "-" || norm == "/dev/stdin" || norm.ends_with("/fd/0") {
            *stdin_path.borrow_mut() = Some(l.to_owned());
            return Ok(true);
        }
        if (norm.starts_with("/dev/") || norm.starts_with("/proc/"))
            && norm != "/dev/null"
            && let Some(i) = inputs.first()
        {
            return Err(program(
                i.taint,
                format!(
                    "reaches the program file {l} of `{name}` through {}",
                    i.via.words()
                ),
            ));
        }
        Ok(false)
    };
    while i < args.len() {
        let a = &args[i];
        let lit = a.lit();
        if !ended && lit == Some("--") || lit == Some("--end-of-options") {
            ended = true;
            i += 1;
            continue;
        }
        // A literal option, or one whose literal start is an option and whose
        // rest holds a value (`--to-command={{ v }}`, `-e{{ v }}`).
        let text = lit.map_or_else(|| a.prefix.clone(), str::to_owned);
        let tainted_rest = lit.is_none();
        let option = !ended
            && text.len() > 1
            && (text.starts_with('-') || (text.starts_with('+') && e.names.contains(&"bash")));
        if option {
            let l = text.as_str();
            let (body, long) = if let Some(b) = l.strip_prefix("--") {
                (b, true)
            } else if e.single_dash && l.len() > 2 {
                (&l[1..], true)
            } else {
                (&l[1..], false)
            };
            let items: Vec<(String, String)> = if long {
                let (n, v) = body
                    .split_once('=')
                    .map_or((body, None), |(n, v)| (n, Some(v)));
                vec![(n.to_owned(), v.map(str::to_owned).unwrap_or_default())]
            } else {
                let mut v = Vec::new();
                for (k, c) in body.char_indices() {
                    let s = c.to_string();
                    let rest = body[k + c.len_utf8()..].to_owned();
                    let takes = matches(e.code, &s)
                        || matches(e.file, &s)
                        || matches(e.startup, &s)
                        || matches(e.data, &s)
                        || matches(e.data2, &s);
                    v.push((s, if takes { rest.clone() } else { String::new() }));
                    if takes {
                        break;
                    }
                }
                v
            };
            let mut skip = 1;
            for (opt, attached) in items {
                let attached_or_next = |skip: &mut usize| -> Option<&Arg> {
                    if attached.is_empty() && !(long && l.contains('=')) && !tainted_rest {
                        *skip = 2;
                        args.get(i + 1)
                    } else {
                        Some(a)
                    }
                };
                if matches(e.code_flag, &opt) {
                    code_flag = true;
                } else if matches(e.stdin_flag, &opt) {
                    stdin_program = true;
                } else if matches(e.code, &opt) {
                    program_given = true;
                    if let Some(arg) = attached_or_next(&mut skip) {
                        if let Some(t) = arg.taint() {
                            return Err(program(
                                t,
                                format!(
                                    "is the argument of `{name} {}{opt}`",
                                    if long { "--" } else { "-" }
                                ),
                            ));
                        }
                        programs.extend(if std::ptr::eq(arg, a) {
                            Some(attached.clone())
                        } else {
                            arg.literal.clone()
                        });
                        if e.shell_lines {
                            // `script -qc 'sh'`: the command line reads
                            // script's standard input.
                            let text = if std::ptr::eq(arg, a) {
                                Some(attached.clone())
                            } else {
                                arg.literal.clone()
                            };
                            let stdin = inputs.iter().find(|i| i.fd == 0).map(|i| i.taint);
                            if let Some(text) = text.filter(|t| !t.is_empty()) {
                                nested_shell(&text, stdin, None, name)?;
                            }
                        }
                    }
                } else if matches(e.file, &opt) {
                    if let Some(arg) = attached_or_next(&mut skip) {
                        let arg = if std::ptr::eq(arg, a) {
                            Arg {
                                literal: Some(attached.clone()),
                                ..a.clone()
                            }
                        } else {
                            arg.clone()
                        };
                        if check_file(&arg, inputs, &format!("the argument of -{opt}"))? {
                            stdin_program = true;
                        } else {
                            program_given = true;
                        }
                    }
                } else if matches(e.startup, &opt) {
                    if let Some(arg) = attached_or_next(&mut skip) {
                        let arg = if std::ptr::eq(arg, a) {
                            Arg {
                                literal: Some(attached.clone()),
                                ..a.clone()
                            }
                        } else {
                            arg.clone()
                        };
                        check_file(&arg, inputs, &format!("the argument of --{opt}"))?;
                    }
                } else if matches(e.data, &opt) {
                    attached_or_next(&mut skip);
                } else if matches(e.data2, &opt) {
                    skip = 3;
                }
            }
            i += skip;
            continue;
        }
        // An operand, or a value that may be an option (bash's printf reads
        // options before its format only).
        let options_first = name == "printf" && operands == 0;
        if a.leading
            && options_first
            && !ended
            && let Some(t) = a.taint()
        {
            return Err(refuse(
                t,
                "a template where `printf` reads options and its format: a value like -v would become an option",
                "write the format literally: printf '%s' {{ ... }}",
            ));
        }
        if a.leading
            && !ended
            && (e.permute
                || (!program_given
                    && !code_flag
                    && operands == 0
                    && e.first != First::Data
                    && e.first != First::AllCode))
            && let Some(t) = a.taint()
        {
            return Err(refuse(
                t,
                format!(
                    "a template where `{name}` reads options: a value starting with `-` would become an option, which for `{name}` can run code"
                ),
                format!("write `--` before it; {}", e.hint),
            ));
        }
        let is_program = match e.first {
            First::AllCode => true,
            First::Code | First::Script => !program_given && !stdin_program && operands == 0,
            First::SecondCode => !program_given && operands == 1,
            First::Data => code_flag && operands == 0,
        } || (code_flag && operands == 0);
        if is_program {
            let as_code =
                code_flag || matches!(e.first, First::Code | First::AllCode | First::SecondCode);
            if as_code {
                if code_flag {
                    literal_script.clone_from(&a.literal);
                }
                programs.extend(a.literal.clone());
                if !code_flag && matches!(a.lit(), Some("-" | "/dev/stdin")) {
                    // `deno run -`, `redis-cli --eval /dev/stdin`: the program is stdin.
                    stdin_program = true;
                }
                if let Some(t) = a.taint() {
                    let shown = if code_flag {
                        format!("the script of `{name} -c`")
                    } else {
                        format!("an operand of `{name}`")
                    };
                    return Err(program(t, format!("is {shown}")));
                }
                program_given = true;
            } else if check_file(a, inputs, "the script operand")? {
                stdin_program = true;
            } else {
                program_given = true;
            }
            operands += 1;
            i += 1;
            if e.first != First::AllCode && e.first != First::SecondCode {
                // The rest are the program's arguments: data.
                break;
            }
            continue;
        }
        operands += 1;
        i += 1;
    }
    let data = args[1..]
        .iter()
        .find_map(Arg::taint)
        .or(inputs.first().map(|i| i.taint));
    if let Some(t) = data
        && let Some(p) = programs.iter().find(|p| runs_data(name, p))
    {
        return Err(refuse(
            t,
            format!(
                "the value reaches `{name}` as data, and its program `{p}` runs what it reads as code (system, eval, exec, a pipe to a command ...)"
            ),
            "keep values away from programs that run their input; check the value first with a case pattern",
        ));
    }
    if let Some(text) = &literal_script
        && e.stdin
    {
        // `bash -c 'LITERAL' _ {{ v }}` and `bash -c 'LITERAL' <<< {{ v }}`:
        // the literal script is checked with its arguments or stdin holding the value.
        let stdin = inputs.iter().find(|i| i.fd == 0).map(|i| i.taint);
        let positional = args[i.min(args.len())..].iter().find_map(Arg::taint);
        nested_shell(text, stdin, None, name)?;
        nested_shell(text, None, positional, name)?;
    }
    if ((e.stdin && !program_given && !code_flag) || stdin_program || e.stdin_code)
        && let Some(input) = inputs.iter().find(|i| i.fd == 0)
    {
        {
            let read_as = stdin_path
                .borrow()
                .as_ref()
                .map(|p| format!(" (read as the program file {p})"))
                .unwrap_or_default();
            return Err(refuse(
                input.taint,
                format!(
                    "the value reaches {name}'s standard input{read_as} through {}, and {name} reads its standard input as {}",
                    input.via.words(),
                    e.what
                ),
                e.hint,
            ));
        }
    }
    Ok(())
}

/// Whether a literal `program` of the interpreter `name` runs its data as
/// code: a call that evaluates or runs a command, by name. A heuristic on
/// the script author's own program, erring on the side of refusing.
fn runs_data(name: &str, program: &str) -> bool {
    let words: &[&str] = match name {
        "awk" | "gawk" | "mawk" | "nawk" => &[
            "system", "getline", "|\"", "| \"", "|&", "print |", "printf |",
        ],
        "sed" | "gsed" => return sed_runs(program),
        "perl" => &[
            "system", "exec", "eval", "qx", "`", "open", "readpipe", "require", "do ",
        ],
        "python" | "python2" | "python3" | "pypy" | "pypy3" => &[
            "exec",
            "eval",
            "system",
            "popen",
            "subprocess",
            "spawn",
            "__import__",
            "compile",
            "pickle",
            "marshal",
            "runpy",
            "importlib",
            "pty",
        ],
        "ruby" | "irb" => &[
            "system", "exec", "eval", "`", "%x", "spawn", "popen", "open(", "send", "load",
            "require",
        ],
        "node" | "nodejs" | "bun" | "deno" => &[
            "eval",
            "Function",
            "child_process",
            "exec",
            "spawn",
            "vm",
            "import(",
            "require(",
        ],
        "php" => &[
            "eval",
            "system",
            "exec",
            "passthru",
            "popen",
            "proc_open",
            "`",
            "assert",
            "include",
            "require",
            "create_function",
            "preg_replace",
        ],
        "lua" | "luajit" => &["load", "dofile", "os.execute", "io.popen", "require"],
        "tclsh" | "wish" | "expect" => &["eval", "exec", "source", "uplevel", "subst", "open"],
        "Rscript" | "R" => &["system", "eval", "parse", "source", "shell"],
        _ => return false,
    };
    words.iter().any(|w| program.contains(w))
}

/// sed's `e` command and the `e` flag of `s` run a command (the `w` flag
/// and command write a file, `r`/`R` read one: harmless here).
fn sed_runs(program: &str) -> bool {
    let bytes = program.as_bytes();
    let mut i = 0;
    // At the start of a command: skip blanks, an address and `!`.
    let mut at_command = true;
    while i < bytes.len() {
        let c = bytes[i];
        if at_command {
            match c {
                b' ' | b'\t' | b'\n' | b';' | b'{' | b'}' | b'!' | b',' | b'$' | b'0'..=b'9' => {
                    i += 1;
                    continue;
                }
                b'/' | b'\\' => {
                    // A regex address: up to the closing delimiter.
                    let d = if c == b'\\' {
                        i += 1;
                        bytes.get(i).copied().unwrap_or(b'/')
                    } else {
                        c
                    };
                    i += 1;
                    while i < bytes.len() && bytes[i] != d {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                    continue;
                }
                b'e' => return true,
                b's' | b'y' if i + 1 < bytes.len() => {
                    let d = bytes[i + 1];
                    let mut k = i + 2;
                    let mut seen = 0;
                    while k < bytes.len() && seen < 2 {
                        if bytes[k] == b'\\' {
                            k += 2;
                            continue;
                        }
                        if bytes[k] == d {
                            seen += 1;
                        }
                        k += 1;
                    }
                    let flags_end = bytes[k.min(bytes.len())..]
                        .iter()
                        .position(|c| !c.is_ascii_alphanumeric())
                        .map_or(bytes.len(), |p| k + p);
                    if c == b's' && bytes[k.min(bytes.len())..flags_end].contains(&b'e') {
                        return true;
                    }
                    i = flags_end;
                    at_command = false;
                    continue;
                }
                _ => at_command = false,
            }
        }
        // The rest of a command, to its end.
        if matches!(bytes[i], b';' | b'\n' | b'}' | b'{') {
            at_command = true;
        }
        i += 1;
    }
    false
}

thread_local! {
    /// The variables holding a value in the script being checked, for the
    /// `bash -c '...'` scripts it runs (they may be exported to them).
    static OUTER: std::cell::RefCell<Vec<(String, Taint)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Sets [`OUTER`] for the duration of one check.
struct Outer;

impl Outer {
    fn set(vars: Vec<(String, Taint)>) -> Self {
        OUTER.set(vars);
        Outer
    }
}

impl Drop for Outer {
    fn drop(&mut self) {
        OUTER.set(Vec::new());
    }
}

/// `bash -c 'LITERAL'` whose standard input holds a value: the literal
/// script is checked as if its standard input were the value.
fn nested_shell(
    text: &str,
    stdin: Option<Taint>,
    positional: Option<Taint>,
    name: &str,
) -> Result<(), ShellTemplateError> {
    let exported = OUTER.with_borrow(|outer| outer.first().map(|(_, t)| *t));
    let Some(taint) = stdin.or(positional).or(exported) else {
        return Ok(());
    };
    let through = if stdin.is_some() {
        "the standard input"
    } else if positional.is_some() {
        "the arguments"
    } else {
        "a variable exported to the environment"
    };
    let nested = |message: String, hint: String| {
        refuse(
            taint,
            format!("the value reaches {through} of `{name} -c '...'`, {message}"),
            hint,
        )
    };
    let parsed = super::parse::parse(text).map_err(|e| {
        nested(
            format!("whose script drctl cannot check ({})", e.message),
            e.hint,
        )
    })?;
    let mut checker = Checker::new(&parsed, taint);
    checker.stdin = stdin;
    if let Some(t) = positional {
        for p in POSITIONAL {
            checker.vars.insert((*p).to_owned(), t);
        }
    }
    // Variables of the outer script that hold a value may be exported to
    // this shell (`export X={{ v }}; bash -c 'eval "$X"'`): taken as tainted.
    OUTER.with_borrow(|outer| {
        for (n, t) in outer {
            if !POSITIONAL.contains(&n.as_str()) {
                checker.vars.entry(n.clone()).or_insert(*t);
            }
        }
    });
    checker.taint_vars();
    checker.files = checker.vars.keys().any(|k| k.starts_with('\0'));
    checker
        .script(&parsed.script, stdin)
        .and_then(|_| files::check(&checker.vars, &parsed.script))
        .and_then(|()| checker.evaluated_vars())
        .map_err(|e| nested(format!("and in that script {}", e.message), e.hint))
}

/// `declare`, `local` ...: only `name=value` with a literal, untyped name and
/// harmless options carries a value.
fn declare(name: &str, args: &[Arg]) -> Result<(), ShellTemplateError> {
    let allowed = match name {
        "declare" | "typeset" | "local" => "rxglut",
        _ => "",
    };
    let mut bad_option = None;
    for a in args {
        if let Some(l) = a.lit()
            && (l.starts_with('-') || l.starts_with('+'))
            && l.len() > 1
            && !l[1..].chars().all(|c| allowed.contains(c))
        {
            bad_option = Some(l.to_owned());
        }
    }
    for a in args {
        let Some(t) = a.taint() else { continue };
        if let Some(opt) = &bad_option {
            return Err(refuse(
                t,
                format!(
                    "a template in `{name}` with option `{opt}`: bash evaluates names, subscripts, -a/-i/-n values as code or arithmetic"
                ),
                format!(
                    "only `{name} name={{{{ ... }}}}` (options -r -x -g -l -u -t) is allowed; or assign first and declare after"
                ),
            ));
        }
        if a.leading {
            return Err(refuse(
                t,
                format!("a template as the name in `{name}`: bash evaluates names and subscripts"),
                format!("write `{name} name={{{{ ... }}}}` with a literal name"),
            ));
        }
    }
    Ok(())
}

/// `perl -n`/`-p` and `<>` open each file operand with perl's two-argument
/// `open`, where a name like `cmd|` runs cmd.
fn perl_argv(args: &[Arg]) -> Result<(), ShellTemplateError> {
    let loops = args[1..].iter().filter_map(Arg::lit).any(|l| {
        (l.starts_with('-') && !l.starts_with("--") && l[1..].contains(['n', 'p']))
            || l.contains("<>")
            || l.contains("<ARGV>")
    });
    match args[1..].iter().find_map(Arg::taint) {
        Some(t) if loops => Err(refuse(
            t,
            "a template as a file operand of perl -n, -p or <>: perl opens it with two-argument open, where `cmd|` runs cmd",
            "read the file in the shell and pipe it to perl: perl -ne '...' < \"$f\"",
        )),
        _ => Ok(()),
    }
}

fn find(args: &[Arg], depth: usize) -> Result<(), ShellTemplateError> {
    let starts: Vec<&Arg> = args[1..]
        .iter()
        .take_while(|a| {
            !a.lit()
                .is_some_and(|l| l.starts_with('-') || l == "(" || l == "!")
        })
        .collect();
    let paths = starts.iter().find_map(|a| a.taint());
    // A start point may be an expression when it starts with `-`: several
    // such values could join into `-exec cmd ;`, and one alone may be
    // `-delete`, `-fprint FILE` with the next word, or complete an `-exec`.
    if let Some(t) = starts.iter().find(|a| a.leading).and_then(|a| a.taint()) {
        return Err(refuse(
            t,
            "a template where `find` reads its start points: a value starting with `-` is an expression, such as -exec",
            "put `./` or another literal before the value: find ./{{ ... }} ...",
        ));
    }
    let mut i = 1;
    while i < args.len() {
        if matches!(args[i].lit(), Some("-exec" | "-execdir" | "-ok" | "-okdir")) {
            let end = args[i + 1..]
                .iter()
                .position(|a| matches!(a.lit(), Some(";" | "+")))
                .map_or(args.len(), |p| i + 1 + p);
            let mut inner: Vec<Arg> = args[i + 1..end].to_vec();
            if let Some(t) = paths {
                // `{}` is a path under the value.
                for a in &mut inner {
                    if a.lit().is_some_and(|l| l.contains("{}")) {
                        a.value = Some(t);
                        a.literal = None;
                    }
                }
            }
            if inner.first().is_some_and(|a| a.literal.is_none())
                && paths.is_some()
                && inner[0].value == paths
            {
                return Err(computed(paths.unwrap_or_default(), "`{}`"));
            }
            invoke(&inner, &[], depth + 1)?;
            i = end + 1;
            continue;
        }
        i += 1;
    }
    Ok(())
}

fn kubectl(args: &[Arg], inputs: &[Input], depth: usize) -> Result<(), ShellTemplateError> {
    let sub = args[1..]
        .iter()
        .position(|a| matches!(a.lit(), Some("exec" | "debug" | "run" | "attach")));
    let Some(sub) = sub else {
        return stdin::check("kubectl", args, inputs);
    };
    let rest = &args[sub + 2..];
    if let Some(dd) = rest.iter().position(|a| a.lit() == Some("--")) {
        return invoke(&rest[dd + 1..], inputs, depth + 1);
    }
    candidates(
        &args[0].literal.clone().unwrap_or_default(),
        rest,
        inputs,
        depth,
    )
}

fn docker(args: &[Arg], inputs: &[Input], depth: usize) -> Result<(), ShellTemplateError> {
    let sub = args[1..]
        .iter()
        .position(|a| matches!(a.lit(), Some("exec" | "run" | "create")));
    let Some(sub) = sub else {
        return stdin::check("docker", args, inputs);
    };
    let rest = &args[sub + 2..];
    if rest.iter().any(|a| {
        a.lit()
            .is_some_and(|l| l == "--entrypoint" || l.starts_with("--entrypoint="))
    }) && let Some(t) = rest.iter().find_map(Arg::taint)
    {
        return Err(refuse(
            t,
            "a template in a `docker` command with --entrypoint: drctl cannot tell which program receives the value",
            "drop --entrypoint and run the program as the command",
        ));
    }
    candidates(
        &args[0].literal.clone().unwrap_or_default(),
        rest,
        inputs,
        depth,
    )
}

/// Options of docker and kubectl are too many to list: the command may
/// start after any literal operand, and each such reading is checked.
fn candidates(
    name: &str,
    rest: &[Arg],
    inputs: &[Input],
    depth: usize,
) -> Result<(), ShellTemplateError> {
    const MAX: usize = 64;
    // Flags known to take no argument: after only these (and `--x=y`), the
    // first operand is the container or image for sure.
    const NO_ARG: &[&str] = &[
        "-i",
        "-t",
        "-it",
        "-ti",
        "--rm",
        "-d",
        "--detach",
        "--interactive",
        "--tty",
        "--privileged",
        "--init",
        "-q",
        "--quiet",
        "--read-only",
    ];
    let first = rest
        .iter()
        .position(|a| a.lit().is_some_and(|l| !l.starts_with('-')))
        .filter(|&k| {
            rest[..k].iter().all(|a| {
                a.lit().is_some_and(|l| {
                    NO_ARG.contains(&l) || (l.starts_with("--") && l.contains('='))
                })
            })
        });
    let starts: Vec<usize> = match first {
        Some(k) => (k + 1 < rest.len()).then_some(k).into_iter().collect(),
        None => (0..rest.len().saturating_sub(1))
            .filter(|&k| rest[k].lit().is_some_and(|l| !l.starts_with('-')))
            .collect(),
    };
    if starts.len() > MAX
        && let Some(t) = rest
            .iter()
            .find_map(Arg::taint)
            .or(inputs.first().map(|i| i.taint))
    {
        return Err(refuse(
            t,
            format!(
                "a template in a `{name}` command with more than {MAX} possible starts of the command it runs"
            ),
            "split the command, or pass the value through `env:`",
        ));
    }
    if starts.is_empty()
        && let Some(i) = inputs.first()
    {
        return Err(refuse(
            i.taint,
            format!(
                "the value reaches the standard input of the command `{name}` runs through {}, and no command is given: the image's entrypoint may be a shell",
                i.via.words()
            ),
            "give the command literally (`-- cat`) and make it a known data reader, or pass the value as an argument",
        ));
    }
    for (n, k) in starts.into_iter().enumerate() {
        // A value right after the first operand would be the command's name;
        // later readings start at literal command names only.
        if n == 0 || rest[k + 1].lit().is_some() {
            invoke(&rest[k + 1..], inputs, depth + 1)?;
        }
    }
    Ok(())
}

fn ssh(args: &[Arg], inputs: &[Input]) -> Result<(), ShellTemplateError> {
    let wrapper = lookup_wrapper("ssh").map_or(&[][..], |w| w.args);
    let mut i = 1;
    let mut ended = false;
    while i < args.len() {
        let a = &args[i];
        match a.lit() {
            Some("--") if !ended => {
                ended = true;
                i += 1;
            }
            Some(l) if !ended && l.starts_with('-') && l.len() > 1 => {
                let opts = &l[1..];
                let takes = opts.char_indices().find(|(_, c)| {
                    let s = c.to_string();
                    wrapper.contains(&s.as_str()) || matches!(c, 'o' | 'F' | 'S')
                });
                let mut skip = 1;
                if let Some((k, c)) = takes {
                    let attached = k + c.len_utf8() < opts.len();
                    let arg = if attached { Some(a) } else { args.get(i + 1) };
                    if !attached {
                        skip = 2;
                    }
                    if matches!(c, 'o' | 'F' | 'S')
                        && let Some(t) = arg.and_then(Arg::taint)
                    {
                        return Err(refuse(
                            t,
                            format!(
                                "a template in ssh's -{c} option: ssh options such as ProxyCommand, LocalCommand and KnownHostsCommand run commands"
                            ),
                            "set the option literally, or in ~/.ssh/config",
                        ));
                    }
                }
                i += skip;
            }
            _ => {
                if a.leading
                    && !ended
                    && let Some(t) = a.taint()
                {
                    return Err(refuse(
                        t,
                        "a template where ssh reads options: a value like -oProxyCommand=... would run a command",
                        "write `--` before the host: ssh -- {{ ... }}",
                    ));
                }
                // The host; what follows is the remote command, run by the remote shell.
                if let Some(t) = args[i + 1..].iter().find_map(Arg::taint) {
                    return Err(refuse(
                        t,
                        "the value is part of the remote command of `ssh`, which the remote shell runs as code",
                        "send the value on stdin (printf '%s' {{ ... }} | ssh host 'read -r v; ...') or through SendEnv",
                    ));
                }
                let remote: Option<Vec<&str>> = args[i + 1..].iter().map(Arg::lit).collect();
                if let (Some(remote), Some(input)) = (remote, inputs.iter().find(|i| i.fd == 0))
                    && !remote.is_empty()
                {
                    // `... | ssh host bash`: the remote shell runs the remote
                    // command with the value on its standard input.
                    return nested_shell(&remote.join(" "), Some(input.taint), None, "ssh");
                }
                if i + 1 == args.len()
                    && let Some(input) = inputs.iter().find(|i| i.fd == 0)
                {
                    return Err(refuse(
                        input.taint,
                        format!(
                            "the value reaches ssh's standard input through {}, and without a remote command the remote shell runs it as code",
                            input.via.words()
                        ),
                        "give ssh a literal remote command that reads the value: ssh host 'read -r v; ...'",
                    ));
                }
                return Ok(());
            }
        }
    }
    Ok(())
}

fn xargs(args: &[Arg], inputs: &[Input], depth: usize) -> Result<(), ShellTemplateError> {
    let w = lookup_wrapper("xargs").map_or(&[][..], |w| w.args);
    let o = options(&args[1..], w, &[], &[]);
    let start = 1 + o.end;
    option_area("xargs", &args[1..start.min(args.len())])?;
    let replace = args[1..start].iter().any(|a| {
        a.lit().is_some_and(|l| {
            l.starts_with("-I") || l.starts_with("-i") || l.starts_with("--replace")
        })
    });
    let mut stdin = inputs.iter().find(|i| i.fd == 0).map(|i| i.taint);
    for (k, a) in args[1..start].iter().enumerate() {
        if matches!(a.lit(), Some("-a" | "--arg-file")) {
            // The arguments come from that file instead of stdin.
            stdin = args.get(k + 2).and_then(Arg::taint);
        }
    }
    let mut inner: Vec<Arg> = args[start..].to_vec();
    if inner.is_empty() {
        return Ok(());
    }
    if let Some(t) = stdin {
        if replace {
            for a in inner.iter_mut().skip(1) {
                a.value = a.value.or(Some(t));
            }
        }
        inner.push(Arg {
            value: Some(t),
            leading: true,
            ..Arg::default()
        });
    }
    invoke(&inner, &[], depth + 1)
}

#[expect(
    clippy::many_single_char_names,
    reason = "w, i, a, l, n, t: as in `evaluator`"
)]
fn env(args: &[Arg], inputs: &[Input], depth: usize) -> Result<(), ShellTemplateError> {
    let w = lookup_wrapper("env").map_or(&[][..], |w| w.args);
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        let Some(l) = a.lit() else {
            // `NAME=value` with a value, a value among the options, or the command.
            if let Some((n, _)) = a.prefix.split_once('=')
                && super::parse::is_name(n)
            {
                if let Some(t) = a.taint()
                    && CODE_VARIABLES.contains(&n)
                {
                    return Err(refuse(
                        t,
                        format!("a template assigned to {n}, which bash runs or loads as code"),
                        HINT_ENV,
                    ));
                }
                i += 1;
                continue;
            }
            if a.leading {
                option_area("env", std::slice::from_ref(a))?;
            }
            return invoke(&args[i..], inputs, depth + 1);
        };
        if l == "--" {
            i += 1;
            continue;
        }
        if l == "-S"
            || l.starts_with("--split-string")
            || (l.starts_with("-S") && l.len() > 2)
            || (l.starts_with('-') && !l.starts_with("--") && l.contains('S'))
        {
            let text = if l == "-S" || l == "--split-string" {
                i += 1;
                args.get(i).and_then(|a| a.literal.clone())
            } else {
                l.split_once('=')
                    .map(|(_, v)| v.to_owned())
                    .or_else(|| l.split_once('S').map(|(_, v)| v.to_owned()))
            };
            let Some(text) = text else {
                let t = args.get(i).and_then(Arg::taint).unwrap_or_default();
                return Err(refuse(
                    t,
                    "a template in `env -S`, which splits the string into a command line",
                    HINT_SHELL,
                ));
            };
            let mut inner: Vec<Arg> = text
                .split_whitespace()
                .map(|s| Arg {
                    literal: Some(s.to_owned()),
                    ..Arg::default()
                })
                .collect();
            inner.extend_from_slice(&args[i + 1..]);
            return invoke(&inner, inputs, depth + 1);
        }
        if l.starts_with('-') && l.len() > 1 {
            let opt = l.trim_start_matches('-');
            i += if w.contains(&opt) { 2 } else { 1 };
            continue;
        }
        if let Some((n, _)) = l.split_once('=')
            && super::parse::is_name(n)
        {
            i += 1;
            continue;
        }
        return invoke(&args[i..], inputs, depth + 1);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(script: &str) -> bool {
        super::super::rewrite(script).is_err()
    }

    fn option(e: &Evaluator, name: &str) -> String {
        if name.len() == 1 || e.single_dash {
            format!("-{name}")
        } else {
            format!("--{name}")
        }
    }

    /// Every channel the catalog names is refused: the code is what the
    /// documentation says, one to one.
    #[test]
    fn every_evaluator_channel_is_refused() {
        for e in EVALUATORS {
            for name in e.names {
                let mut scripts = Vec::new();
                for o in e.code.iter().chain(e.file) {
                    scripts.push(format!("{name} {} {{{{ x }}}}", option(e, o)));
                }
                for o in e.code_flag {
                    scripts.push(format!("{name} -{o} {{{{ x }}}}"));
                }
                if e.stdin {
                    scripts.push(format!("{name} <<< {{{{ x }}}}"));
                    scripts.push(format!("printf '%s' {{{{ x }}}} | {name}"));
                }
                match e.first {
                    First::Code | First::Script | First::AllCode => {
                        scripts.push(format!("{name} {{{{ x }}}}"));
                        scripts.push(format!("{name} \"x{{{{ x }}}}\""));
                    }
                    First::SecondCode => scripts.push(format!("{name} db \"x{{{{ x }}}}\"")),
                    First::Data => {}
                }
                if e.permute {
                    match (e.first, e.code.first()) {
                        (First::Script, Some(c)) => {
                            scripts.push(format!("{name} {} 'x' {{{{ x }}}}", option(e, c)));
                        }
                        (First::Script, None) => {}
                        _ => scripts.push(format!("{name} x {{{{ x }}}}")),
                    }
                }
                for script in scripts {
                    assert!(refused(&script), "`{script}` was accepted");
                }
            }
        }
    }

    #[test]
    fn every_wrapper_is_looked_through() {
        for w in WRAPPERS {
            for name in w.names {
                let (before, after) = match *name {
                    "find" => ("find . -exec", " \\;"),
                    "kubectl" | "oc" => ("kubectl exec pod --", ""),
                    "docker" | "podman" | "nerdctl" => ("docker exec box", ""),
                    "ssh" => continue,
                    _ if w.operands == 1 => (&*format!("{name} 1"), ""),
                    _ => (*name, ""),
                };
                let before = if before == "kubectl exec pod --" || before == "docker exec box" {
                    before.replacen(before.split(' ').next().unwrap_or(""), name, 1)
                } else {
                    before.to_owned()
                };
                let code = format!("{before} bash -c {{{{ x }}}}{after}");
                assert!(refused(&code), "`{code}` was accepted");
                let data = format!("{before} printf '%s' {{{{ x }}}}{after}");
                assert!(
                    !refused(&data),
                    "`{data}` was refused: {:?}",
                    super::super::rewrite(&data)
                );
            }
        }
    }

    /// docs/security.md lists exactly the catalog's commands.
    #[test]
    fn the_documented_catalog_is_the_code() {
        let doc = include_str!("../../../docs/security.md");
        let start = doc
            .find("#### Catalog of evaluators")
            .expect("the catalog section");
        let end = doc[start..]
            .find("Not covered:")
            .map_or(doc.len(), |e| start + e);
        let mut documented = std::collections::BTreeSet::new();
        for row in doc[start..end].lines().filter(|l| l.starts_with("| `")) {
            let first = row.split(" | ").next().unwrap_or("");
            for name in first.split('`').skip(1).step_by(2) {
                documented.insert(name.to_owned());
            }
        }
        let code: std::collections::BTreeSet<String> = EVALUATORS
            .iter()
            .flat_map(|e| e.names)
            .chain(WRAPPERS.iter().flat_map(|w| w.names))
            .chain(remote::REMOTE_CODE.iter().map(|(n, _)| n))
            .chain(remote::SALT)
            .chain(options::OPTION_RUNNERS.iter().flat_map(|r| r.names))
            .map(|n| (*n).to_owned())
            .collect();
        assert_eq!(documented, code, "docs/security.md and the catalog differ");
    }

    /// The backticked words of the docs/security.md paragraph that starts with `marker`.
    fn documented(marker: &str) -> std::collections::BTreeSet<&'static str> {
        let doc = include_str!("../../../docs/security.md");
        let start = doc.find(marker).expect("the paragraph");
        let end = start + doc[start..].find("\n\n").expect("its end");
        doc[start..end].split('`').skip(1).step_by(2).collect()
    }

    /// docs/security.md lists exactly the data readers, the clients reading
    /// stdin on request and their sessions, and the code locations.
    #[test]
    fn the_documented_readers_and_locations_are_the_code() {
        let set = |l: &[&'static str]| l.iter().copied().collect::<std::collections::BTreeSet<_>>();
        assert_eq!(documented("**Known data readers**"), set(DATA_READERS));
        let clients = documented("**Clients that read standard input on request**");
        for name in STDIN_ON_REQUEST.iter().chain(catalog::SESSIONS) {
            assert!(clients.contains(name), "{name} is not documented");
        }
        assert_eq!(
            documented("refused when it is written into one of the **code locations**")
                .into_iter()
                .collect::<Vec<_>>(),
            {
                let mut v = files::CODE_LOCATIONS.to_vec();
                v.sort_unstable();
                v
            }
        );
    }

    /// docs/security.md lists exactly the files that hold code by name.
    #[test]
    fn the_documented_code_files_are_the_code() {
        let set = |l: &[&'static str]| l.iter().copied().collect::<std::collections::BTreeSet<_>>();
        assert_eq!(
            documented("**Files that hold code by name**"),
            set(files::CODE_FILES)
        );
    }

    /// docs/security.md lists exactly [`CODE_VARIABLES`].
    #[test]
    fn the_documented_code_variables_are_the_code() {
        let doc = include_str!("../../../docs/security.md");
        let start = doc
            .find("**Variables that carry code**")
            .expect("the code-variables paragraph");
        let end = start + doc[start..].find("\n\n").expect("its end");
        let documented: std::collections::BTreeSet<&str> =
            doc[start..end].split('`').skip(1).step_by(2).collect();
        let code: std::collections::BTreeSet<&str> = CODE_VARIABLES.iter().copied().collect();
        assert_eq!(
            documented, code,
            "docs/security.md and CODE_VARIABLES differ"
        );
    }
}
