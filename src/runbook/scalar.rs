//! What an untagged plain YAML scalar means: null, boolean, integer, float or
//! string, decided exactly as serde-saphyr decides it for an untyped value
//! with drctl's options (YAML 1.2 booleans only, `0755` stays a string).
//!
//! The event-driven builder ([`super::node_events`]) needs this because it
//! reads the parser's events itself; the rules are serde-saphyr 2.1's
//! (`parse_scalars.rs` and `deserialize_any`), which are crate-private there;
//! the builder's tests hold the two to the same answers. A non-finite float
//! (`.inf`, `1e999`) is an error in serde-saphyr; it is answered with `None`
//! so that the builder hands the document to serde-saphyr for its message.

use super::node::NodeKind;

/// The meaning of an untagged plain scalar; `None` where serde-saphyr refuses it.
pub fn resolve_plain(value: &str) -> Option<NodeKind> {
    if matches!(value, "" | "~" | "null" | "Null" | "NULL") {
        return Some(NodeKind::Null);
    }
    let t = yaml_trim(value);
    match t {
        "true" | "True" | "TRUE" => return Some(NodeKind::Bool(true)),
        "false" | "False" | "FALSE" => return Some(NodeKind::Bool(false)),
        _ => {}
    }
    // No number begins with a letter (`inf` and `nan` stay strings too):
    // most scalars of a runbook, its keys and ids, end here.
    if t.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) {
        return Some(NodeKind::Str(value.to_owned()));
    }
    if leading_zero_decimal(t) {
        return Some(NodeKind::Str(value.to_owned()));
    }
    if let Some(negative) = t.strip_prefix('-') {
        if let Some(v) = parse_signed(negative) {
            return Some(NodeKind::Int(v));
        }
    } else if let Some(v) = parse_unsigned(t.strip_prefix('+').unwrap_or(t)) {
        return Some(i64::try_from(v).map_or(NodeKind::UInt(v), NodeKind::Int));
    }
    match parse_float(t) {
        Some(v) if v.is_finite() => Some(NodeKind::Float(v)),
        Some(_) => None,
        None => Some(NodeKind::Str(value.to_owned())),
    }
}

/// The padding serde-saphyr trims before reading a scalar as a number or boolean.
fn yaml_trim(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\r', '\n'])
}

/// `0127`, `+0127`, `-0127`: kept as strings (`leading_zero_numbers_as_strings`).
fn leading_zero_decimal(t: &str) -> bool {
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The magnitude after a `-`, as an `i64`.
fn parse_signed(rest: &str) -> Option<i64> {
    let (radix, digits) = radix_and_digits(rest);
    if radix == 10 && digits.starts_with('0') && digits != "0" {
        return None;
    }
    let magnitude = parse_digits(digits, radix)?;
    let value = 0_i128.checked_sub(i128::try_from(magnitude).ok()?)?;
    i64::try_from(value).ok()
}

/// An unsigned integer after an optional `+`.
fn parse_unsigned(rest: &str) -> Option<u64> {
    if rest.starts_with('-') {
        return None;
    }
    let (radix, digits) = radix_and_digits(rest);
    if radix == 10 && digits.starts_with('0') && digits != "0" {
        return None;
    }
    u64::try_from(parse_digits(digits, radix)?).ok()
}

fn radix_and_digits(rest: &str) -> (u32, &str) {
    for (prefix, radix) in [
        ("0x", 16),
        ("0X", 16),
        ("0o", 8),
        ("0O", 8),
        ("0b", 2),
        ("0B", 2),
    ] {
        if let Some(digits) = rest.strip_prefix(prefix) {
            return (radix, digits);
        }
    }
    (10, rest)
}

/// Digits in `radix`, single underscores allowed between them; at least one digit.
fn parse_digits(digits: &str, radix: u32) -> Option<u128> {
    let bytes = digits.as_bytes();
    let mut value: u128 = 0;
    let mut saw_digit = false;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'_' {
            let prev_ok = i > 0 && bytes[i - 1] != b'_';
            let next_ok = i + 1 < bytes.len() && bytes[i + 1] != b'_';
            if !prev_ok || !next_ok {
                return None;
            }
            continue;
        }
        let digit = char::from(b).to_digit(16).filter(|&d| d < radix)?;
        value = value
            .checked_mul(u128::from(radix))?
            .checked_add(u128::from(digit))?;
        saw_digit = true;
    }
    saw_digit.then_some(value)
}

/// A YAML 1.2 float, or an overflowing decimal literal (`1e999`) as infinity.
fn parse_float(t: &str) -> Option<f64> {
    let (negative, unsigned) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    match unsigned {
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        ".inf" | ".Inf" | ".INF" if negative => return Some(f64::NEG_INFINITY),
        ".inf" | ".Inf" | ".INF" => return Some(f64::INFINITY),
        _ => {}
    }
    let value = t.parse::<f64>().ok()?;
    // Rust also reads `inf` and `nan`, which YAML keeps as strings; only a
    // numeral (a digit after the sign) may overflow to infinity.
    if value.is_finite() || unsigned.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        Some(value)
    } else {
        None
    }
}
