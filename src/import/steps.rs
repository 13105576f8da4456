//! A scenario → a runbook draft: steps in document order, each needing the
//! one before (or, in a list that says so, the step before the list), with
//! their inputs, confirmations and titles.
//!
//! Values in shell code that are obviously environment-specific become
//! inputs. A variable the script reads but never sets (`$DATABASE_URL`)
//! stays a variable, passed through the step's `env:` from an input that
//! reads the same variable. Text to replace (`<backup-file>`, `YOUR_TOKEN`,
//! the host of a URL, the script's `$1`) becomes `{{ inputs.x }}` where the
//! shell template policy accepts that flow, and otherwise a variable passed
//! through `env:`; inside single quotes, where a variable cannot go, it is
//! left as written.

use std::collections::BTreeSet;

use indexmap::IndexMap;

use super::scenario::{Body, Kept, Scenario, Task};
use super::shell::{self, Found, Quote, What};

#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub name: String,
    pub scenario: Scenario,
    pub inputs: IndexMap<String, InputDraft>,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct InputDraft {
    pub description: String,
    pub env: Option<String>,
    pub secret: bool,
    pub required: bool,
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Step(StepDraft),
    Kept(Kept),
}

#[derive(Debug, Clone, PartialEq)]
pub struct StepDraft {
    pub line: usize,
    pub id: String,
    pub title: String,
    pub needs: Vec<String>,
    /// `(message, word)`: a typed confirmation.
    pub confirm: Option<(String, String)>,
    pub action: Action,
    /// Said in a comment above the step (what the import changed, and why).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Shell {
        run: String,
        env: Vec<(String, String)>,
    },
    Http {
        method: &'static str,
        url: String,
    },
    Postgres {
        url: String,
        sql: String,
        script: bool,
    },
    Manual(String),
}

/// A runbook `name` from a title: `[a-z0-9][a-z0-9-]*`, at most 64 characters.
pub fn slug(text: &str, fallback: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.truncate(64);
    let out = out.trim_matches('-');
    if out.is_empty() {
        fallback.to_owned()
    } else {
        out.to_owned()
    }
}

/// Names handed out so far; each name asked for again gets `-2`, `-3` …
/// (counting on from the last one given, so that a thousand steps with one
/// title cost a thousand look-ups, not a million).
#[derive(Debug, Default)]
pub struct Names {
    taken: BTreeSet<String>,
    next: std::collections::HashMap<String, usize>,
}

impl Names {
    /// `name`, or `name-N` for the first N that is free, within 64 characters.
    pub fn unique(&mut self, name: &str) -> String {
        let mut candidate = name.to_owned();
        let n = self.next.entry(name.to_owned()).or_insert(2);
        while self.taken.contains(&candidate) {
            let suffix = format!("-{n}");
            let mut base = name.to_owned();
            base.truncate(64 - suffix.len());
            candidate = format!("{}{suffix}", base.trim_end_matches('-'));
            *n += 1;
        }
        self.taken.insert(candidate.clone());
        candidate
    }
}

/// Every `{{`, `{%`, `{#` of playbook text written so that drctl's templates
/// render it as it was (`{{ '{{' }}`); `${#x}` in shell is left alone.
pub fn escape_template(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        let after_dollar = text[..i].ends_with('$');
        match (c, next) {
            ('{', Some(n @ ('{' | '%' | '#'))) if !(n == '#' && after_dollar) => {
                chars.next();
                out.push_str(&format!("{{{{ '{{{n}' }}}}"));
            }
            _ => out.push(c),
        }
    }
    out
}

const SPECIAL: &[&str] = &[
    "HOME",
    "PATH",
    "PWD",
    "OLDPWD",
    "USER",
    "LOGNAME",
    "SHELL",
    "TERM",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "HOSTNAME",
    "UID",
    "EUID",
    "PPID",
    "RANDOM",
    "SECONDS",
    "LINENO",
    "IFS",
    "BASH",
    "BASH_SOURCE",
    "BASH_VERSION",
    "FUNCNAME",
    "PIPESTATUS",
    "OPTARG",
    "OPTIND",
    "REPLY",
    "EDITOR",
    "PAGER",
    "CI",
];

/// Whether an input's name reads as a secret.
pub fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "_KEY",
        "_TOKEN",
        "_SECRET",
        "_PASS",
        "_DSN",
        "DATABASE_URL",
        "DB_URL",
    ]
    .iter()
    .any(|s| upper.ends_with(s) || upper == s[1..])
        || ["PASSWORD", "SECRET", "WEBHOOK", "CREDENTIAL", "PRIVATE"]
            .iter()
            .any(|s| upper.contains(s))
        || upper == "KEY"
        || upper == "TOKEN"
}

const DESTRUCTIVE: &[(&str, &str)] = &[
    ("drop", "drop"),
    ("dropdb", "drop"),
    ("truncate", "truncate"),
    ("delete", "delete"),
    ("restore", "restore"),
    ("pg_restore", "restore"),
    ("failover", "failover"),
    ("rotate", "rotate"),
    ("revoke", "revoke"),
    ("promote", "promote"),
    ("destroy", "destroy"),
    ("wipe", "wipe"),
    ("purge", "purge"),
    ("overwrite", "overwrite"),
];

/// The first destructive word or command in `text`, and the word to type.
pub fn destructive(text: &str) -> Option<(String, &'static str)> {
    let lower = text.to_lowercase();
    for (pattern, word) in [
        ("rm -rf", "delete"),
        ("rm -fr", "delete"),
        ("rm -r ", "delete"),
    ] {
        if lower.contains(pattern) {
            return Some((pattern.trim().to_owned(), word));
        }
    }
    lower
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .find_map(|w| {
            DESTRUCTIVE
                .iter()
                .find(|(p, _)| *p == w)
                .map(|(p, word)| ((*p).to_owned(), *word))
        })
}

struct Builder<'a> {
    file: &'a str,
    inputs: IndexMap<String, InputDraft>,
    ids: Names,
}

pub fn draft(scenario: Scenario, name: String, file: &str) -> Draft {
    let mut b = Builder {
        file,
        inputs: IndexMap::new(),
        ids: Names::default(),
    };
    let mut entries = Vec::new();
    // The steps the next one needs; in a parallel list, what the list started from.
    let mut frontier: Vec<String> = Vec::new();
    let mut parallel: Option<(usize, Vec<String>, Vec<String>)> = None; // (list, before, ends)
    let mut last_item: Option<usize> = None;
    for task in &scenario.tasks {
        if let Body::Kept(kept) = &task.body {
            entries.push(Entry::Kept(kept.clone()));
            continue;
        }
        // drctl binds every `{{ }}` of SQL as a parameter: SQL that holds one
        // as text cannot be a step as written.
        if let Body::Sql(sql) = &task.body
            && crate::template::is_template(sql)
        {
            entries.push(Entry::Kept(Kept {
                line: task.line,
                what: "sql code block with `{{`, `{%` or `{#` (drctl would read it as a template)"
                    .into(),
                text: format!("```sql\n{sql}```"),
            }));
            continue;
        }
        match (task.parallel, &mut parallel) {
            (Some((list, item)), Some((open, before, ends))) if *open == list => {
                if last_item != Some(item) {
                    ends.append(&mut frontier);
                    frontier.clone_from(before);
                }
            }
            (Some((list, _)), _) => {
                if let Some((_, _, ends)) = parallel.take() {
                    frontier.extend(ends);
                }
                parallel = Some((list, frontier.clone(), Vec::new()));
            }
            (None, _) => {
                if let Some((_, _, ends)) = parallel.take() {
                    frontier.extend(ends);
                }
            }
        }
        last_item = task.parallel.map(|(_, item)| item);
        let mut step = match b.step(task) {
            Ok(step) => step,
            Err(kept) => {
                entries.push(Entry::Kept(kept));
                continue;
            }
        };
        step.needs = std::mem::take(&mut frontier);
        step.needs.dedup();
        frontier = vec![step.id.clone()];
        entries.push(Entry::Step(step));
    }
    Draft {
        name,
        scenario,
        inputs: b.inputs,
        entries,
    }
}

impl Builder<'_> {
    /// The task's step; or, for a script drctl refuses as written, the block kept as a comment.
    fn step(&mut self, task: &Task) -> Result<StepDraft, Kept> {
        let (action, title, notes) = match &task.body {
            Body::Shell(script) => {
                let title = task
                    .title
                    .clone()
                    .or_else(|| shell::comment_title(script))
                    .unwrap_or_else(|| task.heading.clone());
                let (action, notes) = self.shell(script, task.line).map_err(|why| Kept {
                    line: task.line,
                    what: format!("shell code block drctl refuses as written: {why}"),
                    text: format!("```bash\n{script}```"),
                })?;
                (action, title, notes)
            }
            Body::Sql(sql) => {
                let title = task.title.clone().unwrap_or_else(|| task.heading.clone());
                (self.postgres(sql), title, Vec::new())
            }
            Body::Manual(text) => {
                let title = task.title.clone().unwrap_or_else(|| first_line(text));
                (Action::Manual(escape_template(text)), title, Vec::new())
            }
            Body::Kept(_) => unreachable!("kept parts are not steps"),
        };
        let words = match &action {
            Action::Shell { run, .. } => format!("{title}\n{run}"),
            Action::Postgres { sql, .. } => format!("{title}\n{sql}"),
            Action::Manual(text) => format!("{title}\n{text}"),
            Action::Http { .. } => String::new(),
        };
        let confirm = destructive(&words).map(|(matched, word)| {
            (
                escape_template(&format!(
                    "The playbook marks this destructive (`{matched}`): {title}"
                )),
                word.to_owned(),
            )
        });
        let id = self.ids.unique(&slug(&title, "step"));
        Ok(StepDraft {
            line: task.line,
            id,
            title,
            needs: Vec::new(),
            confirm,
            action,
            notes,
        })
    }

    fn input(&mut self, name: &str, input: InputDraft) {
        self.inputs.entry(name.to_owned()).or_insert(input);
    }

    fn postgres(&mut self, sql: &str) -> Action {
        self.input(
            "database_url",
            InputDraft {
                description: "Connection string of the database the playbook's SQL runs on".into(),
                env: Some("DATABASE_URL".into()),
                secret: true,
                required: true,
                default: None,
            },
        );
        Action::Postgres {
            url: "{{ inputs.database_url }}".into(),
            sql: sql.to_owned(),
            script: statements(sql) > 1,
        }
    }

    /// A shell step's action and notes; or why drctl refuses the script as written.
    fn shell(&mut self, script: &str, line: usize) -> Result<(Action, Vec<String>), String> {
        let scan = shell::scan(script);
        let at = format!("{}:{line}", self.file);
        if let Some(curl) = shell::curl_check(script) {
            let mut url = curl.url.clone();
            if let Some(host) = scan.found.iter().find_map(|f| match &f.what {
                What::Host(h) => Some(h.clone()),
                _ => None,
            }) {
                let name = host_input(&host);
                self.input(&name, host_draft(&host, &at));
                url = url.replacen(&host, &format!("{{{{ inputs.{name} }}}}"), 1);
            }
            return Ok((
                Action::Http {
                    method: curl.method,
                    url,
                },
                vec![format!("was: {}", script.trim())],
            ));
        }
        let referenced: BTreeSet<&str> = scan
            .found
            .iter()
            .filter_map(|f| match &f.what {
                What::Var(v) => Some(v.as_str()),
                _ => None,
            })
            .collect();
        // Variables read and never set: inputs read from the same variable.
        let mut env = Vec::new();
        // Added once the script is known to pass the policy.
        let mut pending: Vec<(String, InputDraft)> = Vec::new();
        for var in &referenced {
            if scan.assigned.contains(*var)
                || SPECIAL.contains(var)
                || var.bytes().any(|b| b.is_ascii_lowercase())
            {
                continue;
            }
            let name = var.to_ascii_lowercase();
            pending.push((
                name.clone(),
                InputDraft {
                    description: format!("`${var}` in the playbook's shell ({at})"),
                    env: Some((*var).to_owned()),
                    secret: looks_secret(var),
                    required: true,
                    default: None,
                },
            ));
            env.push(((*var).to_owned(), format!("{{{{ inputs.{name} }}}}")));
        }
        // Text to replace, and the script's own arguments.
        let taken_vars: BTreeSet<String> = scan
            .assigned
            .iter()
            .cloned()
            .chain(referenced.iter().map(|s| (*s).to_owned()))
            .collect();
        let mut subs: Vec<Sub> = Vec::new();
        let max_arg = scan
            .found
            .iter()
            .filter_map(|f| match f.what {
                What::Positional(n) => Some(n),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        let mut arg_names = Vec::new();
        for n in 1..=max_arg {
            let name = arg_name(script, &scan.found, n).unwrap_or_else(|| format!("arg{n}"));
            let name = if arg_names.contains(&name) {
                format!("arg{n}")
            } else {
                name
            };
            pending.push((
                name.clone(),
                InputDraft {
                    description: format!("the script's argument ${n} ({at})"),
                    secret: looks_secret(&name),
                    env: looks_secret(&name).then(|| name.to_ascii_uppercase()),
                    required: true,
                    default: None,
                },
            ));
            arg_names.push(name);
        }
        for found in &scan.found {
            let (name, draft) = match &found.what {
                What::Placeholder(p) => {
                    let name = slug(p, "value").replace('-', "_");
                    let name = if name.starts_with(|c: char| c.is_ascii_digit()) {
                        format!("v_{name}")
                    } else {
                        name
                    };
                    let secret = looks_secret(&name);
                    (
                        name.clone(),
                        InputDraft {
                            description: format!("`<{p}>` in the playbook ({at})"),
                            env: secret.then(|| name.to_ascii_uppercase()),
                            secret,
                            required: true,
                            default: None,
                        },
                    )
                }
                What::Your(rest) => {
                    let name = rest.to_ascii_lowercase();
                    let secret = looks_secret(&name);
                    (
                        name.clone(),
                        InputDraft {
                            description: format!("`YOUR_{rest}` in the playbook ({at})"),
                            env: secret.then(|| name.to_ascii_uppercase()),
                            secret,
                            required: true,
                            default: None,
                        },
                    )
                }
                What::Host(host) => (host_input(host), host_draft(host, &at)),
                What::Var(_) | What::Positional(_) => continue,
            };
            let var = env_name(&name, &taken_vars);
            subs.push(Sub {
                start: found.start,
                end: found.end,
                quote: found.quote,
                name,
                var,
                template: true,
                draft,
                refused: None,
            });
        }
        let Placed {
            run,
            env: used_env,
            notes,
        } = place(script, &arg_names, &mut subs, &taken_vars)?;
        for (var, name) in used_env {
            if !env.iter().any(|(v, _)| *v == var) {
                env.push((var, format!("{{{{ inputs.{name} }}}}")));
            }
        }
        for (name, draft) in pending {
            self.input(&name, draft);
        }
        // Text left as written needs no input.
        for sub in subs.into_iter().filter(|s| s.start != usize::MAX) {
            self.input(&sub.name, sub.draft);
        }
        Ok((Action::Shell { run, env }, notes))
    }
}

/// One replacement in a script.
struct Sub {
    /// `usize::MAX` once left as written.
    start: usize,
    end: usize,
    quote: Quote,
    name: String,
    var: String,
    /// `{{ inputs.x }}` while the policy accepts it, else a variable.
    template: bool,
    draft: InputDraft,
    /// Why the policy refused the template here.
    refused: Option<String>,
}

/// How many times one script is put to the shell template policy, and how
/// many values it may take as templates: beyond either, every value goes
/// through `env:`, so a script with thousands of placeholders costs one
/// check, not thousands.
const MAX_CHECKS: usize = 16;
const MAX_TEMPLATES: usize = 64;

/// Writes the script with its replacements, asking the shell template policy
/// about each `{{ }}`; a refused one becomes a variable from `env:` (or, in
/// single quotes, the text as written). Returns the script, the variables to
/// pass, and notes; or why the policy refuses the script whatever is done.
fn place(
    script: &str,
    args: &[String],
    subs: &mut [Sub],
    taken: &BTreeSet<String>,
) -> Result<Placed, String> {
    let mut args_as_templates = true;
    if subs.len() + args.len() > MAX_TEMPLATES {
        args_as_templates = false;
        let why = format!("over {MAX_TEMPLATES} values in one script");
        for sub in subs.iter_mut() {
            refuse(sub, &why);
        }
    }
    for _ in 0..MAX_CHECKS {
        let (text, spans) = render(script, args, args_as_templates, taken, subs);
        let Err(error) = crate::template::shell::rewrite(&text) else {
            return Ok(finish(text, args, args_as_templates, taken, subs));
        };
        // The placeholder the policy refused, or else the first template still in place.
        let culprit = spans
            .iter()
            .find(|(_, range)| range.contains(&error.offset))
            .map(|(i, _)| *i);
        match culprit {
            Some(None) => args_as_templates = false,
            Some(Some(i)) => refuse(&mut subs[i], &error.message),
            None if args_as_templates && !args.is_empty() => args_as_templates = false,
            None => match subs
                .iter_mut()
                .find(|s| s.template && s.start != usize::MAX)
            {
                Some(sub) => refuse(sub, &error.message),
                None => return Err(format!("{} ({})", error.message, error.hint)),
            },
        }
    }
    // Still refused after as many tries: no templates of ours at all.
    for sub in subs.iter_mut().filter(|s| s.template) {
        refuse(
            sub,
            "the script was refused with templates in several places",
        );
    }
    let (text, _) = render(script, args, false, taken, subs);
    match crate::template::shell::rewrite(&text) {
        Ok(_) => Ok(finish(text, args, false, taken, subs)),
        Err(error) => Err(format!("{} ({})", error.message, error.hint)),
    }
}

/// A script with its replacements in place.
struct Placed {
    run: String,
    /// `(VARIABLE, input name)` to pass through `env:`.
    env: Vec<(String, String)>,
    notes: Vec<String>,
}

/// The variables to pass and the notes for the choices that were accepted.
fn finish(
    text: String,
    args: &[String],
    args_as_templates: bool,
    taken: &BTreeSet<String>,
    subs: &[Sub],
) -> Placed {
    let mut env = Vec::new();
    let mut notes = Vec::new();
    if !args_as_templates {
        for name in args {
            env.push((env_name(name, taken), name.clone()));
        }
    }
    for sub in subs {
        let why = sub.refused.as_deref().unwrap_or("");
        if sub.start == usize::MAX {
            notes.push(format!(
                "`{}` is left as written: drctl refuses a template there ({why}), and inside single quotes no variable expands",
                sub.name
            ));
        } else if !sub.template && !env.iter().any(|(var, _)| *var == sub.var) {
            env.push((sub.var.clone(), sub.name.clone()));
            notes.push(format!(
                "`{}` is passed as `${}` through `env:`: drctl refuses a template there ({why})",
                sub.name, sub.var
            ));
        }
    }
    Placed {
        run: text,
        env,
        notes,
    }
}

fn refuse(sub: &mut Sub, why: &str) {
    sub.refused = Some(why.to_owned());
    if sub.quote == Quote::Single {
        sub.start = usize::MAX;
    }
    sub.template = false;
}

/// The script text for the current choices, and where each template landed
/// (`None` for the `set --` line).
#[expect(clippy::type_complexity, reason = "a local helper's pair of results")]
fn render(
    script: &str,
    args: &[String],
    args_as_templates: bool,
    taken: &BTreeSet<String>,
    subs: &[Sub],
) -> (String, Vec<(Option<usize>, std::ops::Range<usize>)>) {
    let mut out = String::with_capacity(script.len() + 64);
    let mut spans = Vec::new();
    // The arguments go after a `#!` line, which stays first.
    let mut at = 0;
    if !args.is_empty() && script.starts_with("#!") {
        at = script.find('\n').map_or(script.len(), |n| n + 1);
        out.push_str(&script[..at]);
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    if !args.is_empty() {
        let start = out.len();
        out.push_str("set --");
        for name in args {
            if args_as_templates {
                out.push_str(&format!(" {{{{ inputs.{name} }}}}"));
            } else {
                out.push_str(&format!(" \"${}\"", env_name(name, taken)));
            }
        }
        out.push_str("  # drctl import: the script's arguments\n");
        spans.push((None, start..out.len()));
    }
    for (i, sub) in subs.iter().enumerate() {
        if sub.start == usize::MAX || sub.start < at {
            continue;
        }
        out.push_str(&escape_template(&script[at..sub.start]));
        let start = out.len();
        if sub.template {
            out.push_str(&format!("{{{{ inputs.{} }}}}", sub.name));
        } else if sub.quote == Quote::Double {
            out.push_str(&format!("${{{}}}", sub.var));
        } else {
            out.push_str(&format!("\"${{{}}}\"", sub.var));
        }
        spans.push((Some(i), start..out.len()));
        at = sub.end;
    }
    out.push_str(&escape_template(&script[at..]));
    (out, spans)
}

/// The variable that carries an input into a script: its name in capitals,
/// unless the script already uses that name.
fn env_name(input: &str, taken: &BTreeSet<String>) -> String {
    let upper = input.to_ascii_uppercase();
    if taken.contains(&upper) {
        format!("INPUT_{upper}")
    } else {
        upper
    }
}

/// The name a script gives its `$n`: `BACKUP_FILE="$1"` → `backup_file`.
fn arg_name(script: &str, found: &[Found], n: u32) -> Option<String> {
    found
        .iter()
        .filter(|f| f.what == What::Positional(n))
        .find_map(|f| {
            let before = script[..f.start]
                .strip_suffix('"')
                .unwrap_or(&script[..f.start]);
            let before = before.strip_suffix('=')?;
            let start = before
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(0, |i| i + 1);
            let name = &before[start..];
            let line_start = before[..start].rfind('\n').map_or(0, |i| i + 1);
            let prefix = before[line_start..start].trim();
            (!name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && (prefix.is_empty() || prefix == "export"))
                .then(|| name.to_ascii_lowercase())
        })
}

fn host_input(host: &str) -> String {
    let mut name = format!("host_{}", slug(host, "x").replace('-', "_"));
    name.truncate(64);
    name
}

fn host_draft(host: &str, at: &str) -> InputDraft {
    InputDraft {
        description: format!("the host `{host}` in the playbook ({at})"),
        default: Some(host.to_owned()),
        ..InputDraft::default()
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").trim().to_owned()
}

/// Statements in SQL text, counting `;` outside quotes, comments and
/// dollar-quoted bodies.
pub fn statements(sql: &str) -> usize {
    let bytes = sql.as_bytes();
    let (mut count, mut pending, mut i) = (0, false, 0);
    while i < bytes.len() {
        let b = bytes[i];
        let rest = &sql[i..];
        if rest.starts_with("--") {
            i += rest.find('\n').unwrap_or(rest.len());
            continue;
        }
        if rest.starts_with("/*") {
            i += rest.find("*/").map_or(rest.len(), |n| n + 2);
            continue;
        }
        match b {
            b'\'' | b'"' => {
                pending = true;
                i += 1 + rest[1..].find(b as char).map_or(rest.len() - 1, |n| n + 1);
                continue;
            }
            b'$' => {
                let tag_len = rest[1..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
                if let Some(n) = tag_len.filter(|&n| rest[1 + n..].starts_with('$')) {
                    let tag = &rest[..n + 2];
                    pending = true;
                    i += tag.len()
                        + rest[tag.len()..]
                            .find(tag)
                            .map_or(rest.len() - tag.len(), |m| m + tag.len());
                    continue;
                }
                pending = true;
            }
            b';' => {
                if pending {
                    count += 1;
                }
                pending = false;
            }
            _ if !b.is_ascii_whitespace() => pending = true,
            _ => {}
        }
        i += 1;
    }
    count + usize::from(pending)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_unique_names() {
        assert_eq!(
            slug("Scenario 1: Production Application Down", "x"),
            "scenario-1-production-application-down"
        );
        assert_eq!(slug("🚨 ‚îå", "step"), "step");
        assert_eq!(slug(&"a".repeat(100), "x").len(), 64);
        let mut names = Names::default();
        assert_eq!(names.unique("a-2"), "a-2");
        assert_eq!(names.unique("a"), "a");
        assert_eq!(names.unique("a"), "a-3");
        assert_eq!(names.unique("a"), "a-4");
        let long = "b".repeat(64);
        assert_eq!(names.unique(&long), long);
        assert_eq!(names.unique(&long).len(), 64);
    }

    #[test]
    fn template_escapes() {
        assert_eq!(
            escape_template("a {{x}} {%y%} {#z#} ${#n}"),
            "a {{ '{{' }}x}} {{ '{%' }}y%} {{ '{#' }}z#} ${#n}"
        );
    }

    #[test]
    fn secrets_and_destructive_words() {
        for s in [
            "SHOPIFY_API_KEY",
            "new_token",
            "DB_PASSWORD",
            "DATABASE_URL",
            "SESSION_SECRET",
            "ALERT_WEBHOOK_URL",
        ] {
            assert!(looks_secret(s), "{s}");
        }
        for s in ["BACKUP_FILE", "REGION", "KEYBOARD", "host_api"] {
            assert!(!looks_secret(s), "{s}");
        }
        assert_eq!(
            destructive("pg_restore --clean x"),
            Some(("pg_restore".into(), "restore"))
        );
        assert_eq!(
            destructive("sudo rm -rf /data"),
            Some(("rm -rf".into(), "delete"))
        );
        assert_eq!(
            destructive("DROP DATABASE x;"),
            Some(("drop".into(), "drop"))
        );
        assert_eq!(
            destructive("./restore-database.sh production"),
            Some(("restore".into(), "restore"))
        );
        assert_eq!(destructive("Restoring base backup"), None);
        assert_eq!(destructive("ls -l"), None);
    }

    #[test]
    fn sql_statements() {
        assert_eq!(statements("SELECT 1;"), 1);
        assert_eq!(statements("SELECT ';'; -- ;\nSELECT 2"), 2);
        assert_eq!(statements("DO $$ BEGIN PERFORM 1; END $$;"), 1);
        assert_eq!(statements("  \n"), 0);
    }
}
