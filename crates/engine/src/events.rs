//! One Docker event stream per daemon, kept open for as long as anyone listens:
//! resubscribed with backoff when the daemon goes away, with a `Resync` after each
//! (re)connection because events may have been missed meanwhile, and an [`Inventory`]
//! every poll interval while connected, as the safety net for events that never came.

use std::{collections::HashMap, sync::Arc, time::Duration};

use bollard::query_parameters::EventsOptionsBuilder;
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::{inventory::Inventory, pool::Daemon};

/// The kinds of Docker object whose events are watched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectKind {
    Container,
    Network,
    Volume,
}

/// Something happened on a daemon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DaemonEvent {
    /// An object changed: created, started, died, stopped, connected, removed...
    Object {
        kind: ObjectKind,
        /// Container or network ID; for volumes, the volume name.
        id: String,
        /// The object's name (containers without Docker's leading slash).
        name: Option<String>,
        action: String,
        /// The object's labels, where Docker sends them (containers).
        labels: HashMap<String, String>,
        /// For network (dis)connections and volume (un)mounts: the container's ID.
        container: Option<String>,
    },
    /// The stream (re)connected: look at everything on this daemon again.
    Resync,
    /// The poll: what the daemon holds now. Resources whose object differs from what
    /// they last observed need a look.
    Listed(Arc<Inventory>),
    /// The stream broke; the daemon may be down.
    Disconnected(String),
}

/// Attributes Docker adds to container events that are not labels.
const NOT_LABELS: &[&str] = &[
    "name",
    "image",
    "exitCode",
    "signal",
    "execDuration",
    "container",
    "type",
    "driver",
    "destination",
    "read/write",
    "propagation",
];

/// A duration within 10% of `base`, so that daemons and restarts do not poll in step.
fn jittered(base: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    base.mul_f64(0.9 + f64::from(nanos % 1000) / 5000.0)
}

/// Streams the daemon's container events into `tx`, tagged with `key`, until `tx` closes;
/// every `poll` (jittered) while connected, sends what the daemon holds.
pub async fn watch(
    daemon: Arc<Daemon>,
    key: String,
    poll: Duration,
    tx: mpsc::Sender<(String, DaemonEvent)>,
) {
    let mut backoff = Duration::from_millis(250);
    loop {
        if tx.is_closed() {
            return;
        }
        if daemon.docker().ping().await.is_ok() {
            backoff = Duration::from_millis(250);
            if tx.send((key.clone(), DaemonEvent::Resync)).await.is_err() {
                return;
            }
            let options = EventsOptionsBuilder::new()
                .filters(&HashMap::from([(
                    "type",
                    vec!["container", "network", "volume"],
                )]))
                .build();
            let mut stream = daemon.docker().events(Some(options));
            let mut next_poll = tokio::time::Instant::now() + jittered(poll);
            let reason = loop {
                let next = tokio::select! {
                    next = stream.next() => next,
                    () = tokio::time::sleep_until(next_poll) => {
                        next_poll = tokio::time::Instant::now() + jittered(poll);
                        match Inventory::take(&daemon).await {
                            Ok(inventory) => {
                                let event = DaemonEvent::Listed(Arc::new(inventory));
                                if tx.send((key.clone(), event)).await.is_err() {
                                    return;
                                }
                            }
                            // The event stream says so too when the daemon is gone.
                            Err(e) => tracing::debug!(daemon = %daemon.name(), error = %e, "poll failed"),
                        }
                        continue;
                    }
                };
                match next {
                    Some(Ok(message)) => {
                        use bollard::models::EventMessageTypeEnum as T;
                        let kind = match message.typ {
                            Some(T::CONTAINER) => ObjectKind::Container,
                            Some(T::NETWORK) => ObjectKind::Network,
                            Some(T::VOLUME) => ObjectKind::Volume,
                            _ => continue,
                        };
                        let actor = message.actor.unwrap_or_default();
                        let Some(id) = actor.id else { continue };
                        let mut attributes = actor.attributes.unwrap_or_default();
                        let name = attributes.remove("name");
                        let container = attributes.remove("container");
                        for key in NOT_LABELS {
                            attributes.remove(*key);
                        }
                        let action = message.action.unwrap_or_default();
                        if kind == ObjectKind::Container
                            && (crate::own_events::uninformative(&action)
                                || daemon.own_events.take(&id, name.as_deref(), &action))
                        {
                            continue;
                        }
                        let event = DaemonEvent::Object {
                            kind,
                            name: name.or_else(|| (kind == ObjectKind::Volume).then(|| id.clone())),
                            id,
                            action,
                            labels: attributes,
                            container,
                        };
                        if tx.send((key.clone(), event)).await.is_err() {
                            return;
                        }
                    }
                    Some(Err(e)) => break crate::error::root_cause(&e),
                    None => break "the event stream ended".to_string(),
                }
            };
            tracing::info!(daemon = %daemon.name(), %reason, "docker event stream lost; resubscribing");
            // What the daemon said of itself may be out of date from here on (a restart,
            // an upgrade): the config this event reconciles asks afresh.
            daemon.forget_facts();
            if tx
                .send((key.clone(), DaemonEvent::Disconnected(reason)))
                .await
                .is_err()
            {
                return;
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}
