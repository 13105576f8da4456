//! Checking a step's action (`shell`, `http`, `postgres`, `manual`, `ssh`), its
//! confirmation and its expectations.

use super::references::Scope;
use super::{Checker, RawActionRef};
use crate::runbook::model::{
    Action, Confirm, HttpAction, HttpBodyTemplate, ManualAction, PostgresAction, ShellAction,
    SqlMode, SshAction,
};
use crate::runbook::node_de::YAML11_BOOLEANS;
use crate::runbook::raw::{
    RawCodes, RawConfirm, RawExpect, RawHttp, RawPort, RawPostgres, RawShell, RawSsh,
};
use crate::runbook::spanned::Spanned;
use crate::runbook::ssh_target;
use crate::span::Span;
use crate::template::{self, Expression, Template};

impl Checker {
    pub(super) fn action(
        &mut self,
        span: Span,
        raw: &RawActionRef,
        scope: Scope,
        default_shell: Option<&Vec<String>>,
    ) -> Option<Action> {
        let present: Vec<&str> = [
            raw.shell.map(|_| "shell"),
            raw.http.map(|_| "http"),
            raw.postgres.map(|_| "postgres"),
            raw.manual.map(|_| "manual"),
            raw.ssh.map(|_| "ssh"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if present.len() != 1 {
            let message = if present.is_empty() {
                "no action: a step needs exactly one of `shell`, `http`, `postgres`, `manual`, `ssh`, `runbook`"
                    .to_owned()
            } else {
                format!(
                    "more than one action ({}): a step runs exactly one",
                    present.join(", ")
                )
            };
            self.problem(
                span,
                message,
                "split the work into one step per action, linked with `needs`",
            );
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
        if let Some(ssh) = raw.ssh {
            return self.ssh(ssh, scope).map(|a| Action::Ssh(Box::new(a)));
        }
        let manual = raw.manual?;
        self.template(&manual.value, manual.span, scope)
            .map(|instructions| Action::Manual(ManualAction { instructions }))
    }

    pub(super) fn shell(
        &mut self,
        raw: &Spanned<RawShell>,
        scope: Scope,
        default_shell: Option<&Vec<String>>,
    ) -> Option<ShellAction> {
        let s = &raw.value;
        let expect = self.expect(s.expect.as_ref(), "shell", scope);
        let env = self.template_map(s.env.as_ref(), scope, true);
        let cwd = s
            .cwd
            .as_ref()
            .and_then(|c| self.template(&c.value, c.span, scope));
        let shell = match &s.shell {
            Some(sh) => self.shell_command(sh),
            None => Some(default_shell.cloned().unwrap_or_default()),
        };
        let rewritten = self.script(&s.run, scope)?;
        Some(ShellAction {
            source: s.run.value.clone(),
            script: rewritten.script,
            placeholders: rewritten
                .placeholders
                .into_iter()
                .map(|p| (p.var, p.expr))
                .collect(),
            env: env?,
            cwd,
            shell: shell?,
            expect_exit: expect.as_ref()?.exit.clone(),
            expect: expect?.that,
            span: s.run.span,
        })
    }

    /// A `run:` script, rewritten by the shell template policy, with the
    /// names its placeholders read checked.
    fn script(
        &mut self,
        run: &Spanned<String>,
        scope: Scope,
    ) -> Option<template::shell::ShellTemplate> {
        let rewritten = match template::shell::rewrite(&run.value) {
            Ok(r) => r,
            Err(e) => {
                let line = run.value[..e.offset.min(run.value.len())]
                    .matches('\n')
                    .count()
                    + 1;
                self.problem(
                    self.inside(run.span, &run.value, e.offset),
                    format!("{} (script line {line})", e.message),
                    e.hint.clone(),
                );
                return None;
            }
        };
        let mut ok = true;
        for placeholder in &rewritten.placeholders {
            let since = self.problems.len();
            match self.compiled.refs_of(&placeholder.expr) {
                Ok(refs) => ok &= self.refs(&refs, run.span, scope),
                Err(e) => {
                    self.problem(
                        run.span,
                        format!("in `{{{{ {} }}}}`: {}", placeholder.expr, e.message),
                        e.hint.unwrap_or_default(),
                    );
                    ok = false;
                }
            }
            self.reposition(since, run.span, &run.value, placeholder.offset);
        }
        if !ok {
            return None;
        }
        Some(rewritten)
    }

    pub(super) fn ssh(&mut self, raw: &Spanned<RawSsh>, scope: Scope) -> Option<SshAction> {
        let s = &raw.value;
        let expect = self.expect(s.expect.as_ref(), "ssh", scope);
        let host = self.ssh_part(&s.host, scope, ssh_target::host_problem, HOST_HINT);
        let user = s
            .user
            .as_ref()
            .map(|u| self.ssh_part(u, scope, ssh_target::user_problem, USER_HINT));
        let port = s.port.as_ref().map(|p| match &p.value {
            RawPort::Number(n) => {
                let text = n.to_string();
                match ssh_target::port(&text) {
                    Ok(_) => Template::compile(&text, p.span).ok(),
                    Err(message) => {
                        self.problem(p.span, message, PORT_HINT);
                        None
                    }
                }
            }
            RawPort::Template(text) => {
                let spanned = Spanned {
                    value: text.clone(),
                    span: p.span,
                };
                let problem = |t: &str| ssh_target::port(t).err();
                self.ssh_part(&spanned, scope, problem, PORT_HINT)
            }
        });
        let path = |checker: &mut Self, raw: Option<&Spanned<String>>| {
            raw.map(|p| checker.ssh_part(p, scope, ssh_target::path_problem, PATH_HINT))
        };
        let identity_file = path(self, s.identity_file.as_ref());
        let known_hosts = path(self, s.known_hosts.as_ref());
        let rewritten = self.script(&s.run, scope);
        let expect = expect?;
        let rewritten = rewritten?;
        Some(SshAction {
            host: host?,
            user: user.map_or(Some(None), |u| u.map(Some))?,
            port: port.map_or(Some(None), |p| p.map(Some))?,
            identity_file: identity_file.map_or(Some(None), |p| p.map(Some))?,
            known_hosts: known_hosts.map_or(Some(None), |p| p.map(Some))?,
            script: ShellAction {
                source: s.run.value.clone(),
                script: rewritten.script,
                placeholders: rewritten
                    .placeholders
                    .into_iter()
                    .map(|p| (p.var, p.expr))
                    .collect(),
                env: Vec::new(),
                cwd: None,
                shell: Vec::new(),
                expect_exit: expect.exit,
                expect: expect.that,
                span: s.run.span,
            },
        })
    }

    /// `host`, `user`, `port` or a path of an ssh step: a template, and
    /// when it holds no `{{ }}` already its value, checked by `problem`
    /// (the adapter checks rendered values the same way).
    fn ssh_part(
        &mut self,
        raw: &Spanned<String>,
        scope: Scope,
        problem: impl Fn(&str) -> Option<String>,
        hint: &str,
    ) -> Option<Template> {
        let template = self.template(&raw.value, raw.span, scope)?;
        if !template::is_template(&raw.value)
            && let Some(message) = problem(&raw.value)
        {
            self.problem(raw.span, message, hint);
            return None;
        }
        Some(template)
    }

    pub(super) fn http(&mut self, raw: &Spanned<RawHttp>, scope: Scope) -> Option<HttpAction> {
        let h = &raw.value;
        let method = match &h.method {
            Some(m) => {
                let upper = m.value.to_ascii_uppercase();
                if !HTTP_METHODS.contains(&upper.as_str()) {
                    let hint = match crate::runbook::suggest::closest(
                        &upper,
                        HTTP_METHODS.iter().copied(),
                    ) {
                        Some(near) => format!(
                            "did you mean `{near}`? the methods are {}",
                            HTTP_METHODS.join(", ")
                        ),
                        None => format!("the methods are {}", HTTP_METHODS.join(", ")),
                    };
                    self.problem(m.span, format!("unknown HTTP method `{}`", m.value), hint);
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
                self.problem(
                    json.span,
                    "both `json` and `body` are set",
                    "send either a JSON body or a text body",
                );
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
        let expect = self.expect(h.expect.as_ref(), "http", scope)?;
        Some(HttpAction {
            method,
            url: url?,
            headers: headers?,
            body: body?,
            timeout,
            insecure: h.insecure.unwrap_or(false),
            expect_status: expect.status,
            expect: expect.that,
        })
    }

    pub(super) fn postgres(
        &mut self,
        raw: &Spanned<RawPostgres>,
        scope: Scope,
    ) -> Option<PostgresAction> {
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
                let at = self.inside(sql.span, &sql.value, e.offset);
                self.problem(at, e.message.clone(), e.hint.clone());
                return None;
            }
        };
        let mut ok = true;
        for (expr, offset) in template.expressions() {
            let since = self.problems.len();
            match self.compiled.refs_of(expr) {
                Ok(refs) => ok &= self.refs(&refs, sql.span, scope),
                Err(e) => {
                    self.problem(
                        sql.span,
                        format!("in `{{{{ {expr} }}}}`: {}", e.message),
                        e.hint.unwrap_or_default(),
                    );
                    ok = false;
                }
            }
            // The offset is the expression's; the caret goes under its `{{`.
            let open = sql.value.get(..offset).and_then(|v| v.rfind("{{"));
            self.reposition(since, sql.span, &sql.value, open.unwrap_or(offset));
        }
        let expect = self.expect(p.expect.as_ref(), "postgres", scope)?.that;
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

    pub(super) fn confirm(&mut self, raw: &Spanned<RawConfirm>, scope: Scope) -> Option<Confirm> {
        match &raw.value {
            RawConfirm::Flag(false) => None,
            RawConfirm::Flag(true) => Some(Confirm {
                message: None,
                word: None,
            }),
            RawConfirm::Message(m) if YAML11_BOOLEANS.contains(&m.as_str()) => {
                self.problem(
                    raw.span,
                    format!("expected true, false, a message or `{{message, type}}`, found `{m}`"),
                    "drctl reads YAML 1.2: only `true` and `false` are booleans; \
                     `confirm: true` asks yes/no, `confirm: false` asks nothing",
                );
                None
            }
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

    /// The expected statuses (http), exit codes (shell) and expressions of
    /// an action of kind `action`.
    pub(super) fn expect(
        &mut self,
        raw: Option<&Spanned<RawExpect>>,
        action: &str,
        scope: Scope,
    ) -> Option<Expected> {
        let mut expected = Expected::default();
        let Some(raw) = raw else {
            return Some(expected);
        };
        let scope = Scope {
            result: true,
            ..scope
        };
        let (status, exit, that) = match &raw.value {
            RawExpect::That(that) => (None, None, Some(that)),
            RawExpect::Detailed(d) => (d.status.as_ref(), d.exit.as_ref(), d.that.as_ref()),
        };
        let mut ok = true;
        if let Some(status) = status {
            ok &= self
                .codes(status, action, "http", "status", 100..=599)
                .map(|codes| expected.status = codes)
                .is_some();
        }
        if let Some(exit) = exit {
            ok &= self
                .codes(exit, action, "shell", "exit", 0..=255)
                .map(|codes| expected.exit = codes)
                .is_some();
        }
        for e in that.into_iter().flatten() {
            match self.expression(e, scope) {
                Some(expression) => expected.that.push(expression),
                None => ok = false,
            }
        }
        ok.then_some(expected)
    }

    /// `expect.status` or `expect.exit`: allowed for `owner` actions only,
    /// each code in `range`.
    fn codes<T: TryFrom<i64>>(
        &mut self,
        raw: &Spanned<RawCodes>,
        action: &str,
        owner: &str,
        key: &str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Option<Vec<T>> {
        // An ssh step's answer is a remote shell's: its exit code.
        if action != owner && !(owner == "shell" && action == "ssh") {
            let hint = match action {
                "http" => "an http step's answer is checked with `status:` and `that:`",
                "shell" | "ssh" => {
                    "a shell or ssh step's answer is checked with `exit:` and `that:`"
                }
                _ => "use `that:` expressions over `result`",
            };
            self.problem(
                raw.span,
                format!("`expect.{key}` applies to {owner} steps only, not {action}"),
                hint,
            );
            return None;
        }
        let codes = raw.value.to_vec();
        let what = if key == "status" {
            "an HTTP status code"
        } else {
            "an exit code"
        };
        if codes.is_empty() {
            self.problem(
                raw.span,
                format!("`expect.{key}` is an empty list"),
                format!("give {what} or a list of them, or leave `{key}` out"),
            );
            return None;
        }
        if let Some(bad) = codes.iter().find(|c| !range.contains(c)) {
            self.problem(
                raw.span,
                format!("{bad} is not {what}"),
                format!("use codes from {} to {}", range.start(), range.end()),
            );
            return None;
        }
        Some(
            codes
                .into_iter()
                .filter_map(|c| T::try_from(c).ok())
                .collect(),
        )
    }
}

/// What an action's `expect` asks for.
#[derive(Default)]
pub(super) struct Expected {
    /// HTTP statuses that count as success; empty: any 2xx.
    pub status: Vec<u16>,
    /// Exit codes that count as success; empty: 0.
    pub exit: Vec<i32>,
    pub that: Vec<Expression>,
}

const HOST_HINT: &str = "write a host name or an IP address alone, e.g. `db-1.example.com`; \
     the user and port have keys of their own (`user:`, `port:`)";
const USER_HINT: &str = "write the login name alone, e.g. `deploy`";
const PORT_HINT: &str = "e.g. `port: 22`";
const PATH_HINT: &str = "use a path without spaces or quotes, e.g. `/etc/drctl/ssh/id_ed25519`";

/// The methods an `http` step may use (RFC 9110 and PATCH, RFC 5789).
const HTTP_METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT",
];
