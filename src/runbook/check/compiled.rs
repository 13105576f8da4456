//! Templates and expressions compiled once per source text while a runbook
//! is checked: runbooks repeat `{{ inputs.url }}` and `result.exit_code == 0`
//! in step after step, and compiling is a pure function of the text (the
//! names it reads, or its error). Each use still gets its own span.

use std::collections::{BTreeSet, HashMap};

use crate::span::Span;
use crate::template::{Expression, Template, TemplateError};

type Refs = Result<BTreeSet<String>, TemplateError>;

#[derive(Default)]
pub(super) struct Compiled {
    templates: HashMap<String, Refs>,
    expressions: HashMap<String, Refs>,
}

impl Compiled {
    /// [`Template::compile`], remembered.
    pub(super) fn template(&mut self, source: &str, span: Span) -> Result<Template, TemplateError> {
        if !crate::template::is_template(source) {
            // A literal costs nothing to compile, and most values are literals.
            return Template::compile(source, span);
        }
        let refs = remembered(&mut self.templates, source, |source| {
            Template::compile(source, span).map(|t| t.refs)
        })?;
        Ok(Template {
            source: source.to_owned(),
            span,
            refs,
        })
    }

    /// [`Expression::compile`], remembered.
    pub(super) fn expression(
        &mut self,
        source: &str,
        span: Span,
    ) -> Result<Expression, TemplateError> {
        let refs = self.refs_of(source)?;
        Ok(Expression {
            source: source.to_owned(),
            span,
            refs,
        })
    }

    /// [`Expression::refs_of`] (the same checks as [`Expression::compile`]), remembered.
    pub(super) fn refs_of(&mut self, source: &str) -> Refs {
        remembered(&mut self.expressions, source, Expression::refs_of)
    }
}

fn remembered(
    map: &mut HashMap<String, Refs>,
    source: &str,
    compile: impl FnOnce(&str) -> Refs,
) -> Refs {
    if let Some(known) = map.get(source) {
        return known.clone();
    }
    let refs = compile(source);
    map.insert(source.to_owned(), refs.clone());
    refs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u32) -> Span {
        Span {
            line,
            column: 1,
            offset: 0,
        }
    }

    /// Remembered or not, each use gets what compiling it would give, at its own place.
    #[test]
    fn answers_as_compiling_does() {
        let mut compiled = Compiled::default();
        for source in [
            "{{ inputs.url }}/x",
            "plain text",
            "{{ steps['a'].outputs.v | lower }}",
            "{{ x | frobnicate }}",
            "{{ x.split('/') }}",
            "{{ unclosed",
            "{% if x %}y{% endif %}",
        ] {
            for line in [1, 2] {
                let fresh = Template::compile(source, at(line));
                assert_eq!(compiled.template(source, at(line)), fresh, "{source}");
            }
        }
        for source in [
            "result.exit_code == 0",
            "x is frobnicated",
            "a) }}{{ (b",
            "x.split('/')",
            "",
        ] {
            for line in [1, 2] {
                assert_eq!(
                    compiled.expression(source, at(line)),
                    Expression::compile(source, at(line)),
                    "{source}"
                );
                assert_eq!(
                    compiled.refs_of(source),
                    Expression::refs_of(source),
                    "{source}"
                );
            }
        }
    }
}
