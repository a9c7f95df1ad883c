//! Networks: the top-level definitions, how a service attaches to each, and the
//! `network_mode` alternatives to attaching.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

fn is_false(b: &bool) -> bool {
    !*b
}

/// A top-level network.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Network {
    /// The Docker name, when it is not derived from the project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The driver, `bridge` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Driver options.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub driver_opts: BTreeMap<String, String>,
    /// Address management.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipam: Option<Ipam>,
    /// The network exists already and is not created or removed.
    #[serde(default, skip_serializing_if = "is_false")]
    pub external: bool,
    /// No access to the outside world.
    #[serde(default, skip_serializing_if = "is_false")]
    pub internal: bool,
    /// Enable IPv4 addressing (Docker's default when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_ipv4: Option<bool>,
    /// Enable IPv6 addressing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_ipv6: Option<bool>,
    /// Let standalone containers attach (a Swarm notion).
    #[serde(default, skip_serializing_if = "is_false")]
    pub attachable: bool,
    /// Labels on the network.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// IP address management of a network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ipam {
    /// The IPAM driver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Address pools.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<IpamPool>,
    /// Driver options.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// One address pool.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpamPool {
    /// Subnet in CIDR notation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet: Option<String>,
    /// Range to allocate container addresses from, in CIDR notation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_range: Option<String>,
    /// Gateway address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    /// Addresses the driver must not hand out, by host name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub aux_addresses: BTreeMap<String, String>,
}

/// How a service attaches to one network.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceNetwork {
    /// Extra DNS names of the service on this network (the service name is always one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// A fixed IPv4 address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4_address: Option<Ipv4Addr>,
    /// A fixed IPv6 address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_address: Option<Ipv6Addr>,
    /// Link-local addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub link_local_ips: Vec<String>,
    /// A fixed MAC address on this network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac_address: Option<String>,
    /// The interface name inside the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface_name: Option<String>,
    /// Driver options of the endpoint.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub driver_opts: BTreeMap<String, String>,
    /// Connection order: higher priorities are connected first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    /// Which network provides the default gateway: the highest wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gw_priority: Option<i64>,
}

/// `network_mode`: the container's network stack instead of project networks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum NetworkMode {
    /// Docker's default bridge.
    Bridge,
    /// The host's network stack.
    Host,
    /// No networking.
    None,
    /// The stack of another service's container (`service:NAME`).
    Service(String),
    /// The stack of a container outside the project (`container:NAME`).
    Container(String),
    /// Any other mode, passed to Docker as written (e.g. a network name).
    Other(String),
}

impl From<String> for NetworkMode {
    fn from(s: String) -> Self {
        if let Some(name) = s.strip_prefix("service:") {
            return NetworkMode::Service(name.to_owned());
        }
        if let Some(name) = s.strip_prefix("container:") {
            return NetworkMode::Container(name.to_owned());
        }
        match s.as_str() {
            "bridge" => NetworkMode::Bridge,
            "host" => NetworkMode::Host,
            "none" => NetworkMode::None,
            _ => NetworkMode::Other(s),
        }
    }
}

impl fmt::Display for NetworkMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetworkMode::Bridge => f.write_str("bridge"),
            NetworkMode::Host => f.write_str("host"),
            NetworkMode::None => f.write_str("none"),
            NetworkMode::Service(name) => write!(f, "service:{name}"),
            NetworkMode::Container(name) => write!(f, "container:{name}"),
            NetworkMode::Other(s) => f.write_str(s),
        }
    }
}

impl From<NetworkMode> for String {
    fn from(m: NetworkMode) -> String {
        m.to_string()
    }
}
