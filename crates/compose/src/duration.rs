//! Durations written the way compose writes them (Go's `time.ParseDuration`: `1m30s`,
//! `10s`, `1.5h`, `300ms`) and their serde form in the normalized model.

use std::time::Duration;

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a valid duration; use a number with a unit, e.g. 10s, 1m30s, 1h, 500ms")]
pub struct DurationError {
    /// The text that was rejected.
    pub input: String,
}

const UNITS: [(&str, u128); 9] = [
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("μs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
    ("d", 86_400_000_000_000),
];

/// Parses a compose duration: a sequence of decimal numbers with units (`ns`, `us`, `ms`,
/// `s`, `m`, `h`; `d` as compose's extension), or a bare `0`. Negative values are rejected.
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let err = || DurationError {
        input: input.to_owned(),
    };
    let s = input.trim();
    let s = s.strip_prefix('+').unwrap_or(s);
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        return Err(err());
    }
    let mut total: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(err)?;
        let (number, after) = rest.split_at(num_len);
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(err());
        }
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let scale = UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, scale)| *scale)
            .ok_or_else(err)?;
        let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| err())?
        };
        let mut nanos = whole.checked_mul(scale).ok_or_else(err)?;
        // Fractions are exact down to the nanosecond; extra digits are truncated as Go does.
        let mut place = scale;
        for digit in frac.chars().take(30) {
            place /= 10;
            let d = u128::from(digit.to_digit(10).ok_or_else(err)?);
            nanos = nanos.checked_add(d * place).ok_or_else(err)?;
        }
        total = total.checked_add(nanos).ok_or_else(err)?;
        rest = next;
    }
    let secs = u64::try_from(total / 1_000_000_000).map_err(|_| err())?;
    // The remainder of a division by 1e9 always fits in u32.
    let sub = (total % 1_000_000_000) as u32;
    Ok(Duration::new(secs, sub))
}

/// Formats a duration so that [`parse_duration`] reads it back: `1h30m`, `1m30s`, `250ms`, `0s`.
pub fn format_duration(d: Duration) -> String {
    let mut nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (name, scale) in [
        ("h", 3_600_000_000_000u128),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
        ("us", 1_000),
        ("ns", 1),
    ] {
        let n = nanos / scale;
        if n > 0 {
            out.push_str(&format!("{n}{name}"));
            nanos %= scale;
        }
    }
    out
}

/// Serde for `Option<Duration>` as a compose duration string.
pub(crate) mod opt_serde {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&super::format_duration(*d)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| super::parse_duration(&t).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_compose_durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("300ms"), Ok(Duration::from_millis(300)));
        assert_eq!(parse_duration("2us"), Ok(Duration::from_micros(2)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(
            parse_duration("1h2m3s4ms"),
            Ok(Duration::new(3723, 4_000_000))
        );
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in [
            "",
            "10",
            "1x",
            "s",
            "-1s",
            "1..5s",
            ".s",
            "1s 2s",
            "99999999999999999999h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn format_round_trips() {
        for d in [
            Duration::ZERO,
            Duration::from_secs(90),
            Duration::from_secs(3600),
            Duration::new(3723, 4_000_123),
        ] {
            assert_eq!(parse_duration(&format_duration(d)), Ok(d));
        }
        assert_eq!(format_duration(Duration::from_secs(90)), "1m30s");
    }
}
