//! Prometheus metrics: reconciles by kind and outcome, errors by reason, reconcile and
//! Docker call latency, Docker calls by daemon and operation, managed resources by
//! condition, event-stream reconnects and work-queue depth. Labels are bounded: kinds,
//! reasons and operations are fixed sets; daemons are provider configs.

use std::{sync::Arc, time::Duration};

use api::{ConditionStatus, Managed};
use engine::pool::CallObserver;
use kube::runtime::reflector::Store;
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReconcileLabels {
    pub kind: String,
    /// `success`, `error`, `waiting` or `paused`.
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    pub kind: String,
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    pub daemon: String,
    pub operation: &'static str,
    /// `ok` or the error's reason.
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabels {
    pub daemon: String,
    pub operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DaemonLabels {
    pub daemon: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConditionLabels {
    pub kind: String,
    pub condition: &'static str,
    pub status: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 1 ms to about 65 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

pub struct Metrics {
    registry: Registry,
    pub reconciles: Family<ReconcileLabels, Counter>,
    pub reconcile_errors: Family<ErrorLabels, Counter>,
    pub reconcile_duration: HistogramFamily<KindLabels>,
    pub reconciles_in_flight: Family<KindLabels, Gauge>,
    pub queue_depth: Family<KindLabels, Gauge>,
    pub docker_calls: Family<CallLabels, Counter>,
    pub docker_call_duration: HistogramFamily<OperationLabels>,
    pub event_stream_reconnects: Family<DaemonLabels, Counter>,
    pub managed_resources: Family<ConditionLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("provider_docker");
        let metrics = Self {
            reconciles: Family::default(),
            reconcile_errors: Family::default(),
            reconcile_duration: Family::new_with_constructor(latency_histogram),
            reconciles_in_flight: Family::default(),
            queue_depth: Family::default(),
            docker_calls: Family::default(),
            docker_call_duration: Family::new_with_constructor(latency_histogram),
            event_stream_reconnects: Family::default(),
            managed_resources: Family::default(),
            registry: Registry::default(),
        };
        registry.register(
            "reconciles",
            "Reconciles by kind and result",
            metrics.reconciles.clone(),
        );
        registry.register(
            "reconcile_errors",
            "Failed reconciles by kind and reason",
            metrics.reconcile_errors.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Time one reconcile takes, by kind",
            metrics.reconcile_duration.clone(),
        );
        registry.register(
            "reconciles_in_flight",
            "Reconciles running now, by kind",
            metrics.reconciles_in_flight.clone(),
        );
        registry.register(
            "work_queue_depth",
            "Reconcile triggers from Docker events waiting to be taken, by kind",
            metrics.queue_depth.clone(),
        );
        registry.register(
            "docker_api_calls",
            "Docker API calls by daemon, operation and outcome",
            metrics.docker_calls.clone(),
        );
        registry.register(
            "docker_api_call_duration_seconds",
            "Docker API call latency by daemon and operation",
            metrics.docker_call_duration.clone(),
        );
        registry.register(
            "docker_event_stream_reconnects",
            "Times a daemon's event stream was lost and resubscribed",
            metrics.event_stream_reconnects.clone(),
        );
        registry.register(
            "managed_resources",
            "Managed resources by kind and condition status",
            metrics.managed_resources.clone(),
        );
        Self {
            registry,
            ..metrics
        }
    }
}

impl Metrics {
    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// Counts one reconcile's result.
    pub fn reconciled(&self, kind: &str, result: &'static str) {
        self.reconciles
            .get_or_create(&ReconcileLabels {
                kind: kind.into(),
                result,
            })
            .inc();
    }

    pub fn failed(&self, kind: &str, reason: &'static str) {
        self.reconciled(kind, "error");
        self.reconcile_errors
            .get_or_create(&ErrorLabels {
                kind: kind.into(),
                reason,
            })
            .inc();
    }

    /// Recounts the managed resources of one kind by condition, from its cache.
    pub fn count_resources<K: Managed>(&self, store: &Store<K>) {
        let kind = K::kind_label().into_owned();
        let mut counts = std::collections::HashMap::<(&'static str, &'static str), i64>::new();
        for condition in [api::CONDITION_READY, api::CONDITION_SYNCED] {
            for status in ["True", "False", "Unknown"] {
                counts.insert((condition_name(condition), status), 0);
            }
        }
        for mr in store.state() {
            for condition in [api::CONDITION_READY, api::CONDITION_SYNCED] {
                let status = match mr.managed_status().and_then(|s| s.condition(condition)) {
                    Some(c) if c.status == ConditionStatus::True => "True",
                    Some(c) if c.status == ConditionStatus::False => "False",
                    _ => "Unknown",
                };
                *counts
                    .entry((condition_name(condition), status))
                    .or_default() += 1;
            }
        }
        for ((condition, status), n) in counts {
            self.managed_resources
                .get_or_create(&ConditionLabels {
                    kind: kind.clone(),
                    condition,
                    status,
                })
                .set(n);
        }
    }
}

fn condition_name(c: &str) -> &'static str {
    if c == api::CONDITION_READY {
        "Ready"
    } else {
        "Synced"
    }
}

/// Feeds Docker call reports from the engine's pool into the metrics.
pub struct DockerCalls(pub Arc<Metrics>);

impl CallObserver for DockerCalls {
    fn observe(
        &self,
        daemon: &str,
        op: &'static str,
        elapsed: Duration,
        error: Option<&engine::Error>,
    ) {
        self.0
            .docker_calls
            .get_or_create(&CallLabels {
                daemon: daemon.into(),
                operation: op,
                outcome: error.map_or("ok", engine::Error::reason),
            })
            .inc();
        self.0
            .docker_call_duration
            .get_or_create(&OperationLabels {
                daemon: daemon.into(),
                operation: op,
            })
            .observe(elapsed.as_secs_f64());
    }
}
