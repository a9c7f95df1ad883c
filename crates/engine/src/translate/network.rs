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
    // Hashed as if `ipam` were always there: late initialization adds it to a spec that
    // had none, and that must not read as a changed network (which would be recreated
    // under the containers joining it). An empty `ipam` is the form late-initialized
    // networks were labelled with before, so their hash stays.
    let pools = std::mem::take(&mut hashed.ipam.get_or_insert_default().config);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> Owner {
        Owner {
            uid: "u".into(),
            kind: "Network".into(),
            namespace: "ns".into(),
            name: "n".into(),
        }
    }

    fn network(yaml: &str) -> NetworkParameters {
        serde_yaml_ng::from_str(yaml).expect("fixture parses")
    }

    #[test]
    fn late_initialized_pools_do_not_change_the_hash() {
        let hash = |yaml| desired_network(&owner(), "n", &network(yaml)).hash;
        let chosen = "ipam: {config: [{subnet: 172.30.0.0/16, gateway: 172.30.0.1}]}";
        assert_eq!(hash("{}"), hash(chosen));
        assert_eq!(hash("ipam: {}"), hash(chosen));
        assert_ne!(hash("{}"), hash("ipam: {driver: other}"));
        assert_ne!(hash("{}"), hash("internal: true"));
    }
}
