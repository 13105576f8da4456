//! `runbook:` steps, calls of another runbook: finding the called runbook
//! (`name:`, `NAME.yaml` next to the caller, or `path:` relative to the
//! caller's directory), loading it with cycles, depth and size
//! bounded, checking the call's input bindings, and expanding each call into
//! the called runbook's steps (ids `CALL/STEP`) followed by the call's own
//! step, which needs them all and carries the called runbook's outputs.
//!
//! Expanded steps keep the templates their own runbook compiled; the scope
//! they carry ([`CallScope`]) makes `inputs` and `steps` in them mean the
//! called runbook's own, at run time as in the checks.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::references::Scope;
use super::{Checker, MAX_STEPS, is_name};
use crate::runbook::model::{Action, CallAction, CallScope, Runbook, Step};
use crate::runbook::raw::{RawCall, RawStep};
use crate::runbook::spanned::Spanned;
use crate::span::Span;
use crate::template::Template;

/// Calls inside calls: deeper than this is a mistake, not a design.
pub const MAX_CALL_DEPTH: usize = 16;

/// Every problem about calls as a whole starts so; a caller reports the
/// called runbook's such problem as its own (at its own `name`).
const CALLS: &str = "runbook call";

/// The runbooks being loaded (the call path, for cycles) and those loaded
/// already, for one top-level load: a runbook called from many places is
/// read and checked once.
pub struct CallLoader {
    /// Canonical file and name of each runbook on the call path, the first
    /// being the one loaded at the top.
    stack: Vec<(PathBuf, String)>,
    /// By canonical file: the checked runbook, or what its callers say.
    cache: HashMap<PathBuf, Result<Runbook, (String, String)>>,
    /// Where the top runbook's calls are found when that is not its own
    /// directory (a frozen copy in an incident calls the runbook directory's).
    dir: Option<PathBuf>,
}

impl CallLoader {
    pub fn new(root: &Path) -> Self {
        CallLoader {
            stack: vec![(canonical(root), stem(root))],
            cache: HashMap::new(),
            dir: None,
        }
    }

    /// For a runbook whose file is elsewhere than the runbooks it calls.
    #[must_use]
    pub fn calling_from(mut self, dir: &Path) -> Self {
        self.dir = Some(dir.to_path_buf());
        self
    }

    /// Loads and checks the runbook in `file`, called as `name`.
    fn load(&mut self, file: &Path, name: &str) -> Result<Runbook, (String, String)> {
        let key = canonical(file);
        if let Some(start) = self.stack.iter().position(|(path, _)| *path == key) {
            let path: Vec<&str> = self.stack[start..]
                .iter()
                .map(|(_, n)| n.as_str())
                .chain([name])
                .collect();
            return Err((
                format!("{CALLS} cycle: {}", path.join(" -> ")),
                "a runbook cannot call itself, directly or through others; remove one of these calls"
                    .to_owned(),
            ));
        }
        if let Some(done) = self.cache.get(&key) {
            return done.clone();
        }
        if self.stack.len() > MAX_CALL_DEPTH {
            let path: Vec<&str> = self.stack.iter().map(|(_, n)| n.as_str()).collect();
            return Err((
                format!(
                    "{CALLS}s nested more than {MAX_CALL_DEPTH} deep: {} -> {name}",
                    path.join(" -> ")
                ),
                "call fewer runbooks inside one another".to_owned(),
            ));
        }
        let display = file.display().to_string();
        let text = match crate::runbook::load::read(file) {
            Ok(text) => text,
            Err(problem) => {
                return Err((
                    format!("runbook `{name}`: {}", problem.message),
                    format!("check {display}"),
                ));
            }
        };
        self.stack.push((key.clone(), name.to_owned()));
        let loaded = crate::runbook::load_nested(file, &display, &text, self);
        self.stack.pop();
        let result = loaded.map_err(|diagnostics| {
            if let Some(d) = diagnostics.iter().find(|d| d.message.starts_with(CALLS)) {
                return (d.message.clone(), d.hint.clone().unwrap_or_default());
            }
            let d = &diagnostics[0];
            let at = match (d.line, d.column) {
                (Some(line), Some(column)) => format!("{line}:{column}: "),
                _ => String::new(),
            };
            (
                format!(
                    "runbook `{name}` ({display}) is not valid: {at}{}",
                    d.message
                ),
                format!("`drctl validate {display}` shows every problem in it"),
            )
        });
        self.cache.insert(key, result.clone());
        result
    }
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
}

/// The keys a call step takes besides its action.
const CALL_KEYS: &str = "`id`, `title`, `needs` and `runbook`";

impl Checker {
    /// Loads the runbook each `runbook:` step calls (`None` elsewhere, and
    /// where it cannot be loaded: the problem is recorded at its `name`).
    pub(super) fn called(
        &mut self,
        path: &Path,
        raw_steps: &[(Span, Option<RawStep>)],
        loader: &mut CallLoader,
    ) -> Vec<Option<Box<Runbook>>> {
        // Only the top runbook's calls: those inside called runbooks are next to them.
        let dir = match (loader.dir.take(), path.parent()) {
            (Some(dir), _) => dir,
            (None, Some(dir)) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        raw_steps
            .iter()
            .map(|(_, raw)| {
                let call = raw.as_ref()?.runbook.as_ref()?;
                match (&call.value.name, &call.value.path) {
                    (Some(name), None) => self.call_target(&dir, name, loader).map(Box::new),
                    (None, Some(path)) => self.call_path(&dir, path, loader).map(Box::new),
                    (Some(name), Some(_)) => {
                        self.problem(
                            name.span,
                            "a call names its runbook by `name` or by `path`, not both",
                            "keep one of them",
                        );
                        None
                    }
                    (None, None) => {
                        self.problem(
                            call.span,
                            "a call needs the runbook to run: `name` or `path`",
                            "e.g. `runbook: { name: freeze }` for freeze.yaml next to this runbook",
                        );
                        None
                    }
                }
            })
            .collect()
    }

    /// `path:`: a runbook file relative to the calling runbook's directory.
    fn call_path(
        &mut self,
        dir: &Path,
        path: &Spanned<String>,
        loader: &mut CallLoader,
    ) -> Option<Runbook> {
        let relative = Path::new(&path.value);
        let refused = if relative.is_absolute() {
            Some("an absolute path would tie the runbook to one machine's layout")
        } else if !crate::runbook::find::is_yaml(relative) {
            Some("a runbook file ends in `.yaml` or `.yml`")
        } else {
            None
        };
        if let Some(why) = refused {
            self.problem(
                path.span,
                format!("invalid runbook path `{}`", path.value),
                format!("{why}; write a path relative to this runbook's directory, e.g. `../runbooks/freeze.yaml`"),
            );
            return None;
        }
        let file = dir.join(relative);
        if !file.is_file() {
            self.problem(
                path.span,
                format!("unknown runbook: there is no file {}", file.display()),
                "the path is relative to the directory of this runbook",
            );
            return None;
        }
        match loader.load(&file, &stem(&file)) {
            Ok(runbook) => Some(runbook),
            Err((message, hint)) => {
                self.problem(path.span, message, hint);
                None
            }
        }
    }

    fn call_target(
        &mut self,
        dir: &Path,
        name: &Spanned<String>,
        loader: &mut CallLoader,
    ) -> Option<Runbook> {
        if !is_name(&name.value, false) {
            self.problem(
                name.span,
                format!("invalid runbook name `{}`", name.value),
                "name a runbook in the same directory as this one, e.g. `freeze` for freeze.yaml",
            );
            return None;
        }
        let Some(file) = ["yaml", "yml"]
            .iter()
            .map(|extension| dir.join(format!("{}.{extension}", name.value)))
            .find(|candidate| candidate.is_file())
        else {
            let known: Vec<String> = crate::runbook::find::runbook_files(dir)
                .unwrap_or_default()
                .iter()
                .map(|p| stem(p))
                .collect();
            let mut hint = match crate::runbook::suggest::closest(
                &name.value,
                known.iter().map(String::as_str),
            ) {
                Some(close) => format!("did you mean `{close}`? "),
                None => String::new(),
            };
            if known.is_empty() {
                hint.push_str("put the called runbook in the same directory as this one");
            } else {
                let more = known.len().saturating_sub(20);
                hint.push_str(&format!(
                    "runbooks there: {}",
                    known[..known.len() - more].join(", ")
                ));
                if more > 0 {
                    hint.push_str(&format!(" and {more} more"));
                }
            }
            self.problem(
                name.span,
                format!(
                    "unknown runbook `{}`: there is no {}.yaml in {}",
                    name.value,
                    name.value,
                    dir.display()
                ),
                hint,
            );
            return None;
        };
        match loader.load(&file, &name.value) {
            Ok(runbook) => Some(runbook),
            Err((message, hint)) => {
                self.problem(name.span, message, hint);
                None
            }
        }
    }

    /// A `runbook:` step: nothing but `id`, `title` and `needs` besides the
    /// call, and inputs the called runbook takes, of values it accepts.
    /// The step returned is the call's end; [`expand`] puts the called
    /// runbook's steps before it.
    pub(super) fn call_step(
        &mut self,
        raw: &RawStep,
        call: &Spanned<RawCall>,
        child: &Runbook,
        scope: Scope,
        needs: Vec<usize>,
    ) -> Option<Step> {
        let actions: Vec<&str> = [
            raw.shell.as_ref().map(|_| "shell"),
            raw.http.as_ref().map(|_| "http"),
            raw.postgres.as_ref().map(|_| "postgres"),
            raw.manual.as_ref().map(|_| "manual"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !actions.is_empty() {
            self.problem(
                raw.id.span,
                format!(
                    "more than one action (runbook, {}): a step runs exactly one",
                    actions.join(", ")
                ),
                "split the work into one step per action, linked with `needs`",
            );
        }
        for (key, span) in [
            ("when", raw.when.as_ref().map(|v| v.span)),
            ("confirm", raw.confirm.as_ref().map(|v| v.span)),
            ("timeout", raw.timeout.as_ref().map(|v| v.span)),
            ("retry", raw.retry.as_ref().map(|v| v.span)),
            ("until", raw.until.as_ref().map(|v| v.span)),
            ("interval", raw.interval.as_ref().map(|v| v.span)),
            ("rollback", raw.rollback.as_ref().map(|v| v.span)),
            ("for_each", raw.for_each.as_ref().map(|v| v.span)),
            ("concurrency", raw.concurrency.as_ref().map(|v| v.span)),
            ("approve", raw.approve.as_ref().map(|v| v.span)),
        ] {
            if let Some(span) = span {
                self.problem(
                    span,
                    format!("`{key}` has no meaning on a runbook call"),
                    format!(
                        "a call step takes {CALL_KEYS}; set `{key}` on the steps of runbook `{}`",
                        child.name
                    ),
                );
            }
        }
        for (key, set) in [
            ("continue_on_error", raw.continue_on_error.is_some()),
            ("readonly", raw.readonly.is_some()),
            ("outputs", raw.outputs.is_some()),
            ("rollback_on_failure", raw.rollback_on_failure.is_some()),
            ("comms", raw.comms.is_some()),
        ] {
            if set {
                self.problem(
                    call.span,
                    format!("`{key}` has no meaning on a runbook call"),
                    format!(
                        "a call step takes {CALL_KEYS}; the called runbook's `outputs:` are the call's"
                    ),
                );
            }
        }
        let bindings = self.bindings(call, child, scope)?;
        let secret_names = child.secret_names();
        let call_scope = CallScope {
            prefix: format!("{}/", raw.id.value),
            parent: String::new(),
            name: child.name.clone(),
            path: child.path.clone(),
            hash: child.hash.clone(),
            inputs: child.inputs.clone(),
            bindings,
            secret_names,
        };
        // An output read from a secret is a secret in the caller too.
        let outputs = child
            .outputs
            .iter()
            .map(|output| {
                let mut output = output.clone();
                output.secret |= output.template.refs.iter().any(|r| {
                    call_scope.secret_names.iter().any(|s| {
                        s == r || s.starts_with(&format!("{r}.")) || r.starts_with(&format!("{s}."))
                    })
                });
                output
            })
            .collect();
        Some(Step {
            id: raw.id.value.clone(),
            title: raw.title.clone(),
            span: raw.id.span,
            needs,
            action: Action::Call(CallAction {
                name: child.name.clone(),
            }),
            when: None,
            confirm: None,
            timeout: None,
            retry: crate::runbook::model::Retry::default(),
            until: None,
            continue_on_error: false,
            readonly: false,
            outputs,
            rollback: None,
            rollback_on_failure_never: false,
            comms: false,
            for_each: None,
            concurrency: None,
            scope: Some(Arc::new(call_scope)),
            approve: None,
        })
    }

    /// `inputs:` of a call: each an input the called runbook declares, a
    /// template over this runbook's `inputs`, `env`, `run` and the steps the
    /// call needs (see [`crate::plan::call_inputs`]); a literal is checked now
    /// against the input's type, pattern and choices.
    fn bindings(
        &mut self,
        call: &Spanned<RawCall>,
        child: &Runbook,
        scope: Scope,
    ) -> Option<Vec<(String, Template)>> {
        let mut ok = true;
        let mut bindings = Vec::new();
        let known = || {
            let names: Vec<&str> = child.inputs.keys().map(String::as_str).collect();
            if names.is_empty() {
                format!("runbook `{}` takes no inputs", child.name)
            } else {
                format!("its inputs are: {}", names.join(", "))
            }
        };
        for (name, value) in call.value.inputs.iter().flatten() {
            let Some(input) = child.inputs.get(&name.value) else {
                let hint = crate::runbook::suggest::closest(
                    &name.value,
                    child.inputs.keys().map(String::as_str),
                )
                .map_or_else(known, |c| format!("did you mean `{c}`?"));
                self.problem(
                    name.span,
                    format!("runbook `{}` has no input `{}`", child.name, name.value),
                    hint,
                );
                ok = false;
                continue;
            };
            let Some(template) = self.template(&value.value, value.span, scope) else {
                ok = false;
                continue;
            };
            if template.refs.is_empty()
                && !crate::template::is_template(&value.value)
                && let Err(e) = input.check(&value.value)
            {
                self.problem(
                    value.span,
                    format!("input `{}` of runbook `{}`: {e}", name.value, child.name),
                    "give a value the called runbook accepts",
                );
                ok = false;
                continue;
            }
            bindings.push((name.value.clone(), template));
        }
        let bound: BTreeSet<&str> = bindings.iter().map(|(n, _)| n.as_str()).collect();
        for input in child.inputs.values() {
            let has_value =
                input.default.is_some() || input.env.is_some() || input.source.is_some();
            if input.required && !has_value && !bound.contains(input.name.as_str()) && ok {
                self.problem(
                    call.value.target_span(call.span),
                    format!(
                        "runbook `{}` requires input `{}`, and this call gives none",
                        child.name, input.name
                    ),
                    format!("add `{}: VALUE` under this call's `inputs:`", input.name),
                );
                ok = false;
            }
        }
        ok.then_some(bindings)
    }
}

/// Puts each call's steps before the call's own step: ids prefixed with
/// `CALL/`, needs within the called runbook kept, its first steps needing
/// what the call needs, the call's step needing its last ones. Steps whose
/// needs point to a call wait for the call's step, so for all of them.
/// `Err` when the steps are more than [`MAX_STEPS`] (the index of the call
/// that made them too many).
pub(super) fn expand(
    steps: Vec<Step>,
    called: &[Option<Box<Runbook>>],
) -> Result<(Vec<Step>, Vec<Arc<CallScope>>), usize> {
    if called.iter().all(Option::is_none) {
        // Nothing to expand: the steps stay where they are (no second array).
        return Ok((steps, Vec::new()));
    }
    // Where each step of this runbook ends up.
    let mut at = Vec::with_capacity(steps.len());
    let mut next = 0usize;
    for (index, _) in steps.iter().enumerate() {
        next += called[index].as_ref().map_or(0, |c| c.steps.len());
        at.push(next);
        next += 1;
        if next > MAX_STEPS {
            return Err(index);
        }
    }
    let mut out: Vec<Step> = Vec::with_capacity(next);
    let mut scopes = Vec::new();
    for (index, mut step) in steps.into_iter().enumerate() {
        let needs: Vec<usize> = step.needs.iter().map(|&n| at[n]).collect();
        if let (Some(child), Some(own)) = (&called[index], step.scope.clone()) {
            let base = out.len();
            let mut renamed: HashMap<&str, Arc<CallScope>> = HashMap::new();
            scopes.push(Arc::clone(&own));
            for inner in &child.scopes {
                let parent = format!("{}{}", own.prefix, inner.parent);
                let copy = Arc::new(CallScope {
                    prefix: format!("{}{}", own.prefix, inner.prefix),
                    parent,
                    ..CallScope::clone(inner)
                });
                scopes.push(Arc::clone(&copy));
                renamed.insert(inner.prefix.as_str(), copy);
            }
            let mut needed = vec![false; child.steps.len()];
            for inner in &child.steps {
                let mut inner = inner.clone();
                for &n in &inner.needs {
                    needed[n] = true;
                }
                inner.needs = if inner.needs.is_empty() {
                    needs.clone()
                } else {
                    inner.needs.iter().map(|&n| base + n).collect()
                };
                inner.id = format!("{}{}", own.prefix, inner.id);
                inner.scope = Some(match &inner.scope {
                    Some(s) => Arc::clone(&renamed[s.prefix.as_str()]),
                    None => Arc::clone(&own),
                });
                out.push(inner);
            }
            step.needs = (0..child.steps.len())
                .filter(|&n| !needed[n])
                .map(|n| base + n)
                .collect();
        } else {
            step.needs = needs;
        }
        out.push(step);
    }
    Ok((out, scopes))
}
