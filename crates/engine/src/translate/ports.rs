//! Port ranges as users write them (`8080`, `10000-10019`) and their expansion into
//! Docker's port bindings.

use std::fmt;

use api::container::IntOrString;

use crate::error::Error;

/// An inclusive range of ports; a single port is a range of one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRange {
    pub start: u16,
    pub end: u16,
}

impl PortRange {
    /// Reads `8080`, `"8080"` or `"10000-10019"`; `field` names the spec field in errors.
    pub fn parse(value: &IntOrString, field: &str) -> Result<Self, Error> {
        let invalid = || {
            Error::Invalid(format!(
                "{field} {} is not a port from 1 to 65535 or a range such as 10000-10019",
                describe(value)
            ))
        };
        let text = match value {
            IntOrString::Int(n) => n.to_string(),
            IntOrString::String(s) => s.trim().to_string(),
        };
        let port = |s: &str| s.parse::<u16>().ok().filter(|p| *p > 0);
        let (start, end) = match text.split_once('-') {
            Some((a, b)) => (port(a).ok_or_else(invalid)?, port(b).ok_or_else(invalid)?),
            None => {
                let p = port(&text).ok_or_else(invalid)?;
                (p, p)
            }
        };
        if start > end {
            return Err(invalid());
        }
        Ok(Self { start, end })
    }

    pub fn width(self) -> u32 {
        u32::from(self.end - self.start) + 1
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.end {
            write!(f, "{}", self.start)
        } else {
            write!(f, "{}-{}", self.start, self.end)
        }
    }
}

fn describe(value: &IntOrString) -> String {
    match value {
        IntOrString::Int(n) => n.to_string(),
        IntOrString::String(s) => format!("{s:?}"),
    }
}

/// One container port and the host port (or host range for Docker to pick from) it
/// is published on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub container_port: u16,
    /// Empty: Docker picks any free port. `A-B`: Docker picks one from the range.
    pub host_port: String,
}

/// Expands a container range and optional host range into one binding per container port.
/// Equal widths map one to one; a single container port with a host range lets Docker
/// pick from the range; any other mismatch is an error.
pub fn bindings(
    container: PortRange,
    host: Option<PortRange>,
    field: &str,
) -> Result<Vec<Binding>, Error> {
    let Some(host) = host else {
        return Ok((container.start..=container.end)
            .map(|p| Binding {
                container_port: p,
                host_port: String::new(),
            })
            .collect());
    };
    if container.width() == 1 {
        return Ok(vec![Binding {
            container_port: container.start,
            host_port: host.to_string(),
        }]);
    }
    if container.width() != host.width() {
        return Err(Error::Invalid(format!(
            "{field}: hostPort {host} ({} ports) must be as wide as containerPort {container} ({} ports)",
            host.width(),
            container.width()
        )));
    }
    Ok((0..container.width())
        .map(|i| Binding {
            // Both ranges hold `width` ports, so the offsets stay within u16.
            container_port: container.start + i as u16,
            host_port: (host.start + i as u16).to_string(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(s: &str) -> PortRange {
        PortRange::parse(&IntOrString::String(s.into()), "f").unwrap()
    }

    #[test]
    fn single_ports_and_ranges_parse() {
        assert_eq!(
            PortRange::parse(&IntOrString::Int(80), "f").unwrap(),
            PortRange { start: 80, end: 80 }
        );
        assert_eq!(range("10000-10019").width(), 20);
        for bad in ["0", "65536", "20-10", "a-b", "", "1-2-3"] {
            assert!(
                PortRange::parse(&IntOrString::String(bad.into()), "f").is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn equal_width_ranges_map_one_to_one() {
        let b = bindings(range("10000-10002"), Some(range("20000-20002")), "f").unwrap();
        let pairs: Vec<_> = b
            .iter()
            .map(|b| (b.container_port, b.host_port.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [(10000, "20000"), (10001, "20001"), (10002, "20002")]
        );
    }

    #[test]
    fn single_container_port_with_host_range_lets_docker_pick() {
        let b = bindings(range("80"), Some(range("8000-8010")), "f").unwrap();
        assert_eq!(
            b,
            [Binding {
                container_port: 80,
                host_port: "8000-8010".into()
            }]
        );
    }

    #[test]
    fn mismatched_widths_are_refused_with_the_field_named() {
        let err = bindings(range("80-81"), Some(range("8000-8002")), "ports[3]").unwrap_err();
        assert!(err.to_string().contains("ports[3]"), "{err}");
    }
}
