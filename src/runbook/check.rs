//! Semantic validation: turns the raw model into a [`Runbook`], reporting
//! every problem at once, each at the position it is about.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

use indexmap::IndexMap;

use super::duration;
use super::graph;
use super::load::Loaded;
use super::model::{
    Action, Confirm, HttpAction, HttpBodyTemplate, Input, ManualAction, Output, PostgresAction, Retry, Runbook,
    ShellAction, SqlMode, Step,
};
use super::node::Span;
use super::node_de::Problem;
use super::raw::{
    RawAction, RawConfirm, RawDefaults, RawExpect, RawHttp, RawInput, RawOutput, RawPostgres, RawRetry,
    RawShell, RawStatus, RawStep,
};
use super::spanned::Spanned;
use crate::template::{self, Expression, Template};

/// Secret values shorter than this would redact common text everywhere.
pub const MIN_SECRET_LEN: usize = 4;

const RUN_FIELDS: &[&str] = &["id", "dir", "operator", "started_at", "dry_run", "incident", "runbook"];
const STEP_FIELDS: &[&str] = &["status", "result", "outputs"];

/// Checks a loaded runbook. `problems` holds what the loader already found.
pub fn check(path: &Path, source: &str, loaded: Loaded, problems: Vec<Problem>) -> Result<Runbook, Vec<Problem>> {
    let mut checker = Checker { problems };
    let runbook = checker.runbook(path, source, loaded);
    match runbook {
        Some(runbook) if checker.problems.is_empty() => Ok(runbook),
        _ => {
            let mut problems = checker.problems;
            problems.sort_by_key(|p| p.span.map(|s| (s.line, s.column)));
            Err(problems)
        }
    }
}

struct Checker {
    problems: Vec<Problem>,
}

/// Where a template or expression is evaluated, for reference checks.
#[derive(Clone, Copy)]
struct Scope<'a> {
    /// The step the template belongs to (`None` at the top level).
    step: Option<usize>,
    /// `result` is in scope (expect and outputs).
    result: bool,
    steps: &'a StepTable,
}

/// What reference checks need to know about the steps.
struct StepTable {
    ids: HashMap<String, usize>,
    /// Output names of each step; `None` for a step that did not load (anything goes).
    outputs: Vec<Option<BTreeSet<String>>>,
    /// `ancestors[i]` holds every step `i` transitively needs.
    ancestors: Option<graph::Ancestry>,
    inputs: BTreeSet<String>,
}

impl Checker {
    fn problem(&mut self, span: Span, message: impl Into<String>, hint: impl Into<String>) {
        self.problems.push(Problem::new(span, message).with_hint(hint));
    }

    fn runbook(&mut self, path: &Path, source: &str, loaded: Loaded) -> Option<Runbook> {
        let top = loaded.top;
        if top.version.value != 1 {
            self.problem(
                top.version.span,
                format!("unsupported format version {}", top.version.value),
                "this drctl reads `version: 1`",
            );
        }
        if !is_name(&top.name.value, false) {
            self.problem(
                top.name.span,
                format!("invalid runbook name `{}`", top.name.value),
                "use lowercase letters, digits and `-`, starting with a letter or digit, e.g. `db-restore`",
            );
        }
        let (rto, rpo) = match &top.objectives {
            Some(o) => (self.duration(o.rto.as_ref(), true), self.duration(o.rpo.as_ref(), false)),
            None => (None, None),
        };
        let defaults = self.defaults(top.defaults.as_ref());
        let inputs = self.inputs(loaded.inputs);
        if top.steps.value.is_empty() {
            self.problem(top.steps.span, "a runbook needs at least one step", "add a step under `steps:`");
        }

        let raw_steps = loaded.steps;
        let table = self.step_table(&raw_steps, &loaded.broken_step_ids, &inputs);
        let mut steps = Vec::with_capacity(raw_steps.len());
        for (index, (_, raw)) in raw_steps.iter().enumerate() {
            let Some(raw) = raw else { continue };
            let scope = Scope {
                step: Some(index),
                result: false,
                steps: &table,
            };
            if let Some(step) = self.step(raw, &defaults, &table, scope) {
                steps.push(step);
            }
        }
        if steps.len() != raw_steps.len() || !self.problems.is_empty() {
            return None;
        }
        let order = graph::topological_order(&steps.iter().map(|s| s.needs.clone()).collect::<Vec<_>>()).ok()?;
        Some(Runbook {
            path: path.to_path_buf(),
            source: source.to_owned(),
            hash: crate::hash::sha256_hex(source.as_bytes()),
            name: top.name.value,
            title: top.title,
            description: top.description,
            severity: top.severity,
            rto,
            rpo,
            inputs,
            steps,
            order,
        })
    }

    fn duration(&mut self, value: Option<&Spanned<String>>, non_zero: bool) -> Option<Duration> {
        let value = value?;
        match duration::parse(&value.value) {
            Ok(d) if non_zero && d.is_zero() => {
                self.problem(value.span, "a zero duration is meaningless here", "use a positive duration such as `30s`");
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                self.problem(value.span, e.to_string(), e.hint());
                None
            }
        }
    }

    fn defaults(&mut self, raw: Option<&RawDefaults>) -> Defaults {
        let Some(raw) = raw else { return Defaults::default() };
        Defaults {
            timeout: self.duration(raw.timeout.as_ref(), true),
            retry: raw.retry.as_ref().and_then(|r| self.retry(r)),
            shell: raw.shell.as_ref().and_then(|s| self.shell_command(s)),
        }
    }

    fn retry(&mut self, raw: &Spanned<RawRetry>) -> Option<Retry> {
        let r = &raw.value;
        let mut retry = Retry::default();
        if !(1..=100).contains(&r.attempts.value) {
            self.problem(
                r.attempts.span,
                format!("retry attempts must be between 1 and 100, found {}", r.attempts.value),
                "`attempts` counts every try, the first included",
            );
            return None;
        }
        retry.attempts = r.attempts.value;
        if let Some(delay) = &r.delay {
            retry.delay = self.duration(Some(delay), false)?;
        }
        if let Some(backoff) = &r.backoff {
            if !(1.0..=10.0).contains(&backoff.value) {
                self.problem(
                    backoff.span,
                    format!("retry backoff must be between 1.0 and 10.0, found {}", backoff.value),
                    "1.0 keeps the delay constant; 2.0 doubles it after each try",
                );
                return None;
            }
            retry.backoff = backoff.value;
        }
        Some(retry)
    }

    fn shell_command(&mut self, raw: &Spanned<String>) -> Option<Vec<String>> {
        let words: Vec<String> = raw.value.split_whitespace().map(str::to_owned).collect();
        if words.is_empty() {
            self.problem(raw.span, "empty shell command", "e.g. `bash -euo pipefail -c` or `sh -c`");
            return None;
        }
        Some(words)
    }

    fn inputs(&mut self, raw: Vec<(Spanned<String>, Option<RawInput>)>) -> IndexMap<String, Input> {
        let mut inputs = IndexMap::new();
        for (name, input) in raw {
            if !is_identifier(&name.value) {
                self.problem(
                    name.span,
                    format!("invalid input name `{}`", name.value),
                    "input names are used in templates as `inputs.NAME`: use lowercase letters, digits and `_`",
                );
            }
            let Some(input) = input else { continue };
            let choices: Vec<String> = input
                .choices
                .as_ref()
                .map(|c| c.value.iter().map(|v| v.value.clone()).collect())
                .unwrap_or_default();
            if let (Some(default), Some(choices_raw)) = (&input.default, &input.choices)
                && !choices.contains(&default.value)
            {
                let _ = choices_raw;
                self.problem(
                    default.span,
                    format!("default `{}` is not one of the choices", default.value),
                    format!("choices are: {}", choices.join(", ")),
                );
            }
            if let Some(choices) = &input.choices
                && choices.value.is_empty()
            {
                self.problem(choices.span, "`choices` is empty", "list the allowed values, or remove `choices`");
            }
            let secret = input.secret.unwrap_or(false);
            if secret
                && let Some(default) = &input.default
                && default.value.chars().count() < MIN_SECRET_LEN
            {
                self.problem(
                    default.span,
                    format!("a secret must be at least {MIN_SECRET_LEN} characters long"),
                    "a shorter value would be redacted everywhere it appears by chance",
                );
            }
            if let Some(env) = &input.env
                && !is_env_name(&env.value)
            {
                self.problem(
                    env.span,
                    format!("invalid environment variable name `{}`", env.value),
                    "use letters, digits and `_`, not starting with a digit",
                );
            }
            inputs.insert(
                name.value.clone(),
                Input {
                    name: name.value,
                    description: input.description,
                    default: input.default.map(|d| d.value),
                    required: input.required.unwrap_or(false),
                    env: input.env.map(|e| e.value),
                    secret,
                    choices,
                },
            );
        }
        inputs
    }

    fn step_table(
        &mut self,
        raw_steps: &[(Span, Option<RawStep>)],
        broken_ids: &[Option<String>],
        inputs: &IndexMap<String, Input>,
    ) -> StepTable {
        let mut ids: HashMap<String, usize> = HashMap::new();
        let mut id_spans: Vec<Span> = Vec::new();
        let mut outputs = Vec::with_capacity(raw_steps.len());
        for (index, (span, raw)) in raw_steps.iter().enumerate() {
            let Some(raw) = raw else {
                // Its problems are reported already; knowing its id avoids
                // a second, misleading "unknown step" wherever it is named.
                if let Some(Some(id)) = broken_ids.get(index) {
                    ids.entry(id.clone()).or_insert(index);
                }
                outputs.push(None);
                id_spans.push(*span);
                continue;
            };
            let id = &raw.id;
            if !is_name(&id.value, true) {
                self.problem(
                    id.span,
                    format!("invalid step id `{}`", id.value),
                    "use lowercase letters, digits, `-` and `_`, starting with a letter or digit",
                );
            }
            if let Some(&first) = ids.get(&id.value) {
                self.problem(
                    id.span,
                    format!("duplicate step id `{}`", id.value),
                    format!("the id is already used at line {}; step ids must be unique", id_spans[first].line),
                );
            } else {
                ids.insert(id.value.clone(), index);
            }
            id_spans.push(id.span);
            outputs.push(Some(raw.outputs.iter().flatten().map(|(name, _)| name.clone()).collect()));
        }
        // Dependency edges, for cycle detection and ancestry.
        let mut needs: Vec<Vec<usize>> = vec![Vec::new(); raw_steps.len()];
        let mut complete = true;
        for (index, (_, raw)) in raw_steps.iter().enumerate() {
            let Some(raw) = raw else {
                complete = false;
                continue;
            };
            for need in raw.needs.iter().flatten() {
                match ids.get(&need.value) {
                    Some(&target) if target == index => {
                        self.problem(need.span, format!("step `{}` needs itself", raw.id.value), "remove it from `needs`");
                        complete = false;
                    }
                    Some(&target) => {
                        if needs[index].contains(&target) {
                            self.problem(need.span, format!("`{}` is listed twice in `needs`", need.value), "remove one");
                        } else {
                            needs[index].push(target);
                        }
                    }
                    None => {
                        let hint = closest(&need.value, ids.keys().map(String::as_str))
                            .map_or_else(|| "`needs` lists ids of steps in this runbook".to_owned(), |c| {
                                format!("did you mean `{c}`?")
                            });
                        self.problem(need.span, format!("`needs` names unknown step `{}`", need.value), hint);
                        complete = false;
                    }
                }
            }
        }
        let ancestors = match graph::topological_order(&needs) {
            Ok(order) if complete => Some(graph::Ancestry::new(&needs, &order)),
            Ok(_) => None,
            Err(cycle) => {
                let names: Vec<&str> = cycle
                    .iter()
                    .map(|&i| raw_steps[i].1.as_ref().map_or("?", |s| s.id.value.as_str()))
                    .collect();
                let first = cycle[0];
                let span = raw_steps[first]
                    .1
                    .as_ref()
                    .and_then(|s| s.needs.as_ref()?.first().map(|n| n.span))
                    .unwrap_or(id_spans[first]);
                self.problem(
                    span,
                    format!("dependency cycle: {}", names.join(" → ")),
                    "a step cannot wait, directly or indirectly, for itself; remove one of these `needs`",
                );
                None
            }
        };
        StepTable {
            ids,
            outputs,
            ancestors,
            inputs: inputs.keys().cloned().collect(),
        }
    }

    fn step(&mut self, raw: &RawStep, defaults: &Defaults, table: &StepTable, scope: Scope) -> Option<Step> {
        let action = self.action(
            raw.id.span,
            &RawActionRef {
                shell: raw.shell.as_ref(),
                http: raw.http.as_ref(),
                postgres: raw.postgres.as_ref(),
                manual: raw.manual.as_ref(),
            },
            scope,
            defaults.shell.as_ref(),
        );
        let rollback = raw.rollback.as_ref().and_then(|r| {
            self.action(r.span, &RawActionRef::from(&r.value), scope, defaults.shell.as_ref())
        });
        let when = raw.when.as_ref().and_then(|w| self.expression(w, scope));
        let confirm = raw.confirm.as_ref().and_then(|c| self.confirm(c, scope));
        let timeout = match &raw.timeout {
            Some(t) => Some(self.duration(Some(t), true)?),
            None => defaults.timeout,
        };
        let retry = match &raw.retry {
            Some(r) => self.retry(r)?,
            None => defaults.retry.unwrap_or_default(),
        };
        let result_scope = Scope { result: true, ..scope };
        let mut outputs = Vec::new();
        for (name, output) in raw.outputs.iter().flatten() {
            if !is_identifier(name) {
                self.problem(
                    output.span,
                    format!("invalid output name `{name}`"),
                    "output names are used as `steps.ID.outputs.NAME`: use lowercase letters, digits and `_`",
                );
                continue;
            }
            let (text, secret, span) = match &output.value {
                RawOutput::Template(t) => (t.as_str(), false, output.span),
                RawOutput::Detailed(d) => (d.value.value.as_str(), d.secret.unwrap_or(false), d.value.span),
            };
            if let Some(template) = self.template(text, span, result_scope) {
                outputs.push(Output {
                    name: name.clone(),
                    template,
                    secret,
                });
            }
        }
        let needs = raw
            .needs
            .iter()
            .flatten()
            .filter_map(|n| table.ids.get(&n.value).copied())
            .collect();
        Some(Step {
            id: raw.id.value.clone(),
            title: raw.title.clone(),
            span: raw.id.span,
            needs,
            action: action?,
            when,
            confirm,
            timeout,
            retry,
            continue_on_error: raw.continue_on_error.unwrap_or(false),
            readonly: raw.readonly.unwrap_or(false),
            outputs,
            rollback,
        })
    }

    fn action(&mut self, span: Span, raw: &RawActionRef, scope: Scope, default_shell: Option<&Vec<String>>) -> Option<Action> {
        let present: Vec<&str> = [
            raw.shell.map(|_| "shell"),
            raw.http.map(|_| "http"),
            raw.postgres.map(|_| "postgres"),
            raw.manual.map(|_| "manual"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if present.len() != 1 {
            let message = if present.is_empty() {
                "no action: a step needs exactly one of `shell`, `http`, `postgres`, `manual`".to_owned()
            } else {
                format!("more than one action ({}): a step runs exactly one", present.join(", "))
            };
            self.problem(span, message, "split the work into one step per action, linked with `needs`");
            return None;
        }
        if let Some(shell) = raw.shell {
            return self.shell(shell, scope, default_shell).map(Action::Shell);
        }
        if let Some(http) = raw.http {
            return self.http(http, scope).map(Action::Http);
        }
        if let Some(pg) = raw.postgres {
            return self.postgres(pg, scope).map(Action::Postgres);
        }
        let manual = raw.manual?;
        self.template(&manual.value, manual.span, scope)
            .map(|instructions| Action::Manual(ManualAction { instructions }))
    }

    fn shell(&mut self, raw: &Spanned<RawShell>, scope: Scope, default_shell: Option<&Vec<String>>) -> Option<ShellAction> {
        let s = &raw.value;
        let expect = self.expect(s.expect.as_ref(), false, scope).map(|(_, e)| e);
        let env = self.template_map(s.env.as_ref(), scope, true);
        let cwd = s.cwd.as_ref().and_then(|c| self.template(&c.value, c.span, scope));
        let shell = match &s.shell {
            Some(sh) => self.shell_command(sh),
            None => Some(default_shell.cloned().unwrap_or_default()),
        };
        let rewritten = match template::shell::rewrite(&s.run.value) {
            Ok(r) => r,
            Err(e) => {
                let line = s.run.value[..e.offset.min(s.run.value.len())].matches('\n').count() + 1;
                self.problem(s.run.span, format!("{} (script line {line})", e.message), e.hint.clone());
                return None;
            }
        };
        let mut ok = true;
        for placeholder in &rewritten.placeholders {
            match Expression::refs_of(&placeholder.expr) {
                Ok(refs) => ok &= self.refs(&refs, s.run.span, scope),
                Err(e) => {
                    self.problem(
                        s.run.span,
                        format!("in `{{{{ {} }}}}`: {}", placeholder.expr, e.message),
                        e.hint.unwrap_or_default(),
                    );
                    ok = false;
                }
            }
        }
        if !ok {
            return None;
        }
        Some(ShellAction {
            source: s.run.value.clone(),
            script: rewritten.script,
            placeholders: rewritten.placeholders.into_iter().map(|p| (p.var, p.expr)).collect(),
            env: env?,
            cwd,
            shell: shell?,
            expect: expect?,
            span: s.run.span,
        })
    }

    fn http(&mut self, raw: &Spanned<RawHttp>, scope: Scope) -> Option<HttpAction> {
        let h = &raw.value;
        let method = match &h.method {
            Some(m) => {
                let upper = m.value.to_ascii_uppercase();
                if upper.is_empty() || !upper.bytes().all(|b| b.is_ascii_alphabetic()) {
                    self.problem(m.span, format!("invalid HTTP method `{}`", m.value), "e.g. GET, POST, PUT, DELETE");
                    return None;
                }
                upper
            }
            None => "GET".to_owned(),
        };
        let url = self.template(&h.url.value, h.url.span, scope);
        let headers = self.template_map(h.headers.as_ref(), scope, false);
        let body = match (&h.json, &h.body) {
            (Some(json), Some(_)) => {
                self.problem(json.span, "both `json` and `body` are set", "send either a JSON body or a text body");
                return None;
            }
            (Some(json), None) => {
                let mut ok = true;
                self.json_templates(&json.value, json.span, scope, &mut ok);
                ok.then(|| Some(HttpBodyTemplate::Json(json.value.clone())))
            }
            (None, Some(body)) => self
                .template(&body.value, body.span, scope)
                .map(|t| Some(HttpBodyTemplate::Text(t))),
            (None, None) => Some(None),
        };
        let timeout = match &h.timeout {
            Some(t) => Some(self.duration(Some(t), true)?),
            None => None,
        };
        let (status, expect) = self.expect(h.expect.as_ref(), true, scope)?;
        Some(HttpAction {
            method,
            url: url?,
            headers: headers?,
            body: body?,
            timeout,
            insecure: h.insecure.unwrap_or(false),
            expect_status: status,
            expect,
        })
    }

    fn postgres(&mut self, raw: &Spanned<RawPostgres>, scope: Scope) -> Option<PostgresAction> {
        let p = &raw.value;
        let url = self.template(&p.url.value, p.url.span, scope);
        let (sql, mode) = match (&p.query, &p.script) {
            (Some(q), None) => (q, SqlMode::Query),
            (None, Some(s)) => (s, SqlMode::Script),
            (Some(_), Some(script)) => {
                self.problem(
                    script.span,
                    "both `query` and `script` are set",
                    "`query` runs one statement; `script` runs several in one transaction: keep one",
                );
                return None;
            }
            (None, None) => {
                self.problem(
                    raw.span,
                    "a postgres step needs `query` or `script`",
                    "`query` runs one statement; `script` runs several in one transaction",
                );
                return None;
            }
        };
        let template = match template::sql::parse(&sql.value) {
            Ok(t) => t,
            Err(e) => {
                self.problem(sql.span, e.message.clone(), e.hint.clone());
                return None;
            }
        };
        let mut ok = true;
        for (expr, _) in template.expressions() {
            match Expression::refs_of(expr) {
                Ok(refs) => ok &= self.refs(&refs, sql.span, scope),
                Err(e) => {
                    self.problem(sql.span, format!("in `{{{{ {expr} }}}}`: {}", e.message), e.hint.unwrap_or_default());
                    ok = false;
                }
            }
        }
        let (_, expect) = self.expect(p.expect.as_ref(), false, scope)?;
        if !ok {
            return None;
        }
        Some(PostgresAction {
            url: url?,
            source: sql.value.clone(),
            sql: template,
            mode,
            expect,
        })
    }

    fn confirm(&mut self, raw: &Spanned<RawConfirm>, scope: Scope) -> Option<Confirm> {
        match &raw.value {
            RawConfirm::Flag(false) => None,
            RawConfirm::Flag(true) => Some(Confirm {
                message: None,
                word: None,
            }),
            RawConfirm::Message(m) => Some(Confirm {
                message: Some(self.template(m, raw.span, scope)?),
                word: None,
            }),
            RawConfirm::Typed(t) => {
                let word = t.word.value.trim();
                if word.is_empty() || word.chars().any(char::is_whitespace) {
                    self.problem(
                        t.word.span,
                        "the confirmation word must be one word",
                        "e.g. `type: restore`; the operator types it to go on",
                    );
                    return None;
                }
                Some(Confirm {
                    message: match &t.message {
                        Some(m) => Some(self.template(m, raw.span, scope)?),
                        None => None,
                    },
                    word: Some(word.to_owned()),
                })
            }
        }
    }

    /// Returns the expected statuses (HTTP only) and the expressions.
    fn expect(&mut self, raw: Option<&Spanned<RawExpect>>, http: bool, scope: Scope) -> Option<(Vec<u16>, Vec<Expression>)> {
        let Some(raw) = raw else { return Some((Vec::new(), Vec::new())) };
        let scope = Scope { result: true, ..scope };
        let (status, that) = match &raw.value {
            RawExpect::That(that) => (None, Some(that)),
            RawExpect::Detailed(d) => (d.status.as_ref(), d.that.as_ref()),
        };
        let mut statuses = Vec::new();
        if let Some(status) = status {
            if !http {
                self.problem(status.span, "`status` applies to http steps only", "use `that:` expressions over `result`");
                return None;
            }
            statuses = match &status.value {
                RawStatus::One(code) => vec![*code],
                RawStatus::Many(codes) => codes.clone(),
            };
            if let Some(bad) = statuses.iter().find(|c| !(100..=599).contains(*c)) {
                self.problem(status.span, format!("{bad} is not an HTTP status code"), "use codes from 100 to 599");
                return None;
            }
        }
        let mut expressions = Vec::new();
        let mut ok = true;
        for e in that.into_iter().flatten() {
            match self.expression(e, scope) {
                Some(expression) => expressions.push(expression),
                None => ok = false,
            }
        }
        ok.then_some((statuses, expressions))
    }

    fn expression(&mut self, raw: &Spanned<String>, scope: Scope) -> Option<Expression> {
        let source = raw.value.trim();
        let source = source
            .strip_prefix("{{")
            .and_then(|s| s.strip_suffix("}}"))
            .unwrap_or(source)
            .trim();
        match Expression::compile(source, raw.span) {
            Ok(e) => self.refs(&e.refs, raw.span, scope).then_some(e),
            Err(e) => {
                self.problem(raw.span, format!("invalid expression: {}", e.message), e.hint.unwrap_or_default());
                None
            }
        }
    }

    fn template(&mut self, source: &str, span: Span, scope: Scope) -> Option<Template> {
        match Template::compile(source, span) {
            Ok(t) => self.refs(&t.refs, span, scope).then_some(t),
            Err(e) => {
                self.problem(span, format!("invalid template: {}", e.message), e.hint.unwrap_or_default());
                None
            }
        }
    }

    fn template_map(
        &mut self,
        raw: Option<&IndexMap<Spanned<String>, Spanned<String>>>,
        scope: Scope,
        env_names: bool,
    ) -> Option<Vec<(String, Template)>> {
        let mut out = Vec::new();
        let mut ok = true;
        for (name, value) in raw.into_iter().flatten() {
            if env_names && !is_env_name(&name.value) {
                self.problem(
                    name.span,
                    format!("invalid environment variable name `{}`", name.value),
                    "use letters, digits and `_`, not starting with a digit",
                );
                ok = false;
                continue;
            }
            match self.template(&value.value, value.span, scope) {
                Some(t) => out.push((name.value.clone(), t)),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn json_templates(&mut self, value: &serde_json::Value, span: Span, scope: Scope, ok: &mut bool) {
        match value {
            serde_json::Value::String(s) => *ok &= self.template(s, span, scope).is_some(),
            serde_json::Value::Array(items) => {
                for item in items {
                    self.json_templates(item, span, scope, ok);
                }
            }
            serde_json::Value::Object(map) => {
                for item in map.values() {
                    self.json_templates(item, span, scope, ok);
                }
            }
            _ => {}
        }
    }

    /// Checks the names a template reads; returns false (with problems recorded) if any cannot resolve.
    fn refs(&mut self, refs: &BTreeSet<String>, span: Span, scope: Scope) -> bool {
        let mut ok = true;
        for reference in refs {
            if let Err((message, hint)) = resolve(reference, scope) {
                self.problem(span, message, hint);
                ok = false;
            }
        }
        ok
    }
}

/// Why a dotted name cannot be resolved, as message and hint.
fn resolve(reference: &str, scope: Scope) -> Result<(), (String, String)> {
    let parts: Vec<&str> = reference.split('.').collect();
    let table = scope.steps;
    match parts[0] {
        "env" => Ok(()),
        "result" if scope.result => Ok(()),
        "result" => Err((
            "`result` is not known here".to_owned(),
            "`result` can be used in `expect` and `outputs`, after the action ran".to_owned(),
        )),
        "inputs" => match parts.get(1) {
            Some(name) if !table.inputs.contains(*name) => Err((
                format!("unknown input `{name}`"),
                closest(name, table.inputs.iter().map(String::as_str)).map_or_else(
                    || "declare it under `inputs:`".to_owned(),
                    |c| format!("did you mean `inputs.{c}`?"),
                ),
            )),
            _ => Ok(()),
        },
        "run" => match parts.get(1) {
            Some(field) if !RUN_FIELDS.contains(field) => Err((
                format!("unknown run field `run.{field}`"),
                format!("available: {}", RUN_FIELDS.iter().map(|f| format!("run.{f}")).collect::<Vec<_>>().join(", ")),
            )),
            _ => Ok(()),
        },
        "steps" => {
            let Some(id) = parts.get(1) else { return Ok(()) };
            let Some(&target) = table.ids.get(*id) else {
                return Err((
                    format!("unknown step `{id}`"),
                    closest(id, table.ids.keys().map(String::as_str)).map_or_else(
                        || "step ids containing `-` must be written `steps[\"my-step\"]`".to_owned(),
                        |c| format!("did you mean `steps.{c}`?"),
                    ),
                ));
            };
            if let (Some(current), Some(ancestors)) = (scope.step, &table.ancestors)
                && !ancestors.is_ancestor(current, target)
            {
                return Err((
                    format!("step `{id}` is not a dependency of this step, so its result may not exist yet"),
                    format!("add `{id}` to this step's `needs` (directly or through another step)"),
                ));
            }
            match parts.get(2) {
                Some(field) if !STEP_FIELDS.contains(field) => Err((
                    format!("unknown step field `steps.{id}.{field}`"),
                    "available: status, result, outputs".to_owned(),
                )),
                Some(&"outputs") => match parts.get(3) {
                    Some(name) if table.outputs[target].as_ref().is_some_and(|o| !o.contains(*name)) => Err((
                        format!("step `{id}` has no output `{name}`"),
                        "declare it under that step's `outputs:`".to_owned(),
                    )),
                    _ => Ok(()),
                },
                _ => Ok(()),
            }
        }
        other => Err((
            format!("unknown name `{other}`"),
            if reference.contains('-') || ["before", "after", "check", "on", "off"].contains(&other) {
                "names in scope: inputs, steps, env, run; step ids containing `-` must be written `steps[\"my-step\"]`"
                    .to_owned()
            } else {
                "names in scope: inputs, steps, env, run (and result in expect/outputs)".to_owned()
            },
        )),
    }
}

struct RawActionRef<'a> {
    shell: Option<&'a Spanned<RawShell>>,
    http: Option<&'a Spanned<RawHttp>>,
    postgres: Option<&'a Spanned<RawPostgres>>,
    manual: Option<&'a Spanned<String>>,
}

impl<'a> From<&'a RawAction> for RawActionRef<'a> {
    fn from(raw: &'a RawAction) -> Self {
        RawActionRef {
            shell: raw.shell.as_ref(),
            http: raw.http.as_ref(),
            postgres: raw.postgres.as_ref(),
            manual: raw.manual.as_ref(),
        }
    }
}

#[derive(Default)]
struct Defaults {
    timeout: Option<Duration>,
    retry: Option<Retry>,
    shell: Option<Vec<String>>,
}

/// `[a-z0-9][a-z0-9-]*` (runbook names), or with `_` too (step ids).
fn is_name(text: &str, underscore: bool) -> bool {
    let mut bytes = text.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || (underscore && b == b'_'))
        && text.len() <= 64
}

/// `[a-z_][a-z0-9_]*`: usable as `inputs.NAME` in templates.
fn is_identifier(text: &str) -> bool {
    let mut bytes = text.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn is_env_name(text: &str) -> bool {
    let mut bytes = text.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, _)| *d <= (word.len() / 3).max(1) && *d < word.len())
        .min()
        .map(|(_, c)| c)
}
