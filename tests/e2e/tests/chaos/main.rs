//! The fault campaign (issue #12): each scenario breaks something on purpose on the real
//! bench and counts what survives. `make test` runs one short round of each with generous
//! deadlines; `make chaos` (CHAOS_FULL=1) runs the full campaign. Every scenario writes its
//! figures to `target/chaos/<scenario>.json`, which `tests/chaos/table.py` prints.
//!
//! Each scenario runs a provider of its own, watching only its namespace, so that it can
//! kill and restart it. The API-server restart stops the world: it holds the write side
//! of [`WORLD`], every other scenario a read side.

mod apiserver;
mod crash;
mod daemons;
mod storms;
mod writers;

use std::{
    collections::BTreeMap,
    path::PathBuf,
    time::{Duration, Instant},
};

use api::container::Container;
use bollard::query_parameters::ListContainersOptionsBuilder;
use kube::{Api, api::ListParams};
use provider_docker_e2e::{TestNs, test_image, wait};
pub use provider_docker_e2e::{controller::Controller, is_ready as ready};
use serde_json::json;

/// Held for writing by the scenario that restarts the API server.
static WORLD: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// True for the full campaign (`make chaos`), false for the short round in `make test`.
fn full() -> bool {
    std::env::var("CHAOS_FULL").is_ok_and(|v| v == "1")
}

/// `fast` in `make test`, `full` in `make chaos`.
fn pick<T>(fast: T, full_size: T) -> T {
    if full() { full_size } else { fast }
}

/// How long a scenario waits for recovery before it fails: generous, never a target.
fn deadline() -> Duration {
    Duration::from_secs(pick(120, 900))
}

/// A number in `0..bound` that differs from run to run (which moment to kill at).
fn random_below(bound: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos() as u64;
    (nanos.wrapping_mul(6364136223846793005) >> 11) % bound.max(1)
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Writes a scenario's figures to `target/chaos/<scenario>.json`.
fn report(scenario: &str, figures: serde_json::Value) -> anyhow::Result<()> {
    let dir = repo().join("target/chaos");
    std::fs::create_dir_all(&dir)?;
    let body = json!({
        "scenario": scenario,
        "mode": if full() { "full" } else { "fast" },
        "figures": figures,
    });
    std::fs::write(
        dir.join(format!("{scenario}.json")),
        serde_json::to_string_pretty(&body)?,
    )?;
    eprintln!("{scenario}: {figures}");
    Ok(())
}

/// Waits until every Container in the namespace is Ready; returns how long it took.
async fn all_ready(api: &Api<Container>, expected: usize) -> anyhow::Result<Duration> {
    let start = Instant::now();
    wait::until(
        deadline(),
        &format!("{expected} Containers Ready"),
        || async {
            let list = api.list(&ListParams::default()).await?;
            Ok(list.items.len() == expected && list.items.iter().all(ready))
        },
    )
    .await?;
    Ok(start.elapsed())
}

/// Applies `n` Containers named `<prefix>-<i>` running the test image.
async fn apply_containers(
    ns: &TestNs,
    prefix: &str,
    n: usize,
    extra: serde_json::Value,
) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    for i in 0..n {
        let name = format!("{prefix}-{i}");
        let mut for_provider = json!({"image": test_image()});
        if let (Some(body), Some(more)) = (for_provider.as_object_mut(), extra.as_object()) {
            body.extend(more.clone());
        }
        ns.apply_managed("Container", &name, json!({"forProvider": for_provider}))
            .await?;
        names.push(name);
    }
    Ok(names)
}

/// Docker's containers for the namespace's resources, by the UID label, on `docker`.
async fn containers_by_uid(
    docker: &bollard::Docker,
    namespace: &str,
) -> anyhow::Result<BTreeMap<String, Vec<String>>> {
    let filters = std::collections::HashMap::from([(
        "label".to_string(),
        vec![format!("docker.m.crossplane.io/namespace={namespace}")],
    )]);
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    let mut by_uid: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in docker.list_containers(Some(options)).await? {
        let uid = c
            .labels
            .as_ref()
            .and_then(|l| l.get("docker.m.crossplane.io/uid"))
            .cloned()
            .unwrap_or_default();
        by_uid
            .entry(uid)
            .or_default()
            .push(c.id.unwrap_or_default());
    }
    Ok(by_uid)
}

/// Duplicates (extra containers for one resource), orphans (containers of no resource)
/// and missing resources (no container) in the namespace.
#[derive(Debug, Default, PartialEq, serde::Serialize)]
struct Count {
    duplicates: usize,
    orphans: usize,
    missing: usize,
}

async fn count(
    docker: &bollard::Docker,
    api: &Api<Container>,
    namespace: &str,
) -> anyhow::Result<Count> {
    let by_uid = containers_by_uid(docker, namespace).await?;
    let uids: Vec<String> = api
        .list(&ListParams::default())
        .await?
        .items
        .iter()
        .filter_map(|c| c.metadata.uid.clone())
        .collect();
    Ok(Count {
        duplicates: by_uid
            .iter()
            .filter(|(uid, _)| uids.contains(uid))
            .map(|(_, ids)| ids.len() - 1)
            .sum(),
        orphans: by_uid
            .iter()
            .filter(|(uid, _)| !uids.contains(uid))
            .map(|(_, ids)| ids.len())
            .sum(),
        missing: uids.iter().filter(|u| !by_uid.contains_key(*u)).count(),
    })
}

/// Percentile `p` (0-100) of `values`, in seconds.
fn percentile(values: &[Duration], p: usize) -> f64 {
    provider_docker_e2e::percentile(values, p).as_secs_f64()
}
