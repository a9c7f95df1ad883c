//! Watches the resources of a benchmark and stamps, for each, when its first status
//! arrived and when it first became Synced and Ready: timing from the watch, not from
//! polling, so that the figures are not rounded to a poll interval.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures::StreamExt;
use kube::{
    Api, ResourceExt,
    runtime::{WatchStreamExt, watcher},
};

use crate::is_ready;

#[derive(Default)]
struct Stamps {
    first_status: HashMap<String, Instant>,
    ready: HashMap<String, Instant>,
}

/// The stamps of one kind in one namespace, filled by a background watch.
pub struct Tracker {
    stamps: Arc<Mutex<Stamps>>,
    task: tokio::task::JoinHandle<()>,
}

impl Tracker {
    /// Starts watching; returns once the watch has its first list, so that nothing that
    /// happens after this call is missed.
    pub async fn start<K: api::Managed>(api: Api<K>) -> anyhow::Result<Self> {
        let stamps = Arc::new(Mutex::new(Stamps::default()));
        let (listed_tx, listed_rx) = tokio::sync::oneshot::channel();
        let task = {
            let stamps = stamps.clone();
            tokio::spawn(async move {
                let mut listed = Some(listed_tx);
                let events = watcher(api, watcher::Config::default()).default_backoff();
                futures::pin_mut!(events);
                while let Some(event) = events.next().await {
                    let now = Instant::now();
                    let object = match event {
                        Ok(watcher::Event::InitDone) => {
                            if let Some(tx) = listed.take() {
                                let _ = tx.send(());
                            }
                            continue;
                        }
                        Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)) => o,
                        _ => continue,
                    };
                    let mut s = stamps.lock().unwrap_or_else(|e| e.into_inner());
                    let name = object.name_any();
                    if object.managed_status().is_some() {
                        s.first_status.entry(name.clone()).or_insert(now);
                    }
                    if is_ready(&object) {
                        s.ready.entry(name).or_insert(now);
                    }
                }
            })
        };
        tokio::time::timeout(Duration::from_secs(60), listed_rx)
            .await
            .map_err(|_| anyhow::anyhow!("the benchmark's watch did not list within 60 s"))??;
        Ok(Self { stamps, task })
    }

    /// Forgets every stamp (between rounds).
    pub fn clear(&self) {
        let mut s = self.stamps.lock().unwrap_or_else(|e| e.into_inner());
        *s = Stamps::default();
    }

    /// Waits until `names` are all Ready; returns the instant the last one became Ready.
    pub async fn all_ready(&self, names: &[String], deadline: Duration) -> anyhow::Result<Instant> {
        let start = Instant::now();
        loop {
            {
                let s = self.stamps.lock().unwrap_or_else(|e| e.into_inner());
                let stamps: Option<Vec<Instant>> =
                    names.iter().map(|n| s.ready.get(n).copied()).collect();
                if let Some(last) = stamps.and_then(|v| v.into_iter().max()) {
                    return Ok(last);
                }
                if start.elapsed() > deadline {
                    let missing = names.iter().filter(|n| !s.ready.contains_key(*n)).count();
                    anyhow::bail!("{missing} of {} not Ready after {deadline:?}", names.len());
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// When the first resource got its first status and when the last one became Ready,
    /// over every resource seen (for a breakdown of where the time went).
    pub fn span(&self) -> Option<(Instant, Instant)> {
        let s = self.stamps.lock().unwrap_or_else(|e| e.into_inner());
        Some((*s.first_status.values().min()?, *s.ready.values().max()?))
    }

    /// For each name applied at the given instant, how long until its first status.
    pub fn first_status_gaps(&self, applied: &HashMap<String, Instant>) -> Vec<Duration> {
        let s = self.stamps.lock().unwrap_or_else(|e| e.into_inner());
        applied
            .iter()
            .filter_map(|(name, at)| Some(s.first_status.get(name)?.saturating_duration_since(*at)))
            .collect()
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        self.task.abort();
    }
}
