//! Injection-proof `{{ }}` placeholders in `shell.run` scripts.
//!
//! A rendered value never enters the script text. [`rewrite`] parses the
//! script ([`parse`]), decides for every placeholder whether the place its
//! value flows to takes data ([`policy`]; refused otherwise, with the flow
//! named), and replaces every placeholder with a reference to an environment
//! variable (`DRCTL_T0`, `DRCTL_T1`, ... in order of appearance); the runtime
//! renders each [`Placeholder::expr`] with minijinja and passes the result in
//! that variable. The reference fits the lexical context of the placeholder:
//!
//! | context                                  | rewritten to            |
//! |------------------------------------------|-------------------------|
//! | bare word (also inside `$( )`, `<( )`)   | `"${DRCTL_T0}"`         |
//! | inside `"..."`                           | `${DRCTL_T0}`           |
//! | inside `'...'`                           | `'"${DRCTL_T0}"'`       |
//! | body of an unquoted heredoc (`<<EOF`)    | `${DRCTL_T0}`           |
//!
//! The result of a quoted parameter expansion is never parsed again by the
//! shell; what the receiving command does with it is the policy's question.
//! Also rejected: a backslash or `$` right before `{{`, whitespace control
//! (`{{-`, `-}}`), a template as heredoc delimiter, and `{% %}` / `{# #}`
//! anywhere (except bash's `${#name}`).
//!
//! A placeholder inside a shell comment has no effect: it is left untouched
//! and not counted. The rewritten script must therefore be handed to the
//! shell as it is, never rendered as a template.

pub mod parse;
pub mod policy;

/// A shell script whose placeholders were replaced by environment-variable references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellTemplate {
    /// The script to hand to the shell.
    pub script: String,
    /// Placeholders in order of appearance.
    pub placeholders: Vec<Placeholder>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    /// The expression between `{{` and `}}`, trimmed.
    pub expr: String,
    /// Name of the environment variable that carries the rendered value (`DRCTL_T0`, ...).
    pub var: String,
    /// Byte offset of the opening `{{` in the original script.
    pub offset: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ShellTemplateError {
    /// Byte offset in the original script where the problem is.
    pub offset: usize,
    /// What is wrong (lowercase fragment), e.g. "a template inside single-quoted heredoc is never expanded".
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

/// Prefix of the environment variables that carry rendered values.
pub const VAR_PREFIX: &str = "DRCTL_T";

/// Rewrites every `{{ expr }}` of `script` into an environment-variable reference.
pub fn rewrite(script: &str) -> Result<ShellTemplate, ShellTemplateError> {
    if !crate::template::is_template(script) {
        return Ok(ShellTemplate {
            script: script.to_owned(),
            placeholders: Vec::new(),
        });
    }
    let parsed = parse::parse(script)?;
    policy::check(&parsed)?;
    let mut out = String::with_capacity(script.len() + parsed.sites.len() * 16);
    let mut placeholders = Vec::with_capacity(parsed.sites.len());
    let mut at = 0;
    for site in &parsed.sites {
        let var = format!("{VAR_PREFIX}{}", placeholders.len());
        out.push_str(&script[at..site.offset]);
        match site.quote {
            parse::Quote::Bare => out.push_str(&format!("\"${{{var}}}\"")),
            parse::Quote::Single => out.push_str(&format!("'\"${{{var}}}\"'")),
            // Double quotes and unquoted heredocs; the policy refused the rest.
            _ => out.push_str(&format!("${{{var}}}")),
        }
        at = site.end;
        placeholders.push(Placeholder {
            expr: site.expr.clone(),
            var,
            offset: site.offset,
        });
    }
    out.push_str(&script[at..]);
    Ok(ShellTemplate {
        script: out,
        placeholders,
    })
}

/// The script with the value of its `i`-th placeholder written in place of
/// that `{{ }}`: for people to read in the journal and the post-mortem,
/// never to run (the shell gets the values in environment variables).
/// `None` when the script does not parse (it did when it was checked).
pub fn fill(script: &str, values: &[String]) -> Option<String> {
    let parsed = parse::parse(script).ok()?;
    let mut out = String::with_capacity(script.len());
    let mut at = 0;
    for (site, value) in parsed.sites.iter().zip(values) {
        out.push_str(&script[at..site.offset]);
        out.push_str(value);
        at = site.end;
    }
    out.push_str(&script[at..]);
    Some(out)
}

#[cfg(test)]
mod tests;
