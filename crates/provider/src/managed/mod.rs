//! The one reconcile core for the Crossplane managed-resource contract, generic over kinds.
//!
//! Flow of one reconcile: paused → stop. First sight → write `Ready=False, Creating` at
//! once. Resolve the provider config, record the usage (before the daemon is touched),
//! connect, observe. Deleting → delete (if the policies allow) until the object is gone,
//! then drop usage and finalizer. Missing → add the finalizer and annotate create-pending
//! in one write, create, annotate succeeded/failed. Present → add the finalizer; out of
//! date → update. Then connection details and one status write, only if something changed.
//! As in crossplane-runtime, the finalizer comes after observe: a resource that never got
//! as far as a create holds nothing on any daemon, and deleting it needs no provider.
//!
//! Guarantees: idempotent (every step checks before it acts); a crash anywhere is repaired
//! by the next reconcile, because Docker names are deterministic and objects carry the
//! owner's UID, so a crash between create and the status write never makes a duplicate.
//! Kinds plug in through [`Connector`] and [`External`]; they hold no contract logic.

mod backoff;
mod connection;

pub use backoff::Backoff;
mod meta;
mod status;
pub mod usage;

use std::{collections::BTreeMap, future::Future, sync::Arc, time::Duration};

use api::{
    ANNOTATION_CREATE_FAILED, ANNOTATION_CREATE_PENDING, ANNOTATION_CREATE_SUCCEEDED,
    ANNOTATION_EXTERNAL_NAME, CONDITION_STALLED, Condition, Managed, annotation, is_paused,
};
use engine::{ErrorClass, labels::Owner, observe::Readiness};
use kube::{Api, ResourceExt, runtime::controller::Action};
use rand::Rng;

use crate::{
    config,
    context::Context,
    error::{Error, Result},
};
use status::StatusWriter;

/// What observing the Docker object found.
pub struct Observation<O, D> {
    pub exists: bool,
    /// What must change; `None` when the object is as desired.
    pub diff: Option<D>,
    pub at_provider: Option<O>,
    pub readiness: Readiness,
    /// Connection details (keys of DESIGN.md), published when the resource asks for it.
    pub connection: BTreeMap<String, String>,
    /// Values the daemon chose that the spec left out, as a merge patch of
    /// `spec.forProvider` (late initialization; never over a value the user set).
    pub late_init: Option<serde_json::Value>,
}

impl<O, D> Observation<O, D> {
    /// Nothing on the daemon.
    pub fn absent() -> Self {
        Self {
            exists: false,
            diff: None,
            at_provider: None,
            readiness: Readiness::Creating("does not exist yet".into()),
            connection: BTreeMap::new(),
            late_init: None,
        }
    }
}

/// The Docker side of one managed resource, connected for one reconcile.
pub trait External<K: Managed>: Send + Sync {
    /// What must change on an existing object.
    type Diff: Send + Sync;
    fn observe(
        &self,
    ) -> impl Future<Output = Result<Observation<K::Observation, Self::Diff>>> + Send;
    fn create(&self) -> impl Future<Output = Result<()>> + Send;
    /// Applies `diff`; returns what was done, for the Event.
    fn update(&self, diff: &Self::Diff) -> impl Future<Output = Result<String>> + Send;
    fn delete(&self) -> impl Future<Output = Result<()>> + Send;
    /// Whether the object must be looked at every poll interval even when nothing on its
    /// daemon changed (an image tag that may move in its registry). Everything else is
    /// watched through the daemon's events and inventory, and re-read at the resync.
    fn polled(&self) -> bool {
        false
    }
}

/// Where a managed resource lives on the Docker side.
pub struct Target {
    pub config: config::Resolved,
    /// The Docker object's name: external-name, or `<namespace>-<name>`.
    pub external_name: String,
    pub owner: Owner,
    /// Deleting: the kind must be able to remove the object without resolving references
    /// or translating the spec (Secrets may already be gone with the namespace).
    pub deleting: bool,
}

/// Builds a kind's [`External`]: resolves references and translates the spec.
pub trait Connector<K: Managed>: Send + Sync + 'static {
    type External: External<K>;
    fn connect(
        &self,
        ctx: &Context,
        mr: &K,
        target: Target,
    ) -> impl Future<Output = Result<Self::External>> + Send;
}

/// The Docker name of a managed resource: its external-name annotation, or
/// `<namespace>-<name>` until one is set.
pub fn external_name<K: Managed>(mr: &K) -> String {
    match annotation(mr, ANNOTATION_EXTERNAL_NAME) {
        Some(name) if !name.is_empty() => name.to_string(),
        _ => format!("{}-{}", mr.namespace().unwrap_or_default(), mr.name_any()),
    }
}

/// How the reconcile ended, before it becomes a requeue.
enum Next {
    /// The object is gone or released: wait for a change.
    Done,
    /// All well and watched: events and the daemon's inventory say when to look again;
    /// a full look at the resync interval.
    Resync,
    /// All well, but look again at the poll interval (see [`External::polled`]).
    Poll,
    /// On its way (starting, deleting): look again soon.
    Soon,
    /// Waiting for a referenced resource to become Ready.
    Waiting,
}

fn jittered(base: Duration) -> Duration {
    let factor = rand::rng().random_range(0.9..1.1);
    base.mul_f64(factor)
}

/// Reconciles one managed resource inside a span naming kind, resource and daemon, and
/// measures it. Returns an error only when even the status write failed; every other
/// failure is written to the resource as a condition and Event.
pub async fn reconcile<K, C>(mr: Arc<K>, ctx: Arc<Context>, connector: Arc<C>) -> Result<Action>
where
    K: Managed,
    C: Connector<K>,
{
    use tracing::Instrument;
    let kind = K::kind_label().into_owned();
    let labels = crate::metrics::KindLabels { kind: kind.clone() };
    let span = tracing::info_span!(
        "reconcile",
        kind = %kind,
        resource = %format!("{}/{}", mr.namespace().unwrap_or_default(), mr.name_any()),
        daemon = tracing::field::Empty,
    );
    let in_flight = ctx
        .metrics
        .reconciles_in_flight
        .get_or_create(&labels)
        .clone();
    in_flight.inc();
    let start = std::time::Instant::now();
    let result = reconcile_measured(mr, ctx.clone(), connector)
        .instrument(span.clone())
        .await;
    in_flight.dec();
    span.in_scope(|| {
        tracing::debug!(
            took_ms = start.elapsed().as_millis() as u64,
            requeue = ?result.as_ref().ok(),
            "reconciled"
        )
    });
    ctx.metrics
        .reconcile_duration
        .get_or_create(&labels)
        .observe(start.elapsed().as_secs_f64());
    result
}

async fn reconcile_measured<K, C>(
    mr: Arc<K>,
    ctx: Arc<Context>,
    connector: Arc<C>,
) -> Result<Action>
where
    K: Managed,
    C: Connector<K>,
{
    let kind = K::kind_label();
    let namespace = mr.namespace().unwrap_or_default();
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &namespace);
    let mut status = StatusWriter::new(&*mr);
    let deleting = mr.meta().deletion_timestamp.is_some();

    if is_paused(&*mr) {
        ctx.metrics.reconciled(&kind, "paused");
        status.set(Condition::reconcile_paused());
        status.write(&api, &mr.name_any()).await?;
        return Ok(Action::await_change());
    }
    if deleting && !meta::has_finalizer(&*mr) {
        return Ok(Action::await_change());
    }
    let uid = mr.uid().unwrap_or_default();
    if let Some(wait) = ctx.backoff.pending(&uid, mr.meta().generation) {
        // Failed recently for this spec: whatever triggered us (often the Docker events of
        // our own failed attempt), wait out the backoff.
        return Ok(Action::requeue(wait));
    }
    if !deleting && status.is_new() {
        // Seen for the first time: say so before anything slow happens, so GitOps tools
        // do not read the status-less object as healthy for long.
        status.set(Condition::creating(None));
        status.write(&api, &mr.name_any()).await?;
    }

    match sync(&mr, &ctx, &*connector, &api, &mut status, deleting).await {
        Ok(Next::Done) => {
            ctx.metrics.reconciled(&kind, "success");
            Ok(Action::await_change())
        }
        Ok(next) => {
            ctx.metrics.reconciled(
                &kind,
                if matches!(next, Next::Waiting) {
                    "waiting"
                } else {
                    "success"
                },
            );
            ctx.backoff.clear(&uid);
            status.set(Condition::reconcile_success());
            status.remove(CONDITION_STALLED);
            status.write(&api, &mr.name_any()).await?;
            ctx.recorder.clear(&mr.uid().unwrap_or_default());
            Ok(match next {
                Next::Soon => Action::requeue(Duration::from_secs(5)),
                Next::Waiting => Action::requeue(Duration::from_secs(2)),
                Next::Poll => Action::requeue(jittered(ctx.args.poll_interval)),
                _ => Action::requeue(jittered(ctx.args.resync_interval)),
            })
        }
        Err(e) => fail(&ctx, &*mr, &api, &mut status, e).await,
    }
}

/// Writes a failure to the resource (condition, Event) and picks the retry from its class.
async fn fail<K: Managed>(
    ctx: &Context,
    mr: &K,
    api: &Api<K>,
    status: &mut StatusWriter<K>,
    err: Error,
) -> Result<Action> {
    if err.is_conflict() {
        // Someone else wrote the object since we read it; the watch brings the new version.
        return Ok(Action::requeue(Duration::from_millis(500)));
    }
    ctx.metrics.failed(&K::kind_label(), err.reason());
    let message = err.to_string();
    let class = err.class();
    tracing::info!(
        kind = %K::kind_label(),
        resource = %format!("{}/{}", mr.namespace().unwrap_or_default(), mr.name_any()),
        reason = err.reason(),
        error = %message,
        "reconcile failed"
    );
    status.set(Condition::reconcile_error(message.clone()));
    if matches!(err.reason(), "DaemonUnreachable" | "DaemonTimeout") {
        // Nothing can be known about the object while its daemon is away.
        status.set(Condition::unavailable(message.clone()));
    }
    if class == ErrorClass::User {
        status.set(Condition::stalled(err.reason(), message.clone()));
    } else {
        status.remove(CONDITION_STALLED);
    }
    status.write(api, &mr.name_any()).await?;
    ctx.recorder
        .warning(&mr.object_ref(&()), err.reason(), "Reconcile", message)
        .await;
    Ok(Action::requeue(ctx.backoff.failed(
        &mr.uid().unwrap_or_default(),
        mr.meta().generation,
        class,
        err.absent_daemon(),
    )))
}

async fn sync<K, C>(
    mr: &Arc<K>,
    ctx: &Context,
    connector: &C,
    api: &Api<K>,
    status: &mut StatusWriter<K>,
    deleting: bool,
) -> Result<Next>
where
    K: Managed,
    C: Connector<K>,
{
    let spec = mr.managed_spec();
    let policies = spec.policies();
    let namespace = mr.namespace().unwrap_or_default();
    let name = mr.name_any();
    let object_ref = mr.object_ref(&());

    // The external-name is written before every create, so without one nothing on any
    // daemon is this resource's: release it without needing a usable config.
    let never_created = annotation(&**mr, ANNOTATION_EXTERNAL_NAME).is_none_or(str::is_empty);
    if deleting && (!policies.delete || never_created) {
        // Orphan: the Docker object stays; only our bookkeeping goes.
        usage::remove(ctx, &**mr).await?;
        meta::remove_finalizer(api, &**mr).await?;
        return Ok(Next::Done);
    }

    let resolved = config::resolve(ctx, &namespace, &spec.provider_config_ref, deleting).await?;
    tracing::Span::current().record("daemon", resolved.key.as_str());
    if !deleting {
        usage::ensure(ctx, &**mr, &spec.provider_config_ref).await?;
    }
    let external_name = external_name(&**mr);
    let daemon_name = resolved.key.clone();
    let target = Target {
        config: resolved,
        external_name: external_name.clone(),
        owner: Owner {
            uid: mr.uid().unwrap_or_default(),
            kind: K::kind_label().into_owned(),
            namespace: namespace.clone(),
            name: name.clone(),
        },
        deleting,
    };
    let external = match connector.connect(ctx, mr, target).await {
        Err(Error::Waiting(message)) if !deleting => {
            // Not an error: a dependency is on its way.
            status.set(Condition::waiting(message));
            return Ok(Next::Waiting);
        }
        other => other?,
    };
    let mut observed = external.observe().await?;

    if deleting {
        if observed.exists {
            external.delete().await?;
            ctx.recorder
                .normal(
                    &object_ref,
                    "DeletedExternalResource",
                    "Delete",
                    format!("removed {external_name} from {daemon_name}"),
                )
                .await;
            status.set(Condition::deleting());
            return Ok(Next::Soon);
        }
        usage::remove(ctx, &**mr).await?;
        meta::remove_finalizer(api, &**mr).await?;
        return Ok(Next::Done);
    }

    if !observed.exists {
        if !policies.create {
            return Err(Error::Contract(format!(
                "{external_name} does not exist on {daemon_name}, and spec.managementPolicies do not include Create; create it there, set the {ANNOTATION_EXTERNAL_NAME} annotation to an existing object, or allow Create"
            )));
        }
        let now = jiff::Timestamp::now().to_string();
        meta::add_finalizer(
            api,
            &**mr,
            status.resource_version(),
            &[
                (ANNOTATION_CREATE_PENDING, now.as_str()),
                (ANNOTATION_EXTERNAL_NAME, external_name.as_str()),
            ],
        )
        .await?;
        if let Err(e) = external.create().await {
            let now = jiff::Timestamp::now().to_string();
            // The create error is the one that matters; a failed annotation is retried.
            let _ = meta::annotate(api, &name, &[(ANNOTATION_CREATE_FAILED, now.as_str())]).await;
            return Err(e);
        }
        let now = jiff::Timestamp::now().to_string();
        meta::annotate(api, &name, &[(ANNOTATION_CREATE_SUCCEEDED, now.as_str())]).await?;
        ctx.recorder
            .normal(
                &object_ref,
                "CreatedExternalResource",
                "Create",
                format!("created {external_name} on {daemon_name}"),
            )
            .await;
        observed = external.observe().await?;
    } else {
        meta::add_finalizer(api, &**mr, status.resource_version(), &[]).await?;
        if let Some(diff) = &observed.diff
            && policies.update
        {
            let done = external.update(diff).await?;
            ctx.recorder
                .normal(&object_ref, "UpdatedExternalResource", "Update", done)
                .await;
            observed = external.observe().await?;
        }
    }

    if let Some(patch) = observed.late_init.take()
        && observed.exists
        && policies.late_initialize
    {
        meta::late_initialize(api, &name, patch).await?;
    }

    if let Some(secret) = &spec.write_connection_secret_to_ref
        && observed.exists
    {
        connection::publish(ctx, &**mr, &secret.name, &observed.connection).await?;
    }

    status.set_at_provider(observed.at_provider);
    let next = match observed.readiness {
        Readiness::Available(message) => {
            status.set(Condition::available(message));
            if external.polled() {
                Next::Poll
            } else {
                Next::Resync
            }
        }
        Readiness::Creating(message) => {
            status.set(Condition::creating(Some(message)));
            Next::Soon
        }
        Readiness::Unavailable(message) => {
            status.set(Condition::unavailable(message));
            Next::Soon
        }
    };
    Ok(next)
}
