//! Templates (`{{ ... }}` in string values) and expressions (`when`, `expect`),
//! compiled with minijinja in strict mode: an undefined name is an error, never
//! an empty string.
//!
//! Shell scripts and SQL do not go through plain rendering: see [`shell`] and
//! [`sql`], which keep values out of the script and the SQL text.

mod callables;
pub mod context;
pub mod shell;
pub mod sql;

use std::collections::BTreeSet;
use std::sync::LazyLock;

use minijinja::{Environment, UndefinedBehavior, Value};

use crate::span::Span;

static ENVIRONMENT: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Scripts and bodies keep their final newline as written.
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    env
});

fn environment() -> &'static Environment<'static> {
    &ENVIRONMENT
}

/// A compile or render problem, as one line plus a hint where there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    pub message: String,
    pub hint: Option<String>,
}

impl TemplateError {
    fn from_minijinja(error: &minijinja::Error) -> Self {
        let message = match error.detail() {
            Some(detail) => format!("{}: {detail}", error.kind()),
            None => error.kind().to_string(),
        };
        let hint = match error.kind() {
            minijinja::ErrorKind::UndefinedError => Some(
                "check the name; use `x is defined` or `x | default(...)` for optional values"
                    .to_owned(),
            ),
            minijinja::ErrorKind::SyntaxError => Some(
                "templates look like `{{ inputs.name }}`; see docs/runbook-format.md".to_owned(),
            ),
            _ => None,
        };
        TemplateError { message, hint }
    }
}

/// Characters in one `{{ … }}` or `{% … %}` block, or one expression. The
/// template engine parses a chain of operators into a tree as deep as the
/// chain is long, and walks it recursively: tens of thousands of `~` in one
/// block overflow the stack. Real expressions are a line or two.
pub const MAX_EXPRESSION_CHARS: usize = 4096;

/// Refuses an expression (or a template's block) too long to parse safely.
fn bounded(source: &str, whole: bool) -> Result<(), TemplateError> {
    let too_long = |length: usize| TemplateError {
        message: format!(
            "a template expression of {length} characters, over the limit of {MAX_EXPRESSION_CHARS}"
        ),
        hint: Some(
            "split it, or compute the value in a step and read that step's output".to_owned(),
        ),
    };
    if whole {
        return match source.len() {
            length if length > MAX_EXPRESSION_CHARS => Err(too_long(length)),
            _ => Ok(()),
        };
    }
    let mut rest = source;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = match after.as_bytes().first() {
            Some(b'{') => "}}",
            Some(b'%') => "%}",
            _ => {
                rest = after;
                continue;
            }
        };
        let body = &after[1..];
        // An unclosed block is the engine's syntax error to report.
        let length = body.find(close).unwrap_or(body.len());
        if length > MAX_EXPRESSION_CHARS {
            return Err(too_long(length));
        }
        rest = &body[length..];
    }
    Ok(())
}

/// True if the text holds template syntax at all.
pub fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

/// A compiled string value. Literal strings (no `{{`) render to themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub source: String,
    pub span: Span,
    /// Names the template reads, dotted (`inputs.url`, `steps.dump.outputs.path`).
    pub refs: BTreeSet<String>,
}

impl Template {
    pub fn compile(source: &str, span: Span) -> Result<Template, TemplateError> {
        let refs = if is_template(source) {
            bounded(source, false)?;
            let template = environment()
                .template_from_str(source)
                .map_err(|e| TemplateError::from_minijinja(&e))?;
            callables::check(environment(), &template)?;
            template.undeclared_variables(true).into_iter().collect()
        } else {
            BTreeSet::new()
        };
        Ok(Template {
            source: source.to_owned(),
            span,
            refs,
        })
    }

    pub fn is_literal(&self) -> bool {
        !is_template(&self.source)
    }

    pub fn render(&self, context: &Value) -> Result<String, TemplateError> {
        if self.is_literal() {
            return Ok(self.source.clone());
        }
        environment()
            .render_str(&self.source, context)
            .map_err(|e| TemplateError::from_minijinja(&e))
    }
}

/// A compiled expression such as `result.rows[0].users > 0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expression {
    pub source: String,
    pub span: Span,
    pub refs: BTreeSet<String>,
}

impl Expression {
    pub fn compile(source: &str, span: Span) -> Result<Expression, TemplateError> {
        Ok(Expression {
            source: source.to_owned(),
            span,
            refs: Expression::refs_of(source)?,
        })
    }

    pub fn eval(&self, context: &Value) -> Result<Value, TemplateError> {
        environment()
            .compile_expression(&self.source)
            .and_then(|e| e.eval(context))
            .map_err(|e| TemplateError::from_minijinja(&e))
    }

    /// Evaluates a single expression text (the value of `{{ expr }}` in a
    /// shell script or SQL) to a value.
    pub fn eval_text(source: &str, context: &Value) -> Result<Value, TemplateError> {
        bounded(source, true)?;
        environment()
            .compile_expression(source)
            .and_then(|e| e.eval(context))
            .map_err(|e| TemplateError::from_minijinja(&e))
    }

    /// The names an expression text reads (for static checks of placeholders).
    pub fn refs_of(source: &str) -> Result<BTreeSet<String>, TemplateError> {
        bounded(source, true)?;
        let expression = environment()
            .compile_expression(source)
            .map_err(|e| TemplateError::from_minijinja(&e))?;
        callables::check_expression(environment(), source)?;
        Ok(expression.undeclared_variables(true).into_iter().collect())
    }
}

/// Any serializable value as a template value.
pub fn to_value<T: serde::Serialize>(value: &T) -> Value {
    Value::from(minijinja::value::Serde(value))
}

/// A value as text for a shell variable or a log line: strings as they are,
/// everything else as JSON.
pub fn value_to_text(value: &Value) -> String {
    if let Some(s) = value.as_str() {
        return s.to_owned();
    }
    if value.is_none() || value.is_undefined() {
        return String::new();
    }
    match value.kind() {
        minijinja::value::ValueKind::Map | minijinja::value::ValueKind::Seq => {
            serde_json::to_string(value).unwrap_or_else(|_| value.to_string())
        }
        _ => value.to_string(),
    }
}

/// A value known only at run time, shown as `⟨steps.dump.outputs.path⟩` in dry runs.
#[derive(Debug)]
pub struct Later(pub String);

impl minijinja::value::Object for Later {
    fn repr(self: &std::sync::Arc<Self>) -> minijinja::value::ObjectRepr {
        minijinja::value::ObjectRepr::Plain
    }

    fn get_value(self: &std::sync::Arc<Self>, key: &Value) -> Option<Value> {
        Some(Value::from_object(Later(format!("{}.{key}", self.0))))
    }

    fn render(self: &std::sync::Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "⟨{}⟩", self.0)
    }
}

/// A list known only at run time (`run.failed_steps` in a dry run): it can be
/// iterated and joined, yielding one [`Later`] that stands for its items, so
/// `{{ run.failed_steps | join(', ') }}` shows `⟨run.failed_steps⟩`. Its
/// length is unknown, so `| length` says it cannot be rendered yet rather
/// than invent a number.
#[derive(Debug)]
pub struct LaterList(pub String);

impl minijinja::value::Object for LaterList {
    fn repr(self: &std::sync::Arc<Self>) -> minijinja::value::ObjectRepr {
        minijinja::value::ObjectRepr::Iterable
    }

    fn enumerate(self: &std::sync::Arc<Self>) -> minijinja::value::Enumerator {
        let items = Value::from_object(Later(self.0.clone()));
        // A `filter` makes the size hint (0, Some(1)): a length the engine calls unknown.
        minijinja::value::Enumerator::Iter(Box::new(std::iter::once(items).filter(|_| true)))
    }

    fn render(self: &std::sync::Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "⟨{}⟩", self.0)
    }
}

/// A minijinja value as JSON (for SQL parameters and HTTP bodies).
pub fn value_to_json(value: &Value) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_nested_refs() {
        let t = Template::compile(
            "{{ inputs.url }}/x/{{ steps.dump.outputs.path }}",
            Span::default(),
        )
        .unwrap();
        assert!(t.refs.contains("inputs.url"));
        assert!(t.refs.contains("steps.dump.outputs.path"));
    }

    #[test]
    fn an_expression_too_long_to_parse_safely_is_refused() {
        let long = format!("inputs.x{}", " ~ inputs.x".repeat(40_000));
        for error in [
            Template::compile(&format!("a {{{{ {long} }}}} b"), Span::default()).unwrap_err(),
            Template::compile(&format!("{{% if {long} %}}x{{% endif %}}"), Span::default())
                .unwrap_err(),
            Expression::compile(&long, Span::default()).unwrap_err(),
            Expression::refs_of(&long).unwrap_err(),
        ] {
            assert!(
                error.message.contains("over the limit of 4096"),
                "{}",
                error.message
            );
        }
        let many = "{{ inputs.x }} { not a block }".repeat(10_000);
        assert!(Template::compile(&many, Span::default()).is_ok());
        assert!(Template::compile("{{ unclosed", Span::default()).is_err());
    }

    #[test]
    fn strict_undefined() {
        let t = Template::compile("{{ inputs.nope }}", Span::default()).unwrap();
        let ctx = to_value(&serde_json::json!({"inputs": {}}));
        assert!(t.render(&ctx).is_err());
    }
}

#[cfg(test)]
mod later_tests {
    use super::*;

    fn render(source: &str) -> Result<String, minijinja::Error> {
        let env = minijinja::Environment::new();
        let list = Value::from_object(LaterList("run.failed_steps".to_owned()));
        env.render_str(source, minijinja::context! { failed => list })
    }

    #[test]
    fn a_later_list_joins_and_iterates_as_one_placeholder() {
        assert_eq!(
            render("{{ failed | join(', ') }}").unwrap(),
            "⟨run.failed_steps⟩"
        );
        assert_eq!(render("{{ failed }}").unwrap(), "⟨run.failed_steps⟩");
        assert_eq!(
            render("{% for s in failed %}[{{ s }}]{% endfor %}").unwrap(),
            "[⟨run.failed_steps⟩]"
        );
        assert_eq!(
            render("{{ failed | join(', ') or 'none' }}").unwrap(),
            "⟨run.failed_steps⟩"
        );
    }

    #[test]
    fn a_later_lists_length_is_not_made_up() {
        assert!(render("{{ failed | length }}").is_err());
    }
}
