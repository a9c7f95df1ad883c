//! Operations, end to end: metrics move as resources are created and fail, probes answer,
//! and a failing resource's Events are not repeated on every retry.

use api::{CONDITION_SYNCED, ConditionStatus};
use k8s_openapi::api::core::v1::Event;
use kube::api::ListParams;
use provider_docker_e2e::{
    DEADLINE, TestNs, condition_says, http_get, metric, provider, ready, test_image, wait,
};
use serde_json::json;

async fn apply(ns: &TestNs, name: &str, for_provider: serde_json::Value) -> anyhow::Result<()> {
    ns.apply_managed("Container", name, json!({ "forProvider": for_provider }))
        .await
}

async fn scrape() -> anyhow::Result<String> {
    let (status, body) = http_get(provider::METRICS_ADDRESS, "/metrics").await?;
    anyhow::ensure!(status == 200, "/metrics answered {status}");
    Ok(body)
}

#[tokio::test]
async fn metrics_move_as_resources_are_created_and_fail_and_probes_answer() -> anyhow::Result<()> {
    let ns = TestNs::new("metrics").await?;
    wait::until(DEADLINE, "the provider to be ready", || async {
        Ok(http_get(provider::METRICS_ADDRESS, "/readyz").await?.0 == 200)
    })
    .await?;
    assert_eq!(
        http_get(provider::METRICS_ADDRESS, "/healthz").await?.0,
        200
    );

    let before = scrape().await?;
    let success = |t: &str| {
        metric(
            t,
            "provider_docker_reconciles_total",
            &[("kind", "Container"), ("result", "success")],
        )
    };
    let creates = |t: &str| {
        metric(
            t,
            "provider_docker_docker_api_calls_total",
            &[("operation", "create_container"), ("outcome", "ok")],
        )
    };
    let missing = |t: &str| {
        metric(
            t,
            "provider_docker_reconcile_errors_total",
            &[("kind", "Container"), ("reason", "ImageMissing")],
        )
    };
    let durations = |t: &str| {
        metric(
            t,
            "provider_docker_reconcile_duration_seconds_count",
            &[("kind", "Container")],
        )
    };
    let latencies = |t: &str| {
        metric(
            t,
            "provider_docker_docker_api_call_duration_seconds_count",
            &[("operation", "inspect_container")],
        )
    };

    apply(&ns, "ok", json!({"image": test_image()})).await?;
    apply(
        &ns,
        "broken",
        json!({"image": "provider-docker-test/missing:1", "imagePullPolicy": "Never"}),
    )
    .await?;
    ready(&ns.api(), "ok").await?;
    condition_says(
        &ns.api(),
        "broken",
        CONDITION_SYNCED,
        ConditionStatus::False,
        "missing:1",
    )
    .await?;

    let after = scrape().await?;
    assert!(
        success(&after) > success(&before),
        "reconcile successes did not move"
    );
    assert!(
        creates(&after) > creates(&before),
        "Docker create calls did not move"
    );
    assert!(
        missing(&after) > missing(&before),
        "reconcile errors did not move"
    );
    assert!(
        durations(&after) > durations(&before),
        "the reconcile histogram did not move"
    );
    assert!(
        latencies(&after) > latencies(&before),
        "the Docker call histogram did not move"
    );
    wait::until(
        DEADLINE,
        "the managed-resource gauge to count them",
        || async {
            let t = scrape().await?;
            Ok(metric(
                &t,
                "provider_docker_managed_resources",
                &[
                    ("kind", "Container"),
                    ("condition", "Synced"),
                    ("status", "False"),
                ],
            ) >= 1.0
                && metric(
                    &t,
                    "provider_docker_managed_resources",
                    &[
                        ("kind", "Container"),
                        ("condition", "Ready"),
                        ("status", "True"),
                    ],
                ) >= 1.0)
        },
    )
    .await?;
    ns.finish().await
}

#[tokio::test]
async fn a_failing_resource_gets_one_event_not_one_per_retry() -> anyhow::Result<()> {
    let ns = TestNs::new("events").await?;
    apply(
        &ns,
        "broken",
        json!({"image": "provider-docker-test/missing:2", "imagePullPolicy": "Never"}),
    )
    .await?;
    let resource = format!("{}/broken", ns.name);
    // Wait for three failed attempts (backoff: 5 s, 10 s) in the provider's log.
    wait::until(DEADLINE, "three failed attempts", || async {
        let log = std::fs::read_to_string(provider::log_path())?;
        Ok(log
            .lines()
            .filter(|l| l.contains("reconcile failed") && l.contains(&resource))
            .count()
            >= 3)
    })
    .await?;
    let events = ns.api::<Event>().list(&ListParams::default()).await?.items;
    let warnings: Vec<_> = events
        .iter()
        .filter(|e| {
            e.involved_object.name.as_deref() == Some("broken")
                && e.type_.as_deref() == Some("Warning")
        })
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(
        warnings[0].count.unwrap_or(1) <= 1 && warnings[0].series.is_none(),
        "{:#?}",
        warnings[0]
    );
    assert!(
        warnings[0]
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("missing:2")
    );
    ns.finish().await
}
