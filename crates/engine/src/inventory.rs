//! The poll's view of a daemon: one list of containers, one of networks and one of
//! volumes, so that the safety-net poll costs three calls per daemon however many
//! resources it holds. Resources whose object the lists show changed (or gone) are
//! reconciled; the others are left alone until an event says otherwise.

use std::collections::{HashMap, HashSet};

use bollard::query_parameters::{
    ListContainersOptionsBuilder, ListNetworksOptions, ListVolumesOptions,
};

use crate::{error::Result, pool::Daemon};

/// One container as the list shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub id: String,
    /// `created`, `running`, `paused`, `restarting`, `exited`, `dead`.
    pub state: String,
}

/// Every container, network and volume on a daemon at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inventory {
    /// By name, without Docker's leading slash.
    pub containers: HashMap<String, Listed>,
    /// Network IDs by name.
    pub networks: HashMap<String, String>,
    /// Volume names.
    pub volumes: HashSet<String>,
}

impl Inventory {
    /// Takes the three lists. Cancel-safe: it only reads.
    pub async fn take(daemon: &Daemon) -> Result<Self> {
        let timeout = daemon.timeout();
        let options = ListContainersOptionsBuilder::new().all(true).build();
        let containers = daemon
            .call(
                "list_containers",
                "daemon",
                daemon.name(),
                timeout,
                |d| async move { d.list_containers(Some(options)).await },
            )
            .await?;
        let networks = daemon
            .call(
                "list_networks",
                "daemon",
                daemon.name(),
                timeout,
                |d| async move { d.list_networks(None::<ListNetworksOptions>).await },
            )
            .await?;
        let volumes = daemon
            .call(
                "list_volumes",
                "daemon",
                daemon.name(),
                timeout,
                |d| async move { d.list_volumes(None::<ListVolumesOptions>).await },
            )
            .await?;
        Ok(Self {
            containers: containers
                .into_iter()
                .filter_map(|c| {
                    let listed = Listed {
                        id: c.id?,
                        state: c.state.map(|s| s.to_string()).unwrap_or_default(),
                    };
                    let names = c.names.unwrap_or_default();
                    Some(
                        names
                            .into_iter()
                            .map(move |n| (n.trim_start_matches('/').to_string(), listed.clone())),
                    )
                })
                .flatten()
                .collect(),
            networks: networks
                .into_iter()
                .filter_map(|n| Some((n.name?, n.id?)))
                .collect(),
            volumes: volumes
                .volumes
                .unwrap_or_default()
                .into_iter()
                .map(|v| v.name)
                .collect(),
        })
    }
}
