//! The daemons in use: the engine's client pool plus one Docker event watcher per daemon,
//! restarted when the daemon's client is rebuilt. Events go to one channel that the
//! controllers turn into reconcile triggers.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use engine::{
    events::DaemonEvent,
    pool::{CallObserver, Daemon, DaemonSettings, Pool},
};
use tokio::{sync::mpsc, task::AbortHandle};

pub type EventSender = mpsc::Sender<(String, DaemonEvent)>;

pub struct Daemons {
    pool: Pool,
    /// How often each daemon's objects are listed (the safety-net poll).
    poll: std::time::Duration,
    watchers: Mutex<HashMap<String, (Arc<Daemon>, AbortHandle)>>,
    events: EventSender,
}

impl Daemons {
    pub fn new(
        events: EventSender,
        observer: Option<Arc<dyn CallObserver>>,
        poll: std::time::Duration,
    ) -> Self {
        Self {
            pool: Pool::new(observer),
            poll,
            watchers: Mutex::default(),
            events,
        }
    }

    /// The daemon for `key`, watching its events from the first use on.
    pub fn get(&self, key: &str, settings: &DaemonSettings) -> engine::Result<Arc<Daemon>> {
        let daemon = self.pool.get(key, settings)?;
        // A poisoned lock means a panic elsewhere mid-insert; the map is still usable.
        let mut watchers = self.watchers.lock().unwrap_or_else(|p| p.into_inner());
        let current = watchers
            .get(key)
            .is_some_and(|(d, _)| Arc::ptr_eq(d, &daemon));
        if !current {
            if let Some((_, old)) = watchers.remove(key) {
                old.abort();
            }
            let task = tokio::spawn(engine::events::watch(
                daemon.clone(),
                key.to_string(),
                self.poll,
                self.events.clone(),
            ));
            watchers.insert(key.to_string(), (daemon.clone(), task.abort_handle()));
        }
        Ok(daemon)
    }

    /// The daemon for `key` as last connected, if it is.
    pub fn existing(&self, key: &str) -> Option<Arc<Daemon>> {
        let watchers = self.watchers.lock().unwrap_or_else(|p| p.into_inner());
        watchers.get(key).map(|(d, _)| d.clone())
    }
}
