//! Byte sizes written the way compose writes them (`512m`, `1g`, `100kb`, `1.5GiB`), with
//! binary multiples as Docker's own `RAMInBytes` uses.

/// Why a byte size was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{input:?} is not a valid size; use a number of bytes or a number with a unit b, k, m, g, t or p (e.g. 512m, 1g)"
)]
pub struct ByteSizeError {
    /// The text that was rejected.
    pub input: String,
}

/// Parses a byte size: digits with an optional fraction, an optional space, then an
/// optional unit `k`, `m`, `g`, `t`, `p` (powers of 1024) optionally followed by `i` and `b`.
pub fn parse_bytes(input: &str) -> Result<u64, ByteSizeError> {
    let err = || ByteSizeError {
        input: input.to_owned(),
    };
    let s = input.trim();
    let num_len = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(num_len);
    let unit = unit.strip_prefix(' ').unwrap_or(unit).to_ascii_lowercase();
    if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
        return Err(err());
    }
    let mut unit_chars = unit.chars();
    let shift = match unit_chars.next() {
        None | Some('b') => 0,
        Some('k') => 10,
        Some('m') => 20,
        Some('g') => 30,
        Some('t') => 40,
        Some('p') => 50,
        Some(_) => return Err(err()),
    };
    let tail: String = unit_chars.collect();
    let tail_ok = if unit.starts_with('b') || unit.is_empty() {
        tail.is_empty()
    } else {
        matches!(tail.as_str(), "" | "b" | "i" | "ib")
    };
    if !tail_ok {
        return Err(err());
    }
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    if frac.contains('.') {
        return Err(err());
    }
    let whole: u64 = whole.parse().map_err(|_| err())?;
    let multiplier = 1u64 << shift;
    let mut total = whole.checked_mul(multiplier).ok_or_else(err)?;
    let mut place = multiplier as f64;
    for digit in frac.chars().take(20) {
        place /= 10.0;
        let d = f64::from(digit.to_digit(10).ok_or_else(err)?);
        // Fractions of a unit are truncated to whole bytes, as Docker does.
        total = total.checked_add((d * place) as u64).ok_or_else(err)?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_compose_sizes() {
        assert_eq!(parse_bytes("512m"), Ok(512 << 20));
        assert_eq!(parse_bytes("1g"), Ok(1 << 30));
        assert_eq!(parse_bytes("1G"), Ok(1 << 30));
        assert_eq!(parse_bytes("100kb"), Ok(100 << 10));
        assert_eq!(parse_bytes("1.5g"), Ok(3 << 29));
        assert_eq!(parse_bytes("2GiB"), Ok(2 << 30));
        assert_eq!(parse_bytes("1024"), Ok(1024));
        assert_eq!(parse_bytes("64b"), Ok(64));
        assert_eq!(parse_bytes("10 m"), Ok(10 << 20));
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "m",
            "1x",
            "1gbb",
            "-1m",
            "1.m",
            "1..5m",
            "99999999999p",
            "1bi",
        ] {
            assert!(parse_bytes(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
