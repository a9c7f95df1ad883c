//! `ProviderConfig`, `ClusterProviderConfig` and `ProviderConfigUsage`: how to reach one
//! Docker daemon, and which managed resources use it.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Condition, ProviderConfigReference};

/// How to reach one Docker daemon. Shared by `ProviderConfig` and `ClusterProviderConfig`.
#[derive(KubeSchema, Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DaemonConfig {
    /// Address of the daemon: `unix:///var/run/docker.sock` or `tcp://host:2375`.
    #[x_kube(validation = kube::core::Rule::new("self.startsWith('unix:///') || self.startsWith('tcp://')").message("host must be unix:///path/to/docker.sock or tcp://host:port"))]
    pub host: String,
    /// Accept a plain `tcp://` daemon: no encryption, no authentication. Without it a plain
    /// TCP host is refused.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
    /// Docker API version to speak, e.g. `1.41`. Default: the daemon's own (negotiated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = kube::core::Rule::new("self.matches('^1\\\\.[0-9]{1,2}$')").message("apiVersion must look like 1.41"))]
    #[schemars(length(max = 8))]
    pub api_version: Option<String>,
    /// Time limit for one Docker API call, e.g. `30s` (default). Image pulls get ten times as long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = kube::core::Rule::new("self.matches('^([0-9]+(\\\\.[0-9]+)?(ms|s|m|h))+$')").message("timeout must be a duration such as 10s or 1m"))]
    pub timeout: Option<String>,
    /// At most this many Docker operations at once on this daemon. Default: the
    /// controller's `--max-concurrent-operations` flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1024))]
    pub max_concurrent_operations: Option<u32>,
    /// What the managed resources using this config may do on the daemon host. A
    /// privileged container, a host namespace or a bind mount is root on that host, so
    /// everything here is refused unless allowed.
    #[serde(default)]
    pub policy: TenancyPolicy,
}

/// What resources using a config may do on the daemon host; everything defaults to no.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TenancyPolicy {
    /// Allow `security.privileged: true`.
    #[serde(default)]
    pub allow_privileged: bool,
    /// Allow `networkMode: host`.
    #[serde(default)]
    pub allow_host_network: bool,
    /// Allow `pidMode: host`.
    #[serde(default, rename = "allowHostPID")]
    pub allow_host_pid: bool,
    /// Allow `ipcMode: host`.
    #[serde(default, rename = "allowHostIPC")]
    pub allow_host_ipc: bool,
    /// Host path prefixes bind mounts and bind-device volumes may use, e.g. `/srv/apps/`.
    /// Empty: no host paths.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub allowed_host_paths: Vec<String>,
    /// Capabilities containers may add, e.g. `NET_BIND_SERVICE`; `ALL` allows any.
    /// Dropping is always allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub allowed_capabilities: Vec<String>,
    /// Allow host devices and device requests (GPUs).
    #[serde(default)]
    pub allow_devices: bool,
}

/// What provider-docker last learned from the daemon.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DaemonInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<i64>,
    /// Last time the daemon answered (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_contact: Option<String>,
}

/// Observed state of a provider config.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ProviderConfigStatus {
    /// `Ready`: whether the daemon answers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
    /// How many managed resources use this config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<i64>,
    /// What the daemon said about itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daemon: Option<DaemonInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// How to reach a Docker daemon, usable by managed resources in this namespace.
#[derive(CustomResource, KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq)]
#[kube(
    group = "docker.m.crossplane.io",
    version = "v1alpha1",
    kind = "ProviderConfig",
    namespaced,
    status = "ProviderConfigStatus",
    category = "crossplane",
    category = "provider",
    category = "docker",
    printcolumn = r#"{"name":"READY","type":"string","jsonPath":".status.conditions[?(@.type=='Ready')].status"}"#,
    printcolumn = r#"{"name":"HOST","type":"string","jsonPath":".spec.host"}"#,
    printcolumn = r#"{"name":"USERS","type":"integer","jsonPath":".status.users"}"#,
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ProviderConfigSpec {
    #[serde(flatten)]
    pub daemon: DaemonConfig,
}

/// How to reach a Docker daemon, usable by managed resources in every namespace.
#[derive(CustomResource, KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq)]
#[kube(
    group = "docker.m.crossplane.io",
    version = "v1alpha1",
    kind = "ClusterProviderConfig",
    status = "ProviderConfigStatus",
    category = "crossplane",
    category = "provider",
    category = "docker",
    printcolumn = r#"{"name":"READY","type":"string","jsonPath":".status.conditions[?(@.type=='Ready')].status"}"#,
    printcolumn = r#"{"name":"HOST","type":"string","jsonPath":".spec.host"}"#,
    printcolumn = r#"{"name":"USERS","type":"integer","jsonPath":".status.users"}"#,
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ClusterProviderConfigSpec {
    #[serde(flatten)]
    pub daemon: DaemonConfig,
    /// Namespaces whose resources may use this config. Empty: every namespace.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 256))]
    pub allowed_namespaces: Vec<String>,
}

/// The managed resource a usage records.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ResourceReference {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

/// Records that a managed resource uses a provider config; owned by that resource, so it
/// goes away with it. A config with usages cannot be deleted.
#[derive(CustomResource, Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[kube(
    group = "docker.m.crossplane.io",
    version = "v1alpha1",
    kind = "ProviderConfigUsage",
    namespaced,
    category = "crossplane",
    category = "provider",
    printcolumn = r#"{"name":"CONFIG-KIND","type":"string","jsonPath":".spec.providerConfigRef.kind"}"#,
    printcolumn = r#"{"name":"CONFIG-NAME","type":"string","jsonPath":".spec.providerConfigRef.name"}"#,
    printcolumn = r#"{"name":"RESOURCE-KIND","type":"string","jsonPath":".spec.resourceRef.kind"}"#,
    printcolumn = r#"{"name":"RESOURCE-NAME","type":"string","jsonPath":".spec.resourceRef.name"}"#,
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ProviderConfigUsageSpec {
    /// The config in use.
    pub provider_config_ref: ProviderConfigReference,
    /// The managed resource using it.
    pub resource_ref: ResourceReference,
}

/// The label on a usage naming its config, for counting users with one list call.
pub const LABEL_USAGE_CONFIG: &str = "docker.m.crossplane.io/provider-config";
