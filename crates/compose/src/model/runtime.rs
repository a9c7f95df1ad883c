//! Smaller pieces of a service's runtime configuration: ulimits, logging, devices, the
//! (unsupported) build section and the cgroup namespace.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A resource limit of the container's processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ulimit {
    /// The limit enforced.
    pub soft: i64,
    /// The ceiling the soft limit may be raised to.
    pub hard: i64,
}

/// Where container logs go.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logging {
    /// The log driver, e.g. `json-file`, `local`, `syslog`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Driver options.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// A host device made available in the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// The host path, or a CDI name such as `vendor.com/gpu=0`.
    pub source: String,
    /// The path inside the container; the same as `source` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Cgroup permissions, a combination of `r`, `w` and `m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<String>,
}

/// A `build:` section. The provider runs images only, so a service with one is reported
/// as unsupported; it is kept so that nothing in the file is lost.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Build {
    /// The build context: a directory or a URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// The Dockerfile, relative to the context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dockerfile: Option<String>,
    /// An inline Dockerfile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dockerfile_inline: Option<String>,
    /// The stage to build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Build arguments; `None` takes the value from the environment.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, Option<String>>,
}

/// The cgroup namespace of the container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CgroupNamespace {
    /// The host's namespace.
    Host,
    /// A namespace of its own.
    Private,
}
