//! Wiring for `provider-docker run`: the Kubernetes client, the daemons, the controllers,
//! and the routing of Docker events to the resources they concern.

use std::{sync::Arc, time::Duration};

use api::{
    Managed, ProviderConfigKind,
    container::Container,
    network::Network,
    provider_config::{ClusterProviderConfig, ProviderConfig, ProviderConfigUsage},
    service::Service,
    volume::Volume,
};
use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::core::PartialObjectMeta;
use kube::{
    Api, ResourceExt,
    runtime::{
        Controller, WatchStreamExt,
        controller::{self, Action},
        reflector::{ObjectRef, Store},
        watcher,
    },
};
use tokio::sync::mpsc;

use crate::{
    cli::RunArgs,
    context::{Context, Stores},
    controllers::{
        container::ContainerConnector, network::NetworkConnector, provider_config,
        service::ServiceConnector, volume::VolumeConnector,
    },
    daemons::Daemons,
    error::Error,
    health::{self, Readiness},
    leader::Leadership,
    managed,
    metrics::{DockerCalls, Metrics},
    recorder::Recorder,
    references, routing,
    safe_start::{self, Gate, Kind},
};

fn receiver_stream<T: Send + 'static>(rx: mpsc::Receiver<T>) -> impl Stream<Item = T> + Send {
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|x| (x, rx)) })
}

fn error_policy<K>(_: Arc<K>, error: &Error, _: Arc<Context>) -> Action {
    tracing::warn!(%error, "reconcile could not write its outcome; retrying");
    Action::requeue(Duration::from_secs(5))
}

/// One gate per controller loop, naming every kind the loop watches (safe-start). Nothing
/// is sent to a loop that has not started: its channel would fill and stall the sender.
#[derive(Clone)]
pub struct Gates {
    pub cluster_configs: Gate,
    pub configs: Gate,
    pub containers: Gate,
    pub networks: Gate,
    pub volumes: Gate,
    pub services: Gate,
}

impl Gates {
    fn new() -> Self {
        let usages = Kind::of::<ProviderConfigUsage>();
        Self {
            cluster_configs: Gate::new(
                "ClusterProviderConfig",
                vec![Kind::of::<ClusterProviderConfig>(), usages.clone()],
            ),
            configs: Gate::new("ProviderConfig", vec![Kind::of::<ProviderConfig>(), usages]),
            containers: Gate::new("Container", vec![Kind::of::<Container>()]),
            networks: Gate::new("Network", vec![Kind::of::<Network>()]),
            volumes: Gate::new("Volume", vec![Kind::of::<Volume>()]),
            // A Service watches its children too.
            services: Gate::new(
                "Service",
                vec![
                    Kind::of::<Service>(),
                    Kind::of::<Container>(),
                    Kind::of::<Network>(),
                    Kind::of::<Volume>(),
                ],
            ),
        }
    }
}

/// Runs `work` once `gate`'s kinds are served; ends at SIGTERM or SIGINT if they never are.
async fn gated(client: &kube::Client, gate: &Gate, work: impl std::future::Future<Output = ()>) {
    let client = client.clone();
    gate.run(
        move |kinds| safe_start::missing(client.clone(), kinds),
        safe_start::POLL_INTERVAL,
        work,
        shutdown_signal(),
    )
    .await
}

/// Resolves once `store` has synced, or at once if `gate`'s loop waits for its kinds.
async fn synced_if_started<K: kube::Resource + Clone + 'static>(gate: &Gate, store: &Store<K>)
where
    K::DynamicType: std::hash::Hash + Eq + Clone,
{
    if gate.started_at_once().await {
        synced(store).await;
    }
}

/// Reconciles the configs that read a Secret whenever it changes, so rotated keys are
/// picked up at once. Only metadata is watched: no Secret value is held here.
async fn watch_config_secrets(
    client: kube::Client,
    namespace: Option<String>,
    stores: Stores,
    gates: Gates,
    to_cluster_configs: mpsc::Sender<ObjectRef<ClusterProviderConfig>>,
    to_configs: mpsc::Sender<ObjectRef<ProviderConfig>>,
) {
    let secrets = crate::backoff::retried(watcher(
        scoped::<PartialObjectMeta<Secret>>(&client, namespace.as_deref()),
        watcher::Config::default(),
    ))
    .touched_objects();
    futures::pin_mut!(secrets);
    while let Some(secret) = secrets.next().await {
        let Ok(secret) = secret else { continue };
        let (ns, name) = (secret.namespace().unwrap_or_default(), secret.name_any());
        for config in stores.cluster_configs.state() {
            if gates.cluster_configs.started() && config.spec.daemon.reads_secret(None, &ns, &name)
            {
                let _ = to_cluster_configs.send(ObjectRef::from(&*config)).await;
            }
        }
        for config in stores.configs.state() {
            let own = config.namespace();
            if gates.configs.started()
                && own.as_deref() == Some(ns.as_str())
                && config.spec.daemon.reads_secret(own.as_deref(), &ns, &name)
            {
                let _ = to_configs.send(ObjectRef::from(&*config)).await;
            }
        }
    }
}

/// `Api::all`, or `Api::namespaced` when the controller watches one namespace.
fn scoped<K>(client: &kube::Client, namespace: Option<&str>) -> Api<K>
where
    K: kube::Resource<Scope = kube::core::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// What on a managed resource calls for a reconcile: its spec (the generation), its
/// deletion, the Docker name it should have and whether it is paused. The provider's own
/// writes (status, finalizer, create-pending/succeeded, the default external-name) change
/// none of these, so they do not each bring a second reconcile that only re-reads Docker.
fn reconcile_worthy<K: Managed>(mr: &K) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let mut hash = std::collections::hash_map::DefaultHasher::new();
    (
        mr.meta().generation,
        mr.meta().deletion_timestamp.is_some(),
        managed::external_name(mr),
        api::is_paused(mr),
    )
        .hash(&mut hash);
    Some(hash.finish())
}

/// A controller of a managed kind whose cache leaves out what grows with every resource
/// and that no reconcile reads: `managedFields` and kubectl's last-applied annotation
/// (a second copy of the whole object). Status writes are server-side applies and need
/// neither. Only changes that [`reconcile_worthy`] sees trigger a reconcile; the cache
/// still holds every version.
fn lean_controller<K: Managed>(api: Api<K>) -> Controller<K> {
    let (reader, writer) = kube::runtime::reflector::store();
    let stream = crate::backoff::retried(watcher(api, watcher::Config::default()))
        .modify(|o: &mut K| {
            o.meta_mut().managed_fields = None;
            if let Some(a) = o.meta_mut().annotations.as_mut() {
                a.remove("kubectl.kubernetes.io/last-applied-configuration");
            }
        })
        .reflect(writer)
        .touched_objects()
        .predicate_filter(reconcile_worthy::<K>, Default::default());
    Controller::for_stream(without_errors(stream), reader)
}

/// A controller of `api` reconciling on every change, its watch retried as
/// [`crate::backoff::retried`] says.
fn controller_of<K>(api: Api<K>) -> Controller<K>
where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    let (reader, writer) = kube::runtime::reflector::store();
    let stream = crate::backoff::retried(watcher(api, watcher::Config::default()))
        .reflect(writer)
        .touched_objects();
    Controller::for_stream(without_errors(stream), reader)
}

/// A trigger stream whose errors its own backoff has waited out already. The controller
/// must not see them: its trigger backoff would wait again, and pause all of its
/// triggers, not only the broken one's.
fn without_errors<T: Send>(
    stream: impl Stream<Item = Result<T, watcher::Error>> + Send,
) -> impl Stream<Item = Result<T, watcher::Error>> + Send {
    stream.filter(|item| futures::future::ready(item.is_ok()))
}

/// The objects of `api` as they change, for a controller's `owns_stream` and
/// `watches_stream`: retried as [`crate::backoff::retried`] says, without errors.
fn changes<K>(api: Api<K>) -> impl Stream<Item = Result<K, watcher::Error>> + Send + 'static
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    without_errors(
        crate::backoff::retried(watcher(api, watcher::Config::default())).touched_objects(),
    )
}

/// Resolves once the store has its first full list. `Store::wait_until_ready` wakes only
/// one waiter (the controller's own), so it is polled with a short timeout instead.
async fn synced<K: kube::Resource + Clone + 'static>(store: &Store<K>)
where
    K::DynamicType: std::hash::Hash + Eq + Clone,
{
    while tokio::time::timeout(Duration::from_millis(200), store.wait_until_ready())
        .await
        .is_err()
    {}
}

/// Resolves on SIGTERM or SIGINT.
async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let client = kube::Client::try_default().await?;
    let metrics = Arc::new(Metrics::default());
    let readiness = Arc::new(Readiness::default());
    {
        let (metrics, readiness) = (metrics.clone(), readiness.clone());
        let address = args.metrics_address;
        tokio::spawn(async move {
            if let Err(e) = health::serve(address, metrics, readiness).await {
                tracing::error!(error = %e, %address, "cannot serve metrics and probes");
            }
        });
    }

    let Some(mut leadership) = (match args.leader_election {
        false => None,
        true => {
            let namespace = args
                .leader_election_namespace
                .clone()
                .or_else(|| std::env::var("POD_NAMESPACE").ok())
                .unwrap_or_else(|| "default".into());
            let identity = std::env::var("POD_NAME").unwrap_or_else(|_| {
                format!(
                    "{}-{}",
                    std::fs::read_to_string("/proc/sys/kernel/hostname")
                        .unwrap_or_default()
                        .trim(),
                    std::process::id()
                )
            });
            let mut leadership = Leadership::join(
                client.clone(),
                &namespace,
                &args.leader_election_name,
                &identity,
            )
            .await?;
            // Standing by is a known leadership state: ready, as a standby.
            readiness.set(true);
            tracing::info!(%identity, lease = %args.leader_election_name, %namespace, "waiting for leadership");
            tokio::select! {
                acquired = leadership.acquired() => acquired?,
                _ = shutdown_signal() => {
                    leadership.release().await?;
                    return Ok(());
                }
            }
            tracing::info!(%identity, "acquired leadership");
            readiness.set(false);
            Some(leadership)
        }
    }) else {
        return controllers(client, args, metrics, readiness).await;
    };
    tokio::select! {
        done = controllers(client, args, metrics, readiness) => {
            done?;
            leadership.release().await?;
            tracing::info!("released leadership");
            Ok(())
        }
        _ = leadership.lost() => {
            tracing::error!("lost the lease; exiting so that only the leader reconciles");
            std::process::exit(1);
        }
    }
}

/// Runs every controller until SIGTERM or SIGINT, then lets in-flight reconciles finish.
async fn controllers(
    client: kube::Client,
    args: RunArgs,
    metrics: Arc<Metrics>,
    readiness: Arc<Readiness>,
) -> anyhow::Result<()> {
    let namespace = args.namespace.clone();
    let ns = namespace.as_deref();
    let (events_tx, events_rx) = mpsc::channel(4096);
    let daemons = Arc::new(Daemons::new(
        events_tx,
        Some(Arc::new(DockerCalls(metrics.clone()))),
        args.poll_interval,
    ));

    // A new or released usage changes a config's users (and whether it holds the in-use
    // finalizer): reconcile the config at once.
    let cluster_configs = controller_of(Api::<ClusterProviderConfig>::all(client.clone()))
        .watches_stream(
            changes(scoped::<ProviderConfigUsage>(&client, ns)),
            |usage| {
                let r = &usage.spec.provider_config_ref;
                (r.kind == ProviderConfigKind::ClusterProviderConfig)
                    .then(|| ObjectRef::new(&r.name))
            },
        );
    let configs = controller_of(scoped::<ProviderConfig>(&client, ns)).watches_stream(
        changes(scoped::<ProviderConfigUsage>(&client, ns)),
        |usage| {
            let r = &usage.spec.provider_config_ref;
            (r.kind == ProviderConfigKind::ProviderConfig)
                .then(|| ObjectRef::new(&r.name).within(&usage.namespace().unwrap_or_default()))
        },
    );
    let containers = lean_controller(scoped::<Container>(&client, ns));
    let networks = lean_controller(scoped::<Network>(&client, ns));
    let volumes = lean_controller(scoped::<Volume>(&client, ns));
    // A Service reacts to its children: a member becoming healthy may let the next start.
    let services = lean_controller(scoped::<Service>(&client, ns))
        .owns_stream(crate::coalesce::coalesced(changes(scoped::<Container>(
            &client, ns,
        ))))
        .owns_stream(crate::coalesce::coalesced(changes(scoped::<Network>(
            &client, ns,
        ))))
        .owns_stream(crate::coalesce::coalesced(changes(scoped::<Volume>(
            &client, ns,
        ))));
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
        metrics: metrics.clone(),
        args: args.clone(),
    });

    // Ready once every cache has its first full list (a kind waiting for its CRD has none,
    // and does not hold readiness back); recounted resources feed the gauges.
    let gates = Gates::new();
    {
        let stores = (
            containers.store(),
            networks.store(),
            volumes.store(),
            ctx.stores.clone(),
        );
        let metrics = metrics.clone();
        let g = gates.clone();
        tokio::spawn(async move {
            let (c, n, v, s) = stores;
            futures::future::join5(
                synced_if_started(&g.containers, &c),
                synced_if_started(&g.networks, &n),
                synced_if_started(&g.volumes, &v),
                synced_if_started(&g.cluster_configs, &s.cluster_configs),
                synced_if_started(&g.configs, &s.configs),
            )
            .await;
            readiness.set(true);
            tracing::info!("caches synced; ready");
            loop {
                metrics.count_resources(&c);
                metrics.count_resources(&n);
                metrics.count_resources(&v);
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        });
    }

    let (to_cluster_configs, cluster_config_triggers) = mpsc::channel(256);
    let (to_configs, config_triggers) = mpsc::channel(256);
    tokio::spawn(watch_config_secrets(
        client.clone(),
        namespace.clone(),
        ctx.stores.clone(),
        gates.clone(),
        to_cluster_configs.clone(),
        to_configs.clone(),
    ));
    let (to_containers, container_triggers) = mpsc::channel(4096);
    let (waiting, to_waiting) = (containers.store(), to_containers.clone());
    let (to_networks, network_triggers) = mpsc::channel(4096);
    let (to_volumes, volume_triggers) = mpsc::channel(4096);
    let (to_services, service_triggers) = mpsc::channel(256);
    tokio::spawn(references::watch(
        scoped(&client, ns),
        scoped(&client, ns),
        references::Readers {
            containers: (containers.store(), to_containers.clone()),
            services: (services.store(), to_services),
        },
    ));
    tokio::spawn(routing::route_events(
        events_rx,
        routing::Routes {
            metrics: metrics.clone(),
            ctx: ctx.clone(),
            cluster_configs: to_cluster_configs.clone(),
            configs: to_configs.clone(),
            containers: (containers.store(), to_containers),
            networks: (networks.store(), to_networks),
            volumes: (volumes.store(), to_volumes),
            gates: gates.clone(),
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
    let services = services
        .with_config(config.clone())
        .reconcile_on(receiver_stream(service_triggers))
        .shutdown_on_signal()
        .run(
            |mr, ctx| managed::reconcile(mr, ctx, Arc::new(ServiceConnector)),
            error_policy,
            ctx.clone(),
        )
        .for_each(|_| futures::future::ready(()));
    let cluster_configs = cluster_configs
        .reconcile_on(receiver_stream(cluster_config_triggers))
        .shutdown_on_signal()
        .run(provider_config::reconcile, error_policy, ctx.clone())
        .for_each(|_| futures::future::ready(()));
    let configs = configs
        .reconcile_on(receiver_stream(config_triggers))
        .shutdown_on_signal()
        .run(provider_config::reconcile, error_policy, ctx.clone())
        .for_each(|_| futures::future::ready(()));

    // A Container waiting for a Network or Volume it references goes on once that is
    // Ready; each watch starts once its kind is served, like that kind's own loop.
    {
        let (client, gates, networks) = (
            client.clone(),
            gates.clone(),
            scoped::<Network>(&client, ns),
        );
        let (waiting, to_waiting) = (waiting.clone(), to_waiting.clone());
        tokio::spawn(async move {
            let watch = references::watch_dependencies(networks, waiting, to_waiting);
            gated(&client, &gates.networks, watch).await
        });
    }
    {
        let (client, gates, volumes) =
            (client.clone(), gates.clone(), scoped::<Volume>(&client, ns));
        tokio::spawn(async move {
            let watch = references::watch_dependencies(volumes, waiting, to_waiting);
            gated(&client, &gates.volumes, watch).await
        });
    }

    tracing::info!(namespace = ns.unwrap_or("*"), "provider-docker started");
    tokio::join!(
        gated(&client, &gates.containers, containers),
        gated(&client, &gates.networks, networks),
        gated(&client, &gates.volumes, volumes),
        gated(&client, &gates.services, services),
        gated(&client, &gates.cluster_configs, cluster_configs),
        gated(&client, &gates.configs, configs),
    );
    tracing::info!("provider-docker stopped");
    Ok(())
}
