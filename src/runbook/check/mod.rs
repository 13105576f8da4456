//! Semantic validation: turns the raw model into a [`Runbook`], reporting
//! every problem at once, each at the position it is about.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

use indexmap::IndexMap;

use super::duration;
use super::graph;
use super::load::Loaded;
use super::model::{Impact, Input, Output, Retry, Roles, Runbook, Step, Until};
use super::node::Span;
use super::node_de::Problem;
use super::raw::InputType;
use super::raw::{
    RawAction, RawDefaults, RawHttp, RawImpact, RawOutput, RawPostgres, RawRetry, RawRoles,
    RawShell, RawStep,
};
use super::spanned::Spanned;
use super::suggest::Suggester;
use crate::template::{Expression, Template};

use self::references::{Scope, StepTable, resolve};

mod actions;
mod approve;
mod calls;
mod compiled;
mod for_each;
mod handlers;
mod inputs;
mod notify;
mod position;
mod references;

pub use self::calls::CallLoader;
pub use crate::secret::MIN_SECRET_LEN;
pub use notify::EVENT_FIELDS as NOTIFY_EVENT_FIELDS;

/// Steps in one runbook. Hand-written runbooks have tens; the bound keeps
/// the dependency checks (ancestry is a bit matrix, steps × steps) within a
/// few megabytes whatever the file holds.
pub const MAX_STEPS: usize = 10_000;

/// How long an input's `command` may take unless it says `timeout`.
pub const DEFAULT_SOURCE_TIMEOUT: Duration = Duration::from_secs(30);

/// Checks a loaded runbook. `problems` holds what the loader already found.
pub fn check(
    path: &Path,
    source: &str,
    loaded: Loaded,
    problems: Vec<Problem>,
    calls: &mut CallLoader,
) -> Result<Runbook, Vec<Problem>> {
    let mut checker = Checker {
        problems,
        source: source.to_owned(),
        compiled: compiled::Compiled::default(),
    };
    let runbook = checker.runbook(path, source, loaded, calls);
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
    /// The file's text, to place problems found inside a scalar's value.
    source: String,
    compiled: compiled::Compiled,
}

impl Checker {
    /// Where byte `offset` of the value of the scalar at `scalar` is in the file.
    fn inside(&self, scalar: Span, value: &str, offset: usize) -> Span {
        position::inside(&self.source, scalar, value, offset)
    }

    /// Moves the problems found since the first `since` from the scalar at
    /// `scalar` to byte `offset` of its value. Positions are computed only
    /// for problems that will be shown: a script's many placeholders, or a
    /// file's thousands of problems, cost nothing.
    fn reposition(&mut self, since: usize, scalar: Span, value: &str, offset: usize) {
        if self.problems.len() > since && since < crate::diagnostic::MAX_PER_FILE {
            let at = self.inside(scalar, value, offset);
            for problem in &mut self.problems[since..] {
                problem.span = Some(at);
            }
        }
    }

    fn problem(&mut self, span: Span, message: impl Into<String>, hint: impl Into<String>) {
        self.problems
            .push(Problem::new(span, message).with_hint(hint));
    }

    fn runbook(
        &mut self,
        path: &Path,
        source: &str,
        loaded: Loaded,
        calls: &mut CallLoader,
    ) -> Option<Runbook> {
        let top = loaded.top;
        let warnings = loaded.warnings;
        if top.version.value != 1 {
            self.problem(
                top.version.span,
                format!("unsupported format version {}", top.version.value),
                "this drctl reads `version: 1`",
            );
        }
        if top.name.value.len() > MAX_NAME {
            self.problem(
                top.name.span,
                format!("the runbook name is {} bytes long", top.name.value.len()),
                format!("use at most {MAX_NAME}: the name is a file name and a lock's name"),
            );
        } else if !is_name(&top.name.value, false) {
            self.problem(
                top.name.span,
                format!("invalid runbook name `{}`", top.name.value),
                "use lowercase letters, digits and `-`, starting with a letter or digit, e.g. `db-restore`",
            );
        }
        let (rto, rpo) = match &top.objectives {
            Some(o) => (
                self.duration(o.rto.as_ref(), true),
                self.duration(o.rpo.as_ref(), false),
            ),
            None => (None, None),
        };
        let timeout = self.duration(top.timeout.as_ref(), true);
        let defaults = self.defaults(top.defaults.as_ref());
        let (roles, impact) = self.post_mortem(top.roles.as_ref(), top.impact.as_ref());
        let inputs = self.inputs(loaded.inputs);
        let notify = notify::hooks(self, &loaded.notify, &inputs);
        if top.steps.value.is_empty() {
            self.problem(
                top.steps.span,
                "a runbook needs at least one step",
                "add a step under `steps:`",
            );
        }

        let mut raw_steps = loaded.steps;
        let graph_len = raw_steps.len();
        let mut broken_ids = loaded.broken_step_ids;
        // Handlers share the step table (ids unique across the runbook,
        // `needs` resolved together), after the graph's steps.
        let mut lists = Vec::with_capacity(loaded.handlers.len());
        for (list, span, raw, broken_id) in loaded.handlers {
            lists.push(list);
            raw_steps.push((span, raw));
            broken_ids.push(broken_id);
        }
        if raw_steps.len() > MAX_STEPS {
            self.problem(
                top.steps.span,
                format!(
                    "the runbook has {} steps, over the limit of {MAX_STEPS}",
                    raw_steps.len()
                ),
                "split it into several runbooks",
            );
            return None;
        }
        let called = self.called(path, &raw_steps, calls);
        let mut table = self.step_table(&raw_steps, &broken_ids, &inputs);
        // The table holds the handlers as steps; they begin after the graph's.
        table.graph_len = graph_len;
        for (index, child) in called.iter().enumerate() {
            if let Some(child) = child {
                table.outputs[index] = Some(child.outputs.iter().map(|o| o.name.clone()).collect());
                table.called.insert(index, child.name.clone());
            }
        }
        handlers::check_needs(self, &raw_steps, &lists, &table);
        let default_env = self.default_env(top.defaults.as_ref(), &table);
        let mut steps = Vec::with_capacity(raw_steps.len());
        for (index, (_, raw)) in raw_steps.iter().enumerate() {
            let Some(raw) = raw else { continue };
            let scope = Scope {
                step: Some(index),
                result: false,
                item: raw.for_each.is_some(),
                steps: &table,
            };
            if let Some(call) = &raw.runbook {
                let needs = Self::needs(raw, &table);
                if let Some(step) = called[index]
                    .as_ref()
                    .and_then(|child| self.call_step(raw, call, child, scope, needs))
                {
                    steps.push(step);
                }
            } else if let Some(mut step) = self.step(raw, &defaults, &table, scope) {
                with_default_env(&mut step, &default_env);
                steps.push(step);
            }
        }
        let outputs = self.outputs(
            top.outputs.as_ref(),
            Scope {
                step: None,
                result: false,
                item: false,
                steps: &table,
            },
        );
        if steps.len() != raw_steps.len() || !self.problems.is_empty() {
            return None;
        }
        let handlers = handlers::split_off(&mut steps, graph_len, lists)?;
        let (steps, scopes) = match calls::expand(steps, &called) {
            Ok(expanded) => expanded,
            Err(index) => {
                let span = raw_steps[index]
                    .1
                    .as_ref()
                    .and_then(|s| s.runbook.as_ref())
                    .map_or(top.steps.span, |c| c.value.target_span(c.span));
                self.problem(
                    span,
                    format!(
                        "runbook calls expand to more than {MAX_STEPS} steps, counting each called runbook's steps at each call"
                    ),
                    "call fewer runbooks, or the same one from fewer places",
                );
                return None;
            }
        };
        let order =
            graph::topological_order(&steps.iter().map(|s| s.needs.clone()).collect::<Vec<_>>())
                .ok()?;
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
            roles,
            impact,
            timeout,
            inputs,
            steps,
            order,
            handlers,
            notify,
            warnings,
            outputs,
            scopes,
        })
    }

    /// `roles:` and `impact:`: plain text for people, each entry on one line.
    fn post_mortem(
        &mut self,
        roles: Option<&RawRoles>,
        impact: Option<&RawImpact>,
    ) -> (Roles, Impact) {
        let mut line = |value: &Spanned<String>, what: &str| {
            let text = value.value.trim();
            if text.is_empty() || text.contains(['\n', '\r']) {
                self.problem(
                    value.span,
                    format!("{what} must be one line of text"),
                    "write a name or a short phrase on one line",
                );
                return None;
            }
            Some(text.to_owned())
        };
        let mut roles_out = Roles::default();
        let mut impact_out = Impact::default();
        if let Some(roles) = roles {
            roles_out.commander = roles
                .commander
                .as_ref()
                .and_then(|c| line(c, "`roles.commander`"));
            roles_out.approvers = roles
                .approvers
                .iter()
                .flatten()
                .filter_map(|a| line(a, "each of `roles.approvers`"))
                .collect();
        }
        if let Some(impact) = impact {
            impact_out.services = impact
                .services
                .iter()
                .flatten()
                .filter_map(|s| line(s, "each of `impact.services`"))
                .collect();
            impact_out.summary = impact.summary.as_ref().and_then(|s| {
                let text = s.value.trim();
                if text.is_empty() {
                    line(s, "`impact.summary`")
                } else {
                    Some(text.to_owned())
                }
            });
        }
        (roles_out, impact_out)
    }

    fn duration(&mut self, value: Option<&Spanned<String>>, non_zero: bool) -> Option<Duration> {
        let value = value?;
        match duration::parse(&value.value) {
            Ok(d) if non_zero && d.is_zero() => {
                self.problem(
                    value.span,
                    "a zero duration is meaningless here",
                    "use a positive duration such as `30s`",
                );
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
        let Some(raw) = raw else {
            return Defaults::default();
        };
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
                format!(
                    "retry attempts must be between 1 and 100, found {}",
                    r.attempts.value
                ),
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
                    format!(
                        "retry backoff must be between 1.0 and 10.0, found {}",
                        backoff.value
                    ),
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
            self.problem(
                raw.span,
                "empty shell command",
                "e.g. `bash -euo pipefail -c` or `sh -c`",
            );
            return None;
        }
        Some(words)
    }

    /// `defaults.env`: checked where no step's result exists, so it may read
    /// `inputs`, `run` and `env` (it applies to steps that need nothing).
    fn default_env(
        &mut self,
        raw: Option<&RawDefaults>,
        table: &StepTable,
    ) -> Vec<(String, Template)> {
        let Some(env) = raw.and_then(|d| d.env.as_ref()) else {
            return Vec::new();
        };
        for value in env.values() {
            if let Ok(t) = self.compiled.template(&value.value, value.span)
                && let Some(step_ref) = t.refs.iter().find(|r| r.starts_with("steps"))
            {
                self.problem(
                    value.span,
                    format!("`defaults.env` cannot read `{step_ref}`"),
                    "it applies to every shell step, also those that run before that step; set this variable in the steps' own `env`",
                );
            }
        }
        let scope = Scope {
            step: None,
            result: false,
            item: false,
            steps: table,
        };
        // A problem fails the whole check: nothing is lost by an empty list.
        self.template_map(Some(env), scope, true)
            .unwrap_or_default()
    }

    fn step_table(
        &mut self,
        raw_steps: &[(Span, Option<RawStep>)],
        broken_ids: &[Option<String>],
        inputs: &IndexMap<String, Input>,
    ) -> StepTable {
        let suggester = Suggester::new();
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
            if id.value.len() > MAX_NAME {
                self.problem(
                    id.span,
                    format!("the step id is {} bytes long", id.value.len()),
                    format!(
                        "use at most {MAX_NAME}: ids name files, journal rows and template keys"
                    ),
                );
            } else if !is_name(&id.value, true) {
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
                    format!(
                        "the id is already used at line {}; step ids must be unique",
                        id_spans[first].line
                    ),
                );
            } else {
                ids.insert(id.value.clone(), index);
            }
            id_spans.push(id.span);
            outputs.push(Some(
                raw.outputs
                    .iter()
                    .flatten()
                    .map(|(name, _)| name.clone())
                    .collect(),
            ));
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
                        self.problem(
                            need.span,
                            format!("step `{}` needs itself", raw.id.value),
                            "remove it from `needs`",
                        );
                        complete = false;
                    }
                    Some(&target) => {
                        if needs[index].contains(&target) {
                            self.problem(
                                need.span,
                                format!("`{}` is listed twice in `needs`", need.value),
                                "remove one",
                            );
                        } else {
                            needs[index].push(target);
                        }
                    }
                    None => {
                        let hint = suggester
                            .closest(&need.value, ids.keys().map(String::as_str))
                            .map_or_else(
                                || "`needs` lists ids of steps in this runbook".to_owned(),
                                |c| format!("did you mean `{c}`?"),
                            );
                        self.problem(
                            need.span,
                            format!("`needs` names unknown step `{}`", need.value),
                            hint,
                        );
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
            list_inputs: inputs
                .values()
                .filter(|i| i.kind == InputType::List)
                .map(|i| i.name.clone())
                .collect(),
            suggester,
            called: HashMap::new(),
            graph_len: raw_steps.len(),
        }
    }

    fn step(
        &mut self,
        raw: &RawStep,
        defaults: &Defaults,
        table: &StepTable,
        scope: Scope,
    ) -> Option<Step> {
        let action = self.action(
            raw.id.span,
            &RawActionRef {
                shell: raw.shell.as_deref(),
                http: raw.http.as_deref(),
                postgres: raw.postgres.as_deref(),
                manual: raw.manual.as_ref(),
                ssh: raw.ssh.as_deref(),
            },
            scope,
            defaults.shell.as_ref(),
        );
        let rollback = raw.rollback.as_ref().and_then(|r| {
            self.action(
                r.span,
                &RawActionRef::from(&r.value),
                scope,
                defaults.shell.as_ref(),
            )
        });
        let when = raw.when.as_ref().and_then(|w| self.expression(w, scope));
        let confirm = raw.confirm.as_ref().and_then(|c| self.confirm(c, scope));
        let approve = self.approve(raw);
        if raw.manual.is_some() {
            // A person answers a manual step: there is nothing to time out or retry.
            for (key, span) in [
                ("timeout", raw.timeout.as_ref().map(|t| t.span)),
                ("retry", raw.retry.as_ref().map(|r| r.span)),
            ] {
                if let Some(span) = span {
                    self.problem(
                        span,
                        format!("`{key}` has no meaning on a manual step"),
                        "a manual step waits for the operator's answer, however long it takes; \
                         remove the key, or put the timed work in a shell or http step after it",
                    );
                }
            }
        }
        let timeout = match &raw.timeout {
            Some(t) => Some(self.duration(Some(t), true)?),
            None if raw.manual.is_some() => None,
            None => defaults.timeout,
        };
        let result_scope = Scope {
            result: true,
            ..scope
        };
        let until = self.until(raw, result_scope);
        let retry = match &raw.retry {
            Some(r) => self.retry(r)?,
            // A poll is not retried: `defaults.retry` does not apply to it.
            None if raw.manual.is_some() || raw.until.is_some() => Retry::default(),
            None => defaults.retry.unwrap_or_default(),
        };
        let outputs = self.outputs(raw.outputs.as_ref(), result_scope);
        let needs = Self::needs(raw, table);
        let (for_each, concurrency) = self.for_each(raw, scope)?;
        Some(Step {
            id: raw.id.value.clone(),
            title: raw.title.clone(),
            span: raw.id.span,
            needs,
            action: action?,
            when,
            confirm: confirm.map(Box::new),
            timeout,
            retry,
            until: until.map(Box::new),
            continue_on_error: raw.continue_on_error.unwrap_or(false),
            readonly: raw.readonly.unwrap_or(false),
            outputs,
            rollback: rollback.map(Box::new),
            rollback_on_failure_never: raw.rollback_on_failure
                == Some(crate::runbook::raw::RollbackOnFailure::Never),
            comms: raw.comms.unwrap_or(false),
            for_each: for_each.map(Box::new),
            concurrency,
            scope: None,
            approve: approve.map(Box::new),
        })
    }

    /// The indexes of the steps a step needs (unknown ones are reported by the step table).
    fn needs(raw: &RawStep, table: &StepTable) -> Vec<usize> {
        raw.needs
            .iter()
            .flatten()
            .filter_map(|n| table.ids.get(&n.value).copied())
            .collect()
    }

    /// A step's `outputs:`, or a runbook's (what its callers read).
    fn outputs(
        &mut self,
        raw: Option<&IndexMap<String, Spanned<RawOutput>>>,
        scope: Scope,
    ) -> Vec<Output> {
        let mut outputs = Vec::new();
        for (name, output) in raw.into_iter().flatten() {
            if !is_identifier(name) {
                self.problem(
                    output.span,
                    format!("invalid output name `{name}`"),
                    "output names are used as `steps.ID.outputs.NAME`: use lowercase letters, digits and `_`",
                );
                continue;
            }
            let (text, secret, report, span) = match &output.value {
                RawOutput::Template(t) => (t.as_str(), false, false, output.span),
                RawOutput::Detailed(d) => (
                    d.value.value.as_str(),
                    d.secret.unwrap_or(false),
                    d.report.unwrap_or(false),
                    d.value.span,
                ),
            };
            if secret && report {
                self.problem(
                    output.span,
                    format!("output `{name}` is both `secret: true` and `report: true`"),
                    "a secret is never shown, in the post-mortem either: drop one of the two",
                );
                continue;
            }
            if let Some(template) = self.template(text, span, scope) {
                outputs.push(Output {
                    name: name.clone(),
                    template,
                    secret,
                    report,
                });
            }
        }
        outputs
    }

    /// `until` and `interval`: a poll needs the step's own `timeout` (how long
    /// to keep polling) and is not retried. `None` also when they are wrong:
    /// the problems recorded refuse the runbook.
    fn until(&mut self, raw: &RawStep, scope: Scope) -> Option<Until> {
        let Some(until) = &raw.until else {
            if let Some(interval) = &raw.interval {
                self.problem(
                    interval.span,
                    "`interval` without `until`",
                    "`interval` is the wait between polls of an `until` step; \
                     add `until: EXPRESSION`, or use `retry: { attempts, delay }` to try again on failure",
                );
            }
            return None;
        };
        if raw.manual.is_some() {
            self.problem(
                until.span,
                "`until` has no meaning on a manual step",
                "a manual step is answered once by the operator; poll with a shell, http or postgres step",
            );
            return None;
        }
        let mut ok = true;
        if let Some(retry) = &raw.retry {
            self.problem(
                retry.span,
                "`until` and `retry` together",
                "an `until` step already runs its action again until the condition holds \
                 (a failed poll is one more poll); remove `retry`",
            );
            ok = false;
        }
        // Its problems, if any, are the step's own `timeout` check's.
        let timeout = if let Some(t) = &raw.timeout {
            duration::parse(&t.value).ok()
        } else {
            self.problem(
                until.span,
                "`until` without `timeout`",
                "say how long to keep polling, e.g. `timeout: 5m` on the step \
                 (`defaults.timeout` does not count: a poll's deadline is written next to it)",
            );
            ok = false;
            None
        };
        let interval = match &raw.interval {
            Some(i) => {
                let interval = self.duration(Some(i), true);
                if let (Some(interval), Some(timeout)) = (interval, timeout)
                    && interval > timeout
                {
                    self.problem(
                        i.span,
                        format!(
                            "the interval ({}) is longer than the timeout ({}): it would poll once",
                            duration::format(interval),
                            duration::format(timeout)
                        ),
                        "use an interval shorter than the step's `timeout`",
                    );
                    ok = false;
                }
                interval
            }
            None => timeout.map(crate::runbook::model::default_poll_interval),
        };
        let condition = self.expression(until, scope);
        if !ok {
            return None;
        }
        Some(Until {
            condition: condition?,
            interval: interval?,
        })
    }

    fn expression(&mut self, raw: &Spanned<String>, scope: Scope) -> Option<Expression> {
        let source = raw.value.trim();
        let source = source
            .strip_prefix("{{")
            .and_then(|s| s.strip_suffix("}}"))
            .unwrap_or(source)
            .trim();
        match self.compiled.expression(source, raw.span) {
            Ok(e) => self.refs(&e.refs, raw.span, scope).then_some(e),
            Err(e) => {
                self.problem(
                    raw.span,
                    format!("invalid expression: {}", e.message),
                    e.hint.unwrap_or_default(),
                );
                None
            }
        }
    }

    fn template(&mut self, source: &str, span: Span, scope: Scope) -> Option<Template> {
        match self.compiled.template(source, span) {
            Ok(t) => self.refs(&t.refs, span, scope).then_some(t),
            Err(e) => {
                self.problem(
                    span,
                    format!("invalid template: {}", e.message),
                    e.hint.unwrap_or_default(),
                );
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

    fn json_templates(
        &mut self,
        value: &serde_json::Value,
        span: Span,
        scope: Scope,
        ok: &mut bool,
    ) {
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

struct RawActionRef<'a> {
    shell: Option<&'a Spanned<RawShell>>,
    http: Option<&'a Spanned<RawHttp>>,
    postgres: Option<&'a Spanned<RawPostgres>>,
    manual: Option<&'a Spanned<String>>,
    ssh: Option<&'a Spanned<super::raw::RawSsh>>,
}

impl<'a> From<&'a RawAction> for RawActionRef<'a> {
    fn from(raw: &'a RawAction) -> Self {
        RawActionRef {
            shell: raw.shell.as_ref(),
            http: raw.http.as_ref(),
            postgres: raw.postgres.as_ref(),
            manual: raw.manual.as_ref(),
            ssh: raw.ssh.as_ref(),
        }
    }
}

#[derive(Default)]
struct Defaults {
    timeout: Option<Duration>,
    retry: Option<Retry>,
    shell: Option<Vec<String>>,
}

/// Puts `defaults.env` under the step's shell action and shell rollback,
/// first, so that the step's own variable of the same name wins.
fn with_default_env(step: &mut Step, default_env: &[(String, Template)]) {
    for action in std::iter::once(&mut step.action).chain(step.rollback.as_deref_mut()) {
        if let super::model::Action::Shell(shell) = action {
            let own = std::mem::take(&mut shell.env);
            let mut env: Vec<(String, Template)> = default_env
                .iter()
                .filter(|(name, _)| !own.iter().any(|(n, _)| n == name))
                .cloned()
                .collect();
            env.extend(own);
            shell.env = env;
        }
    }
}

/// The longest runbook name or step id, in bytes.
const MAX_NAME: usize = 64;

/// `[a-z0-9][a-z0-9-]*` (runbook names), or with `_` too (step ids), at most
/// [`MAX_NAME`] bytes.
fn is_name(text: &str, underscore: bool) -> bool {
    let mut bytes = text.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes.all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || (underscore && b == b'_')
        })
        && text.len() <= MAX_NAME
}

/// `[a-z_][a-z0-9_]*`: usable as `inputs.NAME` in templates.
fn is_identifier(text: &str) -> bool {
    let mut bytes = text.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn is_env_name(text: &str) -> bool {
    let mut bytes = text.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}
