//! A compose service after normalization: every short syntax expanded, every size and
//! duration typed, ready for the engine to turn into container create bodies.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::deploy::{Deploy, DeviceRequest, PullPolicy, RestartPolicy};
use super::health::{Dependency, Healthcheck};
use super::mount::{Mount, VolumesFrom};
use super::network::{NetworkMode, ServiceNetwork};
use super::port::{ExposedPort, PortMapping};
use super::resources::FileReference;
use super::runtime::{Build, CgroupNamespace, Device, Logging, Ulimit};

fn is_false(b: &bool) -> bool {
    !*b
}

/// One service of a project. Field names are compose's own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Service {
    // Image
    /// The image to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The build section (reported as unsupported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<Build>,
    /// When to pull the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_policy: Option<PullPolicy>,
    /// The image platform, e.g. `linux/arm64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,

    // Identity
    /// A fixed container name instead of `<project>-<service>-<n>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_name: Option<String>,
    /// The container's host name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// The container's domain name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domainname: Option<String>,
    /// Profiles that enable the service; empty means always enabled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    /// Container labels (`label_file` contents merged in, `labels` winning).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Container annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,

    // Process
    /// Replaces the image's ENTRYPOINT; a string is shell-split; `Some(vec![])` clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// Replaces the image's CMD; a string is shell-split; `Some(vec![])` clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Environment: `env_file` contents, then `environment` on top. `None` means "take it from the environment" and was not found there.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, Option<String>>,
    /// The working directory of the process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// `USER[:GROUP]` or `UID[:GID]` to run as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Extra groups of the user.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_add: Vec<String>,
    /// Run an init process that forwards signals and reaps zombies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<bool>,
    /// Allocate a pseudo-TTY.
    #[serde(default, skip_serializing_if = "is_false")]
    pub tty: bool,
    /// Keep standard input open.
    #[serde(default, skip_serializing_if = "is_false")]
    pub stdin_open: bool,
    /// The signal that stops the container, e.g. `SIGINT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    /// Time between the stop signal and SIGKILL (Docker's default 10s).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::duration::opt_serde"
    )]
    pub stop_grace_period: Option<Duration>,
    /// The health check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    /// When Docker restarts the container (compose's default: `no`); set from `deploy.restart_policy` when only that is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<RestartPolicy>,
    /// Services this one waits for, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub depends_on: BTreeMap<String, Dependency>,

    // Replicas
    /// Number of containers (also `deploy.replicas`); see [`Service::replicas`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<u32>,
    /// Replicas and resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy: Option<Deploy>,

    // Networking
    /// Networks joined, by top-level key; `default` when none is listed and there is no `network_mode`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub networks: BTreeMap<String, ServiceNetwork>,
    /// Another network stack instead of `networks`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_mode: Option<NetworkMode>,
    /// Published ports, ranges expanded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<PortMapping>,
    /// Ports exposed to other containers only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expose: Vec<ExposedPort>,
    /// DNS servers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<String>,
    /// DNS search domains.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_search: Vec<String>,
    /// resolv.conf options.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_opt: Vec<String>,
    /// Extra /etc/hosts entries: host name to addresses (`host-gateway` allowed).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra_hosts: BTreeMap<String, Vec<String>>,
    /// The container's MAC address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac_address: Option<String>,

    // Storage
    /// Mounts, from the short and long syntaxes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Mount>,
    /// Mounts taken from other services or containers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes_from: Vec<VolumesFrom>,
    /// Tmpfs mounts, `PATH[:OPTIONS]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tmpfs: Vec<String>,
    /// Secrets mounted into the container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<FileReference>,
    /// Configs mounted into the container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub configs: Vec<FileReference>,
    /// Size of /dev/shm in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shm_size: Option<u64>,
    /// Mount the root filesystem read-only.
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only: bool,
    /// Storage driver options.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub storage_opt: BTreeMap<String, String>,

    // Security and isolation
    /// Run privileged.
    #[serde(default, skip_serializing_if = "is_false")]
    pub privileged: bool,
    /// Capabilities added.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cap_add: Vec<String>,
    /// Capabilities dropped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cap_drop: Vec<String>,
    /// Security options, e.g. `no-new-privileges:true`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_opt: Vec<String>,
    /// Host devices.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<Device>,
    /// GPU requests (`gpus: all` is one request for all GPUs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gpus: Vec<DeviceRequest>,
    /// IPC mode: `host`, `shareable`, `service:NAME`, `container:NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipc: Option<String>,
    /// PID mode: `host`, `service:NAME`, `container:NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
    /// UTS mode: `host`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uts: Option<String>,
    /// User namespace mode: `host`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userns_mode: Option<String>,
    /// Cgroup namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup: Option<CgroupNamespace>,
    /// Parent cgroup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup_parent: Option<String>,
    /// OCI runtime, e.g. `runc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// Kernel parameters.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sysctls: BTreeMap<String, String>,
    /// Resource limits by name, e.g. `nofile`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ulimits: BTreeMap<String, Ulimit>,
    /// Do not OOM-kill the container.
    #[serde(default, skip_serializing_if = "is_false")]
    pub oom_kill_disable: bool,
    /// OOM score adjustment, -1000 to 1000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oom_score_adj: Option<i64>,

    // Resources
    /// CPUs, fractional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<f64>,
    /// Relative CPU weight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_shares: Option<i64>,
    /// CFS quota in microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_quota: Option<i64>,
    /// CFS period in microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_period: Option<i64>,
    /// CPUs allowed, e.g. `0-3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpuset: Option<String>,
    /// Memory limit in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_limit: Option<u64>,
    /// Memory soft limit in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_reservation: Option<u64>,
    /// Memory plus swap in bytes; -1 for unlimited swap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memswap_limit: Option<i64>,
    /// Swappiness, 0 to 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_swappiness: Option<i64>,
    /// Process limit; -1 for unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pids_limit: Option<i64>,
    /// Log driver and options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging: Option<Logging>,
}

impl Service {
    /// How many containers the service runs: `scale`, else `deploy.replicas`, else 1.
    pub fn replicas(&self) -> u32 {
        self.scale
            .or_else(|| self.deploy.as_ref().and_then(|d| d.replicas))
            .unwrap_or(1)
    }
}
