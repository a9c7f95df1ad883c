//! A Network's `forProvider` turned into Docker's create request, and the hash of what
//! cannot change without a new network. The address pools are not hashed: Docker picks
//! them when the spec leaves them out, provider-docker writes them back (late
//! initialization), and they are compared with inspect directly.

use api::network::NetworkParameters;
use bollard::models::{Ipam, IpamConfig, NetworkCreateRequest};

use crate::drift::versioned_hash;
use crate::labels::{Owner, object_labels};

/// Everything the engine needs to create and keep one network.
#[derive(Clone, Debug)]
pub struct DesiredNetwork {
    pub name: String,
    pub request: NetworkCreateRequest,
    /// The pools the spec asks for; empty when Docker may choose.
    pub pools: Vec<api::network::IpamConfig>,
    pub hash: String,
}

pub fn desired_network(owner: &Owner, name: &str, p: &NetworkParameters) -> DesiredNetwork {
    let mut hashed = p.clone();
    let pools = hashed
        .ipam
        .as_mut()
        .map(|i| std::mem::take(&mut i.config))
        .unwrap_or_default();
    let hash = versioned_hash(&hashed);
    let labels = object_labels(&p.labels, owner, &hash);
    let ipam = p.ipam.as_ref().map(|i| Ipam {
        driver: i.driver.clone(),
        config: (!i.config.is_empty()).then(|| {
            i.config
                .iter()
                .map(|c| IpamConfig {
                    subnet: c.subnet.clone(),
                    ip_range: c.ip_range.clone(),
                    gateway: c.gateway.clone(),
                    auxiliary_addresses: (!c.auxiliary_addresses.is_empty())
                        .then(|| c.auxiliary_addresses.clone().into_iter().collect()),
                })
                .collect()
        }),
        options: (!i.options.is_empty()).then(|| i.options.clone().into_iter().collect()),
    });
    DesiredNetwork {
        name: name.to_string(),
        request: NetworkCreateRequest {
            name: name.to_string(),
            driver: Some(p.driver.clone().unwrap_or_else(|| "bridge".into())),
            internal: p.internal,
            attachable: p.attachable,
            ipam,
            enable_ipv6: p.enable_ipv6,
            options: (!p.options.is_empty()).then(|| p.options.clone().into_iter().collect()),
            labels: Some(labels),
            ..Default::default()
        },
        pools,
        hash,
    }
}
