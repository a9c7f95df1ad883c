//! Volume operations and observation on one daemon. A volume's data is never removed
//! while a container uses it: Docker refuses, and so does this.

use std::collections::HashMap;

use api::volume::VolumeObservation;
use bollard::models::{ContainerSummary, Volume};
use bollard::query_parameters::{ListContainersOptionsBuilder, RemoveVolumeOptions};

use crate::error::Result;
use crate::labels::{Owner, Ownership, SPEC_HASH, ownership};
use crate::pool::Daemon;
use crate::translate::volume::DesiredVolume;

pub async fn inspect(daemon: &Daemon, name: &str) -> Result<Option<Volume>> {
    match daemon
        .call(
            "inspect_volume",
            "volume",
            name,
            daemon.timeout(),
            |d| async move { d.inspect_volume(name).await },
        )
        .await
    {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn create(daemon: &Daemon, desired: &DesiredVolume) -> Result<()> {
    let request = desired.request.clone();
    daemon
        .call(
            "create_volume",
            "volume",
            &desired.name,
            daemon.timeout(),
            |d| async move { d.create_volume(request).await },
        )
        .await?;
    Ok(())
}

/// Removes the volume and its data; gone already is fine; in use is refused.
pub async fn remove(daemon: &Daemon, name: &str) -> Result<()> {
    match daemon
        .call(
            "remove_volume",
            "volume",
            name,
            daemon.timeout(),
            |d| async move { d.remove_volume(name, None::<RemoveVolumeOptions>).await },
        )
        .await
    {
        Err(e) if e.is_not_found() => Ok(()),
        other => other,
    }
}

/// The containers (running or not) that mount the volume.
pub async fn mounting(daemon: &Daemon, name: &str) -> Result<Vec<ContainerSummary>> {
    let filters = HashMap::from([("volume", vec![name])]);
    let options = ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&filters)
        .build();
    daemon
        .call(
            "list_containers",
            "volume",
            name,
            daemon.timeout(),
            |d| async move { d.list_containers(Some(options)).await },
        )
        .await
}

/// Names of the containers (running or not) that mount the volume.
pub async fn users(daemon: &Daemon, name: &str) -> Result<Vec<String>> {
    let mut names: Vec<String> = mounting(daemon, name)
        .await?
        .into_iter()
        .filter_map(|c| c.names.and_then(|n| n.into_iter().next()))
        .map(|n| n.trim_start_matches('/').to_string())
        .collect();
    names.sort();
    Ok(names)
}

pub fn observation(volume: &Volume, used_by: Vec<String>) -> VolumeObservation {
    VolumeObservation {
        driver: Some(volume.driver.clone()),
        mountpoint: Some(volume.mountpoint.clone()),
        scope: volume.scope.map(|s| s.to_string()),
        created_at: volume.created_at.as_ref().map(|t| t.to_string()),
        used_by,
    }
}

/// Why the volume differs from the spec. Volumes are never recreated automatically: a new
/// volume is an empty one, so the data would be lost.
pub fn differences(desired: &DesiredVolume, volume: &Volume, owner: &Owner) -> Vec<String> {
    let want_driver = desired.request.driver.as_deref().unwrap_or("local");
    let mut diffs = vec![];
    if volume.driver != want_driver {
        diffs.push(format!(
            "driver {want_driver} differs from {}",
            volume.driver
        ));
    }
    match ownership(Some(&volume.labels), owner) {
        Ownership::Unlabelled => {}
        _ if volume.labels.get(SPEC_HASH) != Some(&desired.hash) && diffs.is_empty() => {
            diffs.push("driverOpts or labels changed".into());
        }
        _ => {}
    }
    diffs
}
