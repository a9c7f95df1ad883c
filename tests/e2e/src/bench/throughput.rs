//! P1: N Containers applied at once until all are Ready, against a plain bollard loop that
//! creates and starts the same N containers at the controller's per-daemon concurrency.
//! Also the first-status gap: how long a new resource has no status (and so looks Healthy
//! to Argo CD and Current to kstatus).

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use api::container::Container;
use bollard::{
    models::{ContainerCreateBody, HostConfig, RestartPolicy, RestartPolicyNameEnum},
    query_parameters::{
        CreateContainerOptionsBuilder, ListContainersOptionsBuilder, RemoveContainerOptionsBuilder,
        StartContainerOptions,
    },
};
use futures::{StreamExt, TryStreamExt};
use serde_json::json;

use super::{
    CpuMark, Outcome, Row, Sizes, Stage, control_plane_cpu, median, percentile, secs, shared_cores,
    track::Tracker,
};
use crate::{TestNs, docker, test_image};

/// The provider's default Docker calls at once per daemon (`--max-concurrent-operations`).
pub const CONCURRENCY: usize = 16;

/// How many applies are in flight at once when a benchmark applies a batch ("at once").
pub const APPLY_CONCURRENCY: usize = 32;

const RAW_LABEL: &str = "provider-docker.bench/raw";

pub async fn run(sizes: &Sizes) -> anyhow::Result<Outcome> {
    let n = sizes.p1_containers;
    let stage = Stage::new("p1", 18491).await?;
    let tracker = Tracker::start(stage.ns.api::<Container>()).await?;
    let names: Vec<String> = (0..n).map(|i| format!("c-{i}")).collect();
    let (mut raw, mut ours, mut deletes, mut gaps) = (vec![], vec![], vec![], vec![]);
    // CPU of the control plane during each run, and of the provider during its own.
    let (mut raw_cp, mut ours_cpu) = (vec![], vec![]);
    for round in 0..sizes.rounds {
        let cp = control_plane_cpu();
        let run = raw_loop(n, &format!("{}-{round}", stage.ns.name), None).await?;
        raw.push(run.took);
        raw_cp.push(run.control_plane_at_end.saturating_sub(cp));
        tracker.clear();
        let cpu = CpuMark::now(&stage)?;
        let start = Instant::now();
        let applied = apply_containers(&stage.ns, &names, json!({})).await?;
        let last = tracker.all_ready(&names, sizes.deadline(n)).await?;
        ours.push(last.duration_since(start));
        ours_cpu.push(cpu.since(&stage)?);
        gaps.extend(tracker.first_status_gaps(&applied));
        deletes.push(stage.delete_all::<Container>(sizes.deadline(n)).await?);
    }
    stage.finish().await?;

    let (raw_median, ours_median) = (median(&raw), median(&ours));
    let ratio = ours_median.as_secs_f64() / raw_median.as_secs_f64().max(1e-9);
    let (cpu_row, cpu_figures) = shared_cores("p1", raw_median, &raw_cp, &ours_cpu);
    let rows = vec![
        Row {
            id: "p1",
            what: format!("{n} Containers applied at once → all Ready"),
            provider: secs(ours_median),
            baseline: format!(
                "{} (bollard create+start, {CONCURRENCY} at once)",
                secs(raw_median)
            ),
            result: format!("{ratio:.2}×"),
            target: "≤ 1.10×".into(),
            met: Some(ratio <= 1.10),
        },
        Row {
            id: "p1",
            what: "first-status gap (apply → first status write)".into(),
            provider: format!(
                "p50 {}, p99 {}",
                secs(percentile(&gaps, 50)),
                secs(percentile(&gaps, 99))
            ),
            baseline: "—".into(),
            result: "—".into(),
            target: "as short as possible".into(),
            met: None,
        },
        cpu_row,
    ];
    let list = |v: &[Duration]| v.iter().map(Duration::as_secs_f64).collect::<Vec<_>>();
    Ok(Outcome {
        rows,
        figures: json!({
            "containers": n,
            "concurrency": CONCURRENCY,
            "raw_seconds": list(&raw),
            "provider_seconds": list(&ours),
            "delete_seconds": list(&deletes),
            "ratio": ratio,
            "first_status_gap_p50": percentile(&gaps, 50).as_secs_f64(),
            "first_status_gap_p99": percentile(&gaps, 99).as_secs_f64(),
            "cpu": cpu_figures,
        }),
    })
}

/// Applies one Container per name running the test image, `APPLY_CONCURRENCY` at once;
/// returns when each apply was answered.
pub async fn apply_containers(
    ns: &TestNs,
    names: &[String],
    extra: serde_json::Value,
) -> anyhow::Result<HashMap<String, Instant>> {
    apply_all(
        ns,
        names.iter().map(|name| {
            // busybox as PID 1 ignores SIGTERM: a short grace keeps deletions (between
            // rounds, not measured) from waiting out Docker's default ten seconds.
            let mut for_provider = json!({ "image": test_image(), "stopGracePeriod": "1s" });
            if let (Some(body), Some(more)) = (for_provider.as_object_mut(), extra.as_object()) {
                body.extend(more.clone());
            }
            (
                "Container",
                name.clone(),
                json!({ "forProvider": for_provider }),
            )
        }),
    )
    .await
}

/// Applies managed resources `(kind, name, spec)`, `APPLY_CONCURRENCY` at once; returns
/// when each apply was answered.
pub async fn apply_all(
    ns: &TestNs,
    resources: impl Iterator<Item = (&'static str, String, serde_json::Value)>,
) -> anyhow::Result<HashMap<String, Instant>> {
    futures::stream::iter(resources)
        .map(|(kind, name, spec)| async move {
            ns.apply_managed(kind, &name, spec).await?;
            anyhow::Ok((name, Instant::now()))
        })
        .buffer_unordered(APPLY_CONCURRENCY)
        .try_collect()
        .await
}

/// Creates and starts `n` containers of the test image with a plain bollard loop,
/// `CONCURRENCY` at once, as the provider would make them (name, labels, restart policy),
/// on `network` (default: Docker's bridge); returns the time taken and removes them again.
pub async fn raw_loop(n: usize, prefix: &str, network: Option<&str>) -> anyhow::Result<RawRun> {
    let docker = docker()?;
    let start = Instant::now();
    futures::stream::iter(0..n)
        .map(|i| {
            let docker = docker.clone();
            async move {
                let name = format!("{prefix}-raw-{i}");
                let body = ContainerCreateBody {
                    image: Some(test_image()),
                    stop_timeout: Some(1),
                    labels: Some(HashMap::from([(RAW_LABEL.to_string(), prefix.to_string())])),
                    host_config: Some(HostConfig {
                        restart_policy: Some(RestartPolicy {
                            name: Some(RestartPolicyNameEnum::ALWAYS),
                            maximum_retry_count: None,
                        }),
                        network_mode: network.map(str::to_string),
                        ..Default::default()
                    }),
                    ..Default::default()
                };
                let options = CreateContainerOptionsBuilder::new().name(&name).build();
                let id = docker.create_container(Some(options), body).await?.id;
                docker
                    .start_container(&id, None::<StartContainerOptions>)
                    .await?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await?;
    let took = start.elapsed();
    let busy_at_end = super::machine_busy();
    let control_plane_at_end = control_plane_cpu();
    remove_labelled(&docker, &format!("{RAW_LABEL}={prefix}")).await?;
    Ok(RawRun {
        took,
        busy_at_end,
        control_plane_at_end,
    })
}

/// What one [`raw_loop`] measured.
pub struct RawRun {
    /// From the first create to the last container started.
    pub took: Duration,
    /// [`super::machine_busy`] when the last container had started, before the
    /// loop removed them: the CPU the loop needed is this less a reading taken before it.
    pub busy_at_end: Duration,
    /// [`control_plane_cpu`] at the same moment.
    pub control_plane_at_end: Duration,
}

/// Force-removes every container carrying `label` (`key=value`).
pub async fn remove_labelled(docker: &bollard::Docker, label: &str) -> anyhow::Result<()> {
    let filters = HashMap::from([("label".to_string(), vec![label.to_string()])]);
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    let ids: Vec<String> = docker
        .list_containers(Some(options))
        .await?
        .into_iter()
        .filter_map(|c| c.id)
        .collect();
    futures::stream::iter(ids)
        .map(|id| {
            let docker = docker.clone();
            async move {
                let options = RemoveContainerOptionsBuilder::new().force(true).build();
                docker.remove_container(&id, Some(options)).await?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}
