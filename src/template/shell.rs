//! PLACEHOLDER until the real lexer lands (helper). Interface only.
use std::fmt::Write as _;
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellTemplate {
    pub script: String,
    pub placeholders: Vec<Placeholder>,
}
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    pub expr: String,
    pub var: String,
    pub offset: usize,
}
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ShellTemplateError {
    pub offset: usize,
    pub message: String,
    pub hint: String,
}
pub fn rewrite(script: &str) -> Result<ShellTemplate, ShellTemplateError> {
    let mut out = String::new();
    let mut placeholders = Vec::new();
    let mut rest = script;
    let mut offset = 0;
    while let Some(start) = rest.find("{{") {
        let Some(end) = rest[start..].find("}}") else {
            return Err(ShellTemplateError { offset: offset + start, message: "unterminated".into(), hint: String::new() });
        };
        out.push_str(&rest[..start]);
        let var = format!("DRCTL_T{}", placeholders.len());
        let _ = write!(out, "\"${{{var}}}\"");
        placeholders.push(Placeholder { expr: rest[start + 2..start + end].trim().to_owned(), var, offset: offset + start });
        offset += start + end + 2;
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    Ok(ShellTemplate { script: out, placeholders })
}
pub fn has_template(script: &str) -> bool {
    script.contains("{{")
}
