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
    policy: api::provider_config::TenancyPolicy,
    /// The config's name, for messages.
    config: String,
    deleting: bool,
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
        Ok(VolumeExternal {
            daemon: target.config.daemon,
            desired: desired_volume(&target.owner, &target.external_name, &mr.spec.for_provider),
            owner: target.owner,
            policy: target.config.policy,
            config: target.config.key,
            deleting: target.deleting,
        })
    }
}

impl VolumeExternal {
    /// Why an existing volume that no resource owns is not this namespace's to adopt
    /// through the external-name: it was made for another namespace, or outside
    /// provider-docker (its data may be anyone's). The same rule as for naming a volume in
    /// a Container's mounts.
    fn not_adoptable(
        &self,
        labels: &std::collections::HashMap<String, String>,
        mountpoint: &str,
    ) -> Option<&'static str> {
        if ownership(Some(labels), &self.owner) != Ownership::Unlabelled {
            return None;
        }
        let why = match engine::policy::Holder::of(Some(labels)) {
            engine::policy::Holder::Namespace(ns) if ns == self.owner.namespace => return None,
            engine::policy::Holder::Namespace(_) => "a volume of another namespace",
            _ => "not a volume provider-docker manages",
        };
        let allowed = engine::policy::path_allowed(&self.policy, mountpoint);
        (!allowed).then_some(why)
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
        if let Some(why) = self.not_adoptable(&volume.labels, &volume.mountpoint) {
            if self.deleting {
                // Never ours: releasing the resource leaves the volume and its data alone.
                return Ok(Observation::absent());
            }
            return Err(Error::Policy(format!(
                "volume {name} on {} is {why}; adopting it is not allowed by {} (spec.policy.allowedHostPaths does not admit its directory); give the Volume another external name, or ask the config's owner to allow it",
                self.daemon.name(),
                self.config
            )));
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
