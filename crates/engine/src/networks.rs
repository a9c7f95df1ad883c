//! Network operations and observation on one daemon.

use api::network::{IpamConfig as SpecPool, NetworkObservation, SubnetStatus};
use bollard::models::{
    EndpointSettings, NetworkConnectRequest, NetworkDisconnectRequest, NetworkInspect,
};
use bollard::query_parameters::InspectNetworkOptions;

use crate::error::Result;
use crate::labels::{Owner, Ownership, SPEC_HASH, ownership};
use crate::pool::Daemon;
use crate::translate::network::DesiredNetwork;

pub async fn inspect(daemon: &Daemon, name: &str) -> Result<Option<NetworkInspect>> {
    let result = daemon
        .call(
            "inspect_network",
            "network",
            name,
            daemon.timeout(),
            |d| async move { d.inspect_network(name, None::<InspectNetworkOptions>).await },
        )
        .await;
    match result {
        // Docker matches network names by prefix too; only an exact name is ours.
        Ok(n) if n.name.as_deref() == Some(name) || n.id.as_deref() == Some(name) => Ok(Some(n)),
        Ok(_) => Ok(None),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn create(daemon: &Daemon, desired: &DesiredNetwork) -> Result<String> {
    let request = desired.request.clone();
    let name = desired.name.as_str();
    let created = daemon
        .call(
            "create_network",
            "network",
            name,
            daemon.timeout(),
            |d| async move { d.create_network(request).await },
        )
        .await?;
    Ok(created.id)
}

/// Removes the network; gone already is fine. While containers are attached Docker
/// refuses, and so does this ([`Error::InUse`]).
pub async fn remove(daemon: &Daemon, name: &str) -> Result<()> {
    match daemon
        .call(
            "remove_network",
            "network",
            name,
            daemon.timeout(),
            |d| async move { d.remove_network(name).await },
        )
        .await
    {
        Err(e) if e.is_not_found() => Ok(()),
        other => other,
    }
}

pub async fn connect(
    daemon: &Daemon,
    network: &str,
    container: &str,
    endpoint: EndpointSettings,
) -> Result<()> {
    daemon
        .call(
            "connect_network",
            "network",
            network,
            daemon.timeout(),
            |d| async move {
                d.connect_network(
                    network,
                    NetworkConnectRequest {
                        container: container.to_string(),
                        endpoint_config: Some(endpoint),
                    },
                )
                .await
            },
        )
        .await
}

pub async fn disconnect(daemon: &Daemon, network: &str, container: &str) -> Result<()> {
    match daemon
        .call(
            "disconnect_network",
            "network",
            network,
            daemon.timeout(),
            |d| async move {
                d.disconnect_network(
                    network,
                    NetworkDisconnectRequest {
                        container: container.to_string(),
                        force: Some(true),
                    },
                )
                .await
            },
        )
        .await
    {
        Err(e) if e.is_not_found() => Ok(()),
        // Already detached (the network was removed under it): done.
        Err(crate::Error::Server { message, .. } | crate::Error::Rejected { message, .. })
            if message.contains("is not connected") =>
        {
            Ok(())
        }
        other => other,
    }
}

fn pools(inspect: &NetworkInspect) -> Vec<SubnetStatus> {
    inspect
        .ipam
        .as_ref()
        .and_then(|i| i.config.clone())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|c| {
            Some(SubnetStatus {
                subnet: c.subnet?,
                gateway: c.gateway,
            })
        })
        .collect()
}

/// Names of the containers attached, sorted.
pub fn attached(inspect: &NetworkInspect) -> Vec<String> {
    let mut names: Vec<String> = inspect
        .containers
        .clone()
        .unwrap_or_default()
        .into_values()
        .filter_map(|c| c.name)
        .collect();
    names.sort();
    names
}

pub fn observation(inspect: &NetworkInspect) -> NetworkObservation {
    NetworkObservation {
        id: inspect.id.clone(),
        driver: inspect.driver.clone(),
        scope: inspect.scope.clone(),
        subnets: pools(inspect),
        containers: attached(inspect),
    }
}

/// The pools Docker chose, to write into a spec that left them out.
pub fn chosen_pools(inspect: &NetworkInspect) -> Vec<SpecPool> {
    inspect
        .ipam
        .as_ref()
        .and_then(|i| i.config.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c.subnet.is_some())
        .map(|c| SpecPool {
            subnet: c.subnet,
            ip_range: c.ip_range,
            gateway: c.gateway,
            ..Default::default()
        })
        .collect()
}

/// What an existing network needs.
#[derive(Debug, PartialEq)]
pub enum Plan {
    UpToDate,
    /// Remove and create anew (nothing is attached).
    Recreate(Vec<String>),
    /// A recreate is needed but containers use the network.
    Blocked(String),
}

pub fn plan(desired: &DesiredNetwork, inspect: &NetworkInspect, owner: &Owner) -> Plan {
    let mut reasons = vec![];
    let labels = inspect.labels.as_ref();
    match ownership(labels, owner) {
        Ownership::Unlabelled => {
            // Adopted: compare what the spec says with what Docker shows.
            let want = desired.request.driver.as_deref().unwrap_or("bridge");
            if inspect.driver.as_deref() != Some(want) {
                reasons.push(format!("driver {want} differs from the existing network"));
            }
        }
        _ => {
            if labels.and_then(|l| l.get(SPEC_HASH)) != Some(&desired.hash) {
                reasons.push("the network's configuration changed".to_string());
            }
        }
    }
    let actual = pools(inspect);
    for pool in &desired.pools {
        if let Some(subnet) = &pool.subnet
            && !actual.iter().any(|a| &a.subnet == subnet)
        {
            reasons.push(format!("subnet {subnet} is not in effect"));
        }
    }
    if reasons.is_empty() {
        return Plan::UpToDate;
    }
    let users = attached(inspect);
    if users.is_empty() {
        Plan::Recreate(reasons)
    } else {
        Plan::Blocked(format!(
            "{}; Docker cannot change a network in place and containers use it ({}); detach or delete them and the network is recreated",
            reasons.join("; "),
            users.join(", ")
        ))
    }
}

/// The ID check a container's attachment needs: `Err` names a daemon failure.
pub async fn id_of(daemon: &Daemon, name: &str) -> Result<Option<String>> {
    Ok(inspect(daemon, name).await?.and_then(|n| n.id))
}
