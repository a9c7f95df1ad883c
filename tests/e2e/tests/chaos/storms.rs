//! Scenario 6: out-of-band storms. Every managed container removed at once with
//! `docker rm -f`, then every one stopped: all run again, one per resource.

use std::time::{Duration, Instant};

use api::container::Container;
use bollard::query_parameters::{RemoveContainerOptionsBuilder, StopContainerOptionsBuilder};
use provider_docker_e2e::{TestNs, docker, wait};
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

#[derive(Clone, Copy)]
enum Storm {
    /// `docker rm -f`
    Remove,
    /// `docker stop -t 0`
    Stop,
}

/// How long one out-of-band call may take before the storm goes on without its answer.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Removes or stops every one of `ids` at once, as someone at the daemon would. Returns how
/// many calls Docker did not answer in time. Docker 20.10's stop and kill paths have waits
/// without a deadline (for a container the controller may already have started again), so
/// a call is let go after [`CALL_TIMEOUT`]: the storm is the fault, the repair is measured.
async fn storm(docker: &bollard::Docker, ids: &[String], what: Storm) -> anyhow::Result<usize> {
    let calls =
        ids.iter().map(|id| async move {
            let call = async {
                match what {
                    Storm::Remove => {
                        let options = RemoveContainerOptionsBuilder::new().force(true).build();
                        docker.remove_container(id, Some(options)).await
                    }
                    Storm::Stop => {
                        let options = StopContainerOptionsBuilder::new().t(0).build();
                        docker.stop_container(id, Some(options)).await
                    }
                }
            };
            match tokio::time::timeout(CALL_TIMEOUT, call).await {
                Err(_) => Ok(1),
                // Already gone or stopped by the time the call came: the storm did its part.
                Ok(Err(bollard::errors::Error::DockerResponseServerError {
                    status_code, ..
                })) if status_code == 404 || status_code == 304 || status_code == 409 => Ok(0),
                Ok(Err(e)) => Err(anyhow::anyhow!("storm call on {id}: {e}")),
                Ok(Ok(())) => Ok(0),
            }
        });
    futures::future::join_all(calls).await.into_iter().sum()
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
    let mut unanswered = storm(&docker, &victims, Storm::Remove).await?;
    let removed = all_running(&docker, &ns.name, n, start).await?;
    assert_eq!(
        count(&docker, &containers, &ns.name).await?,
        Count::default()
    );

    let victims = ids(&containers_by_uid(&docker, &ns.name).await?);
    let start = Instant::now();
    unanswered += storm(&docker, &victims, Storm::Stop).await?;
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
            "storm_calls_docker_did_not_answer": unanswered,
        }),
    )?;
    ns.finish().await
}
