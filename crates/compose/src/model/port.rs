//! Published and exposed ports: typed ranges and mappings, and compose's short syntax
//! (`[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]`) in both directions.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The usage hint every short-syntax error ends with.
pub const PORT_SYNTAX: &str = "use [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]";

/// Why a port or port mapping was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// The text does not follow the short syntax at all.
    #[error("{0:?} is not a valid port mapping; {PORT_SYNTAX}")]
    Syntax(String),
    /// A port number is out of range.
    #[error("{0:?} is not a valid port; ports are 1-65535, ranges are START-END")]
    Port(String),
    /// A protocol other than tcp, udp or sctp.
    #[error("{0:?} is not a valid protocol; use tcp, udp or sctp")]
    Protocol(String),
    /// Host and container ranges of different widths.
    #[error(
        "{spec:?} maps {host} host ports to {container} container ports; use ranges of the same width, or a single container port"
    )]
    Width {
        /// The mapping as written.
        spec: String,
        /// Ports in the host range.
        host: u32,
        /// Ports in the container range.
        container: u32,
    },
}

/// An inclusive range of ports, `start..=end`, never empty and never port 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "PortText", into = "PortText")]
pub struct PortRange {
    start: u16,
    end: u16,
}

impl PortRange {
    /// A range from `start` to `end` inclusive; `None` when empty or including port 0.
    pub fn new(start: u16, end: u16) -> Option<Self> {
        (start != 0 && start <= end).then_some(PortRange { start, end })
    }

    /// A single port; `None` for port 0.
    pub fn single(port: u16) -> Option<Self> {
        Self::new(port, port)
    }

    /// The first port.
    pub fn start(&self) -> u16 {
        self.start
    }

    /// The last port.
    pub fn end(&self) -> u16 {
        self.end
    }

    /// How many ports the range holds.
    pub fn len(&self) -> u32 {
        u32::from(self.end) - u32::from(self.start) + 1
    }

    /// Always false: a range holds at least one port.
    pub fn is_empty(&self) -> bool {
        false
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

impl FromStr for PortRange {
    type Err = PortError;

    fn from_str(s: &str) -> Result<Self, PortError> {
        let bad = || PortError::Port(s.to_owned());
        let one = |p: &str| -> Result<u16, PortError> {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            p.parse().map_err(|_| bad())
        };
        let (start, end) = match s.split_once('-') {
            Some((a, b)) => (one(a)?, one(b)?),
            None => {
                let p = one(s)?;
                (p, p)
            }
        };
        PortRange::new(start, end).ok_or_else(bad)
    }
}

/// Ports serialize as compose writes them: a number, or a `START-END` string.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum PortText {
    Number(u16),
    Text(String),
}

impl From<PortRange> for PortText {
    fn from(r: PortRange) -> Self {
        if r.start == r.end {
            PortText::Number(r.start)
        } else {
            PortText::Text(r.to_string())
        }
    }
}

impl TryFrom<PortText> for PortRange {
    type Error = PortError;

    fn try_from(t: PortText) -> Result<Self, PortError> {
        match t {
            PortText::Number(n) => PortRange::single(n).ok_or(PortError::Port(n.to_string())),
            PortText::Text(s) => s.parse(),
        }
    }
}

/// The transport protocol of a port.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP, the default.
    #[default]
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

impl Protocol {
    /// True for TCP, which the short syntax leaves unwritten.
    pub fn is_tcp(&self) -> bool {
        *self == Protocol::Tcp
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        })
    }
}

impl FromStr for Protocol {
    type Err = PortError;

    fn from_str(s: &str) -> Result<Self, PortError> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Ok(Protocol::Tcp),
            "udp" => Ok(Protocol::Udp),
            "sctp" => Ok(Protocol::Sctp),
            _ => Err(PortError::Protocol(s.to_owned())),
        }
    }
}

/// How a port is published (a Swarm notion; outside Swarm both publish on the host).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PortMode {
    /// Publish on the host the container runs on.
    Host,
    /// Swarm's routing mesh; compose's default.
    Ingress,
}

/// One container port, optionally published on the host.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PortMapping {
    /// The port inside the container.
    pub target: u16,
    /// The host port, or a host range Docker picks one port from; `None` picks any port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<PortRange>,
    /// The host address to bind; `None` binds every address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<IpAddr>,
    /// The protocol, tcp by default.
    #[serde(default, skip_serializing_if = "Protocol::is_tcp")]
    pub protocol: Protocol,
    /// The publishing mode (long syntax only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<PortMode>,
    /// A human-readable name (long syntax only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The application protocol, e.g. `http` (long syntax only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<String>,
}

impl PortMapping {
    /// A container port that is not published.
    pub fn container(target: u16) -> Self {
        PortMapping {
            target,
            published: None,
            host_ip: None,
            protocol: Protocol::Tcp,
            mode: None,
            name: None,
            app_protocol: None,
        }
    }
}

/// The short syntax; `mode`, `name` and `app_protocol` have none and are left out.
impl fmt::Display for PortMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.host_ip {
            Some(IpAddr::V6(ip)) => write!(f, "[{ip}]:")?,
            Some(IpAddr::V4(ip)) => write!(f, "{ip}:")?,
            None => {}
        }
        match self.published {
            Some(p) => write!(f, "{p}:")?,
            None if self.host_ip.is_some() => f.write_str(":")?,
            None => {}
        }
        write!(f, "{}", self.target)?;
        if !self.protocol.is_tcp() {
            write!(f, "/{}", self.protocol)?;
        }
        Ok(())
    }
}

/// Parses one short-syntax entry into the mappings it stands for: a container range
/// expands into one mapping per port (paired one to one with an equal-width host range);
/// a single container port with a host range keeps the range for Docker to pick from.
pub fn parse_port_mappings(spec: &str) -> Result<Vec<PortMapping>, PortError> {
    let syntax = || PortError::Syntax(spec.to_owned());
    let (rest, protocol) = match spec.rsplit_once('/') {
        Some((rest, proto)) => (rest, proto.parse::<Protocol>()?),
        None => (spec, Protocol::Tcp),
    };
    let (ip, host, container) = if let Some(bracketed) = rest.strip_prefix('[') {
        let (ip, after) = bracketed.split_once(']').ok_or_else(syntax)?;
        let after = after.strip_prefix(':').ok_or_else(syntax)?;
        let (host, container) = after.split_once(':').ok_or_else(syntax)?;
        let ip = ip.parse::<std::net::Ipv6Addr>().map_err(|_| syntax())?;
        (Some(IpAddr::V6(ip)), host, container)
    } else {
        let mut parts = rest.rsplitn(3, ':');
        let container = parts.next().unwrap_or_default();
        let host = parts.next();
        let ip = parts.next();
        match (ip, host) {
            (Some(ip), Some(host)) => {
                let ip = ip.parse::<IpAddr>().map_err(|_| syntax())?;
                (Some(ip), host, container)
            }
            (None, Some("")) => return Err(syntax()),
            (None, Some(host)) => (None, host, container),
            _ => (None, "", container),
        }
    };
    let digits_or_range =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'-');
    if !digits_or_range(container) || !(host.is_empty() || digits_or_range(host)) {
        return Err(syntax());
    }
    let container: PortRange = container.parse()?;
    let host: Option<PortRange> = if host.is_empty() {
        None
    } else {
        Some(host.parse()?)
    };
    let mapping = |target: u16, published: Option<PortRange>| PortMapping {
        target,
        published,
        host_ip: ip,
        protocol,
        ..PortMapping::container(target)
    };
    match host {
        Some(h) if container.len() == 1 => Ok(vec![mapping(container.start, Some(h))]),
        Some(h) if h.len() == container.len() => Ok((container.start..=container.end)
            .zip(h.start..=h.end)
            .map(|(c, p)| mapping(c, PortRange::single(p)))
            .collect()),
        Some(h) => Err(PortError::Width {
            spec: spec.to_owned(),
            host: h.len(),
            container: container.len(),
        }),
        None => Ok((container.start..=container.end)
            .map(|c| mapping(c, None))
            .collect()),
    }
}

/// A port the container exposes to other containers without publishing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ExposedPort {
    /// The port or range.
    pub ports: PortRange,
    /// The protocol.
    pub protocol: Protocol,
}

impl FromStr for ExposedPort {
    type Err = PortError;

    fn from_str(s: &str) -> Result<Self, PortError> {
        let (ports, protocol) = match s.rsplit_once('/') {
            Some((p, proto)) => (p, proto.parse()?),
            None => (s, Protocol::Tcp),
        };
        Ok(ExposedPort {
            ports: ports.parse()?,
            protocol,
        })
    }
}

impl fmt::Display for ExposedPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.ports, self.protocol)
    }
}

impl TryFrom<String> for ExposedPort {
    type Error = PortError;

    fn try_from(s: String) -> Result<Self, PortError> {
        s.parse()
    }
}

impl From<ExposedPort> for String {
    fn from(p: ExposedPort) -> String {
        p.to_string()
    }
}
