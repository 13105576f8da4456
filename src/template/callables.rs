//! Filters, tests and methods a template calls, checked when it is compiled
//! (so by `validate`), not when a run reaches it: `{{ x | frobnicate }}` or
//! `{{ x.split('/') }}` would otherwise fail after the steps before it ran.
//!
//! The template engine only looks names up while rendering. The compiled
//! instructions list every call whatever the control flow, so each name is
//! checked against the engine's own registry by rendering a probe that
//! applies it to `none`: only "unknown filter/test" tells it is missing.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use minijinja::machinery::{self, Instruction, Instructions};
use minijinja::{Environment, ErrorKind, Template};

use super::TemplateError;

/// Methods exist only on the engine's loop object (`loop.cycle(…)`,
/// `loop.changed(…)`); strings, lists and maps have none.
const METHODS: &[&str] = &["cycle", "changed"];

/// Refuses a compiled template that calls an unknown filter, test or method.
pub fn check(env: &Environment<'static>, template: &Template<'_, '_>) -> Result<(), TemplateError> {
    let compiled = machinery::get_compiled_template(template);
    std::iter::once(&compiled.instructions)
        .chain(compiled.blocks.values())
        .try_for_each(|instructions| check_instructions(env, instructions))
}

/// [`check`] for a standalone expression (`when`, `expect`, a placeholder)
/// that compiled: its own instructions, generated the way the engine
/// generates them for [`Environment::compile_expression`].
pub fn check_expression(env: &Environment<'static>, source: &str) -> Result<(), TemplateError> {
    // It parsed a moment ago; an error now is not the expression's to report.
    let Ok(ast) = machinery::parse_expr(source) else {
        return Ok(());
    };
    let mut generator = machinery::CodeGenerator::new("<expression>", source);
    generator.compile_expr(&ast);
    check_instructions(env, &generator.finish().0)
}

/// Every call among `instructions`, whatever the control flow around it.
fn check_instructions(
    env: &Environment<'static>,
    instructions: &Instructions<'_>,
) -> Result<(), TemplateError> {
    for index in 0.. {
        let Some(instruction) = instructions.get(index) else {
            break;
        };
        match instruction {
            Instruction::ApplyFilter(name, ..) => known(env, Kind::Filter, name)?,
            Instruction::PerformTest(name, ..) => known(env, Kind::Test, name)?,
            Instruction::CallMethod(name, _) if !METHODS.contains(name) => {
                return Err(unknown_method(name));
            }
            _ => {}
        }
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Filter,
    Test,
}

/// Whether each name probed so far exists, per kind.
static KNOWN: LazyLock<Mutex<HashMap<(Kind, String), bool>>> = LazyLock::new(Mutex::default);

fn known(env: &Environment<'static>, kind: Kind, name: &str) -> Result<(), TemplateError> {
    let exists = *KNOWN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .entry((kind, name.to_owned()))
        .or_insert_with(|| probe(env, kind, name));
    if exists {
        return Ok(());
    }
    let (what, examples) = match kind {
        Kind::Filter => (
            "filter",
            "default, lower, upper, trim, replace, split, join, length, int, first, last",
        ),
        Kind::Test => (
            "test",
            "defined, none, number, string, in, eq, startingwith",
        ),
    };
    Err(TemplateError {
        message: format!("unknown {what}: `{name}`"),
        hint: Some(format!(
            "the {what}s are minijinja's built-in ones, e.g. {examples}; see docs/runbook-format.md"
        )),
    })
}

/// Renders `none | NAME` (or `none is NAME`): any outcome but "unknown"
/// (a wrong argument, a type error) means the name exists.
fn probe(env: &Environment<'static>, kind: Kind, name: &str) -> bool {
    // Names come from the engine's own parser: identifiers, never syntax.
    let source = match kind {
        Kind::Filter => format!("{{{{ none | {name} }}}}"),
        Kind::Test => format!("{{{{ none is {name} }}}}"),
    };
    match env.render_str(&source, ()) {
        Ok(_) => true,
        Err(e) => !matches!(e.kind(), ErrorKind::UnknownFilter | ErrorKind::UnknownTest),
    }
}

fn unknown_method(name: &str) -> TemplateError {
    TemplateError {
        message: format!("unknown method: `.{name}(…)`"),
        hint: Some(format!(
            "values have no methods in drctl templates; use a filter instead, \
             e.g. `x | {name}(…)` where such a filter exists (`x | split('/')`, `x | lower`)"
        )),
    }
}
