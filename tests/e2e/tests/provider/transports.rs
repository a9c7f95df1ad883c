//! Remote daemons: mutual TLS and SSH with keys from Secrets, next to the local socket, from
//! one controller; clear refusals for a wrong CA, a missing client certificate and an
//! unknown host key; rotated Secrets picked up live; a daemon outage and its recovery.

use std::{path::Path, sync::LazyLock};

use api::{
    CONDITION_READY, ConditionStatus,
    container::Container,
    provider_config::{ProviderConfig, ProviderConfigStatus},
};
use kube::Api;
use provider_docker_e2e::{
    DEADLINE, TestNs, bench_env, condition_becomes, condition_says, docker_at, inspect_on, ready,
    test_image, wait,
};
use serde_json::json;
use tokio::sync::RwLock;

/// Held for reading by every test that uses the TLS daemon, and for writing by the one
/// that stops it.
static TLS_DAEMON: LazyLock<RwLock<()>> = LazyLock::new(|| RwLock::new(()));

fn read(dir: &str, file: &str) -> anyhow::Result<String> {
    Ok(std::fs::read_to_string(Path::new(dir).join(file))?)
}

/// The TLS Secret of the bench's client, under the `kubernetes.io/tls` names.
async fn tls_secret(ns: &TestNs, name: &str, ca: &str) -> anyhow::Result<()> {
    let dir = bench_env("PROVIDER_DOCKER_TLS_DIR")?;
    ns.secret(
        name,
        "Opaque",
        json!({
            "ca.crt": read(&dir, ca)?,
            "tls.crt": read(&dir, "cert.pem")?,
            "tls.key": read(&dir, "key.pem")?,
        }),
    )
    .await
}

async fn tls_config(ns: &TestNs, name: &str, secret: &str) -> anyhow::Result<()> {
    ns.provider_config(
        name,
        json!({
            "host": bench_env("PROVIDER_DOCKER_TLS_HOST")?,
            "tls": {"secretRef": {"name": secret}},
        }),
    )
    .await
}

async fn container_on(ns: &TestNs, name: &str, config: &str) -> anyhow::Result<()> {
    ns.apply_managed(
        "Container",
        name,
        json!({
            "forProvider": {"image": test_image()},
            "providerConfigRef": {"kind": "ProviderConfig", "name": config},
        }),
    )
    .await
}

/// Waits until the config's Ready condition has `status` and a message holding `needle`.
async fn config_says(
    api: &Api<ProviderConfig>,
    name: &str,
    status: ConditionStatus,
    needle: &str,
) -> anyhow::Result<(String, ProviderConfigStatus)> {
    wait::value(
        DEADLINE,
        &format!("ProviderConfig {name} Ready={status:?} saying {needle:?}"),
        || async {
            let pc = api.get(name).await?;
            let current = pc.status.clone().unwrap_or_default();
            Ok(current
                .conditions
                .iter()
                .find(|c| c.type_ == CONDITION_READY && c.status == status)
                .and_then(|c| c.message.clone())
                .filter(|m| m.contains(needle))
                .map(|m| (m, current)))
        },
    )
    .await
}

#[tokio::test]
async fn containers_run_on_unix_tls_and_ssh_daemons_from_one_controller() -> anyhow::Result<()> {
    let _daemon = TLS_DAEMON.read().await;
    let ns = TestNs::new("three-daemons").await?;
    tls_secret(&ns, "tls", "ca.pem").await?;
    tls_config(&ns, "tls", "tls").await?;
    let ssh_dir = bench_env("PROVIDER_DOCKER_SSH_DIR")?;
    ns.secret(
        "ssh",
        "kubernetes.io/ssh-auth",
        json!({
            "ssh-privatekey": read(&ssh_dir, "id_ed25519")?,
            "known_hosts": read(&ssh_dir, "known_hosts")?,
        }),
    )
    .await?;
    ns.provider_config("ssh", json!({
        "host": bench_env("PROVIDER_DOCKER_SSH_HOST")?,
        "ssh": {"secretRef": {"name": "ssh"}, "remoteSocket": bench_env("PROVIDER_DOCKER_SSH_REMOTE_SOCKET")?},
    }))
    .await?;
    ns.apply_managed(
        "Container",
        "local",
        json!({"forProvider": {"image": test_image()}}),
    )
    .await?;
    container_on(&ns, "over-tls", "tls").await?;
    container_on(&ns, "over-ssh", "ssh").await?;

    let containers = ns.api::<Container>();
    for name in ["local", "over-tls", "over-ssh"] {
        ready(&containers, name).await?;
    }
    // Each container is on its own daemon, and only there.
    let local = provider_docker_e2e::docker()?;
    let tls = docker_at(&bench_env("PROVIDER_DOCKER_TLS_SOCKET")?)?;
    let ssh = docker_at(&bench_env("PROVIDER_DOCKER_SSH_SOCKET")?)?;
    for (daemon, name, here) in [
        (&local, "local", true),
        (&tls, "over-tls", true),
        (&ssh, "over-ssh", true),
        (&local, "over-tls", false),
        (&tls, "over-ssh", false),
        (&ssh, "local", false),
    ] {
        let found = inspect_on(daemon, &format!("{}-{name}", ns.name)).await?;
        assert_eq!(found.is_some(), here, "{name}");
        if let Some(c) = found {
            assert_eq!(c.state.and_then(|s| s.running), Some(true), "{name}");
        }
    }
    // The configs say which transport they use and what the daemon is.
    let configs = ns.api::<ProviderConfig>();
    for (name, how) in [
        ("tls", "over mutual TLS"),
        ("ssh", "over SSH, host key checked"),
    ] {
        let (_, status) = config_says(&configs, name, ConditionStatus::True, how).await?;
        let daemon = status.daemon.expect("daemon facts");
        assert!(
            daemon.version.is_some() && daemon.api_version.is_some(),
            "{name}"
        );
        assert!(daemon.cpus.unwrap_or_default() > 0, "{name}");
        assert!(daemon.last_contact.is_some(), "{name}");
    }
    // No key material reaches the log: the middle line of each private key is checked.
    let log = std::fs::read_to_string(provider_docker_e2e::provider::log_path())?;
    for key in [
        read(&bench_env("PROVIDER_DOCKER_TLS_DIR")?, "key.pem")?,
        read(&ssh_dir, "id_ed25519")?,
    ] {
        let lines: Vec<&str> = key.lines().collect();
        assert!(
            !log.contains(lines[lines.len() / 2]),
            "key material in the provider's log"
        );
    }
    // Deleting them removes them from the remote daemons too.
    let prefix = ns.name.clone();
    ns.finish().await?;
    for (daemon, name) in [(&tls, "over-tls"), (&ssh, "over-ssh")] {
        assert!(
            inspect_on(daemon, &format!("{prefix}-{name}"))
                .await?
                .is_none(),
            "{name}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_wrong_ca_or_a_missing_client_certificate_is_refused_clearly() -> anyhow::Result<()> {
    let _daemon = TLS_DAEMON.read().await;
    let ns = TestNs::new("tls-refused").await?;
    let dir = bench_env("PROVIDER_DOCKER_TLS_DIR")?;
    tls_secret(&ns, "wrong-ca", "wrong-ca.pem").await?;
    // Docker's own key names, and no client certificate.
    ns.secret(
        "ca-only",
        "Opaque",
        json!({"ca.pem": read(&dir, "ca.pem")?}),
    )
    .await?;
    // A client certificate the daemon's CA never signed.
    ns.secret(
        "untrusted-client",
        "Opaque",
        json!({
            "ca.pem": read(&dir, "ca.pem")?,
            "cert.pem": read(&dir, "wrong-cert.pem")?,
            "key.pem": read(&dir, "wrong-key.pem")?,
        }),
    )
    .await?;
    for name in ["wrong-ca", "ca-only", "untrusted-client"] {
        tls_config(&ns, name, name).await?;
        container_on(&ns, name, name).await?;
    }
    let configs = ns.api::<ProviderConfig>();
    let containers = ns.api::<Container>();
    let tls = docker_at(&bench_env("PROVIDER_DOCKER_TLS_SOCKET")?)?;
    for (name, says) in [
        ("wrong-ca", "not signed by the CA in spec.tls.secretRef"),
        ("ca-only", "client certificate"),
        ("untrusted-client", "client certificate"),
    ] {
        let (message, _) = config_says(&configs, name, ConditionStatus::False, says).await?;
        assert!(message.contains("cannot reach"), "{name}: {message}");
        condition_says(
            &containers,
            name,
            CONDITION_READY,
            ConditionStatus::False,
            says,
        )
        .await?;
        assert!(
            inspect_on(&tls, &format!("{}-{name}", ns.name))
                .await?
                .is_none(),
            "{name} reached the daemon"
        );
    }
    ns.finish().await
}

#[tokio::test]
async fn a_rotated_tls_secret_is_picked_up_without_a_restart() -> anyhow::Result<()> {
    let _daemon = TLS_DAEMON.read().await;
    let ns = TestNs::new("tls-rotate").await?;
    tls_config(&ns, "tls", "tls").await?;
    container_on(&ns, "c", "tls").await?;
    let configs = ns.api::<ProviderConfig>();
    // Wrong, right, and back: each time the same controller rebuilds its client from the
    // Secret as it is now, not from a cached connection.
    for (ca, status, says) in [
        (
            "wrong-ca.pem",
            ConditionStatus::False,
            "not signed by the CA",
        ),
        ("ca.pem", ConditionStatus::True, "over mutual TLS"),
        (
            "wrong-ca.pem",
            ConditionStatus::False,
            "not signed by the CA",
        ),
        ("ca.pem", ConditionStatus::True, "over mutual TLS"),
    ] {
        tls_secret(&ns, "tls", ca).await?;
        config_says(&configs, "tls", status, says).await?;
        if status == ConditionStatus::True {
            ready(&ns.api::<Container>(), "c").await?;
        }
    }
    ns.finish().await
}

#[tokio::test]
async fn an_ssh_host_whose_key_is_not_known_is_refused() -> anyhow::Result<()> {
    let ns = TestNs::new("ssh-refused").await?;
    let ssh_dir = bench_env("PROVIDER_DOCKER_SSH_DIR")?;
    ns.secret(
        "other-key",
        "kubernetes.io/ssh-auth",
        json!({
            "ssh-privatekey": read(&ssh_dir, "id_ed25519")?,
            "known_hosts": read(&ssh_dir, "wrong_known_hosts")?,
        }),
    )
    .await?;
    ns.secret(
        "no-key-listed",
        "kubernetes.io/ssh-auth",
        json!({
            "ssh-privatekey": read(&ssh_dir, "id_ed25519")?,
            "known_hosts": "# nobody\n",
        }),
    )
    .await?;
    let host = bench_env("PROVIDER_DOCKER_SSH_HOST")?;
    for name in ["other-key", "no-key-listed"] {
        ns.provider_config(
            name,
            json!({"host": host, "ssh": {"secretRef": {"name": name}}}),
        )
        .await?;
        container_on(&ns, name, name).await?;
    }
    let configs = ns.api::<ProviderConfig>();
    let (message, _) =
        config_says(&configs, "other-key", ConditionStatus::False, "host key").await?;
    assert!(
        message.contains("does not match") || message.contains("is not in known_hosts"),
        "{message}"
    );
    config_says(
        &configs,
        "no-key-listed",
        ConditionStatus::False,
        "ssh-keyscan",
    )
    .await?;
    let containers = ns.api::<Container>();
    condition_becomes(
        &containers,
        "other-key",
        CONDITION_READY,
        ConditionStatus::False,
    )
    .await?;
    let ssh = docker_at(&bench_env("PROVIDER_DOCKER_SSH_SOCKET")?)?;
    assert!(
        inspect_on(&ssh, &format!("{}-other-key", ns.name))
            .await?
            .is_none()
    );
    ns.finish().await
}

#[tokio::test]
async fn a_stopped_daemon_turns_its_config_and_resources_unready_until_it_returns()
-> anyhow::Result<()> {
    let _daemon = TLS_DAEMON.write().await;
    let ns = TestNs::new("outage").await?;
    tls_secret(&ns, "tls", "ca.pem").await?;
    tls_config(&ns, "tls", "tls").await?;
    container_on(&ns, "remote", "tls").await?;
    ns.apply_managed(
        "Container",
        "local",
        json!({"forProvider": {"image": test_image()}}),
    )
    .await?;
    let containers = ns.api::<Container>();
    ready(&containers, "remote").await?;
    ready(&containers, "local").await?;

    let outage = Outage::start("tls")?;
    let configs = ns.api::<ProviderConfig>();
    let (message, _) = config_says(&configs, "tls", ConditionStatus::False, "cannot reach").await?;
    assert!(message.contains("ProviderConfig/"), "{message}");
    condition_says(
        &containers,
        "remote",
        CONDITION_READY,
        ConditionStatus::False,
        "cannot reach",
    )
    .await?;
    // The other daemon's resources carry on.
    ready(&containers, "local").await?;

    outage.end()?;
    config_says(&configs, "tls", ConditionStatus::True, "answers").await?;
    ready(&containers, "remote").await?;
    ns.finish().await
}

/// A bench daemon stopped for a while; started again when dropped, so a failing test
/// leaves the bench whole.
struct Outage(Option<String>);

impl Outage {
    fn start(daemon: &str) -> anyhow::Result<Self> {
        daemons_sh("stop", daemon)?;
        Ok(Self(Some(daemon.to_string())))
    }

    fn end(mut self) -> anyhow::Result<()> {
        match self.0.take() {
            Some(daemon) => daemons_sh("start", &daemon),
            None => Ok(()),
        }
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        if let Some(daemon) = self.0.take() {
            let _ = daemons_sh("start", &daemon);
        }
    }
}

fn daemons_sh(action: &str, daemon: &str) -> anyhow::Result<()> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/daemons.sh");
    let out = std::process::Command::new("bash")
        .arg(script)
        .args([action, daemon])
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "daemons.sh {action} {daemon} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

#[tokio::test]
async fn a_pinned_api_version_is_the_one_the_daemon_is_asked_in() -> anyhow::Result<()> {
    let ns = TestNs::new("api-version").await?;
    let host = bench_env("DOCKER_HOST")?;
    ns.provider_config("pinned", json!({"host": host, "apiVersion": "1.40"}))
        .await?;
    ns.provider_config("too-new", json!({"host": host, "apiVersion": "1.99"}))
        .await?;
    let configs = ns.api::<ProviderConfig>();
    config_says(&configs, "pinned", ConditionStatus::True, "answers").await?;
    // Unpinned, the daemon answers in its own version; pinned too high, it refuses.
    config_says(&configs, "too-new", ConditionStatus::False, "1.99").await?;
    ns.finish().await
}
