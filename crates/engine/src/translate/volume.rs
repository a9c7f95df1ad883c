//! A Volume's `forProvider` turned into Docker's create request and the hash of it.

use std::collections::HashMap;

use api::volume::VolumeParameters;
use bollard::models::VolumeCreateRequest;

use crate::drift::versioned_hash;
use crate::labels::{Owner, SPEC_HASH};

#[derive(Clone, Debug)]
pub struct DesiredVolume {
    pub name: String,
    pub request: VolumeCreateRequest,
    pub hash: String,
}

pub fn desired_volume(owner: &Owner, name: &str, p: &VolumeParameters) -> DesiredVolume {
    let hash = versioned_hash(p);
    let mut labels: HashMap<String, String> = p
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    labels.extend(owner.labels());
    labels.insert(SPEC_HASH.into(), hash.clone());
    DesiredVolume {
        name: name.to_string(),
        request: VolumeCreateRequest {
            name: Some(name.to_string()),
            driver: Some(p.driver.clone().unwrap_or_else(|| "local".into())),
            driver_opts: (!p.driver_opts.is_empty())
                .then(|| p.driver_opts.clone().into_iter().collect()),
            labels: Some(labels),
            ..Default::default()
        },
        hash,
    }
}
