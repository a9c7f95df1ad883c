//! Container, end to end: the real provider process against the bench's API server and
//! Docker daemon. Each test has a namespace of its own; the Docker name of Container `x`
//! in namespace `ns` is `ns-x`.

use api::{CONDITION_READY, ConditionStatus, container::Container};
use k8s_openapi::api::core::v1::Secret;
use provider_docker_e2e::{
    DEADLINE, TestNs, condition_becomes, docker_cli, exec, inspect, ready, test_image,
    test_image_alt, wait,
};
use serde_json::{Value, json};

/// Applies a Container with `for_provider` (and optional extra spec fields) as the test.
pub(super) async fn apply(
    ns: &TestNs,
    name: &str,
    for_provider: Value,
    extra: Value,
) -> anyhow::Result<()> {
    let mut spec = json!({ "forProvider": for_provider });
    if let (Value::Object(spec), Value::Object(extra)) = (&mut spec, extra) {
        spec.extend(extra);
    }
    ns.apply_managed("Container", name, spec).await
}

pub(super) fn docker_name(ns: &TestNs, name: &str) -> String {
    format!("{}-{name}", ns.name)
}

async fn container_id(ns: &TestNs, name: &str) -> anyhow::Result<String> {
    inspect(&docker_name(ns, name))
        .await?
        .and_then(|c| c.id)
        .ok_or_else(|| anyhow::anyhow!("container {name} does not exist"))
}

#[tokio::test]
async fn the_quickstart_example_becomes_ready_with_its_ports_env_health_and_limits()
-> anyhow::Result<()> {
    let ns = TestNs::new("basic").await?;
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/quickstart.yaml"
    ))?;
    ns.apply(&example).await?;
    let api = ns.api::<Container>();
    let c = ready(&api, "web").await?;

    let at = c.status.unwrap().at_provider.unwrap();
    assert_eq!(at.state.as_deref(), Some("running"));
    assert_eq!(at.health.as_deref(), Some("healthy"));
    let published = at
        .ports
        .iter()
        .find(|p| p.container_port == 8080)
        .expect("8080 published");

    let inspect = inspect(&docker_name(&ns, "web"))
        .await?
        .expect("container exists");
    let config = inspect.config.unwrap();
    assert!(config.env.unwrap().contains(&"GREETING=hello".to_string()));
    assert_eq!(
        config.healthcheck.unwrap().test.unwrap(),
        [
            "CMD",
            "wget",
            "-q",
            "-O",
            "/dev/null",
            "http://127.0.0.1:8080/"
        ]
    );
    let hc = inspect.host_config.unwrap();
    assert_eq!(hc.nano_cpus, Some(500_000_000));
    assert_eq!(hc.memory, Some(64 * 1024 * 1024));
    assert_eq!(
        config.labels.unwrap()["docker.m.crossplane.io/uid"],
        c.metadata.uid.unwrap()
    );

    // The connection secret names the published port, and it serves.
    let secret = ns.api::<Secret>().get("web-connection").await?;
    let data = secret.data.unwrap();
    let port = String::from_utf8(data["port-8080-tcp"].0.clone())?;
    assert_eq!(port, published.host_port.to_string());
    let body = docker_cli(&[
        "run",
        "--rm",
        "--network",
        "host",
        &test_image(),
        "wget",
        "-q",
        "-O",
        "-",
        &format!("http://127.0.0.1:{port}/"),
    ])?;
    assert!(body.contains("provider-docker test image"), "{body}");
    ns.finish().await
}

#[tokio::test]
async fn mounts_files_env_from_references_and_security_reach_the_container() -> anyhow::Result<()> {
    let ns = TestNs::new("full").await?;
    let host_dir = std::env::temp_dir().join(&ns.name);
    std::fs::create_dir_all(&host_dir)?;
    std::fs::write(host_dir.join("from-host"), "host data")?;
    ns.apply(
        r#"
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: s3cr3t-env, kubeconfig: "apiVersion: v1\nkind: Config\n"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast, app.conf: "level=debug\n"}
"#,
    )
    .await?;
    apply(
        &ns,
        "full",
        json!({
            "image": test_image(),
            "env": [
                {"name": "PLAIN", "value": "1"},
                {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
                {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}}},
            ],
            "ports": [
                {"containerPort": "10000-10001", "hostPort": "21000-21001", "hostIP": "127.0.0.1"},
                {"containerPort": 53, "protocol": "udp"},
            ],
            "mounts": [
                {"mountPath": "/data", "volume": {"name": format!("{}-data", ns.name)}},
                {"mountPath": "/host", "hostPath": {"path": host_dir.to_str().unwrap()}, "readOnly": true},
                {"mountPath": "/scratch", "tmpfs": {"size": "16Mi"}},
            ],
            "files": [
                {"path": "/etc/kubernetes/kubeconfig", "mode": 384, "secretKeyRef": {"name": "creds", "key": "kubeconfig"}},
                {"path": "/etc/app/app.conf", "configMapKeyRef": {"name": "settings", "key": "app.conf"}},
                {"path": "/etc/app/motd", "content": "hi\n"},
            ],
            "security": {
                "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE", "CHOWN"]},
                "securityOptions": ["no-new-privileges:true"],
            },
            "healthCheck": {"test": ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1/"], "interval": "1s", "timeout": "2s", "retries": 5, "startPeriod": "1s"},
            "resources": {"pidsLimit": 100, "memoryReservation": "32Mi"},
            "hostname": "full-host",
            "labels": {"team": "e2e"},
            "stopGracePeriod": "3s",
        }),
        json!({}),
    )
    .await?;
    ready(&ns.api(), "full").await?;
    let name = docker_name(&ns, "full");

    let env = exec(&name, &["env"])?;
    for expected in [
        "PLAIN=1",
        "PASSWORD=s3cr3t-env",
        "MODE=fast",
        "IMAGE_MARKER=a",
    ] {
        assert!(env.contains(expected), "{expected} missing from {env}");
    }
    assert_eq!(
        exec(&name, &["cat", "/etc/kubernetes/kubeconfig"])?,
        "apiVersion: v1\nkind: Config\n"
    );
    assert_eq!(
        exec(&name, &["stat", "-c", "%a", "/etc/kubernetes/kubeconfig"])?.trim(),
        "600"
    );
    assert_eq!(exec(&name, &["cat", "/etc/app/app.conf"])?, "level=debug\n");
    assert_eq!(exec(&name, &["cat", "/etc/app/motd"])?, "hi\n");
    assert_eq!(exec(&name, &["cat", "/host/from-host"])?, "host data");
    assert!(
        exec(&name, &["touch", "/host/nope"]).is_err(),
        "read-only bind mount was writable"
    );
    exec(&name, &["touch", "/data/ok", "/scratch/ok"])?;
    assert_eq!(exec(&name, &["hostname"])?.trim(), "full-host");

    let i = inspect(&name).await?.unwrap();
    let hc = i.host_config.unwrap();
    assert_eq!(hc.cap_drop, Some(vec!["ALL".into()]));
    assert_eq!(
        hc.cap_add,
        Some(vec!["NET_BIND_SERVICE".into(), "CHOWN".into()])
    );
    assert_eq!(hc.security_opt, Some(vec!["no-new-privileges:true".into()]));
    assert_eq!(hc.pids_limit, Some(100));
    assert_eq!(hc.memory_reservation, Some(32 * 1024 * 1024));
    let bindings = hc.port_bindings.unwrap();
    assert_eq!(
        bindings["10001/tcp"].as_ref().unwrap()[0]
            .host_port
            .as_deref(),
        Some("21001")
    );
    assert!(bindings.contains_key("53/udp"));
    let config = i.config.unwrap();
    assert_eq!(config.labels.unwrap()["team"], "e2e");
    assert_eq!(config.stop_timeout, Some(3));
    let health = config.healthcheck.unwrap();
    assert_eq!(health.interval, Some(1_000_000_000));
    assert_eq!(health.retries, Some(5));

    let volume = format!("{}-data", ns.name);
    ns.finish().await?;
    docker_cli(&["volume", "rm", &volume])?;
    std::fs::remove_dir_all(host_dir)?;
    Ok(())
}

#[tokio::test]
async fn an_in_place_edit_keeps_the_container_id() -> anyhow::Result<()> {
    let ns = TestNs::new("inplace").await?;
    let spec = |memory: &str, policy: &str| json!({"image": test_image(), "restartPolicy": policy, "resources": {"cpus": 0.5, "memory": memory, "pidsLimit": 50}});
    apply(&ns, "c", spec("64Mi", "always"), json!({})).await?;
    ready(&ns.api(), "c").await?;
    let before = container_id(&ns, "c").await?;

    apply(&ns, "c", spec("96Mi", "unless-stopped"), json!({})).await?;
    let name = docker_name(&ns, "c");
    wait::until(
        DEADLINE,
        "memory and restart policy updated in place",
        || async {
            let hc = inspect(&name)
                .await?
                .and_then(|i| i.host_config)
                .unwrap_or_default();
            Ok(hc.memory == Some(96 * 1024 * 1024)
                && hc
                    .restart_policy
                    .and_then(|p| p.name)
                    .map(|n| n.to_string())
                    .as_deref()
                    == Some("unless-stopped"))
        },
    )
    .await?;
    ready(&ns.api(), "c").await?;
    assert_eq!(
        container_id(&ns, "c").await?,
        before,
        "an in-place edit recreated the container"
    );
    ns.finish().await
}

#[tokio::test]
async fn an_image_or_env_edit_recreates_the_container() -> anyhow::Result<()> {
    let ns = TestNs::new("recreate").await?;
    apply(&ns, "c", json!({"image": test_image()}), json!({})).await?;
    ready(&ns.api(), "c").await?;
    let first = container_id(&ns, "c").await?;

    apply(&ns, "c", json!({"image": test_image_alt()}), json!({})).await?;
    let second = wait::value(DEADLINE, "a new container for the new image", || async {
        Ok(inspect(&docker_name(&ns, "c"))
            .await?
            .and_then(|i| (i.id.as_deref() != Some(first.as_str())).then_some(i)))
    })
    .await?;
    assert_eq!(
        second.config.unwrap().image.as_deref(),
        Some(test_image_alt().as_str())
    );
    let second = second.id.unwrap();

    apply(
        &ns,
        "c",
        json!({"image": test_image_alt(), "env": [{"name": "X", "value": "2"}]}),
        json!({}),
    )
    .await?;
    let third = wait::value(DEADLINE, "a new container for the new env", || async {
        Ok(inspect(&docker_name(&ns, "c"))
            .await?
            .and_then(|i| (i.id.as_deref() != Some(second.as_str())).then_some(i)))
    })
    .await?;
    assert!(
        third
            .config
            .unwrap()
            .env
            .unwrap()
            .contains(&"X=2".to_string())
    );
    ready(&ns.api(), "c").await?;
    ns.finish().await
}

#[tokio::test]
async fn a_container_removed_or_stopped_out_of_band_is_put_back() -> anyhow::Result<()> {
    let ns = TestNs::new("drift").await?;
    apply(&ns, "c", json!({"image": test_image()}), json!({})).await?;
    ready(&ns.api(), "c").await?;
    let name = docker_name(&ns, "c");
    let first = container_id(&ns, "c").await?;

    docker_cli(&["rm", "-f", &name])?;
    wait::until(DEADLINE, "the removed container to run again", || async {
        Ok(inspect(&name).await?.is_some_and(|i| {
            i.id.as_deref() != Some(first.as_str()) && i.state.and_then(|s| s.running) == Some(true)
        }))
    })
    .await?;

    docker_cli(&["stop", "-t", "1", &name])?;
    wait::until(DEADLINE, "the stopped container to run again", || async {
        Ok(inspect(&name)
            .await?
            .and_then(|i| i.state)
            .and_then(|s| s.running)
            == Some(true))
    })
    .await?;
    // Exactly one container carries this resource's UID: repairs made no duplicates.
    let uid = ns.api::<Container>().get("c").await?.metadata.uid.unwrap();
    let ours = docker_cli(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=docker.m.crossplane.io/uid={uid}"),
    ])?;
    assert_eq!(ours.lines().count(), 1, "{ours}");
    ns.finish().await
}

#[tokio::test]
async fn a_run_to_completion_container_reports_its_exit_and_is_not_restarted() -> anyhow::Result<()>
{
    let ns = TestNs::new("oneshot").await?;
    let job = |code: u8| json!({"image": test_image(), "restartPolicy": "no", "command": ["sh", "-c", format!("echo done; exit {code}")]});
    apply(&ns, "ok", job(0), json!({})).await?;
    apply(&ns, "bad", job(3), json!({})).await?;
    let api = ns.api::<Container>();

    let c = ready(&api, "ok").await?;
    let (_, message) =
        condition_becomes(&api, "ok", CONDITION_READY, ConditionStatus::True).await?;
    assert_eq!(message, "completed");
    assert_eq!(c.status.unwrap().at_provider.unwrap().exit_code, Some(0));

    let message = wait::value(DEADLINE, "bad to report exit code 3", || async {
        let c = api.get("bad").await?;
        Ok(provider_docker_e2e::condition(&c, CONDITION_READY)
            .filter(|(status, _, _)| *status == ConditionStatus::False)
            .and_then(|(_, _, m)| m)
            .filter(|m| m.contains("code 3")))
    })
    .await?;
    assert!(message.contains("exited with code 3"), "{message}");

    // Exited and left exited: the start time does not move.
    let started = inspect(&docker_name(&ns, "ok"))
        .await?
        .unwrap()
        .state
        .unwrap()
        .started_at;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(
        inspect(&docker_name(&ns, "ok"))
            .await?
            .unwrap()
            .state
            .unwrap()
            .started_at,
        started
    );
    ns.finish().await
}

#[tokio::test]
async fn the_kubeftpd_example_becomes_ready() -> anyhow::Result<()> {
    let ns = TestNs::new("kubeftpd").await?;
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/kubeftpd.yaml"
    ))?;
    ns.apply(&example).await?;
    let c = ready(&ns.api(), "kubeftpd").await?;
    let name = docker_name(&ns, "kubeftpd");
    assert!(exec(&name, &["cat", "/etc/kubernetes/kubeconfig"])?.contains("kind: Config"));
    let ports = c.status.unwrap().at_provider.unwrap().ports;
    assert!(ports.iter().any(|p| p.container_port == 10019), "{ports:?}");
    let volume = format!("{}-kubeftpd-data", ns.name);
    assert!(exec(&name, &["sh", "-c", "touch /data/ok"]).is_ok());
    ns.finish().await?;
    // Deleting the namespace deleted the Volume resource, and with it the Docker volume.
    assert!(docker_cli(&["volume", "inspect", &volume]).is_err());
    Ok(())
}
