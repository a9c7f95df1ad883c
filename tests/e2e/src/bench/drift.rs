//! P3: a managed container removed (`docker rm -f`) or killed (`docker kill`) out of band,
//! again and again; the time until it runs again. The clock starts as the request is sent,
//! so a repair's time includes Docker's own removal or kill; the time from Docker's answer
//! (when the container is gone or dying) is reported beside it.

use std::time::{Duration, Instant};

use api::container::Container;
use bollard::query_parameters::{KillContainerOptions, RemoveContainerOptionsBuilder};
use kube::ResourceExt;
use serde_json::json;

use super::{
    Outcome, Row, Sizes, Stage, percentile, secs, throughput::apply_containers, track::Tracker,
};
use crate::{docker, inspect_on};

pub async fn run(sizes: &Sizes) -> anyhow::Result<Outcome> {
    let stage = Stage::new("p3", 18493).await?;
    let api = stage.ns.api::<Container>();
    let tracker = Tracker::start(api.clone()).await?;
    let names: Vec<String> = (0..sizes.p3_targets).map(|i| format!("d-{i}")).collect();
    apply_containers(&stage.ns, &names, json!({})).await?;
    tracker
        .all_ready(&names, sizes.deadline(names.len()))
        .await?;
    let mut docker_names = vec![];
    for name in &names {
        let c = api.get(name).await?;
        let external = c
            .annotations()
            .get("crossplane.io/external-name")
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("Container {name} has no external name"))?;
        docker_names.push(external);
    }

    let docker = docker()?;
    let (mut removed, mut killed, mut after_answer) = (vec![], vec![], vec![]);
    for i in 0..sizes.p3_repairs {
        let target = &docker_names[i % docker_names.len()];
        let before = running(&docker, target, None, Duration::from_secs(60)).await?;
        let start = Instant::now();
        if i % 2 == 0 {
            let options = RemoveContainerOptionsBuilder::new().force(true).build();
            docker.remove_container(target, Some(options)).await?;
        } else {
            docker
                .kill_container(target, None::<KillContainerOptions>)
                .await?;
        }
        let answered = Instant::now();
        running(&docker, target, Some(&before), sizes.deadline(1)).await?;
        let took = start.elapsed();
        after_answer.push(answered.elapsed());
        if i % 2 == 0 {
            &mut removed
        } else {
            &mut killed
        }
        .push(took);
    }
    stage.finish().await?;

    let all: Vec<Duration> = removed.iter().chain(&killed).copied().collect();
    let (p50, p99) = (percentile(&all, 50), percentile(&all, 99));
    let list = |v: &[Duration]| v.iter().map(Duration::as_secs_f64).collect::<Vec<_>>();
    Ok(Outcome {
        rows: vec![Row {
            id: "p3",
            what: format!(
                "drift repair, {} removals and kills out of band → running again",
                all.len()
            ),
            provider: format!("p50 {}, p99 {}", secs(p50), secs(p99)),
            baseline: "—".into(),
            result: format!(
                "removed: p50 {}; killed: p50 {}; from Docker's answer: p50 {}, p99 {}",
                secs(percentile(&removed, 50)),
                secs(percentile(&killed, 50)),
                secs(percentile(&after_answer, 50)),
                secs(percentile(&after_answer, 99))
            ),
            target: "p50 ≤ 0.5 s, p99 ≤ 2 s".into(),
            met: Some(p50 <= Duration::from_millis(500) && p99 <= Duration::from_secs(2)),
        }],
        figures: json!({
            "repairs": all.len(),
            "p50": p50.as_secs_f64(),
            "p99": p99.as_secs_f64(),
            "max": all.iter().max().copied().unwrap_or_default().as_secs_f64(),
            "removed_seconds": list(&removed),
            "killed_seconds": list(&killed),
            "after_answer_seconds": list(&after_answer),
        }),
    })
}

/// What identifies one run of a container: its ID and when it started.
#[derive(PartialEq)]
struct Run {
    id: String,
    started_at: String,
}

/// Polls (every 5 ms) until the container named `name` runs and is not the run `after`;
/// returns that run.
async fn running(
    docker: &bollard::Docker,
    name: &str,
    after: Option<&Run>,
    deadline: Duration,
) -> anyhow::Result<Run> {
    let start = Instant::now();
    loop {
        if let Some(c) = inspect_on(docker, name).await? {
            let state = c.state.unwrap_or_default();
            let run = Run {
                id: c.id.unwrap_or_default(),
                started_at: state.started_at.unwrap_or_default(),
            };
            if state.running == Some(true) && after != Some(&run) {
                return Ok(run);
            }
        }
        anyhow::ensure!(
            start.elapsed() < deadline,
            "container {name} did not run again within {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
