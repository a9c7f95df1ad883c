//! What is special about a Volume: it is never recreated by the provider (a new volume
//! is an empty one), and never removed while a container uses it.

use std::sync::Arc;

use api::volume::{Volume, VolumeObservation};
use engine::{
    labels::{Owner, Ownership, ownership},
    observe::Readiness,
    pool::Daemon,
    translate::volume::{DesiredVolume, desired_volume},
    volumes,
};

use super::Adoption;
use crate::{
    context::Context,
    error::{Error, Result},
    managed::{Connector, External, Observation, Target},
};

pub struct VolumeConnector;

pub struct VolumeExternal {
    daemon: Arc<Daemon>,
    desired: DesiredVolume,
    owner: Owner,
    adoption: Adoption,
}

impl Connector<Volume> for VolumeConnector {
    type External = VolumeExternal;

    async fn connect(&self, _: &Context, mr: &Volume, target: Target) -> Result<VolumeExternal> {
        let refusals = engine::policy::volume_violations(
            &mr.spec.for_provider,
            &target.config.policy,
            &target.config.key,
        );
        if !target.deleting && !refusals.is_empty() {
            return Err(Error::Policy(format!(
                "{}; ask the config's owner to allow it, or remove it from the spec",
                refusals.join("; ")
            )));
        }
        let adoption = Adoption::new(&target);
        Ok(VolumeExternal {
            daemon: target.config.daemon,
            desired: desired_volume(&target.owner, &target.external_name, &mr.spec.for_provider),
            owner: target.owner,
            adoption,
        })
    }
}

impl External<Volume> for VolumeExternal {
    type Diff = ();

    async fn observe(&self) -> Result<Observation<VolumeObservation, ()>> {
        let name = &self.desired.name;
        let Some(volume) = volumes::inspect(&self.daemon, name).await? else {
            return Ok(Observation::absent());
        };
        if let Ownership::Other(uid) = ownership(Some(&volume.labels), &self.owner) {
            return Err(engine::Error::NameTaken {
                daemon: self.daemon.name().into(),
                what: "volume",
                name: name.clone(),
                owner: uid.into(),
            }
            .into());
        }
        let object = format!("volume {name} on {}", self.daemon.name());
        if ownership(Some(&volume.labels), &self.owner) == Ownership::Unlabelled
            && !self
                .adoption
                .allows(Some(&volume.labels), &object, Some(&volume.mountpoint))?
        {
            return Ok(Observation::absent());
        }
        let differences = volumes::differences(&self.desired, &volume, &self.owner);
        if !differences.is_empty() {
            return Err(Error::Contract(format!(
                "spec.forProvider: {}; Docker cannot change a volume in place and a new volume would lose the data, so provider-docker does not recreate it: delete this Volume (the data goes with it) and create it again, or revert the change",
                differences.join("; ")
            )));
        }
        let used_by = volumes::users(&self.daemon, name).await?;
        Ok(Observation {
            exists: true,
            diff: None,
            at_provider: Some(volumes::observation(&volume, used_by)),
            readiness: Readiness::Available(None),
            connection: Default::default(),
            late_init: None,
        })
    }

    async fn create(&self) -> Result<()> {
        volumes::create(&self.daemon, &self.desired).await?;
        Ok(())
    }

    async fn update(&self, _: &()) -> Result<String> {
        Ok(String::new())
    }

    async fn delete(&self) -> Result<()> {
        volumes::remove(&self.daemon, &self.desired.name).await?;
        Ok(())
    }
}
