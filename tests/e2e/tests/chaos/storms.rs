//! Scenario 6: out-of-band storms. Every managed container removed at once with
//! `docker rm -f`, then every one stopped: all run again, one per resource.

use std::time::{Duration, Instant};

use api::container::Container;
use provider_docker_e2e::{TestNs, docker, docker_cli, wait};
use serde_json::json;

use super::{
    Controller, Count, WORLD, all_ready, apply_containers, containers_by_uid, count, deadline,
    pick, report,
};

/// Waits until `n` containers of the namespace run, one per resource; returns the time.
async fn all_running(
    docker: &bollard::Docker,
    namespace: &str,
    n: usize,
    since: Instant,
) -> anyhow::Result<Duration> {
    wait::until(
        deadline(),
        &format!("{n} containers running again"),
        || async {
            let by_uid = containers_by_uid(docker, namespace).await?;
            if by_uid.len() != n || by_uid.values().any(|ids| ids.len() != 1) {
                return Ok(false);
            }
            let mut running = 0;
            for ids in by_uid.values() {
                let c = docker.inspect_container(&ids[0], None).await?;
                running += usize::from(c.state.and_then(|s| s.running) == Some(true));
            }
            Ok(running == n)
        },
    )
    .await?;
    Ok(since.elapsed())
}

fn ids(by_uid: &std::collections::BTreeMap<String, Vec<String>>) -> Vec<String> {
    by_uid.values().flatten().cloned().collect()
}

#[tokio::test]
async fn storms_of_removals_and_stops_are_repaired_without_duplicates() -> anyhow::Result<()> {
    let _world = WORLD.read().await;
    let ns = TestNs::new_without_provider("chaos-storm").await?;
    let controller = Controller::start(&ns.name, 18462)?;
    let docker = docker()?;
    let containers = ns.api::<Container>();
    let n = pick(20, 100);
    apply_containers(&ns, "s", n, json!({})).await?;
    all_ready(&containers, n).await?;

    let victims = ids(&containers_by_uid(&docker, &ns.name).await?);
    let start = Instant::now();
    docker_cli(
        &[
            &["rm", "-f"][..],
            &victims.iter().map(String::as_str).collect::<Vec<_>>(),
        ]
        .concat(),
    )?;
    let removed = all_running(&docker, &ns.name, n, start).await?;
    assert_eq!(
        count(&docker, &containers, &ns.name).await?,
        Count::default()
    );

    let victims = ids(&containers_by_uid(&docker, &ns.name).await?);
    let start = Instant::now();
    docker_cli(
        &[
            &["stop", "-t", "0"][..],
            &victims.iter().map(String::as_str).collect::<Vec<_>>(),
        ]
        .concat(),
    )?;
    let stopped = all_running(&docker, &ns.name, n, start).await?;
    assert_eq!(
        count(&docker, &containers, &ns.name).await?,
        Count::default()
    );

    controller.assert_no_panic();
    report(
        "storms",
        json!({
            "containers": n,
            "seconds_to_last_after_rm": removed.as_secs_f64(),
            "seconds_to_last_after_stop": stopped.as_secs_f64(),
            "duplicates": 0,
        }),
    )?;
    ns.finish().await
}
