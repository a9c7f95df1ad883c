//! How a Container runs on its host: health check, resource limits, security settings,
//! logging and devices.

use std::collections::BTreeMap;

use kube::KubeSchema;

use super::{DURATION_MESSAGE, DURATION_RULE, IntOrString, SIZE_MESSAGE, SIZE_RULE, size_schema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How Docker checks the container's health.
#[derive(KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HealthCheck {
    /// `["CMD", "wget", "-q", "--spider", "http://localhost/"]`, `["CMD-SHELL", "cmd"]`,
    /// or `["NONE"]` to disable the image's check.
    #[x_kube(validation = kube::core::Rule::new("self.size() > 0 && (self[0] in ['CMD', 'CMD-SHELL', 'NONE'])").message("healthCheck.test must start with CMD, CMD-SHELL or NONE"))]
    #[schemars(length(max = 64))]
    pub test: Vec<String>,
    /// Time between checks, e.g. `30s`. Default 30s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = kube::core::Rule::new(DURATION_RULE).message(DURATION_MESSAGE))]
    #[schemars(length(max = 32))]
    pub interval: Option<String>,
    /// How long one check may take, e.g. `5s`. Default 30s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = kube::core::Rule::new(DURATION_RULE).message(DURATION_MESSAGE))]
    #[schemars(length(max = 32))]
    pub timeout: Option<String>,
    /// Failures in a row before the container is unhealthy. Default 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub retries: Option<i64>,
    /// Grace time after start during which failures do not count, e.g. `10s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = kube::core::Rule::new(DURATION_RULE).message(DURATION_MESSAGE))]
    #[schemars(length(max = 32))]
    pub start_period: Option<String>,
}

/// Limits on what the container may use. Changed in place, without recreating.
#[derive(KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Resources {
    /// CPUs the container may use, e.g. `0.5` or `2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = kube::core::Rule::new("self > 0.0").message("resources.cpus must be greater than 0"))]
    pub cpus: Option<f64>,
    /// Memory limit: `256Mi`, `1Gi`, `512m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = kube::core::Rule::new(SIZE_RULE).message(SIZE_MESSAGE))]
    #[schemars(schema_with = "size_schema")]
    pub memory: Option<IntOrString>,
    /// Soft memory limit, below `memory`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = kube::core::Rule::new(SIZE_RULE).message(SIZE_MESSAGE))]
    #[schemars(schema_with = "size_schema")]
    pub memory_reservation: Option<IntOrString>,
    /// Maximum number of processes; `-1` for unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = -1))]
    pub pids_limit: Option<i64>,
}

/// Linux capabilities to add to or drop from Docker's default set.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    /// e.g. `NET_BIND_SERVICE`, `CHOWN`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub add: Vec<String>,
    /// e.g. `ALL`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub drop: Vec<String>,
}

/// Who the process runs as and what it may do.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Security {
    /// `uid`, `uid:gid`, `name` or `name:group`. Empty: the image's user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Mount the container's root filesystem read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_root_filesystem: Option<bool>,
    /// Run privileged: root on the daemon host. Refused unless the provider config allows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privileged: Option<bool>,
    /// Capabilities to add and drop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Capabilities>,
    /// Docker security options: `no-new-privileges:true`, `seccomp=unconfined`,
    /// `apparmor=profile`, `label=...`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32))]
    pub security_options: Vec<String>,
}

/// How Docker handles the container's output.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Logging {
    /// Log driver, e.g. `json-file`, `local`, `none`.
    pub driver: String,
    /// Driver options, e.g. `max-size: 10m`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// A host device made available inside the container.
#[derive(KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    /// Device path on the daemon host, e.g. `/dev/fuse`: under `/dev/`, without `..`.
    #[x_kube(validation = kube::core::Rule::new("self.startsWith('/dev/')").message("devices[].hostPath must be a device path under /dev/"))]
    #[x_kube(validation = kube::core::Rule::new("!self.split('/').exists(s, s == '..')").message("devices[].hostPath must not contain '..' segments, which could leave /dev/; name the device itself, e.g. /dev/fuse"))]
    #[schemars(length(max = 4096))]
    pub host_path: String,
    /// Path inside the container. Default: the same as hostPath.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_path: Option<String>,
    /// cgroup permissions, a combination of `r`, `w`, `m`. Default `rwm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = kube::core::Rule::new("self.matches('^[rwm]{1,3}$')").message("devices[].permissions must be a combination of r, w and m"))]
    #[schemars(length(max = 3))]
    pub permissions: Option<String>,
}

/// A request for devices such as GPUs, as `docker run --gpus` makes.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DeviceRequest {
    /// Device driver, e.g. `nvidia`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// How many devices; `-1` for all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    /// Specific device IDs.
    #[serde(default, rename = "deviceIDs", skip_serializing_if = "Vec::is_empty")]
    pub device_ids: Vec<String>,
    /// Capabilities the devices need, e.g. `[["gpu"]]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<Vec<String>>,
}
