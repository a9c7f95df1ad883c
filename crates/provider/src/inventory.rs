//! The safety-net poll: each daemon's objects are listed once per poll interval
//! (`engine::inventory`), and only the resources whose object the lists show different
//! from what they last observed, or gone, are reconciled. Idle cost does not grow with
//! the number of resources.

use api::{Managed, container::Container, network::Network, volume::Volume};
use engine::inventory::Inventory;
use kube::runtime::reflector::{ObjectRef, Store};

use crate::{config::key_of, managed::external_name};

/// A managed kind whose Docker object an [`Inventory`] shows.
pub trait Listed: Managed {
    /// Whether the inventory shows the object as this resource last observed it.
    fn as_observed(&self, inventory: &Inventory) -> bool;
}

impl Listed for Container {
    fn as_observed(&self, inventory: &Inventory) -> bool {
        let (Some(seen), Some(listed)) = (
            self.at_provider(),
            inventory.containers.get(&external_name(self)),
        ) else {
            return false;
        };
        seen.id.as_deref() == Some(listed.id.as_str())
            && seen.state.as_deref() == Some(listed.state.as_str())
    }
}

impl Listed for Network {
    fn as_observed(&self, inventory: &Inventory) -> bool {
        let listed = inventory.networks.get(&external_name(self));
        self.at_provider().and_then(|a| a.id.as_ref()) == listed && listed.is_some()
    }
}

impl Listed for Volume {
    fn as_observed(&self, inventory: &Inventory) -> bool {
        self.at_provider().is_some() && inventory.volumes.contains(&external_name(self))
    }
}

/// The resources of kind `K` on daemon `key` that need a look after the poll: those the
/// inventory shows changed or gone, or that have not been observed yet. Resources being
/// deleted requeue themselves and are left out; one that failed lately is sent too, and
/// its backoff decides when it is tried.
pub fn stale<K: Listed>(store: &Store<K>, key: &str, inventory: &Inventory) -> Vec<ObjectRef<K>> {
    store
        .state()
        .iter()
        .filter(|mr| {
            let r = &mr.managed_spec().provider_config_ref;
            key_of(r.kind, mr.namespace_str(), &r.name) == key
                && mr.meta().deletion_timestamp.is_none()
                && !mr.as_observed(inventory)
        })
        .map(|mr| ObjectRef::from(&**mr))
        .collect()
}

/// `namespace()` without the allocation.
trait NamespaceStr {
    fn namespace_str(&self) -> Option<&str>;
}

impl<K: kube::Resource> NamespaceStr for K {
    fn namespace_str(&self) -> Option<&str> {
        self.meta().namespace.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use api::container::ContainerObservation;
    use engine::inventory::Listed as ListedContainer;

    fn container(id: Option<&str>, state: Option<&str>) -> Container {
        let mut c: Container = serde_json::from_value(serde_json::json!({
            "apiVersion": "docker.m.crossplane.io/v1alpha1",
            "kind": "Container",
            "metadata": {
                "name": "web", "namespace": "shop",
                "annotations": {"crossplane.io/external-name": "shop-web"},
            },
            "spec": {"forProvider": {"image": "busybox"}},
        }))
        .expect("a valid Container");
        if id.is_some() || state.is_some() {
            let observation = ContainerObservation {
                id: id.map(String::from),
                state: state.map(String::from),
                ..Default::default()
            };
            let status = serde_json::json!({ "atProvider": observation });
            c.status = Some(serde_json::from_value(status).expect("a valid status"));
        }
        c
    }

    fn listing(id: &str, state: &str) -> Inventory {
        let mut inventory = Inventory::default();
        inventory.containers.insert(
            "shop-web".into(),
            ListedContainer {
                id: id.into(),
                state: state.into(),
            },
        );
        inventory
    }

    #[test]
    fn a_container_listed_as_last_observed_needs_no_look() {
        assert!(container(Some("abc"), Some("running")).as_observed(&listing("abc", "running")));
    }

    #[test]
    fn a_container_stopped_replaced_or_gone_since_it_was_observed_needs_a_look() {
        let c = container(Some("abc"), Some("running"));
        assert!(!c.as_observed(&listing("abc", "exited")));
        assert!(!c.as_observed(&listing("def", "running")));
        assert!(!c.as_observed(&Inventory::default()));
    }

    #[test]
    fn a_container_never_observed_needs_a_look() {
        assert!(!container(None, None).as_observed(&listing("abc", "running")));
    }
}
