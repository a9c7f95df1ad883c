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
    generation: Option<i64>,
    failures: u32,
    until: Instant,
}

impl Backoff {
    /// Records a failure; returns how long to wait before the next attempt. Transient
    /// errors back off from 1 s to 30 s, errors only the user can fix from 5 s to 5 min.
    pub fn failed(&self, uid: &str, generation: Option<i64>, class: ErrorClass) -> Duration {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let entry = entries.entry(uid.to_string()).or_insert(Entry {
            generation,
            failures: 0,
            until: Instant::now(),
        });
        if entry.generation != generation {
            entry.generation = generation;
            entry.failures = 0;
        }
        entry.failures = entry.failures.saturating_add(1);
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
            .map(|_| b.failed("u", Some(1), ErrorClass::User).as_secs())
            .collect();
        assert_eq!(&waits[..4], [5, 10, 20, 40]);
        assert_eq!(*waits.last().unwrap(), 300);
        assert!(b.pending("u", Some(1)).is_some());
    }

    #[test]
    fn a_new_generation_is_tried_at_once_and_starts_over() {
        let b = Backoff::default();
        b.failed("u", Some(1), ErrorClass::User);
        b.failed("u", Some(1), ErrorClass::User);
        assert!(b.pending("u", Some(2)).is_none());
        assert_eq!(
            b.failed("u", Some(2), ErrorClass::User),
            Duration::from_secs(5)
        );
        b.clear("u");
        assert!(b.pending("u", Some(2)).is_none());
    }
}
