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
    /// Address of the daemon: `unix:///var/run/docker.sock`, `tcp://host:2376` (with `tls`,
    /// or plain with `insecure: true`) or `ssh://user@host[:port]` (with `ssh`).
    #[x_kube(validation = kube::core::Rule::new("self.startsWith('unix:///') || self.startsWith('tcp://') || self.startsWith('ssh://')").message("host must be unix:///path/to/docker.sock, tcp://host:port or ssh://user@host[:port]"))]
    #[schemars(length(max = 512))]
    pub host: String,
    /// Accept a plain `tcp://` daemon: no encryption, no authentication. Without it a plain
    /// TCP host is refused. Status says so while it is set.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
    /// Mutual TLS for a `tcp://` host: the daemon's certificate is verified against the CA
    /// and the client certificate is presented to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsConfig>,
    /// Key and known host keys for an `ssh://` host. The remote user must be able to run
    /// `docker system dial-stdio`, as the docker CLI does over SSH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<SshConfig>,
    /// Registry credentials (`kubernetes.io/dockerconfigjson` Secrets) for every resource
    /// using this config. A resource's own `imagePullSecrets` come first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub image_pull_secrets: Vec<SecretReference>,
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

impl DaemonConfig {
    /// Every Secret the config reads: TLS, SSH and registry credentials.
    pub fn secret_refs(&self) -> impl Iterator<Item = &SecretReference> {
        let tls = self.tls.as_ref().map(|t| &t.secret_ref);
        let ssh = self.ssh.as_ref().map(|s| &s.secret_ref);
        tls.into_iter()
            .chain(ssh)
            .chain(self.image_pull_secrets.iter())
    }

    /// Whether the config reads Secret `namespace/name`; `own` is the config's namespace.
    pub fn reads_secret(&self, own: Option<&str>, namespace: &str, name: &str) -> bool {
        self.secret_refs()
            .any(|r| r.name == name && r.namespace.as_deref().or(own) == Some(namespace))
    }
}

/// A Secret holding credentials for a provider config.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SecretReference {
    /// Name of the Secret.
    #[schemars(length(max = 253))]
    pub name: String,
    /// Namespace of the Secret. Required on a ClusterProviderConfig; a ProviderConfig only
    /// reads Secrets of its own namespace, so leave it empty there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 63))]
    pub namespace: Option<String>,
}

/// Mutual TLS to a `tcp://` daemon.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TlsConfig {
    /// Secret with the CA certificate, the client certificate and its key, under the
    /// `kubernetes.io/tls` keys (`ca.crt`, `tls.crt`, `tls.key`) or Docker's (`ca.pem`,
    /// `cert.pem`, `key.pem`), all PEM. Without a CA the system's trusted roots verify the
    /// daemon. Changes are picked up without a restart.
    pub secret_ref: SecretReference,
    /// Name the daemon's certificate must be valid for. Default: the host part of
    /// `spec.host`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253))]
    pub server_name: Option<String>,
    /// Do not verify the daemon's certificate: traffic is encrypted, but anyone on the path
    /// can impersonate the daemon. Default false; status says so while it is set.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure_skip_verify: bool,
}

/// SSH to a daemon host.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SshConfig {
    /// Secret with the private key under `ssh-privatekey` (as in `kubernetes.io/ssh-auth`;
    /// OpenSSH or PEM format, unencrypted) and the host's public keys under `known_hosts`
    /// (OpenSSH format, plain or hashed names, `[host]:port` for other ports than 22). The
    /// host key is always checked. Changes are picked up without a restart.
    pub secret_ref: SecretReference,
    /// The daemon's socket on the remote host. Default: the remote docker CLI's default
    /// (usually `/var/run/docker.sock`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = kube::core::Rule::new("self.matches('^/[A-Za-z0-9._/-]+$')").message("remoteSocket must be an absolute path of letters, digits, '.', '_', '-' and '/'"))]
    #[schemars(length(max = 256))]
    pub remote_socket: Option<String>,
}

/// What resources using a config may do on the daemon host; everything defaults to no.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
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
    #[x_kube(validation = kube::core::Rule::new("self.all(p, p.startsWith('/'))").message("policy.allowedHostPaths must be absolute host paths such as /srv/apps/"))]
    pub allowed_host_paths: Vec<String>,
    /// Capabilities containers may add, e.g. `NET_BIND_SERVICE`; `ALL` allows any.
    /// Dropping is always allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub allowed_capabilities: Vec<String>,
    /// Allow host devices and device requests (GPUs).
    #[serde(default)]
    pub allow_devices: bool,
    /// Allow adopting, through `crossplane.io/external-name`, containers, networks and
    /// volumes made outside provider-docker: the resource may then change, recreate or
    /// remove them. Objects made for this namespace can always be adopted, another
    /// namespace's never.
    #[serde(default)]
    pub allow_adoption: bool,
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
