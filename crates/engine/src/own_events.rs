//! The container events our own calls cause: marked before the call, so the event stream
//! does not hand back as news what the caller already knows (it observes after it acts).
//! Only `create`, `start` and `pause` are marked; anything else the daemon reports (a
//! death, a removal, a health change) always comes through.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// How long a mark waits for its event. A call that answered emits its event within
/// milliseconds; a mark whose call failed without us knowing runs out here.
const WAIT: Duration = Duration::from_secs(10);

/// Events expected, by container name or ID and action.
#[derive(Debug, Default)]
pub struct OwnEvents(Mutex<HashMap<(String, &'static str), Instant>>);

impl OwnEvents {
    /// We are about to cause `action` on the container `who` (its name or ID).
    pub fn expect(&self, who: &str, action: &'static str) {
        let mut marks = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        marks.retain(|_, at| now.duration_since(*at) < WAIT);
        marks.insert((who.to_string(), action), now);
    }

    /// The call did not happen after all: its event, if any, is news.
    pub fn unexpect(&self, who: &str, action: &'static str) {
        let mut marks = self.0.lock().unwrap_or_else(|e| e.into_inner());
        marks.remove(&(who.to_string(), action));
    }

    /// Whether the event (`action` on the container with `id` and `name`) is one we
    /// caused; it is consumed.
    pub fn take(&self, id: &str, name: Option<&str>, action: &str) -> bool {
        let mut marks = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if marks.is_empty() {
            return false;
        }
        let now = Instant::now();
        let mut found = false;
        for who in std::iter::once(id).chain(name) {
            let key = marks
                .keys()
                .find(|(w, a)| w == who && *a == action)
                .cloned();
            if let Some(key) = key
                && let Some(at) = marks.remove(&key)
            {
                found |= now.duration_since(at) < WAIT;
            }
        }
        found
    }
}

/// Container event actions that never change what a reconcile would find: a signal sent
/// (its `die` follows if it ends the process), execs, attaches, copies, file uploads.
pub fn uninformative(action: &str) -> bool {
    let action = action.split(':').next().unwrap_or_default().trim();
    matches!(
        action,
        "kill"
            | "attach"
            | "detach"
            | "resize"
            | "top"
            | "copy"
            | "archive-path"
            | "extract-to-dir"
            | "export"
            | "commit"
    ) || action.starts_with("exec_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expected_event_is_taken_once_by_name_or_id() {
        let own = OwnEvents::default();
        own.expect("web", "create");
        own.expect("abc123", "start");
        assert!(!own.take("abc123", Some("web"), "die"));
        assert!(own.take("abc123", Some("web"), "create"));
        assert!(!own.take("abc123", Some("web"), "create"));
        assert!(own.take("abc123", Some("web"), "start"));
        assert!(!own.take("abc123", Some("web"), "start"));
        own.expect("web", "start");
        own.unexpect("web", "start");
        assert!(!own.take("abc123", Some("web"), "start"));
    }

    #[test]
    fn only_events_that_cannot_change_state_are_uninformative() {
        for a in [
            "kill",
            "exec_create: sh -c true",
            "exec_die",
            "attach",
            "extract-to-dir",
        ] {
            assert!(uninformative(a), "{a}");
        }
        for a in [
            "create",
            "start",
            "die",
            "stop",
            "destroy",
            "health_status: unhealthy",
            "oom",
            "pause",
            "rename",
            "update",
        ] {
            assert!(!uninformative(a), "{a}");
        }
    }
}
