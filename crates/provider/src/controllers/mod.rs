//! One file per kind: only what is special about it. The contract lives in `managed`.

pub mod container;
pub mod network;
pub mod provider_config;
pub mod service;
pub mod volume;

use std::collections::HashMap;

use crate::{
    error::{Error, Result},
    managed::Target,
};

/// Whether an existing Docker object that no resource owns (it has no UID label) may be
/// adopted through the external-name: the config's policy decides, for the resource's
/// namespace. The same rule for every kind.
pub struct Adoption {
    policy: api::provider_config::TenancyPolicy,
    config: String,
    namespace: String,
    deleting: bool,
}

impl Adoption {
    pub fn new(target: &Target) -> Self {
        Self {
            policy: target.config.policy.clone(),
            config: target.config.key.clone(),
            namespace: target.owner.namespace.clone(),
            deleting: target.deleting,
        }
    }

    /// `Ok(true)`: go on with the object. `Ok(false)`: it is refused and the resource is
    /// being deleted, so the resource is released and the object left alone (it was
    /// never ours). `object` names it for the message; `host_dir` is a volume's directory.
    pub fn allows(
        &self,
        tags: Option<&HashMap<String, String>>,
        object: &str,
        host_dir: Option<&str>,
    ) -> Result<bool> {
        let refused = engine::policy::adoption_refused(
            &self.policy,
            &self.config,
            tags,
            &self.namespace,
            object,
            host_dir,
        );
        match refused {
            None => Ok(true),
            Some(_) if self.deleting => Ok(false),
            Some(refusal) => Err(Error::Policy(refusal)),
        }
    }
}
