//! Scenarios 1, 2 and 12: the controller killed with SIGKILL at a random moment while it
//! creates, then while it deletes, a batch of Containers that share a Volume. Afterwards
//! Docker holds exactly one container per resource, then none; the volume's data is intact.

use std::time::{Duration, Instant};

use api::{container::Container, volume::Volume};
use kube::api::{DeleteParams, ListParams};
use provider_docker_e2e::{TestNs, docker, managed_ready, wait};
use serde_json::json;

use super::{
    Controller, Count, WORLD, all_ready, apply_containers, containers_by_uid, count, deadline,
    percentile, pick, random_below, report,
};

#[tokio::test]
async fn killed_while_creating_and_deleting_it_leaves_no_duplicate_orphan_or_lost_data()
-> anyhow::Result<()> {
    let _world = WORLD.read().await;
    let ns = TestNs::new_without_provider("chaos-crash").await?;
    let mut controller = Controller::start(&ns.name, 18461)?;
    let docker = docker()?;
    let containers = ns.api::<Container>();
    let (n, rounds) = (pick(20, 200), pick(1, 20));

    ns.apply_managed("Volume", "keep", json!({"forProvider": {}}))
        .await?;
    let volume = managed_ready(&ns.api::<Volume>(), "keep").await?;
    let mountpoint = volume
        .status
        .and_then(|s| s.at_provider)
        .and_then(|a| a.mountpoint)
        .ok_or_else(|| anyhow::anyhow!("the Volume reports no mountpoint"))?;
    let data = std::path::Path::new(&mountpoint).join("kept.txt");
    std::fs::write(&data, "data that must survive")?;
    let mount =
        json!({"mounts": [{"mountPath": "/data", "volume": {"volumeRef": {"name": "keep"}}}]});

    let mut created = Vec::new();
    let mut deleted = Vec::new();
    let mut totals = Count::default();
    for round in 0..rounds {
        // Creation, killed somewhere in the first seconds of the work.
        let start = Instant::now();
        apply_containers(&ns, &format!("r{round}"), n, mount.clone()).await?;
        tokio::time::sleep(Duration::from_millis(random_below(n as u64 * 40))).await;
        controller.restart()?;
        all_ready(&containers, n).await?;
        created.push(start.elapsed());
        let c = count(&docker, &containers, &ns.name).await?;
        assert_eq!(c, Count::default(), "after the creation round {round}");

        // Deletion, killed the same way.
        let start = Instant::now();
        for c in containers.list(&ListParams::default()).await? {
            containers
                .delete(
                    &c.metadata.name.unwrap_or_default(),
                    &DeleteParams::default(),
                )
                .await?;
        }
        tokio::time::sleep(Duration::from_millis(random_below(n as u64 * 20))).await;
        controller.restart()?;
        wait::until(
            deadline(),
            "every Container and its Docker container to go",
            || async {
                let left = containers.list(&ListParams::default()).await?.items.len();
                Ok(left == 0 && containers_by_uid(&docker, &ns.name).await?.is_empty())
            },
        )
        .await?;
        deleted.push(start.elapsed());
        let after = count(&docker, &containers, &ns.name).await?;
        totals.orphans += after.orphans;
        totals.duplicates += c.duplicates;
        assert_eq!(
            std::fs::read_to_string(&data)?,
            "data that must survive",
            "round {round}"
        );
    }
    controller.assert_no_panic();
    let seconds = |d: &[Duration]| d.iter().map(Duration::as_secs_f64).collect::<Vec<_>>();
    report(
        "crash-create",
        json!({
            "containers": n, "rounds": rounds, "duplicates": totals.duplicates,
            "orphans": 0, "seconds_to_all_ready": seconds(&created),
            "p50_seconds_to_all_ready": percentile(&created, 50),
            "max_seconds_to_all_ready": percentile(&created, 100),
        }),
    )?;
    report(
        "crash-delete",
        json!({
            "containers": n, "rounds": rounds, "orphans": totals.orphans,
            "finalizers_left": 0, "seconds_to_all_gone": seconds(&deleted),
            "max_seconds_to_all_gone": percentile(&deleted, 100),
            "volume_data_kept": true,
        }),
    )?;
    drop(controller);
    // The user deletes the volume last; a provider of the suite's own finalizes it.
    let _cleanup = Controller::start(&ns.name, 18461)?;
    ns.finish().await
}
