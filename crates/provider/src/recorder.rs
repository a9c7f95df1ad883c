//! Kubernetes Events, deduplicated: a warning repeated with the same reason and message
//! for the same object is published once per quiet period, so a failing resource does not
//! flood the API server while it retries.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType, Recorder as KubeRecorder, Reporter};

/// How long an identical warning stays suppressed.
const QUIET: Duration = Duration::from_secs(600);

pub struct Recorder {
    inner: KubeRecorder,
    recent: Mutex<HashMap<(String, String), (String, Instant)>>,
}

impl Recorder {
    pub fn new(client: kube::Client) -> Self {
        let reporter = Reporter {
            controller: "provider-docker".into(),
            instance: std::env::var("POD_NAME").ok(),
        };
        Self {
            inner: KubeRecorder::new(client, reporter),
            recent: Mutex::default(),
        }
    }

    /// Records something that happened: created, updated, recreated, deleted.
    pub async fn normal(&self, object: &ObjectReference, reason: &str, action: &str, note: String) {
        self.publish(object, EventType::Normal, reason, action, note)
            .await;
    }

    /// Records a problem, at most once per quiet period for the same object, reason and note.
    pub async fn warning(
        &self,
        object: &ObjectReference,
        reason: &str,
        action: &str,
        note: String,
    ) {
        let key = (object.uid.clone().unwrap_or_default(), reason.to_string());
        {
            let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            if let Some((last_note, at)) = recent.get(&key)
                && *last_note == note
                && now.duration_since(*at) < QUIET
            {
                return;
            }
            recent.retain(|_, (_, at)| now.duration_since(*at) < QUIET);
            recent.insert(key, (note.clone(), now));
        }
        self.publish(object, EventType::Warning, reason, action, note)
            .await;
    }

    /// Forgets an object's warnings, so a problem that comes back is reported again.
    pub fn clear(&self, uid: &str) {
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent.retain(|(u, _), _| u != uid);
    }

    async fn publish(
        &self,
        object: &ObjectReference,
        type_: EventType,
        reason: &str,
        action: &str,
        note: String,
    ) {
        let event = Event {
            type_,
            reason: reason.into(),
            // The Events API limits a note to 1 kB.
            note: Some(note.chars().take(1000).collect()),
            action: action.into(),
            secondary: None,
        };
        if let Err(e) = self.inner.publish(&event, object).await {
            tracing::debug!(error = %e, reason, "could not publish event");
        }
    }
}
