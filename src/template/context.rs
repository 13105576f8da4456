//! The values templates see (`inputs`, `steps`, `env`, `run`), and rendering
//! that keeps every value derived from a secret out of all output.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use indexmap::IndexMap;
use minijinja::Value;

use crate::outcome::Status;
use crate::secret::Redactor;
use crate::template::{Expression, Template, TemplateError};

/// Facts about the run, as `run.*`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunFacts {
    pub id: String,
    pub incident: String,
    pub runbook: String,
    pub dir: String,
    pub operator: String,
    pub started_at: String,
    pub dry_run: bool,
}

/// What is known of a finished step.
#[derive(Debug, Clone, Default)]
pub struct StepValues {
    pub status: Option<Status>,
    pub result: Option<serde_json::Value>,
    pub outputs: IndexMap<String, String>,
}

/// The values of one called runbook's scope (see [`crate::runbook::model::CallScope`]).
#[derive(Debug, Clone, Default)]
pub struct ScopeValues {
    /// Its inputs, as its templates read them.
    pub inputs: IndexMap<String, serde_json::Value>,
    /// Its own secret names, and those of its inputs bound to a secret.
    pub secret_names: BTreeSet<String>,
}

#[derive(Clone)]
pub struct Context {
    inputs: Value,
    env: Value,
    run: Value,
    /// `steps`, shared with the template values handed out: a step's end
    /// copies the map only while an older value is still in use (a running
    /// step's), so a chain of n steps costs O(n log n), not O(n²).
    steps: Arc<BTreeMap<Arc<str>, Value>>,
    /// Dotted names whose values are secret (`inputs.db_password`, `steps.gen.outputs.password`).
    secret_names: BTreeSet<String>,
    redactor: Redactor,
    /// In one iteration of a `for_each` step: `item` and `index`.
    iteration: Option<(Value, Value)>,
    /// Each called runbook's values, by its prefix (`freeze/`).
    scopes: Arc<BTreeMap<String, (Value, BTreeSet<String>)>>,
    /// In a called runbook's scope: its prefix, through which `steps` is read.
    prefix: Option<Arc<str>>,
}

impl Context {
    /// `secret_names`: the dotted names whose values are secret
    /// (`inputs.db_password`, `steps.gen.outputs.password`).
    pub fn new(
        secret_names: BTreeSet<String>,
        inputs: &IndexMap<String, serde_json::Value>,
        run: &RunFacts,
        redactor: Redactor,
    ) -> Self {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        Context {
            inputs: crate::template::to_value(inputs),
            env: crate::template::to_value(&env),
            run: crate::template::to_value(run),
            steps: Arc::new(BTreeMap::new()),
            secret_names,
            redactor,
            scopes: Arc::new(BTreeMap::new()),
            prefix: None,
            iteration: None,
        }
    }

    /// The values of the called runbooks' scopes, by prefix.
    #[must_use]
    pub fn with_scopes(mut self, scopes: &IndexMap<String, ScopeValues>) -> Self {
        for (prefix, values) in scopes {
            self.set_scope(prefix, values);
        }
        self
    }

    /// True once the inputs of the call with this prefix are known.
    pub fn has_scope(&self, prefix: &str) -> bool {
        self.scopes.contains_key(prefix)
    }

    /// Sets the inputs of a call computed when its first step starts.
    pub fn set_scope(&mut self, prefix: &str, values: &ScopeValues) {
        Arc::make_mut(&mut self.scopes).insert(
            prefix.to_owned(),
            (
                crate::template::to_value(&values.inputs),
                values.secret_names.clone(),
            ),
        );
    }

    /// The context a step's templates are evaluated in: a called
    /// runbook's step (`prefix` is its call's, `freeze/`) reads that
    /// runbook's `inputs` and `steps`, never the caller's. (Cheap: the
    /// values are shared.)
    pub fn scoped(&self, prefix: Option<&str>) -> std::borrow::Cow<'_, Context> {
        let Some(prefix) = prefix else {
            return std::borrow::Cow::Borrowed(self);
        };
        let (inputs, secret_names) = self.scopes.get(prefix).cloned().unwrap_or_else(|| {
            (
                Value::from(BTreeMap::<String, Value>::new()),
                BTreeSet::new(),
            )
        });
        std::borrow::Cow::Owned(Context {
            inputs,
            secret_names,
            prefix: Some(Arc::from(prefix)),
            ..self.clone()
        })
    }

    /// The context of one iteration of a `for_each` step: this one, with
    /// `item` and `index`. A `secret` item (one read from a secret) is a
    /// secret name: whatever is rendered from it is masked.
    #[must_use]
    pub fn iteration(&self, item: &serde_json::Value, index: usize, secret: bool) -> Context {
        let mut secret_names = self.secret_names.clone();
        if secret {
            secret_names.insert("item".to_owned());
        }
        Context {
            secret_names,
            iteration: Some((crate::template::to_value(item), Value::from(index))),
            ..self.clone()
        }
    }

    /// For dry runs: a loop step's `item` and `index`, known only at run time.
    #[must_use]
    pub fn later_iteration(&self) -> Context {
        let mut context = self.iteration(&serde_json::Value::Null, 0, false);
        context.iteration = Some((
            Value::from_object(crate::template::Later("item".to_owned())),
            Value::from_object(crate::template::Later("index".to_owned())),
        ));
        context
    }

    /// True if a template reading these names may produce a secret (for a
    /// `for_each` expression: whether its items are secret).
    #[must_use]
    pub fn reads_secret_names(&self, source: &str, refs: &BTreeSet<String>) -> bool {
        self.reads_secret(source, refs)
    }

    /// For dry runs: every step's values are known only at run time.
    pub fn with_later_steps<'s>(mut self, ids: impl IntoIterator<Item = &'s str>) -> Self {
        let steps = Arc::make_mut(&mut self.steps);
        for id in ids {
            steps.insert(
                Arc::from(id),
                Value::from_object(crate::template::Later(format!("steps.{id}"))),
            );
        }
        self
    }

    /// The graph has ended: `run.status` and `run.failed_steps`, which
    /// handlers read, are known.
    pub fn set_run_end(&mut self, status: Status, failed_steps: &[String]) {
        self.set_run_fields([
            ("status", Value::from(status.as_str())),
            ("failed_steps", crate::template::to_value(&failed_steps)),
        ]);
    }

    /// For dry runs: `run.status` and `run.failed_steps` are known only at run time.
    #[must_use]
    pub fn with_run_end_later(mut self) -> Self {
        self.set_run_fields([
            (
                "status",
                Value::from_object(crate::template::Later("run.status".to_owned())),
            ),
            (
                "failed_steps",
                Value::from_object(crate::template::LaterList("run.failed_steps".to_owned())),
            ),
        ]);
        self
    }

    fn set_run_fields(&mut self, fields: impl IntoIterator<Item = (&'static str, Value)>) {
        let mut run: BTreeMap<String, Value> = BTreeMap::new();
        for key in self.run.try_iter().into_iter().flatten() {
            if let Ok(value) = self.run.get_item(&key) {
                run.insert(key.to_string(), value);
            }
        }
        for (field, value) in fields {
            run.insert(field.to_owned(), value);
        }
        self.run = Value::from(run);
    }

    pub fn set_step(&mut self, id: &str, values: &StepValues) {
        let value = serde_json::json!({
            "status": values.status.map(Status::as_str),
            "result": values.result,
            "outputs": values.outputs,
        });
        Arc::make_mut(&mut self.steps).insert(Arc::from(id), crate::template::to_value(&value));
    }

    /// The template context, with `result` when evaluating expectations and outputs.
    pub fn value(&self, result: Option<&serde_json::Value>) -> Value {
        let mut map: BTreeMap<&str, Value> = BTreeMap::new();
        map.insert("inputs", self.inputs.clone());
        map.insert("env", self.env.clone());
        map.insert("run", self.run.clone());
        let steps = match &self.prefix {
            Some(prefix) => Value::from_object(ScopedSteps {
                all: Arc::clone(&self.steps),
                prefix: Arc::clone(prefix),
            }),
            None => Value::from_dyn_object(Arc::clone(&self.steps)),
        };
        map.insert("steps", steps);
        if let Some(result) = result {
            map.insert("result", crate::template::to_value(result));
        }
        if let Some((item, index)) = &self.iteration {
            map.insert("item", item.clone());
            map.insert("index", index.clone());
        }
        Value::from(map)
    }

    /// True if a template reading these names may produce a secret.
    ///
    /// minijinja's static reference tracking misses some forms (a slice
    /// `inputs.tok[:8]`, a subscript `inputs['tok']` reports only `inputs`),
    /// so a template whose expressions name a secret as a word is a secret too:
    /// masking a harmless value is better than printing part of a secret.
    fn reads_secret(&self, source: &str, refs: &BTreeSet<String>) -> bool {
        self.secret_names.iter().any(|s| {
            let name = s.rsplit('.').next().unwrap_or(s);
            expressions(source).any(|expr| names_word(expr, name))
        }) || refs.iter().any(|r| {
            self.secret_names.iter().any(|s| {
                s == r || s.starts_with(&format!("{r}.")) || r.starts_with(&format!("{s}."))
            }) || r == "steps" && self.secret_names.iter().any(|s| s.starts_with("steps."))
                || r == "inputs" && self.secret_names.iter().any(|s| s.starts_with("inputs."))
        })
    }

    /// True if what the template renders is a secret (it reads one).
    pub fn is_secret(&self, template: &Template) -> bool {
        self.reads_secret(&template.source, &template.refs)
    }

    /// Renders a template; a value rendered from a secret becomes a secret itself.
    pub fn render(
        &self,
        template: &Template,
        result: Option<&serde_json::Value>,
    ) -> Result<String, TemplateError> {
        let text = template.render(&self.value(result))?;
        if self.reads_secret(&template.source, &template.refs) {
            self.redactor.add(&text);
        }
        Ok(text)
    }

    /// Evaluates the expression of one `{{ }}` placeholder (shell scripts, SQL).
    pub fn eval_placeholder(&self, expr: &str) -> Result<Value, TemplateError> {
        let value = Expression::eval_text(expr, &self.value(None))?;
        // As a template, so that the names it uses as words count: static
        // references miss a slice (`inputs.tok[3:]` reports nothing).
        if self.reads_secret(&format!("{{{{ {expr} }}}}"), &Expression::refs_of(expr)?) {
            self.redactor.add(&crate::template::value_to_text(&value));
        }
        Ok(value)
    }

    /// Renders every string inside a JSON document (HTTP `json:` bodies).
    pub fn render_json(
        &self,
        value: &serde_json::Value,
    ) -> Result<serde_json::Value, TemplateError> {
        Ok(match value {
            serde_json::Value::String(s) if crate::template::is_template(s) => {
                let template = Template::compile(s, crate::span::Span::default())?;
                serde_json::Value::String(self.render(&template, None)?)
            }
            serde_json::Value::Array(items) => serde_json::Value::Array(
                items
                    .iter()
                    .map(|i| self.render_json(i))
                    .collect::<Result<_, _>>()?,
            ),
            serde_json::Value::Object(map) => serde_json::Value::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), self.render_json(v)?)))
                    .collect::<Result<_, TemplateError>>()?,
            ),
            other => other.clone(),
        })
    }

    /// The run's redactor, for adapters that redact a stream as they read it.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Marks a secret output's value as secret.
    pub fn add_secret(&self, value: &str) {
        self.redactor.add(value);
    }
}

/// `steps` as a called runbook's templates see it: its own steps, by
/// their own ids (`maintenance-on` for `freeze/maintenance-on`).
#[derive(Debug)]
struct ScopedSteps {
    all: Arc<BTreeMap<Arc<str>, Value>>,
    prefix: Arc<str>,
}

impl minijinja::value::Object for ScopedSteps {
    fn repr(self: &Arc<Self>) -> minijinja::value::ObjectRepr {
        minijinja::value::ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let id = format!("{}{}", self.prefix, key.as_str()?);
        self.all.get(id.as_str()).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> minijinja::value::Enumerator {
        minijinja::value::Enumerator::Values(
            self.all
                .keys()
                .filter_map(|id| id.strip_prefix(&*self.prefix))
                .filter(|id| !id.contains('/'))
                .map(Value::from)
                .collect(),
        )
    }
}

/// True if `word` occurs in `text` with no identifier character on either side.
fn names_word(text: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        !text[..at].chars().next_back().is_some_and(is_ident)
            && !text[at + word.len()..].chars().next().is_some_and(is_ident)
    })
}

/// The code inside each `{{ }}` and `{% %}` of a template (prose is not code).
fn expressions(source: &str) -> impl Iterator<Item = &str> {
    source
        .match_indices("{{")
        .chain(source.match_indices("{%"))
        .map(|(at, _)| {
            let code = &source[at + 2..];
            code.split(['}', '%']).next().unwrap_or(code)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_placeholder_derives_from_a_secret_is_secret() {
        let mut inputs = IndexMap::new();
        inputs.insert("tok".to_owned(), serde_json::json!("QWERTYUIOPASDF"));
        let facts = RunFacts {
            id: String::new(),
            incident: String::new(),
            runbook: String::new(),
            dir: String::new(),
            operator: String::new(),
            started_at: String::new(),
            dry_run: false,
        };
        let context = Context::new(
            BTreeSet::from(["inputs.tok".to_owned()]),
            &inputs,
            &facts,
            Redactor::default(),
        );
        for (expr, derived) in [
            ("inputs.tok[0:13]", "QWERTYUIOPASD"),
            ("inputs.tok[3:]", "RTYUIOPASDF"),
            ("(inputs.tok ~ 'x')[1:]", "WERTYUIOPASDFx"),
            ("inputs['tok'] | lower", "qwertyuiopasdf"),
        ] {
            context.eval_placeholder(expr).unwrap();
            assert_eq!(
                context.redactor().redact(&format!("A={derived}")),
                "A=***",
                "{expr}"
            );
        }
    }
}
