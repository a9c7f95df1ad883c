//! Wiring for `provider-docker run`: the Kubernetes client, the daemons, the controllers,
//! and the routing of Docker events to the resources they concern.

use std::{sync::Arc, time::Duration};

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
use futures::{Stream, StreamExt};
use kube::{
    Api, ResourceExt,
    runtime::{
        Controller,
        controller::{self, Action},
        reflector::{ObjectRef, Store},
        watcher,
    },
};
use tokio::sync::mpsc;

use crate::{
    cli::RunArgs,
    config::key_of,
    context::{Context, Stores},
    controllers::{
        container::ContainerConnector, network::NetworkConnector, provider_config,
        volume::VolumeConnector,
    },
    daemons::Daemons,
    error::Error,
    managed::{self, external_name},
    recorder::Recorder,
};

fn receiver_stream<T: Send + 'static>(rx: mpsc::Receiver<T>) -> impl Stream<Item = T> + Send {
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|x| (x, rx)) })
}

fn error_policy<K>(_: Arc<K>, error: &Error, _: Arc<Context>) -> Action {
    tracing::warn!(%error, "reconcile could not write its outcome; retrying");
    Action::requeue(Duration::from_secs(5))
}

/// The daemon a managed resource uses, as the pool names it.
fn daemon_key<K: Managed>(mr: &K) -> String {
    let r = &mr.managed_spec().provider_config_ref;
    key_of(r.kind, mr.namespace().as_deref(), &r.name)
}

/// The resources of one kind on daemon `key` that an event concerns: the one its labels
/// name, or else the one whose external name it has; everything on the daemon for a
/// (re)connection.
fn targets<K: Managed>(
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
        DaemonEvent::Resync | DaemonEvent::Disconnected(_) => store
            .state()
            .iter()
            .filter(|mr| ours(mr))
            .map(|mr| ObjectRef::from(&**mr))
            .collect(),
    }
}

/// The stores and trigger channels of the managed kinds, for event routing.
struct Routes {
    containers: (Store<Container>, mpsc::Sender<ObjectRef<Container>>),
    networks: (Store<Network>, mpsc::Sender<ObjectRef<Network>>),
    volumes: (Store<Volume>, mpsc::Sender<ObjectRef<Volume>>),
}

/// Turns Docker events into reconcile triggers for the resources they concern. A network
/// (dis)connection also reconciles the container, which may need reconnecting.
async fn route_events(mut events: mpsc::Receiver<(String, DaemonEvent)>, routes: Routes) {
    while let Some((key, event)) = events.recv().await {
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
        for target in containers {
            let _ = routes.containers.1.send(target).await;
        }
        for target in targets(&routes.networks.0, &key, ObjectKind::Network, &event) {
            let _ = routes.networks.1.send(target).await;
        }
        for target in targets(&routes.volumes.0, &key, ObjectKind::Volume, &event) {
            let _ = routes.volumes.1.send(target).await;
        }
    }
}

pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let client = kube::Client::try_default().await?;
    let (events_tx, events_rx) = mpsc::channel(4096);
    let daemons = Arc::new(Daemons::new(events_tx, None));

    let cluster_configs = Controller::new(
        Api::<ClusterProviderConfig>::all(client.clone()),
        watcher::Config::default(),
    );
    let configs = Controller::new(
        Api::<ProviderConfig>::all(client.clone()),
        watcher::Config::default(),
    );
    let containers = Controller::new(
        Api::<Container>::all(client.clone()),
        watcher::Config::default(),
    );
    let ctx = Arc::new(Context {
        client: client.clone(),
        stores: Stores {
            cluster_configs: cluster_configs.store(),
            configs: configs.store(),
        },
        recorder: Recorder::new(client.clone()),
        daemons,
        usages: Default::default(),
        connections: Default::default(),
        backoff: Default::default(),
        args: args.clone(),
    });

    let networks = Controller::new(
        Api::<Network>::all(client.clone()),
        watcher::Config::default(),
    );
    let volumes = Controller::new(
        Api::<Volume>::all(client.clone()),
        watcher::Config::default(),
    );
    let (to_containers, container_triggers) = mpsc::channel(4096);
    let (to_networks, network_triggers) = mpsc::channel(4096);
    let (to_volumes, volume_triggers) = mpsc::channel(4096);
    tokio::spawn(route_events(
        events_rx,
        Routes {
            containers: (containers.store(), to_containers),
            networks: (networks.store(), to_networks),
            volumes: (volumes.store(), to_volumes),
        },
    ));

    let config = controller::Config::default().concurrency(args.max_reconciles);
    let containers = containers
        .with_config(config.clone())
        .reconcile_on(receiver_stream(container_triggers))
        .shutdown_on_signal()
        .run(
            |mr, ctx| managed::reconcile(mr, ctx, Arc::new(ContainerConnector)),
            error_policy,
            ctx.clone(),
        )
        .for_each(|_| futures::future::ready(()));
    let networks = networks
        .with_config(config.clone())
        .reconcile_on(receiver_stream(network_triggers))
        .shutdown_on_signal()
        .run(
            |mr, ctx| managed::reconcile(mr, ctx, Arc::new(NetworkConnector)),
            error_policy,
            ctx.clone(),
        )
        .for_each(|_| futures::future::ready(()));
    let volumes = volumes
        .with_config(config.clone())
        .reconcile_on(receiver_stream(volume_triggers))
        .shutdown_on_signal()
        .run(
            |mr, ctx| managed::reconcile(mr, ctx, Arc::new(VolumeConnector)),
            error_policy,
            ctx.clone(),
        )
        .for_each(|_| futures::future::ready(()));
    let cluster_configs = cluster_configs
        .shutdown_on_signal()
        .run(provider_config::reconcile, error_policy, ctx.clone())
        .for_each(|_| futures::future::ready(()));
    let configs = configs
        .shutdown_on_signal()
        .run(provider_config::reconcile, error_policy, ctx.clone())
        .for_each(|_| futures::future::ready(()));

    tracing::info!("provider-docker started");
    tokio::join!(containers, networks, volumes, cluster_configs, configs);
    tracing::info!("provider-docker stopped");
    Ok(())
}
