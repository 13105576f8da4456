//! The redactor: every byte drctl writes (terminal, progress, journal,
//! captured output, report, error messages) passes through it.
//!
//! It replaces known secret values (secret inputs, values rendered from them,
//! secret outputs) with `***`, and masks credentials by shape: passwords in
//! connection strings (`user:pass@`, `password=...`) and `Authorization` /
//! `Cookie` header values.
//!
//! Each secret is also masked in the encodings a program commonly prints it
//! in (see [`encodings`]). All of them are searched at once by one
//! Aho-Corasick automaton, rebuilt only when a secret is added, so the cost
//! of a pass is linear in the text whatever the number of secrets.
//!
//! A child's output is redacted as it is read, before it is cut to a bound:
//! [`StreamRedactor`] holds back the few bytes at the end of each chunk that
//! could be the start of a secret, so neither a read-chunk boundary nor the
//! cut of a bounded capture can split a secret into two unmasked halves.

use std::collections::HashSet;
use std::sync::{Arc, PoisonError, RwLock};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// Secret values shorter than this would redact common text everywhere.
pub const MIN_SECRET_LEN: usize = 4;

pub const MASK: &str = "***";

/// Shared, growing set of secret values.
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    inner: Arc<RwLock<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    secrets: HashSet<String>,
    /// Every encoding of every secret, deduplicated.
    patterns: Vec<String>,
    known_patterns: HashSet<String>,
    /// Built from `patterns` on first use after a change.
    matcher: Option<Arc<Matcher>>,
}

/// The automaton over every pattern, and the longest pattern's length in bytes.
#[derive(Debug)]
struct Matcher {
    automaton: AhoCorasick,
    longest: usize,
}

impl Matcher {
    /// The text with every pattern replaced by [`MASK`].
    fn mask(&self, text: &str) -> String {
        if !self.automaton.is_match(text) {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        self.automaton
            .replace_all_with(text, &mut out, |_, _, out| {
                out.push_str(MASK);
                true
            });
        out
    }
}

impl Redactor {
    pub fn new() -> Self {
        Redactor::default()
    }

    /// Adds a value to hide. Values shorter than 4 characters are ignored:
    /// they would mask ordinary text (the loader refuses such secrets).
    pub fn add(&self, secret: &str) {
        if secret.chars().count() < MIN_SECRET_LEN {
            return;
        }
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if !inner.secrets.insert(secret.to_owned()) {
            return;
        }
        for pattern in encodings(secret) {
            if inner.known_patterns.insert(pattern.clone()) {
                inner.patterns.push(pattern);
            }
        }
        inner.matcher = None;
    }

    /// The automaton for the current secrets; `None` while there are none.
    fn matcher(&self) -> Option<Arc<Matcher>> {
        {
            let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
            if inner.patterns.is_empty() {
                return None;
            }
            if let Some(matcher) = &inner.matcher {
                return Some(Arc::clone(matcher));
            }
        }
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if inner.matcher.is_none() {
            // Leftmost-longest: where a secret contains another (or one
            // encoding is a prefix of another), the whole of it is masked.
            let automaton = AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&inner.patterns)
                // Only a pattern set too large for memory fails to build.
                .expect("the secret patterns fit an automaton");
            let longest = inner.patterns.iter().map(String::len).max().unwrap_or(0);
            inner.matcher = Some(Arc::new(Matcher { automaton, longest }));
        }
        inner.matcher.clone()
    }

    /// Returns the text with every secret masked.
    pub fn redact(&self, text: &str) -> String {
        match self.matcher() {
            Some(matcher) => mask_credentials(&matcher.mask(text)),
            None => mask_credentials(text),
        }
    }

    /// Masks every secret in the strings of a JSON value, in place (keys
    /// included); shapes are left to the writers, which redact whole texts.
    pub fn redact_json(&self, value: &mut serde_json::Value) {
        let Some(matcher) = self.matcher() else {
            return;
        };
        match value {
            serde_json::Value::String(text) => *text = matcher.mask(text),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|i| self.redact_json(i)),
            serde_json::Value::Object(map) => {
                let entries = std::mem::take(map);
                for (key, mut item) in entries {
                    self.redact_json(&mut item);
                    map.insert(matcher.mask(&key), item);
                }
            }
            _ => {}
        }
    }

    /// A redactor for one stream of bytes (a child's stdout, an HTTP body).
    pub fn stream(&self) -> StreamRedactor {
        StreamRedactor {
            redactor: self.clone(),
            pending: Vec::new(),
        }
    }
}

/// Masks secrets in a stream that arrives in chunks.
///
/// Bytes that could still be the start of a secret (fewer than the longest
/// pattern, at the end of what arrived) are held back until the next chunk
/// or [`StreamRedactor::finish`] decides them; everything before them is
/// final. Only known secret values are masked here: credential shapes have no
/// bounded length, and are masked by the writers on the whole kept text.
#[derive(Debug)]
pub struct StreamRedactor {
    redactor: Redactor,
    pending: Vec<u8>,
}

impl StreamRedactor {
    /// Takes the next chunk; appends to `out` what is now known to be safe.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        self.pending.extend_from_slice(chunk);
        self.flush(out, false);
    }

    /// The stream ended: appends the rest.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.flush(out, true);
    }

    fn flush(&mut self, out: &mut Vec<u8>, at_end: bool) {
        // The secret set may have grown since the last chunk: look it up each time.
        let Some(matcher) = self.redactor.matcher() else {
            out.append(&mut self.pending);
            return;
        };
        let buf = &self.pending;
        // A match starting before `settled` lies wholly in `buf`, so it is the
        // match the whole stream would have there; one starting later may
        // still grow into a longer secret with the next chunk.
        let settled = if at_end {
            buf.len()
        } else {
            buf.len().saturating_sub(matcher.longest - 1)
        };
        let mut cursor = 0;
        for found in matcher.automaton.find_iter(buf.as_slice()) {
            if found.start() >= settled {
                break;
            }
            out.extend_from_slice(&buf[cursor..found.start()]);
            out.extend_from_slice(MASK.as_bytes());
            cursor = found.end();
        }
        let kept_from = cursor.max(settled);
        out.extend_from_slice(&buf[cursor..kept_from]);
        self.pending.drain(..kept_from);
    }
}

/// The texts a secret is masked as: itself, and the common ways a program
/// prints it —
/// - JSON-escaped (as serde does, and with non-ASCII as `\uXXXX`);
/// - base64, standard and URL-safe alphabets, with and without padding;
///   and the characters that encode it inside a longer base64 text at each of
///   the three byte alignments (only characters that depend on the secret's
///   bits alone, so the fragment appears whatever surrounds it);
/// - hex, lowercase and uppercase;
/// - percent-encoded (every byte outside `A-Za-z0-9-._~`, uppercase and
///   lowercase hex digits, and the form encoding with `+` for a space).
pub fn encodings(secret: &str) -> Vec<String> {
    let bytes = secret.as_bytes();
    let mut out = vec![secret.to_owned()];
    let json = serde_json::to_string(secret).unwrap_or_default();
    out.push(json.trim_matches('"').to_owned());
    out.push(json_ascii(secret));
    for alphabet in [BASE64_STANDARD, BASE64_URL_SAFE] {
        let plain = base64(bytes, alphabet);
        out.push(pad(&plain));
        out.push(plain);
        for shift in 0..3 {
            let mut shifted = vec![0u8; shift];
            shifted.extend_from_slice(bytes);
            let encoded = base64(&shifted, alphabet);
            // Character i covers bits [6i, 6i + 6); the secret's bits are
            // [8 * shift, 8 * (shift + len)).
            let first = (8 * shift).div_ceil(6);
            let end = 8 * (shift + bytes.len()) / 6;
            out.push(encoded[first..end].to_owned());
        }
    }
    let hex = hex_lower(bytes);
    out.push(hex.to_uppercase());
    out.push(hex);
    let percent = percent_encode(bytes);
    out.push(percent.replace("%20", "+"));
    out.push(lowercase_escapes(&percent));
    out.push(percent);
    let mut unique: Vec<String> = Vec::with_capacity(out.len());
    for pattern in out {
        if !pattern.is_empty() && !unique.contains(&pattern) {
            unique.push(pattern);
        }
    }
    unique
}

const BASE64_STANDARD: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64_URL_SAFE: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64 without padding.
fn base64(bytes: &[u8], alphabet: &[u8; 64]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let word = group
            .iter()
            .enumerate()
            .fold(0u32, |word, (i, &b)| word | u32::from(b) << (16 - 8 * i));
        for i in 0..=group.len() {
            out.push(char::from(alphabet[(word >> (18 - 6 * i)) as usize & 63]));
        }
    }
    out
}

fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

fn pad(encoded: &str) -> String {
    let mut padded = encoded.to_owned();
    while !padded.len().is_multiple_of(4) {
        padded.push('=');
    }
    padded
}

/// JSON string content with every non-ASCII character as `\uXXXX` (what
/// Python's `json.dumps` and many others print by default).
fn json_ascii(secret: &str) -> String {
    let escaped = serde_json::to_string(secret).unwrap_or_default();
    let mut out = String::with_capacity(escaped.len());
    for c in escaped.trim_matches('"').chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

fn percent_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `%2F` → `%2f`, leaving the unescaped characters as they are.
fn lowercase_escapes(percent: &str) -> String {
    let mut out = String::with_capacity(percent.len());
    let mut digits = 0;
    for c in percent.chars() {
        if c == '%' {
            digits = 2;
            out.push(c);
        } else if digits > 0 {
            digits -= 1;
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
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

/// Every `scheme://` URL inside free text, masked with [`mask_url`].
fn mask_url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(index) = rest.find("://") {
        let start = index + 3;
        // The URL ends where free text resumes; a '/' may be inside a password.
        let end = rest[start..]
            .find(|c: char| c.is_whitespace() || "\\)\"'<>".contains(c))
            .map_or(rest.len(), |n| start + n);
        out.push_str(&mask_url(&rest[..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// A URL (or connection URL) with its passwords masked: the userinfo's
/// (`user:***@host`, the user name kept) and a `password=` query parameter.
/// The one URL masker of drctl: the http and postgres adapters and the
/// redactor all use it. Works on strings that are not valid URLs too,
/// erring on the side of hiding more.
#[must_use]
pub fn mask_url(url: &str) -> String {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[authority_start..];
    let authority_len = if reqwest::Url::parse(url).is_ok() {
        rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len())
    } else {
        // An unparsable URL may hold a password with a '/', '?' or '#' in it
        // (unescaped): everything up to the last '@' is userinfo, rather than
        // risk printing part of a password.
        match rest.rfind('@') {
            Some(at) => at + 1,
            None => rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len()),
        }
    };
    let authority = &rest[..authority_len];
    let mut out = match authority
        .rfind('@')
        .and_then(|at| Some((at, authority[..at].find(':')?)))
    {
        Some((at, colon)) if &authority[colon + 1..at] != MASK => format!(
            "{}{}:{MASK}{}",
            &url[..authority_start],
            &authority[..colon],
            &url[authority_start + at..]
        ),
        _ => url.to_owned(),
    };
    // A `password=` query parameter (libpq URLs take one).
    if let Some(query) = out.find('?') {
        let end = out[query..].find('#').map_or(out.len(), |h| query + h);
        let masked: Vec<String> = out[query + 1..end]
            .split('&')
            .map(|pair| match pair.strip_prefix("password=") {
                Some(value) if !value.is_empty() => format!("password={MASK}"),
                _ => pair.to_owned(),
            })
            .collect();
        out.replace_range(query + 1..end, &masked.join("&"));
    }
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
        // Already masked (an HTTP step's description masks its credential
        // headers itself): what follows the mask is other text, to keep.
        let end = if value.starts_with(MASK) {
            MASK.len()
        } else {
            value_end(value, &stop)
        };
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
    fn masks_url_passwords_and_keeps_user_names() {
        assert_eq!(
            mask_url("http://user:secret@127.0.0.1:8080/x?q=1"),
            "http://user:***@127.0.0.1:8080/x?q=1"
        );
        assert_eq!(mask_url("https://user@host/x"), "https://user@host/x");
        assert_eq!(mask_url("https://host/a@b"), "https://host/a@b");
        assert_eq!(mask_url("https://u:p%40ss@host/"), "https://u:***@host/");
        // Unparsable: a '/' inside the password must not leak its second half.
        assert_eq!(mask_url("http://u:pa/ss@host/x"), "http://u:***@host/x");
        assert_eq!(mask_url("u:pw@host:1/x"), "u:***@host:1/x");
        assert_eq!(mask_url("not a url"), "not a url");
        // Unescaped `#`, `?`, `/` or `@` in a password make the URL unparsable:
        // still nothing of the password shows.
        for (url, masked) in [
            (
                "postgresql://drctl:pa#ssXw0rd@127.0.0.1:1/s1",
                "postgresql://drctl:***@127.0.0.1:1/s1",
            ),
            (
                "postgresql://drctl:pa?ssXw0rd@127.0.0.1:1/s1",
                "postgresql://drctl:***@127.0.0.1:1/s1",
            ),
            (
                "postgres://u:a#b?c/d@e@h:5/db?x=1",
                "postgres://u:***@h:5/db?x=1",
            ),
            (
                "postgres://u:p#w@h/db?password=q1w2",
                "postgres://u:***@h/db?password=***",
            ),
        ] {
            assert_eq!(mask_url(url), masked, "{url}");
        }
        assert_eq!(
            mask_url("postgres://u:p:w@h/db?sslmode=require&password=x1y&a=b"),
            "postgres://u:***@h/db?sslmode=require&password=***&a=b"
        );
        // Masking twice changes nothing.
        assert_eq!(
            mask_url("http://u:***@h/?password=***"),
            "http://u:***@h/?password=***"
        );
        assert_eq!(
            mask_credentials(
                "error for url (http://a:b@h/x) and https://c:d@e, http://u:pa/ss@host/x"
            ),
            "error for url (http://a:***@h/x) and https://c:***@e, http://u:***@host/x"
        );
    }

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
    fn base64_matches_the_standard_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes(), BASE64_STANDARD), encoded);
        }
        assert_eq!(pad("Zg"), "Zg==");
        assert_eq!(base64(&[0xfb, 0xff], BASE64_STANDARD), "+/8");
        assert_eq!(base64(&[0xfb, 0xff], BASE64_URL_SAFE), "-_8");
    }

    /// Each encoding of a secret is masked, alone and inside longer text;
    /// base64 fragments at every alignment inside a longer base64 text.
    #[test]
    fn encodings_are_masked() {
        let secret = "p@ss w/rd+é\"x";
        let r = Redactor::new();
        r.add(secret);
        let hex = hex_lower(secret.as_bytes());
        let shown = [
            secret.to_owned(),
            hex.clone(),
            hex.to_uppercase(),
            "p%40ss%20w%2Frd%2B%C3%A9%22x".to_owned(),
            "p%40ss%20w%2frd%2b%c3%a9%22x".to_owned(),
            "p%40ss+w%2Frd%2B%C3%A9%22x".to_owned(),
            r#"p@ss w/rd+é\"x"#.to_owned(),
            r#"p@ss w/rd+\u00e9\"x"#.to_owned(),
            pad(&base64(secret.as_bytes(), BASE64_STANDARD)),
            base64(secret.as_bytes(), BASE64_URL_SAFE),
        ];
        for text in shown {
            let masked = r.redact(&format!("<{text}>"));
            assert_eq!(masked, "<***>", "{text}");
        }
        for prefix in ["", "a", "ab", "abc", "abcd"] {
            for suffix in ["", "z", "zz", "zzz"] {
                let whole = format!("{prefix}{secret}{suffix}");
                for alphabet in [BASE64_STANDARD, BASE64_URL_SAFE] {
                    let encoded = pad(&base64(whole.as_bytes(), alphabet));
                    let masked = r.redact(&encoded);
                    assert!(masked.contains(MASK), "{whole:?}: {encoded} → {masked}");
                    // What is left is at most the characters that mix in the neighbours' bits.
                    let left = masked.len() - MASK.len();
                    assert!(
                        left <= encoded.len() - 4 * secret.len() / 3 + 2,
                        "{encoded} → {masked}"
                    );
                }
            }
        }
    }

    /// Streaming gives what one pass over the whole text gives, however the
    /// text is chunked.
    #[test]
    fn streaming_equals_one_pass() {
        let r = Redactor::new();
        r.add("secret-one");
        r.add("secret-one-longer");
        r.add("ZZZZ");
        let text = "a secret-one-longer b secret-one c secret-on ZZZZZ secret-one";
        let whole = r.redact(text);
        assert_eq!(whole, "a *** b *** c secret-on ***Z ***");
        for size in 1..=text.len() {
            let mut stream = r.stream();
            let mut out = Vec::new();
            for chunk in text.as_bytes().chunks(size) {
                stream.push(chunk, &mut out);
            }
            stream.finish(&mut out);
            assert_eq!(String::from_utf8(out).unwrap(), whole, "chunks of {size}");
        }
        let mut plain = Redactor::new().stream();
        let mut out = Vec::new();
        plain.push(b"no secrets", &mut out);
        assert_eq!(out, b"no secrets", "nothing is held back without secrets");
    }

    #[test]
    fn json_values_are_masked_in_place() {
        let r = Redactor::new();
        r.add("hunter22");
        let mut value =
            serde_json::json!({"a": ["x hunter22 y", 3], "hunter22": {"b": "aHVudGVyMjI="}});
        r.redact_json(&mut value);
        assert_eq!(
            value,
            serde_json::json!({"a": ["x *** y", 3], "***": {"b": "***"}})
        );
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
        // Text around a mask survives (one-line log and report rows).
        assert_eq!(
            mask_credentials("(http: POST http://h/ Authorization: *** content-type: x) | 3 |"),
            "(http: POST http://h/ Authorization: *** content-type: x) | 3 |"
        );
        assert_eq!(
            Redactor::new().redact("Authorization: Basic a\\zb\nnext"),
            "Authorization: ***\nnext",
            "a backslash that starts no JSON escape is part of the value"
        );
    }
}
