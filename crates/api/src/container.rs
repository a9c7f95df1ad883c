//! `Container`: one Docker container on one daemon.

use std::collections::BTreeMap;

/// Ports and sizes are written as a number or a string; re-exported for the engine.
pub use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{KeySelector, LocalSecretReference, ManagedSpec, ManagedStatus};

mod runtime;
pub use runtime::{Capabilities, Device, DeviceRequest, HealthCheck, Logging, Resources, Security};

/// A Docker container, created, kept as declared and removed by provider-docker.
#[derive(CustomResource, KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq)]
#[kube(
    group = "docker.m.crossplane.io",
    version = "v1alpha1",
    kind = "Container",
    namespaced,
    status = "ContainerStatus",
    shortname = "dctr",
    category = "crossplane",
    category = "managed",
    category = "docker",
    printcolumn = r#"{"name":"READY","type":"string","jsonPath":".status.conditions[?(@.type=='Ready')].status"}"#,
    printcolumn = r#"{"name":"SYNCED","type":"string","jsonPath":".status.conditions[?(@.type=='Synced')].status"}"#,
    printcolumn = r#"{"name":"STATE","type":"string","jsonPath":".status.atProvider.state"}"#,
    printcolumn = r#"{"name":"IMAGE","type":"string","jsonPath":".spec.forProvider.image"}"#,
    printcolumn = r#"{"name":"EXTERNAL-NAME","type":"string","priority":1,"jsonPath":".metadata.annotations.crossplane\\.io/external-name"}"#,
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ContainerSpec {
    /// The container as it should be.
    pub for_provider: ContainerParameters,
    #[serde(flatten)]
    pub managed: ManagedSpec,
}

/// When to pull the image.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
pub enum PullPolicy {
    /// Pull on every create, and recreate when the tag moves to a new image.
    Always,
    /// Pull only when the daemon does not have the image (default).
    #[default]
    IfNotPresent,
    /// Never pull: the image must already be on the daemon.
    Never,
}

/// Docker's restart policies.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
pub enum RestartPolicy {
    /// Never restart; the container runs to completion.
    #[serde(rename = "no")]
    No,
    /// Always restart (default, as in Kubernetes).
    #[default]
    #[serde(rename = "always")]
    Always,
    /// Restart when the process exits non-zero, up to `restartMaxRetries` times.
    #[serde(rename = "on-failure")]
    OnFailure,
    /// Restart unless someone stopped the container.
    #[serde(rename = "unless-stopped")]
    UnlessStopped,
}

/// Whether the container's process should run.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
pub enum DesiredState {
    #[default]
    Running,
    Stopped,
    Paused,
}

/// `tcp`, `udp` or `sctp`.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    #[default]
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Udp => "udp",
            Self::Sctp => "sctp",
        }
    }
}

/// Schema of a port or port range: a number, or a string of at most `10000-10019`'s length.
fn port_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "x-kubernetes-int-or-string": true,
        "anyOf": [{"type": "integer"}, {"type": "string"}],
        "maxLength": 11
    })
}

/// Schema of a size: a number of bytes, or a string such as `256Mi`.
fn size_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "x-kubernetes-int-or-string": true,
        "anyOf": [{"type": "integer"}, {"type": "string"}],
        "maxLength": 24
    })
}

/// Whether a port value is one port (1-65535) or a range `A-B`.
const PORT_RULE: &str = "type(self) == int ? (self >= 1 && self <= 65535) : (self.matches('^[0-9]{1,5}(-[0-9]{1,5})?$') && int(self.split('-')[0]) >= 1 && int(self.split('-')[self.split('-').size() - 1]) <= 65535 && int(self.split('-')[0]) <= int(self.split('-')[self.split('-').size() - 1]))";

/// A port published from the container to the daemon host.
#[derive(KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new(
    "!has(self.hostPort) || (type(self.containerPort) == int || !string(self.containerPort).contains('-') ? 0 : int(string(self.containerPort).split('-')[1]) - int(string(self.containerPort).split('-')[0])) == 0 || (type(self.containerPort) == int || !string(self.containerPort).contains('-') ? 0 : int(string(self.containerPort).split('-')[1]) - int(string(self.containerPort).split('-')[0])) == (type(self.hostPort) == int || !string(self.hostPort).contains('-') ? 0 : int(string(self.hostPort).split('-')[1]) - int(string(self.hostPort).split('-')[0]))"
).message("hostPort must be a range exactly as wide as the containerPort range; with a single containerPort, a hostPort range lets Docker pick one free port from it"))]
pub struct PortSpec {
    /// Port or range inside the container: `8080` or `10000-10019`.
    #[x_kube(validation = kube::core::Rule::new(PORT_RULE).message("containerPort must be a port from 1 to 65535 or a range such as 10000-10019"))]
    #[schemars(schema_with = "port_schema")]
    pub container_port: IntOrString,
    /// Port or range on the daemon host. Empty: Docker picks a free port (see
    /// `status.atProvider.ports`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = kube::core::Rule::new(PORT_RULE).message("hostPort must be a port from 1 to 65535 or a range such as 10000-10019"))]
    #[schemars(schema_with = "port_schema")]
    pub host_port: Option<IntOrString>,
    /// `tcp` (default), `udp` or `sctp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// Host address to bind, IPv4 or IPv6. Empty: every address.
    #[serde(default, rename = "hostIP", skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = kube::core::Rule::new("isIP(self)").message("hostIP must be an IPv4 or IPv6 address such as 127.0.0.1 or ::1"))]
    #[schemars(length(max = 45))]
    pub host_ip: Option<String>,
}

/// Where an environment variable's value comes from.
#[derive(KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new("has(self.secretKeyRef) != has(self.configMapKeyRef)").message("valueFrom needs exactly one of secretKeyRef or configMapKeyRef"))]
pub struct EnvVarSource {
    /// A key of a Secret in this namespace. The value never appears in status or logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_ref: Option<KeySelector>,
    /// A key of a ConfigMap in this namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_key_ref: Option<KeySelector>,
}

/// One environment variable.
#[derive(KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new("!(has(self.value) && has(self.valueFrom))").message("set either value or valueFrom, not both"))]
pub struct EnvVar {
    /// Variable name.
    #[x_kube(validation = kube::core::Rule::new("self != '' && !self.contains('=')").message("env name must be non-empty and must not contain '='"))]
    #[schemars(length(max = 256))]
    pub name: String,
    /// Literal value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Value from a Secret or ConfigMap key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_from: Option<EnvVarSource>,
}

/// A named Docker volume to mount: exactly one of `name`, `volumeRef`, `volumeSelector`.
#[derive(KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new("[has(self.name), has(self.volumeRef), has(self.volumeSelector)].filter(x, x).size() == 1").message("a volume mount needs exactly one of name, volumeRef or volumeSelector"))]
pub struct VolumeSource {
    /// Docker volume name; Docker creates a plain local volume if it is missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A `Volume` resource in this namespace; the container waits until it is Ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_ref: Option<LocalReference>,
    /// The one `Volume` in this namespace with these labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_selector: Option<Selector>,
}

/// A resource of another kind in the same namespace, by name.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
pub struct LocalReference {
    pub name: String,
}

/// Picks one resource in the same namespace by its labels.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
pub struct Selector {
    /// Labels the resource must carry; exactly one resource may match.
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
}

/// A network the container is attached to: exactly one of `name`, `networkRef`,
/// `networkSelector`.
#[derive(KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new("[has(self.name), has(self.networkRef), has(self.networkSelector)].filter(x, x).size() == 1").message("a network attachment needs exactly one of name, networkRef or networkSelector"))]
pub struct NetworkAttachment {
    /// Docker network name (an existing network not managed here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = kube::core::Rule::new("self.matches('^[a-zA-Z0-9][a-zA-Z0-9_.-]*$')").message("networks[].name must be a Docker network name (letters, digits, '_', '.', '-'); to join another container's network, use networkMode: container:<name>"))]
    #[schemars(length(max = 128))]
    pub name: Option<String>,
    /// A `Network` resource in this namespace; the container waits until it is Ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_ref: Option<LocalReference>,
    /// The one `Network` in this namespace with these labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_selector: Option<Selector>,
    /// Other names the container answers to on this network.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32))]
    pub aliases: Vec<String>,
    /// A fixed IPv4 address inside the network's subnet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = kube::core::Rule::new("isIP(self) && ip(self).family() == 4").message("ipv4Address must be an IPv4 address"))]
    #[schemars(length(max = 15))]
    pub ipv4_address: Option<String>,
    /// A fixed IPv6 address inside the network's IPv6 subnet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = kube::core::Rule::new("isIP(self) && ip(self).family() == 6").message("ipv6Address must be an IPv6 address"))]
    #[schemars(length(max = 45))]
    pub ipv6_address: Option<String>,
}

/// A directory or file of the daemon host to mount.
#[derive(KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HostPathSource {
    /// Absolute path on the daemon host.
    #[x_kube(validation = kube::core::Rule::new("self.startsWith('/')").message("hostPath.path must be an absolute path on the daemon host"))]
    #[schemars(length(max = 4096))]
    pub path: String,
}

/// An in-memory filesystem.
#[derive(KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TmpfsSource {
    /// Size limit: `64Mi`, `1g`. Empty: half the host's memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = kube::core::Rule::new(SIZE_RULE).message(SIZE_MESSAGE))]
    #[schemars(schema_with = "size_schema")]
    pub size: Option<IntOrString>,
    /// Permission bits as a decimal number (`1023` for `01777`, `493` for `0755`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 4095))]
    pub mode: Option<i64>,
}

const SIZE_RULE: &str = "type(self) == int ? self >= 0 : self.matches('^[0-9]+(\\\\.[0-9]+)?(b|B|k|K|kb|KB|M|MB|G|GB|T|TB|Ki|Mi|Gi|Ti|m|mb|g|gb|t|tb)?$')";
const SIZE_MESSAGE: &str = "must be a size such as 256Mi, 1Gi, 512m or a number of bytes";

/// A filesystem mounted into the container: exactly one of `volume`, `hostPath`, `tmpfs`.
#[derive(KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new("[has(self.volume), has(self.hostPath), has(self.tmpfs)].filter(x, x).size() == 1").message("a mount needs exactly one of volume, hostPath or tmpfs"))]
pub struct Mount {
    /// Absolute path inside the container.
    #[x_kube(validation = kube::core::Rule::new("self.startsWith('/')").message("mountPath must be an absolute path inside the container"))]
    #[schemars(length(max = 4096))]
    pub mount_path: String,
    /// Mount read-only. Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    /// A named Docker volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<VolumeSource>,
    /// A bind mount of a daemon host path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_path: Option<HostPathSource>,
    /// An in-memory filesystem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tmpfs: Option<TmpfsSource>,
}

/// A file written into the container before it starts.
#[derive(KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new("[has(self.content), has(self.secretKeyRef), has(self.configMapKeyRef)].filter(x, x).size() == 1").message("a file needs exactly one of content, secretKeyRef or configMapKeyRef"))]
pub struct FileSpec {
    /// Absolute path of the file inside the container.
    #[x_kube(validation = kube::core::Rule::new("self.startsWith('/') && !self.endsWith('/')").message("files[].path must be an absolute file path inside the container"))]
    #[schemars(length(max = 4096))]
    pub path: String,
    /// Permission bits as a decimal number (`420` for `0644`, the default; `384` for `0600`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 4095))]
    pub mode: Option<i64>,
    /// Literal content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Content from a Secret key in this namespace. Never shown in status or logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_ref: Option<KeySelector>,
    /// Content from a ConfigMap key in this namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_key_ref: Option<KeySelector>,
}

const DURATION_RULE: &str = "self.matches('^([0-9]+(\\\\.[0-9]+)?(ns|us|ms|s|m|h))+$')";
const DURATION_MESSAGE: &str = "must be a duration such as 500ms, 30s or 1m30s";

/// The PID modes Docker accepts; `container:` takes a name as Docker allows it, or an ID.
const PID_MODE_RULE: &str =
    "self == '' || self == 'host' || self.matches('^container:[a-zA-Z0-9][a-zA-Z0-9_.-]+$')";
/// The IPC modes Docker accepts.
const IPC_MODE_RULE: &str = "self in ['', 'host', 'private', 'shareable', 'none'] || self.matches('^container:[a-zA-Z0-9][a-zA-Z0-9_.-]+$')";

/// The container as it should be on the daemon.
#[derive(KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = kube::core::Rule::new("!has(self.restartMaxRetries) || (has(self.restartPolicy) && self.restartPolicy == 'on-failure')").message("restartMaxRetries only applies with restartPolicy on-failure"))]
#[x_kube(validation = kube::core::Rule::new("!has(self.files) || size(self.files) == 0 || !has(self.security) || !has(self.security.readOnlyRootFilesystem) || !self.security.readOnlyRootFilesystem").message("files cannot be written into a container with security.readOnlyRootFilesystem; mount a volume or tmpfs at the files' directory and drop readOnlyRootFilesystem, or deliver the files through a volume"))]
#[x_kube(validation = kube::core::Rule::new("!has(self.networks) || size(self.networks) == 0 || !has(self.networkMode)").message("set networkMode or networks, not both"))]
pub struct ContainerParameters {
    /// Image reference, e.g. `nginx:1.27` or `registry.example.com/app@sha256:...`.
    #[x_kube(validation = kube::core::Rule::new("self != '' && !self.contains(' ')").message("image must be a non-empty image reference without spaces"))]
    #[schemars(length(max = 512))]
    pub image: String,
    /// `Always`, `IfNotPresent` (default) or `Never`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_policy: Option<PullPolicy>,
    /// Registry credentials: `kubernetes.io/dockerconfigjson` Secrets in this namespace,
    /// tried before the provider config's own. Changing them never recreates the container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub image_pull_secrets: Vec<LocalSecretReference>,
    /// Replaces the image's ENTRYPOINT (as in Kubernetes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Replaces the image's CMD (as in Kubernetes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// Environment variables, added to the image's own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 512))]
    pub env: Vec<EnvVar>,
    /// Ports published on the daemon host.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 128))]
    pub ports: Vec<PortSpec>,
    /// Volumes, host paths and tmpfs mounted into the container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub mounts: Vec<Mount>,
    /// Files written into the container before it starts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub files: Vec<FileSpec>,
    /// `always` (default), `no` (run to completion), `on-failure` or `unless-stopped`.
    /// Changed in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<RestartPolicy>,
    /// With `on-failure`: restarts Docker tries before giving up. Default unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub restart_max_retries: Option<i64>,
    /// `Running` (default), `Stopped` or `Paused`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<DesiredState>,
    /// Health check; replaces the image's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheck>,
    /// CPU, memory and process limits. Changed in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    /// User, capabilities, security options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<Security>,
    /// `bridge` (default), `host`, `none` or `container:<name>`. For user networks use
    /// `networks`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_mode: Option<String>,
    /// Networks to attach to; the first is the primary one. A change recreates the
    /// container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub networks: Vec<NetworkAttachment>,
    /// PID namespace: `host`, `container:<name>` (share another container's), or empty
    /// for a private one (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = kube::core::Rule::new(PID_MODE_RULE).message("pidMode must be host, container:<name or ID> or empty (a private PID namespace)"))]
    #[schemars(length(max = 256))]
    pub pid_mode: Option<String>,
    /// IPC namespace: `private`, `shareable` (others may join it), `none`, `host` or
    /// `container:<name>`. Empty: the daemon's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = kube::core::Rule::new(IPC_MODE_RULE).message("ipcMode must be private, shareable, none, host, container:<name or ID> or empty"))]
    #[schemars(length(max = 256))]
    pub ipc_mode: Option<String>,
    /// Host devices available inside the container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub devices: Vec<Device>,
    /// Device requests such as GPUs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub device_requests: Vec<DeviceRequest>,
    /// Host name inside the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Working directory; replaces the image's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// Labels on the Docker container (keys under `docker.m.crossplane.io/` are reserved).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("maxProperties" = 256))]
    #[x_kube(validation = kube::core::Rule::new("self.all(k, !k.startsWith('docker.m.crossplane.io/'))").message("labels under docker.m.crossplane.io/ are reserved for provider-docker"))]
    pub labels: BTreeMap<String, String>,
    /// Log driver and options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging: Option<Logging>,
    /// Signal that stops the container, e.g. `SIGTERM` (default) or `SIGQUIT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    /// Time between the stop signal and SIGKILL, e.g. `10s` (default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = kube::core::Rule::new(DURATION_RULE).message(DURATION_MESSAGE))]
    #[schemars(length(max = 32))]
    pub stop_grace_period: Option<String>,
    /// Extra `/etc/hosts` entries as `host:ip`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub extra_hosts: Vec<String>,
    /// DNS servers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 8))]
    pub dns: Vec<String>,
}

/// A published port as Docker reports it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PublishedPort {
    pub container_port: i64,
    pub protocol: String,
    #[serde(default, rename = "hostIP", skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<String>,
    pub host_port: i64,
}

/// The container's address on one network.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct NetworkAddress {
    pub network: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_address: Option<String>,
}

/// What the daemon reports about the container.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ContainerObservation {
    /// Docker's container ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `created`, `running`, `paused`, `restarting`, `exited`, `dead`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `starting`, `healthy`, `unhealthy`; absent without a health check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<String>,
    /// Exit code of the last run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// Restarts Docker made since the container was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_count: Option<i64>,
    /// The image the container runs, by ID.
    #[serde(default, rename = "imageID", skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    /// Addresses per network.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub networks: Vec<NetworkAddress>,
    /// Ports published on the daemon host.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<PublishedPort>,
}

/// Observed state of a Container.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ContainerStatus {
    #[serde(flatten)]
    pub managed: ManagedStatus,
    /// What the daemon reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_provider: Option<ContainerObservation>,
}

crate::impl_managed!(Container, ContainerStatus, ContainerObservation);
