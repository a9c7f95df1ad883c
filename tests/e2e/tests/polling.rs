//! What keeps resources in line between Docker events, each with a provider of the test's
//! own: the poll lists each daemon instead of inspecting each resource, and a changed
//! Secret rolls the containers that read it without waiting for the resync.

use std::time::Duration;

use api::container::Container;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Patch, PatchParams};
use provider_docker_e2e::{
    DEADLINE, TestNs, controller::Controller, exec, http_get, inspect, metric, ready, wait,
};
use serde_json::json;

async fn scrape(port: u16) -> anyhow::Result<String> {
    Ok(http_get(&format!("127.0.0.1:{port}"), "/metrics").await?.1)
}

/// Docker calls of operation `op` the provider on `port` has made so far.
async fn calls(port: u16, op: &str) -> anyhow::Result<f64> {
    Ok(metric(
        &scrape(port).await?,
        "provider_docker_docker_api_calls_total",
        &[("operation", op)],
    ))
}

/// Applies `n` Containers `<prefix>-<i>` of the test image; returns `n` once all are Ready.
async fn all_ready(ns: &TestNs, prefix: &str, n: usize) -> anyhow::Result<usize> {
    let names: Vec<String> = (0..n).map(|i| format!("{prefix}-{i}")).collect();
    for name in &names {
        ns.apply_managed(
            "Container",
            name,
            json!({"forProvider": {"image": provider_docker_e2e::test_image()}}),
        )
        .await?;
    }
    let containers = ns.api::<Container>();
    for name in &names {
        ready(&containers, name).await?;
    }
    Ok(n)
}

#[tokio::test]
async fn an_idle_poll_lists_each_daemon_instead_of_inspecting_each_resource() -> anyhow::Result<()>
{
    let ns = TestNs::new_without_provider("poll-idle").await?;
    let port = 18471;
    let controller = Controller::start_with(&ns.name, port, &["--poll-interval", "1s"])?;
    all_ready(&ns, "idle", 5).await?;

    // The reconciles that Ready's own status writes trigger are over once two polls
    // pass without an inspect.
    let polls = |n: f64| async move {
        let (inspects, lists) = (
            calls(port, "inspect_container").await?,
            calls(port, "list_containers").await?,
        );
        wait::until(DEADLINE, &format!("{n} more polls"), || async {
            Ok(calls(port, "list_containers").await? >= lists + n)
        })
        .await?;
        anyhow::Ok(inspects)
    };
    let settling = std::time::Instant::now();
    let mut inspects = polls(2.0).await?;
    loop {
        let before = std::mem::replace(&mut inspects, polls(2.0).await?);
        if before == inspects {
            break;
        }
        anyhow::ensure!(
            settling.elapsed() < DEADLINE,
            "resources were still inspected poll after poll: {inspects} inspects"
        );
    }
    // Then polls go by, the daemon listed again and again, while no resource is inspected:
    // nothing changed, so nothing needed a look.
    let inspects = polls(5.0).await?;
    assert_eq!(
        calls(port, "inspect_container").await?,
        inspects,
        "an idle poll inspected resources"
    );

    // A change the lists show (a stopped container) is looked at and repaired.
    let docker_name = format!("{}-idle-0", ns.name);
    provider_docker_e2e::docker_cli(&["stop", "-t", "0", &docker_name])?;
    wait::until(DEADLINE, "the stopped container to run again", || async {
        Ok(inspect(&docker_name)
            .await?
            .and_then(|c| c.state?.running)
            .unwrap_or(false))
    })
    .await?;
    controller.assert_no_panic();
    ns.finish().await
}

#[tokio::test]
async fn a_changed_secret_rolls_the_containers_that_read_it_at_once() -> anyhow::Result<()> {
    let ns = TestNs::new_without_provider("poll-secret").await?;
    // The resync is an hour away: only the Secret's watch can roll the container in time.
    let controller = Controller::start_with(
        &ns.name,
        18472,
        &["--poll-interval", "1h", "--resync-interval", "1h"],
    )?;
    ns.secret("app", "Opaque", json!({"token": "first"}))
        .await?;
    ns.apply_managed(
        "Container",
        "reader",
        json!({"forProvider": {
            "image": provider_docker_e2e::test_image(),
            "env": [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "app", "key": "token"}}}],
        }}),
    )
    .await?;
    let containers = ns.api::<Container>();
    ready(&containers, "reader").await?;
    let docker_name = format!("{}-reader", ns.name);
    let token = |env: &str| env.lines().any(|l| l == "TOKEN=second");
    assert!(
        exec(&docker_name, &["env"])?
            .lines()
            .any(|l| l == "TOKEN=first")
    );

    ns.api::<Secret>()
        .patch(
            "app",
            &PatchParams::apply("e2e-test").force(),
            &Patch::Apply(json!({
                "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "app"},
                "stringData": {"token": "second"},
            })),
        )
        .await?;
    wait::until(
        Duration::from_secs(60),
        "the container to run with the new value",
        || async { Ok(exec(&docker_name, &["env"]).is_ok_and(|env| token(&env))) },
    )
    .await?;
    ready(&containers, "reader").await?;
    controller.assert_no_panic();
    ns.finish().await
}

#[tokio::test]
async fn a_batch_of_resources_asks_the_daemon_about_itself_rarely_not_per_resource()
-> anyhow::Result<()> {
    let ns = TestNs::new_without_provider("poll-facts").await?;
    let port = 18473;
    let started = std::time::Instant::now();
    let controller = Controller::start_with(&ns.name, port, &[])?;
    let n = all_ready(&ns, "batch", 12).await?;
    // Every new user reconciles the config; its daemon check (version and info) is made
    // afresh only when the last is 10 s old, or the config or the event stream changed.
    let infos = calls(port, "info").await?;
    let bound = 2.0 + (started.elapsed().as_secs_f64() / 10.0).ceil();
    assert!(
        infos <= bound,
        "{infos} info calls for {n} resources in {:?} (at most {bound})",
        started.elapsed()
    );
    assert!(infos >= 1.0, "the config's daemon was never checked");
    controller.assert_no_panic();
    ns.finish().await
}

/// Container reconciles the provider on `port` has finished with `result` (any if None).
async fn reconciles(port: u16, result: Option<&str>) -> anyhow::Result<f64> {
    let mut labels = vec![("kind", "Container")];
    labels.extend(result.map(|r| ("result", r)));
    Ok(metric(
        &scrape(port).await?,
        "provider_docker_reconciles_total",
        &labels,
    ))
}

/// The Container reconciles so far, once two seconds pass without one.
async fn settled(port: u16) -> anyhow::Result<f64> {
    let settling = std::time::Instant::now();
    let mut before = reconciles(port, None).await?;
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let now = reconciles(port, None).await?;
        if std::mem::replace(&mut before, now) == now {
            return Ok(now);
        }
        anyhow::ensure!(settling.elapsed() < DEADLINE, "reconciles never settled");
    }
}

#[tokio::test]
async fn only_changes_a_reconcile_reads_trigger_one() -> anyhow::Result<()> {
    let ns = TestNs::new_without_provider("poll-quiet").await?;
    let port = 18474;
    // Nothing periodic: every reconcile below is one a change triggered.
    let controller = Controller::start_with(
        &ns.name,
        port,
        &["--poll-interval", "1h", "--resync-interval", "1h"],
    )?;
    all_ready(&ns, "quiet", 1).await?;
    let before = settled(port).await?;

    // A Container made now takes one reconcile: the Docker events of its own create and
    // start (and the status, finalizer and annotation writes) bring no second one.
    ns.apply_managed(
        "Container",
        "later",
        json!({"forProvider": {"image": provider_docker_e2e::test_image()}}),
    )
    .await?;
    ready(&ns.api(), "later").await?;
    let before = {
        let now = settled(port).await?;
        assert_eq!(now - before, 1.0, "a create took more than one reconcile");
        now
    };

    // Labels and annotations the reconcile does not read, as the provider's own
    // bookkeeping writes them: no reconcile.
    let containers = ns.api::<Container>();
    let unread = json!({"metadata": {
        "labels": {"team": "a"},
        "annotations": {"crossplane.io/external-create-succeeded": "2026-01-01T00:00:00Z"},
    }});
    containers
        .patch("quiet-0", &PatchParams::default(), &Patch::Merge(&unread))
        .await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        reconciles(port, None).await?,
        before,
        "a change no reconcile reads triggered one"
    );

    // Pausing is read: it is reconciled at once.
    let pause = json!({"metadata": {"annotations": {"crossplane.io/paused": "true"}}});
    containers
        .patch("quiet-0", &PatchParams::default(), &Patch::Merge(&pause))
        .await?;
    wait::until(DEADLINE, "the pause to be reconciled", || async {
        Ok(reconciles(port, Some("paused")).await? >= 1.0)
    })
    .await?;
    // A paused resource keeps its finalizer: unpause, so the namespace can go.
    let resume = json!({"metadata": {"annotations": {"crossplane.io/paused": null}}});
    containers
        .patch("quiet-0", &PatchParams::default(), &Patch::Merge(&resume))
        .await?;
    controller.assert_no_panic();
    ns.finish().await
}
