//! The tenancy policy: every way onto the daemon host is refused unless the provider config
//! allows it, with a condition naming the field and the setting, and nothing reaches the
//! daemon.

use api::{CONDITION_SYNCED, ConditionStatus, container::Container, volume::Volume};
use kube::Api;
use provider_docker_e2e::{DEADLINE, TestNs, docker_cli, inspect, test_image, wait};
use serde_json::json;

async fn refusal<K: api::Managed>(api: &Api<K>, name: &str) -> anyhow::Result<String> {
    wait::value(DEADLINE, &format!("{name} to be refused"), || async {
        let r = api.get(name).await?;
        Ok(r.managed_status()
            .and_then(|s| s.condition(CONDITION_SYNCED))
            .filter(|c| c.status == ConditionStatus::False && c.reason == "ReconcileError")
            .and_then(|c| c.message.clone())
            .filter(|m| m.contains("is not allowed")))
    })
    .await
}

#[tokio::test]
async fn every_way_onto_the_host_is_refused_unless_the_config_allows_it() -> anyhow::Result<()> {
    let ns = TestNs::new("tenancy").await?;
    let docker_host =
        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
    // A namespaced config with the default policy: nothing onto the host.
    ns.apply(&format!(
        "apiVersion: docker.m.crossplane.io/v1alpha1\nkind: ProviderConfig\nmetadata: {{name: strict}}\nspec: {{host: \"{docker_host}\"}}\n"
    ))
    .await?;
    let strict = json!({"kind": "ProviderConfig", "name": "strict"});
    let image = test_image();
    let cases = [
        (
            "privileged",
            json!({"image": image, "security": {"privileged": true}}),
            "security.privileged",
        ),
        (
            "hostnet",
            json!({"image": image, "networkMode": "host"}),
            "networkMode",
        ),
        (
            "hostpid",
            json!({"image": image, "pidMode": "host"}),
            "pidMode",
        ),
        (
            "hostipc",
            json!({"image": image, "ipcMode": "host"}),
            "ipcMode",
        ),
        (
            "bind",
            json!({"image": image, "mounts": [{"mountPath": "/h", "hostPath": {"path": "/etc"}}]}),
            "allowedHostPaths",
        ),
        (
            "caps",
            json!({"image": image, "security": {"capabilities": {"add": ["SYS_ADMIN"]}}}),
            "allowedCapabilities",
        ),
        (
            "devices",
            json!({"image": image, "devices": [{"hostPath": "/dev/fuse"}]}),
            "allowDevices",
        ),
        (
            "gpus",
            json!({"image": image, "deviceRequests": [{"count": -1, "capabilities": [["gpu"]]}]}),
            "allowDevices",
        ),
    ];
    for (name, for_provider, _) in &cases {
        ns.apply_managed(
            "Container",
            name,
            json!({"forProvider": for_provider, "providerConfigRef": strict}),
        )
        .await?;
    }
    ns.apply_managed("Volume", "hostdir",
        json!({"forProvider": {"driverOpts": {"type": "none", "o": "bind", "device": "/etc"}}, "providerConfigRef": strict}),
    )
    .await?;

    let containers = ns.api::<Container>();
    for (name, _, setting) in &cases {
        let message = refusal(&containers, name).await?;
        assert!(
            message.contains(setting) && message.contains("ProviderConfig/"),
            "{name}: {message}"
        );
        assert!(
            inspect(&format!("{}-{name}", ns.name)).await?.is_none(),
            "{name} reached the daemon"
        );
    }
    let message = refusal(&ns.api::<Volume>(), "hostdir").await?;
    assert!(message.contains("driverOpts.device"), "{message}");
    assert!(docker_cli(&["volume", "inspect", &format!("{}-hostdir", ns.name)]).is_err());

    // The same container is allowed once the config allows it.
    ns.apply(&format!(
        "apiVersion: docker.m.crossplane.io/v1alpha1\nkind: ProviderConfig\nmetadata: {{name: strict}}\nspec: {{host: \"{docker_host}\", policy: {{allowedCapabilities: [SYS_ADMIN]}}}}\n"
    ))
    .await?;
    provider_docker_e2e::ready(&containers, "caps").await?;
    ns.finish().await
}

/// Another tenant's objects on a shared daemon: joining its container's network, PID or
/// IPC namespace, or mounting its volume by name, through Container fields or compose
/// fields, is refused, and nothing is made; the same sharing inside one namespace works.
#[tokio::test]
async fn another_namespaces_containers_and_volumes_cannot_be_shared() -> anyhow::Result<()> {
    let owner = TestNs::new("tenant-a").await?;
    let image = test_image();
    owner
        .apply_managed(
            "Container",
            "victim",
            json!({"forProvider": {"image": image, "ipcMode": "shareable"}}),
        )
        .await?;
    owner
        .apply_managed("Volume", "data", json!({"forProvider": {}}))
        .await?;
    provider_docker_e2e::ready(&owner.api(), "victim").await?;
    provider_docker_e2e::managed_ready(&owner.api::<Volume>(), "data").await?;
    let victim = format!("{}-victim", owner.name);
    let data = format!("{}-data", owner.name);

    let ns = TestNs::new("tenant-b").await?;
    let join = format!("container:{victim}");
    let cases = [
        (
            "joinnet",
            json!({"image": image, "networkMode": join}),
            "networkMode",
        ),
        (
            "joinpid",
            json!({"image": image, "pidMode": join}),
            "pidMode",
        ),
        (
            "joinipc",
            json!({"image": image, "ipcMode": join}),
            "ipcMode",
        ),
        (
            "stealvol",
            json!({"image": image, "mounts": [{"mountPath": "/d", "volume": {"name": data}}]}),
            "mounts[0].volume.name",
        ),
    ];
    for (name, for_provider, _) in &cases {
        ns.apply_managed("Container", name, json!({"forProvider": for_provider}))
            .await?;
    }
    let compose = format!(
        "services:\n  side: {{image: {image}, network_mode: \"container:{victim}\"}}\n  reader: {{image: {image}, volumes: [\"loot:/d\"]}}\nvolumes:\n  loot: {{external: true, name: {data}}}\n"
    );
    ns.apply_managed(
        "Service",
        "steal",
        json!({"forProvider": {"compose": compose}}),
    )
    .await?;
    // Inside one namespace, sharing is what it always was.
    ns.apply_managed(
        "Container",
        "host",
        json!({"forProvider": {"image": image, "ipcMode": "shareable"}}),
    )
    .await?;
    let host = format!("{}-host", ns.name);
    ns.apply_managed(
        "Container",
        "guest",
        json!({"forProvider": {"image": image, "pidMode": format!("container:{host}"), "ipcMode": format!("container:{host}")}}),
    )
    .await?;

    let containers = ns.api::<Container>();
    for (name, _, field) in &cases {
        let message = refusal(&containers, name).await?;
        assert!(
            message.contains(&format!("spec.forProvider.{field}"))
                && message.contains("another namespace"),
            "{name}: {message}"
        );
        assert!(
            inspect(&format!("{}-{name}", ns.name)).await?.is_none(),
            "{name} reached the daemon"
        );
    }
    let message = refusal(&ns.api::<api::service::Service>(), "steal").await?;
    assert!(
        message.contains("services.side.network_mode: container:")
            && message.contains("services.reader.volumes: volume ")
            && message.matches("another namespace").count() == 2,
        "{message}"
    );
    let project = docker_cli(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=com.docker.compose.project={}-steal", ns.name),
    ])?;
    assert!(
        project.trim().is_empty(),
        "the project reached the daemon: {project}"
    );
    let networks = docker_cli(&[
        "network",
        "ls",
        "-q",
        "--filter",
        &format!("label=com.docker.compose.project={}-steal", ns.name),
    ])?;
    assert!(networks.trim().is_empty(), "the project's network was made");

    provider_docker_e2e::ready(&containers, "guest").await?;
    ns.finish().await?;
    owner.finish().await
}

/// Networks and volumes by Docker name: another namespace's network, the host network
/// under its own name, a volume made outside provider-docker (mounted or adopted) and a
/// network made outside it (adopted) are refused and nothing is made; a volume a mount names before it exists is made for the
/// namespace, so the container is made again after it is removed out of band; releasing a
/// Volume that was refused leaves the volume and its data alone.
#[tokio::test]
async fn networks_and_volumes_of_others_cannot_be_named() -> anyhow::Result<()> {
    let owner = TestNs::new("tenant-net").await?;
    let image = test_image();
    owner
        .apply_managed("Network", "net", json!({"forProvider": {}}))
        .await?;
    provider_docker_e2e::managed_ready(&owner.api::<api::network::Network>(), "net").await?;
    let theirs = format!("{}-net", owner.name);

    let ns = TestNs::new("tenant-c").await?;
    let outside = format!("{}-outside", ns.name);
    docker_cli(&["volume", "create", &outside])?;
    docker_cli(&[
        "run",
        "--rm",
        "-v",
        &format!("{outside}:/d"),
        &image,
        "sh",
        "-c",
        "echo payroll > /d/f",
    ])?;
    let cases = [
        (
            "joinnet",
            json!({"image": image, "networks": [{"name": theirs}]}),
            "spec.forProvider.networks[0]: network ",
        ),
        (
            "hostbyname",
            json!({"image": image, "networks": [{"name": "host"}]}),
            "spec.forProvider.networks[0]: the host network",
        ),
        (
            "outsidevol",
            json!({"image": image, "mounts": [{"mountPath": "/d", "volume": {"name": outside}}]}),
            "is not a volume provider-docker manages",
        ),
    ];
    for (name, for_provider, _) in &cases {
        ns.apply_managed("Container", name, json!({"forProvider": for_provider}))
            .await?;
    }
    docker_cli(&["network", "create", &outside])?;
    for kind in ["Volume", "Network"] {
        ns.apply(&format!(
            "apiVersion: docker.m.crossplane.io/v1alpha1\nkind: {kind}\nmetadata: {{name: adopt, annotations: {{crossplane.io/external-name: {outside}}}}}\nspec: {{forProvider: {{}}}}\n"
        ))
        .await?;
    }
    let compose = format!(
        "services:\n  web: {{image: {image}, networks: [theirs, hostnet]}}\nnetworks:\n  theirs: {{external: true, name: {theirs}}}\n  hostnet: {{external: true, name: host}}\n"
    );
    ns.apply_managed(
        "Service",
        "sneak",
        json!({"forProvider": {"compose": compose}}),
    )
    .await?;
    // A volume no one made yet is made for this namespace.
    let fresh = format!("{}-fresh", ns.name);
    ns.apply_managed(
        "Container",
        "fresh",
        json!({"forProvider": {"image": image, "mounts": [{"mountPath": "/d", "volume": {"name": fresh}}]}}),
    )
    .await?;

    let containers = ns.api::<Container>();
    for (name, _, expected) in &cases {
        let message = refusal(&containers, name).await?;
        assert!(message.contains(expected), "{name}: {message}");
        assert!(
            inspect(&format!("{}-{name}", ns.name)).await?.is_none(),
            "{name} reached the daemon"
        );
    }
    let message = refusal(&ns.api::<Volume>(), "adopt").await?;
    assert!(
        message.contains("made outside provider-docker") && message.contains("allowedHostPaths"),
        "{message}"
    );
    let message = refusal(&ns.api::<api::network::Network>(), "adopt").await?;
    assert!(
        message.contains(&format!("adopting network {outside}"))
            && message.contains("spec.policy.allowAdoption"),
        "{message}"
    );
    let message = refusal(&ns.api::<api::service::Service>(), "sneak").await?;
    assert!(
        message.contains("another namespace") && message.contains("the host network"),
        "{message}"
    );
    assert!(
        docker_cli(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=com.docker.compose.project={}-sneak", ns.name)
        ])?
        .trim()
        .is_empty(),
        "the project reached the daemon"
    );

    provider_docker_e2e::ready(&containers, "fresh").await?;
    let labels = docker_cli(&["volume", "inspect", "-f", "{{json .Labels}}", &fresh])?;
    let labels: std::collections::BTreeMap<String, String> = serde_json::from_str(labels.trim())?;
    assert_eq!(
        labels.get("docker.m.crossplane.io/namespace"),
        Some(&ns.name),
        "{labels:?}"
    );
    let docker_name = format!("{}-fresh", ns.name);
    let before = inspect(&docker_name).await?.and_then(|c| c.id);
    docker_cli(&["rm", "-f", &docker_name])?;
    wait::value(DEADLINE, "fresh to be made again", || async {
        let c = inspect(&docker_name).await?;
        Ok(c.filter(|c| c.id != before && c.state.as_ref().and_then(|s| s.running) == Some(true)))
    })
    .await?;

    // Releasing the refused Volume and Network leaves what was made outside alone.
    ns.api::<Volume>()
        .delete("adopt", &Default::default())
        .await?;
    ns.api::<api::network::Network>()
        .delete("adopt", &Default::default())
        .await?;
    wait::value(
        DEADLINE,
        "the refused Volume and Network to be released",
        || async {
            let volume = ns.api::<Volume>().get_opt("adopt").await?;
            let network = ns.api::<api::network::Network>().get_opt("adopt").await?;
            Ok((volume.is_none() && network.is_none()).then_some(()))
        },
    )
    .await?;
    docker_cli(&["network", "inspect", &outside])?;
    let kept = docker_cli(&[
        "run",
        "--rm",
        "-v",
        &format!("{outside}:/d"),
        &image,
        "cat",
        "/d/f",
    ])?;
    assert_eq!(kept.trim(), "payroll");

    ns.finish().await?;
    owner.finish().await?;
    docker_cli(&["volume", "rm", &outside, &fresh])?;
    docker_cli(&["network", "rm", &outside])?;
    Ok(())
}

#[tokio::test]
async fn a_cluster_config_refuses_namespaces_it_does_not_allow() -> anyhow::Result<()> {
    let ns = TestNs::new("allowedns").await?;
    let config = format!("{}-only-elsewhere", ns.name);
    let docker_host =
        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
    provider_docker_e2e::apply_yaml(
        &ns.client,
        None,
        &format!(
            "apiVersion: docker.m.crossplane.io/v1alpha1\nkind: ClusterProviderConfig\nmetadata: {{name: {config}}}\nspec: {{host: \"{docker_host}\", allowedNamespaces: [somewhere-else]}}\n"
        ),
    )
    .await?;
    ns.apply_managed("Container", "c",
        json!({"forProvider": {"image": test_image()}, "providerConfigRef": {"kind": "ClusterProviderConfig", "name": config}}),
    )
    .await?;
    let containers = ns.api::<Container>();
    let message = wait::value(DEADLINE, "the namespace to be refused", || async {
        let c = containers.get("c").await?;
        Ok(provider_docker_e2e::condition(&c, CONDITION_SYNCED)
            .and_then(|(_, _, m)| m)
            .filter(|m| m.contains("allowedNamespaces")))
    })
    .await?;
    assert!(message.contains(&ns.name), "{message}");
    assert!(inspect(&format!("{}-c", ns.name)).await?.is_none());
    ns.finish().await?;
    Api::<api::provider_config::ClusterProviderConfig>::all(
        provider_docker_e2e::kube_client().await?,
    )
    .delete(&config, &Default::default())
    .await?;
    Ok(())
}

#[tokio::test]
async fn plain_tcp_is_refused_without_insecure_and_no_connection_is_made() -> anyhow::Result<()> {
    let ns = TestNs::new("plaintcp").await?;
    // Nothing listens on this port: had a connection been tried, the message would say
    // "cannot reach"; it must say why the config is refused instead.
    ns.apply("apiVersion: docker.m.crossplane.io/v1alpha1\nkind: ProviderConfig\nmetadata: {name: plain}\nspec: {host: \"tcp://127.0.0.1:2\"}\n")
        .await?;
    ns.apply_managed("Container", "c",
        json!({"forProvider": {"image": test_image()}, "providerConfigRef": {"kind": "ProviderConfig", "name": "plain"}}),
    )
    .await?;
    let containers = ns.api::<Container>();
    let message = wait::value(DEADLINE, "the plain TCP config to be refused", || async {
        let c = containers.get("c").await?;
        Ok(provider_docker_e2e::condition(&c, CONDITION_SYNCED)
            .and_then(|(_, _, m)| m)
            .filter(|m| m.contains("plain TCP")))
    })
    .await?;
    assert!(
        message.contains("insecure: true") && !message.contains("cannot reach"),
        "{message}"
    );
    let configs: Api<api::provider_config::ProviderConfig> = ns.api();
    let ready = wait::value(DEADLINE, "the config to say it is not ready", || async {
        let pc = configs.get("plain").await?;
        Ok(pc
            .status
            .and_then(|s| s.conditions.into_iter().find(|c| c.type_ == "Ready"))
            .filter(|c| c.status == ConditionStatus::False))
    })
    .await?;
    assert!(ready.message.unwrap_or_default().contains("plain TCP"));
    ns.finish().await
}

#[tokio::test]
async fn a_config_in_use_cannot_be_deleted_until_its_users_are_gone() -> anyhow::Result<()> {
    let ns = TestNs::new("in-use").await?;
    let docker_host =
        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
    ns.provider_config("used", json!({"host": docker_host}))
        .await?;
    ns.apply_managed("Container", "user",
        json!({"forProvider": {"image": test_image()}, "providerConfigRef": {"kind": "ProviderConfig", "name": "used"}}),
    )
    .await?;
    let containers = ns.api::<Container>();
    provider_docker_e2e::ready(&containers, "user").await?;
    let configs: Api<api::provider_config::ProviderConfig> = ns.api();
    configs.delete("used", &Default::default()).await?;
    let message = wait::value(DEADLINE, "the config to say it is in use", || async {
        let pc = configs.get("used").await?;
        Ok(pc
            .status
            .filter(|s| s.users == Some(1))
            .and_then(|s| s.conditions.into_iter().find(|c| c.type_ == "Ready"))
            .and_then(|c| c.message)
            .filter(|m| m.contains("in use by 1")))
    })
    .await?;
    assert!(message.contains("delete them"), "{message}");
    let pc = configs.get("used").await?;
    assert!(pc.metadata.deletion_timestamp.is_some());
    assert!(
        pc.metadata
            .finalizers
            .unwrap_or_default()
            .contains(&api::FINALIZER_IN_USE.to_string())
    );
    // The container keeps running meanwhile.
    provider_docker_e2e::ready(&containers, "user").await?;

    containers.delete("user", &Default::default()).await?;
    wait::until(DEADLINE, "the released config to go", || async {
        Ok(configs.get_opt("used").await?.is_none())
    })
    .await?;
    ns.finish().await
}
