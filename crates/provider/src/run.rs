//! Wiring for `provider-docker run`: the Kubernetes client, the daemons, the controllers,
//! and the routing of Docker events to the resources they concern.

use std::{sync::Arc, time::Duration};

use api::{
    container::Container,
    provider_config::{ClusterProviderConfig, ProviderConfig},
};
use engine::{events::DaemonEvent, labels};
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
    controllers::{container::ContainerConnector, provider_config},
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

/// The daemon a Container uses, as the pool names it.
fn daemon_key(c: &Container) -> String {
    let r = &c.spec.managed.provider_config_ref;
    key_of(r.kind, c.namespace().as_deref(), &r.name)
}

/// Turns Docker events into reconcile triggers: a container event reconciles the resource
/// named by the container's labels (or, for an adopted container, the resource whose
/// external name it has); a (re)connection reconciles everything on that daemon.
async fn route_events(
    mut events: mpsc::Receiver<(String, DaemonEvent)>,
    containers: Store<Container>,
    to_containers: mpsc::Sender<ObjectRef<Container>>,
) {
    while let Some((key, event)) = events.recv().await {
        let targets: Vec<ObjectRef<Container>> = match event {
            DaemonEvent::Container {
                name, labels: l, ..
            } => {
                match (
                    l.get(labels::KIND),
                    l.get(labels::NAMESPACE),
                    l.get(labels::NAME),
                ) {
                    (Some(kind), Some(ns), Some(n)) if kind == "Container" => {
                        vec![ObjectRef::new(n).within(ns)]
                    }
                    _ => {
                        let Some(name) = name else { continue };
                        containers
                            .state()
                            .iter()
                            .filter(|c| daemon_key(c) == key && external_name(&***c) == name)
                            .map(|c| ObjectRef::from(&**c))
                            .collect()
                    }
                }
            }
            DaemonEvent::Resync | DaemonEvent::Disconnected(_) => containers
                .state()
                .iter()
                .filter(|c| daemon_key(c) == key)
                .map(|c| ObjectRef::from(&**c))
                .collect(),
        };
        for target in targets {
            if to_containers.send(target).await.is_err() {
                return;
            }
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
        args: args.clone(),
    });

    let (to_containers, container_triggers) = mpsc::channel(4096);
    tokio::spawn(route_events(events_rx, containers.store(), to_containers));

    let config = controller::Config::default().concurrency(args.max_reconciles);
    let connector = Arc::new(ContainerConnector);
    let containers = containers
        .with_config(config.clone())
        .reconcile_on(receiver_stream(container_triggers))
        .shutdown_on_signal()
        .run(
            move |mr, ctx| managed::reconcile(mr, ctx, connector.clone()),
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
    tokio::join!(containers, cluster_configs, configs);
    tracing::info!("provider-docker stopped");
    Ok(())
}
