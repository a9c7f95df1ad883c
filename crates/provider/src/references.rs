//! Reconciles the Containers and Services that read a Secret or ConfigMap whenever it
//! changes, so that a rotated value rolls them at once rather than at the next resync.
//! Only metadata is watched: no value is held here.

use api::{container::Container, service::Service};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::{
    Api, Resource, ResourceExt,
    core::PartialObjectMeta,
    runtime::{
        WatchStreamExt,
        reflector::{ObjectRef, Store},
        watcher,
    },
};
use tokio::sync::mpsc;

/// A Secret or a ConfigMap, as a reference names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Secret,
    ConfigMap,
}

/// What a resource's spec reads from Secrets and ConfigMaps of its namespace.
pub trait Reads {
    fn reads(&self, source: Source, name: &str) -> bool;
}

impl Reads for Container {
    fn reads(&self, source: Source, name: &str) -> bool {
        let p = &self.spec.for_provider;
        let pick = |secret: &Option<api::KeySelector>, config_map: &Option<api::KeySelector>| {
            match source {
                Source::Secret => secret.as_ref(),
                Source::ConfigMap => config_map.as_ref(),
            }
            .is_some_and(|k| k.name == name)
        };
        p.env.iter().any(|e| {
            e.value_from
                .as_ref()
                .is_some_and(|f| pick(&f.secret_key_ref, &f.config_map_key_ref))
        }) || p
            .files
            .iter()
            .any(|f| pick(&f.secret_key_ref, &f.config_map_key_ref))
            || (source == Source::Secret && p.image_pull_secrets.iter().any(|s| s.name == name))
    }
}

impl Reads for Service {
    fn reads(&self, source: Source, name: &str) -> bool {
        self.spec.for_provider.env_files.iter().any(|f| {
            match source {
                Source::Secret => f.secret_key_ref.as_ref(),
                Source::ConfigMap => f.config_map_key_ref.as_ref(),
            }
            .is_some_and(|k| k.name == name)
        })
    }
}

/// Sends every resource of `store` in `namespace` that reads `source`/`name` to `to`.
/// Never waits: a loop that has not started (its CRD is missing) or is flooded misses
/// the trigger, and its resync makes up for it.
fn trigger<K>(
    store: &Store<K>,
    to: &mpsc::Sender<ObjectRef<K>>,
    namespace: &str,
    source: Source,
    name: &str,
) where
    K: Reads + kube::Resource<DynamicType = ()> + Clone + 'static,
{
    for mr in store.state() {
        if mr.meta().namespace.as_deref() == Some(namespace) && mr.reads(source, name) {
            let _ = to.try_send(ObjectRef::from(&*mr));
        }
    }
}

/// The stores of the kinds that read Secrets and ConfigMaps, and their trigger channels.
pub struct Readers {
    pub containers: (Store<Container>, mpsc::Sender<ObjectRef<Container>>),
    pub services: (Store<Service>, mpsc::Sender<ObjectRef<Service>>),
}

/// Watches the metadata of Secrets and ConfigMaps (`secrets` and `config_maps` are scoped
/// as the controller is) and reconciles their readers on every change, until the watches end.
pub async fn watch(
    secrets: Api<PartialObjectMeta<Secret>>,
    config_maps: Api<PartialObjectMeta<ConfigMap>>,
    readers: Readers,
) {
    let secrets = crate::backoff::retried(watcher(secrets, watcher::Config::default()))
        .touched_objects()
        .map(|o| o.map(|o| (Source::Secret, o.namespace(), o.name_any())));
    let config_maps = crate::backoff::retried(watcher(config_maps, watcher::Config::default()))
        .touched_objects()
        .map(|o| o.map(|o| (Source::ConfigMap, o.namespace(), o.name_any())));
    let changes = futures::stream::select(secrets, config_maps);
    futures::pin_mut!(changes);
    while let Some(change) = changes.next().await {
        let Ok((source, Some(namespace), name)) = change else {
            continue;
        };
        trigger(
            &readers.containers.0,
            &readers.containers.1,
            &namespace,
            source,
            &name,
        );
        trigger(
            &readers.services.0,
            &readers.services.1,
            &namespace,
            source,
            &name,
        );
    }
}

/// The Containers of `store` that may wait for `dependency` (a Network or Volume they
/// reference by name or selector), once it is Ready: their reconcile takes it from there
/// instead of waiting for a requeue.
pub fn waiting_on<K: api::Managed>(
    store: &Store<Container>,
    dependency: &K,
) -> Vec<ObjectRef<Container>> {
    if !is_ready(dependency) {
        return vec![];
    }
    let (namespace, name) = (
        dependency.meta().namespace.as_deref(),
        dependency.name_any(),
    );
    let network = K::kind(&()) == "Network";
    store
        .state()
        .iter()
        .filter(|c| c.meta().namespace.as_deref() == namespace && !is_ready(&***c))
        .filter(|c| {
            let p = &c.spec.for_provider;
            let named = |r: &Option<api::container::LocalReference>| {
                r.as_ref().is_some_and(|r| r.name == name)
            };
            if network {
                p.networks
                    .iter()
                    .any(|a| named(&a.network_ref) || a.network_selector.is_some())
            } else {
                p.mounts
                    .iter()
                    .filter_map(|m| m.volume.as_ref())
                    .any(|v| named(&v.volume_ref) || v.volume_selector.is_some())
            }
        })
        .map(|c| ObjectRef::from(&**c))
        .collect()
}

/// Watches the Networks or Volumes of `api` and reconciles the Containers of `containers`
/// that wait for one as soon as it is Ready, until the watch ends. Never waits on `to`.
pub async fn watch_dependencies<K: api::Managed>(
    api: Api<K>,
    containers: Store<Container>,
    to: mpsc::Sender<ObjectRef<Container>>,
) {
    let dependencies =
        crate::backoff::retried(watcher(api, watcher::Config::default())).touched_objects();
    futures::pin_mut!(dependencies);
    while let Some(dependency) = dependencies.next().await {
        let Ok(dependency) = dependency else { continue };
        for container in waiting_on(&containers, &dependency) {
            let _ = to.try_send(container);
        }
    }
}

/// Ready, as a Container that references it reads it.
fn is_ready<K: api::Managed>(mr: &K) -> bool {
    mr.managed_status()
        .and_then(|s| s.condition(api::CONDITION_READY))
        .is_some_and(|c| c.status == api::ConditionStatus::True)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(for_provider: serde_json::Value) -> Container {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "docker.m.crossplane.io/v1alpha1",
            "kind": "Container",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"forProvider": for_provider},
        }))
        .expect("a valid Container")
    }

    #[test]
    fn a_container_reads_the_secrets_and_config_maps_its_env_files_and_pull_secrets_name() {
        let c = container(serde_json::json!({
            "image": "busybox",
            "env": [
                {"name": "A", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
                {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "b"}}},
            ],
            "files": [{"path": "/etc/tls.key", "secretKeyRef": {"name": "tls", "key": "tls.key"}}],
            "imagePullSecrets": [{"name": "registry"}],
        }));
        for name in ["db", "tls", "registry"] {
            assert!(c.reads(Source::Secret, name), "{name}");
        }
        assert!(c.reads(Source::ConfigMap, "settings"));
        assert!(
            !c.reads(Source::ConfigMap, "db"),
            "a Secret is not a ConfigMap"
        );
        assert!(!c.reads(Source::Secret, "settings"));
        assert!(!c.reads(Source::Secret, "other"));
    }
}
