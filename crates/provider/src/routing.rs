//! Docker events to reconcile triggers: which managed resources an event from a daemon
//! concerns, sent to their kinds' loops once those run.

use std::sync::Arc;

use api::{
    Managed,
    container::Container,
    network::Network,
    provider_config::{ClusterProviderConfig, ProviderConfig},
    volume::Volume,
};
use engine::{
    events::{DaemonEvent, ObjectKind},
    labels,
};
use kube::{
    ResourceExt,
    runtime::reflector::{ObjectRef, Store},
};
use tokio::sync::mpsc;

use crate::{
    config::key_of,
    context::Context,
    inventory,
    managed::external_name,
    metrics::{DaemonLabels, KindLabels, Metrics},
    run::Gates,
};

/// The daemon a managed resource uses, as the pool names it.
fn daemon_key<K: Managed>(mr: &K) -> String {
    let r = &mr.managed_spec().provider_config_ref;
    key_of(r.kind, mr.namespace().as_deref(), &r.name)
}

/// The resources of one kind on daemon `key` that an event concerns: the one its labels
/// name, or else the one whose external name it has; everything on the daemon for a
/// (re)connection; after a poll, those whose object changed.
fn targets<K: inventory::Listed>(
    store: &Store<K>,
    key: &str,
    kind: ObjectKind,
    event: &DaemonEvent,
) -> Vec<ObjectRef<K>> {
    let ours = |mr: &K| daemon_key(mr) == key;
    match event {
        DaemonEvent::Object {
            kind: k,
            name,
            labels: l,
            ..
        } if *k == kind => {
            match (
                l.get(labels::KIND),
                l.get(labels::NAMESPACE),
                l.get(labels::NAME),
            ) {
                (Some(label_kind), Some(ns), Some(n)) if *label_kind == K::kind(&()) => {
                    vec![ObjectRef::new(n).within(ns)]
                }
                _ => {
                    let Some(name) = name else { return vec![] };
                    store
                        .state()
                        .iter()
                        .filter(|mr| ours(mr) && external_name(&***mr) == *name)
                        .map(|mr| ObjectRef::from(&**mr))
                        .collect()
                }
            }
        }
        DaemonEvent::Object { .. } => vec![],
        DaemonEvent::Listed(listed) => inventory::stale(store, key, listed),
        DaemonEvent::Resync | DaemonEvent::Disconnected(_) => store
            .state()
            .iter()
            .filter(|mr| ours(mr))
            .map(|mr| ObjectRef::from(&**mr))
            .collect(),
    }
}

/// The stores and trigger channels of the managed kinds, for event routing.
pub struct Routes {
    pub metrics: Arc<Metrics>,
    pub ctx: Arc<Context>,
    pub cluster_configs: mpsc::Sender<ObjectRef<ClusterProviderConfig>>,
    pub configs: mpsc::Sender<ObjectRef<ProviderConfig>>,
    pub containers: (Store<Container>, mpsc::Sender<ObjectRef<Container>>),
    pub networks: (Store<Network>, mpsc::Sender<ObjectRef<Network>>),
    pub volumes: (Store<Volume>, mpsc::Sender<ObjectRef<Volume>>),
    pub gates: Gates,
}

/// Turns Docker events into reconcile triggers for the resources they concern. A network
/// (dis)connection also reconciles the container, which may need reconnecting.
pub async fn route_events(mut events: mpsc::Receiver<(String, DaemonEvent)>, routes: Routes) {
    while let Some((key, event)) = events.recv().await {
        if matches!(event, DaemonEvent::Resync | DaemonEvent::Disconnected(_)) {
            // The daemon came or went: its config says so at once, and what backed off
            // while it was away is tried again now.
            if let DaemonEvent::Resync = event {
                routes.ctx.backoff.daemon_back(&key);
            }
            match config_of(&key) {
                Some(Ok(config)) if routes.gates.cluster_configs.started() => {
                    let _ = routes.cluster_configs.send(config).await;
                }
                Some(Err(config)) if routes.gates.configs.started() => {
                    let _ = routes.configs.send(config).await;
                }
                _ => {}
            }
        }
        if let DaemonEvent::Disconnected(_) = &event {
            routes
                .metrics
                .event_stream_reconnects
                .get_or_create(&DaemonLabels {
                    daemon: key.clone(),
                })
                .inc();
        }
        let mut containers = targets(&routes.containers.0, &key, ObjectKind::Container, &event);
        if let DaemonEvent::Object {
            kind: ObjectKind::Network,
            container: Some(id),
            ..
        } = &event
        {
            containers.extend(
                routes
                    .containers
                    .0
                    .state()
                    .iter()
                    .filter(|c| c.at_provider().and_then(|a| a.id.as_deref()) == Some(id.as_str()))
                    .map(|c| ObjectRef::from(&**c)),
            );
        }
        if routes.gates.containers.started() {
            for target in containers {
                let _ = routes.containers.1.send(target).await;
            }
        }
        if routes.gates.networks.started() {
            for target in targets(&routes.networks.0, &key, ObjectKind::Network, &event) {
                let _ = routes.networks.1.send(target).await;
            }
        }
        if routes.gates.volumes.started() {
            for target in targets(&routes.volumes.0, &key, ObjectKind::Volume, &event) {
                let _ = routes.volumes.1.send(target).await;
            }
        }
        let depth = |tx: usize, cap: usize| (cap - tx) as i64;
        for (kind, (free, max)) in [
            (
                "Container",
                (
                    routes.containers.1.capacity(),
                    routes.containers.1.max_capacity(),
                ),
            ),
            (
                "Network",
                (
                    routes.networks.1.capacity(),
                    routes.networks.1.max_capacity(),
                ),
            ),
            (
                "Volume",
                (routes.volumes.1.capacity(), routes.volumes.1.max_capacity()),
            ),
        ] {
            routes
                .metrics
                .queue_depth
                .get_or_create(&KindLabels { kind: kind.into() })
                .set(depth(free, max));
        }
    }
}

/// The config a daemon key names (see `config::key_of`).
pub fn config_of(
    key: &str,
) -> Option<Result<ObjectRef<ClusterProviderConfig>, ObjectRef<ProviderConfig>>> {
    match key.split('/').collect::<Vec<_>>()[..] {
        ["ClusterProviderConfig", name] => Some(Ok(ObjectRef::new(name))),
        ["ProviderConfig", ns, name] => Some(Err(ObjectRef::new(name).within(ns))),
        _ => None,
    }
}
