//! Durations as runbooks write them: `500ms`, `30s`, `10m`, `2h`, `1h30m`.

use std::fmt::Write as _;
use std::time::Duration;

/// A year is far beyond any runbook timeout; larger values are typos.
const MAX_MILLIS: u128 = 366 * 86_400_000;

/// Parses a duration: one or more `<number><unit>` parts, units `ms`, `s`, `m`, `h`, `d`,
/// each unit at most once and from largest to smallest.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    if text.starts_with('-') {
        return Err(DurationError::Negative);
    }
    let mut total: u128 = 0;
    let mut rest = text;
    let mut last_rank = usize::MAX;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(DurationError::Malformed(text.to_owned()));
        }
        let (number, after) = rest.split_at(digits);
        let unit_len = after.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (unit, after) = after.split_at(unit_len);
        if unit.is_empty() {
            return Err(if after.is_empty() && rest.len() == text.len() {
                DurationError::NoUnit(number.to_owned())
            } else {
                DurationError::Malformed(text.to_owned())
            });
        }
        let (millis_per_unit, rank) = match unit {
            "d" => (86_400_000, 0),
            "h" => (3_600_000, 1),
            "m" => (60_000, 2),
            "s" => (1_000, 3),
            "ms" => (1, 4),
            other => return Err(DurationError::UnknownUnit(other.to_owned())),
        };
        if last_rank != usize::MAX && rank <= last_rank {
            return Err(DurationError::Malformed(text.to_owned()));
        }
        last_rank = rank;
        let value: u128 = number.parse().map_err(|_| DurationError::Overflow)?;
        total = value
            .checked_mul(millis_per_unit)
            .and_then(|ms| total.checked_add(ms))
            .ok_or(DurationError::Overflow)?;
        rest = after;
    }
    if total > MAX_MILLIS {
        return Err(DurationError::Overflow);
    }
    Ok(Duration::from_millis(
        u64::try_from(total).map_err(|_| DurationError::Overflow)?,
    ))
}

/// Formats a duration the way runbooks write it (`250ms`, `2.5s`, `3m5s`,
/// `1h30m`): the one formatter of every duration drctl prints, configured
/// (timeouts, delays) or measured (how long a step took).
pub fn format(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis < 1_000 {
        return format!("{millis}ms");
    }
    let total_secs = duration.as_secs();
    let (hours, minutes, seconds) = (total_secs / 3600, total_secs / 60 % 60, total_secs % 60);
    let mut out = String::new();
    if hours > 0 {
        let _ = write!(out, "{hours}h");
    }
    if minutes > 0 {
        let _ = write!(out, "{minutes}m");
    }
    let sub = millis % 1000;
    if seconds > 0 || sub > 0 {
        if hours == 0 && minutes == 0 && sub > 0 {
            let _ = write!(out, "{seconds}.{:01}s", sub / 100);
        } else {
            let _ = write!(out, "{seconds}s");
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration")]
    Empty,
    #[error("a duration cannot be negative")]
    Negative,
    #[error("duration `{0}` has no unit")]
    NoUnit(String),
    #[error("unknown duration unit `{0}`")]
    UnknownUnit(String),
    #[error("`{0}` is not a duration")]
    Malformed(String),
    #[error("duration is too large")]
    Overflow,
}

impl DurationError {
    pub fn hint(&self) -> String {
        match self {
            DurationError::NoUnit(n) => format!("add a unit, e.g. `{n}s` or `{n}m`"),
            DurationError::Overflow => "use a duration of at most a year, e.g. `24h`".to_owned(),
            _ => "write durations like `500ms`, `30s`, `10m`, `2h` or `1h30m`".to_owned(),
        }
    }
}

/// [`format`] of a number of milliseconds (as events and journals hold them).
pub fn format_ms(ms: u64) -> String {
    format(Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("10m"), Ok(Duration::from_mins(10)));
        assert_eq!(parse("2h"), Ok(Duration::from_hours(2)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_mins(90)));
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn rejects_the_rest() {
        assert_eq!(parse("30"), Err(DurationError::NoUnit("30".into())));
        assert_eq!(parse("-5s"), Err(DurationError::Negative));
        assert_eq!(parse("5y"), Err(DurationError::UnknownUnit("y".into())));
        assert_eq!(parse(""), Err(DurationError::Empty));
        assert_eq!(
            parse("30m1h"),
            Err(DurationError::Malformed("30m1h".into()))
        );
        assert_eq!(
            parse("99999999999999999999999h"),
            Err(DurationError::Overflow)
        );
        assert_eq!(parse("9000d"), Err(DurationError::Overflow));
        assert_eq!(parse("1.5h"), Err(DurationError::Malformed("1.5h".into())));
    }

    #[test]
    fn formats_round_trip() {
        for text in ["500ms", "30s", "10m", "2h", "1h30m", "1h0m5s"] {
            let d = parse(text).unwrap();
            assert_eq!(parse(&format(d)).unwrap(), d, "{text}");
        }
        assert_eq!(format(Duration::from_millis(2500)), "2.5s");
    }

    #[test]
    fn one_wording_for_every_duration() {
        for (ms, text) in [
            (0, "0ms"),
            (250, "250ms"),
            (1_500, "1.5s"),
            (10_000, "10s"),
            (120_000, "2m"),
            (90_000, "1m30s"),
            (185_400, "3m5s"),
            (300_000, "5m"),
            (3_725_000, "1h2m5s"),
        ] {
            assert_eq!(format_ms(ms), text);
        }
    }
}
