//! Checking a step's action (`shell`, `http`, `postgres`, `manual`), its
//! confirmation and its expectations.

use super::references::Scope;
use super::{Checker, RawActionRef};
use crate::runbook::model::{
    Action, Confirm, HttpAction, HttpBodyTemplate, ManualAction, PostgresAction, ShellAction,
    SqlMode,
};
use crate::runbook::node_de::YAML11_BOOLEANS;
use crate::runbook::raw::{RawConfirm, RawExpect, RawHttp, RawPostgres, RawShell, RawStatus};
use crate::runbook::spanned::Spanned;
use crate::span::Span;
use crate::template::{self, Expression};

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
        ]
        .into_iter()
        .flatten()
        .collect();
        if present.len() != 1 {
            let message = if present.is_empty() {
                "no action: a step needs exactly one of `shell`, `http`, `postgres`, `manual`"
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
        let expect = self.expect(s.expect.as_ref(), false, scope).map(|(_, e)| e);
        let env = self.template_map(s.env.as_ref(), scope, true);
        let cwd = s
            .cwd
            .as_ref()
            .and_then(|c| self.template(&c.value, c.span, scope));
        let shell = match &s.shell {
            Some(sh) => self.shell_command(sh),
            None => Some(default_shell.cloned().unwrap_or_default()),
        };
        let rewritten = match template::shell::rewrite(&s.run.value) {
            Ok(r) => r,
            Err(e) => {
                let line = s.run.value[..e.offset.min(s.run.value.len())]
                    .matches('\n')
                    .count()
                    + 1;
                self.problem(
                    self.inside(s.run.span, &s.run.value, e.offset),
                    format!("{} (script line {line})", e.message),
                    e.hint.clone(),
                );
                return None;
            }
        };
        let mut ok = true;
        for placeholder in &rewritten.placeholders {
            let since = self.problems.len();
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
            self.reposition(since, s.run.span, &s.run.value, placeholder.offset);
        }
        if !ok {
            return None;
        }
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
            expect: expect?,
            span: s.run.span,
        })
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
            match Expression::refs_of(expr) {
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

    /// Returns the expected statuses (HTTP only) and the expressions.
    pub(super) fn expect(
        &mut self,
        raw: Option<&Spanned<RawExpect>>,
        http: bool,
        scope: Scope,
    ) -> Option<(Vec<u16>, Vec<Expression>)> {
        let Some(raw) = raw else {
            return Some((Vec::new(), Vec::new()));
        };
        let scope = Scope {
            result: true,
            ..scope
        };
        let (status, that) = match &raw.value {
            RawExpect::That(that) => (None, Some(that)),
            RawExpect::Detailed(d) => (d.status.as_ref(), d.that.as_ref()),
        };
        let mut statuses = Vec::new();
        if let Some(status) = status {
            if !http {
                self.problem(
                    status.span,
                    "`status` applies to http steps only",
                    "use `that:` expressions over `result`",
                );
                return None;
            }
            statuses = match &status.value {
                RawStatus::One(code) => vec![*code],
                RawStatus::Many(codes) => codes.clone(),
            };
            if let Some(bad) = statuses.iter().find(|c| !(100..=599).contains(*c)) {
                self.problem(
                    status.span,
                    format!("{bad} is not an HTTP status code"),
                    "use codes from 100 to 599",
                );
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
}

/// The methods an `http` step may use (RFC 9110 and PATCH, RFC 5789).
const HTTP_METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT",
];
