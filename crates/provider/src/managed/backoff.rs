//! Per-resource retry backoff, honoured whatever triggers a reconcile: Docker events of a
//! failed attempt (a create and a removal) must not start the next attempt at once. Kept
//! per generation, so a spec change is tried immediately. Lost on restart, which only
//! means one early retry.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use engine::ErrorClass;

#[derive(Default)]
pub struct Backoff {
    entries: Mutex<HashMap<String, Entry>>,
}

struct Entry {
    /// The daemon whose absence caused the failure, if that was the cause.
    daemon: Option<String>,
    generation: Option<i64>,
    failures: u32,
    until: Instant,
}

impl Backoff {
    /// Records a failure; returns how long to wait before the next attempt. Transient
    /// errors back off from 1 s to 30 s, errors only the user can fix from 5 s to 5 min.
    pub fn failed(
        &self,
        uid: &str,
        generation: Option<i64>,
        class: ErrorClass,
        daemon: Option<&str>,
    ) -> Duration {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let entry = entries.entry(uid.to_string()).or_insert(Entry {
            daemon: None,
            generation,
            failures: 0,
            until: Instant::now(),
        });
        if entry.generation != generation {
            entry.generation = generation;
            entry.failures = 0;
        }
        entry.failures = entry.failures.saturating_add(1);
        entry.daemon = daemon.map(str::to_string);
        let (base, cap) = match class {
            ErrorClass::Transient => (Duration::from_secs(1), Duration::from_secs(30)),
            ErrorClass::User => (Duration::from_secs(5), Duration::from_secs(300)),
        };
        let wait = base
            .saturating_mul(1 << (entry.failures - 1).min(10))
            .min(cap);
        entry.until = Instant::now() + wait;
        wait
    }

    /// How much longer a resource that failed for this generation must wait, if at all.
    pub fn pending(&self, uid: &str, generation: Option<i64>) -> Option<Duration> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let entry = entries.get(uid)?;
        if entry.generation != generation {
            return None;
        }
        entry
            .until
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    /// The daemon answers again: what failed only because it was away is tried at once.
    pub fn daemon_back(&self, daemon: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|_, e| e.daemon.as_deref() != Some(daemon));
    }

    pub fn clear(&self, uid: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(uid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_back_off_exponentially_up_to_a_cap() {
        let b = Backoff::default();
        let waits: Vec<_> = (0..12)
            .map(|_| b.failed("u", Some(1), ErrorClass::User, None).as_secs())
            .collect();
        assert_eq!(&waits[..4], [5, 10, 20, 40]);
        assert_eq!(*waits.last().unwrap(), 300);
        assert!(b.pending("u", Some(1)).is_some());
    }

    #[test]
    fn a_new_generation_is_tried_at_once_and_starts_over() {
        let b = Backoff::default();
        b.failed("u", Some(1), ErrorClass::User, None);
        b.failed("u", Some(1), ErrorClass::User, None);
        assert!(b.pending("u", Some(2)).is_none());
        assert_eq!(
            b.failed("u", Some(2), ErrorClass::User, None),
            Duration::from_secs(5)
        );
        b.clear("u");
        assert!(b.pending("u", Some(2)).is_none());
    }

    #[test]
    fn a_daemon_coming_back_ends_the_backoff_it_caused_only() {
        let b = Backoff::default();
        b.failed(
            "away",
            Some(1),
            ErrorClass::Transient,
            Some("ClusterProviderConfig/a"),
        );
        b.failed("bad-spec", Some(1), ErrorClass::User, None);
        b.failed(
            "elsewhere",
            Some(1),
            ErrorClass::Transient,
            Some("ClusterProviderConfig/b"),
        );
        b.daemon_back("ClusterProviderConfig/a");
        assert!(b.pending("away", Some(1)).is_none());
        assert!(b.pending("bad-spec", Some(1)).is_some());
        assert!(b.pending("elsewhere", Some(1)).is_some());
    }
}
