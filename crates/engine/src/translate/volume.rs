//! A Volume's `forProvider` turned into Docker's create request and the hash of it.

use api::volume::VolumeParameters;
use bollard::models::VolumeCreateRequest;

use crate::drift::versioned_hash;
use crate::labels::{Owner, object_labels};

#[derive(Clone, Debug)]
pub struct DesiredVolume {
    pub name: String,
    pub request: VolumeCreateRequest,
    pub hash: String,
}

pub fn desired_volume(owner: &Owner, name: &str, p: &VolumeParameters) -> DesiredVolume {
    let hash = versioned_hash(p);
    let labels = object_labels(&p.labels, owner, &hash);
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
