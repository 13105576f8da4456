//! The redactor: every byte drctl writes (terminal, progress, journal,
//! captured output, report, error messages) passes through it.
//!
//! It replaces known secret values (secret inputs, values rendered from them,
//! secret outputs) with `***`, and masks credentials by shape: passwords in
//! connection strings (`user:pass@`, `password=...`) and `Authorization` /
//! `Cookie` header values.

use std::sync::{Arc, RwLock};

pub const MASK: &str = "***";

/// Shared, growing set of secret values.
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    secrets: Arc<RwLock<Vec<String>>>,
}

impl Redactor {
    pub fn new() -> Self {
        Redactor::default()
    }

    /// Adds a value to hide. Values shorter than 4 characters are ignored:
    /// they would mask ordinary text (the loader refuses such secrets).
    pub fn add(&self, secret: &str) {
        if secret.chars().count() < crate::runbook::check::MIN_SECRET_LEN {
            return;
        }
        let mut secrets = self
            .secrets
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !secrets.iter().any(|s| s == secret) {
            secrets.push(secret.to_owned());
            // Longest first, so a secret containing another is masked whole.
            secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
        // A secret may also appear JSON-escaped (in the journal) or with its lines split.
        let escaped = serde_json::to_string(secret).unwrap_or_default();
        let escaped = escaped.trim_matches('"');
        if escaped != secret && !secrets.iter().any(|s| s == escaped) {
            secrets.push(escaped.to_owned());
            secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// Returns the text with every secret masked.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        {
            let secrets = self
                .secrets
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for secret in secrets.iter() {
                if out.contains(secret.as_str()) {
                    out = out.replace(secret.as_str(), MASK);
                }
            }
        }
        mask_credentials(&out)
    }
}

/// Masks passwords in URLs and key/value connection strings, and the values of
/// credential headers, wherever they appear in the text.
pub fn mask_credentials(text: &str) -> String {
    let mut out = mask_url_passwords(text);
    for key in ["password=", "PASSWORD=", "Password="] {
        out = mask_after(&out, key, |c| {
            c.is_whitespace() || c == '&' || c == ';' || c == '\'' || c == '"'
        });
    }
    for header in [
        "authorization:",
        "Authorization:",
        "AUTHORIZATION:",
        "cookie:",
        "Cookie:",
        "COOKIE:",
    ] {
        out = mask_after(&out, header, |c| {
            c == '\n' || c == '\r' || c == '"' || c == ','
        });
    }
    out
}

/// `scheme://user:password@host` → `scheme://user:***@host`.
fn mask_url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(index) = rest.find("://") {
        let (head, tail) = rest.split_at(index + 3);
        out.push_str(head);
        let authority_end = tail
            .find(|c: char| {
                c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '"' || c == '\''
            })
            .unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match (authority.rfind('@'), authority.find(':')) {
            (Some(at), Some(colon)) if colon < at && &authority[colon + 1..at] != MASK => {
                out.push_str(&authority[..=colon]);
                out.push_str(MASK);
                out.push_str(&authority[at..]);
            }
            _ => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

/// Masks the value that follows `key` up to a stop character.
fn mask_after(text: &str, key: &str, stop: impl Fn(char) -> bool) -> String {
    if !text.contains(key) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(index) = rest.find(key) {
        let (head, tail) = rest.split_at(index + key.len());
        out.push_str(head);
        let leading = tail.len() - tail.trim_start_matches(' ').len();
        out.push_str(&tail[..leading]);
        let value = &tail[leading..];
        let end = value_end(value, &stop);
        if end > 0 && &value[..end] != MASK {
            out.push_str(MASK);
        } else {
            out.push_str(&value[..end]);
        }
        rest = &value[end..];
    }
    out.push_str(rest);
    out
}

/// Where a masked value ends: at a stop character, or at a JSON escape
/// (`\n`, `\"` ...). Text that is JSON (`drctl log --json`, a step's JSON
/// output) spells a line break as `\n`, so without this the mask would run on
/// to the next quote and swallow the escapes around it, leaving invalid JSON.
/// A lone backslash followed by anything else stays part of the value.
fn value_end(value: &str, stop: &impl Fn(char) -> bool) -> usize {
    let mut chars = value.char_indices().peekable();
    while let Some((index, c)) = chars.next() {
        if stop(c) {
            return index;
        }
        if c == '\\'
            && chars.peek().is_some_and(|&(_, next)| {
                matches!(next, '"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't' | 'u')
            })
        {
            return index;
        }
    }
    value.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_values_and_shapes() {
        let r = Redactor::new();
        r.add("hunter22");
        assert_eq!(r.redact("pw is hunter22!"), "pw is ***!");
        assert_eq!(
            r.redact("postgres://app:s3cret@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(
            r.redact("host=db password=abc user=x"),
            "host=db password=*** user=x"
        );
        assert_eq!(
            r.redact("Authorization: Bearer xyz\nnext"),
            "Authorization: *** \nnext".replace("*** ", "***")
        );
        r.add("ab");
        assert_eq!(r.redact("abc"), "abc", "short values are not secrets");
    }

    #[test]
    fn masking_json_text_keeps_it_json() {
        let event = serde_json::json!({
            "description": "POST http://h/admin\nAuthorization: Bearer tok\ncontent-type: application/json\n\n{\"enabled\":true}",
            "dsn": "host=db password=pw\\\"x\" user=u",
        });
        let text = event.to_string();
        let masked = Redactor::new().redact(&text);
        let parsed: serde_json::Value = serde_json::from_str(&masked)
            .unwrap_or_else(|e| panic!("redacted JSON does not parse: {e}\n{masked}"));
        assert_eq!(
            parsed["description"],
            "POST http://h/admin\nAuthorization: ***\ncontent-type: application/json\n\n{\"enabled\":true}"
        );
        assert!(!masked.contains("tok"), "{masked}");
        assert_eq!(
            Redactor::new().redact("Authorization: Basic a\\zb\nnext"),
            "Authorization: ***\nnext",
            "a backslash that starts no JSON escape is part of the value"
        );
    }
}
