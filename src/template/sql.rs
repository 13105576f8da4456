//! PLACEHOLDER until the real lexer lands (helper). Interface only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlSegment {
    Text(String),
    Bind { expr: String, offset: usize },
    Ident { expr: String, offset: usize },
}
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlTemplate {
    pub segments: Vec<SqlSegment>,
}
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SqlTemplateError {
    pub offset: usize,
    pub message: String,
    pub hint: String,
}
pub fn parse(sql: &str) -> Result<SqlTemplate, SqlTemplateError> {
    Ok(SqlTemplate { segments: vec![SqlSegment::Text(sql.to_owned())] })
}
impl SqlTemplate {
    pub fn expressions(&self) -> impl Iterator<Item = (&str, usize)> {
        self.segments.iter().filter_map(|s| match s {
            SqlSegment::Bind { expr, offset } | SqlSegment::Ident { expr, offset } => Some((expr.as_str(), *offset)),
            SqlSegment::Text(_) => None,
        })
    }
}
