//! Sizes, CPU amounts and durations as users write them in specs ("256Mi", "0.5", "30s"),
//! parsed once into numbers Docker takes.

use std::fmt;

/// Why a size, CPU amount or duration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a valid {what}: {hint}")]
pub struct ParseError {
    pub value: String,
    pub what: &'static str,
    pub hint: &'static str,
}

const SIZE_HINT: &str =
    "write a number of bytes with an optional suffix such as 512Ki, 256Mi, 1Gi, 100M or 1g";
const CPU_HINT: &str = "write a number of CPUs such as 0.5, 2 or 500m";
const DURATION_HINT: &str = "write a duration such as 500ms, 30s, 1m30s or 2h";

/// Parses a size in bytes: a Kubernetes quantity (`256Mi`, `1G`) or a Docker size (`256m`, `1g`).
pub fn parse_bytes(value: &str) -> Result<i64, ParseError> {
    let err = || ParseError {
        value: value.into(),
        what: "size",
        hint: SIZE_HINT,
    };
    let v = value.trim();
    let split = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let (number, suffix) = v.split_at(split);
    if number.is_empty() {
        return Err(err());
    }
    let multiplier: f64 = match suffix {
        "" | "b" | "B" => 1.0,
        "k" | "K" | "kb" | "KB" => 1e3,
        "M" | "MB" => 1e6,
        "G" | "GB" => 1e9,
        "T" | "TB" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        // Docker's own lowercase suffixes are binary.
        "m" | "mb" => 1024.0 * 1024.0,
        "g" | "gb" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return Err(err()),
    };
    let n: f64 = number.parse().map_err(|_| err())?;
    let bytes = (n * multiplier).round();
    if !(0.0..9.0e18).contains(&bytes) {
        return Err(err());
    }
    Ok(bytes as i64)
}

/// Parses a CPU amount (`0.5`, `2`, `500m`) into nano-CPUs, as Docker's `NanoCpus` takes it.
pub fn parse_nano_cpus(value: &str) -> Result<i64, ParseError> {
    let err = || ParseError {
        value: value.into(),
        what: "CPU amount",
        hint: CPU_HINT,
    };
    let v = value.trim();
    let (number, scale) = match v.strip_suffix('m') {
        Some(milli) => (milli, 1e6),
        None => (v, 1e9),
    };
    let n: f64 = number.parse().map_err(|_| err())?;
    if !n.is_finite() || n <= 0.0 || n > 1e6 {
        return Err(err());
    }
    Ok((n * scale).round() as i64)
}

/// A duration as Go and Docker write it: `1h30m`, `30s`, `500ms`, `1.5s`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct GoDuration(pub std::time::Duration);

impl GoDuration {
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        let err = || ParseError {
            value: value.into(),
            what: "duration",
            hint: DURATION_HINT,
        };
        let mut rest = value.trim();
        if rest.is_empty() {
            return Err(err());
        }
        if rest == "0" {
            return Ok(Self(std::time::Duration::ZERO));
        }
        let mut nanos: f64 = 0.0;
        while !rest.is_empty() {
            let num_end = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .ok_or_else(err)?;
            let (number, tail) = rest.split_at(num_end);
            let unit_end = tail
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(tail.len());
            let (unit, next) = tail.split_at(unit_end);
            let n: f64 = number.parse().map_err(|_| err())?;
            let scale = match unit {
                "ns" => 1.0,
                "us" | "µs" => 1e3,
                "ms" => 1e6,
                "s" => 1e9,
                "m" => 60e9,
                "h" => 3600e9,
                _ => return Err(err()),
            };
            nanos += n * scale;
            rest = next;
        }
        if !nanos.is_finite() || nanos > 1e18 {
            return Err(err());
        }
        Ok(Self(std::time::Duration::from_nanos(nanos.round() as u64)))
    }

    pub fn as_nanos_i64(self) -> i64 {
        i64::try_from(self.0.as_nanos()).unwrap_or(i64::MAX)
    }
}

impl fmt::Display for GoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_kubernetes_and_docker_suffixes() {
        assert_eq!(parse_bytes("256Mi"), Ok(256 * 1024 * 1024));
        assert_eq!(parse_bytes("256m"), Ok(256 * 1024 * 1024));
        assert_eq!(parse_bytes("1G"), Ok(1_000_000_000));
        assert_eq!(parse_bytes("1g"), Ok(1 << 30));
        assert_eq!(parse_bytes("1024"), Ok(1024));
        assert_eq!(parse_bytes("1.5Ki"), Ok(1536));
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("12Qi").is_err());
        assert!(parse_bytes("").is_err());
    }

    #[test]
    fn cpus_read_decimals_and_millicores() {
        assert_eq!(parse_nano_cpus("0.5"), Ok(500_000_000));
        assert_eq!(parse_nano_cpus("2"), Ok(2_000_000_000));
        assert_eq!(parse_nano_cpus("250m"), Ok(250_000_000));
        assert!(parse_nano_cpus("0").is_err());
        assert!(parse_nano_cpus("-1").is_err());
        assert!(parse_nano_cpus("many").is_err());
    }

    #[test]
    fn durations_read_go_syntax() {
        let d = |s| GoDuration::parse(s).map(|d| d.0.as_millis());
        assert_eq!(d("30s"), Ok(30_000));
        assert_eq!(d("1m30s"), Ok(90_000));
        assert_eq!(d("500ms"), Ok(500));
        assert_eq!(d("1.5s"), Ok(1_500));
        assert_eq!(d("2h"), Ok(7_200_000));
        assert_eq!(d("0"), Ok(0));
        assert!(GoDuration::parse("30").is_err());
        assert!(GoDuration::parse("30 seconds").is_err());
        assert!(GoDuration::parse("").is_err());
    }
}
