//! Scenario 10 of the fault campaign: the secret values the suite plants (env and files
//! from Secrets, TLS and SSH keys, the registry password) are searched for in everything
//! the provider produced during the whole e2e suite: every provider log under
//! `target/e2e`, the statuses and Events kept from each test namespace
//! (`target/e2e/observed`), and the live Events and cluster-scoped statuses. Run after the
//! suite (`make test` does), not as part of it: `cargo test --test secrets_scan`.

use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::Event;
use kube::{Api, api::ListParams};
use provider_docker_e2e::{bench_env, kube_client, observed};
use serde_json::json;

/// Values the tests put in Secrets (see container.rs, service.rs).
const PLANTED: [&str; 3] = ["s3cr3t-env", "planted-2f9c1e-value", "pw-planted-7d1f"];

/// The body lines of a PEM or OpenSSH private key: any one of them in output is a leak.
fn key_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 20)
        .map(str::to_string)
        .collect()
}

fn secrets() -> anyhow::Result<Vec<String>> {
    let mut values: Vec<String> = PLANTED.iter().map(|s| s.to_string()).collect();
    values.push(std::fs::read_to_string(bench_env(
        "PROVIDER_DOCKER_REGISTRY_PASSWORD_FILE",
    )?)?);
    let tls = PathBuf::from(bench_env("PROVIDER_DOCKER_TLS_DIR")?);
    let ssh = PathBuf::from(bench_env("PROVIDER_DOCKER_SSH_DIR")?);
    for key in [
        tls.join("key.pem"),
        tls.join("wrong-key.pem"),
        ssh.join("id_ed25519"),
    ] {
        values.extend(key_lines(&key));
    }
    anyhow::ensure!(
        values.len() > PLANTED.len() + 3,
        "the bench's keys are missing"
    );
    Ok(values)
}

/// Every file the suite's providers and dumps wrote.
fn outputs() -> Vec<PathBuf> {
    let logs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e");
    let mut files = Vec::new();
    for dir in [logs, observed::dir()] {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "log" || e == "json") {
                files.push(path);
            }
        }
    }
    files
}

#[tokio::test]
async fn no_planted_secret_appears_in_any_log_event_or_status() -> anyhow::Result<()> {
    let secrets = secrets()?;
    let mut texts: Vec<(String, String)> = outputs()
        .into_iter()
        .filter_map(|p| Some((p.display().to_string(), std::fs::read_to_string(&p).ok()?)))
        .collect();
    let scanned_files = texts.len();
    let client = kube_client().await?;
    let events = Api::<Event>::all(client.clone())
        .list(&ListParams::default())
        .await?;
    texts.push(("live events".into(), serde_json::to_string(&events.items)?));
    let configs = Api::<api::provider_config::ClusterProviderConfig>::all(client)
        .list(&ListParams::default())
        .await?;
    let statuses: Vec<_> = configs.items.iter().map(|c| &c.status).collect();
    texts.push(("cluster configs".into(), serde_json::to_string(&statuses)?));
    let mut hits = Vec::new();
    for (source, text) in &texts {
        for (i, secret) in secrets.iter().enumerate() {
            if text.contains(secret.as_str()) {
                hits.push(format!("secret #{i} in {source}"));
            }
        }
    }
    let bytes: usize = texts.iter().map(|(_, t)| t.len()).sum();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/chaos");
    std::fs::create_dir_all(&dir)?;
    let figures = json!({
        "secrets": secrets.len(), "files": scanned_files, "bytes": bytes,
        "namespaces": std::fs::read_dir(observed::dir()).map(|d| d.count()).unwrap_or(0),
        "hits": hits.len(),
    });
    std::fs::write(
        dir.join("secrets.json"),
        serde_json::to_string_pretty(
            &json!({"scenario": "secrets", "mode": "suite", "figures": figures}),
        )?,
    )?;
    assert!(
        scanned_files > 0,
        "no provider output to scan: run the suite first"
    );
    assert!(hits.is_empty(), "{hits:#?}");
    Ok(())
}
