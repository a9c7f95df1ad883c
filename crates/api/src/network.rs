//! `Network`: one Docker network on one daemon.

use std::collections::BTreeMap;

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{ManagedSpec, ManagedStatus};

/// A Docker network, created, kept and removed by provider-docker.
#[derive(CustomResource, KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq)]
#[kube(
    group = "docker.m.crossplane.io",
    version = "v1alpha1",
    kind = "Network",
    namespaced,
    status = "NetworkStatus",
    shortname = "dnet",
    category = "crossplane",
    category = "managed",
    category = "docker",
    printcolumn = r#"{"name":"READY","type":"string","jsonPath":".status.conditions[?(@.type=='Ready')].status"}"#,
    printcolumn = r#"{"name":"SYNCED","type":"string","jsonPath":".status.conditions[?(@.type=='Synced')].status"}"#,
    printcolumn = r#"{"name":"DRIVER","type":"string","jsonPath":".status.atProvider.driver"}"#,
    printcolumn = r#"{"name":"SUBNET","type":"string","jsonPath":".status.atProvider.subnets[0].subnet"}"#,
    printcolumn = r#"{"name":"EXTERNAL-NAME","type":"string","priority":1,"jsonPath":".metadata.annotations.crossplane\\.io/external-name"}"#,
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct NetworkSpec {
    /// The network as it should be.
    #[serde(default)]
    pub for_provider: NetworkParameters,
    #[serde(flatten)]
    pub managed: ManagedSpec,
}

/// One address pool of a network.
#[derive(KubeSchema, Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct IpamConfig {
    /// CIDR, IPv4 or IPv6: `172.28.0.0/16`, `fd00:28::/64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = kube::core::Rule::new("isCIDR(self)").message("subnet must be a CIDR such as 172.28.0.0/16 or fd00:28::/64"))]
    #[schemars(length(max = 64))]
    pub subnet: Option<String>,
    /// Sub-range containers get addresses from, inside `subnet`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = kube::core::Rule::new("isCIDR(self)").message("ipRange must be a CIDR inside the subnet"))]
    #[schemars(length(max = 64))]
    pub ip_range: Option<String>,
    /// Gateway address, inside `subnet`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = kube::core::Rule::new("isIP(self)").message("gateway must be an IP address inside the subnet"))]
    #[schemars(length(max = 45))]
    pub gateway: Option<String>,
    /// Addresses the IPAM driver must not hand out, by host name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("maxProperties" = 64))]
    pub auxiliary_addresses: BTreeMap<String, String>,
}

/// Address management of a network.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Ipam {
    /// IPAM driver; `default` when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Address pools. Empty: Docker picks one, and provider-docker writes it here
    /// (late initialization) so a recreated network keeps its addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub config: Vec<IpamConfig>,
    /// IPAM driver options.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// The network as it should be on the daemon. Docker changes nothing of a network in
/// place: a change recreates it, which is refused while containers use it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NetworkParameters {
    /// `bridge` (default), `macvlan`, `ipvlan`, or `overlay` on a swarm manager.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Address pools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipam: Option<Ipam>,
    /// Give containers IPv6 addresses too (needs an IPv6 pool in `ipam.config`).
    #[serde(
        default,
        rename = "enableIPv6",
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_ipv6: Option<bool>,
    /// No route to the outside world.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal: Option<bool>,
    /// Standalone containers may attach to an overlay network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachable: Option<bool>,
    /// Driver options, e.g. `com.docker.network.bridge.name: br-app`, or `parent: eth0`
    /// for macvlan.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
    /// Labels on the Docker network (keys under `docker.m.crossplane.io/` are reserved).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// An address pool in effect.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SubnetStatus {
    pub subnet: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
}

/// What the daemon reports about the network.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct NetworkObservation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// `local`, `global` or `swarm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The address pools in effect.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnets: Vec<SubnetStatus>,
    /// Names of the containers attached.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<String>,
}

/// Observed state of a Network.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NetworkStatus {
    #[serde(flatten)]
    pub managed: ManagedStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_provider: Option<NetworkObservation>,
}

crate::impl_managed!(Network, NetworkStatus, NetworkObservation);
