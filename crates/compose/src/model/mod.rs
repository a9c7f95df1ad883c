//! The normalized compose model: a [`Project`] of services, networks, volumes, secrets
//! and configs, with compose's field names so that it can be embedded in a resource.

mod deploy;
mod health;
mod mount;
mod network;
mod port;
mod resources;
mod runtime;
mod service;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use deploy::{
    AllDevices, Deploy, DeviceCount, DeviceRequest, PullPolicy, ResourceLimits,
    ResourceReservations, Resources, RestartPolicy,
};
pub use health::{Condition, Dependency, HealthTest, Healthcheck};
pub use mount::{
    BindMount, BindOptions, ImageMount, Mount, Propagation, Recursive, SeLinux, TmpfsMount,
    TmpfsOptions, VolumeMount, VolumeOptions, VolumesFrom, VolumesFromSource,
};
pub use network::{Ipam, IpamPool, Network, NetworkMode, ServiceNetwork};
pub use port::{
    ExposedPort, PORT_SYNTAX, PortError, PortMapping, PortMode, PortRange, Protocol,
    parse_port_mappings,
};
pub use resources::{Config, FileReference, FileSource, Secret, Volume};
pub use runtime::{Build, CgroupNamespace, Device, Logging, Ulimit};
pub use service::Service;

/// A compose project: what `docker compose config` would print, normalized.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Project {
    /// Enabled services by name.
    #[serde(default)]
    pub services: BTreeMap<String, Service>,
    /// Networks by key, including the implicit `default` when a service uses it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub networks: BTreeMap<String, Network>,
    /// Named volumes by key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub volumes: BTreeMap<String, Volume>,
    /// Secrets by key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, Secret>,
    /// Configs by key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub configs: BTreeMap<String, Config>,
}

/// `depends_on` loops back on itself, so there is no order to start the services in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("dependency cycle: {}", chain.join(" -> "))]
pub struct CycleError {
    /// The services on the cycle, the first repeated at the end: `a -> b -> a`.
    pub chain: Vec<String>,
}

impl Project {
    /// The services in an order that starts every dependency before its dependents;
    /// services that do not depend on each other are ordered by name. Dependencies on
    /// services that are not in the project are ignored.
    pub fn start_order(&self) -> Result<Vec<&str>, CycleError> {
        if let Some(chain) = crate::graph::find_cycle(self) {
            return Err(CycleError { chain });
        }
        Ok(crate::graph::topological_order(self))
    }
}
