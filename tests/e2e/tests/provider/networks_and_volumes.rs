//! Network and Volume, end to end, and Containers that reference them.

use api::{
    CONDITION_READY, CONDITION_SYNCED, ConditionStatus, container::Container, network::Network,
    volume::Volume,
};
use kube::{
    Api,
    api::{DeleteParams, Patch, PatchParams},
};
use provider_docker_e2e::{
    DEADLINE, TestNs, docker_cli, exec, inspect, managed_ready, ready, test_image, wait,
};
use serde_json::json;

/// A /24 and a /64 of their own for each test, so parallel tests never overlap.
fn subnets(ns: &TestNs) -> (String, String, u8) {
    let n = ns
        .name
        .bytes()
        .fold(0u32, |a, b| a.wrapping_mul(31).wrapping_add(b as u32));
    let third = (n % 200) as u8 + 20;
    (
        format!("10.213.{third}.0/24"),
        format!("fd00:213:{third:x}::/64"),
        third,
    )
}

#[tokio::test]
async fn containers_on_a_user_network_reach_each_other_by_alias_and_static_addresses()
-> anyhow::Result<()> {
    let ns = TestNs::new("net").await?;
    let (v4, v6, third) = subnets(&ns);
    ns.apply_managed("Network",
        "app",
        json!({"forProvider": {"enableIPv6": true, "ipam": {"config": [{"subnet": v4}, {"subnet": v6}]}}}),
    )
    .await?;
    let web_v4 = format!("10.213.{third}.10");
    let web_v6 = format!("fd00:213:{third:x}::10");
    ns.apply_managed("Container",
        "web",
        json!({"forProvider": {"image": test_image(), "networks": [
            {"networkRef": {"name": "app"}, "aliases": ["www"], "ipv4Address": web_v4, "ipv6Address": web_v6}
        ]}}),
    )
    .await?;
    ns.apply_managed("Container",
        "client",
        json!({"forProvider": {"image": test_image(), "networks": [{"networkRef": {"name": "app"}}]}}),
    )
    .await?;
    let containers = ns.api::<Container>();
    ready(&containers, "web").await?;
    ready(&containers, "client").await?;

    let client = format!("{}-client", ns.name);
    for url in [
        "http://www/".to_string(),
        format!("http://{web_v4}/"),
        format!("http://[{web_v6}]/"),
    ] {
        let page = exec(&client, &["wget", "-q", "-O", "-", &url])?;
        assert!(page.contains("provider-docker test image"), "{url}: {page}");
    }
    let network: Network = managed_ready(&ns.api(), "app").await?;
    let attached = network.status.unwrap().at_provider.unwrap().containers;
    assert_eq!(attached, [client.clone(), format!("{}-web", ns.name)]);
    ns.finish().await
}

#[tokio::test]
async fn a_container_waits_for_its_network_and_volume_then_proceeds() -> anyhow::Result<()> {
    let ns = TestNs::new("wait").await?;
    let since = format!(
        "{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs()
    );
    ns.apply_managed(
        "Container",
        "c",
        json!({"forProvider": {"image": test_image(),
            "networks": [{"networkRef": {"name": "later"}}],
            "mounts": [{"mountPath": "/data", "volume": {"volumeRef": {"name": "store"}}}]}}),
    )
    .await?;
    let containers = ns.api::<Container>();
    let message = wait::value(
        DEADLINE,
        "the container to say what it waits for",
        || async {
            let c = containers.get("c").await?;
            Ok(provider_docker_e2e::condition(&c, CONDITION_READY)
                .filter(|(s, reason, _)| *s == ConditionStatus::False && reason == "Waiting")
                .and_then(|(_, _, m)| m))
        },
    )
    .await?;
    assert!(
        message.contains("Volume store") || message.contains("Network later"),
        "{message}"
    );
    assert!(inspect(&format!("{}-c", ns.name)).await?.is_none());

    ns.apply_managed("Network", "later", json!({"forProvider": {}}))
        .await?;
    ns.apply_managed("Volume", "store", json!({"forProvider": {}}))
        .await?;
    ready(&containers, "c").await?;

    // The subnet Docker chose is written back into the spec (late initialization).
    let network: Network = managed_ready(&ns.api(), "later").await?;
    let subnet = network.status.unwrap().at_provider.unwrap().subnets[0]
        .subnet
        .clone();
    let networks: Api<Network> = ns.api();
    wait::until(DEADLINE, "the chosen subnet in the spec", || async {
        let n = networks.get("later").await?;
        Ok(n.spec.for_provider.ipam.is_some_and(|i| {
            i.config.first().and_then(|c| c.subnet.clone()) == Some(subnet.clone())
        }))
    })
    .await?;
    // Writing the pools back is no change: the spec with them is reconciled without
    // recreating the network under its container.
    wait::until(
        DEADLINE,
        "the late-initialized spec to be reconciled",
        || async {
            let n = networks.get("later").await?;
            let synced = n
                .status
                .as_ref()
                .and_then(|s| s.managed.condition(CONDITION_SYNCED))
                .filter(|c| c.observed_generation == n.metadata.generation)
                .map(|c| c.status);
            anyhow::ensure!(
                synced != Some(ConditionStatus::False),
                "the late-initialized Network failed: {:?}",
                n.status
            );
            Ok(synced == Some(ConditionStatus::True))
        },
    )
    .await?;
    let until = format!(
        "{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs()
            + 1
    );
    let destroyed = docker_cli(&[
        "events",
        "--since",
        &since,
        "--until",
        &until,
        "--filter",
        "type=network",
        "--filter",
        "event=destroy",
        "--filter",
        &format!("network={}-later", ns.name),
    ])?;
    assert!(
        destroyed.trim().is_empty(),
        "the network was recreated: {destroyed}"
    );
    ns.finish().await
}

#[tokio::test]
async fn data_in_a_volume_survives_recreation_of_its_container() -> anyhow::Result<()> {
    let ns = TestNs::new("data").await?;
    ns.apply("apiVersion: docker.m.crossplane.io/v1alpha1\nkind: Volume\nmetadata: {name: store, labels: {app: data}}\nspec: {forProvider: {}}\n")
        .await?;
    let mount = json!([{"mountPath": "/data", "volume": {"volumeSelector": {"matchLabels": {"app": "data"}}}}]);
    ns.apply_managed(
        "Container",
        "c",
        json!({"forProvider": {"image": test_image(), "mounts": mount}}),
    )
    .await?;
    let containers = ns.api::<Container>();
    ready(&containers, "c").await?;
    let name = format!("{}-c", ns.name);
    exec(&name, &["sh", "-c", "echo kept > /data/file"])?;
    let before = inspect(&name).await?.unwrap().id;

    ns.apply_managed("Container",
        "c",
        json!({"forProvider": {"image": test_image(), "mounts": mount, "env": [{"name": "V", "value": "2"}]}}),
    )
    .await?;
    wait::until(DEADLINE, "the container to be recreated", || async {
        Ok(inspect(&name)
            .await?
            .is_some_and(|i| i.id != before && i.state.and_then(|s| s.running) == Some(true)))
    })
    .await?;
    assert_eq!(exec(&name, &["cat", "/data/file"])?, "kept\n");
    let volume: Volume = managed_ready(&ns.api(), "store").await?;
    assert_eq!(volume.status.unwrap().at_provider.unwrap().used_by, [name]);
    ns.finish().await
}

#[tokio::test]
async fn a_bind_device_volume_shows_a_host_directory() -> anyhow::Result<()> {
    let ns = TestNs::new("bind").await?;
    let dir = std::env::temp_dir().join(&ns.name);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("hello"), "from the host")?;
    ns.apply_managed("Volume",
        "hostdir",
        json!({"forProvider": {"driverOpts": {"type": "none", "o": "bind", "device": dir.to_str().unwrap()}}}),
    )
    .await?;
    ns.apply_managed("Container",
        "c",
        json!({"forProvider": {"image": test_image(), "mounts": [{"mountPath": "/srv", "volume": {"volumeRef": {"name": "hostdir"}}}]}}),
    )
    .await?;
    ready(&ns.api(), "c").await?;
    assert_eq!(
        exec(&format!("{}-c", ns.name), &["cat", "/srv/hello"])?,
        "from the host"
    );
    ns.finish().await?;
    // Removing a bind volume never touches the host directory.
    assert_eq!(std::fs::read_to_string(dir.join("hello"))?, "from the host");
    std::fs::remove_dir_all(dir)?;
    Ok(())
}

#[tokio::test]
async fn a_network_or_volume_in_use_is_removed_only_after_its_containers() -> anyhow::Result<()> {
    let ns = TestNs::new("order").await?;
    ns.apply_managed("Network", "n", json!({"forProvider": {}}))
        .await?;
    ns.apply_managed("Volume", "v", json!({"forProvider": {}}))
        .await?;
    ns.apply_managed(
        "Container",
        "c",
        json!({"forProvider": {"image": test_image(),
            "networks": [{"networkRef": {"name": "n"}}],
            "mounts": [{"mountPath": "/data", "volume": {"volumeRef": {"name": "v"}}}]}}),
    )
    .await?;
    let containers = ns.api::<Container>();
    ready(&containers, "c").await?;
    exec(
        &format!("{}-c", ns.name),
        &["sh", "-c", "echo precious > /data/file"],
    )?;

    let networks: Api<Network> = ns.api();
    let volumes: Api<Volume> = ns.api();
    networks.delete("n", &DeleteParams::default()).await?;
    volumes.delete("v", &DeleteParams::default()).await?;
    for (kind, message) in [
        ("Network", wait_in_use(&networks, "n").await?),
        ("Volume", wait_in_use(&volumes, "v").await?),
    ] {
        assert!(message.contains("in use"), "{kind}: {message}");
    }
    let volume_name = format!("{}-v", ns.name);
    let data = docker_cli(&[
        "run",
        "--rm",
        "-v",
        &format!("{volume_name}:/v"),
        &test_image(),
        "cat",
        "/v/file",
    ])?;
    assert_eq!(data, "precious\n", "the volume's data went while in use");

    containers.delete("c", &DeleteParams::default()).await?;
    wait::until(
        DEADLINE,
        "network and volume to go after the container",
        || async {
            Ok(networks.get_opt("n").await?.is_none() && volumes.get_opt("v").await?.is_none())
        },
    )
    .await?;
    assert!(docker_cli(&["volume", "inspect", &volume_name]).is_err());
    ns.finish().await
}

async fn wait_in_use<K: api::Managed>(api: &Api<K>, name: &str) -> anyhow::Result<String> {
    wait::value(DEADLINE, &format!("{name} to say it is in use"), || async {
        let r = api.get(name).await?;
        Ok(r.managed_status()
            .and_then(|s| s.condition(CONDITION_SYNCED))
            .filter(|c| c.status == ConditionStatus::False)
            .and_then(|c| c.message.clone())
            .filter(|m| m.contains("in use")))
    })
    .await
}

#[tokio::test]
async fn a_network_and_a_volume_removed_out_of_band_are_recreated_and_reattached()
-> anyhow::Result<()> {
    let ns = TestNs::new("oob").await?;
    ns.apply_managed("Network", "n", json!({"forProvider": {}}))
        .await?;
    ns.apply_managed("Volume", "spare", json!({"forProvider": {}}))
        .await?;
    ns.apply_managed("Container",
        "c",
        json!({"forProvider": {"image": test_image(), "networks": [{"networkRef": {"name": "n"}, "aliases": ["svc"]}]}}),
    )
    .await?;
    ns.apply_managed("Container",
        "probe",
        json!({"forProvider": {"image": test_image(), "networks": [{"networkRef": {"name": "n"}}]}}),
    )
    .await?;
    let containers = ns.api::<Container>();
    ready(&containers, "c").await?;
    ready(&containers, "probe").await?;
    managed_ready::<Volume>(&ns.api(), "spare").await?;
    let network = format!("{}-n", ns.name);
    let old_id = docker_cli(&["network", "inspect", "-f", "{{.Id}}", &network])?;

    // The provider reconnects a container within milliseconds; pause the two resources so
    // the network can be removed from under them, as an operator's mistake would.
    let pause = |v: Option<&str>| json!({"metadata": {"annotations": {"crossplane.io/paused": v}}});
    for c in ["c", "probe"] {
        containers
            .patch(
                c,
                &PatchParams::default(),
                &Patch::Merge(pause(Some("true"))),
            )
            .await?;
    }
    for c in ["c", "probe"] {
        wait::until(DEADLINE, "the pause to be seen", || async {
            let r = containers.get(c).await?;
            Ok(provider_docker_e2e::condition(&r, CONDITION_SYNCED)
                .is_some_and(|(_, reason, _)| reason == "ReconcilePaused"))
        })
        .await?;
    }
    for c in ["c", "probe"] {
        docker_cli(&[
            "network",
            "disconnect",
            "-f",
            &network,
            &format!("{}-{c}", ns.name),
        ])?;
    }
    docker_cli(&["network", "rm", &network])?;
    for c in ["c", "probe"] {
        containers
            .patch(c, &PatchParams::default(), &Patch::Merge(pause(None)))
            .await?;
    }
    docker_cli(&["volume", "rm", &format!("{}-spare", ns.name)])?;

    let probe = format!("{}-probe", ns.name);
    wait::until(
        DEADLINE,
        "the network back and both containers reattached",
        || async {
            let id =
                docker_cli(&["network", "inspect", "-f", "{{.Id}}", &network]).unwrap_or_default();
            Ok(!id.is_empty()
                && id != old_id
                && exec(&probe, &["wget", "-q", "-O", "/dev/null", "http://svc/"]).is_ok())
        },
    )
    .await?;
    wait::until(DEADLINE, "the volume back", || async {
        Ok(docker_cli(&["volume", "inspect", &format!("{}-spare", ns.name)]).is_ok())
    })
    .await?;
    ns.finish().await
}

#[tokio::test]
async fn invalid_and_overlapping_subnets_get_clear_answers() -> anyhow::Result<()> {
    let ns = TestNs::new("subnets").await?;
    let err = ns
        .apply_managed(
            "Network",
            "bad",
            json!({"forProvider": {"ipam": {"config": [{"subnet": "10.0.0.0/33"}]}}}),
        )
        .await
        .expect_err("an invalid CIDR is refused at admission")
        .to_string();
    assert!(err.contains("subnet must be a CIDR"), "{err}");
    let err = ns.apply_managed("Container",
        "both",
        json!({"forProvider": {"image": "x", "networkMode": "host", "networks": [{"name": "n"}]}}),
    )
    .await
    .expect_err("networkMode with networks is refused")
    .to_string();
    assert!(err.contains("networkMode or networks"), "{err}");

    let (v4, _, _) = subnets(&ns);
    ns.apply_managed(
        "Network",
        "first",
        json!({"forProvider": {"ipam": {"config": [{"subnet": v4}]}}}),
    )
    .await?;
    managed_ready::<Network>(&ns.api(), "first").await?;
    ns.apply_managed(
        "Network",
        "second",
        json!({"forProvider": {"ipam": {"config": [{"subnet": v4}]}}}),
    )
    .await?;
    let networks: Api<Network> = ns.api();
    let message = wait::value(DEADLINE, "the overlap to be reported", || async {
        let n = networks.get("second").await?;
        Ok(n.status
            .and_then(|s| s.managed.condition(CONDITION_SYNCED).cloned())
            .filter(|c| c.status == ConditionStatus::False)
            .and_then(|c| c.message))
    })
    .await?;
    assert!(message.to_lowercase().contains("overlap"), "{message}");
    ns.finish().await
}

#[tokio::test]
async fn the_network_and_volume_example_becomes_ready() -> anyhow::Result<()> {
    let ns = TestNs::new("example-nv").await?;
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/network-and-volume.yaml"
    ))?;
    ns.apply(&example).await?;
    ready(&ns.api(), "app").await?;
    managed_ready::<Network>(&ns.api(), "app-net").await?;
    managed_ready::<Volume>(&ns.api(), "app-data").await?;
    let attached = inspect(&format!("{}-app", ns.name))
        .await?
        .and_then(|i| i.network_settings)
        .and_then(|n| n.networks)
        .unwrap_or_default();
    assert!(
        attached.contains_key(&format!("{}-app-net", ns.name)),
        "{attached:?}"
    );
    ns.finish().await
}
