//! Decoding Postgres values to JSON: the binary form prepared statements
//! return, and the text form of the simple protocol (scripts without
//! parameters), type by type, without losing precision.

use super::*;

/// Built-in type OIDs (`pg_type.dat`; stable across versions).
pub(super) mod oid {
    pub const BOOL: u32 = 16;
    pub const BYTEA: u32 = 17;
    pub const CHAR: u32 = 18;
    pub const NAME: u32 = 19;
    pub const INT8: u32 = 20;
    pub const INT2: u32 = 21;
    pub const INT4: u32 = 23;
    pub const TEXT: u32 = 25;
    pub const OID: u32 = 26;
    pub const JSON: u32 = 114;
    pub const XML: u32 = 142;
    pub const CIDR: u32 = 650;
    pub const FLOAT4: u32 = 700;
    pub const FLOAT8: u32 = 701;
    pub const UNKNOWN: u32 = 705;
    pub const MACADDR8: u32 = 774;
    pub const MACADDR: u32 = 829;
    pub const INET: u32 = 869;
    pub const BPCHAR: u32 = 1042;
    pub const VARCHAR: u32 = 1043;
    pub const DATE: u32 = 1082;
    pub const TIME: u32 = 1083;
    pub const TIMESTAMP: u32 = 1114;
    pub const TIMESTAMPTZ: u32 = 1184;
    pub const INTERVAL: u32 = 1186;
    pub const TIMETZ: u32 = 1266;
    pub const BIT: u32 = 1560;
    pub const VARBIT: u32 = 1562;
    pub const NUMERIC: u32 = 1700;
    pub const UUID: u32 = 2950;
    pub const JSONB: u32 = 3802;
}

/// Decode one non-NULL value. Prepared statements return binary values; the simple protocol
/// (scripts without parameters) returns Postgres's text output, which is already the right
/// string for most types.
pub(super) fn decode(
    ty: &PgTypeInfo,
    types: &ResolvedTypes,
    format: PgValueFormat,
    bytes: &[u8],
) -> Result<Value, String> {
    // sqlx panics on `kind()` of a type it could not resolve; it names those "?", and
    // `to_result` looked them up in the catalog.
    let resolved;
    let kind = if ty.name() == "?" {
        resolved = match ty.oid().and_then(|o| types.get(&o.0)) {
            Some(Resolved::Array(elem)) => PgTypeKind::Array(PgTypeInfo::with_oid(Oid(*elem))),
            Some(Resolved::Domain(base)) => PgTypeKind::Domain(PgTypeInfo::with_oid(Oid(*base))),
            None => PgTypeKind::Simple,
        };
        &resolved
    } else {
        ty.kind()
    };
    match kind {
        PgTypeKind::Array(elem) => {
            return match format {
                PgValueFormat::Binary => decode_binary_array(elem, types, bytes),
                PgValueFormat::Text => decode_text_array(elem, types, utf8(bytes)?),
            };
        }
        // A domain is sent in its base type's format.
        PgTypeKind::Domain(base) => return decode(base, types, format, bytes),
        PgTypeKind::Enum(_) => return utf8(bytes).map(|s| Value::String(s.to_owned())),
        _ => {}
    }
    let oid = ty.oid().map_or(0, |o| o.0);
    match format {
        PgValueFormat::Binary => decode_binary(oid, bytes),
        PgValueFormat::Text => Ok(decode_text(oid, utf8(bytes)?)),
    }
}

pub(super) fn utf8(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|_| "the value is not valid UTF-8".to_owned())
}

pub(super) fn decode_binary(oid: u32, b: &[u8]) -> Result<Value, String> {
    let string = |s: String| Ok(Value::String(s));
    match oid {
        oid::BOOL => Ok(Value::Bool(fixed::<1>(b)?[0] != 0)),
        oid::INT2 => Ok(i16::from_be_bytes(fixed(b)?).into()),
        oid::INT4 => Ok(i32::from_be_bytes(fixed(b)?).into()),
        oid::INT8 => Ok(i64::from_be_bytes(fixed(b)?).into()),
        oid::OID => Ok(u32::from_be_bytes(fixed(b)?).into()),
        // Through the shortest decimal form, so a float4 0.1 reads 0.1 and not 0.10000000149011612.
        oid::FLOAT4 => Ok(float(
            f32::from_be_bytes(fixed(b)?)
                .to_string()
                .parse::<f64>()
                .unwrap_or(f64::NAN),
        )),
        oid::FLOAT8 => Ok(float(f64::from_be_bytes(fixed(b)?))),
        oid::NUMERIC => string(numeric(b)?),
        oid::TEXT | oid::VARCHAR | oid::BPCHAR | oid::NAME | oid::XML | oid::UNKNOWN => {
            string(utf8(b)?.to_owned())
        }
        oid::CHAR => string(String::from_utf8_lossy(b).into_owned()),
        oid::JSON => serde_json::from_str(utf8(b)?).map_err(|e| format!("invalid json: {e}")),
        oid::JSONB => match b.split_first() {
            Some((1, rest)) => {
                serde_json::from_str(utf8(rest)?).map_err(|e| format!("invalid jsonb: {e}"))
            }
            _ => Err("unknown jsonb version".to_owned()),
        },
        oid::BYTEA => {
            let mut s = String::with_capacity(2 + 2 * b.len());
            s.push_str("\\x");
            for byte in b {
                let _ = write!(s, "{byte:02x}");
            }
            string(s)
        }
        oid::UUID => {
            let u = sqlx::types::Uuid::from_slice(b).map_err(|e| e.to_string())?;
            string(u.hyphenated().to_string())
        }
        oid::DATE => string(date(i32::from_be_bytes(fixed(b)?))?),
        oid::TIME => string(time_of_day(i64::from_be_bytes(fixed(b)?))),
        oid::TIMETZ => {
            let [t @ .., z0, z1, z2, z3] = fixed::<12>(b)?;
            let micros = i64::from_be_bytes(t);
            // PostgreSQL stores the zone as seconds west of UTC.
            let east = -i64::from(i32::from_be_bytes([z0, z1, z2, z3]));
            string(format!("{}{}", time_of_day(micros), utc_offset(east)))
        }
        oid::TIMESTAMP => string(timestamp(i64::from_be_bytes(fixed(b)?), false)?),
        oid::TIMESTAMPTZ => string(timestamp(i64::from_be_bytes(fixed(b)?), true)?),
        oid::INTERVAL => {
            let [m @ .., d0, d1, d2, d3, n0, n1, n2, n3] = fixed::<16>(b)?;
            let micros = i64::from_be_bytes(m);
            let days = i32::from_be_bytes([d0, d1, d2, d3]);
            let months = i32::from_be_bytes([n0, n1, n2, n3]);
            string(interval(months, days, micros))
        }
        oid::INET | oid::CIDR => string(inet(b, oid == oid::CIDR)?),
        oid::MACADDR | oid::MACADDR8 => {
            let parts: Vec<String> = b.iter().map(|x| format!("{x:02x}")).collect();
            string(parts.join(":"))
        }
        oid::BIT | oid::VARBIT => {
            let (len, bits) = b.split_at_checked(4).ok_or("truncated bit string")?;
            let len = usize::try_from(i32::from_be_bytes(fixed(len)?))
                .map_err(|_| "negative bit length")?;
            let s: String = (0..len)
                .map(|i| {
                    let byte = bits.get(i / 8).copied().unwrap_or(0);
                    if byte & (0x80 >> (i % 8)) == 0 {
                        '0'
                    } else {
                        '1'
                    }
                })
                .collect();
            string(s)
        }
        // Types we do not know (extensions such as citext send their text as binary): accept the
        // bytes only if they read as text, since most binary formats hold length or number bytes.
        _ => match std::str::from_utf8(b) {
            Ok(s)
                if !s
                    .chars()
                    .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) =>
            {
                string(s.to_owned())
            }
            _ => Err("it has no json form".to_owned()),
        },
    }
}

pub(super) fn decode_text(oid: u32, s: &str) -> Value {
    let parsed = match oid {
        oid::BOOL => match s {
            "t" => Some(Value::Bool(true)),
            "f" => Some(Value::Bool(false)),
            _ => None,
        },
        oid::INT2 | oid::INT4 | oid::INT8 => s.parse::<i64>().ok().map(Value::from),
        oid::OID => s.parse::<u32>().ok().map(Value::from),
        oid::FLOAT4 | oid::FLOAT8 => s.parse::<f64>().ok().map(float),
        oid::JSON | oid::JSONB => serde_json::from_str(s).ok(),
        oid::TIMESTAMPTZ => DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%#z")
            .ok()
            .map(|t| Value::String(t.to_utc().to_rfc3339_opts(SecondsFormat::AutoSi, true))),
        oid::TIME => NaiveTime::parse_from_str(s, "%H:%M:%S%.f")
            .ok()
            .map(|t| Value::String(t.format("%H:%M:%S%.f").to_string())),
        oid::TIMESTAMP => NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
            .ok()
            .map(|t| Value::String(t.format("%Y-%m-%dT%H:%M:%S%.f").to_string())),
        _ => None,
    };
    // Everything else (numeric, dates, intervals, inet, ...) is PostgreSQL's own text, exactly.
    parsed.unwrap_or_else(|| Value::String(s.to_owned()))
}

pub(super) fn fixed<const N: usize>(b: &[u8]) -> Result<[u8; N], String> {
    b.try_into()
        .map_err(|_| format!("expected {N} bytes, got {}", b.len()))
}

pub(super) fn float(f: f64) -> Value {
    match serde_json::Number::from_f64(f) {
        Some(n) => Value::Number(n),
        None if f.is_nan() => Value::String("NaN".to_owned()),
        None if f > 0.0 => Value::String("Infinity".to_owned()),
        None => Value::String("-Infinity".to_owned()),
    }
}

/// NUMERIC's binary form (base-10000 digits) to Postgres's text form with the value's display
/// scale, e.g. `1.50` stays `1.50`: no precision is lost on the way to JSON.
pub(super) fn numeric(b: &[u8]) -> Result<String, String> {
    let word = |i: usize| -> Result<u16, String> {
        let pair = b.get(i * 2..i * 2 + 2).ok_or("truncated numeric")?;
        Ok(u16::from_be_bytes([pair[0], pair[1]]))
    };
    let ndigits = usize::from(word(0)?);
    let weight = i32::from(word(1)?.cast_signed());
    let sign = word(2)?;
    let dscale = usize::from(word(3)?);
    match sign {
        0xC000 => return Ok("NaN".to_owned()),
        0xD000 => return Ok("Infinity".to_owned()),
        0xF000 => return Ok("-Infinity".to_owned()),
        0x0000 | 0x4000 => {}
        _ => return Err(format!("invalid numeric sign {sign:#x}")),
    }
    let digits = (0..ndigits)
        .map(|i| word(4 + i))
        .collect::<Result<Vec<_>, _>>()?;
    let digit = |pos: i32| {
        usize::try_from(pos)
            .ok()
            .and_then(|p| digits.get(p))
            .copied()
            .unwrap_or(0)
    };
    let mut s = String::new();
    if sign == 0x4000 {
        s.push('-');
    }
    if weight < 0 {
        s.push('0');
    } else {
        for pos in 0..=weight {
            let d = digit(pos);
            let _ = if pos == 0 {
                write!(s, "{d}")
            } else {
                write!(s, "{d:04}")
            };
        }
    }
    if dscale > 0 {
        let mut frac = String::with_capacity(dscale + 4);
        let mut pos = weight + 1;
        while frac.len() < dscale {
            let _ = write!(frac, "{:04}", digit(pos));
            pos += 1;
        }
        frac.truncate(dscale);
        s.push('.');
        s.push_str(&frac);
    }
    Ok(s)
}

pub(super) fn pg_epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2000, 1, 1)
        .unwrap_or_default()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
}

pub(super) fn date(days: i32) -> Result<String, String> {
    match days {
        i32::MAX => Ok("infinity".to_owned()),
        i32::MIN => Ok("-infinity".to_owned()),
        _ => pg_epoch()
            .date()
            .checked_add_signed(TimeDelta::days(i64::from(days)))
            .map(|d| d.format("%Y-%m-%d").to_string())
            .ok_or_else(|| "date out of range".to_owned()),
    }
}

pub(super) fn timestamp(micros: i64, utc: bool) -> Result<String, String> {
    match micros {
        i64::MAX => return Ok("infinity".to_owned()),
        i64::MIN => return Ok("-infinity".to_owned()),
        _ => {}
    }
    let t = pg_epoch()
        .checked_add_signed(TimeDelta::microseconds(micros))
        .ok_or("timestamp out of range")?;
    Ok(if utc {
        t.and_utc().to_rfc3339_opts(SecondsFormat::AutoSi, true)
    } else {
        t.format("%Y-%m-%dT%H:%M:%S%.f").to_string()
    })
}

/// `HH:MM:SS` with 0, 3 or 6 fraction digits as needed (24:00:00 is a valid `time`).
pub(super) fn time_of_day(micros: i64) -> String {
    let frac = micros.rem_euclid(1_000_000);
    let secs = micros.div_euclid(1_000_000);
    let mut s = format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    push_fraction(&mut s, frac.unsigned_abs());
    s
}

pub(super) fn push_fraction(s: &mut String, micros: u64) {
    if micros == 0 {
    } else if micros.is_multiple_of(1000) {
        let _ = write!(s, ".{:03}", micros / 1000);
    } else {
        let _ = write!(s, ".{micros:06}");
    }
}

pub(super) fn utc_offset(east_secs: i64) -> String {
    let sign = if east_secs < 0 { '-' } else { '+' };
    let a = east_secs.unsigned_abs();
    let (h, m, sec) = (a / 3600, a / 60 % 60, a % 60);
    match (m, sec) {
        (0, 0) => format!("{sign}{h:02}"),
        (_, 0) => format!("{sign}{h:02}:{m:02}"),
        _ => format!("{sign}{h:02}:{m:02}:{sec:02}"),
    }
}

pub(super) fn interval_part(
    s: &mut String,
    value: i64,
    unit: &str,
    is_zero: &mut bool,
    is_before: &mut bool,
) {
    if value == 0 {
        return;
    }
    let _ = write!(
        s,
        "{}{}{value} {unit}{}",
        if *is_zero { "" } else { " " },
        if *is_before && value > 0 { "+" } else { "" },
        if value == 1 { "" } else { "s" }
    );
    *is_before = value < 0;
    *is_zero = false;
}

/// Postgres's default `IntervalStyle = postgres` output (`EncodeInterval` in datetime.c).
pub(super) fn interval(months: i32, days: i32, micros: i64) -> String {
    let mut s = String::new();
    let mut is_zero = true;
    let mut is_before = false;
    interval_part(
        &mut s,
        i64::from(months / 12),
        "year",
        &mut is_zero,
        &mut is_before,
    );
    interval_part(
        &mut s,
        i64::from(months % 12),
        "mon",
        &mut is_zero,
        &mut is_before,
    );
    interval_part(&mut s, i64::from(days), "day", &mut is_zero, &mut is_before);
    if is_zero || micros != 0 {
        let minus = micros < 0;
        let a = micros.unsigned_abs();
        let _ = write!(
            s,
            "{}{}{:02}:{:02}:{:02}",
            if is_zero { "" } else { " " },
            if minus {
                "-"
            } else if is_before {
                "+"
            } else {
                ""
            },
            a / 3_600_000_000,
            a / 60_000_000 % 60,
            a / 1_000_000 % 60
        );
        let frac = a % 1_000_000;
        if frac != 0 {
            // PostgreSQL trims trailing zeros here.
            let digits = format!("{frac:06}");
            s.push('.');
            s.push_str(digits.trim_end_matches('0'));
        }
    }
    s
}

/// inet/cidr binary form: family, bits, a cidr flag, address length, address bytes.
pub(super) fn inet(b: &[u8], cidr: bool) -> Result<String, String> {
    let [family, bits, _is_cidr, len, addr @ ..] = b else {
        return Err("truncated inet".to_owned());
    };
    let (ip, max) = match (family, usize::from(*len), addr.len()) {
        (2, 4, 4) => (
            std::net::IpAddr::from([addr[0], addr[1], addr[2], addr[3]]),
            32,
        ),
        (3, 16, 16) => {
            let octets: [u8; 16] = fixed(addr)?;
            (std::net::IpAddr::from(octets), 128)
        }
        _ => return Err("unknown inet address family".to_owned()),
    };
    Ok(if cidr || *bits != max {
        format!("{ip}/{bits}")
    } else {
        ip.to_string()
    })
}

/// An array in binary form: dimensions, then each element with its length (-1 = NULL).
pub(super) fn decode_binary_array(
    elem: &PgTypeInfo,
    types: &ResolvedTypes,
    b: &[u8],
) -> Result<Value, String> {
    let int = |at: usize| -> Result<i32, String> {
        b.get(at..at + 4)
            .map(|x| i32::from_be_bytes([x[0], x[1], x[2], x[3]]))
            .ok_or_else(|| "truncated array".to_owned())
    };
    let ndim = usize::try_from(int(0)?).map_err(|_| "negative array dimensions")?;
    if ndim == 0 {
        return Ok(Value::Array(Vec::new()));
    }
    if ndim > 6 {
        return Err(format!("{ndim} array dimensions"));
    }
    let mut dims = Vec::with_capacity(ndim);
    for d in 0..ndim {
        dims.push(usize::try_from(int(12 + d * 8)?).map_err(|_| "negative array length")?);
    }
    let mut at = 12 + ndim * 8;
    let total = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or("array too large")?;
    let mut flat = Vec::with_capacity(total.min(b.len()));
    for _ in 0..total {
        let len = int(at)?;
        at += 4;
        if len < 0 {
            flat.push(Value::Null);
        } else {
            let len = usize::try_from(len).map_err(|_| "bad element length")?;
            let bytes = b.get(at..at + len).ok_or("truncated array element")?;
            at += len;
            flat.push(decode(elem, types, PgValueFormat::Binary, bytes)?);
        }
    }
    Ok(nest(flat, &dims))
}

/// Group a row-major flat list into nested lists with the given dimensions.
pub(super) fn nest(flat: Vec<Value>, dims: &[usize]) -> Value {
    match dims {
        [] | [_] => Value::Array(flat),
        [_, inner @ ..] => {
            let chunk = inner
                .iter()
                .fold(1usize, |acc, &d| acc.saturating_mul(d))
                .max(1);
            let mut out = Vec::new();
            let mut it = flat.into_iter().peekable();
            while it.peek().is_some() {
                let part: Vec<Value> = it.by_ref().take(chunk).collect();
                out.push(nest(part, inner));
            }
            Value::Array(out)
        }
    }
}

/// An array in text form: `{1,NULL,"a \"b\""}`, possibly nested, possibly with bounds (`[0:1]={..}`).
pub(super) fn decode_text_array(
    elem: &PgTypeInfo,
    types: &ResolvedTypes,
    s: &str,
) -> Result<Value, String> {
    let body = match s.find("]={") {
        Some(p) if s.starts_with('[') => &s[p + 2..],
        _ => s,
    };
    let chars: Vec<char> = body.chars().collect();
    let mut pos = 0;
    parse_text_array(elem, types, &chars, &mut pos)
}

pub(super) fn parse_text_array(
    elem: &PgTypeInfo,
    types: &ResolvedTypes,
    c: &[char],
    pos: &mut usize,
) -> Result<Value, String> {
    if c.get(*pos) != Some(&'{') {
        return Err("malformed array literal".to_owned());
    }
    *pos += 1;
    let mut out = Vec::new();
    loop {
        match c.get(*pos) {
            None => return Err("unterminated array literal".to_owned()),
            Some('}') => {
                *pos += 1;
                return Ok(Value::Array(out));
            }
            Some(',' | ' ') => *pos += 1,
            Some('{') => out.push(parse_text_array(elem, types, c, pos)?),
            Some('"') => {
                *pos += 1;
                let mut item = String::new();
                loop {
                    match c.get(*pos) {
                        None => return Err("unterminated array element".to_owned()),
                        Some('\\') => {
                            if let Some(&x) = c.get(*pos + 1) {
                                item.push(x);
                            }
                            *pos += 2;
                        }
                        Some('"') => {
                            *pos += 1;
                            break;
                        }
                        Some(&x) => {
                            item.push(x);
                            *pos += 1;
                        }
                    }
                }
                out.push(decode(elem, types, PgValueFormat::Text, item.as_bytes())?);
            }
            Some(_) => {
                let start = *pos;
                while c.get(*pos).is_some_and(|x| !matches!(x, ',' | '}')) {
                    *pos += 1;
                }
                let item: String = c[start..*pos].iter().collect();
                let item = item.trim();
                out.push(if item.eq_ignore_ascii_case("NULL") {
                    Value::Null
                } else {
                    decode(elem, types, PgValueFormat::Text, item.as_bytes())?
                });
            }
        }
    }
}
