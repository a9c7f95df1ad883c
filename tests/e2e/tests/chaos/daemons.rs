//! Scenarios 3 and 4: a daemon that goes away, and one that never answers. Resources on
//! the other daemon carry on; the lost daemon's resources say so, and recover by
//! themselves when it returns, without restarting the controller.

use std::time::{Duration, Instant};

use api::{
    CONDITION_READY, ConditionStatus, container::Container, provider_config::ProviderConfig,
    volume::Volume,
};
use kube::Api;
use provider_docker_e2e::{TestNs, docker, docker_at, managed_ready, test_image, wait};
use serde_json::json;

use super::{Controller, WORLD, deadline, pick, ready, report};

/// The bench daemon the outage stops: one of this scenario's own.
const DAEMON: &str = "chaos";

use provider_docker_e2e::bench_daemons as daemons;

/// A Container on the ProviderConfig `config` (or the default), with env `MARK=mark`.
async fn container(
    ns: &TestNs,
    name: &str,
    config: Option<&str>,
    mark: &str,
) -> anyhow::Result<()> {
    let mut spec =
        json!({"forProvider": {"image": test_image(), "env": [{"name": "MARK", "value": mark}]}});
    if let Some(config) = config {
        spec["providerConfigRef"] = json!({"kind": "ProviderConfig", "name": config});
    }
    ns.apply_managed("Container", name, spec).await
}

/// The MARK env of a Docker container, if it exists.
async fn mark(docker: &bollard::Docker, name: &str) -> Option<String> {
    let c = docker.inspect_container(name, None).await.ok()?;
    c.config?
        .env?
        .into_iter()
        .find_map(|e| e.strip_prefix("MARK=").map(str::to_string))
}

fn not_ready(c: &Container) -> bool {
    c.status
        .as_ref()
        .and_then(|s| s.managed.condition(CONDITION_READY))
        .is_some_and(|c| c.status == ConditionStatus::False)
}

#[tokio::test]
async fn a_daemon_outage_is_reported_contained_and_recovered_from() -> anyhow::Result<()> {
    let _world = WORLD.read().await;
    let socket = {
        daemons(&["start", DAEMON])?;
        daemons(&["socket", DAEMON])?
    };
    let lost = docker_at(&socket)?;
    let main = docker()?;
    let ns = TestNs::new_without_provider("chaos-outage").await?;
    let controller = Controller::start(&ns.name, 18463)?;
    ns.provider_config("outage", json!({"host": socket}))
        .await?;
    let containers = ns.api::<Container>();
    let n = pick(3, 20);
    for i in 0..n {
        container(&ns, &format!("lost-{i}"), Some("outage"), "v1").await?;
        container(&ns, &format!("kept-{i}"), None, "v1").await?;
    }
    super::all_ready(&containers, 2 * n).await?;
    // A volume on the lost daemon, with data that must outlive the outage.
    ns.apply_managed(
        "Volume",
        "kept",
        json!({"forProvider": {}, "providerConfigRef": {"kind": "ProviderConfig", "name": "outage"}}),
    )
    .await?;
    let volume = managed_ready(&ns.api::<Volume>(), "kept").await?;
    let data = std::path::Path::new(
        &volume
            .status
            .and_then(|s| s.at_provider)
            .and_then(|a| a.mountpoint)
            .ok_or_else(|| anyhow::anyhow!("the Volume reports no mountpoint"))?,
    )
    .join("kept.txt");
    std::fs::write(&data, "kept through the outage")?;

    daemons(&["stop", DAEMON])?;
    let down = Instant::now();
    let lost_names: Vec<String> = (0..n).map(|i| format!("lost-{i}")).collect();
    wait::until(
        deadline(),
        "the lost daemon's Containers to be Ready=False",
        || async {
            let mut all = true;
            for name in &lost_names {
                all &= not_ready(&containers.get(name).await?);
            }
            Ok(all)
        },
    )
    .await?;
    let noticed = down.elapsed();
    let configs: Api<ProviderConfig> = ns.api();
    wait::until(
        deadline(),
        "the outage config to be Ready=False",
        || async {
            let c = configs.get("outage").await?;
            Ok(c.status
                .as_ref()
                .and_then(|s| s.conditions.iter().find(|c| c.type_ == CONDITION_READY))
                .is_some_and(|c| c.status == ConditionStatus::False))
        },
    )
    .await?;

    // Changes on both daemons while one is away: the other daemon's goes through.
    let changed = Instant::now();
    container(&ns, "kept-0", None, "v2").await?;
    container(&ns, "lost-0", Some("outage"), "v2").await?;
    let kept_name = format!("{}-kept-0", ns.name);
    wait::until(deadline(), "the kept daemon's change", || async {
        Ok(mark(&main, &kept_name).await.as_deref() == Some("v2")
            && ready(&containers.get("kept-0").await?))
    })
    .await?;
    let kept_change = changed.elapsed();

    let outage = Duration::from_secs(pick(10, 30));
    tokio::time::sleep(outage.saturating_sub(down.elapsed())).await;
    daemons(&["start", DAEMON])?;
    let back = Instant::now();
    let lost_name = format!("{}-lost-0", ns.name);
    wait::until(
        deadline(),
        "every Container Ready again, the change made",
        || async {
            let list = containers.list(&Default::default()).await?;
            Ok(list.items.iter().all(ready)
                && mark(&lost, &lost_name).await.as_deref() == Some("v2"))
        },
    )
    .await?;
    let recovered = back.elapsed();
    managed_ready(&ns.api::<Volume>(), "kept").await?;
    assert_eq!(std::fs::read_to_string(&data)?, "kept through the outage");
    controller.assert_no_panic();
    report(
        "daemon-outage",
        json!({
            "containers_per_daemon": n,
            "outage_seconds": outage.as_secs(),
            "seconds_to_ready_false": noticed.as_secs_f64(),
            "seconds_for_other_daemon_change": kept_change.as_secs_f64(),
            "seconds_to_all_ready_after_return": recovered.as_secs_f64(),
            "controller_restarts": 0,
            "volume_data_kept": true,
        }),
    )?;
    ns.finish().await
}

#[tokio::test]
async fn a_black_holed_daemon_times_out_and_delays_no_other_daemon() -> anyhow::Result<()> {
    let _world = WORLD.read().await;
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let hole = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let ns = TestNs::new_without_provider("chaos-hole").await?;
    let controller = Controller::start(&ns.name, 18464)?;
    ns.provider_config(
        "hole",
        json!({"host": format!("tcp://127.0.0.1:{port}"), "insecure": true, "timeout": "3s"}),
    )
    .await?;
    let containers = ns.api::<Container>();
    // How long a Container on the good daemon takes alone, then with the hole busy.
    let on_good_daemon = |name: &'static str| {
        let (ns, containers) = (&ns, &containers);
        async move {
            let start = Instant::now();
            container(ns, name, None, "v1").await?;
            wait::until(
                deadline(),
                &format!("{name} on the good daemon"),
                || async { Ok(ready(&containers.get(name).await?)) },
            )
            .await?;
            anyhow::Ok(start.elapsed())
        }
    };
    let alone = on_good_daemon("alone").await?;
    let start = Instant::now();
    let n = pick(3, 10);
    for i in 0..n {
        container(&ns, &format!("hole-{i}"), Some("hole"), "v1").await?;
    }
    let fine = on_good_daemon("fine").await?;
    let names: Vec<String> = (0..n).map(|i| format!("hole-{i}")).collect();
    wait::until(
        deadline(),
        "the black-holed Containers to say they timed out",
        || async {
            let mut all = true;
            for name in &names {
                let c = containers.get(name).await?;
                let says = c
                    .status
                    .as_ref()
                    .and_then(|s| {
                        s.managed
                            .conditions
                            .iter()
                            .find(|c| c.status == ConditionStatus::False)
                    })
                    .and_then(|c| c.message.clone())
                    .is_some_and(|m| m.contains("did not answer"));
                all &= says;
            }
            Ok(all)
        },
    )
    .await?;
    let timed_out = start.elapsed();
    controller.assert_no_panic();
    hole.abort();
    // Nothing was ever made behind the hole, and nothing can confirm it: let them go. The
    // provider may be quicker (without an external name nothing on any daemon is theirs),
    // so a Container already gone is fine.
    for name in &names {
        containers.delete(name, &Default::default()).await?;
        let release = json!({"metadata": {"finalizers": null}});
        let released = containers
            .patch(
                name,
                &kube::api::PatchParams::default(),
                &kube::api::Patch::Merge(&release),
            )
            .await;
        match released {
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            other => {
                other?;
            }
        }
    }
    report(
        "black-hole",
        json!({
            "black_holed_containers": n,
            "configured_timeout_seconds": 3,
            "seconds_to_timeout_condition": timed_out.as_secs_f64(),
            "seconds_to_ready_on_good_daemon_alone": alone.as_secs_f64(),
            "seconds_to_ready_on_good_daemon_with_hole": fine.as_secs_f64(),
        }),
    )?;
    ns.finish().await
}
