//! What is special about a Network: nothing changes in place, a recreate waits until no
//! container uses it, and the address pools Docker chose are written back into the spec.

use std::sync::Arc;

use api::network::{Network, NetworkObservation};
use engine::{
    labels::{Owner, Ownership, ownership},
    networks::{self, Plan},
    observe::Readiness,
    pool::Daemon,
    translate::network::{DesiredNetwork, desired_network},
};

use super::Adoption;
use crate::{
    context::Context,
    error::{Error, Result},
    managed::{Connector, External, Observation, Target},
};

pub struct NetworkConnector;

pub struct NetworkExternal {
    daemon: Arc<Daemon>,
    desired: DesiredNetwork,
    owner: Owner,
    /// The spec names no address pool: Docker's choice is late-initialized.
    pools_unset: bool,
    adoption: Adoption,
}

impl Connector<Network> for NetworkConnector {
    type External = NetworkExternal;

    async fn connect(&self, _: &Context, mr: &Network, target: Target) -> Result<NetworkExternal> {
        let p = &mr.spec.for_provider;
        let adoption = Adoption::new(&target);
        Ok(NetworkExternal {
            daemon: target.config.daemon,
            desired: desired_network(&target.owner, &target.external_name, p),
            owner: target.owner,
            pools_unset: p.ipam.as_ref().is_none_or(|i| i.config.is_empty()),
            adoption,
        })
    }
}

impl External<Network> for NetworkExternal {
    type Diff = Vec<String>;

    async fn observe(&self) -> Result<Observation<NetworkObservation, Vec<String>>> {
        let Some(inspect) = networks::inspect(&self.daemon, &self.desired.name).await? else {
            return Ok(Observation::absent());
        };
        match ownership(inspect.labels.as_ref(), &self.owner) {
            Ownership::Other(uid) => {
                return Err(engine::Error::NameTaken {
                    daemon: self.daemon.name().into(),
                    what: "network",
                    name: self.desired.name.clone(),
                    owner: uid.into(),
                }
                .into());
            }
            Ownership::Unlabelled => {
                let object = format!("network {} on {}", self.desired.name, self.daemon.name());
                if !self
                    .adoption
                    .allows(inspect.labels.as_ref(), &object, None)?
                {
                    return Ok(Observation::absent());
                }
            }
            Ownership::Ours => {}
        }
        let diff = match networks::plan(&self.desired, &inspect, &self.owner) {
            Plan::UpToDate => None,
            Plan::Recreate(reasons) => Some(reasons),
            Plan::Blocked(why) => return Err(Error::Contract(format!("spec.forProvider: {why}"))),
        };
        let late_init = self.pools_unset.then(|| {
            let pools = networks::chosen_pools(&inspect);
            serde_json::json!({ "ipam": { "config": pools } })
        });
        Ok(Observation {
            exists: true,
            diff,
            at_provider: Some(networks::observation(&inspect)),
            readiness: Readiness::Available(None),
            connection: Default::default(),
            late_init: late_init.filter(|_| !networks::chosen_pools(&inspect).is_empty()),
        })
    }

    async fn create(&self) -> Result<()> {
        networks::create(&self.daemon, &self.desired).await?;
        Ok(())
    }

    async fn update(&self, reasons: &Vec<String>) -> Result<String> {
        networks::remove(&self.daemon, &self.desired.name).await?;
        networks::create(&self.daemon, &self.desired).await?;
        Ok(format!(
            "recreated network {}: {}",
            self.desired.name,
            reasons.join("; ")
        ))
    }

    async fn delete(&self) -> Result<()> {
        networks::remove(&self.daemon, &self.desired.name).await?;
        Ok(())
    }
}
